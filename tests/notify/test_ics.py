"""The calendar entry builder on its own: PUBLISH, place, time zones, escaping, VTIMEZONE."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from matcher.notify.ics import build_invitation, pairing_uid

HOSTILE = 'Eve "the, worst"; <script>alert(1)</script>\nDTSTART:19700101T000000Z'


ARGUMENTS: dict[str, object] = {
    "uid": pairing_uid("2026-W49", 7),
    "start_utc": datetime(2026, 12, 1, 14, 0),
    "summary": f"Coffee with {HOSTILE}",
    "description": "Why:\n- You both like Rust; and C",
    "organizer": (HOSTILE, "eve@example.com"),
}


def invitation(zone: str, **changes: object) -> Calendar:
    arguments = {**ARGUMENTS, "timezone": ZoneInfo(zone), **changes}
    return Calendar.from_ical(build_invitation(**arguments))


def test_hostile_text_round_trips_and_injects_no_property():
    calendar = invitation("Asia/Kolkata")
    (event,) = calendar.walk("VEVENT")
    assert str(event["summary"]) == f"Coffee with {HOSTILE}"
    assert str(event["description"]) == "Why:\n- You both like Rust; and C"
    assert str(event["organizer"].params["CN"]) == HOSTILE
    # Still exactly one DTSTART, the real one (India: UTC+5:30).
    assert event.decoded("dtstart") == datetime(
        2026, 12, 1, 19, 30, tzinfo=ZoneInfo("Asia/Kolkata")
    )
    assert str(event["uid"]) == "pairing-2026-W49-7@matcher"


def test_published_for_the_own_calendar_asking_nobody_for_a_reply():
    raw = build_invitation(**{**ARGUMENTS, "timezone": ZoneInfo("UTC")})
    calendar = Calendar.from_ical(raw)
    (event,) = calendar.walk("VEVENT")
    # RFC 5546 3.2.1: PUBLISH has an ORGANIZER and no ATTENDEE; so no RSVP either.
    assert str(calendar["method"]) == "PUBLISH"
    assert str(event["organizer"]) == "mailto:eve@example.com"
    assert "attendee" not in event
    assert b"RSVP" not in raw and b"ATTENDEE" not in raw
    assert "location" not in event and "conference" not in event


def test_location_and_video_conference_survive_hostile_text():
    link = "https://meet.example.com/r/abc?pwd=1;x=2,3"
    (event,) = invitation(
        "UTC", location=f"Office {HOSTILE}", video=(link, f"{HOSTILE}’s link")
    ).walk("VEVENT")
    assert str(event["location"]) == f"Office {HOSTILE}"
    conference = event["conference"]
    assert str(conference) == link
    assert conference.params["VALUE"] == "URI" and conference.params["FEATURE"] == "VIDEO"
    assert str(conference.params["LABEL"]) == f"{HOSTILE}’s link"
    assert event.decoded("dtstart") == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # still one


def test_zone_carries_the_rules_in_force_around_the_meeting():
    summer = invitation("Europe/Berlin", start_utc=datetime(2026, 7, 1, 8, 0))
    (event,) = summer.walk("VEVENT")
    assert event.decoded("dtstart").utcoffset().total_seconds() == 2 * 3600
    (zone,) = summer.walk("VTIMEZONE")
    assert str(zone["tzid"]) == "Europe/Berlin"
    assert [c.name for c in zone.subcomponents] == ["DAYLIGHT"]
    # The week clocks go back: both observances, so a client moving the event gets it right.
    autumn = invitation("Europe/Berlin", start_utc=datetime(2026, 10, 26, 8, 0))
    (zone,) = autumn.walk("VTIMEZONE")
    assert {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    assert autumn.walk("VEVENT")[0].decoded("dtstart").hour == 9  # CET again


def test_aware_and_naive_utc_starts_agree():
    naive = invitation("America/Los_Angeles").walk("VEVENT")[0].decoded("dtstart")
    aware = (
        invitation("America/Los_Angeles", start_utc=datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
        .walk("VEVENT")[0]
        .decoded("dtstart")
    )
    assert naive == aware == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert naive.hour == 6


def test_utc_recipient():
    event = invitation("UTC").walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
