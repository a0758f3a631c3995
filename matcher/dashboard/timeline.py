"""What a participant's dashboard shows: the current pairing, upcoming and past ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher.models import Feedback, MatchGroup, Membership, Round, User
from matcher.reasons import reasons_for
from matcher.timezones import zone_of
from matcher.weeks import week_start

PAST_LIMIT = 20


@dataclass(frozen=True)
class Pairing:
    """One of the user's groups, with everything the page shows about it."""

    round: Round
    group: MatchGroup
    partners: list[User]
    meeting_local: datetime | None  # in the viewer's time zone
    feedback: Feedback | None = None  # the viewer's own answer, if any
    reasons: tuple[str, ...] = ()  # why they were matched, written to the viewer


@dataclass(frozen=True)
class Timeline:
    """The user's pairings sorted for the page: the one to meet now, those ahead, those past."""

    current: Pairing | None
    upcoming: list[Pairing]
    past: list[Pairing]


def pairings_of(session: Session, user: User, limit: int = PAST_LIMIT + 10) -> list[Pairing]:
    """The user's published pairings, newest first."""
    memberships = session.scalars(
        select(Membership)
        .join(Round, Round.id == Membership.round_id)
        .where(Membership.user_id == user.id, Round.status != "draft")
        .order_by(Round.starts_on.desc())
        .limit(limit)
        .options(
            # Everything the page shows, in a fixed number of queries whatever the history.
            selectinload(Membership.group).selectinload(MatchGroup.round),
            selectinload(Membership.group)
            .selectinload(MatchGroup.memberships)
            .selectinload(Membership.user)
            .options(
                selectinload(User.team),
                selectinload(User.profile),
                selectinload(User.projects),
                selectinload(User.interests),
            ),
        )
    ).all()
    answers = {
        feedback.membership_id: feedback
        for feedback in session.scalars(
            select(Feedback).where(Feedback.membership_id.in_([m.id for m in memberships]))
        )
    }
    zone = zone_of(user)
    result = []
    for membership in memberships:
        group = membership.group
        meeting = (
            group.meeting_at.replace(tzinfo=UTC).astimezone(zone) if group.meeting_at else None
        )
        partners = [m.user for m in group.memberships if m.user_id != user.id]
        result.append(
            Pairing(
                group.round,
                group,
                partners,
                meeting,
                answers.get(membership.id),
                tuple(reasons_for(group, reader=user.id)),
            )
        )
    return result


def group_for(session: Session, user: User, group_id: int) -> MatchGroup | None:
    """The group with that id if the user is in it (and its round is published), else None."""
    return session.scalar(
        select(MatchGroup)
        .join(Membership, Membership.group_id == MatchGroup.id)
        .join(Round, Round.id == MatchGroup.round_id)
        .where(MatchGroup.id == group_id, Membership.user_id == user.id, Round.status != "draft")
    )


def is_current(pairing: Pairing, today: date) -> bool:
    """True while the pairing's week is this week or last week (people often meet late)."""
    return (week_start(today) - pairing.round.starts_on).days <= 7


def timeline(pairings: list[Pairing], today: date) -> Timeline:
    """Split pairings (newest first) into the current one, upcoming ones and past ones.

    Current is this week's pairing; without one, last week's (people meet late); without
    either, the earliest one published ahead of its week. Later ones are upcoming.
    """
    this_monday = week_start(today)
    recent = sorted((p for p in pairings if is_current(p, today)), key=lambda p: p.round.starts_on)
    if any(p.round.starts_on == this_monday for p in recent):
        recent = [p for p in recent if p.round.starts_on >= this_monday]
    shown = {p.group.id for p in recent}
    past = [p for p in pairings if p.group.id not in shown][:PAST_LIMIT]
    return Timeline(recent[0] if recent else None, recent[1:], past)
