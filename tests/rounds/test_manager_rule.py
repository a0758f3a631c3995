"""Managers in rounds: reporting lines from users.manager_id reach the engine, a manager and
their report are never paired while the rule is on, and admins turn the rule on and off."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from matcher.extensions import db
from matcher.models import AuditEntry, MatchGroup, Round, User
from matcher.programmes.settings import save_settings, settings_values
from matcher.rounds import participants, planning, publishing
from matcher.weeks import week_label, week_start
from tests.admin.support import valid_form
from tests.support import coffee


def next_week() -> str:
    return week_label(week_start(date.today()) + timedelta(days=7))


def set_manager(app, user_id: int, manager_id: int | None) -> None:
    with app.app_context():
        db.session.get(User, user_id).manager_id = manager_id
        db.session.commit()


def set_rule(app, actor: int, on: bool) -> None:
    with app.app_context():
        values = settings_values(coffee(db.session))
        values["rules"]["avoid_managers"] = on
        save_settings(db.session, coffee(db.session), values, actor)
        db.session.commit()


def planned_pairs(app, week: str) -> set[frozenset[int]]:
    with app.app_context():
        plan = planning.plan_round(db.session, coffee(db.session), week)
        return {frozenset(g.user_ids) for g in plan.groups}


def test_a_manager_and_their_report_are_never_paired_in_a_published_round(app, make_user):
    # Maya and Raj share a project and interests from different teams: the best pair by far.
    maya = make_user(email="maya@example.com", name="Maya", team="Platform")
    raj = make_user(email="raj@example.com", name="Raj", team="Payments")
    sam = make_user(
        email="sam@example.com", name="Sam", team="Search", projects=(), interests=("Knitting",)
    )
    tia = make_user(
        email="tia@example.com", name="Tia", team="Infra", projects=(), interests=("Sailing",)
    )
    week = next_week()
    assert frozenset((maya, raj)) in planned_pairs(app, week)
    set_manager(app, raj, maya)
    with app.app_context():
        plan = planning.plan_round(db.session, coffee(db.session), week)
        managers = {p.id: p.managers for p in plan.problem.participants}
        assert managers[raj] == (maya,) and managers[maya] == ()
        assert plan.problem.rules.avoid_managers is True
    assert frozenset((maya, raj)) not in planned_pairs(app, week)
    # The rule, not the reporting-tree distance, keeps them apart: off, they pair again.
    set_rule(app, tia, on=False)
    assert frozenset((maya, raj)) in planned_pairs(app, week)
    set_rule(app, tia, on=True)
    with app.app_context():
        outcome = publishing.run_round(db.session, coffee(db.session), week, publish=True)
        assert outcome.published
        db.session.commit()
        round_ = db.session.scalars(select(Round)).one()
        groups = [
            frozenset(m.user_id for m in g.memberships)
            for g in db.session.scalars(select(MatchGroup).where(MatchGroup.round_id == round_.id))
        ]
        # The stored problem keeps the chain, so a replay or an admin's swap sees it too.
        stored = {p["id"]: p.get("managers") for p in round_.problem["participants"]}
        assert stored[raj] == [maya] and stored[maya] is None
    assert len(groups) == 2 and frozenset((maya, raj)) not in groups
    assert {m for g in groups for m in g} == {maya, raj, sam, tia}


def test_chains_follow_manager_ids_beyond_the_round_and_stop_at_loops(app, make_user, monkeypatch):
    ids = {
        name: make_user(email=f"{name}@example.com", name=name.title(), team=f"T{k}")
        for k, name in enumerate(("ceo", "vp", "lead", "dev", "x", "y", "solo"))
    }
    for person, manager in [
        ("vp", "ceo"),
        ("lead", "vp"),
        ("dev", "lead"),
        ("x", "y"),
        ("y", "x"),
    ]:
        set_manager(app, ids[person], ids[manager])
    with app.app_context():
        db.session.get(User, ids["vp"]).active = False  # out of every round, still a manager
        db.session.commit()
        chains = participants.manager_chains(db.session, set(ids.values()))
        assert chains[ids["dev"]] == (ids["lead"], ids["vp"], ids["ceo"])
        assert chains[ids["x"]] == (ids["y"],) and chains[ids["y"]] == (ids["x"],)
        assert ids["ceo"] not in chains and ids["solo"] not in chains
        people, _ = participants.select_participants(
            db.session, coffee(db.session), week_start(date.today()) + timedelta(days=7)
        )
        by_id = {p.id: p for p in people}
        assert ids["vp"] not in by_id
        assert by_id[ids["lead"]].managers == (ids["vp"], ids["ceo"])
        assert by_id[ids["solo"]].managers == ()
        monkeypatch.setattr(participants, "MAX_MANAGER_DEPTH", 2)
        chains = participants.manager_chains(db.session, {ids["dev"]})
        assert chains == {ids["dev"]: (ids["lead"], ids["vp"])}


def checkbox(page: str) -> str:
    return re.search(r'<input[^>]*id="avoid_managers"[^>]*>', page).group(0)


def test_the_rules_page_turns_the_manager_rule_off_and_on(app, client, admin):
    page = client.get("/admin/rules").get_data(as_text=True)
    assert "Never pair people with their manager or their direct reports" in page
    assert "someone who reports to them directly" in page
    assert " checked" in checkbox(page)  # on by default
    response = client.post("/admin/rules", data=valid_form(avoid_managers=None))
    assert response.status_code == 302
    with app.app_context():
        assert coffee(db.session).rules["avoid_managers"] is False
        entry = db.session.scalars(select(AuditEntry)).one()
        assert entry.before["rules"]["avoid_managers"] is True
        assert entry.after["rules"]["avoid_managers"] is False
        plan = planning.plan_round(db.session, coffee(db.session), next_week())
        assert plan.rules.avoid_managers is False
    assert " checked" not in checkbox(client.get("/admin/rules").get_data(as_text=True))
    response = client.post("/admin/rules", data=valid_form(avoid_managers="y"))
    assert response.status_code == 302
    with app.app_context():
        assert coffee(db.session).rules["avoid_managers"] is True
    assert " checked" in checkbox(client.get("/admin/rules").get_data(as_text=True))
    # Preview and what-if offer it too, ticked like the saved rules.
    for url in ("/admin/preview", "/admin/whatif"):
        assert " checked" in checkbox(client.get(url).get_data(as_text=True))
        # Once a rule field is sent, an absent checkbox means unticked, as for cross-team.
        page = client.get(url, query_string={"group_size": "3"}).get_data(as_text=True)
        assert " checked" not in checkbox(page)
