"""The programme: its settings (rules and schedule) and when its rounds run."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher import timezones
from matcher.audit import changed_keys, record
from matcher.matching import ProblemError, Rules
from matcher.models import ProgrammeSettings, Round
from matcher.models.settings import (
    DEFAULT_PAUSE_AFTER_MISSED,
    DEFAULT_REMINDER_DAYS,
    DEFAULT_ROUND_MINUTE,
    DEFAULT_ROUND_WEEKDAY,
    SETTINGS_ID,
)
from matcher.weeks import week_label


def programme_settings(session: Session) -> ProgrammeSettings:
    """The settings row, or (not added to the session) the defaults when none was saved yet."""
    settings = session.get(ProgrammeSettings, SETTINGS_ID)
    if settings is None:
        # Transient on purpose: reading the settings must never write (or race on) a row.
        settings = ProgrammeSettings(
            id=SETTINGS_ID,
            rules=Rules().to_dict(),
            round_weekday=DEFAULT_ROUND_WEEKDAY,
            round_minute=DEFAULT_ROUND_MINUTE,
            round_timezone="UTC",
            feedback_reminder_days=DEFAULT_REMINDER_DAYS,
            pause_after_missed=DEFAULT_PAUSE_AFTER_MISSED,
        )
    return settings


def current_rules(session: Session) -> Rules:
    """The matching rules the next round uses."""
    return Rules.from_dict(programme_settings(session).rules or {})


def settings_values(settings: ProgrammeSettings) -> dict[str, Any]:
    """The settings as a JSON dict, the rules in the engine's full form."""
    try:
        rules = Rules.from_dict(settings.rules or {}).to_dict()
    except ProblemError:  # an old or hand-edited row: record it as it is
        rules = settings.rules
    return {
        "rules": rules,
        "round_weekday": settings.round_weekday,
        "round_minute": settings.round_minute,
        "round_timezone": settings.round_timezone,
        "feedback_reminder_days": settings.feedback_reminder_days,
        "pause_after_missed": settings.pause_after_missed,
    }


def current_rules_or_default(session: Session) -> Rules:
    """The saved rules, or the engine defaults when the saved ones no longer validate."""
    try:
        return current_rules(session)
    except ProblemError:
        return Rules()


def save_settings(session: Session, values: dict[str, Any], actor_id: int) -> dict[str, Any] | None:
    """Write the settings row (id 1) and audit it; returns the values before, or None when
    nothing changed. Not committed."""
    settings = programme_settings(session)
    before = settings_values(settings)
    changed = changed_keys(before, values)
    if not changed:
        return None
    # The service hands out a transient default row until one is saved: merge adds it.
    settings = session.merge(settings)
    settings.rules = values["rules"]
    settings.round_weekday = values["round_weekday"]
    settings.round_minute = values["round_minute"]
    settings.round_timezone = values["round_timezone"]
    settings.feedback_reminder_days = values["feedback_reminder_days"]
    settings.pause_after_missed = values["pause_after_missed"]
    record(session, actor_id, "rules.update", "programme settings", before=before, after=values)
    session.flush()
    return before


def seed_for_week(week: str) -> int:
    """A stable seed per week: re-running a week reproduces its ties."""
    # 31 bits: the seed column is a signed 32-bit integer on PostgreSQL.
    return int.from_bytes(hashlib.sha256(week.encode()).digest()[:4], "big") & 0x7FFFFFFF


def next_round_start(settings: ProgrammeSettings, now: datetime) -> datetime:
    """The next scheduled run (aware UTC) strictly after `now` (aware)."""
    zone = timezones.zone(settings.round_timezone)
    local_now = now.astimezone(zone)
    at = time(settings.round_minute // 60, settings.round_minute % 60)
    day = local_now.date()
    for offset in range(8):
        candidate_day = day + timedelta(days=offset)
        if candidate_day.weekday() != settings.round_weekday:
            continue
        candidate = datetime.combine(candidate_day, at, tzinfo=zone)
        if candidate > local_now:
            return candidate.astimezone(UTC)
    raise AssertionError("a weekday recurs within 8 days")


def next_round(session: Session, now: datetime) -> tuple[datetime, str]:
    """The next scheduled run (aware UTC) of a week not yet published, and that ISO week."""
    settings = programme_settings(session)
    zone = timezones.zone(settings.round_timezone)
    # A week published early (by an admin, or `rounds run`) is not "next" any more.
    published = set(
        session.scalars(
            select(Round.week).where(
                Round.status != "draft", Round.starts_on >= now.date() - timedelta(days=7)
            )
        )
    )
    start = now
    for _ in range(len(published) + 2):
        start = next_round_start(settings, start)
        # The week of the run's local date, as due_week labels it (not the UTC date's week).
        week = week_label(start.astimezone(zone).date())
        if week not in published:
            return start, week
    raise AssertionError("more published weeks ahead than were counted")


def next_week(session: Session, now: datetime | None = None) -> str:
    """The week of the next scheduled run that is not published yet."""
    return next_round(session, now or datetime.now(UTC))[1]


def due_week(settings: ProgrammeSettings, now: datetime) -> str | None:
    """The week whose scheduled run time has passed at `now` (aware), or None before it."""
    zone = timezones.zone(settings.round_timezone)
    local_now = now.astimezone(zone)
    monday = local_now.date() - timedelta(days=local_now.weekday())
    at = time(settings.round_minute // 60, settings.round_minute % 60)
    scheduled = datetime.combine(monday + timedelta(days=settings.round_weekday), at, tzinfo=zone)
    return week_label(monday) if local_now >= scheduled else None


def current_week(now: datetime | None = None) -> str:
    """The ISO week label of today (UTC)."""
    return week_label((now or datetime.now(UTC)).date())
