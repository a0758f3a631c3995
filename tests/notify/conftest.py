"""Fixtures for notification tests: rounds built from real rows and the engine's facts, a send
time (helpers are in support.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask import Flask

from matcher.extensions import db
from matcher.models import MatchGroup, Membership, Round
from matcher.models.people import utcnow
from matcher.programmes.catalogue import default_programme
from matcher.rounds.participants import select_participants
from tests.notify.support import engine_group


@pytest.fixture
def make_round(app: Flask):
    """Store a published round whose groups are lists of user ids; return (round id, group ids).

    The test picks the groups; each stores the score and facts the engine gives for exactly
    those people, read from their rows as a round would read them.
    """

    def create(
        groups: list[list[int]],
        week: str = "2026-W49",
        meeting_at: datetime | None = datetime(2026, 12, 1, 14, 0),
    ) -> tuple[int, list[int]]:
        with app.app_context():
            monday = date(2026, 11, 30)
            programme = default_programme(db.session)
            round_ = Round(
                programme_id=programme.id,
                week=week,
                starts_on=monday,
                status="published",
                rules={},
            )
            db.session.add(round_)
            db.session.flush()
            taking_part = {p.id: p for p in select_participants(db.session, programme, monday)[0]}
            stored = []
            for members in groups:
                solved = engine_group([taking_part[user_id] for user_id in members])
                group = MatchGroup(
                    round=round_,
                    score=solved.score,
                    facts=[fact.to_dict() for fact in solved.facts],
                    reasons=[],
                    meeting_at=meeting_at,
                )
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
