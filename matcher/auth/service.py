"""Account service: registration, authentication and admin creation."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from matcher.models import Profile, User
from matcher.models.people import new_session_token
from matcher.profile.service import ProfileData, update_profile

# Checked against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH: dict[str, str] = {}


class EmailTaken(ValueError):
    """An account with that email exists already (in any letter case)."""


def normalise_email(email: str) -> str:
    """The stored form of an email: trimmed and lower-cased."""
    return email.strip().lower()


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
) -> User:
    """Add a user with their profile (not committed); raises EmailTaken."""
    if find_user_by_email(session, email) is not None:
        raise EmailTaken("An account with this email already exists. Log in instead?")
    user = User(
        email=normalise_email(email),
        display_name=" ".join(display_name.split()),
        password_hash=hash_password(password),
        is_admin=is_admin,
    )
    session.add(user)
    if profile is not None:
        update_profile(session, user, profile)
    else:
        # Without a profile (an admin made from the CLI) nobody should be paired with them.
        session.add(Profile(user=user, opted_out=True))
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with that email and password, or None."""
    user = find_user_by_email(session, email)
    if user is None or not user.is_active:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        dummy = _DUMMY_HASH.setdefault(method, generate_password_hash("x", method=method))
        check_password_hash(dummy, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


def set_password(user: User, password: str) -> None:
    """Change the password and end every other session of the user."""
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
