"""A person's next round in a programme (the next scheduled one they are due in by their
cadence), and skipping it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher import timezones
from matcher.models import Membership, Programme, ProgrammeMember, Round
from matcher.models.people import Cadence
from matcher.programmes.schedule import next_round, next_unpublished, published_weeks
from matcher.rounds.participants import due_by_cadence
from matcher.weeks import parse_week

# Scheduled rounds looked at when searching for the user's next one: the longest cadence
# (4 weeks) plus weeks published ahead of time; more than enough.
NEXT_ROUND_LOOKAHEAD = 60
MAX_CADENCE_WEEKS = max(int(c) for c in Cadence)


@dataclass(frozen=True)
class NextRound:
    """The next scheduled round of a programme this user is due in (by their cadence)."""

    start: datetime  # aware UTC
    monday: date
    week: str
    # The programme's next round when it is an earlier one this user is not due in, else None.
    not_due_start: datetime | None = None


def last_paired_before(
    session: Session, programme_id: int, user_id: int, before: date
) -> date | None:
    """participants.last_paired_on(...) for one user (that one reads every user)."""
    return session.scalar(
        select(func.max(Round.starts_on))
        .join(Membership, Membership.round_id == Round.id)
        .where(
            Membership.user_id == user_id,
            Round.programme_id == programme_id,
            Round.status != "draft",
            Round.starts_on < before,
        )
    )


def next_round_for(
    session: Session, member: ProgrammeMember, programme: Programme, now: datetime
) -> NextRound:
    """The programme's next scheduled, unpublished round in which the member is due by their
    cadence.

    Snoozes are left out on purpose: a snoozed member's next due round is the one they skip.
    """
    cadence = member.cadence_weeks or 1 if programme.pairing_weeks <= 1 else 1
    first, first_week = next_round(session, programme, now)
    start, week = first, first_week
    for _ in range(NEXT_ROUND_LOOKAHEAD):
        monday = parse_week(week)
        last = last_paired_before(session, programme.id, member.user_id, monday)
        if due_by_cadence(last, monday, cadence):
            return NextRound(start, monday, week, first if start != first else None)
        start, week = next_round(session, programme, start)
    # Not reachable with cadences of a few weeks; fall back on the programme's next round.
    return NextRound(first, parse_week(first_week), first_week)


def next_rounds_for(
    session: Session, members: Sequence[ProgrammeMember], now: datetime
) -> dict[int, NextRound]:
    """next_round_for for each of one person's memberships (by programme id), in two queries
    whatever their number: for pages that show every programme at once."""
    if not members:
        return {}
    user_ids = {m.user_id for m in members}
    assert len(user_ids) == 1, "the memberships of one person"
    published = published_weeks(session, [m.programme_id for m in members], now)
    paired: dict[int, list[date]] = {m.programme_id: [] for m in members}
    for programme_id, monday in session.execute(
        select(Round.programme_id, Round.starts_on)
        .join(Membership, Membership.round_id == Round.id)
        .where(
            Membership.user_id.in_(user_ids),
            Round.programme_id.in_(paired),
            Round.status != "draft",
            Round.starts_on >= paired_since(now),
        )
        .distinct()
    ):
        paired[programme_id].append(monday)
    return next_rounds_from(members, published, paired, now)


def paired_since(now: datetime) -> date:
    """The oldest round that may still delay someone's next one: cadences are at most 4 weeks."""
    return now.date() - timedelta(weeks=MAX_CADENCE_WEEKS + 1)


def next_rounds_from(
    members: Sequence[ProgrammeMember],
    published: Mapping[int, set[str]],
    paired: Mapping[int, Iterable[date]],
    now: datetime,
) -> dict[int, NextRound]:
    """next_rounds_for with what it reads already read: each programme's published weeks
    (schedule.published_weeks) and the Mondays of the person's rounds since paired_since(now)
    (published or closed), by programme id. No query."""
    found = {}
    for member in members:
        programme = member.programme
        mondays = list(paired.get(programme.id, ()))
        cadence = member.cadence_weeks or 1 if programme.pairing_weeks <= 1 else 1
        weeks = published.get(programme.id, set())
        first, first_week = next_unpublished(programme, now, weeks)
        start, week = first, first_week
        result = NextRound(first, parse_week(first_week), first_week)
        for _ in range(NEXT_ROUND_LOOKAHEAD):
            monday = parse_week(week)
            last = max((d for d in mondays if d < monday), default=None)
            if due_by_cadence(last, monday, cadence):
                result = NextRound(start, monday, week, first if start != first else None)
                break
            start, week = next_unpublished(programme, start, weeks)
        found[programme.id] = result
    return found


def is_skipping(member: ProgrammeMember, next_round: NextRound) -> bool:
    """True when the member's snooze already leaves them out of next_round."""
    return bool(member.snoozed_until and member.snoozed_until >= next_round.monday)


def skip_next_round(
    session: Session, member: ProgrammeMember, programme: Programme, now: datetime
) -> NextRound:
    """Leave the member out of their next round of the programme: a snooze until the day it
    runs. Returns that round. The dashboard's button and the email's link both come here."""
    coming = next_round_for(session, member, programme, now)
    # The day the round runs, in the programme's zone: inside that round's week (so only
    # that round is skipped) and never already past, so the profile shows the snooze.
    run_day = coming.start.astimezone(timezones.zone(programme.round_timezone)).date()
    until = max(coming.monday, run_day)
    if member.snoozed_until is None or member.snoozed_until < until:
        member.snoozed_until = until
    return coming
