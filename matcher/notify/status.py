"""Where queued messages go and when: for the admin console and `flask outbox status`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher.models import OutboxMessage
from matcher.notify.background import background_sender_running

if TYPE_CHECKING:
    from flask import Flask


@dataclass(frozen=True)
class OutboxCounts:
    """How many messages wait, were sent or were given up, and the oldest waiting one."""

    pending: int
    retrying: int
    sent: int
    failed: int
    oldest_pending: datetime | None
    last_sent: datetime | None


@dataclass(frozen=True)
class Delivery:
    """A sentence each for where messages go and when they leave."""

    where: str
    when: str


def outbox_counts(session: Session) -> OutboxCounts:
    """Counts over the whole outbox (a few aggregate queries)."""
    waiting = (OutboxMessage.sent_at.is_(None), OutboxMessage.gave_up_at.is_(None))
    count = select(func.count()).select_from(OutboxMessage)
    return OutboxCounts(
        pending=session.scalar(count.where(*waiting)) or 0,
        retrying=session.scalar(count.where(*waiting, OutboxMessage.attempts > 0)) or 0,
        sent=session.scalar(count.where(OutboxMessage.sent_at.is_not(None))) or 0,
        failed=session.scalar(count.where(OutboxMessage.gave_up_at.is_not(None))) or 0,
        oldest_pending=session.scalar(select(func.min(OutboxMessage.created_at)).where(*waiting)),
        last_sent=session.scalar(select(func.max(OutboxMessage.sent_at))),
    )


def delivery(config: Mapping[str, Any], instance_path: str | Path, in_app: bool) -> Delivery:
    """Where this configuration delivers, and what sends it (this process or a command)."""
    if config.get("MAIL_SERVER"):
        where = f"Emails go to the mail server {config['MAIL_SERVER']}:{config['MAIL_PORT']}"
    else:
        folder = Path(instance_path) / "outbox"
        where = f"No mail server is set (MAIL_SERVER): emails are written as .eml files to {folder}"
    if config.get("CHAT_WEBHOOK_URL"):
        where += "; round announcements are posted to the chat webhook"
    if in_app:
        when = "This server sends them itself, within a few seconds."
    else:
        when = (
            "They leave when `flask outbox send` (cron) or `flask rounds scheduler` next runs; "
            "until then they wait in the outbox."
        )
    return Delivery(where=where + ".", when=when)


def delivery_here(app: Flask) -> Delivery:
    """Where this app's configuration delivers messages, and whether this process sends them."""
    return delivery(app.config, app.instance_path, background_sender_running(app))
