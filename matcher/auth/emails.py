"""Account messages: password reset, address confirmation, invitations, and "you already
have an account" for a sign-up with a taken address."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import Message
from typing import Any

from flask import render_template
from sqlalchemy.orm import Session

from matcher.auth.verification import sso_name
from matcher.models import OutboxMessage
from matcher.notify.render import Undeliverable, new_email, recipient, renderer


@renderer("password_reset")
def render_password_reset(
    session: Session, message: OutboxMessage, config: Mapping[str, Any]
) -> Message:
    """The password-reset link, and how long it stays valid."""
    user = recipient(session, message)
    url = message.payload.get("url")
    if not isinstance(url, str):
        raise Undeliverable("bad payload: url")
    context = {
        "name": user.display_name,
        "url": url,
        "minutes": max(1, int(config.get("PASSWORD_RESET_MAX_AGE", 3600)) // 60),
        "org_name": config.get("ORG_NAME", "Engineering"),
    }
    return new_email(
        config,
        message,
        user,
        "Reset your matcher password",
        (
            render_template("email/password_reset.txt", **context),
            render_template("email/password_reset.html", **context),
        ),
    )


def _url(message: OutboxMessage, key: str, required: bool = True) -> str | None:
    value = message.payload.get(key)
    if isinstance(value, str):
        return value
    if required:
        raise Undeliverable(f"bad payload: {key}")
    return None


def _days(config: Mapping[str, Any], setting: str, default: int) -> int:
    return max(1, int(config.get(setting, default)) // 86400)


@renderer("verify_email")
def render_verify_email(
    session: Session, message: OutboxMessage, config: Mapping[str, Any]
) -> Message:
    """The link confirming a new account's address, and how long it stays valid."""
    user = recipient(session, message)
    context = {
        "name": user.display_name,
        "url": _url(message, "url"),
        "days": _days(config, "EMAIL_VERIFY_MAX_AGE", 3 * 86400),
        "org_name": config.get("ORG_NAME", "Engineering"),
    }
    return new_email(
        config,
        message,
        user,
        "Confirm your email address for matcher",
        (
            render_template("email/verify_email.txt", **context),
            render_template("email/verify_email.html", **context),
        ),
    )


@renderer("invitation")
def render_invitation(
    session: Session, message: OutboxMessage, config: Mapping[str, Any]
) -> Message:
    """An invitation for an imported or provisioned person: who invited them, the link to
    accept (a password or single sign-on), how long it stays valid."""
    user = recipient(session, message)
    org_name = config.get("ORG_NAME", "Engineering")
    inviter = message.payload.get("invited_by")
    context = {
        "name": user.display_name,
        "url": _url(message, "url"),
        "inviter": inviter if isinstance(inviter, str) and inviter else "Your organisation",
        "sso": sso_name(config),
        "days": _days(config, "INVITATION_MAX_AGE", 30 * 86400),
        "org_name": org_name,
    }
    return new_email(
        config,
        message,
        user,
        "You are invited to matcher",
        (
            render_template("email/invitation.txt", **context),
            render_template("email/invitation.html", **context),
        ),
    )


@renderer("signup_exists")
def render_signup_exists(
    session: Session, message: OutboxMessage, config: Mapping[str, Any]
) -> Message:
    """Someone tried to sign up with an address that has an account: log in, reset, or accept
    the invitation instead."""
    user = recipient(session, message)
    context = {
        "name": user.display_name,
        "login_url": _url(message, "login_url"),
        "reset_url": _url(message, "reset_url"),
        "invitation_url": _url(message, "invitation_url", required=False),
        "confirmed": bool(message.payload.get("confirmed")),
        "minutes": max(1, int(config.get("PASSWORD_RESET_MAX_AGE", 3600)) // 60),
        "org_name": config.get("ORG_NAME", "Engineering"),
    }
    return new_email(
        config,
        message,
        user,
        "You already have a matcher account",
        (
            render_template("email/signup_exists.txt", **context),
            render_template("email/signup_exists.html", **context),
        ),
    )
