"""Accounts: sign-up, log-in, log-out and who the current user is."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from matcher.auth import complete, sso, verify_views, views
from matcher.extensions import db, login_manager
from matcher.models import User

# Built once: building the statement and its loader options cost as much as running it.
_USER_WITH_PROFILE = (
    select(User)
    .where(User.id == bindparam("user_id"))
    .options(joinedload(User.profile), joinedload(User.team))
)


def init_app(app: Flask) -> None:
    """Teach flask-login how to find the user behind a session."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    sso.init_app(app)

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, token = session_id.partition(":")
        if not user_id.isdigit() or not token:
            return None
        # One statement: every page reads the profile (the time zone), and the team is one
        # row more in the same join (the profile page, who may join which programme).
        user = (
            db.session.execute(_USER_WITH_PROFILE, {"user_id": int(user_id)})
            .unique()
            .scalar_one_or_none()
        )
        # A rotated token (log-out everywhere, deletion) ends every older session.
        if user is None or user.session_token != token or not user.is_active:
            return None
        return user


__all__ = ["complete", "init_app", "sso", "verify_views", "views"]
