"""Fixtures for notification tests: rounds built from real rows, a send time (helpers are in
support.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask import Flask

from matcher.extensions import db
from matcher.models import MatchGroup, Membership, Round
from matcher.models.people import utcnow

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


@pytest.fixture
def t0() -> datetime:
    """A send time derived from the real clock, never a fixed date: messages queued in the
    test (their next attempt is "now" when queued) are due at t0."""
    return utcnow().replace(microsecond=0) + timedelta(minutes=1)
