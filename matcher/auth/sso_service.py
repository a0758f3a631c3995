"""Single sign-on accounts: what an identity provider vouches for, and the account it opens.

An account is found by its (issuer, subject) identity, else linked by the verified email of
an account that exists (a password account, an invited one), else made: no password, the
address verified, an empty profile and no programme until the person completes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.auth.service import find_user_by_email
from matcher.models import Profile, SsoIdentity, User
from matcher.models.people import normalise_email, normalise_name, utcnow
from matcher.profile.forms import NAME_MAX
from matcher.profile.service import claim_pending_do_not_pair
from matcher.timezones import is_timezone

EMAIL_MAX = 254
# The columns of SsoIdentity.
SUBJECT_MAX = 255
ISSUER_MAX = 255


class SsoRefused(Exception):
    """A sign-in that must not open any account; str() says why, status is the HTTP code."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SsoClaims:
    """What the provider's verified ID token says about the person, cleaned up."""

    issuer: str
    subject: str
    email: str
    name: str
    department: str | None = None
    zoneinfo: str | None = None


@dataclass(frozen=True)
class SignIn:
    """The account a sign-in opens, and whether it was made or linked just now."""

    user: User
    created: bool = False
    linked: bool = False


def _text(value: object, limit: int) -> str | None:
    """A claim as one line of printable text (at most `limit` characters), or None."""
    if not isinstance(value, str):
        return None
    cleaned = normalise_name("".join(c if c.isprintable() else " " for c in value))
    return cleaned[:limit].strip() or None


def email_is_verified(claims: Mapping[str, Any]) -> bool:
    """True when the provider says it verified the address: `email_verified` true, or, from
    Microsoft Entra ID which never sends that claim, `xms_edov` (the tenant owns the domain)."""
    if "email_verified" in claims:
        value = claims["email_verified"]
        return value is True or (isinstance(value, str) and value.strip().lower() == "true")
    value = claims.get("xms_edov")
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1"))


def display_name_of(claims: Mapping[str, Any], email: str) -> str:
    """The `name` claim, else given and family names, else the address's local part."""
    name = _text(claims.get("name"), NAME_MAX)
    if name:
        return name
    parts = [_text(claims.get(key), NAME_MAX) for key in ("given_name", "family_name")]
    joined = _text(" ".join(p for p in parts if p), NAME_MAX)
    return joined or email.split("@")[0][:NAME_MAX]


def read_claims(issuer: str, claims: Mapping[str, Any]) -> SsoClaims:
    """The claims of a verified ID token as SsoClaims; raises SsoRefused (no or unverified
    email: 403; a subject or address no account can hold: 502)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > SUBJECT_MAX:
        raise SsoRefused("The identity provider sent no usable account id (sub).", 502)
    if not subject.isprintable():
        raise SsoRefused("The identity provider sent no usable account id (sub).", 502)
    raw_email = claims.get("email")
    if not isinstance(raw_email, str) or not raw_email.strip():
        raise SsoRefused(
            "The identity provider did not tell us your email address, so no account can be "
            "opened. Ask your administrator to release the email claim to matcher."
        )
    if not email_is_verified(claims):
        raise SsoRefused(
            "The identity provider has not verified your email address, so no account can be "
            "opened with it. Verify it there first, or ask your administrator."
        )
    email = normalise_email(raw_email)
    try:
        if len(email) > EMAIL_MAX:
            raise EmailNotValidError("too long")
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise SsoRefused(
            "The email address the identity provider sent is not one matcher can use.", 403
        ) from None
    zone = _text(claims.get("zoneinfo"), 64)
    return SsoClaims(
        issuer=issuer,
        subject=subject,
        email=email,
        name=display_name_of(claims, email),
        department=_text(claims.get("department"), NAME_MAX),
        zoneinfo=zone if zone and is_timezone(zone) else None,
    )


def _check_open(user: User) -> None:
    """Refuse a deleted or deactivated account."""
    if user.is_deleted:
        raise SsoRefused("This account was deleted.", 403)
    if not user.active:
        raise SsoRefused(
            "This account is deactivated, so it cannot sign in. Ask an administrator.", 403
        )


def identity_of(session: Session, issuer: str, subject: str) -> SsoIdentity | None:
    """The link of that provider's subject to an account, if any."""
    return session.scalar(
        select(SsoIdentity).where(SsoIdentity.issuer == issuer, SsoIdentity.subject == subject)
    )


def sign_in(session: Session, claims: SsoClaims, domain_allowed: Callable[[str], bool]) -> SignIn:
    """The account these claims open (not committed): by identity, else linked by verified
    email, else a new one (only for an allowed domain). Raises SsoRefused."""
    now = utcnow()
    identity = identity_of(session, claims.issuer, claims.subject)
    if identity is not None:
        user = identity.user
        _check_open(user)
        identity.last_login_at = now
        if user.email_verified_at is None and user.email == claims.email:
            user.email_verified_at = now
        return SignIn(user)
    user = find_user_by_email(session, claims.email)
    if user is not None:
        _check_open(user)
        other = session.scalar(
            select(SsoIdentity.id).where(
                SsoIdentity.user_id == user.id, SsoIdentity.issuer == claims.issuer
            )
        )
        if other is not None:
            # The provider gave this address to another of its accounts (a recycled address):
            # never hand someone else's account over.
            raise SsoRefused(
                "This email address belongs to a matcher account that signs in with another "
                "account of your identity provider. Ask an administrator.",
                409,
            )
        # The provider verified the address: a password account, or an invitation, is proved.
        if user.email_verified_at is None:
            user.email_verified_at = now
        session.add(
            SsoIdentity(user=user, issuer=claims.issuer, subject=claims.subject, last_login_at=now)
        )
        return SignIn(user, linked=True)
    if not domain_allowed(claims.email):
        raise SsoRefused(
            "Accounts here are only for addresses of the organisation; yours is not one of them.",
            403,
        )
    user = User(
        email=claims.email,
        display_name=claims.name,
        password_hash=None,
        email_verified_at=now,
    )
    session.add(user)
    # An empty profile and no programme: nobody is paired with them until they complete it.
    session.add(Profile(user=user))
    session.add(
        SsoIdentity(user=user, issuer=claims.issuer, subject=claims.subject, last_login_at=now)
    )
    claim_pending_do_not_pair(session, user)
    return SignIn(user, created=True)
