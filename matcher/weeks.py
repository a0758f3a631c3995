"""ISO weeks such as 2026-W49, and the one way pages and emails name days for people.

ISO codes are for machines, admins and file names. Members read one style everywhere:
"the week of 7 December", "Monday 7 December", "Monday 7 December, 10:00": no leading
zeros, no week numbers, the year only where the caller asks for it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

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


def day_month(day: date, year: bool = False) -> str:
    """A date as people write it: "7 December" (or "7 December 2026")."""
    text = f"{day.day} {day:%B}"
    return f"{text} {day.year}" if year else text


def week_of(monday: date, year: bool = False) -> str:
    """How people name a week: "the week of 30 November" (ISO codes are for machines)."""
    return f"the week of {day_month(monday, year)}"


def long_day(day: date, year: bool = False) -> str:
    """A day with its weekday: "Monday 7 December" (or "Monday 7 December 2026")."""
    return f"{day:%A} {day_month(day, year)}"


def day_time(moment: datetime, year: bool = False) -> str:
    """A moment in the zone it carries: "Monday 7 December, 10:00"."""
    return f"{long_day(moment, year)}, {moment:%H:%M}"


# The Jinja filters of this module, registered on the app by matcher.web.
PEOPLE_DATE_FILTERS = {f.__name__: f for f in (day_month, week_of, long_day, day_time)}
