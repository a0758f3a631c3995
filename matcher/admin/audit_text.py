"""Audit entries in words: one sentence per action, labels for every setting a save can change.

Every action the code records has a describer in ACTIONS; tests/admin/test_audit_text.py
fails when code records an action that has none.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from matcher.audit import changed_keys
from matcher.matching import Weights
from matcher.models import AuditEntry
from matcher.weeks import WeekError, parse_week, week_of

# What each kind of vocabulary entry is called in a sentence.
KIND_WORDS = {"teams": "team", "projects": "project", "interests": "interest", "offices": "office"}
SETTING_LABELS = {
    "rules.cross_team_only": "Only pair people from different teams",
    "rules.avoid_managers": "Never pair people with their manager or their direct reports",
    "rules.repeat_cooldown_weeks": "Weeks before two people can meet again",
    "rules.group_size": "Group size",
    "round_weekday": "Rounds run on",
    "round_minute": "Round time",
    "round_timezone": "Time zone",
    "feedback_reminder_days": "Feedback reminder after (days)",
    "pause_after_missed": "Pause after missed rounds",
}
# What the programme form calls each value the audit log records of a programme.
PROGRAMME_LABELS = {
    "name": "name",
    "slug": "address",
    "description": "description",
    "open_to": "who may join",
    "open_values": "teams or offices that may join",
    "joined_within_weeks": "new-joiner weeks",
    "auto_enrol": "automatic joining",
    "pairing_weeks": "pairing length",
    "mentor_capacity": "mentees per mentor",
    "archived": "archived",
    "kind": "kind",
}
KIND_WORDS_PROGRAMME = {
    "coffee": "cross-team coffee",
    "buddies": "new-joiner buddies",
    "mentoring": "mentoring",
}
_PERSON = re.compile(r"^(?P<name>.*) <(?P<email>[^<>]*)>$")


def _value(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if key == "round_weekday" and isinstance(value, int) and 0 <= value <= 6:
        return calendar.day_name[value]
    if key == "round_minute" and isinstance(value, int):
        return f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def setting_label(key: str) -> str:
    """What the Rules page calls a setting: 'rules.weights.projects' -> 'Projects weight'."""
    if key in SETTING_LABELS:
        return SETTING_LABELS[key]
    if key.startswith("rules.weights."):
        return key.removeprefix("rules.weights.").replace("_", " ").capitalize() + " weight"
    return key.rpartition(".")[2].replace("_", " ").capitalize()


def _lookup(values: Any, key: str) -> Any:
    for part in key.split("."):
        values = values.get(part) if isinstance(values, dict) else None
    return values


# The order of the Rules page, so a sentence lists changes as the admin saw the fields.
PAGE_ORDER = (
    "rules.cross_team_only",
    "rules.avoid_managers",
    "rules.repeat_cooldown_weeks",
    "rules.group_size",
    *(f"rules.weights.{name}" for name in Weights.names()),
    "round_weekday",
    "round_minute",
    "round_timezone",
    "feedback_reminder_days",
    "pause_after_missed",
)


def setting_changes(before: Any, after: Any) -> list[str]:
    """Each changed setting as 'Projects weight 2 → 4', in the order of the Rules page."""
    keys = sorted(
        changed_keys(before, after),
        key=lambda k: (PAGE_ORDER.index(k) if k in PAGE_ORDER else len(PAGE_ORDER), k),
    )
    return [
        f"{setting_label(key)} {_value(key.rpartition('.')[2], _lookup(before, key))} → "
        f"{_value(key.rpartition('.')[2], _lookup(after, key))}"
        for key in keys
    ]


def week_words(label: str | None, when: datetime | None = None) -> str:
    """'2026-W50' as 'the week of 7 December', with the year when it is not the entry's own."""
    try:
        monday = parse_week(label or "")
    except WeekError:
        return f"week {label}" if label else "a week"
    words = week_of(monday)
    return words if when is not None and when.year == monday.year else f"{words} {monday.year}"


def _person(target: str | None) -> str:
    match = _PERSON.match(target or "")
    if match is None:
        return target or "someone"
    return f"{match['name']} ({match['email']})"


def _get(values: Any, key: str) -> Any:
    return values.get(key) if isinstance(values, dict) else None


def _round_week(entry: AuditEntry) -> str:
    week = _get(entry.after, "week") or _get(entry.before, "week")
    if not week:  # "round 2026-W49" or "round 2026-W49: Ada <-> Bo"
        week = (entry.target or "").partition(": ")[0].removeprefix("round ").strip()
    return week_words(week, entry.created_at)


def _round_names(entry: AuditEntry) -> list[str]:
    return (entry.target or "").partition(": ")[2].split(" <-> ")


def _plural(count: Any, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _rename(kind: str) -> Callable[[AuditEntry], str]:
    def describe(e: AuditEntry) -> str:
        old, new = _get(e.before, "name"), _get(e.after, "name")
        return f"Renamed the {KIND_WORDS[kind]} “{old}” to “{new}”"

    return describe


def _merge(kind: str) -> Callable[[AuditEntry], str]:
    def describe(e: AuditEntry) -> str:
        moved = _get(e.after, "moved") or 0
        return (
            f"Merged the {KIND_WORDS[kind]} “{_get(e.before, 'name')}” into "
            f"“{_get(e.after, 'merged_into')}” ({_plural(moved, 'person', 'people')} moved)"
        )

    return describe


def _programme(e: AuditEntry, names: Mapping[str, str] | None = None) -> str:
    """The programme an entry is about, quoted: the name it recorded, its name now (names:
    slug -> name), or else its address."""
    name = _get(e.after, "name") or _get(e.before, "name") or _get(e.after, "programme")
    target = e.target or ""
    slug = target.removeprefix("programme ") if target.startswith("programme ") else ""
    if not name and slug != "settings":
        name = (names or {}).get(slug) or slug
    return f"“{name}”" if name else ""


def _rules(e: AuditEntry, names: Mapping[str, str] | None = None) -> str:
    changes = setting_changes(e.before, e.after)
    programme = _programme(e, names)
    # Entries from before programmes ("programme settings") name none.
    of = f" of {programme}" if programme else ""
    if not changes:
        return f"Saved the rules{of} unchanged"
    return f"Changed the rules{of}: " + "; ".join(changes)


def _programme_update(e: AuditEntry, names: Mapping[str, str] | None = None) -> str:
    changed = [
        PROGRAMME_LABELS.get(key, setting_label(key)) for key in changed_keys(e.before, e.after)
    ]
    old, new = _get(e.before, "name"), _get(e.after, "name")
    renamed = f" (renamed from “{old}”)" if old and new and old != new else ""
    what = f": changed {', '.join(dict.fromkeys(changed))}" if changed else ""
    return f"Edited the programme {_programme(e, names)}{renamed}{what}"


def _programme_create(e: AuditEntry, names: Mapping[str, str] | None = None) -> str:
    kind = KIND_WORDS_PROGRAMME.get(str(_get(e.after, "kind")), "")
    return f"Created the programme {_programme(e, names)}" + (f" ({kind})" if kind else "")


def _joined_on(e: AuditEntry) -> str:
    old, new = _get(e.before, "joined_on"), _get(e.after, "joined_on")
    return f"Changed the join date of {_person(e.target)} from {old or '—'} to {new or '—'}"


def _manager(e: AuditEntry) -> str:
    old, new = _get(e.before, "manager"), _get(e.after, "manager")
    return f"Changed the manager of {_person(e.target)} from {old or '—'} to {new or '—'}"


def _roster_import(e: AuditEntry) -> str:
    rows, new, updated = _get(e.after, "rows"), _get(e.after, "new"), _get(e.after, "updated")
    kept, invitations = _get(e.after, "kept"), _get(e.after, "invitations")
    if rows is None:
        return f"Imported a roster file ({e.target or 'no details'})"
    return (
        f"Imported a roster file of {_plural(rows, 'row', 'rows')}: {new or 0} new, "
        f"{updated or 0} updated, {kept or 0} keeping their own edits; "
        f"{_plural(invitations or 0, 'invitation', 'invitations')} queued"
    )


def _draft(e: AuditEntry) -> str:
    groups = _get(e.after, "groups")
    extra = f" ({_plural(groups, 'group', 'groups')})" if groups is not None else ""
    programme = _get(e.after, "programme")
    of = f" of “{programme}”" if programme else ""
    return f"Saved a draft round{of} for {_round_week(e)}{extra}"


def _swap(e: AuditEntry) -> str:
    names = _round_names(e)
    who = " and ".join(names) if len(names) == 2 else "two people"
    return f"Swapped {who} between their groups in the draft for {_round_week(e)}"


def _take_out(e: AuditEntry) -> str:
    (name, *_) = _round_names(e)
    return f"Took {name or 'someone'} out of the draft for {_round_week(e)}"


def _publish(e: AuditEntry) -> str:
    messages = _get(e.after, "messages")
    extra = f": {_plural(messages, 'message', 'messages')} queued" if messages is not None else ""
    return f"Published the round of {_round_week(e)}{extra}"


def _discard(e: AuditEntry) -> str:
    groups = _get(e.before, "groups")
    extra = f" ({_plural(groups, 'group', 'groups')})" if groups is not None else ""
    return f"Discarded the draft for {_round_week(e)}{extra}"


ACTIONS: dict[str, Callable[[AuditEntry], str]] = {
    "person.make-admin": lambda e: f"Made {_person(e.target)} an admin",
    "person.revoke-admin": lambda e: f"Revoked the admin rights of {_person(e.target)}",
    "person.deactivate": lambda e: f"Deactivated the account of {_person(e.target)}",
    "person.reactivate": lambda e: f"Reactivated the account of {_person(e.target)}",
    "person.joined_on": _joined_on,
    "person.manager": _manager,
    "roster.import": _roster_import,
    "programme.create": _programme_create,
    "programme.update": _programme_update,
    "programme.archive": lambda e, names=None: f"Archived the programme {_programme(e, names)}",
    "programme.reopen": lambda e, names=None: f"Reopened the programme {_programme(e, names)}",
    **{f"{kind}.rename": _rename(kind) for kind in ("teams", "projects", "interests")},
    **{f"{kind}.merge": _merge(kind) for kind in ("teams", "projects", "interests", "offices")},
    "rules.update": _rules,
    "round.draft": _draft,
    "round.swap": _swap,
    "round.take_out": _take_out,
    "round.publish": _publish,
    "round.discard": _discard,
}


# The sentences that name a programme, which can take its current name from the caller.
NAMING_PROGRAMMES = frozenset(
    {
        "rules.update",
        "programme.create",
        "programme.update",
        "programme.archive",
        "programme.reopen",
    }
)


def describe(entry: AuditEntry, programmes: Mapping[str, str] | None = None) -> str:
    """One readable sentence for an audit entry (its action, target and values); programmes
    (slug -> name) names a programme whose entry recorded only its address."""
    describer = ACTIONS.get(entry.action)
    if describer is None:  # an entry written by an older version, or by hand
        return f"{entry.action.replace('.', ' ').replace('_', ' ').capitalize()}: {entry.target}"
    if entry.action in NAMING_PROGRAMMES:
        return describer(entry, programmes)  # type: ignore[call-arg]
    return describer(entry)
