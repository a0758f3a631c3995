"""A person's own video-call link: what is accepted, checked once more wherever it is shown."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

VIDEO_LINK_MAX = 300
# The characters RFC 3986 allows in a URI: no spaces, quotes, angle brackets or line breaks,
# so a link can go into an HTML attribute, an email and an iCalendar URI value as it is.
_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def video_link_problem(value: str) -> str | None:
    """Why value is not an acceptable video-call link (for the form), or None when it is."""
    if len(value) > VIDEO_LINK_MAX:
        return f"Use at most {VIDEO_LINK_MAX} characters."
    if not value.lower().startswith("https://"):
        return "Use an https:// link, for example https://meet.example.com/your-room."
    if not _URI_CHARACTERS.fullmatch(value):
        return "Paste the link as your browser shows it: no spaces, quotes or angle brackets."
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        return "That is not a complete link."
    if not hostname or "." not in hostname.strip("."):
        return "That is not a complete link: it needs a host, such as meet.example.com."
    if "@" in parts.netloc:
        # https://meet.example.com@evil.example/ opens evil.example: never shown to a partner.
        return "A link with a user name or password in it is not accepted."
    return None


def safe_video_link(value: str | None) -> str | None:
    """value when it is an acceptable link, else None (stored data may predate the checks)."""
    if not value or video_link_problem(value) is not None:
        return None
    return value
