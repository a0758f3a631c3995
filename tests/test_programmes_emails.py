"""Messages name their programme: the pairing email (with roles and how long a pairing lasts),
its calendar entry, the feedback reminder, the nudge and the pause notice."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest
from icalendar import Calendar

from matcher.extensions import db
from matcher.models import Membership, OutboxMessage
from matcher.notify.render import render
from matcher.weeks import day_month
from tests.notify.support import body_text, calendar_part
from tests.programme_pairings import (
    add_member,
    meeting_this_week,
    new_programme,
    publish,
    this_monday,
)
from tests.support import coffee


@pytest.fixture
def pairings(app, make_user) -> dict[str, int]:
    """This week: Ada mentored by Cy in Mentoring (12 weeks), Ada and Bob in the coffee."""
    ids = {
        "ada": make_user(email="ada@example.com", name="Ada Lovelace", timezone="UTC"),
        "bob": make_user(email="bob@example.com", name="Bob Builder", team="Growth"),
        "cy": make_user(email="cy@example.com", name="Cy Young", team="Search", timezone="UTC"),
    }
    with app.app_context():
        session = db.session
        mentoring = new_programme(
            session, "Mentoring", "mentoring", kind="mentoring", pairing_weeks=12
        )
        add_member(session, mentoring, ids["cy"], "mentor")
        add_member(session, mentoring, ids["ada"], "mentee")
        (mentor_group,) = publish(
            session,
            mentoring,
            this_monday(),
            (ids["cy"], ids["ada"]),
            meeting_at=meeting_this_week(),
        )
        (coffee_group,) = publish(
            session,
            coffee(session),
            this_monday(),
            (ids["ada"], ids["bob"]),
            meeting_at=meeting_this_week(),
        )
        session.commit()
        ids |= {
            "mentoring": mentoring.id,
            "coffee": coffee(session).id,
            "mentor_group": mentor_group.id,
            "coffee_group": coffee_group.id,
        }
    return ids


def rendered(app, kind: str, user_id: int, **payload):
    """The message of that kind to that user, as the sender renders it."""
    message = OutboxMessage(
        id=1, kind=kind, dedupe_key=kind, payload={"user_id": user_id, **payload}, user_id=user_id
    )
    with app.test_request_context():
        made = render(db.session, message, app.config)
    # Read back as a mail client would (EmailMessage: get_body and friends).
    return email.message_from_bytes(made.as_bytes(), policy=email.policy.default)


def test_the_pairing_email_names_the_programme_the_roles_and_the_term(app, pairings):
    mail = rendered(app, "pairing", pairings["ada"], group_id=pairings["mentor_group"])
    week = f"the week of {day_month(this_monday())}"
    assert mail["Subject"] == f"Mentoring: your pairing for {week} with Cy Young"
    last_day = this_monday() + timedelta(weeks=12, days=-1)
    until = day_month(last_day, year=last_day.year != this_monday().year)
    for subtype in ("plain", "html"):
        text = " ".join(body_text(mail, subtype).split())
        assert "Mentoring" in text
        assert "Cy Young is your mentor; you are the mentee." in text
        assert f"12 weeks, until {until}" in text.replace("</strong>", "").replace("<strong>", "")
        assert "having coffee" not in text
    plain = body_text(mail, "plain")
    assert "Mentoring: for " + week + " you are paired with:" in plain
    # A mentee is in no round while the term lasts: no skip link to offer.
    assert "/skip/" not in plain
    assert "* Cy Young <cy@example.com>, your mentor, Search" in plain

    to_cy = body_text(
        rendered(app, "pairing", pairings["cy"], group_id=pairings["mentor_group"]), "plain"
    )
    assert "Ada Lovelace is your mentee; you are the mentor." in " ".join(to_cy.split())


def test_a_coffee_pairing_email_has_no_roles_nor_term(app, pairings):
    mail = rendered(app, "pairing", pairings["ada"], group_id=pairings["coffee_group"])
    plain = body_text(mail, "plain")
    assert mail["Subject"].startswith("Cross-team coffee: your pairing for")
    assert "Cross-team coffee: for the week of" in plain and "having coffee with" in plain
    assert "your mentor" not in plain and "weeks, until" not in plain
    assert "Skip your next Cross-team coffee round" in plain and "/skip/" in plain


def test_the_calendar_entry_names_the_programme_and_the_term(app, pairings):
    mail = rendered(app, "pairing", pairings["ada"], group_id=pairings["mentor_group"])
    event = Calendar.from_ical(calendar_part(mail).get_payload(decode=True)).walk("VEVENT")[0]
    assert str(event["summary"]) == "Mentoring: meeting with Cy Young"
    assert "Your pairing lasts 12 weeks" in str(event["description"])


def test_the_feedback_reminder_names_the_programme(app, pairings):
    with app.app_context():
        membership_id = db.session.scalar(
            db.select(Membership.id).where(
                Membership.group_id == pairings["mentor_group"],
                Membership.user_id == pairings["ada"],
            )
        )
    mail = rendered(app, "feedback_reminder", pairings["ada"], membership_id=membership_id)
    assert mail["Subject"].startswith("Mentoring: did you meet Cy Young in the week of")
    text = " ".join(body_text(mail, "plain").split())
    assert "How did your pairing with Cy Young" in text and "go? (Mentoring)" in text


@pytest.mark.parametrize("kind", ["nudge", "paused"])
def test_nudges_and_pauses_name_the_programme_and_say_only_it_pauses(app, pairings, kind):
    mail = rendered(app, kind, pairings["ada"], streak=3, programme_id=pairings["mentoring"])
    plain = " ".join(body_text(mail, "plain").split())
    assert mail["Subject"].startswith("Mentoring: ")
    assert "in Mentoring" in plain and "your other programmes go on as they are" in plain.lower()
    assert "Cross-team coffee" not in plain


def test_a_nudge_queued_before_programmes_is_about_the_coffee(app, pairings):
    mail = rendered(app, "paused", pairings["ada"], streak=3)
    assert mail["Subject"] == "Cross-team coffee: your pairings are paused"
