"""Account service: registration, authentication, admin creation and password resets."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from matcher.models import OutboxMessage, Profile, Programme, User
from matcher.models.people import new_session_token, normalise_email, normalise_name, utcnow
from matcher.notify.queue import queue_message
from matcher.profile.service import ProfileData, claim_pending_do_not_pair, update_profile
from matcher.programmes.catalogue import default_programme
from matcher.programmes.members import Choice, JoinError, join

RESET_SALT = "password-reset"
# How much of the session token a reset link carries: enough to tell generations apart.
RESET_TOKEN_PART = 16
RESET_THROTTLE_WINDOW = timedelta(hours=1)
RESET_THROTTLE_COUNT = 5

# Checked against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH: dict[str, str] = {}


class EmailTaken(ValueError):
    """An account with that email exists already (in any letter case)."""


class SignupRefused(JoinError):
    """A programme chosen at sign-up refused the person; `programme_id` says which."""

    def __init__(self, message: str, field: str, programme_id: int | None) -> None:
        super().__init__(message, field)
        self.programme_id = programme_id


def hash_password(password: str) -> str:
    """Hash with the configured werkzeug method (scrypt by default)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def find_user_by_email(session: Session, email: str) -> User | None:
    """The account with that email, in any letter case."""
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def register_user(
    session: Session,
    display_name: str,
    email: str,
    password: str,
    profile: ProfileData | None,
    is_admin: bool = False,
    programmes: Sequence[Choice] | None = None,
    verified: bool = True,
) -> User:
    """Add a user with their profile and the programmes they join (not committed; by default
    the cross-team coffee when they gave a profile); raises EmailTaken or SignupRefused (a
    JoinError naming the programme). `verified=False` for an address nobody has proved yet."""
    if find_user_by_email(session, email) is not None:
        raise EmailTaken("An account with this email already exists. Log in instead?")
    user = User(
        email=normalise_email(email),
        display_name=normalise_name(display_name),
        password_hash=hash_password(password),
        is_admin=is_admin,
        email_verified_at=utcnow() if verified else None,
    )
    session.add(user)
    if profile is not None:
        update_profile(session, user, profile)
        session.flush()
        if programmes is None:
            programmes = [Choice(default_programme(session).id, None, profile.cadence_weeks)]
        today = user.joined_on or utcnow().date()
        for choice in programmes:
            programme = session.get(Programme, choice.programme_id)
            if programme is None:
                raise SignupRefused("That programme does not exist any more.", "programmes", None)
            try:
                join(session, programme, user, choice, today)
            except JoinError as refused:
                raise SignupRefused(str(refused), refused.field, programme.id) from refused
    else:
        # Without a profile (an admin made from the CLI) nobody should be paired with them:
        # an empty profile and no programme.
        session.add(Profile(user=user))
    # People who asked never to be paired with this address, before it had an account.
    claim_pending_do_not_pair(session, user)
    return user


def _dummy_hash() -> str:
    """A hash made once per method: hashing afresh on every miss doubled its time."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY_HASH:
        _DUMMY_HASH[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _DUMMY_HASH[method]


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with that email and password, or None."""
    user = find_user_by_email(session, email)
    if user is None or not user.is_active:
        check_password_hash(_dummy_hash(), password)
        return None
    if user.password_hash is None:  # single sign-on only, or an invitation not yet accepted
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


def set_password(user: User, password: str) -> None:
    """Change the password and end every other session of the user."""
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()


class WrongPassword(ValueError):
    """The current password given to change it is not the account's."""


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password once the current one is checked; ends every session (not committed)."""
    if user.password_hash is None or not check_password_hash(user.password_hash, current):
        raise WrongPassword("That is not your current password.")
    set_password(user, new)


class ResetLinkInvalid(ValueError):
    """A password-reset link that cannot be used; str() says why, status is the HTTP code."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def make_reset_token(user: User) -> str:
    """A signed, timed token for user, valid until their session token rotates."""
    return _reset_serializer().dumps({"u": user.id, "t": user.session_token[:RESET_TOKEN_PART]})


def user_for_reset_token(session: Session, token: str) -> User:
    """The user a reset token belongs to; raises ResetLinkInvalid (400 or 410) when unusable."""
    max_age = int(current_app.config["PASSWORD_RESET_MAX_AGE"])
    try:
        data = _reset_serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise ResetLinkInvalid("This link has expired. Ask for a new one below.", 410) from None
    except BadData:
        raise ResetLinkInvalid(
            "This link is not valid. Check that you copied all of it, or ask for a new one.", 400
        ) from None
    user_id, part = (data.get("u"), data.get("t")) if isinstance(data, dict) else (None, None)
    if not isinstance(user_id, int) or not isinstance(part, str):
        raise ResetLinkInvalid("This link is not valid. Ask for a new one below.", 400)
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise ResetLinkInvalid("This account is closed, so its password cannot be reset.", 410)
    # Setting a password rotates session_token, so a used link (or an older one) stops working.
    if not hmac.compare_digest(part, user.session_token[:RESET_TOKEN_PART]):
        raise ResetLinkInvalid(
            "This link was used already, or the password changed since it was sent. "
            "Ask for a new one below.",
            410,
        )
    return user


def request_password_reset(session: Session, email: str, link: Callable[[str], str]) -> bool:
    """Queue a reset email (not committed) if an active account has that email.

    link turns a token into the absolute URL to send. Returns whether a message was queued;
    callers must not show that to the visitor.
    """
    user = find_user_by_email(session, email)
    if user is None or not user.is_active:
        return False
    since = utcnow() - RESET_THROTTLE_WINDOW
    recent = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.kind == "password_reset",
            OutboxMessage.user_id == user.id,
            OutboxMessage.created_at > since,
        )
    )
    if recent >= RESET_THROTTLE_COUNT:
        # Someone is hammering the form with this address: stop filling their inbox.
        return False
    return queue_message(
        session,
        "password_reset",
        # A random part: asking twice sends twice (the first mail may be lost or expired).
        f"password_reset:{user.id}:{secrets.token_hex(8)}",
        {"user_id": user.id, "url": link(make_reset_token(user))},
        user_id=user.id,
    )
