"""Helpers for notification tests: queue and send a round, read the outbox; real servers
(aiosmtpd on loopback, a webhook in a thread)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from matcher.extensions import db
from matcher.matching import Group, Participant, Problem, Rules, solve
from matcher.models import OutboxMessage, Round
from matcher.notify import queue_messages, send_pending
from matcher.rounds.emails import round_messages


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RecordingHandler:
    """aiosmtpd handler that keeps every accepted message; can refuse the next few."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.refuse_next = 0
        self.refused = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                self.refused += 1
                return "451 4.3.0 try again later"
            self.envelopes.append(envelope)
        return "250 OK"

    @property
    def messages(self) -> list[EmailMessage]:
        """The accepted messages, parsed."""
        with self.lock:
            raw = [e.content for e in self.envelopes]
        return [email.message_from_bytes(r, policy=email.policy.default) for r in raw]


class SMTPServer:
    """A real SMTP server on loopback that can be stopped and started on the same port."""

    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def config(self) -> dict[str, Any]:
        """App config pointing the mailer at this server."""
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_TIMEOUT": 5}

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages


@contextmanager
def smtp_server(started: bool = True) -> Iterator[SMTPServer]:
    """An SMTPServer for the duration of a with block (started unless asked otherwise)."""
    server = SMTPServer()
    if started:
        server.start()
    try:
        yield server
    finally:
        server.stop()


class WebhookServer:
    """A local HTTP server recording JSON posts; answers `status` (200 unless changed)."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                if outer.status == 200:
                    outer.bodies.append(body)
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/secret-token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)


@contextmanager
def webhook_server() -> Iterator[WebhookServer]:
    """A running WebhookServer for the duration of a with block."""
    server = WebhookServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def body_text(message: EmailMessage, subtype: str) -> str:
    """The text of message's text/<subtype> part."""
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return part.get_content()


def calendar_part(message: EmailMessage) -> EmailMessage | None:
    """The text/calendar attachment, if any."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part
    return None


def utc(*args: int) -> datetime:
    """A naive UTC datetime, as the database stores them."""
    return datetime(*args)


def engine_group(people: Sequence[Participant]) -> Group:
    """The engine's group of exactly these people (score, facts), as the test chose them.

    Like an admin's swap (admin/drafts.py rescore): the engine solves a problem of just these
    people, any teams allowed and no history (they meet for the first time), and must put them
    all in one group.
    """
    rules = Rules(cross_team_only=False, group_size=min(len(people), 4))
    result = solve(Problem(participants=tuple(people), rules=rules))
    ids = sorted(p.id for p in people)
    assert [sorted(g.members) for g in result.groups] == [ids], f"no one group of {ids}"
    return result.groups[0]


def queue_round(app: Flask, round_id: int, **config: Any) -> int:
    """Queue a round's announcements the way the round service does, and commit."""
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        count = queue_messages(
            db.session, round_messages(db.session, round_, {**app.config, **config})
        )
        db.session.commit()
        return count


def send(app: Flask, now: datetime | None = None, **config: Any):
    """Run the sender once with config overrides."""
    with app.app_context():
        return send_pending(db.session, {**app.config, **config}, now=now)


def outbox_rows(app: Flask) -> list[dict[str, Any]]:
    """Every outbox row as a plain dict, in id order."""
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        columns = [c.key for c in OutboxMessage.__table__.columns]
        return [{c: getattr(row, c) for c in columns} for row in rows]
