"""The round service on a real database: who takes part, history, blocks, exactly-once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.matching import problem_from_json, solve
from matcher.models import DoNotPair, MatchGroup, Membership, Round, User
from matcher.programmes import schedule
from matcher.programmes.settings import rules_of
from matcher.rounds import planning, publishing
from tests.support import SIX_PEOPLE, coffee, coffee_member, make_six_people

ROOT = Path(__file__).resolve().parents[2]
WEEK = "2026-W49"
MONDAY = date(2026, 11, 30)


@pytest.fixture
def org(make_user):
    """Six people in three teams, keyed by first name."""
    return make_six_people(make_user)


def groups_of(app, week: str = WEEK) -> list[set[int]]:
    with app.app_context():
        round_ = publishing.find_round(db.session, coffee(db.session), week)
        return [{m.user_id for m in g.memberships} for g in round_.groups]


def run(app, week: str = WEEK, **kwargs) -> publishing.RunOutcome:
    with app.app_context():
        outcome = publishing.run_round(db.session, coffee(db.session), week, **kwargs)
        db.session.commit()
        return outcome


def test_round_pairs_everyone_across_teams_and_stores_a_snapshot(app, org):
    outcome = run(app)
    assert outcome.created and not outcome.published
    groups = groups_of(app)
    assert sorted(len(g) for g in groups) == [2, 2, 2]
    assert sorted(uid for g in groups for uid in g) == sorted(org.values())
    team_of = {uid: _team(app, uid) for uid in org.values()}
    assert team_of == {uid: SIX_PEOPLE[name] for name, uid in org.items()}
    for group in groups:
        a, b = group
        assert team_of[a] != team_of[b], (team_of[a], team_of[b])
    with app.app_context():
        round_ = publishing.find_round(db.session, coffee(db.session), WEEK)
        assert round_.status == "draft" and round_.starts_on == MONDAY
        assert round_.rules["repeat_cooldown_weeks"] == 4
        assert round_.participant_count == 6
        # Facts are stored (ids and shared things), not sentences, and end with novelty.
        for g in round_.groups:
            ids = {m.user_id for m in g.memberships}
            assert g.reasons == [] and g.facts[-1]["kind"] == "first_meeting"
            assert all(set(f["members"]) <= ids for f in g.facts)
        # The stored problem reproduces the stored groups exactly.
        again = solve(problem_from_json(round_.problem))
        assert sorted(sorted(g.members) for g in again.groups) == sorted(sorted(g) for g in groups)


def _team(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).team.name


def test_running_twice_keeps_one_round(app, org):
    run(app)
    first = groups_of(app)
    second = run(app)
    assert not second.created and "exists already" in second.message
    assert groups_of(app) == first
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Round)) == 1


def test_dry_run_stores_nothing(app, org):
    outcome = run(app, dry_run=True)
    assert outcome.plan is not None and len(outcome.plan.groups) == 3
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Round)) == 0


def test_who_takes_part(app, org, make_user):
    admin = make_user(email="admin@example.com", is_admin=True)
    with app.app_context():
        coffee_member(db.session, org["ada"]).opted_out = True
        coffee_member(db.session, org["bob"]).snoozed_until = MONDAY + timedelta(days=3)
        db.session.get(User, org["cy"]).active = False
        # Somebody without a team is not matched until the profile is complete.
        db.session.get(User, admin).team = None
        db.session.commit()
    with app.app_context():
        plan = planning.plan_round(db.session, coffee(db.session), WEEK)
        ids = {p.id for p in plan.problem.participants}
        assert ids == {org["dee"], org["eve"], org["fay"]}
        assert plan.excluded == {
            "left the programme": 1,
            "snoozed": 1,
            "never joined (no profile)": 1,
        }
        # A snooze that ended before the week no longer counts.
        coffee_member(db.session, org["bob"]).snoozed_until = MONDAY - timedelta(days=1)
        assert org["bob"] in {
            p.id
            for p in planning.plan_round(db.session, coffee(db.session), WEEK).problem.participants
        }


def test_do_not_pair_blocks_both_ways(app, make_user):
    ada = make_user(email="ada@example.com", name="Ada Lovelace", team="Payments")
    cy = make_user(email="cy@example.com", name="Cy Young", team="Search")
    with app.app_context():
        db.session.add(DoNotPair(user_id=cy, blocked_user_id=ada))
        db.session.commit()
        plan = planning.plan_round(db.session, coffee(db.session), WEEK)
        assert plan.groups == ()
        assert {uid for uid, _ in plan.unmatched} == {ada, cy}
        # The reason never names who blocked whom (nor the other person at all).
        for _, reason in plan.unmatched:
            assert "blocked" in reason
            for name in ("Ada", "Lovelace", "Cy", "Young", "ada@", "cy@"):
                assert name not in reason, reason


def test_history_and_cadence(app, make_user):
    ada = make_user(email="ada@example.com", team="Payments")
    cy = make_user(email="cy@example.com", team="Search")
    eve = make_user(email="eve@example.com", team="Platform", cadence_weeks=2)
    fay = make_user(email="fay@example.com", team="Growth")
    run(app, "2026-W48", publish=False)
    with app.app_context():
        last_week = publishing.find_round(db.session, coffee(db.session), "2026-W48")
        last_week.status = "published"  # counts as history once published
        pairs_last_week = [{m.user_id for m in g.memberships} for g in last_week.groups]
        db.session.commit()
    with app.app_context():
        plan = planning.plan_round(db.session, coffee(db.session), WEEK)
        # eve meets every 2 weeks and met someone last week: not due.
        assert eve not in {p.id for p in plan.problem.participants}
        assert plan.excluded.get("not due by their cadence") == 1
        # Nobody meets last week's partner again inside the 4-week cooldown.
        for group in plan.groups:
            assert set(group.user_ids) not in pairs_last_week
        history = {(h.a, h.b): h.weeks_ago for h in plan.problem.history}
        assert all(weeks == 1 for weeks in history.values()) and history
    assert {ada, cy, fay} >= {p.id for p in plan.problem.participants} - {eve}


def test_a_failed_run_leaves_nothing_behind(app, org, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("killed half-way")

    monkeypatch.setattr(publishing, "publish_round", explode)
    with app.app_context():
        with pytest.raises(RuntimeError):
            publishing.run_round(db.session, coffee(db.session), WEEK, publish=True)
        db.session.rollback()
        for model in (Round, MatchGroup, Membership):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_cli_run_reports_and_refuses_bad_weeks(app, org):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rounds", "run", "--week", WEEK])
    assert result.exit_code == 0, result.output
    assert "Draft saved. Cross-team coffee, 2026-W49: 3 groups for 6 people" in result.output
    again = runner.invoke(args=["rounds", "run", "--week", WEEK])
    assert "exists already (draft)" in again.output
    bad = runner.invoke(args=["rounds", "run", "--week", "2026-W99"])
    assert bad.exit_code == 2 and "2026 has no week 99" in bad.output
    listing = runner.invoke(args=["rounds", "list"])
    assert "2026-W49  coffee        draft" in listing.output


@pytest.mark.real_clock("two flask processes run the round")
def test_concurrent_runs_in_two_processes_make_one_round(app, org):
    env = dict(os.environ)
    env["MATCHER_DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"]
    env["MATCHER_SECRET_KEY"] = "test"
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "rounds", "run", "--week", WEEK]
    runs = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [r.communicate(timeout=120) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    said = " ".join(out for out, _ in outputs)
    assert said.count("Draft saved") == 1, outputs
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Round)) == 1
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 6


def test_a_cooldown_longer_than_the_history_window_is_still_enforced(app, make_user):
    from dataclasses import replace

    from matcher.weeks import parse_week, week_label

    ada = make_user(email="ada@example.com", team="Payments")
    cy = make_user(email="cy@example.com", team="Search")
    long_ago = week_label(parse_week(WEEK) - timedelta(weeks=40))
    run(app, long_ago, publish=True)
    with app.app_context():
        default = rules_of(coffee(db.session))
        for cooldown, paired in ((4, True), (52, False)):
            rules = replace(default, repeat_cooldown_weeks=cooldown)
            plan = planning.plan_round(db.session, coffee(db.session), WEEK, rules=rules)
            assert ({ada, cy} in [set(g.user_ids) for g in plan.groups]) is paired, cooldown
            weeks = {(h.a, h.b): h.weeks_ago for h in plan.problem.history}
            assert weeks.get((ada, cy)) == (None if cooldown == 4 else 40)


def test_next_round_is_the_local_week_and_skips_a_week_published_early(app, make_user):
    from datetime import UTC, datetime

    from matcher.weeks import parse_week, week_label

    make_user(email="ada@example.com", team="Payments")
    make_user(email="cy@example.com", team="Search")
    # Monday 00:30 in Berlin is Sunday 23:30 UTC: the run belongs to Monday's week.
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday of 2026-W48
    with app.app_context():
        settings = coffee(db.session)
        settings.round_weekday, settings.round_minute = 0, 30
        settings.round_timezone = "Europe/Berlin"
        db.session.commit()
        start, week = schedule.next_round(db.session, coffee(db.session), now)
        assert start == datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
        assert week == "2026-W49" and parse_week(week).isoformat() == "2026-11-30"
        # An admin publishes W49 early: the next round is W50's, a week later.
        assert publishing.run_round(
            db.session, coffee(db.session), "2026-W49", publish=True
        ).published
        db.session.commit()
        start, week = schedule.next_round(db.session, coffee(db.session), now)
        assert week == "2026-W50" and start == datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
        # A draft does not count: it is published when its week comes due.
        publishing.run_round(db.session, coffee(db.session), "2026-W50")
        db.session.commit()
        assert schedule.next_round(db.session, coffee(db.session), now)[1] == "2026-W50"
        assert week_label(parse_week(week)) == week
