"""Time zones: the IANA names people can pick from, and a zone that never fails to load."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from matcher.models import User


@cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone name known to this system, sorted, without legacy aliases."""
    names = zoneinfo.available_timezones()
    # Legacy names such as 'EST5EDT' or 'posixrules' only confuse a picker.
    return tuple(sorted(n for n in names if "/" in n and not n.startswith(("Etc/", "posix"))))


def is_timezone(name: str) -> bool:
    """True for a zone name people may pick (UTC included)."""
    return name == "UTC" or name in timezone_names()


def zone(name: str | None) -> ZoneInfo:
    """The zone of that name; UTC when empty or unknown (an old row, a removed zone)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def zone_of(user: User) -> ZoneInfo:
    """The user's time zone, UTC when unset or unknown."""
    return zone(user.profile.timezone if user.profile is not None else None)
