"""SIGKILL `outbox send` mid-batch: after the lease, every message arrives, at most one twice."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from matcher.extensions import db
from matcher.models import OutboxMessage
from matcher.models.people import utcnow
from matcher.notify.sender import LEASE, send_pending
from matcher.rounds import publishing
from tests.faults.support import count, flask_process, load_organisation
from tests.notify.support import smtp_server
from tests.support import coffee

pytestmark = pytest.mark.real_clock("kills flask sender processes")

PEOPLE = 200
BATCH = 80
KILL_AT_RECEIVED = 30


def received_outbox_ids(server) -> Counter[int]:
    """How often each outbox row arrived, by its stable Message-ID <outbox-ID@domain>."""
    ids: Counter[int] = Counter()
    for message in server.messages:
        match = re.fullmatch(r"<outbox-(\d+)@[^>]+>", str(message["Message-ID"]))
        assert match, message["Message-ID"]
        ids[int(match.group(1))] += 1
    return ids


def test_killed_sender_loses_nothing_and_duplicates_at_most_the_message_in_flight(app):
    load_organisation(app, PEOPLE)
    with app.app_context():
        assert publishing.run_round(
            db.session, coffee(db.session), "2026-W49", publish=True
        ).published
        db.session.commit()
        queued = set(db.session.scalars(select(OutboxMessage.id)))
        db.session.remove()
    assert len(queued) == PEOPLE

    with smtp_server() as server:
        sender = flask_process(
            app,
            "outbox",
            "send",
            MATCHER_MAIL_SERVER="127.0.0.1",
            MATCHER_MAIL_PORT=str(server.port),
            MATCHER_OUTBOX_BATCH_SIZE=str(BATCH),
        )
        deadline = time.monotonic() + 30
        while len(server.handler.envelopes) < KILL_AT_RECEIVED and time.monotonic() < deadline:
            assert sender.poll() is None, sender.communicate()
            time.sleep(0.005)
        sender.send_signal(signal.SIGKILL)
        sender.communicate(timeout=30)
        assert sender.returncode == -signal.SIGKILL
        at_kill = len(server.handler.envelopes)
        # Killed inside its first batch: some of that batch is still leased to the dead sender.
        assert KILL_AT_RECEIVED <= at_kill < BATCH
        leased = count(app, OutboxMessage, OutboxMessage.claim_token.is_not(None))
        assert 0 < leased <= BATCH

        config = {**app.config, **server.config, "OUTBOX_BATCH_SIZE": BATCH}
        with app.app_context():
            # Within the lease nobody touches the dead sender's batch; the other batches go.
            report = send_pending(db.session, config)
            assert report.sent == PEOPLE - BATCH
            assert count(app, OutboxMessage, OutboxMessage.sent_at.is_(None)) == leased
            # Once the lease has run out, the batch is reclaimed and sent.
            later = utcnow() + LEASE + timedelta(seconds=1)
            report = send_pending(db.session, config, now=later)
            assert report.sent == leased
            db.session.remove()

        received = received_outbox_ids(server)
    assert count(app, OutboxMessage, OutboxMessage.sent_at.is_(None)) == 0
    assert set(received) == queued, "every message arrives"
    # The bound: a SIGKILL between the server's 250 OK and the autocommitted sent_at can
    # repeat the one message that was in flight; nothing else may arrive twice.
    twice = [outbox_id for outbox_id, n in received.items() if n > 1]
    assert len(twice) <= 1 and all(received[i] == 2 for i in twice), twice
    assert sum(received.values()) in (PEOPLE, PEOPLE + 1)
