"""When a programme's rounds run: the next scheduled run, the week that is due."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher import timezones
from matcher.models import Programme, Round
from matcher.weeks import week_label


def seed_for_week(week: str) -> int:
    """A stable seed per week: re-running a week reproduces its ties."""
    # 31 bits: the seed column is a signed 32-bit integer on PostgreSQL.
    return int.from_bytes(hashlib.sha256(week.encode()).digest()[:4], "big") & 0x7FFFFFFF


def next_round_start(programme: Programme, now: datetime) -> datetime:
    """The programme's next scheduled run (aware UTC) strictly after `now` (aware)."""
    zone = timezones.zone(programme.round_timezone)
    local_now = now.astimezone(zone)
    at = time(programme.round_minute // 60, programme.round_minute % 60)
    day = local_now.date()
    for offset in range(8):
        candidate_day = day + timedelta(days=offset)
        if candidate_day.weekday() != programme.round_weekday:
            continue
        candidate = datetime.combine(candidate_day, at, tzinfo=zone)
        if candidate > local_now:
            return candidate.astimezone(UTC)
    raise AssertionError("a weekday recurs within 8 days")


def next_round(session: Session, programme: Programme, now: datetime) -> tuple[datetime, str]:
    """The programme's next scheduled run (aware UTC) of a week not yet published, and that
    ISO week."""
    return next_unpublished(
        programme, now, published_weeks(session, [programme.id], now)[programme.id]
    )


def published_weeks(
    session: Session, programme_ids: Iterable[int], now: datetime
) -> dict[int, set[str]]:
    """For each programme, the weeks published from last week on: one query for them all."""
    ids = list(programme_ids)
    found: dict[int, set[str]] = {programme_id: set() for programme_id in ids}
    if not ids:
        return found
    rows = session.execute(
        select(Round.programme_id, Round.week).where(
            Round.programme_id.in_(ids),
            Round.status != "draft",
            Round.starts_on >= published_since(now),
        )
    )
    for programme_id, week in rows:
        found[programme_id].add(week)
    return found


def published_since(now: datetime) -> date:
    """The oldest week published_weeks reads: last week's (its run may be still to come)."""
    return now.date() - timedelta(days=7)


def next_unpublished(
    programme: Programme, now: datetime, published: set[str]
) -> tuple[datetime, str]:
    """next_round with the programme's published weeks already read (published_weeks)."""
    zone = timezones.zone(programme.round_timezone)
    # A week published early (by an admin, or `rounds run`) is not "next" any more.
    start = now
    for _ in range(len(published) + 2):
        start = next_round_start(programme, start)
        # The week of the run's local date, as due_week labels it (not the UTC date's week).
        week = week_label(start.astimezone(zone).date())
        if week not in published:
            return start, week
    raise AssertionError("more published weeks ahead than were counted")


def next_week(session: Session, programme: Programme, now: datetime | None = None) -> str:
    """The week of the programme's next scheduled run that is not published yet."""
    return next_round(session, programme, now or datetime.now(UTC))[1]


def due_week(programme: Programme, now: datetime) -> str | None:
    """The week whose scheduled run time has passed at `now` (aware), or None before it."""
    zone = timezones.zone(programme.round_timezone)
    local_now = now.astimezone(zone)
    monday = local_now.date() - timedelta(days=local_now.weekday())
    at = time(programme.round_minute // 60, programme.round_minute % 60)
    scheduled = datetime.combine(monday + timedelta(days=programme.round_weekday), at, tzinfo=zone)
    return week_label(monday) if local_now >= scheduled else None


def current_week(now: datetime | None = None) -> str:
    """The ISO week label of today (UTC)."""
    return week_label((now or datetime.now(UTC)).date())
