"""Deliver due outbox messages exactly once, even with several senders running at once."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

from flask import current_app
from sqlalchemy import Connection, or_, select, update
from sqlalchemy.orm import Session

from matcher.models import OutboxMessage
from matcher.models.people import utcnow
from matcher.notify.mail import (
    DeliveryError,
    MailTransport,
    TransportUnavailable,
    mail_transport,
    post_webhook,
)
from matcher.notify.render import WEBHOOK_KEY, Rendered, Undeliverable, preload, render

log = logging.getLogger(__name__)

# How long a claim is ours; a sender that dies frees its batch when the lease runs out.
LEASE = timedelta(minutes=5)
# Stop using a claim well before the lease ends, so nobody else can have taken it over.
LEASE_MARGIN = 0.8
MAX_BACKOFF = 3600.0


@dataclass
class SendReport:
    """What one send_pending run did."""

    sent: int = 0
    retried: int = 0
    gave_up: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, retried later {self.retried}, gave up {self.gave_up}, "
            f"skipped {self.skipped}"
        )


@dataclass
class _Item:
    """A claimed message, rendered; plain values so commits cannot expire them."""

    id: int
    attempts: int
    kind: str
    body: Rendered | None = None
    undeliverable: str | None = None
    error: str | None = None


def backoff(attempts: int, base: float) -> timedelta:
    """Delay before the next try after `attempts` failures: base, 2*base, 4*base ... <= 1 h."""
    seconds = min(max(base, 1.0) * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
    return timedelta(seconds=seconds)


def send_pending(
    session: Session,
    config: Mapping[str, Any],
    now: datetime | None = None,
    limit: int | None = None,
) -> SendReport:
    """Claim and deliver every due message (at most limit); commits as it goes."""
    sender = _Sender(session, config, now)
    try:
        return sender.run(limit)
    finally:
        sender.close()


class _Sender:
    def __init__(self, session: Session, config: Mapping[str, Any], now: datetime | None) -> None:
        self.session = session
        self.config = config
        self.fixed_now = now
        self.run_start = now or utcnow()
        self.report = SendReport()
        self.batch_size = max(1, int(config.get("OUTBOX_BATCH_SIZE") or 200))
        self.max_attempts = max(1, int(config.get("OUTBOX_MAX_ATTEMPTS") or 8))
        self.retry_base = float(config.get("OUTBOX_RETRY_BASE", 60))
        self._mail: MailTransport | None = None
        self._outcomes: Connection | None = None

    def now(self) -> datetime:
        return self.fixed_now or utcnow()

    @property
    def mail(self) -> MailTransport:
        if self._mail is None:
            self._mail = mail_transport(self.config, current_app.instance_path)
        return self._mail

    def close(self) -> None:
        if self._mail is not None:
            self._mail.close()

    def run(self, limit: int | None) -> SendReport:
        handled = 0
        while limit is None or handled < limit:
            size = self.batch_size if limit is None else min(self.batch_size, limit - handled)
            token, messages = self.claim(size)
            if not messages:
                break
            handled += len(messages)
            items = self.render(messages)
            del messages
            # Each per-message commit below would otherwise expire every object loaded for
            # rendering (thousands per batch); from here on only plain values are needed.
            self.session.expunge_all()
            self.deliver(token, items)
        return self.report

    def claim(self, size: int) -> tuple[str, list[OutboxMessage]]:
        """Claim up to size due messages with one guarded UPDATE, then read back ours."""
        now = self.now()
        unclaimed = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
        due = (
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.gave_up_at.is_(None),
            # run_start, not now: what this run deferred is not due again within the run.
            OutboxMessage.next_attempt_at <= self.run_start,
            unclaimed,
        )
        ids = self.session.scalars(
            select(OutboxMessage.id)
            .where(*due)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(size)
        ).all()
        if not ids:
            self.session.rollback()
            return "", []
        token = secrets.token_hex(16)
        # The WHERE repeats the conditions: a concurrent sender that claimed some of these ids
        # first keeps them (PostgreSQL re-checks the row after waiting for its lock; SQLite
        # runs one writer at a time).
        self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), *due)
            .values(claim_token=token, claimed_until=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        self.session.commit()
        messages = self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.claim_token == token)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        ).all()
        return token, list(messages)

    def render(self, messages: list[OutboxMessage]) -> list[_Item]:
        """Render the whole batch before sending anything: commits would expire what we loaded."""
        keep = preload(self.session, messages)  # noqa: F841 - holds the loaded rows in memory
        items = []
        for message in messages:
            item = _Item(id=message.id, attempts=message.attempts, kind=message.kind)
            try:
                item.body = render(self.session, message, self.config)
            except Undeliverable as reason:
                item.undeliverable = str(reason)
            except Exception as error:  # a bug or bad data: keep the message, retry later
                log.exception("Could not render outbox message %s", message.id)
                self.session.rollback()
                item.error = f"could not render: {type(error).__name__}"
            items.append(item)
        return items

    def deliver(self, token: str, items: list[_Item]) -> None:
        """Send each item, recording the outcome of each in its own commit."""
        # End the rendering's read transaction, then record outcomes on one connection held
        # for the batch (a pool checkout per message would cost a pre-ping round trip each),
        # in autocommit mode: each outcome is one UPDATE, durable the moment it returns, with
        # no BEGIN and COMMIT round trips around it.
        self.session.rollback()
        with self.session.get_bind().connect() as connection:
            self._outcomes = connection.execution_options(isolation_level="AUTOCOMMIT")
            try:
                self._deliver(token, items)
            finally:
                self._outcomes = None

    def _deliver(self, token: str, items: list[_Item]) -> None:
        started = time.monotonic()
        down: dict[str, str] = {}  # channel -> why it is unreachable for the rest of the batch
        for item in items:
            channel = "chat" if isinstance(item.body, dict) else "mail"
            if time.monotonic() - started > LEASE.total_seconds() * LEASE_MARGIN:
                self.release(token, item, None)
                continue
            if item.undeliverable is not None:
                self.give_up(token, item, item.undeliverable)
                continue
            if item.error is not None:
                self.fail(token, item, item.error, transient=False)
                continue
            if channel in down:
                self.release(token, item, down[channel])
                continue
            try:
                self.send(item.body)
            except TransportUnavailable as error:
                down[channel] = f"not tried: {error}"
                self.fail(token, item, str(error), transient=True)
            except DeliveryError as error:
                self.fail(token, item, str(error), transient=False)
            else:
                self.mark_sent(token, item)

    def send(self, body: Rendered | None) -> None:
        if isinstance(body, Message):
            self.mail.send(body)
            return
        assert body is not None
        # A chat body may name its own webhook (a programme's channel); else the app's.
        body = dict(body)
        url = body.pop(WEBHOOK_KEY, None) or self.config.get("CHAT_WEBHOOK_URL")
        if not url:
            raise DeliveryError("CHAT_WEBHOOK_URL is not set")
        post_webhook(url, body, float(self.config.get("MAIL_TIMEOUT") or 10))

    def _update(self, token: str, item: _Item, **values: Any) -> None:
        assert self._outcomes is not None
        # Guarded by our token: if the lease ran out and another sender took over, we touch
        # nothing of theirs. Committed at once (autocommit): once the server has a message,
        # only a crash in the next few milliseconds could let it be sent again.
        table = OutboxMessage.__table__
        result = self._outcomes.execute(
            update(table)
            .where(table.c.id == item.id, table.c.claim_token == token)
            .values(claim_token=None, claimed_until=None, **values)
        )
        if result.rowcount != 1:
            log.warning("Outbox message %s: claim lost before recording the outcome", item.id)

    def mark_sent(self, token: str, item: _Item) -> None:
        self._update(token, item, sent_at=self.now())
        self.report.sent += 1

    def give_up(self, token: str, item: _Item, reason: str) -> None:
        log.warning("Outbox message %s dropped: %s", item.id, reason)
        self._update(token, item, gave_up_at=self.now(), last_error=reason[:500])
        self.report.gave_up += 1

    def fail(self, token: str, item: _Item, error: str, transient: bool) -> None:
        """Count a failed attempt; give up after the maximum unless the server was unreachable."""
        attempts = item.attempts + 1
        now = self.now()
        # An unreachable server says nothing about the message: it waits, and is never lost.
        if attempts >= self.max_attempts and not transient:
            log.warning("Outbox message %s gave up after %s attempts: %s", item.id, attempts, error)
            self._update(token, item, attempts=attempts, gave_up_at=now, last_error=error[:500])
            self.report.gave_up += 1
            return
        delay = backoff(attempts, self.retry_base)
        self._update(
            token, item, attempts=attempts, next_attempt_at=now + delay, last_error=error[:500]
        )
        self.report.retried += 1

    def release(self, token: str, item: _Item, why: str | None) -> None:
        """Give an untried message back, without counting an attempt."""
        values: dict[str, Any] = {}
        if why is not None:
            values = {
                "next_attempt_at": self.now() + backoff(1, self.retry_base),
                "last_error": why,
            }
        self._update(token, item, **values)
        self.report.skipped += 1
