"""One way of writing dates for people: no leading zeros, no ISO week codes on member pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from matcher.extensions import db
from matcher.models import Feedback, Membership, OutboxMessage
from matcher.weeks import day_month, day_time, long_day, week_of
from tests.support import login, published_round

ISO_WEEK = re.compile(r"\b\d{4}-W\d{2}\b")
LEADING_ZERO = re.compile(
    r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) 0\d"
    r"|\b0\d (January|February|March|April|May|June|July|August|September|October|November"
    r"|December)\b"
)


def test_the_wording_functions():
    monday = date(2026, 12, 7)
    assert week_of(monday) == "the week of 7 December"
    assert week_of(monday, year=True) == "the week of 7 December 2026"
    assert day_month(monday) == "7 December"
    assert long_day(monday) == "Monday 7 December"
    assert long_day(monday, year=True) == "Monday 7 December 2026"
    assert day_time(datetime(2026, 12, 1, 9, 5)) == "Tuesday 1 December, 09:05"
    assert day_time(datetime(2026, 12, 1, 15, 0), year=True) == "Tuesday 1 December 2026, 15:00"


def early_monday(weeks_back: int) -> date:
    """A Monday at least `weeks_back` weeks ago whose day of the month has one digit."""
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday(), weeks=weeks_back)
    while monday.day >= 10:
        monday -= timedelta(weeks=1)
    return monday


def pair_in(app, monday: date, ada: int, cy: int, kudos: str | None = None) -> int:
    """A published round for that week pairing Ada and Cy, Cy's kudos to Ada; the group id."""
    with app.app_context():
        (group,) = published_round(db.session, monday, (ada, cy))
        if kudos:
            cy_membership = next(m for m in group.memberships if m.user_id == cy)
            db.session.add(
                Feedback(
                    membership_id=cy_membership.id,
                    group_id=group.id,
                    user_id=cy,
                    status="met",
                    kudos=kudos,
                )
            )
        db.session.commit()
        return group.id


def in_words(monday: date) -> str:
    """How a member page names that week: the year only when it is not this year's."""
    text = f"the week of {monday.day} {monday:%B}"
    return text if monday.year == datetime.now(UTC).year else f"{text} {monday.year}"


def assert_for_people(page: str) -> None:
    assert not ISO_WEEK.search(page), ISO_WEEK.search(page)
    assert not LEADING_ZERO.search(page), LEADING_ZERO.search(page)


def test_member_pages_name_weeks_and_days_the_same_way(app, client, make_user):
    ada = make_user(email="ada@example.com", name="Ada")
    cy = make_user(email="cy@example.com", name="Cy", team="Search")
    past = early_monday(weeks_back=3)
    group_id = pair_in(app, past, ada, cy, kudos="Thanks for the chat")
    login(client, "ada@example.com")
    dashboard = client.get("/dashboard/").get_data(as_text=True)
    # Past coffees and kudos: by the week's Monday, as the email and the current pairing do.
    assert f"— Cy, {in_words(past)}" in dashboard
    assert f'<span class="muted">{in_words(past)} · Cross-team coffee</span>' in dashboard
    form = client.get(f"/feedback/pairing/{group_id}").get_data(as_text=True)
    assert f"Your coffee for {week_of(past)} with" in form
    for page in (dashboard, form, client.get("/me/").get_data(as_text=True)):
        assert_for_people(page)


def test_snooze_texts_have_no_leading_zero(app, client, make_user):
    make_user(email="ada@example.com")
    login(client, "ada@example.com")
    until = datetime.now(UTC).date() + timedelta(days=40)
    while until.day >= 10:
        until += timedelta(days=1)
    page = client.post("/me/snooze", data={"until": until.isoformat()}, follow_redirects=True)
    flash = f"Snoozed: no pairings until {until:%A} {until.day} {until:%B %Y}."
    assert flash in page.get_data(as_text=True)
    assert_for_people(page.get_data(as_text=True))


def test_the_reminder_email_names_the_week_like_the_pairing_email(app, make_user):
    from matcher.notify.render import render

    ada = make_user(email="ada@example.com", name="Ada")
    cy = make_user(email="cy@example.com", name="Cy", team="Search")
    monday = early_monday(weeks_back=1)
    pair_in(app, monday, ada, cy)
    with app.app_context():
        membership = db.session.scalar(select(Membership).where(Membership.user_id == ada))
        message = OutboxMessage(
            kind="feedback_reminder",
            dedupe_key="k",
            payload={"membership_id": membership.id, "user_id": ada},
        )
        email = render(db.session, message, app.config)
        assert email["Subject"] == f"Cross-team coffee: did you meet Cy in {week_of(monday)}?"
        parts = [p for p in email.walk() if p.get_content_type() == "text/plain"]
        text = parts[0].get_payload(decode=True).decode()
        assert "How did your " in text and f"coffee with Cy in {week_of(monday)} go?" in text
        assert not ISO_WEEK.search(text + email["Subject"])
