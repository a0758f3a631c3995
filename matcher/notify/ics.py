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
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp or datetime.now(UTC))
    event.add("summary", vText(summary))
    # Lines that repeat across a round's invitations (the meeting slot in one zone, the
    # organizer, the reasons, each attendee) are serialised once per value and spliced in;
    # the order of properties within a component does not matter.
    shared = _times(start_utc, timezone.key) + _organizer(organizer) + _description(description)
    shared += b"".join(_attendee(name, email) for name, email in attendees)
    own = event.to_ical()
    end = own.rindex(b"END:VEVENT")
    # The calendar's head and the VTIMEZONE are the same for thousands of invitations: also
    # serialised once. VTIMEZONE first: clients read it before the event using its TZID.
    head, tail = _calendar_frame()
    zone = _vtimezone(timezone.key, start.date())
    return head + zone + own[:end] + shared + own[end:] + tail


def _property(name: str, value: object) -> bytes:
    # One property's content lines (escaped and folded by icalendar), without the component.
    event = Event()
    event.add(name, value)
    return event.to_ical().removeprefix(b"BEGIN:VEVENT\r\n").removesuffix(b"END:VEVENT\r\n")


@lru_cache(maxsize=4096)
def _times(start_utc: datetime, tzid: str) -> bytes:
    start = start_utc.astimezone(ZoneInfo(tzid))
    # SEQUENCE 0: a later change to the same UID would send SEQUENCE 1 to update the entry.
    lines = [
        _property("dtstart", start),
        _property("dtend", start + MEETING_LENGTH),
        _property("sequence", 0),
        _property("status", "CONFIRMED"),
    ]
    return b"".join(lines)


@lru_cache(maxsize=16)
def _organizer(organizer: str) -> bytes:
    name, email = parseaddr(organizer)
    return _property("organizer", _address(name or "matcher", email))


@lru_cache(maxsize=256)
def _description(description: str) -> bytes:
    return _property("description", vText(description))


@lru_cache(maxsize=4096)
def _attendee(name: str, email: str) -> bytes:
    # Every member is an attendee in each member's copy: cached, each is serialised once.
    address = _address(name, email)
    address.params["ROLE"] = "REQ-PARTICIPANT"
    address.params["PARTSTAT"] = "NEEDS-ACTION"
    address.params["RSVP"] = "TRUE"
    return _property("attendee", address)


@lru_cache(maxsize=1)
def _calendar_frame() -> tuple[bytes, bytes]:
    # An empty METHOD:REQUEST calendar, split where its components go.
    calendar = Calendar()
    calendar.add("prodid", "-//matcher//coffee pairings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    text = calendar.to_ical()
    end = text.rindex(b"END:VCALENDAR")
    return text[:end], text[end:]


@lru_cache(maxsize=1024)
def _vtimezone(tzid: str, day: date) -> bytes:
    # Only the rules in force around the meeting (a full 1970-2038 zone is kilobytes per
    # email), and cached: building it is much of an invitation's cost, and a round has few
    # zones and days.
    zone = Timezone.from_tzid(
        tzid, first_date=day - timedelta(days=7), last_date=day + timedelta(days=7)
    )
    return zone.to_ical()


def _address(name: str, email: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    return address
