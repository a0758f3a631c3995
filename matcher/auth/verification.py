"""Proving who owns an address: verification and invitation links, and the sign-up domains."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher.auth.service import find_user_by_email, make_reset_token, register_user
from matcher.links import public_url
from matcher.models import OutboxMessage, User
from matcher.models.people import utcnow
from matcher.notify.queue import queue_message
from matcher.profile.service import ProfileData
from matcher.programmes.members import Choice

VERIFY_SALT = "verify-email"
INVITATION_SALT = "invitation"
# Paths of the pages the links open (built without a request: the CLI and SCIM send too).
VERIFY_PATH = "/auth/verify/"
INVITATION_PATH = "/auth/invitation/"
RESET_PATH = "/auth/reset/"
# How much of the session token an invitation carries: setting a password rotates it, so an
# accepted invitation's link can never set the password again.
TOKEN_PART = 16
# At most this many verification / "someone tried to sign up" emails per account per window,
# like password resets: a form cannot be used to fill someone's inbox.
THROTTLE_WINDOW = timedelta(hours=1)
THROTTLE_COUNT = 5
DAY = timedelta(days=1)
# Where matcher.auth.sso keeps the configured identity provider (read here without importing
# it: it imports this module).
SSO_EXTENSION = "matcher.sso"


class TokenInvalid(ValueError):
    """A verification or invitation link that cannot be used: str() says why, status is the
    HTTP code (400 tampered, 410 expired or gone); `user` is the account of an expired link
    whose signature is good, so the page can offer to send a new one."""

    def __init__(self, message: str, status: int, user: User | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.user = user


def allowed_domains(config: Mapping[str, Any]) -> list[str]:
    """ALLOWED_EMAIL_DOMAINS as lower-case domains ("" or an empty list: any domain)."""
    raw = config.get("ALLOWED_EMAIL_DOMAINS") or ""
    parts = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    domains = (str(part).strip().lower().lstrip("@").rstrip(".") for part in parts)
    return list(dict.fromkeys(d for d in domains if d))


def email_domain_allowed(config: Mapping[str, Any], email: str) -> bool:
    """Whether an address may have an account: its domain is listed exactly (in any case; a
    subdomain is not implied), or no list is configured."""
    domains = allowed_domains(config)
    if not domains:
        return True
    local, at, domain = str(email).strip().rpartition("@")
    return bool(local and at) and domain.lower().rstrip(".") in domains


def domains_message(config: Mapping[str, Any]) -> str:
    """What the sign-up page says next to an address at another domain."""
    return f"Sign-up is open to addresses at {', '.join(allowed_domains(config))}."


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _email_digest(email: str) -> str:
    # The address is in the token only as a digest: a link names its account's address
    # without showing it in logs, and changing the address makes the old link useless.
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def make_verify_token(user: User) -> str:
    """A signed, timed token proving the link reached user's current address."""
    return _serializer(VERIFY_SALT).dumps({"u": user.id, "e": _email_digest(user.email)})


def make_invitation_token(user: User) -> str:
    """A signed, timed invitation token for user, valid until their session token rotates."""
    return _serializer(INVITATION_SALT).dumps({"u": user.id, "t": user.session_token[:TOKEN_PART]})


def _load(session: Session, salt: str, max_age_setting: str, token: str) -> tuple[User, str]:
    """The live user a token names and its second field; raises TokenInvalid."""
    serializer = _serializer(salt)
    try:
        data = serializer.loads(token, max_age=int(current_app.config[max_age_setting]))
    except SignatureExpired as expired:
        # The signature is good: the account it names may be offered a fresh link.
        user = None
        try:
            payload = serializer.load_payload(expired.payload) if expired.payload else None
        except BadData:
            payload = None
        if isinstance(payload, dict) and _is_id(payload.get("u")):
            user = session.get(User, payload["u"])
        if user is not None and not user.is_active:
            user = None
        raise TokenInvalid("This link has expired.", 410, user) from None
    except BadData:
        raise TokenInvalid(
            "This link is not valid. Check that you copied all of it.", 400
        ) from None
    key = "e" if salt == VERIFY_SALT else "t"
    user_id, part = (data.get("u"), data.get(key)) if isinstance(data, dict) else (None, None)
    if not _is_id(user_id) or not isinstance(part, str):
        raise TokenInvalid("This link is not valid. Check that you copied all of it.", 400)
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise TokenInvalid("This account is closed.", 410)
    return user, part


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def user_for_verify_token(session: Session, token: str) -> User:
    """The account a verification link is for (maybe verified already: the link is
    idempotent); raises TokenInvalid (400 tampered, 410 expired, closed or another address)."""
    user, digest = _load(session, VERIFY_SALT, "EMAIL_VERIFY_MAX_AGE", token)
    if not hmac.compare_digest(digest, _email_digest(user.email)):
        raise TokenInvalid(
            "This link was sent to an address this account no longer uses.", 410, user
        )
    return user


def user_for_invitation_token(session: Session, token: str) -> User:
    """The account an invitation is for (maybe accepted already: check is_verified); raises
    TokenInvalid (400 tampered, 410 expired, account closed, or replaced by a newer one)."""
    user, part = _load(session, INVITATION_SALT, "INVITATION_MAX_AGE", token)
    if user.is_verified:
        return user  # accepted: the page says so and offers to log in
    if not hmac.compare_digest(part, user.session_token[:TOKEN_PART]):
        raise TokenInvalid("This invitation was replaced by a newer one.", 410, user)
    return user


def user_for_resend(session: Session, token: str, invitation: bool = False) -> User | None:
    """The live, unverified account a verification (or invitation) link names, however old
    the link: it may ask for a fresh one, which goes to the account's own address. None for
    a link that is not ours, or an account closed or verified since."""
    if not isinstance(token, str) or not token or len(token) > 2000:
        return None
    try:
        data = _serializer(INVITATION_SALT if invitation else VERIFY_SALT).loads(token)
    except BadData:
        return None
    user_id = data.get("u") if isinstance(data, dict) else None
    user = session.get(User, user_id) if _is_id(user_id) else None
    if user is None or not user.is_active or user.is_verified:
        return None
    return user


def mark_verified(user: User) -> None:
    """The person proved they own the address (not committed); they may be paired from now."""
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()


def verify_url(user: User) -> str:
    """The absolute verification link for user, on BASE_URL."""
    return public_url(current_app.config, VERIFY_PATH + make_verify_token(user))


def invitation_url(user: User) -> str:
    """The absolute invitation link for user, on BASE_URL."""
    return public_url(current_app.config, INVITATION_PATH + make_invitation_token(user))


def _recent(session: Session, kind: str, user: User, window: timedelta = THROTTLE_WINDOW) -> int:
    return session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.kind == kind,
            OutboxMessage.user_id == user.id,
            OutboxMessage.created_at > utcnow() - window,
        )
    )


def queue_verification(session: Session, user: User) -> bool:
    """Queue the "confirm your address" email (not committed); False when the address is
    confirmed already, the account is closed, or too many were sent this hour."""
    if not user.is_active or user.is_verified:
        return False
    session.flush()  # a new account needs its id in the token
    if _recent(session, "verify_email", user) >= THROTTLE_COUNT:
        return False
    return queue_message(
        session,
        "verify_email",
        f"verify_email:{user.id}:{secrets.token_hex(8)}",
        {"user_id": user.id, "url": verify_url(user)},
        user_id=user.id,
    )


def queue_signup_exists(session: Session, user: User) -> bool:
    """Tell the owner of an address that someone tried to sign up with it (not committed),
    with what fits the account: log in and a reset link, or the invitation to accept, or (never
    confirmed) a reset link that makes it theirs; throttled like password resets."""
    if not user.is_active or _recent(session, "signup_exists", user) >= THROTTLE_COUNT:
        return False
    config = current_app.config
    payload: dict[str, Any] = {
        "user_id": user.id,
        "login_url": public_url(config, "/auth/login"),
        "reset_url": public_url(config, RESET_PATH + make_reset_token(user)),
        "confirmed": user.is_verified,
    }
    if not user.is_verified and user.invited_at is not None:
        payload["invitation_url"] = invitation_url(user)
    return queue_message(
        session,
        "signup_exists",
        f"signup_exists:{user.id}:{secrets.token_hex(8)}",
        payload,
        user_id=user.id,
    )


def invitation_message(user: User, invited_by: str | None) -> dict[str, Any]:
    """The outbox row of an invitation for user: kind, a fresh key, the link, who invited."""
    payload: dict[str, Any] = {"user_id": user.id, "url": invitation_url(user)}
    if invited_by:
        payload["invited_by"] = " ".join(str(invited_by).split())[:120]
    return {
        "kind": "invitation",
        "dedupe_key": f"invitation:{user.id}:{secrets.token_hex(8)}",
        "payload": payload,
        "user_id": user.id,
    }


def queue_invitation_email(session: Session, user: User, invited_by: str | None) -> bool:
    """Queue an invitation (not committed): at most one per person a day; False for closed,
    deleted or verified accounts."""
    if not user.is_active or user.is_verified:
        return False
    if user.invited_at is None:
        user.invited_at = utcnow()
    session.flush()
    if _recent(session, "invitation", user, DAY) >= 1:
        return False
    row = invitation_message(user, invited_by)
    return queue_message(session, row["kind"], row["dedupe_key"], row["payload"], row["user_id"])


def sign_up(
    session: Session,
    display_name: str,
    email: str,
    password: str,
    profile: ProfileData,
    programmes: Sequence[Choice] | None,
) -> User | None:
    """Web sign-up (not committed): a new address gets an unverified account and the email
    confirming it; an address that has an account gets an email saying someone tried, and
    nothing else changes. Returns the new account or None; callers show the same page for
    both, and both do the same work (the account is built, then undone for a taken address),
    so neither the answer, a programme's refusal nor the time it takes tells them apart.
    Raises SignupRefused (a programme's refusal) in both cases alike."""
    existing = find_user_by_email(session, email)
    if existing is None:
        user = register_user(
            session, display_name, email, password, profile, programmes=programmes, verified=False
        )
        queue_verification(session, user)
        return user
    stand_in = f"signup-{secrets.token_hex(8)}@stand-in.invalid"
    trial = session.begin_nested()
    try:
        register_user(
            session,
            display_name,
            stand_in,
            password,
            profile,
            programmes=programmes,
            verified=False,
        )
        session.flush()
    finally:
        trial.rollback()
    queue_signup_exists(session, existing)
    return None


def sso_name(config: Mapping[str, Any] | None = None) -> str | None:
    """The single sign-on to offer by name ("Sign in with <name>"), or None when this app has
    none configured (matcher.auth.sso registers its provider as an app extension)."""
    provider = current_app.extensions.get(SSO_EXTENSION)
    name = getattr(provider, "name", None)
    return str(name) if name else None


def password_login(config: Mapping[str, Any]) -> bool:
    """Whether passwords may be used here (PASSWORD_LOGIN false: single sign-on only)."""
    return bool(config.get("PASSWORD_LOGIN", True))
