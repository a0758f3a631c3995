"""Renaming and merging teams, projects and interests without losing anyone's profile."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import AuditEntry, Interest, Team, User
from matcher.models.people import user_interests
from tests.admin.support import field_error


def interest_id(app, name: str) -> int | None:
    with app.app_context():
        return db.session.scalar(select(Interest.id).where(Interest.key == name.casefold()))


def interests_of(app, user_id: int) -> list[str]:
    with app.app_context():
        return [i.name for i in db.session.get(User, user_id).interests]


def test_merge_keeps_everyone_and_leaves_no_duplicates(app, client, make_user, admin):
    both = make_user(email="both@example.com", interests=("K8s", "Kubernetes", "Rust"))
    only_k8s = make_user(email="k8s@example.com", interests=("K8s",))
    only_kube = make_user(email="kube@example.com", interests=("Kubernetes",))
    source, target = interest_id(app, "k8s"), interest_id(app, "kubernetes")
    page = client.get(f"/admin/vocabulary/interests/{source}").get_data(as_text=True)
    assert "Kubernetes (2 people)" in page
    response = client.post(
        f"/admin/vocabulary/interests/{source}/merge", data={"merge-target": str(target)}
    )
    assert response.status_code == 302
    assert interests_of(app, both) == ["Kubernetes", "Rust"]
    assert interests_of(app, only_k8s) == ["Kubernetes"]
    assert interests_of(app, only_kube) == ["Kubernetes"]
    assert interest_id(app, "k8s") is None
    with app.app_context():
        rows = db.session.scalar(
            select(func.count())
            .select_from(user_interests)
            .where(user_interests.c.interest_id == target)
        )
        assert rows == 3
        entry = db.session.scalars(select(AuditEntry)).one()
        assert entry.action == "interests.merge" and entry.after["merged_into"] == "Kubernetes"


def test_merging_teams_moves_the_members(app, client, make_user, admin):
    ada = make_user(email="ada@example.com", team="Platform Eng")
    bo = make_user(email="bo@example.com", team="Platform")
    with app.app_context():
        source = db.session.scalar(select(Team.id).where(Team.key == "platform eng"))
        target = db.session.scalar(select(Team.id).where(Team.key == "platform"))
    client.post(f"/admin/vocabulary/teams/{source}/merge", data={"merge-target": str(target)})
    with app.app_context():
        assert db.session.get(User, ada).team_id == target == db.session.get(User, bo).team_id
        assert db.session.get(Team, source) is None


def test_rename_to_an_existing_key_says_merge_instead(app, client, make_user, admin):
    make_user(email="both@example.com", interests=("K8s", "Kubernetes"))
    source = interest_id(app, "k8s")
    response = client.post(
        f"/admin/vocabulary/interests/{source}/rename", data={"rename-name": "  KUBERNETES "}
    )
    assert response.status_code == 422
    assert "use merge instead" in field_error(response.get_data(as_text=True), "rename-name")
    assert interest_id(app, "k8s") == source
    # A new spelling of its own name (same key) and a fresh name are fine.
    client.post(f"/admin/vocabulary/interests/{source}/rename", data={"rename-name": "k8S"})
    with app.app_context():
        assert db.session.get(Interest, source).name == "k8S"
    client.post(f"/admin/vocabulary/interests/{source}/rename", data={"rename-name": "Kube  ops"})
    with app.app_context():
        assert db.session.get(Interest, source).name == "Kube ops"
        assert db.session.get(Interest, source).key == "kube ops"


def test_bad_vocabulary_input_gets_messages_not_errors(app, client, make_user, admin):
    make_user(email="both@example.com", interests=("K8s", "Kubernetes"))
    source = interest_id(app, "k8s")
    url = f"/admin/vocabulary/interests/{source}"
    response = client.post(url + "/rename", data={"rename-name": "   "})
    assert field_error(response.get_data(as_text=True), "rename-name") == "Give a name."
    response = client.post(url + "/rename", data={"rename-name": "x" * 5000})
    assert response.status_code == 422
    for target in ("abc", str(source), "999999", "1e309", ""):
        response = client.post(url + "/merge", data={"merge-target": target})
        assert response.status_code == 422, target
        assert "Pick the entry" in field_error(response.get_data(as_text=True), "merge-target")
    assert client.get("/admin/vocabulary/widgets").status_code == 404
    assert client.get("/admin/vocabulary/interests/999999").status_code == 404
    assert interest_id(app, "k8s") == source


# --- near-duplicates ------------------------------------------------------------------------


def suggest(*entries: tuple[str, int]) -> list[tuple[str, str, int]]:
    """(merged away, kept, rule) for named entries with their people counts."""
    from matcher.admin.duplicates import near_duplicates
    from matcher.admin.merging import EntryUse

    found = near_duplicates([EntryUse(k, n, n.casefold(), p) for k, (n, p) in enumerate(entries)])
    return [(s.merge.name, s.keep.name, s.rule) for s in found]


def test_near_duplicates_follow_four_rules_and_keep_the_more_used_entry():
    assert suggest(("Berlin-Mitte", 1), ("berlin mitte", 3)) == [
        ("Berlin-Mitte", "berlin mitte", 1)
    ]
    assert suggest(("k8s", 4), ("Kubernetes", 2)) == [("Kubernetes", "k8s", 2)]
    assert suggest(("a11y", 1), ("Accessibility", 5)) == [("a11y", "Accessibility", 2)]
    assert suggest(("Rust", 5), ("Rust lang", 1)) == [("Rust lang", "Rust", 3)]
    assert suggest(("Berlin Mitte", 1), ("Berlin", 9)) == [("Berlin Mitte", "Berlin", 3)]
    assert suggest(("Kubernetes", 3), ("Kubernets", 1)) == [("Kubernets", "Kubernetes", 4)]
    # A tie keeps the shorter name.
    assert suggest(("Rust lang", 2), ("Rust", 2)) == [("Rust lang", "Rust", 3)]
    # Different numbers, different things; a word inside another word is no match; too short.
    for a, b in [
        ("Checkout v2", "Checkout v3"), ("Floor 2", "Floor 3"), ("Java", "JavaScript"),
        ("Go", "Go tooling"), ("Chess", "Cooking"), ("Rust", "Trust"),
    ]:  # fmt: skip
        assert suggest((a, 1), (b, 1)) == [], (a, b)
    # The strongest rule first, then the pairs that concern the most people.
    found = suggest(("Rust", 1), ("Rust lang", 1), ("Berlin", 5), ("Berlin Mitte", 4), ("RUST!", 1))
    assert found[0] == ("RUST!", "Rust", 1)
    assert found[1] == ("Berlin Mitte", "Berlin", 3)


def test_near_duplicates_stay_fast_for_a_big_vocabulary():
    import random
    import time

    from matcher.admin.duplicates import near_duplicates
    from matcher.admin.merging import EntryUse

    rng = random.Random(3)
    letters = "abcdefghijklmnopqrstuvwxyz"
    names = {"".join(rng.choice(letters) for _ in range(rng.randint(4, 14))) for _ in range(3000)}
    entries = [EntryUse(k, n, n, rng.randint(0, 40)) for k, n in enumerate(sorted(names))]
    started = time.perf_counter()
    near_duplicates(entries)
    assert time.perf_counter() - started < 3


def vocabulary_page(client, kind: str) -> str:
    response = client.get(f"/admin/vocabulary/{kind}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def merge_forms(page: str) -> list[tuple[str, dict[str, str]]]:
    """(action, hidden fields) of each one-click merge on a vocabulary page."""
    forms = []
    for action, body in re.findall(
        r'<form method="post" action="([^"]+)" class="inline"[^>]*>(.*?)</form>', page, re.S
    ):
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
        fields.pop("csrf_token", None)
        forms.append((unescape(action), {k: unescape(v) for k, v in fields.items()}))
    return forms


def suggested(page: str) -> set[tuple[str, str]]:
    """(entry, looks like) pairs of the possible-duplicates list."""
    return {
        (unescape(a), unescape(b))
        for a, b in re.findall(
            r'<strong class="entry">([^<]+)</strong>.*?<strong class="keep">([^<]+)</strong>',
            page,
            re.S,
        )
    }


def test_vocabulary_tabs_suggest_merges_that_one_click_does(app, client, make_user, admin):
    make_user(email="a@example.com", interests=("Kubernetes", "Rust"), projects=("Ledger",))
    make_user(email="b@example.com", interests=("Kubernetes",), projects=("Ledger v2",))
    make_user(email="c@example.com", interests=("k8s", "Rust lang"), projects=("Ledger v3",))
    page = vocabulary_page(client, "interests")
    assert "Possible duplicates" in page
    assert "“k8s” is short for it (k + 8 letters + s)" in page
    assert "“Rust” is part of “Rust lang”" in page
    forms = merge_forms(page)
    k8s = interest_id(app, "k8s")
    assert (
        f"/admin/vocabulary/interests/{k8s}/merge",
        {"merge-target": str(interest_id(app, "kubernetes"))},
    ) in forms
    action, fields = next(f for f in forms if f[0].endswith(f"/{k8s}/merge"))
    assert client.post(action, data=fields).status_code == 302
    assert interest_id(app, "k8s") is None
    page = vocabulary_page(client, "interests")
    assert "Merged “k8s” into “Kubernetes”" in page and "short for it" not in page
    assert suggested(page) == {("Rust lang", "Rust")}
    # "Ledger v2" and "Ledger v3" are two things, each containing "Ledger".
    projects = vocabulary_page(client, "projects")
    assert suggested(projects) == {("Ledger v2", "Ledger"), ("Ledger v3", "Ledger")}
    assert "No near-duplicates among the teams." in vocabulary_page(client, "teams")


def offices_of(app) -> dict[str, str | None]:
    from matcher.models import Profile

    with app.app_context():
        return dict(
            db.session.execute(
                select(User.email, Profile.location).join(Profile, Profile.user_id == User.id)
            ).all()
        )


def test_offices_are_listed_and_merged_by_rewriting_profiles(app, client, make_user, admin):
    for k, office in enumerate(
        ["Berlin", "Berlin", "Berlin Mitte", "berlin-mitte", "Lisbon", None]
    ):
        make_user(email=f"p{k}@example.com", name=f"P{k}", team="Search", location=office)
    page = vocabulary_page(client, "offices")
    assert re.search(r"<td>Berlin</td><td>2</td>", page) and "<td>Lisbon</td><td>1</td>" in page
    forms = merge_forms(page)
    assert (
        "/admin/vocabulary/offices/merge",
        {"source": "Berlin Mitte", "target": "Berlin"},
    ) in forms
    assert (
        "/admin/vocabulary/offices/merge",
        {"source": "berlin-mitte", "target": "Berlin Mitte"},  # a tie: the first name stays
    ) in forms
    response = client.post(
        "/admin/vocabulary/offices/merge", data={"source": "Berlin Mitte", "target": "Berlin"}
    )
    assert response.status_code == 302
    offices = offices_of(app)
    assert offices["p2@example.com"] == "Berlin" and offices["p3@example.com"] == "berlin-mitte"
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "offices.merge")
        ).one()
        assert entry.before == {"name": "Berlin Mitte"}
        assert entry.after == {"merged_into": "Berlin", "moved": 1}
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "Merged the office “Berlin Mitte” into “Berlin” (1 person moved)." in log
    # One office fewer: those people can be paired in person now.
    page = vocabulary_page(client, "offices")
    assert "<td>Berlin Mitte</td>" not in page and re.search(r"<td>Berlin</td><td>3</td>", page)


def test_bad_office_merges_get_a_message_and_change_nothing(app, client, make_user, admin):
    make_user(email="p0@example.com", location="Berlin")
    make_user(email="p1@example.com", location="Lisbon")
    before = offices_of(app)
    for source, target, says in [
        ("", "Berlin", "Pick the office to merge from the list."),
        ("Berlin", "", "Pick the office to merge into from the list."),
        ("Berlin", "Berlin", "Pick another office to merge into."),
        ("Atlantis", "Berlin", "not on anyone's profile any more"),
        ("Berlin", "Atlantis", "not on anyone's profile any more"),
        ("x" * 5000, "Berlin", "not an office on the list"),
    ]:
        response = client.post(
            "/admin/vocabulary/offices/merge", data={"source": source, "target": target}
        )
        assert response.status_code == 422, (source, target)
        text = response.get_data(as_text=True)
        assert says in unescape(text), (source, target)
    assert offices_of(app) == before
    with app.app_context():
        assert db.session.scalars(select(AuditEntry)).all() == []
