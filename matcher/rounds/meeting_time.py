"""Suggest a meeting time: the first 30-minute slot in a week when every member is free."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from matcher.matching import Participant, PersonId
from matcher.timezones import zone

SLOT = timedelta(minutes=30)
# A suggested meeting is never sooner than this after the round is computed.
MEETING_LEAD_TIME = timedelta(hours=2)


@dataclass(frozen=True)
class Availability:
    """One person's weekly windows (weekday, start minute, end minute) in their time zone."""

    timezone: str
    windows: tuple[tuple[int, int, int], ...]


def free_intervals(person: Availability, monday: date) -> list[tuple[datetime, datetime]]:
    """The person's windows in the week starting `monday`, as aware UTC intervals."""
    local = zone(person.timezone)
    intervals = []
    for weekday, start_minute, end_minute in person.windows:
        day = monday + timedelta(days=weekday)
        midnight = datetime(day.year, day.month, day.day, tzinfo=local)
        # Wall-clock arithmetic in the person's zone, so DST weeks keep local hours right.
        start = (midnight + timedelta(minutes=start_minute)).astimezone(UTC)
        end = (midnight + timedelta(minutes=end_minute)).astimezone(UTC)
        intervals.append((start, end))
    return sorted(intervals)


def _intersect(
    first: Sequence[tuple[datetime, datetime]], second: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    result = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            result.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return result


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def first_common_slot(
    people: Iterable[Availability],
    monday: date,
    not_before: datetime | None = None,
    taken: Collection[datetime] = (),
) -> datetime | None:
    """Start (aware UTC) of the first 30-minute slot in the week when all are free and which is
    not among `taken` (slots a member already meets someone else in), else None."""
    common: list[tuple[datetime, datetime]] | None = None
    for person in people:
        mine = _merge(free_intervals(person, monday))
        common = mine if common is None else _intersect(common, mine)
        if not common:
            return None
    if not common:
        return None
    for start, end in common:
        if not_before is not None and start < not_before:
            start = not_before
        start = _round_up_to_half_hour(start)
        while start + SLOT <= end:
            if start not in taken:
                return start
            start += SLOT
    return None


def _round_up_to_half_hour(moment: datetime) -> datetime:
    extra = (moment.minute % 30) * 60 + moment.second + moment.microsecond / 1e6
    if extra == 0:
        return moment
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=30 - moment.minute % 30)


def meeting_slot(
    members: Iterable[Participant],
    monday: date,
    now: datetime | None = None,
    busy: Mapping[PersonId, Collection[datetime]] | None = None,
) -> datetime | None:
    """The group's suggested meeting (naive UTC, as stored): the first slot of monday's week
    when all are free and none is busy (`busy`: naive UTC slots each person already meets
    someone in: a mentor's other mentees, another programme's pairing), at least
    MEETING_LEAD_TIME from now; None when none is."""
    members = list(members)
    now = now or datetime.now(UTC)
    taken = {slot.replace(tzinfo=UTC) for m in members for slot in (busy or {}).get(m.id, ())}
    not_before = max(datetime.combine(monday, time(), tzinfo=UTC), now + MEETING_LEAD_TIME)
    slot = first_common_slot(
        [
            Availability(
                m.timezone or "UTC",
                tuple((w.weekday, w.start_minute, w.end_minute) for w in m.availability),
            )
            for m in members
        ],
        monday,
        not_before,
        taken,
    )
    return slot.replace(tzinfo=None) if slot else None
