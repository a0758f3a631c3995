"""The invitation builder on its own: time zones, escaping, and the VTIMEZONE it carries."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from matcher.notify.ics import build_invitation, pairing_uid

HOSTILE = 'Eve "the, worst"; <script>alert(1)</script>\nDTSTART:19700101T000000Z'


def invitation(zone: str, **changes: object) -> Calendar:
    arguments = {
        "uid": pairing_uid("2026-W49", 7),
        "start_utc": datetime(2026, 12, 1, 14, 0),
        "timezone": ZoneInfo(zone),
        "summary": f"Coffee with {HOSTILE}",
        "description": "Why:\n- You both like Rust; and C",
        "organizer": "matcher <matcher@example.com>",
        "attendees": [("Ada", "ada@example.com"), (HOSTILE, "eve@example.com")],
    }
    arguments.update(changes)
    return Calendar.from_ical(build_invitation(**arguments))


def test_hostile_text_round_trips_and_injects_no_property():
    calendar = invitation("Asia/Kolkata")
    (event,) = calendar.walk("VEVENT")
    assert str(event["summary"]) == f"Coffee with {HOSTILE}"
    assert str(event["description"]) == "Why:\n- You both like Rust; and C"
    assert [str(a.params["CN"]) for a in event["attendee"]] == ["Ada", HOSTILE]
    # Still exactly one DTSTART, the real one (India: UTC+5:30).
    assert event.decoded("dtstart") == datetime(
        2026, 12, 1, 19, 30, tzinfo=ZoneInfo("Asia/Kolkata")
    )
    assert str(event["uid"]) == "pairing-2026-W49-7@matcher"
    assert str(event["organizer"].params["CN"]) == "matcher"


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
