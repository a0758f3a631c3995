"""Account messages: the password-reset link."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import Message
from typing import Any

from flask import render_template
from sqlalchemy.orm import Session

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
