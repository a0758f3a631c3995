"""Who takes part in a round, and the database rows turned into the engine's input."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from matcher.matching import Participant, PastPairing, Window
from matcher.models import DoNotPair, Feedback, Membership, Round, User
from matcher.models.people import (
    AvailabilityWindow,
    Interest,
    Profile,
    Project,
    Team,
    user_interests,
    user_projects,
)
from matcher.weeks import weeks_between

# How far back pairings count as history (novelty score and the repeat cooldown).
HISTORY_WEEKS = 26


def last_paired_on(session: Session, before: date) -> dict[int, date]:
    """For each user, the Monday of their latest published pairing before `before`."""
    rows = session.execute(
        select(Membership.user_id, func.max(Round.starts_on))
        .join(Round, Round.id == Membership.round_id)
        .where(Round.status != "draft", Round.starts_on < before)
        .group_by(Membership.user_id)
    )
    return {user_id: last for user_id, last in rows}


def due_by_cadence(last_paired: date | None, monday: date, cadence_weeks: int) -> bool:
    """True when someone last paired on last_paired takes part in the round of monday."""
    return last_paired is None or weeks_between(last_paired, monday) >= cadence_weeks


def status_column(today: date) -> ColumnElement[str]:
    """SQL for where a person stands on `today`: deactivated, never_joined, paused, left,
    snoozed or active. Needs Profile (outer-)joined to User; the one rule for rounds and pages.

    Never joined means no team: every profile form asks for one, so only accounts that never
    filled it in (`users create-admin`) have none.
    """
    return case(
        (User.active.is_(False), "deactivated"),
        (or_(Profile.user_id.is_(None), User.team_id.is_(None)), "never_joined"),
        (and_(Profile.opted_out.is_(True), Profile.pause_reason.is_not(None)), "paused"),
        (Profile.opted_out.is_(True), "left"),
        (and_(Profile.snoozed_until.is_not(None), Profile.snoozed_until >= today), "snoozed"),
        else_="active",
    )


# Why someone who stands elsewhere than "active" is left out of a round, as round pages say.
LEFT_OUT_BECAUSE = {
    "never_joined": "never joined (no profile)",
    "paused": "paused after missed coffees",
    "left": "left the programme",
    "snoozed": "snoozed",
}


def select_participants(session: Session, monday: date) -> tuple[list[Participant], dict[str, int]]:
    """Who takes part in the week starting `monday` (as the engine sees them) and who is out, why.

    Reads plain rows rather than ORM objects: a round of 10,000 people must stay fast.
    """
    rows = session.execute(
        select(
            User.id,
            User.display_name,
            User.created_at,
            Team.name,
            Profile.location,
            Profile.timezone,
            Profile.cadence_weeks,
            Profile.meeting_mode,
            status_column(monday).label("status"),
        )
        .join(Profile, Profile.user_id == User.id)
        .outerjoin(Team, Team.id == User.team_id)
        .where(User.active, User.deleted_at.is_(None))
        .order_by(User.id)
    ).all()
    last = last_paired_on(session, monday)
    excluded: dict[str, int] = defaultdict(int)
    chosen = []
    for row in rows:
        if row.status != "active":
            excluded[LEFT_OUT_BECAUSE[row.status]] += 1
        elif not due_by_cadence(last.get(row.id), monday, row.cadence_weeks):
            excluded["not due by their cadence"] += 1
        else:
            chosen.append(row)
    ids = {row.id for row in chosen}
    projects = _names_by_user(session, user_projects.c.user_id, Project, user_projects, ids)
    interests = _names_by_user(session, user_interests.c.user_id, Interest, user_interests, ids)
    windows: dict[int, list[Window]] = defaultdict(list)
    for user_id, weekday, start, end in session.execute(
        select(
            AvailabilityWindow.user_id,
            AvailabilityWindow.weekday,
            AvailabilityWindow.start_minute,
            AvailabilityWindow.end_minute,
        ).order_by(AvailabilityWindow.user_id, AvailabilityWindow.weekday)
    ):
        if user_id in ids:
            windows[user_id].append(Window(weekday, start, end))
    participants = [
        Participant(
            id=row.id,
            team=row.name,
            projects=tuple(projects.get(row.id, ())),
            interests=tuple(interests.get(row.id, ())),
            location=row.location,
            timezone=row.timezone,
            availability=tuple(windows.get(row.id, ())),
            weeks_waiting=max(0, weeks_between(last.get(row.id) or row.created_at.date(), monday)),
            meeting_mode=row.meeting_mode,
            name=row.display_name,
        )
        for row in chosen
    ]
    return participants, dict(excluded)


def _names_by_user(
    session: Session, user_column: Any, model: Any, link: Any, ids: set[int]
) -> dict[int, list[str]]:
    names: dict[int, list[str]] = defaultdict(list)
    other = next(c for c in link.c if c is not user_column)
    rows = session.execute(
        select(user_column, model.name).join(model, model.id == other).order_by(model.name)
    )
    for user_id, name in rows:
        if user_id in ids:
            names[user_id].append(name)
    return names


def load_history(
    session: Session, monday: date, user_ids: set[int], cooldown_weeks: int = 0
) -> list[PastPairing]:
    """Pairs of these users that met in the last HISTORY_WEEKS (or cooldown), and 'never again'."""
    # A cooldown longer than the usual window needs that much history to be enforced at all.
    since = monday - timedelta(weeks=max(HISTORY_WEEKS, cooldown_weeks))
    rows = session.execute(
        select(Membership.group_id, Membership.user_id, Round.starts_on)
        .join(Round, Round.id == Membership.round_id)
        .where(Round.status != "draft", Round.starts_on >= since, Round.starts_on < monday)
    )
    groups: dict[int, tuple[date, list[int]]] = {}
    for group_id, user_id, starts_on in rows:
        groups.setdefault(group_id, (starts_on, []))[1].append(user_id)
    latest: dict[tuple[int, int], int] = {}
    for starts_on, members in groups.values():
        weeks_ago = weeks_between(starts_on, monday)
        present = sorted(m for m in members if m in user_ids)
        for i, a in enumerate(present):
            for b in present[i + 1 :]:
                latest[(a, b)] = min(weeks_ago, latest.get((a, b), weeks_ago))
    never_again = never_again_pairs(session, user_ids, monday)
    for pair, weeks_ago in never_again.items():
        latest.setdefault(pair, weeks_ago)
    return [
        PastPairing(a, b, weeks, would_meet_again=False if (a, b) in never_again else None)
        for (a, b), weeks in sorted(latest.items())
    ]


def never_again_pairs(
    session: Session, user_ids: set[int], monday: date
) -> dict[tuple[int, int], int]:
    """Pairs where somebody answered 'would not meet again', with weeks since (any age)."""
    author = Membership.__table__.alias("author")
    other = Membership.__table__.alias("other")
    rows = session.execute(
        select(author.c.user_id, other.c.user_id, Round.starts_on)
        .select_from(Feedback)
        .join(author, author.c.id == Feedback.membership_id)
        .join(
            other, (other.c.group_id == author.c.group_id) & (other.c.user_id != author.c.user_id)
        )
        .join(Round, Round.id == author.c.round_id)
        .where(Feedback.would_meet_again.is_(False))
    )
    pairs: dict[tuple[int, int], int] = {}
    for a, b, starts_on in rows:
        if a in user_ids and b in user_ids:
            key = (min(a, b), max(a, b))
            pairs[key] = max(0, weeks_between(starts_on, monday))
    return pairs


def load_blocked(session: Session, user_ids: set[int]) -> list[tuple[int, int]]:
    """Do-not-pair entries between these users, either direction."""
    rows = session.execute(select(DoNotPair.user_id, DoNotPair.blocked_user_id))
    return sorted(
        {tuple(sorted(pair)) for pair in rows if pair[0] in user_ids and pair[1] in user_ids}
    )
