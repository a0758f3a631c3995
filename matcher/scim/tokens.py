"""SCIM bearer tokens: made once and shown once, stored as their SHA-256, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.models import ScimToken
from matcher.models.people import normalise_name, utcnow

PREFIX = "mscim_"
NAME_MAX = 80
# last_used_at is written at most this often per token (not on every request).
TOUCH_EVERY = timedelta(minutes=1)


class TokenError(ValueError):
    """A token that cannot be made or revoked; the message is for the person at the console."""


def digest(token: str) -> str:
    """The stored form of a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(session: Session, name: str) -> tuple[ScimToken, str]:
    """A new token named `name` (not committed) and its secret, which is never stored."""
    clean = normalise_name(name)
    if not clean:
        raise TokenError("Give the token a name, such as the identity provider's.")
    if len(clean) > NAME_MAX or not clean.isprintable():
        raise TokenError(f"A token name is at most {NAME_MAX} printable characters.")
    if session.scalar(select(ScimToken.id).where(ScimToken.name == clean)) is not None:
        raise TokenError(f"There is already a token named {clean!r} (revoked ones keep theirs).")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ScimToken(name=clean, token_hash=digest(secret))
    session.add(token)
    session.flush()
    return token, secret


def list_tokens(session: Session) -> list[ScimToken]:
    """Every token, revoked ones too, oldest first."""
    return list(session.scalars(select(ScimToken).order_by(ScimToken.created_at, ScimToken.id)))


def revoke_token(session: Session, name: str) -> ScimToken:
    """Revoke the token with that name (not committed); TokenError when there is none."""
    token = session.scalar(select(ScimToken).where(ScimToken.name == normalise_name(name)))
    if token is None:
        raise TokenError(f"There is no token named {normalise_name(name)!r}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def authenticate(session: Session, presented: str, now: datetime | None = None) -> ScimToken | None:
    """The live token matching what a client presented, or None; notes when it was used
    (at most once a minute, not committed)."""
    if not presented.startswith(PREFIX) or len(presented) > 200:
        return None
    wanted = digest(presented)
    token = session.scalar(
        select(ScimToken).where(ScimToken.token_hash == wanted, ScimToken.revoked_at.is_(None))
    )
    # The lookup is by hash, so timing says nothing about the secret; compare anyway.
    if token is None or not hmac.compare_digest(token.token_hash, wanted):
        return None
    moment = now or utcnow()
    if token.last_used_at is None or moment - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = moment
    return token
