"""Audit entries and rule changes in words: every action the code records has a sentence."""

from __future__ import annotations

import ast
import itertools
import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from matcher.admin import audit_text
from matcher.extensions import db
from matcher.matching import Weights
from matcher.models import AuditEntry, Membership
from matcher.rounds import publishing
from tests.admin.support import WEEK, valid_form
from tests.support import coffee

ROOT = Path(__file__).resolve().parents[2] / "matcher"
# Words that only code uses: none may reach a sentence.
INTERNAL = re.compile(r"\b(?:person|teams|projects|interests|offices|rules|round)\.[a-z_-]+|_")


def placeholder_values() -> dict[str, list[str]]:
    """What each f-string placeholder in an audit action can be, read from the code."""
    from matcher.admin import merging, people

    return {
        "kind": list(merging.KINDS),
        "audit_action": [a for a, *_ in people.PERSON_ACTIONS.values()],
    }


def recorded_actions() -> list[tuple[str, str]]:
    """(where, action) for every audit entry the code under matcher/ can write."""
    found = []
    values = placeholder_values()
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        imports_record = any(
            isinstance(node, ast.ImportFrom)
            and node.module == "matcher.audit"
            and any(alias.name == "record" for alias in node.names)
            for node in ast.walk(tree)
        )
        if not imports_record:
            continue
        # Names given an action before the call (`action = "a" if x else "b"`).
        assigned: dict[str, list[ast.expr]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record"):
                continue
            where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
            action = node.args[2] if len(node.args) > 2 else None
            action = next((k.value for k in node.keywords if k.arg == "action"), action)
            assert action is not None, f"{where}: record() without an action"
            found += [(where, a) for a in expand(action, values, where, assigned)]
    return found


def expand(
    node: ast.expr,
    values: dict[str, list[str]],
    where: str,
    assigned: dict[str, list[ast.expr]] | None = None,
) -> list[str]:
    """Every string an action expression can be: a literal, an f-string, a known name, either
    branch of a conditional, or what a local name was assigned."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and node.id in values:
        return values[node.id]
    if isinstance(node, ast.IfExp):
        return expand(node.body, values, where, assigned) + expand(
            node.orelse, values, where, assigned
        )
    if isinstance(node, ast.Name) and assigned and node.id in assigned:
        return [a for value in assigned[node.id] for a in expand(value, values, where)]
    if isinstance(node, ast.JoinedStr):
        parts: list[list[str]] = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append([part.value])
            elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name):
                name = part.value.id
                assert name in values, f"{where}: say what {{{name}}} can be in placeholder_values"
                parts.append(values[name])
            else:
                raise AssertionError(f"{where}: an action f-string may only use plain names")
        return ["".join(p) for p in itertools.product(*parts)]
    raise AssertionError(f"{where}: pass the action as a string, or teach this test its values")


def test_every_action_the_code_records_has_a_sentence():
    found = recorded_actions()
    assert len(found) >= 14, found  # the scan does see the calls
    missing = sorted(
        {f"{action} ({where})" for where, action in found if action not in audit_text.ACTIONS}
    )
    assert missing == [], "add a sentence to matcher/admin/audit_text.py ACTIONS"
    # And no sentence for an action nobody writes any more.
    assert set(audit_text.ACTIONS) == {action for _, action in found}


def test_the_scan_fails_for_an_unlabelled_action(tmp_path, monkeypatch):
    source = tmp_path / "matcher"
    source.mkdir()
    (source / "fake.py").write_text(
        "from matcher.audit import record\n"
        "def f(s, kind):\n"
        "    record(s, 1, 'round.explode', 'x')\n"
        "    record(s, 1, f'{kind}.rename', 'x')\n"
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", source)
    found = {action for _, action in recorded_actions()}
    assert found == {"round.explode", "teams.rename", "projects.rename", "interests.rename"}
    assert found - set(audit_text.ACTIONS) == {"round.explode"}  # what the test above reports


WHEN = datetime(2026, 12, 8, 10, 0)
SAMPLES = {
    "person.make-admin": (
        "Ada Lovelace <ada@example.com>",
        {"is_admin": False},
        {"is_admin": True},
    ),
    "person.revoke-admin": (
        "Ada Lovelace <ada@example.com>",
        {"is_admin": True},
        {"is_admin": False},
    ),
    "person.deactivate": ("Ada Lovelace <ada@example.com>", {"active": True}, {"active": False}),
    "person.reactivate": ("Ada Lovelace <ada@example.com>", {"active": False}, {"active": True}),
    **{
        f"{kind}.rename": (f"{kind} #3", {"name": "K8s"}, {"name": "Kubernetes"})
        for kind in ("teams", "projects", "interests")
    },
    **{
        f"{kind}.merge": (f"{kind} #3", {"name": "K8s"}, {"merged_into": "Kubernetes", "moved": 2})
        for kind in ("teams", "projects", "interests", "offices")
    },
    "rules.update": (
        "programme settings",
        {"rules": {"weights": {"projects": 2.0}, "group_size": 2}, "round_minute": 540},
        {"rules": {"weights": {"projects": 4.0}, "group_size": 3}, "round_minute": 870},
    ),
    "round.draft": ("round 2026-W50", None, {"week": "2026-W50", "rules": {}, "groups": 12}),
    "round.swap": ("round 2026-W50: Ada <-> Bo", {"groups": {}}, {"groups": {}, "names": {}}),
    "round.take_out": (
        "round 2026-W50: Ada",
        {"group": [1, 2]},
        {"group": [2], "unmatched": [1, 2]},
    ),
    "round.publish": (
        "round 2026-W50",
        {"status": "draft"},
        {"status": "published", "messages": 24},
    ),
    "round.discard": ("round 2026-W50", {"week": "2026-W50", "groups": 1}, None),
    # Programmes (issue 14): the sentences name the programme.
    "person.joined_on": (
        "Ada Lovelace <ada@example.com>",
        {"joined_on": "2026-12-01"},
        {"joined_on": "2026-10-05"},
    ),
    "programme.create": ("programme buddies", None, {"name": "Buddies", "kind": "buddies"}),
    "programme.update": (
        "programme buddies",
        {"name": "Buddies", "slug": "buddies", "pairing_weeks": 8},
        {"name": "New-joiner buddies", "slug": "buddies", "pairing_weeks": 6},
    ),
    "programme.archive": ("programme buddies", None, None),
    "programme.reopen": ("programme buddies", None, None),
    # Roster import and managers (issue 16).
    "person.manager": (
        "Ada Lovelace <ada@example.com>",
        {"manager": None},
        {"manager": "grace@example.com"},
    ),
    "roster.import": (
        "3 rows: 2 new, 1 updated, 0 kept edits, 0 unchanged",
        None,
        {"rows": 3, "new": 2, "updated": 1, "kept": 0, "unchanged": 0, "invitations": 2},
    ),
}
EXPECTED = {
    "person.make-admin": "Made Ada Lovelace (ada@example.com) an admin",
    "person.revoke-admin": "Revoked the admin rights of Ada Lovelace (ada@example.com)",
    "interests.rename": "Renamed the interest “K8s” to “Kubernetes”",
    "offices.merge": "Merged the office “K8s” into “Kubernetes” (2 people moved)",
    "rules.update": (
        "Changed the rules: Group size 2 → 3; Projects weight 2 → 4; Round time 09:00 → 14:30"
    ),
    "round.draft": "Saved a draft round for the week of 7 December (12 groups)",
    "round.swap": "Swapped Ada and Bo between their groups in the draft for the week of 7 December",
    "round.take_out": "Took Ada out of the draft for the week of 7 December",
    "round.publish": "Published the round of the week of 7 December: 24 messages queued",
    "round.discard": "Discarded the draft for the week of 7 December (1 group)",
    "person.joined_on": (
        "Changed the join date of Ada Lovelace (ada@example.com) from 2026-12-01 to 2026-10-05"
    ),
    "programme.create": "Created the programme “Buddies” (new-joiner buddies)",
    "programme.update": (
        "Edited the programme “New-joiner buddies” (renamed from “Buddies”): "
        "changed name, pairing length"
    ),
    "programme.archive": "Archived the programme “buddies”",
    "person.manager": (
        "Changed the manager of Ada Lovelace (ada@example.com) from — to grace@example.com"
    ),
    "roster.import": (
        "Imported a roster file of 3 rows: 2 new, 1 updated, 0 keeping their own edits; "
        "2 invitations queued"
    ),
}


def test_every_sample_is_a_sentence_without_internal_names():
    assert set(SAMPLES) == set(audit_text.ACTIONS)
    for action, (target, before, after) in SAMPLES.items():
        entry = AuditEntry(
            action=action, target=target, before=before, after=after, created_at=WHEN
        )
        words = audit_text.describe(entry)
        assert not INTERNAL.search(words), (action, words)
        if action in EXPECTED:
            assert words == EXPECTED[action]
    # Another year's week says its year; an entry written by hand still reads.
    old = AuditEntry(action="round.publish", target="round 2025-W50", created_at=WHEN)
    assert audit_text.describe(old) == "Published the round of the week of 8 December 2025"
    odd = AuditEntry(action="person.pause", target="fay@example.com", created_at=WHEN)
    assert audit_text.describe(odd) == "Person pause: fay@example.com"


@pytest.mark.parametrize(
    ("key", "before", "after", "words"),
    [
        ("rules.cross_team_only", True, False, "Only pair people from different teams on → off"),
        ("rules.weights.org_distance", 1.0, 2.5, "Org distance weight 1 → 2.5"),
        ("round_weekday", 0, 2, "Rounds run on Monday → Wednesday"),
        ("round_timezone", "UTC", "Europe/Berlin", "Time zone UTC → Europe/Berlin"),
        ("pause_after_missed", 3, 4, "Pause after missed rounds 3 → 4"),
    ],
)
def test_setting_changes_use_the_rules_page_labels(key, before, after, words):
    def nest(value):
        *parents, last = key.split(".")
        tree = {last: value}
        for parent in reversed(parents):
            tree = {parent: tree}
        return tree

    assert audit_text.setting_changes(nest(before), nest(after)) == [words]


def test_every_weight_has_a_label():
    for name in Weights.names():
        label = audit_text.setting_label(f"rules.weights.{name}")
        assert label.endswith(" weight") and "_" not in label


def test_the_rules_page_and_the_audit_log_speak_in_labels(app, client, org, admin):
    response = client.post(
        "/admin/rules", data=valid_form(weight_projects="4", group_size="3"), follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "Rules saved (Group size 2 → 3; Interests weight 2 → 1;" in page
    assert "Projects weight 2 → 4" in page and "rules.weights" not in page
    with app.app_context():
        round_ = publishing.run_round(db.session, coffee(db.session), WEEK)
        db.session.commit()
        round_id = round_.round.id
    client.post(f"/admin/rounds/{round_id}/publish")
    with app.app_context():
        messages = db.session.scalar(
            select(db.func.count()).select_from(Membership).where(Membership.round_id == round_id)
        )
    log = client.get("/admin/audit").get_data(as_text=True)
    # WEEK is in 2026: the year is added when the entry is written in another year.
    said = rf"Published the round of the week of 30 November( 2026)?: {messages} messages queued\."
    assert re.search(said, log)
    assert (
        "Changed the rules of “Cross-team coffee”: Group size 2 → 3;" in log
        and "Projects weight 2 → 4" in log
    )
    assert "round.publish" not in log and "rules.update" not in log and "Changed: " not in log
