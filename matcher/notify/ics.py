"""iCalendar entries (METHOD:PUBLISH) for a group's suggested meeting.

Each member gets their own copy of one event (same UID): PUBLISH puts it in their calendar
and asks nobody for a reply (RFC 5546 3.2.1: an ORGANIZER, no ATTENDEE). The organiser is the
member themself, a mailbox somebody reads, so no client sends an answer to matcher's address.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText, vUri

MEETING_LENGTH = timedelta(minutes=30)
METHOD = "PUBLISH"


def pairing_uid(week: str, group_id: int) -> str:
    """The UID shared by every member's copy of one group's calendar entry."""
    return f"pairing-{week}-{group_id}@matcher"


def build_invitation(
    *,
    uid: str,
    start_utc: datetime,
    timezone: ZoneInfo,
    summary: str,
    description: str,
    organizer: tuple[str, str],
    location: str | None = None,
    video: tuple[str, str] | None = None,
    stamp: datetime | None = None,
) -> bytes:
    """An iCalendar PUBLISH of a 30-minute event shown in timezone (with its VTIMEZONE).

    start_utc may be naive (then it is UTC, as stored); organizer is the (name, email) of the
    person whose copy this is; location is free text (an office, or a video link); video is
    (link, label) for an RFC 7986 CONFERENCE property. icalendar escapes every text value
    and parameter, so names may hold any characters; the link must already be a safe URI
    (see matcher.video_links): URI values are written as they are.
    """
    if start_utc.tzinfo is None:
        start_utc = start_utc.replace(tzinfo=UTC)
    start = start_utc.astimezone(timezone)
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp or datetime.now(UTC))
    event.add("summary", vText(summary))
    # Lines that repeat across a round's entries (the meeting slot in one zone, the person,
    # the description, the place) are serialised once per value and spliced in; the order of
    # properties within a component does not matter.
    shared = _times(start_utc, timezone.key) + _organizer(*organizer) + _description(description)
    if location:
        shared += _location(location)
    if video is not None:
        shared += _conference(*video)
    own = event.to_ical()
    end = own.rindex(b"END:VEVENT")
    # The calendar's head and the VTIMEZONE are the same for thousands of entries: also
    # serialised once. VTIMEZONE first: clients read it before the event using its TZID.
    head, tail = _calendar_frame()
    zone = _vtimezone(timezone.key, start.date())
    return head + zone + own[:end] + shared + own[end:] + tail


def _property(name: str, value: object, parameters: dict[str, str] | None = None) -> bytes:
    # One property's content lines (escaped and folded by icalendar), without the component.
    event = Event()
    event.add(name, value, parameters=parameters)
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
        _property("transp", "OPAQUE"),
    ]
    return b"".join(lines)


@lru_cache(maxsize=4096)
def _organizer(name: str, email: str) -> bytes:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    return _property("organizer", address)


@lru_cache(maxsize=256)
def _description(description: str) -> bytes:
    return _property("description", vText(description))


@lru_cache(maxsize=4096)
def _location(location: str) -> bytes:
    return _property("location", vText(location))


@lru_cache(maxsize=4096)
def _conference(link: str, label: str) -> bytes:
    return _property(
        "conference", vUri(link), parameters={"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": label}
    )


@lru_cache(maxsize=1)
def _calendar_frame() -> tuple[bytes, bytes]:
    # An empty METHOD:PUBLISH calendar, split where its components go.
    calendar = Calendar()
    calendar.add("prodid", "-//matcher//pairings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", METHOD)
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
