"""The dashboard with several programmes: a card per programme, skip per programme, mentors
with several mentees, and a number of queries that does not grow with them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from matcher.extensions import db
from matcher.models import ProgrammeMember
from matcher.programmes.members import leave, membership
from matcher.weeks import day_month
from tests.programme_pairings import (
    add_member,
    meeting_this_week,
    new_programme,
    publish,
    this_monday,
)
from tests.support import coffee, login


def card(page: str, slug: str) -> str:
    """The HTML of one programme's card."""
    found = re.search(
        rf'<section class="card programme-card" id="programme-{slug}".*?</section>', page, re.S
    )
    assert found, f"no card for {slug}"
    return found.group(0)


@pytest.fixture
def people(make_user) -> dict[str, int]:
    """Ada, Bob, Cy and Dan in four teams (all in the cross-team coffee on sign-up)."""
    return {
        "ada": make_user(
            email="ada@example.com", name="Ada Lovelace", team="Payments", timezone="UTC"
        ),
        "bob": make_user(
            email="bob@example.com", name="Bob Builder", team="Growth", timezone="UTC"
        ),
        "cy": make_user(email="cy@example.com", name="Cy Young", team="Search", timezone="UTC"),
        "dan": make_user(email="dan@example.com", name="Dan Brown", team="Infra", timezone="UTC"),
    }


@pytest.fixture
def two_programmes(app, people) -> dict[str, int]:
    """This week, Ada meets Bob in the coffee and has Cy as her mentor in Mentoring, where Cy
    also mentors Dan (both published)."""
    with app.app_context():
        session = db.session
        mentoring = new_programme(
            session, "Mentoring", "mentoring", kind="mentoring", pairing_weeks=12, mentor_capacity=2
        )
        add_member(session, mentoring, people["cy"], "mentor")
        add_member(session, mentoring, people["ada"], "mentee")
        add_member(session, mentoring, people["dan"], "mentee")
        publish(
            session,
            coffee(session),
            this_monday(),
            (people["ada"], people["bob"]),
            (people["cy"], people["dan"]),
            meeting_at=meeting_this_week(),
        )
        publish(
            session,
            mentoring,
            this_monday(),
            (people["cy"], people["ada"]),
            (people["cy"], people["dan"]),
            meeting_at=meeting_this_week(),
        )
        session.commit()
    return people


def test_a_person_in_two_programmes_sees_a_card_for_each_with_its_partner(client, two_programmes):
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    coffee_card, mentoring_card = card(page, "coffee"), card(page, "mentoring")
    assert page.index(coffee_card) < page.index(mentoring_card)  # programme order
    assert "Bob Builder" in coffee_card and "Cy Young" not in coffee_card
    assert 'Cy Young</strong><span class="partner-role">, your mentor</span>' in mentoring_card
    assert "Bob Builder" not in mentoring_card and "Dan Brown" not in mentoring_card
    assert "You take part as a mentee" in mentoring_card
    # The mentoring pairing lasts its term (12 weeks), not one week.
    last_day = this_monday() + timedelta(weeks=12, days=-1)
    until = day_month(last_day, year=last_day.year != this_monday().year)
    assert f"Your mentor until {until}</h3>" in mentoring_card
    for one in (coffee_card, mentoring_card):
        assert ".ics" in one and "Tell us how it went" in one
    # A weekly coffee can be skipped; a mentee is in no round while the term lasts.
    assert "Skip this round" in coffee_card and 'value="coffee"' in coffee_card
    assert "Skip this round" not in mentoring_card
    assert "No new pairing while this one lasts" in mentoring_card


def test_a_mentor_with_two_mentees_sees_both(client, two_programmes):
    login(client, "cy@example.com")
    mentoring_card = card(client.get("/dashboard/").get_data(as_text=True), "mentoring")
    assert 'Ada Lovelace</strong><span class="partner-role">, your mentee</span>' in mentoring_card
    assert 'Dan Brown</strong><span class="partner-role">, your mentee</span>' in mentoring_card
    assert mentoring_card.count("Add to my calendar") == 2


def test_a_multi_week_pairing_stays_current_weeks_later(app, client, two_programmes):
    with app.app_context():
        from matcher.models import Round

        for round_ in db.session.scalars(db.select(Round)):
            round_.starts_on -= timedelta(weeks=3)
            round_.week = (
                f"{round_.starts_on.isocalendar()[0]}-W{round_.starts_on.isocalendar()[1]:02d}"
            )
        db.session.commit()
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    # Three weeks on, the coffee is past but the mentor is still Ada's.
    assert "Cy Young" in card(page, "mentoring")
    assert "No pairing yet" in card(page, "coffee")
    past = page.split("Past coffees")[1]
    assert "Mentoring" not in past and "Cross-team coffee" in past and "Bob Builder" in past


def test_skip_on_the_second_programme_snoozes_only_that_membership(app, client, two_programmes):
    with app.app_context():
        lunch = new_programme(db.session, "Lunch roulette", "lunch")
        add_member(db.session, lunch, two_programmes["ada"])
        db.session.commit()
    login(client, "ada@example.com")
    assert 'value="lunch"' in card(client.get("/dashboard/").get_data(as_text=True), "lunch")
    response = client.post("/dashboard/skip", data={"programme": "lunch"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "You will skip your next round" in page and "in Lunch roulette" in page
    with app.app_context():
        ada = two_programmes["ada"]
        snoozed = {
            m.programme.slug: m.snoozed_until
            for m in db.session.scalars(db.select(ProgrammeMember).filter_by(user_id=ada))
        }
    assert snoozed["lunch"] is not None
    assert snoozed["coffee"] is None and snoozed["mentoring"] is None
    assert "You are skipping it" in card(page, "lunch")
    assert "You are skipping it" not in card(page, "coffee")


def test_skip_of_a_programme_one_is_not_in_changes_nothing(app, client, two_programmes):
    login(client, "bob@example.com")
    response = client.post(
        "/dashboard/skip", data={"programme": "mentoring"}, follow_redirects=True
    )
    assert "You are not taking part in Mentoring" in response.get_data(as_text=True)
    response = client.post("/dashboard/skip", data={"programme": "nope"}, follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        assert all(m.snoozed_until is None for m in db.session.scalars(db.select(ProgrammeMember)))


def test_a_left_programme_has_no_card_and_no_programme_points_to_joining(app, client, people):
    with app.app_context():
        leave(membership(db.session, coffee(db.session), people["ada"]))
        db.session.commit()
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "programme-card" not in page
    assert "Join a programme" in page and 'href="/me/"' in page


def count_queries(app, client) -> int:
    """SQL statements run by one dashboard request."""
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/dashboard/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_the_dashboards_queries_do_not_grow_with_programmes_and_pairings(
    app, client, people, make_user
):
    ada, bob, cy, dan = people["ada"], people["bob"], people["cy"], people["dan"]
    login(client, "ada@example.com")
    with app.app_context():
        session = db.session
        mentoring = new_programme(
            session, "Mentoring", "mentoring", kind="mentoring", pairing_weeks=12
        )
        add_member(session, mentoring, cy, "mentor")
        add_member(session, mentoring, ada, "mentee")
        publish(session, coffee(session), this_monday(), (ada, bob))
        publish(session, mentoring, this_monday(), (cy, ada))
        session.commit()
    client.get("/dashboard/")  # first request's one-off work aside
    few = count_queries(app, client)

    with app.app_context():
        session = db.session
        extra = [
            make_user(
                email=f"p{i}@example.com", name=f"Person {i}", team=f"Team {i}", timezone="UTC"
            )
            for i in range(4)
        ]
        lunch = new_programme(session, "Lunch roulette", "lunch")
        buddies = new_programme(session, "Buddies", "buddies", kind="buddies", pairing_weeks=8)
        add_member(session, lunch, ada)
        add_member(session, buddies, ada, "newcomer")
        for user_id in (bob, dan, *extra):
            add_member(session, lunch, user_id)
        add_member(session, buddies, dan, "buddy")
        # Past coffees and lunches, this week's lunch in a group of three, a buddy, and an
        # upcoming coffee published early.
        for weeks in range(1, 6):
            publish(
                session,
                coffee(session),
                this_monday() - timedelta(weeks=weeks),
                (ada, extra[weeks % 4]),
            )
            publish(
                session,
                lunch,
                this_monday() - timedelta(weeks=weeks),
                (ada, extra[(weeks + 1) % 4], bob),
            )
        publish(session, lunch, this_monday(), (ada, dan, extra[0]))
        publish(session, buddies, this_monday() - timedelta(weeks=2), (ada, dan))
        publish(
            session,
            coffee(session),
            this_monday() + timedelta(weeks=1),
            (ada, extra[1]),
            meeting_at=meeting_this_week() + timedelta(weeks=1),
        )
        session.commit()
    client.get("/dashboard/")
    many = count_queries(app, client)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert page.count('class="card programme-card"') == 4  # the setup really grew
    assert "Person 0" in card(page, "lunch") and "Dan Brown" in card(page, "buddies")
    assert many == few, f"{few} queries with 2 programmes, {many} with 4"
    assert few <= 20
