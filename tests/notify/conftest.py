"""Fixtures for notification tests: rounds built from real rows, and sending helpers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from matcher.extensions import db
from matcher.models import MatchGroup, Membership, OutboxMessage, Round
from matcher.models.people import utcnow
from matcher.notify import queue_messages, send_pending
from matcher.rounds.emails import round_messages

REASONS = ["You both work on Checkout", "You both like Rust"]


@pytest.fixture
def make_round(app: Flask):
    """Store a round whose groups are lists of user ids; return (round id, group ids)."""

    def create(
        groups: list[list[int]],
        week: str = "2026-W49",
        meeting_at: datetime | None = datetime(2026, 12, 1, 14, 0),
        reasons: list[str] | None = None,
    ) -> tuple[int, list[int]]:
        with app.app_context():
            round_ = Round(week=week, starts_on=date(2026, 11, 30), status="published", rules={})
            db.session.add(round_)
            db.session.flush()
            stored = []
            for members in groups:
                group = MatchGroup(
                    round=round_, reasons=list(REASONS if reasons is None else reasons)
                )
                group.meeting_at = meeting_at
                db.session.add(group)
                for user_id in members:
                    group.memberships.append(Membership(round_id=round_.id, user_id=user_id))
                stored.append(group)
            db.session.commit()
            return round_.id, [g.id for g in stored]

    return create


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


@pytest.fixture
def t0() -> datetime:
    """A send time derived from the real clock, never a fixed date: messages queued in the
    test (their next attempt is "now" when queued) are due at t0."""
    return utcnow().replace(microsecond=0) + timedelta(minutes=1)
