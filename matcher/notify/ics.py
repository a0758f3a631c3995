"""iCalendar invitations (METHOD:REQUEST) for a group's suggested meeting."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText

MEETING_LENGTH = timedelta(minutes=30)


def pairing_uid(week: str, group_id: int) -> str:
    """The UID shared by every member's copy of one group's invitation."""
    return f"pairing-{week}-{group_id}@matcher"


def build_invitation(
    *,
    uid: str,
    start_utc: datetime,
    timezone: ZoneInfo,
    summary: str,
    description: str,
    organizer: str,
    attendees: Sequence[tuple[str, str]],
    stamp: datetime | None = None,
) -> bytes:
    """An iCalendar REQUEST for a 30-minute meeting shown in timezone (with its VTIMEZONE).

    start_utc may be naive (then it is UTC, as stored); organizer is an address such as
    'matcher <matcher@example.com>'; attendees are (name, email) pairs. icalendar does all
    escaping, so names may hold any characters.
    """
    if start_utc.tzinfo is None:
        start_utc = start_utc.replace(tzinfo=UTC)
    start = start_utc.astimezone(timezone)
    calendar = Calendar()
    calendar.add("prodid", "-//matcher//coffee pairings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    # VTIMEZONE first: clients read it before the event that refers to its TZID.
    calendar.add_component(_vtimezone(timezone.key, start.date()))
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp or datetime.now(UTC))
    event.add("dtstart", start)
    event.add("dtend", start + MEETING_LENGTH)
    event.add("summary", vText(summary))
    event.add("description", vText(description))
    # SEQUENCE 0: a later change to the same UID would send SEQUENCE 1 to update the entry.
    event.add("sequence", 0)
    event.add("status", "CONFIRMED")
    organizer_name, organizer_email = parseaddr(organizer)
    event.add("organizer", _address(organizer_name or "matcher", organizer_email))
    for name, email in attendees:
        address = _address(name, email)
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "TRUE"
        event.add("attendee", address)
    calendar.add_component(event)
    return calendar.to_ical()


@lru_cache(maxsize=1024)
def _vtimezone(tzid: str, day: date) -> Timezone:
    # Only the rules in force around the meeting (a full 1970-2038 zone is kilobytes per
    # email), and cached: building it is much of an invitation's cost, and a round has few
    # zones and days.
    return Timezone.from_tzid(
        tzid, first_date=day - timedelta(days=7), last_date=day + timedelta(days=7)
    )


def _address(name: str, email: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    return address
