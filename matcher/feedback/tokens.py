"""Signed, expiring feedback links bound to one pairing and one person."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "feedback-link"
DEFAULT_MAX_AGE = 30 * 24 * 3600  # a month: people answer late


class LinkError(Exception):
    """A feedback link that cannot be used; `expired` tells which page to show."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def _serializer(config: Mapping[str, Any]) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt=SALT)


def make_token(config: Mapping[str, Any], membership_id: int, user_id: int) -> str:
    """A token naming the membership and its owner."""
    return _serializer(config).dumps({"m": membership_id, "u": user_id})


def read_token(config: Mapping[str, Any], token: str) -> tuple[int, int]:
    """(membership_id, user_id) from a token; raises LinkError when tampered or expired."""
    max_age = config.get("FEEDBACK_LINK_MAX_AGE", DEFAULT_MAX_AGE)
    try:
        data = _serializer(config).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkError("This feedback link has expired.", expired=True) from None
    except BadSignature:
        raise LinkError("This feedback link is not valid.") from None
    if not (
        isinstance(data, dict) and isinstance(data.get("m"), int) and isinstance(data.get("u"), int)
    ):
        raise LinkError("This feedback link is not valid.")
    return data["m"], data["u"]


def feedback_url(config: Mapping[str, Any], membership_id: int, user_id: int) -> str:
    """The absolute link for emails, on BASE_URL (never on a request's Host header)."""
    base = str(config.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    return f"{base}/feedback/{make_token(config, membership_id, user_id)}"
