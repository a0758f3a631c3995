"""The insights aggregates kept by flush events equal a from-scratch recount, whatever happens."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from matcher.admin import merging, metrics
from matcher.extensions import db
from matcher.models import (
    Feedback,
    InsightGroup,
    InsightPair,
    InsightRound,
    InsightTeam,
    InsightTeamPair,
    InsightTeamSize,
    MatchGroup,
    Membership,
    Round,
    Team,
    User,
)
from matcher.profile.service import delete_account
from matcher.rounds import insight_counts
from matcher.weeks import week_label
from tests.programme_pairings import new_programme

FIRST_MONDAY = date(2026, 1, 5)  # rounds are stored directly: no clock is involved


def row_key(row: dict) -> str:
    """A sort key for a table row whatever its columns' order (the summary is a dict)."""
    return repr(sorted((k, v) for k, v in row.items() if not isinstance(v, dict)))


def tables(session) -> tuple[list, ...]:
    """The six tables' rows, sorted, in recount_tables' shape."""
    rounds = [
        {c: getattr(r, c) for c in r.__table__.columns.keys()}
        for r in session.scalars(select(InsightRound))
    ]
    pairs = [
        {c: getattr(r, c) for c in r.__table__.columns.keys()}
        for r in session.scalars(select(InsightPair))
    ]
    teams = [
        {c: getattr(r, c) for c in r.__table__.columns.keys()}
        for r in session.scalars(select(InsightTeamPair))
    ]
    reach = [
        {c: getattr(r, c) for c in r.__table__.columns.keys()}
        for r in session.scalars(select(InsightTeam))
    ]
    groups = [
        {c: getattr(r, c) for c in r.__table__.columns.keys()}
        for r in session.scalars(select(InsightGroup))
    ]
    sizes = [  # a team whose people all left keeps a size of zero (the recount has none)
        {c: getattr(r, c) for c in r.__table__.columns.keys()}
        for r in session.scalars(select(InsightTeamSize).where(InsightTeamSize.people != 0))
    ]
    return tuple(sorted(rows, key=row_key) for rows in (rounds, pairs, teams, reach, groups, sizes))


def recounted(session) -> tuple[list, ...]:
    """What a rebuild would store, sorted like `tables`."""
    return tuple(sorted(rows, key=row_key) for rows in insight_counts.recount_tables(session))


def assert_same_as_recount(session, programme_ids: list[int]) -> None:
    """Tables equal their recount, and the page's figures equal today's from-scratch compute."""
    session.expire_all()
    assert tables(session) == recounted(session)
    for scope in (None, *programme_ids):
        read, counted = metrics.compute(session, scope), metrics.recount(session, scope)
        assert [r.average_rating for r in read.rounds] == pytest.approx(
            [r.average_rating for r in counted.rounds]
        )
        strip = [r.__class__(**{**r.__dict__, "average_rating": None}) for r in read.rounds]
        strip_counted = [
            r.__class__(**{**r.__dict__, "average_rating": None}) for r in counted.rounds
        ]
        assert strip == strip_counted
        assert read.__class__(**{**read.__dict__, "rounds": ()}) == counted.__class__(
            **{**counted.__dict__, "rounds": ()}
        )


def add_round(session, rng: random.Random, programme, monday: date, people: list[int]) -> Round:
    """A round of random groups (pairs, trios; in mentoring a mentor with several mentees),
    stored as a draft or straight as published (as fixtures and imports do)."""
    draft = rng.random() < 0.5
    round_ = Round(
        programme_id=programme.id,
        week=week_label(monday),
        starts_on=monday,
        status="draft" if draft else "published",
        rules={},
    )
    session.add(round_)
    chosen = rng.sample(people, rng.randint(4, len(people)))
    groups: list[list[int]] = []
    if programme.kind == "mentoring":
        mentor, mentees = chosen[0], chosen[1:]
        groups = [[mentor, m] for m in mentees[:3]] + [
            mentees[k : k + 2] for k in range(3, len(mentees) - 1, 2)
        ]
    else:
        while len(chosen) >= 2:
            size = 3 if len(chosen) == 3 or (len(chosen) > 4 and rng.random() < 0.3) else 2
            groups.append(chosen[:size])
            chosen = chosen[size:]
    round_.participant_count = sum(len(g) for g in groups)
    for members in groups:
        group = MatchGroup(round=round_, reasons=[])
        session.add(group)
        for user_id in members:
            group.memberships.append(Membership(round=round_, user_id=user_id))
    session.flush()
    if draft:
        round_.status = "published"  # as publish_round does
        session.flush()
    return round_


def answer(session, rng: random.Random) -> None:
    """Someone answers, or changes their answer, in a published round."""
    membership = session.scalars(
        select(Membership)
        .join(Round, Round.id == Membership.round_id)
        .where(Round.status == "published")
        .order_by(Membership.id)
    ).all()
    if not membership:
        return
    chosen = rng.choice(membership)
    feedback = session.scalar(select(Feedback).where(Feedback.membership_id == chosen.id))
    if feedback is None:
        feedback = Feedback(
            membership_id=chosen.id, group_id=chosen.group_id, user_id=chosen.user_id
        )
        session.add(feedback)
    feedback.status = rng.choice(["met", "met", "not_yet", "will_not_meet"])
    feedback.rating = rng.randint(1, 5) if feedback.status == "met" else None
    session.flush()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_maintained_aggregates_equal_a_recount_over_random_histories(app, make_user, seed):
    rng = random.Random(seed)
    ids = [
        make_user(email=f"p{k}@example.com", name=f"P{k}", team=f"Team {k % 4}") for k in range(12)
    ]
    with app.app_context():
        session = db.session
        from tests.support import coffee

        programmes = [
            coffee(session),
            new_programme(session, "Buddies", "buddies", kind="buddies"),
            new_programme(session, "Mentoring", "mentoring", kind="mentoring"),
        ]
        session.commit()
        programme_ids = [p.id for p in programmes]
        weeks = {p.id: list(range(8)) for p in programmes}
        for p in weeks.values():
            rng.shuffle(p)  # rounds published out of week order too
        live = list(ids)
        for step in range(40):
            roll = rng.random()
            programme = rng.choice(programmes)
            if roll < 0.3 and weeks[programme.id]:
                monday = FIRST_MONDAY + timedelta(weeks=weeks[programme.id].pop())
                add_round(session, rng, programme, monday, live)
            elif roll < 0.7:
                answer(session, rng)
            elif roll < 0.78 and len(live) > 6:
                gone = live.pop(rng.randrange(len(live)))
                delete_account(session, session.get(User, gone))
            elif roll < 0.88:
                user = session.get(User, rng.choice(live))
                user.team = Team.get_or_create(session, f"Team {rng.randint(0, 5)}")
            elif roll < 0.93:
                teams = session.scalars(select(Team).order_by(Team.id)).all()
                if len(teams) > 2:
                    source, target = rng.sample(teams, 2)
                    merging.merge(session, Team, source.id, target.id)
            else:
                round_ = session.scalar(
                    select(Round).where(Round.status == "published").order_by(Round.id)
                )
                if round_ is not None:
                    round_.status = "closed"
            session.commit()
            if step % 8 == 7:
                assert_same_as_recount(session, programme_ids)
        assert_same_as_recount(session, programme_ids)
        # The history was not trivial: pairs met and someone moved.
        assert session.scalar(select(InsightPair).where(InsightPair.first_met.is_not(None)))


def test_two_partners_moving_team_in_one_flush_and_a_rebuild(app, make_user):
    a = make_user(email="a@example.com", name="A", team="Red")
    b = make_user(email="b@example.com", name="B", team="Blue")
    with app.app_context():
        from tests.support import coffee, published_round

        session = db.session
        group = published_round(session, FIRST_MONDAY, (a, b))[0]
        membership = session.scalar(select(Membership).where(Membership.user_id == a))
        session.add(
            Feedback(membership_id=membership.id, group_id=group.id, user_id=a, status="met")
        )
        session.commit()
        session.get(User, a).team = Team.get_or_create(session, "Green")
        session.get(User, b).team = Team.get_or_create(session, "Gold")
        session.commit()
        assert_same_as_recount(session, [coffee(session).id])
        insight = metrics.compute(session, None)
        assert insight.people_pairs_met == 1 and insight.team_pairs_met == 1
        # Drift (a bulk change behind the events' back) is repaired by a rebuild.
        session.execute(InsightTeam.__table__.delete())
        assert tables(session) != recounted(session)
        insight_counts.rebuild(session)
        assert tables(session) == recounted(session)


def test_insights_read_a_fixed_number_of_statements_whatever_the_history(app, make_user):
    people = [make_user(email=f"q{k}@example.com", name=f"Q{k}", team=f"T{k}") for k in range(6)]

    def statements() -> int:
        count = 0

        def seen(*_args: object) -> None:
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            metrics.compute(db.session, None)
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        return count

    with app.app_context():
        from tests.support import published_round

        published_round(db.session, FIRST_MONDAY, people[:2], people[2:4])
        db.session.commit()
        one = statements()
        for week in range(1, 6):
            published_round(
                db.session, FIRST_MONDAY + timedelta(weeks=week), people[week % 2 :: 2][:2]
            )
        db.session.commit()
        # Rounds shown, totals, the teams' totals, the least connected teams, the largest
        # teams, the heatmap's team pairs.
        assert statements() == one == 6


def stored_and_full(session, round_id: int, per_page: int = 3) -> tuple:
    """The published round page's summary and first page read both ways."""
    from matcher.admin import summaries

    round_ = session.get(Round, round_id)
    stored, page = summaries.stored_round(session, round_, 1, per_page)
    full = summaries.summarise_round(session, summaries.load_round(session, round_id))
    full_page = summaries.page_of_groups(full.groups, "", 1, per_page)
    fields = ("participants", "pairs", "cross_team_share", "common_share", "repeats",
              "excluded", "total_score", "unmatched", "group_count")  # fmt: skip
    return (
        {f: getattr(stored, f) for f in fields},
        {f: getattr(full, f) for f in fields},
        (page.rows, page.pages, page.total),
        (full_page.rows, full_page.pages, full_page.total),
        (stored.score_upper, stored.bins) == (full.score_upper, full.score_bins(full.score_upper)),
    )


def test_a_published_round_page_reads_its_stored_summary_as_the_full_one_shows(
    app, client, org, admin
):
    from tests.admin.support import save_draft

    round_id = save_draft(client)
    client.post(f"/admin/rounds/{round_id}/publish")
    with app.app_context():
        session = db.session
        assert session.get(Round, round_id).status == "published"
        stored, full, page, full_page, same_scores = stored_and_full(session, round_id)
        assert stored == full and page == full_page and same_scores
        assert stored["participants"] > 0 and stored["pairs"] > 0
        # People change team and leave; the erasure job anonymises the stored problem.
        members = session.scalars(
            select(Membership.user_id).where(Membership.round_id == round_id)
        ).all()
        session.get(User, members[0]).team = session.get(User, members[1]).team
        delete_account(session, session.get(User, members[2]))
        session.commit()
        from matcher.rounds.erasure import erase_next_snapshot

        while erase_next_snapshot(session) is not None:
            session.commit()
        session.commit()
        stored, full, page, full_page, _ = stored_and_full(session, round_id)
        assert stored == full and page == full_page
        assert tables(session) == recounted(session)
    body = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    assert f"Groups ({stored['group_count']})" in body and "Deleted user" in body


def test_a_published_round_page_costs_the_same_statements_whatever_its_size(
    app, client, make_user, admin
):
    people = [
        make_user(email=f"r{k}@example.com", name=f"R{k}", team=f"T{k % 3}") for k in range(8)
    ]

    def statements(round_id: int) -> int:
        count = 0

        def seen(*_args: object) -> None:
            nonlocal count
            count += 1

        app.extensions["page_cache"].clear()  # what rendering the page costs
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", seen)
        try:
            assert client.get(f"/admin/rounds/{round_id}").status_code == 200
        finally:
            with app.app_context():
                event.remove(db.engine, "before_cursor_execute", seen)
        return count

    with app.app_context():
        from tests.support import published_round

        small = published_round(db.session, FIRST_MONDAY, people[:2])[0].round_id
        big = published_round(
            db.session, FIRST_MONDAY + timedelta(weeks=1),
            *[people[k : k + 2] for k in range(0, 8, 2)],
        )[0].round_id  # fmt: skip
        db.session.commit()
    assert statements(small) == statements(big) == statements(small)


def test_team_lists_cut_in_the_database_equal_a_recount_with_many_teams(app):
    """More teams than the page names, ranks or maps, with ties in every count and names
    whose case-folded order is not the ASCII one: the database's cut equals the recount's."""
    from tests.support import coffee, published_round

    rng = random.Random(11)
    stems = ["émile", "Zed", "ábc", "Æbc", "emma", "Ökonomie", "ZZ top", "alpha", "Beta"]
    with app.app_context():
        session = db.session
        teams = [
            Team.get_or_create(session, f"{stems[k % len(stems)]} {k // len(stems)}")
            for k in range(60)
        ]
        people = []
        for k in range(90):
            user = User(
                email=f"t{k}@example.com", display_name=f"T{k}", password_hash="!",
                team=teams[rng.randrange(len(teams)) if k >= 60 else k],
            )  # fmt: skip
            session.add(user)
            people.append(user)
        session.flush()
        ids = [u.id for u in people]
        for week in range(2):
            chosen = rng.sample(ids, 12)
            groups = published_round(
                session, FIRST_MONDAY + timedelta(weeks=week),
                *[chosen[k : k + 2] for k in range(0, 12, 2)],
            )  # fmt: skip
            for group in groups[:3]:
                membership = group.memberships[0]
                session.add(
                    Feedback(
                        membership_id=membership.id, group_id=group.id,
                        user_id=membership.user_id, status="met",
                    )
                )  # fmt: skip
        session.delete(people[61])
        session.commit()
        assert_same_as_recount(session, [coffee(session).id])
        read = metrics.compute(session, None)
        assert read.team_count == 60 and len(read.teams) == metrics.HEATMAP_TEAMS
        assert read.unconnected_count > len(read.unconnected) == metrics.TEAMS_NAMED
        assert len(read.least_connected) == metrics.LEAST_CONNECTED_SHOWN
        assert 0 < read.team_pairs_met < read.team_pairs_matched


def test_a_roster_import_counts_its_people_in_their_teams(app, make_user):
    """A roster file's new people are inserted in bulk (no flush event sees them): they
    count in their teams' sizes all the same, and so do people it moves."""
    from matcher.roster.service import PersonRecord, upsert_people
    from tests.support import coffee

    make_user(email="old@example.com", name="Old", team="Search")
    records = [
        PersonRecord(email="old@example.com", name="Old", team="Payments"),
        *(
            PersonRecord(email=f"n{k}@example.com", name=f"N{k}", team=("Search", "Ads")[k % 2])
            for k in range(5)
        ),
        PersonRecord(email="loner@example.com", name="Loner"),
    ]
    with app.app_context():
        session = db.session
        result = upsert_people(session, records, today=FIRST_MONDAY, overwrite=True)
        assert not result.errors
        session.commit()
        assert_same_as_recount(session, [coffee(session).id])
        sizes = dict(
            session.execute(
                select(Team.name, InsightTeamSize.people).join(
                    InsightTeamSize, InsightTeamSize.team_id == Team.id
                )
            ).all()
        )
        assert sizes == {"Search": 3, "Ads": 2, "Payments": 1}


def while_another_transaction_waits(engine, first, second) -> list[BaseException]:
    """Run first(session) and flush it in a thread that holds its transaction open, then
    second(session) to its commit, then let the first commit; the errors either raised."""
    import threading

    from sqlalchemy.orm import Session

    errors: list[BaseException] = []

    def run(work, holding: threading.Event | None = None) -> None:
        try:
            with Session(engine) as session:
                work(session)
                session.flush()
                if holding is not None:
                    holding.set()
                    time.sleep(0.5)  # the second transaction now runs into this one
                session.commit()
        except BaseException as error:  # noqa: BLE001 - the caller asserts there are none
            errors.append(error)

    holding = threading.Event()
    holder = threading.Thread(target=run, args=(first, holding))
    holder.start()
    assert holding.wait(10)
    run(second)
    holder.join(10)
    return errors


def test_two_people_joining_one_team_at_the_same_moment_both_count(app, make_user):
    """Two transactions add to one team's size before either commits: the second waits for
    the first and adds to its row (an insert racing an insert once failed a sign-up)."""
    make_user(email="first@example.com", name="First", team="Search")
    with app.app_context():
        team_id = db.session.scalar(select(Team.id).where(Team.name == "Search"))
        db.session.remove()
        engine = db.engine
    # Emptied, so the first joiner inserts the row and the second meets it uncommitted.
    with engine.begin() as conn:
        conn.execute(InsightTeamSize.__table__.delete())

    def joiner(email: str):
        return lambda session: session.add(
            User(email=email, display_name=email, password_hash="!", team_id=team_id)
        )

    assert while_another_transaction_waits(engine, joiner("a@x.com"), joiner("b@x.com")) == []
    with engine.connect() as conn:
        people = conn.scalar(
            select(InsightTeamSize.people).where(InsightTeamSize.team_id == team_id)
        )
    assert people == 2


def test_both_partners_answering_we_met_at_the_same_moment_count_once(app, make_user):
    """Both answers' upkeep reads the pair's first meeting and writes it back: the second
    waits for the first, so the pair is a new meeting once and the counts equal a recount."""
    from tests.support import coffee, published_round

    a = make_user(email="a@example.com", name="A", team="Red")
    b = make_user(email="b@example.com", name="B", team="Blue")
    with app.app_context():
        group = published_round(db.session, FIRST_MONDAY, (a, b))[0]
        db.session.commit()
        mine = {m.user_id: (m.id, m.group_id) for m in group.memberships}
        db.session.remove()
        engine = db.engine

    def met(user_id: int):
        membership_id, group_id = mine[user_id]
        return lambda session: session.add(
            Feedback(membership_id=membership_id, group_id=group_id, user_id=user_id,
                     status="met", rating=5)
        )  # fmt: skip

    assert while_another_transaction_waits(engine, met(a), met(b)) == []
    with app.app_context():
        session = db.session
        assert_same_as_recount(session, [coffee(session).id])
        assert session.scalar(select(InsightRound.new_met)) == 1


# SQLite takes its one writer's lock at the first write, after this read: the lock is
# PostgreSQL's (the server for more than one process at a time).
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_transactions_moving_one_person_count_from_the_team_they_left(app, make_user):
    """The second move loaded the person in their first team, but the first move committed
    meanwhile: the upkeep reads the team they are leaving under the lock, so no count drifts."""
    from tests.support import coffee, published_round

    a = make_user(email="a@example.com", name="A", team="Red")
    b = make_user(email="b@example.com", name="B", team="Blue")
    with app.app_context():
        published_round(db.session, FIRST_MONDAY, (a, b))
        made = [Team.get_or_create(db.session, n) for n in ("Green", "Gold")]
        db.session.commit()
        teams = {t.name: t.id for t in made}
        db.session.remove()
        engine = db.engine

    def move(team: str):
        return lambda session: setattr(session.get(User, a), "team_id", teams[team])

    assert while_another_transaction_waits(engine, move("Green"), move("Gold")) == []
    with app.app_context():
        session = db.session
        assert session.get(User, a).team.name == "Gold"
        assert_same_as_recount(session, [coffee(session).id])
