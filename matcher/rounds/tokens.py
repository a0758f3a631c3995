"""Signed, expiring "skip my next round" links from the pairing email, bound to one person."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

# Its own salt: a feedback or reset token is never a skip token, nor the other way round.
SALT = "skip-link"
DEFAULT_MAX_AGE = 30 * 24 * 3600


class SkipLinkError(Exception):
    """A skip link that cannot be used; `expired` tells which page to show."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def _serializer(config: Mapping[str, Any]) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt=SALT)


def make_skip_token(config: Mapping[str, Any], user_id: int) -> str:
    """A token naming the person whose next round the link skips."""
    return _serializer(config).dumps({"u": user_id})


def read_skip_token(config: Mapping[str, Any], token: str) -> int:
    """The user id in a token; raises SkipLinkError when tampered with or expired."""
    max_age = config.get("SKIP_LINK_MAX_AGE", DEFAULT_MAX_AGE)
    try:
        data = _serializer(config).loads(token, max_age=max_age)
    except SignatureExpired:
        raise SkipLinkError("This link has expired.", expired=True) from None
    except BadSignature:
        raise SkipLinkError("This link is not valid.") from None
    if not (isinstance(data, dict) and isinstance(data.get("u"), int)):
        raise SkipLinkError("This link is not valid.")
    return data["u"]


def skip_url(config: Mapping[str, Any], user_id: int) -> str:
    """The absolute link for emails, on BASE_URL (never on a request's Host header)."""
    base = str(config.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    return f"{base}/skip/{make_skip_token(config, user_id)}"
