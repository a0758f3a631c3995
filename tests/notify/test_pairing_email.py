"""The pairing email as received by a real SMTP server: content, time zones, invitation."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar

from matcher.extensions import db
from matcher.models import User
from tests.notify.conftest import REASONS, outbox_rows, queue_round, send
from tests.notify.support import body_text, calendar_part, smtp_server


def by_recipient(messages) -> dict[str, object]:
    return {m["To"].addresses[0].addr_spec: m for m in messages}


def test_berlin_and_new_york_get_their_own_local_time(app, make_user, make_round):
    ada = make_user(
        email="ada@example.com", timezone="Europe/Berlin", location="Berlin", team="Payments"
    )
    bob = make_user(
        email="bob@example.com",
        name="Bob Builder",
        team="Search",
        timezone="America/New_York",
        projects=("Indexer",),
        interests=("Sailing",),
    )
    round_id, (group_id,) = make_round([[ada, bob]])
    queue_round(app, round_id)
    with smtp_server() as smtp:
        report = send(app, **smtp.config)
        messages = by_recipient(smtp.messages)
    assert (report.sent, report.retried, report.gave_up) == (2, 0, 0)
    assert set(messages) == {"ada@example.com", "bob@example.com"}

    to_ada, to_bob = messages["ada@example.com"], messages["bob@example.com"]
    assert to_ada["Subject"] == "Your coffee pairing for the week of 30 November: Bob Builder"
    assert to_bob["Subject"] == "Your coffee pairing for the week of 30 November: Ada Lovelace"
    rows = {r["user_id"]: r for r in outbox_rows(app)}
    assert to_ada["Message-ID"] == f"<outbox-{rows[ada]['id']}@localhost>"
    assert all(r["sent_at"] is not None and r["claim_token"] is None for r in rows.values())

    # 2026-12-01 14:00 UTC is 15:00 in Berlin (CET) and 09:00 in New York (EST).
    for part in ("plain", "html"):
        ada_text, bob_text = body_text(to_ada, part), body_text(to_bob, part)
        assert "Bob Builder" in ada_text and "Search" in ada_text
        assert "Indexer" in ada_text and "Sailing" in ada_text
        assert "Ada Lovelace" in bob_text and "Payments" in bob_text and "Berlin" in bob_text
        for reason in REASONS:
            assert reason in ada_text and reason in bob_text
        assert "Tuesday 1 December 2026, 15:00" in ada_text and "Europe/Berlin" in ada_text
        assert "Tuesday 1 December 2026, 09:00" in bob_text and "America/New_York" in bob_text
        assert "http://127.0.0.1:5000/dashboard" in ada_text

    for message, zone, hour in ((to_ada, "Europe/Berlin", 15), (to_bob, "America/New_York", 9)):
        part = calendar_part(message)
        assert part is not None
        assert part.get_param("method") == "REQUEST"
        calendar = Calendar.from_ical(part.get_content())
        assert str(calendar["method"]) == "REQUEST"
        event = calendar.walk("VEVENT")[0]
        assert str(event["uid"]) == f"pairing-2026-W49-{group_id}@matcher"
        start = event.decoded("dtstart")
        assert start.astimezone(UTC) == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
        assert (start.hour, str(start.tzinfo)) == (hour, zone)
        assert (event.decoded("dtend") - start).total_seconds() == 30 * 60
        assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == [zone]
        attendees = sorted(str(a) for a in event["attendee"])
        assert attendees == ["mailto:ada@example.com", "mailto:bob@example.com"]
        assert str(event["organizer"]) == "mailto:matcher@localhost"
        assert str(event["summary"]).startswith("Coffee with ")
        assert REASONS[0] in str(event["description"])


def test_hostile_names_are_escaped_in_html_and_survive_in_the_invitation(
    app, make_user, make_round
):
    evil = '<script>alert("x")</script>, O\'Brien; "Bobby"'
    ada = make_user(email="ada@example.com")
    bob = make_user(email="bob@example.com", name=evil, team="<b>Team</b>")
    reasons = ["You both like <img src=x onerror=alert(1)>"]
    round_id, _ = make_round([[ada, bob]], reasons=reasons)
    with app.app_context():
        # Sign-up collapses white space; set a raw newline directly to test the worst case.
        db.session.get(User, bob).display_name = evil + "\nBcc: victim@example.com"
        db.session.commit()
    queue_round(app, round_id)
    with smtp_server() as smtp:
        assert send(app, **smtp.config).sent == 2
        messages = by_recipient(smtp.messages)
    to_ada, to_bob = messages["ada@example.com"], messages["bob@example.com"]
    html = body_text(to_ada, "html")
    assert "<script>" not in html and "<img" not in html and "<b>Team" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html and "&lt;b&gt;Team" in html
    text = body_text(to_ada, "plain")
    assert evil in text and reasons[0] in text  # plain text is not HTML-escaped
    # The newline did not become a header of its own.
    assert to_bob["Bcc"] is None and "\n" not in str(to_bob["To"])
    assert "<script>" in to_ada["Subject"]
    calendar = Calendar.from_ical(calendar_part(to_ada).get_content())
    names = sorted(str(a.params["CN"]) for a in calendar.walk("VEVENT")[0]["attendee"])
    assert names == sorted(["Ada Lovelace", evil + "\nBcc: victim@example.com"])
    assert evil in str(calendar.walk("VEVENT")[0]["summary"])


def test_no_common_time_means_no_invitation_and_a_plain_note(app, make_user, make_round):
    ada = make_user(email="ada@example.com")
    bob = make_user(email="bob@example.com", name="Bob")
    round_id, _ = make_round([[ada, bob]], meeting_at=None)
    queue_round(app, round_id)
    with smtp_server() as smtp:
        send(app, **smtp.config)
        message = smtp.messages[0]
    assert calendar_part(message) is None
    for part in ("plain", "html"):
        text = body_text(message, part)
        assert "no time when you are all free" in text
        assert "agree a time" in text
        assert "Suggested time" not in text


def test_group_of_three_names_both_partners(app, make_user, make_round):
    ids = [
        make_user(email=f"{n}@example.com", name=n.title(), team=t)
        for n, t in (("ada", "A"), ("bob", "B"), ("cy", "C"))
    ]
    round_id, _ = make_round([ids])
    queue_round(app, round_id)
    with smtp_server() as smtp:
        send(app, **smtp.config)
        messages = by_recipient(smtp.messages)
    assert messages["ada@example.com"]["Subject"].endswith(": Bob, Cy")
    event = Calendar.from_ical(calendar_part(messages["cy@example.com"]).get_content()).walk(
        "VEVENT"
    )[0]
    assert len(event["attendee"]) == 3


def test_deleted_recipient_is_dropped_not_crashed(app, make_user, make_round):
    ada = make_user(email="ada@example.com")
    bob = make_user(email="bob@example.com", name="Bob")
    round_id, _ = make_round([[ada, bob]])
    queue_round(app, round_id)
    with app.app_context():
        db.session.get(User, bob).deleted_at = datetime(2026, 11, 30)
        db.session.commit()
    with smtp_server() as smtp:
        report = send(app, **smtp.config)
        assert smtp.messages == []  # ada's only partner is gone too: nothing to announce
    assert (report.sent, report.gave_up) == (0, 2)
    rows = {r["user_id"]: r for r in outbox_rows(app)}
    assert rows[bob]["last_error"] == "recipient deleted"
    assert rows[ada]["last_error"] == "no partner left in the group"
    assert all(r["gave_up_at"] is not None for r in rows.values())
