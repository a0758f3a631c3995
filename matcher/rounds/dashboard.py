"""What a participant's dashboard shows: the current pairing, past ones, the next round."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher.models import MatchGroup, Membership, Round, User
from matcher.notify.render import zone_of
from matcher.rounds import service
from matcher.rounds.weeks import parse_week, week_start

PAST_LIMIT = 20


@dataclass(frozen=True)
class Pairing:
    """One of the user's groups, with everything the page shows about it."""

    round: Round
    group: MatchGroup
    partners: list[User]
    meeting_local: datetime | None  # in the viewer's time zone


def pairings_of(session: Session, user: User, limit: int = PAST_LIMIT + 1) -> list[Pairing]:
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
    zone = zone_of(user)
    result = []
    for membership in memberships:
        group = membership.group
        meeting = (
            group.meeting_at.replace(tzinfo=UTC).astimezone(zone) if group.meeting_at else None
        )
        partners = [m.user for m in group.memberships if m.user_id != user.id]
        result.append(Pairing(group.round, group, partners, meeting))
    return result


def group_for(session: Session, user: User, group_id: int) -> MatchGroup | None:
    """The group with that id if the user is in it (and its round is published), else None."""
    return session.scalar(
        select(MatchGroup)
        .join(Membership, Membership.group_id == MatchGroup.id)
        .join(Round, Round.id == MatchGroup.round_id)
        .where(MatchGroup.id == group_id, Membership.user_id == user.id, Round.status != "draft")
    )


def next_round_monday(session: Session, now: datetime) -> tuple[datetime, date]:
    """When the next round runs (aware UTC) and the Monday of its week."""
    start, week = service.next_round(session, now)
    return start, parse_week(week)


def is_current(pairing: Pairing, today: date) -> bool:
    """True while the pairing's week is this week or last week (people often meet late)."""
    return (week_start(today) - pairing.round.starts_on).days <= 7
