"""The outbox's renderers by message kind, and the parts every email shares.

Knows no feature: each feature registers the renderers of its own message kinds
(rounds/emails.py, feedback/emails.py, auth/emails.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.header import Header
from email.message import Message
from email.utils import format_datetime, parseaddr
from typing import Any

from flask import render_template
from sqlalchemy.orm import Session

from matcher.models import OutboxMessage, User
from matcher.notify.mime import (
    build_email,
    calendar_part,
    header_text,
    mailbox,
    mailbox_list,
    one_line,
)

Rendered = Message | dict[str, Any]
Renderer = Callable[[Session, OutboxMessage, Mapping[str, Any]], Rendered]

Preloader = Callable[[Session, Sequence[OutboxMessage]], list[Any]]

RENDERERS: dict[str, Renderer] = {}
PRELOADERS: dict[str, Preloader] = {}


# A chat body (a dict) may carry the webhook it goes to under this key (a programme's own
# channel); the sender takes it out before posting. Without it: the app's CHAT_WEBHOOK_URL.
WEBHOOK_KEY = "webhook_url"


class Undeliverable(Exception):
    """The message can never be sent (recipient deleted, round gone): drop it, do not retry."""


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Register a renderer for kind."""

    def register(function: Renderer) -> Renderer:
        RENDERERS[kind] = function
        return function

    return register


def preloader(kind: str) -> Callable[[Preloader], Preloader]:
    """Register a function that loads, for a batch of kind's messages, what they need."""

    def register(function: Preloader) -> Preloader:
        PRELOADERS[kind] = function
        return function

    return register


def preload(session: Session, messages: Sequence[OutboxMessage]) -> list[Any]:
    """Load what a batch's renderers need in a few queries; keep the result referenced."""
    by_kind: dict[str, list[OutboxMessage]] = {}
    for message in messages:
        by_kind.setdefault(message.kind, []).append(message)
    loaded: list[Any] = []
    for kind, batch in by_kind.items():
        function = PRELOADERS.get(kind)
        if function is not None:
            loaded += function(session, batch)
    return loaded


def render(session: Session, message: OutboxMessage, config: Mapping[str, Any]) -> Rendered:
    """Render message with its kind's renderer; raise Undeliverable when it cannot be sent."""
    function = RENDERERS.get(message.kind)
    if function is None:
        raise Undeliverable(f"unknown message kind {message.kind!r}")
    return function(session, message, config)


def payload_int(message: OutboxMessage, key: str) -> int:
    """An integer from the payload; a payload without it can never be sent (Undeliverable)."""
    value = message.payload.get(key) if isinstance(message.payload, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise Undeliverable(f"bad payload: no integer {key!r}")
    return value


def recipient(session: Session, message: OutboxMessage) -> User:
    """The live user a message goes to (payload "user_id"), or Undeliverable."""
    user = session.get(User, payload_int(message, "user_id"))
    if user is None or user.is_deleted:
        raise Undeliverable("recipient deleted")
    return user


def new_email(
    config: Mapping[str, Any],
    message: OutboxMessage,
    to: User,
    subject: str,
    bodies: tuple[str, str],
    invitation: bytes | None = None,
    reply_to: list[User] | None = None,
) -> Message:
    """An email to one user with the standard headers, (text, html) bodies, an optional
    calendar entry, and Reply-To the people in reply_to (answers go to them, not to us)."""
    sender, domain = _sender(config["MAIL_FROM"])
    headers = [
        ("Subject", header_text(subject)),
        ("From", sender),
        ("To", mailbox(to.display_name, to.email)),
    ]
    if reply_to:
        headers.append(("Reply-To", mailbox_list([(u.display_name, u.email) for u in reply_to])))
    headers += [
        # Stable per outbox row: a re-send after a crash is the same message to mail clients.
        ("Message-ID", f"<outbox-{message.id}@{domain}>"),
        ("Date", format_datetime(datetime.now(UTC))),
        ("Auto-Submitted", "auto-generated"),
    ]
    attachment = calendar_part(invitation) if invitation is not None else None
    return build_email(headers, bodies[0], bodies[1], attachment)


@functools.lru_cache(maxsize=16)
def _sender(mail_from: str) -> tuple[str | Header, str]:
    # The From header and the Message-ID domain, parsed once rather than for every email.
    name, address = parseaddr(mail_from)
    return mailbox(name, address), address.rpartition("@")[2] or "matcher"


def notice_email(
    config: Mapping[str, Any],
    message: OutboxMessage,
    user: User,
    subject: str,
    paragraphs: list[str],
    link: tuple[str, str],
) -> Message:
    """A short email: a greeting, a few paragraphs and one link."""
    context = {
        "name": user.display_name,
        "paragraphs": paragraphs,
        "link_label": link[0],
        "link_url": link[1],
        "org_name": config.get("ORG_NAME", "Engineering"),
    }
    return new_email(
        config,
        message,
        user,
        subject,
        (
            render_template("email/notice.txt", **context),
            render_template("email/notice.html", **context),
        ),
    )


def slack_escape(text: str) -> str:
    """Escape &, < and > so a name like '<!channel>' cannot ping or link anything."""
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
