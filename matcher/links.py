"""Links in emails: absolute addresses on BASE_URL, and signed, expiring tokens in them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

MONTH = 30 * 24 * 3600  # people answer late


@dataclass(frozen=True)
class Link:
    """A kind of signed link: its own salt (one kind's token is never another's), path, age."""

    salt: str
    path: str
    max_age_setting: str
    noun: str
    fields: tuple[str, ...]
    # Fields that links made by older versions lack: read as None when absent.
    optional: tuple[str, ...] = ()


# Bound to one pairing (membership) and its owner.
FEEDBACK = Link("feedback-link", "/feedback/", "FEEDBACK_LINK_MAX_AGE", "feedback link", ("m", "u"))
# "Skip my next round" from the pairing email, bound to one person and programme (links
# sent before programmes name only the person: the default programme).
SKIP = Link("skip-link", "/skip/", "SKIP_LINK_MAX_AGE", "link", ("u",), optional=("p",))


class LinkError(Exception):
    """A link that cannot be used; `expired` tells which page to show."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def public_url(config: Mapping[str, Any], path: str) -> str:
    """An absolute address on BASE_URL (never on a request's Host header)."""
    base = str(config.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    return base + path


def _serializer(config: Mapping[str, Any], link: Link) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt=link.salt)


def make_token(config: Mapping[str, Any], link: Link, *ids: int) -> str:
    """A token carrying the link's ids (for FEEDBACK: membership id, user id)."""
    names = link.fields + link.optional[: len(ids) - len(link.fields)]
    return _serializer(config, link).dumps(dict(zip(names, ids, strict=True)))


def read_token(config: Mapping[str, Any], link: Link, token: str) -> tuple[int | None, ...]:
    """The ids in a token, in the link's field order; raises LinkError when unusable."""
    max_age = config.get(link.max_age_setting, MONTH)
    try:
        data = _serializer(config, link).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkError(f"This {link.noun} has expired.", expired=True) from None
    except BadSignature:
        raise LinkError(f"This {link.noun} is not valid.") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(f), int) and not isinstance(data.get(f), bool) for f in link.fields
    ):
        raise LinkError(f"This {link.noun} is not valid.")
    extra = tuple(
        data[f] if isinstance(data.get(f), int) and not isinstance(data.get(f), bool) else None
        for f in link.optional
    )
    return tuple(data[f] for f in link.fields) + extra


def link_url(config: Mapping[str, Any], link: Link, *ids: int) -> str:
    """The absolute link for emails."""
    return public_url(config, link.path + make_token(config, link, *ids))
