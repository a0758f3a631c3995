"""Rounds per programme: buddies, mentoring, history across programmes, the CLI and scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from matcher.extensions import db
from matcher.models import Round, Skill, User
from matcher.programmes import catalogue, members
from matcher.programmes.schedule import due_week
from matcher.rounds import publishing
from matcher.rounds.cli import scheduler_tick
from tests.programmes.support import THIS_MONDAY, join, make_programme, pairs, run, week


def pairs_of(group) -> set[int]:
    return {m.user_id for m in group.memberships}


@pytest.fixture
def people(make_user):
    """Eight people in four teams: {name: id}; all in the cross-team coffee."""
    teams = ["Search", "Search", "Payments", "Payments", "Data", "Data", "SRE", "SRE"]
    names = ["ana", "bo", "cy", "di", "ed", "fay", "gus", "hal"]
    return {
        name: make_user(email=f"{name}@example.com", name=name.title(), team=team)
        for name, team in zip(names, teams, strict=True)
    }


def test_buddies_pair_each_new_joiner_with_a_buddy_from_another_team_for_weeks(app, people):
    with app.app_context():
        buddies = make_programme("buddies", "buddies", pairing_weeks=3, auto_enrol=False)
        for name in ("ana", "cy"):  # new joiners (everyone made today joined today)
            join(buddies, people[name], "newcomer")
        for name in ("bo", "ed", "gus"):
            join(buddies, people[name], "buddy")
        first = run(buddies, week(1))
        got = pairs(first)
        assert len(got) == 2
        newcomers = {people["ana"], people["cy"]}
        helpers = {people["bo"], people["ed"], people["gus"]}
        for pair in got:
            assert len(set(pair) & newcomers) == 1 and len(set(pair) & helpers) == 1
        # Ana (Search) is never paired with Bo (Search): buddies come from another team.
        assert (min(people["ana"], people["bo"]), max(people["ana"], people["bo"])) not in got
        # While the pairing lasts nobody in it is paired again; a new joiner who arrives later
        # gets the buddy who is still free.
        join(buddies, people["di"], "newcomer")
        second = run(buddies, week(2))
        paired_before = {uid for pair in got for uid in pair}
        second_pairs = pairs(second)
        assert len(second_pairs) == 1
        (pair,) = second_pairs
        assert people["di"] in pair and not (set(pair) - {people["di"]}) & paired_before
        assert second.stats["excluded"]["still in a pairing that lasts"] == 4
        # After the pairing ends, new joiners who had their buddy are not paired again.
        later = run(buddies, week(4))
        assert later.stats["excluded"].get("had their buddy already", 0) >= 2


def test_mentoring_respects_roles_capacity_and_what_mentees_want(app, people):
    with app.app_context():
        mentoring = make_programme("mentoring", "mentoring", mentor_capacity=2)
        kube, design, talks = (
            Skill.get_or_create(db.session, n) for n in ("Kube", "Design", "Talks")
        )
        db.session.flush()
        users = {name: db.session.get(User, uid) for name, uid in people.items()}
        users["ana"].can_help = [kube, design]
        users["cy"].can_help = [talks]
        for name, wants in (("ed", [kube]), ("gus", [design]), ("bo", [talks]), ("hal", [kube])):
            users[name].wants_help = wants
        db.session.flush()
        for name in ("ana", "cy"):
            join(mentoring, people[name], "mentor")
        for name in ("ed", "gus", "bo", "hal"):
            join(mentoring, people[name], "mentee")
        round_ = run(mentoring, week(1))
        got = pairs(round_)
        mentor_ids = {people["ana"], people["cy"]}
        per_mentor = {uid: sum(uid in pair for pair in got) for uid in mentor_ids}
        assert all(len(set(pair) & mentor_ids) == 1 for pair in got), got
        assert max(per_mentor.values()) <= 2
        # Bo wants talks, which only Cy offers, and Cy (Payments) is from another team.
        assert tuple(sorted((people["cy"], people["bo"]))) in got
        # Everyone who wants Kube or Design gets Ana, the only one who offers them, while
        # she has room; she is in two groups of one round.
        assert per_mentor[people["ana"]] == 2
        # She meets her two mentees at two different times.
        times = [g.meeting_at for g in round_.groups if people["ana"] in pairs_of(g)]
        assert None not in times and len(set(times)) == 2


def test_mentee_without_wants_and_archived_programmes_are_refused(app, people):
    with app.app_context():
        mentoring = make_programme("mentoring", "mentoring")
        user = db.session.get(User, people["ana"])
        with pytest.raises(members.JoinError) as refused:
            members.join(
                db.session, mentoring, user, members.Choice(mentoring.id, "mentee"), THIS_MONDAY
            )
        assert refused.value.field == "wants_help"
        with pytest.raises(members.JoinError) as no_role:
            members.join(db.session, mentoring, user, members.Choice(mentoring.id), THIS_MONDAY)
        assert no_role.value.field == "role"
        catalogue.set_archived(db.session, mentoring, True, None)
        user.can_help = [Skill.get_or_create(db.session, "Kube")]
        with pytest.raises(members.JoinError, match="closed"):
            members.join(
                db.session, mentoring, user, members.Choice(mentoring.id, "mentor"), THIS_MONDAY
            )
        assert members.membership(db.session, mentoring, user.id) is None


def test_repeat_avoidance_looks_across_programmes(app, make_user):
    ana = make_user(email="ana@example.com", name="Ana", team="Search")
    bo = make_user(email="bo@example.com", name="Bo", team="Payments")
    with app.app_context():
        buddies = make_programme("buddies", "buddies", pairing_weeks=1, auto_enrol=False)
        join(buddies, ana, "newcomer")
        join(buddies, bo, "buddy")
        assert pairs(run(buddies, week(1))) == [tuple(sorted((ana, bo)))]
        # The coffee of the next week: the two met last week (cooldown 4 weeks by default),
        # so they are not paired again, whatever the programme.
        coffee = catalogue.default_programme(db.session)
        next_coffee = run(coffee, week(2), publish=False)
        assert pairs(next_coffee) == []
        assert {u["user_id"] for u in next_coffee.unmatched} == {ana, bo}


def test_two_programmes_have_their_own_round_of_the_same_week(app, people):
    with app.app_context():
        coffee = catalogue.default_programme(db.session)
        other = make_programme("lunch", "coffee")
        for uid in people.values():
            join(other, uid)
        first = run(coffee, week(1))
        second = run(other, week(1))
        assert first.id != second.id and second.programme_id == other.id
        # Nobody is given two meetings at the same time across the two programmes.
        taken = {
            (m.user_id, g.meeting_at) for g in first.groups for m in g.memberships if g.meeting_at
        }
        clashes = [
            (m.user_id, g.meeting_at)
            for g in second.groups
            for m in g.memberships
            if (m.user_id, g.meeting_at) in taken
        ]
        assert taken and not clashes
        # Running the same programme-week again keeps one round.
        again = publishing.run_round(db.session, other, week(1), publish=True)
        assert again.round.id == second.id and not again.created
        rounds = db.session.scalars(select(Round).where(Round.week == week(1))).all()
        assert len(rounds) == 2


def test_scheduler_runs_each_programme_on_its_own_schedule(app, people):
    with app.app_context():
        coffee = catalogue.default_programme(db.session)
        coffee.round_weekday, coffee.round_minute = 0, 9 * 60  # Monday 09:00 UTC
        lunch = make_programme("lunch", "coffee")
        lunch.round_weekday, lunch.round_minute = 2, 12 * 60  # Wednesday 12:00 UTC
        for uid in people.values():
            join(lunch, uid)
        db.session.commit()
        tuesday = datetime.combine(THIS_MONDAY + timedelta(days=1), datetime.min.time(), UTC)
        assert due_week(coffee, tuesday) == week(0) and due_week(lunch, tuesday) is None
        said = scheduler_tick(tuesday)
        assert said and coffee.name in said and lunch.name not in said
        thursday = tuesday + timedelta(days=2)
        said = scheduler_tick(thursday)
        assert said and lunch.name in said and coffee.name not in said
        published = db.session.scalars(select(Round.programme_id).where(Round.week == week(0)))
        assert sorted(published) == sorted([coffee.id, lunch.id])


def test_cli_lists_programmes_and_runs_one_by_slug(app, people):
    runner = app.test_cli_runner()
    with app.app_context():
        make_programme("mentoring", "mentoring")
        db.session.commit()
    listed = runner.invoke(args=["programmes", "list"])
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].split()[0] == "coffee" and "8 members" in lines[0]
    assert lines[1].split()[:1] == ["mentoring"] and "0 members" in lines[1]
    unknown = runner.invoke(args=["rounds", "run", "--programme", "nope", "--week", week(1)])
    assert unknown.exit_code != 0 and "no programme 'nope'" in unknown.output
    ran = runner.invoke(args=["rounds", "run", "--programme", "coffee", "--week", week(1)])
    assert ran.exit_code == 0 and "Draft saved. Cross-team coffee" in ran.output
    with app.app_context():
        rounds = db.session.scalars(select(Round)).all()
        assert [r.programme.slug for r in rounds] == ["coffee"]


def test_nobody_meets_the_same_person_in_two_programmes_of_one_week(app, make_user):
    ana = make_user(email="ana@example.com", name="Ana", team="Search")
    bo = make_user(email="bo@example.com", name="Bo", team="Payments")
    with app.app_context():
        coffee = catalogue.default_programme(db.session)
        lunch = make_programme("lunch", "coffee")
        join(lunch, ana)
        join(lunch, bo)
        assert pairs(run(coffee, week(1))) == [tuple(sorted((ana, bo)))]
        same_week = run(lunch, week(1), publish=False)
        assert pairs(same_week) == []
        # The week after, the coffee of that week still counts (met one week ago).
        assert pairs(run(lunch, week(2), publish=False)) == []


def test_new_joiners_are_enrolled_automatically_when_the_round_is_computed(app, people):
    with app.app_context():
        buddies = make_programme("buddies", "buddies", auto_enrol=True)
        old_hand = db.session.get(User, people["gus"])
        old_hand.joined_on = THIS_MONDAY - timedelta(weeks=30)
        join(buddies, people["bo"], "buddy")
        db.session.commit()
        round_ = run(buddies, week(1))
        enrolled = {m.user_id: m.role for m in buddies.members if m.user_id != people["bo"]}
        # Everyone made today is a new joiner; Gus joined 30 weeks ago and is not enrolled.
        assert people["gus"] not in enrolled
        assert set(enrolled.values()) == {"newcomer"} and len(enrolled) == 6
        # Bo (Search) takes one new joiner from another team; the others wait for buddies.
        (pair,) = pairs(round_)
        assert people["bo"] in pair
        assert db.session.get(User, (set(pair) - {people["bo"]}).pop()).team.name != "Search"


def test_a_pairing_that_lasts_ends_early_when_the_partner_leaves(app, people):
    with app.app_context():
        buddies = make_programme("buddies", "buddies", pairing_weeks=8, auto_enrol=False)
        join(buddies, people["ana"], "newcomer")
        join(buddies, people["cy"], "buddy")
        join(buddies, people["ed"], "buddy")
        (first,) = pairs(run(buddies, week(1)))
        buddy = (set(first) - {people["ana"]}).pop()
        # While both stay, Ana is not paired again.
        assert pairs(run(buddies, week(2), publish=False)) == []
        members.leave(members.membership(db.session, buddies, buddy))
        db.session.commit()
        # Her buddy left: the pairing is over and she gets the other buddy.
        (second,) = pairs(run(buddies, week(3)))
        assert people["ana"] in second and buddy not in second
