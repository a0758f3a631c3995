"""Rounds of pairings: the groups of one ISO week, their members and the rules used."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher.extensions import db
from matcher.models.people import User, utcnow
from matcher.models.programmes import Programme

ROUND_STATUSES = ("draft", "published", "closed")


class Round(db.Model):
    """One ISO week's pairings: draft (previewable), published (announced), closed."""

    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'closed')", name="status"),
        # Whatever runs at the same moment, a programme has at most one round a week.
        UniqueConstraint("programme_id", "week", name="uq_rounds_programme_week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    week: Mapped[str] = mapped_column(String(8))  # e.g. "2026-W49"
    starts_on: Mapped[date]  # the Monday of that week
    status: Mapped[str] = mapped_column(String(16), default="draft")
    seed: Mapped[int] = mapped_column(default=0)
    # The exact engine rules used, so the round can be explained and reproduced later.
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The engine's whole input (matching JSON format): `python -m matcher.matching solve`
    # on it gives this round's groups again. Deferred: it holds every participant (megabytes
    # for a big organisation) and only the admin pages that replay a round need it.
    problem: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None, deferred=True)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # [{"user_id": 3, "reason": "..."}]: people who took part but got no group.
    unmatched: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total_score: Mapped[float] = mapped_column(default=0.0)
    participant_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)

    programme: Mapped[Programme] = relationship()
    groups: Mapped[list[MatchGroup]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="MatchGroup.id"
    )

    def __repr__(self) -> str:
        return f"<Round {self.week} {self.status}>"


class MatchGroup(db.Model):
    """Two to four people meeting in one round, with the score and reasons of their match."""

    __tablename__ = "match_groups"
    # A round's groups in order: a page of a published round reads 100 of them through this
    # index (by the primary key alone, it walked every earlier round's groups).
    __table_args__ = (Index("ix_match_groups_round_id_id", "round_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(default=0.0)
    # What the members share, as the engine's facts (ids, not names): see matcher/reasons.py.
    facts: Mapped[list[dict]] = mapped_column(JSON, default=list, server_default="[]")
    # English reasons of rounds stored before facts, and of groups an admin put together.
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # First common 30-minute slot in the round's week, in UTC; None when no window overlaps.
    meeting_at: Mapped[datetime | None] = mapped_column(default=None)

    round: Mapped[Round] = relationship(back_populates="groups")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="Membership.id"
    )

    @property
    def members(self) -> list[User]:
        """The users in this group, in the order they were stored."""
        return [m.user for m in self.memberships]


class Membership(db.Model):
    """One person's place in one group; one group per round and person, but for a mentor
    who takes several mentees."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("match_groups.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    group: Mapped[MatchGroup] = relationship(back_populates="memberships")
    round: Mapped[Round] = relationship()
    user: Mapped[User] = relationship()


class PendingErasure(db.Model):
    """A deleted account whose profile is still to be erased from stored round problems.

    A problem holds every participant (megabytes for a big organisation), so erasing one
    person from years of rounds is done a round per transaction, off the web request.
    """

    __tablename__ = "pending_erasures"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Rounds are erased in id order; every round up to this id is done.
    done_through_round_id: Mapped[int] = mapped_column(default=0)
