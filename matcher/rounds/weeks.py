"""ISO weeks such as 2026-W49: parsing, formatting and arithmetic."""

from __future__ import annotations

import re
from datetime import date, timedelta

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


class WeekError(ValueError):
    """A week label that is not a real ISO week; the message is for people."""


def parse_week(label: str) -> date:
    """The Monday of an ISO week label like '2026-W49'."""
    match = WEEK_PATTERN.match(label.strip())
    if not match:
        raise WeekError(f"{label!r} is not a week; write it like 2026-W49")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        raise WeekError(f"{year} has no week {week}") from None


def week_label(day: date) -> str:
    """The ISO week label of the week containing day."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(day: date) -> date:
    """The Monday of the week containing day."""
    return day - timedelta(days=day.weekday())


def weeks_between(earlier: date, later: date) -> int:
    """Whole weeks from the week of `earlier` to the week of `later`."""
    return (week_start(later) - week_start(earlier)).days // 7


def week_of(monday: date) -> str:
    """How people name a week: "the week of 30 November" (ISO codes are for machines)."""
    return f"the week of {monday.day} {monday:%B}"
