"""The participant's dashboard: current pairing, past pairings, skip, calendar download."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from matcher.extensions import db
from matcher.models import MatchGroup, Membership, Round, User
from matcher.programmes import schedule
from matcher.rounds import cadence, participants, planning, publishing
from matcher.weeks import parse_week, week_label, week_of, week_start
from tests.support import coffee, coffee_member, login, published_round

# The skip button of the cross-team coffee's card.
SKIP_COFFEE = {"programme": "coffee"}


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
        publishing.run_round(db.session, coffee(db.session), this_week(), publish=True)
        db.session.commit()
        group = db.session.scalars(db.select(MatchGroup)).one()
        return {"ada": ada, "cy": cy, "group": group.id}


def test_dashboard_shows_partner_reasons_and_time(app, client, published):
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert f"Your coffee for {week_of(parse_week(this_week()))}" in page
    assert "Cy &lt;b&gt;Young&lt;/b&gt;" in page and "Search" in page
    assert "Checkout" in page and "Why you were matched" in page
    assert "Your next round" in page


def test_dashboard_before_any_round(client, make_user):
    make_user(email="ada@example.com")
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "No pairing yet" in page


def test_draft_rounds_are_not_shown(app, client, make_user):
    make_user(email="ada@example.com", team="Payments")
    make_user(email="cy@example.com", team="Search")
    with app.app_context():
        publishing.run_round(db.session, coffee(db.session), this_week())
        db.session.commit()
        group_id = db.session.scalars(db.select(MatchGroup.id)).one()
    login(client, "ada@example.com")
    assert "No pairing yet" in client.get("/dashboard/").get_data(as_text=True)
    assert client.get(f"/dashboard/pairings/{group_id}.ics").status_code == 404


def test_skip_next_round(app, client, published):
    login(client, "ada@example.com")
    response = client.post("/dashboard/skip", data=SKIP_COFFEE, follow_redirects=True)
    assert "You will skip your next round" in response.get_data(as_text=True)
    with app.app_context():
        until = coffee_member(db.session, published["ada"]).snoozed_until
        assert until is not None and until > date.today() - timedelta(days=1)
        assert until.weekday() == 0  # the Monday of the next round's week
        # The next scheduled round not published yet: this week's is (the fixture), so even
        # on a Monday before its scheduled time the skip is about a later week.
        _, next_week = schedule.next_round(db.session, coffee(db.session), datetime.now(UTC))
        assert next_week != this_week()
        assert until == parse_week(next_week)
        plan = planning.plan_round(db.session, coffee(db.session), week_label(until))
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
    # Ada's own entry: she organises it, nobody is asked to reply; Cy is named in it.
    assert str(event["organizer"]) == "mailto:ada@example.com" and "attendee" not in event
    assert "cy@example.com" in str(event["description"])


def this_monday() -> date:
    return week_start(datetime.now(UTC).date())


def add_round(monday: date, *groups: tuple[int, ...], meeting: datetime | None = None) -> None:
    """A published round for that week with these groups (call inside an app context)."""
    published_round(db.session, monday, *groups, meeting_at=meeting)
    db.session.commit()


def shown(moment: datetime, zone: str = "UTC") -> str:
    """A round start as the dashboard shows it."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M}"  # no leading zero


def next_round_shown(page: str, slug: str = "coffee") -> str:
    """The day and time a programme's card gives for the user's next round."""
    card = page.split(f'id="programme-{slug}"', 1)[1]
    box = card.split('<div class="next-round">', 1)[1].split("</div>", 1)[0]
    return re.search(r'<p>([^<]+?) <span class="muted">', box).group(1)


def participant_ids(monday: date) -> set[int]:
    people, _ = participants.select_participants(db.session, coffee(db.session), monday)
    return {p.id for p in people}


def test_a_fortnightly_persons_next_round_is_the_one_they_are_due_in(app, client, make_user):
    ada = make_user(email="ada@example.com", cadence_weeks=2)
    cy = make_user(email="cy@example.com", name="Cy", team="Search")
    with app.app_context():
        add_round(this_monday(), (ada, cy))
        now = datetime.now(UTC)
        # This week is published: the programme's next round is next week, where Ada is not
        # due (paired a week before); the one after is hers. Same rule as the round itself:
        programme_start, programme_week = schedule.next_round(db.session, coffee(db.session), now)
        hers_start, hers_week = schedule.next_round(db.session, coffee(db.session), programme_start)
        assert ada not in participant_ids(parse_week(programme_week))
        assert cy in participant_ids(parse_week(programme_week))
        assert ada in participant_ids(parse_week(hers_week))
        mine = cadence.next_round_for(
            db.session, coffee_member(db.session, ada), coffee(db.session), now
        )
        assert (mine.week, mine.start, mine.not_due_start) == (
            hers_week,
            hers_start,
            programme_start,
        )
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert next_round_shown(page) == shown(hers_start)
    assert "You meet every 2 weeks" in page
    assert f"{programme_start:%A} {programme_start.day} {programme_start:%B}" in page  # not hers
    # Skipping skips her round, not the programme's next one she was never in.
    response = client.post("/dashboard/skip", data=SKIP_COFFEE, follow_redirects=True)
    skipped = f"({hers_start:%A} {hers_start.day} {hers_start:%B})"
    assert f"You will skip your next round {skipped}" in response.get_data(as_text=True)
    with app.app_context():
        assert coffee_member(db.session, ada).snoozed_until == parse_week(hers_week)
        assert ada not in participant_ids(parse_week(hers_week))
        after = parse_week(hers_week) + timedelta(weeks=1)
        assert ada in participant_ids(after)  # "see you the week after"
    assert "You are skipping it" in client.get("/dashboard/").get_data(as_text=True)
    # A weekly partner's next round is simply the programme's next one.
    cy_client = app.test_client()
    login(cy_client, "cy@example.com")
    cy_page = cy_client.get("/dashboard/").get_data(as_text=True)
    assert next_round_shown(cy_page) == shown(programme_start)
    assert "You meet every" not in cy_page


def test_a_round_published_early_does_not_hide_this_weeks_coffee(app, client, make_user):
    ada = make_user(email="ada@example.com", name="Ada")
    cy = make_user(email="cy@example.com", name="Cy Young", team="Search")
    bob = make_user(email="bob@example.com", name="Bob Builder", team="Growth")
    with app.app_context():
        add_round(this_monday(), (ada, cy))
        add_round(this_monday() + timedelta(weeks=1), (ada, bob), meeting=datetime(2030, 1, 8, 9))
        next_week = week_label(this_monday() + timedelta(weeks=1))
        group_ids = dict(
            db.session.execute(db.select(Round.week, MatchGroup.id).join(MatchGroup.round)).all()
        )
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    current, rest = page.split("<h4>Upcoming</h4>")
    assert f"Your coffee for {week_of(this_monday())}" in current and "Cy Young" in current
    assert "Bob Builder" not in current
    upcoming, past = rest.split("Past coffees")
    assert week_of(parse_week(next_week)) in upcoming
    assert "Bob Builder</strong> (Growth)" in upcoming
    assert "Tuesday 8 January, 09:00" in upcoming  # no leading zero
    assert f"/dashboard/pairings/{group_ids[next_week]}.ics" in upcoming
    assert "/feedback/pairing/" not in upcoming  # nothing to tell before it happened
    assert "None yet." in past and "Cy Young" not in past


def test_last_weeks_coffee_stays_current_next_to_an_early_round(app, client, make_user):
    ada = make_user(email="ada@example.com", name="Ada")
    cy = make_user(email="cy@example.com", name="Cy Young", team="Search")
    bob = make_user(email="bob@example.com", name="Bob Builder", team="Growth")
    last_week = this_monday() - timedelta(weeks=1)
    with app.app_context():
        add_round(last_week, (ada, cy))
        add_round(this_monday() + timedelta(weeks=1), (ada, bob))
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    current, rest = page.split("<h4>Upcoming</h4>")
    assert f"Your coffee for {week_of(last_week)}" in current and "Tell us how it went" in current
    assert "Bob Builder" in rest.split("Past coffees")[0]
    # Once this week has a pairing, last week's is a past coffee.
    with app.app_context():
        add_round(this_monday(), (ada, bob))
    page = client.get("/dashboard/").get_data(as_text=True)
    current, rest = page.split("<h4>Upcoming</h4>")
    assert f"Your coffee for {week_of(this_monday())}" in current
    assert "Cy Young (Search)" in rest.split("Past coffees")[1]


def test_a_round_published_ahead_is_current_when_nothing_is_sooner(app, client, make_user):
    ada = make_user(email="ada@example.com", name="Ada")
    bob = make_user(email="bob@example.com", name="Bob Builder", team="Growth")
    with app.app_context():
        add_round(this_monday() + timedelta(weeks=1), (ada, bob))
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    next_week = week_of(this_monday() + timedelta(weeks=1))
    assert f"Your coffee for {next_week}" in page and "<h4>Upcoming</h4>" not in page
    # Its week has not started: a quiet link instead of the call to action.
    assert "Tell us how it went" not in page and "After your coffee, <a href=" in page


def test_partner_card_has_a_mailto_link(app, client, published):
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert '<a class="contact" href="mailto:cy@example.com">' in page


def test_mailto_link_cannot_add_headers(app, client, make_user):
    ada = make_user(email="ada@example.com")
    odd = make_user(email="x?cc=boss&body=hi@example.com", name="Odd", team="Search")
    with app.app_context():
        add_round(this_monday(), (ada, odd))
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert 'href="mailto:x%3Fcc%3Dboss%26body%3Dhi@example.com"' in page
    assert "x?cc=boss&amp;body=hi@example.com" in page  # shown as text, escaped


def test_no_mailto_link_for_a_deleted_partner(app, client, published):
    from matcher.profile.service import delete_account

    with app.app_context():
        delete_account(db.session, db.session.get(User, published["cy"]))
        db.session.commit()
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "This person has since left matcher." in page
    assert "mailto:" not in page and "deleted.invalid" not in page


def test_skip_with_rounds_late_in_the_week_skips_that_round_and_shows_on_the_profile(
    app, client, make_user
):
    ada = make_user(email="ada@example.com", name="Ada")
    make_user(email="bob@example.com", name="Bob", team="Growth")
    with app.app_context():
        settings = coffee(db.session)
        settings.round_weekday, settings.round_minute = 6, 23 * 60  # Sundays 23:00 UTC
        settings.round_timezone = "UTC"
        db.session.commit()
        start, week = schedule.next_round(db.session, coffee(db.session), datetime.now(UTC))
    login(client, "ada@example.com")
    assert client.post("/dashboard/skip", data=SKIP_COFFEE).status_code == 302
    with app.app_context():
        until = coffee_member(db.session, ada).snoozed_until
        # The Sunday the round runs: never already past, inside that round's week.
        assert until == start.date() and until >= date.today()
        skipped = planning.plan_round(db.session, coffee(db.session), week)
        after = planning.plan_round(
            db.session, coffee(db.session), week_label(parse_week(week) + timedelta(weeks=1))
        )
        assert ada not in {p.id for p in skipped.problem.participants}
        assert ada in {p.id for p in after.problem.participants}
    # The profile shows the snooze, so it can be ended.
    assert "End snooze now" in client.get("/me/").get_data(as_text=True)
