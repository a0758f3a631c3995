"""Account messages: password reset, address confirmation, invitations, and "you already
have an account" for a sign-up with a taken address."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import Message
from typing import Any

from flask import render_template
from sqlalchemy.orm import Session

from matcher.auth.verification import sso_name
from matcher.models import OutboxMessage, User
from matcher.notify.render import Undeliverable, new_email, recipient, renderer


def _url(message: OutboxMessage, key: str, required: bool = True) -> str | None:
    value = message.payload.get(key)
    if isinstance(value, str):
        return value
    if required:
        raise Undeliverable(f"bad payload: {key}")
    return None


def _days(config: Mapping[str, Any], setting: str, default: int) -> int:
    return max(1, int(config.get(setting, default)) // 86400)


def _minutes(config: Mapping[str, Any], setting: str, default: int) -> int:
    return max(1, int(config.get(setting, default)) // 60)


def _account_email(
    config: Mapping[str, Any],
    message: OutboxMessage,
    user: User,
    subject: str,
    template: str,
    **context: Any,
) -> Message:
    """An account message to user: templates email/<template>.txt and .html, with the
    person's name and the organisation's in their context."""
    context = {
        "name": user.display_name,
        "org_name": config.get("ORG_NAME", "Engineering"),
        **context,
    }
    bodies = (
        render_template(f"email/{template}.txt", **context),
        render_template(f"email/{template}.html", **context),
    )
    return new_email(config, message, user, subject, bodies)


@renderer("password_reset")
def render_password_reset(
    session: Session, message: OutboxMessage, config: Mapping[str, Any]
) -> Message:
    """The password-reset link, and how long it stays valid."""
    user = recipient(session, message)
    return _account_email(
        config,
        message,
        user,
        "Reset your matcher password",
        "password_reset",
        url=_url(message, "url"),
        minutes=_minutes(config, "PASSWORD_RESET_MAX_AGE", 3600),
    )


@renderer("verify_email")
def render_verify_email(
    session: Session, message: OutboxMessage, config: Mapping[str, Any]
) -> Message:
    """The link confirming a new account's address, and how long it stays valid."""
    user = recipient(session, message)
    return _account_email(
        config,
        message,
        user,
        "Confirm your email address for matcher",
        "verify_email",
        url=_url(message, "url"),
        days=_days(config, "EMAIL_VERIFY_MAX_AGE", 3 * 86400),
    )


@renderer("invitation")
def render_invitation(
    session: Session, message: OutboxMessage, config: Mapping[str, Any]
) -> Message:
    """An invitation for an imported or provisioned person: who invited them, the link to
    accept (a password or single sign-on), how long it stays valid."""
    user = recipient(session, message)
    inviter = message.payload.get("invited_by")
    return _account_email(
        config,
        message,
        user,
        "You are invited to matcher",
        "invitation",
        url=_url(message, "url"),
        inviter=inviter if isinstance(inviter, str) and inviter else "Your organisation",
        sso=sso_name(config),
        days=_days(config, "INVITATION_MAX_AGE", 30 * 86400),
    )


@renderer("signup_exists")
def render_signup_exists(
    session: Session, message: OutboxMessage, config: Mapping[str, Any]
) -> Message:
    """Someone tried to sign up with an address that has an account: log in, reset, or accept
    the invitation instead."""
    user = recipient(session, message)
    return _account_email(
        config,
        message,
        user,
        "You already have a matcher account",
        "signup_exists",
        login_url=_url(message, "login_url"),
        reset_url=_url(message, "reset_url"),
        invitation_url=_url(message, "invitation_url", required=False),
        confirmed=bool(message.payload.get("confirmed")),
        minutes=_minutes(config, "PASSWORD_RESET_MAX_AGE", 3600),
    )
