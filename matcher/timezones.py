"""The IANA time zones people can pick from."""

from __future__ import annotations

import zoneinfo
from functools import cache


@cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone name known to this system, sorted, without legacy aliases."""
    names = zoneinfo.available_timezones()
    # Legacy names such as 'EST5EDT' or 'posixrules' only confuse a picker.
    return tuple(sorted(n for n in names if "/" in n and not n.startswith(("Etc/", "posix"))))


def is_timezone(name: str) -> bool:
    """True for a zone name people may pick (UTC included)."""
    return name == "UTC" or name in timezone_names()
