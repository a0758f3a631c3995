"""The participant's dashboard: current pairing, past pairings, skip, calendar download."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from matcher.extensions import db
from matcher.models import MatchGroup, Membership, Profile, Round
from matcher.rounds import service
from matcher.rounds.weeks import week_label
from tests.conftest import login


def this_week() -> str:
    return week_label(datetime.now(UTC).date())


@pytest.fixture
def published(app, make_user):
    """Ada (Payments, Berlin) and Cy (Search, New York) paired in this week's published round."""
    ada = make_user(
        email="ada@example.com",
        name="Ada Lovelace",
        team="Payments",
        projects=("Checkout",),
        interests=("Rust",),
        timezone="Europe/Berlin",
    )
    cy = make_user(
        email="cy@example.com",
        name="Cy <b>Young</b>",
        team="Search",
        projects=("Checkout",),
        interests=("Rust", "Chess"),
        timezone="America/New_York",
    )
    with app.app_context():
        service.run_round(db.session, this_week(), publish=True)
        db.session.commit()
        group = db.session.scalars(db.select(MatchGroup)).one()
        return {"ada": ada, "cy": cy, "group": group.id}


def test_dashboard_shows_partner_reasons_and_time(app, client, published):
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert f"Your coffee for {this_week()}" in page
    assert "Cy &lt;b&gt;Young&lt;/b&gt;" in page and "Search" in page
    assert "Checkout" in page and "Why you were matched" in page
    assert "Next round" in page


def test_dashboard_before_any_round(client, make_user):
    make_user(email="ada@example.com")
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "No pairing yet" in page


def test_draft_rounds_are_not_shown(app, client, make_user):
    make_user(email="ada@example.com", team="Payments")
    make_user(email="cy@example.com", team="Search")
    with app.app_context():
        service.run_round(db.session, this_week())
        db.session.commit()
        group_id = db.session.scalars(db.select(MatchGroup.id)).one()
    login(client, "ada@example.com")
    assert "No pairing yet" in client.get("/dashboard/").get_data(as_text=True)
    assert client.get(f"/dashboard/pairings/{group_id}.ics").status_code == 404


def test_skip_next_round(app, client, published):
    login(client, "ada@example.com")
    response = client.post("/dashboard/skip", follow_redirects=True)
    assert "You will skip the next round" in response.get_data(as_text=True)
    with app.app_context():
        until = db.session.get(Profile, published["ada"]).snoozed_until
        assert until is not None and until > date.today() - timedelta(days=1)
        assert until.weekday() == 0  # the Monday of the next round's week
        next_start = service.next_round_start(
            service.programme_settings(db.session), datetime.now(UTC)
        )
        assert until == next_start.date() - timedelta(days=next_start.weekday())
        plan = service.plan_round(db.session, week_label(until))
        assert published["ada"] not in {p.id for p in plan.problem.participants}
    assert "You are skipping it" in client.get("/dashboard/").get_data(as_text=True)


def test_past_pairings_listed(app, client, published, make_user):
    with app.app_context():
        # Move this week's round into the past: it becomes a past coffee.
        round_ = db.session.scalars(db.select(Round)).one()
        round_.starts_on = round_.starts_on - timedelta(weeks=3)
        round_.week = week_label(round_.starts_on)
        db.session.commit()
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "No pairing yet" in page and "Past coffees" in page
    assert "Cy &lt;b&gt;Young&lt;/b&gt; (Search)" in page


def test_nobody_else_can_download_a_pairings_invitation(app, client, published, make_user):
    make_user(email="eve@example.com", team="Growth")
    login(client, "eve@example.com")
    assert client.get(f"/dashboard/pairings/{published['group']}.ics").status_code == 404
    with app.app_context():
        members = db.session.scalars(db.select(Membership.user_id)).all()
        assert sorted(members) == sorted([published["ada"], published["cy"]])


def test_members_download_the_invitation_in_their_own_zone(app, client, published):
    from icalendar import Calendar

    with app.app_context():
        group = db.session.get(MatchGroup, published["group"])
        if group.meeting_at is None:  # no overlap this week: give the group a time
            group.meeting_at = datetime(2030, 1, 7, 14, 0)
            db.session.commit()
        meeting = group.meeting_at
    login(client, "ada@example.com")
    response = client.get(f"/dashboard/pairings/{published['group']}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    event = Calendar.from_ical(response.data).walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert str(start.tzinfo) == "Europe/Berlin"
    assert start.astimezone(UTC).replace(tzinfo=None) == meeting
    attendees = [str(a) for a in event.get("attendee")]
    assert attendees == ["mailto:ada@example.com", "mailto:cy@example.com"]
