"""Who takes part in a round, and the database rows turned into the engine's input."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from matcher.matching import Participant, PastPairing, Window
from matcher.models import (
    DoNotPair,
    Feedback,
    MatchGroup,
    Membership,
    Programme,
    ProgrammeMember,
    Round,
    User,
)
from matcher.models.people import (
    AvailabilityWindow,
    Interest,
    Profile,
    Project,
    Skill,
    Team,
    user_can_help,
    user_interests,
    user_projects,
    user_wants_help,
)
from matcher.programmes.members import LEFT_OUT_BECAUSE, member_join, status_column
from matcher.weeks import weeks_between

# How far back pairings count as history (novelty score and the repeat cooldown).
HISTORY_WEEKS = 26
# Managers followed up a reporting line (deeper organisations are cut there).
MAX_MANAGER_DEPTH = 20


def last_paired_on(session: Session, programme_id: int, before: date) -> dict[int, date]:
    """For each user, the Monday of their latest published pairing in the programme before
    `before`."""
    rows = session.execute(
        select(Membership.user_id, func.max(Round.starts_on))
        .join(Round, Round.id == Membership.round_id)
        .where(
            Round.programme_id == programme_id, Round.status != "draft", Round.starts_on < before
        )
        .group_by(Membership.user_id)
    )
    return {user_id: last for user_id, last in rows}


def due_by_cadence(last_paired: date | None, monday: date, cadence_weeks: int) -> bool:
    """True when someone last paired on last_paired takes part in the round of monday."""
    return last_paired is None or weeks_between(last_paired, monday) >= cadence_weeks


def ongoing_pairings(session: Session, programme: Programme, monday: date) -> dict[int, int]:
    """For a programme whose pairings last several weeks: how many pairings each person is
    still in during the week of `monday` (a buddy pairing of 8 weeks is not reshuffled). A
    pairing ends early when a partner left the programme, was paused or deleted: the one left
    behind is paired again."""
    if programme.pairing_weeks <= 1:
        return {}
    since = monday - timedelta(weeks=programme.pairing_weeks - 1)
    rows = session.execute(
        select(Membership.group_id, Membership.user_id)
        .join(Round, Round.id == Membership.round_id)
        .where(
            Round.programme_id == programme.id,
            Round.status != "draft",
            Round.starts_on >= since,
            Round.starts_on < monday,
        )
    ).all()
    still_in = set(
        session.scalars(
            select(ProgrammeMember.user_id)
            .join(User, User.id == ProgrammeMember.user_id)
            .where(
                ProgrammeMember.programme_id == programme.id,
                ProgrammeMember.opted_out.is_(False),
                User.active,
                User.deleted_at.is_(None),
            )
        )
    )
    groups: dict[int, list[int]] = defaultdict(list)
    for group_id, user_id in rows:
        groups[group_id].append(user_id)
    counts: dict[int, int] = defaultdict(int)
    for members in groups.values():
        if all(m in still_in for m in members):
            for m in members:
                counts[m] += 1
    return dict(counts)


def ever_paired(session: Session, programme_id: int, before: date) -> set[int]:
    """Everyone who had a published pairing in the programme starting before `before`."""
    return set(
        session.scalars(
            select(Membership.user_id)
            .join(Round, Round.id == Membership.round_id)
            .where(
                Round.programme_id == programme_id,
                Round.status != "draft",
                Round.starts_on < before,
            )
            .distinct()
        )
    )


def select_participants(
    session: Session, programme: Programme, monday: date
) -> tuple[list[Participant], dict[str, int]]:
    """Who takes part in the programme's round of the week starting `monday` (as the engine
    sees them) and who is out, why.

    Reads plain rows rather than ORM objects: a round of 10,000 people must stay fast.
    """
    rows = session.execute(
        select(
            User.id,
            User.display_name,
            User.created_at,
            User.joined_on,
            Team.name,
            Profile.location,
            Profile.timezone,
            Profile.meeting_mode,
            ProgrammeMember.cadence_weeks,
            ProgrammeMember.role,
            status_column(monday).label("status"),
        )
        .join(Profile, Profile.user_id == User.id)
        # Outer: someone who never filled in a profile is counted as such in every programme
        # (as the people page says); those who simply did not join this one are not counted.
        .outerjoin(ProgrammeMember, member_join(programme.id))
        .outerjoin(Team, Team.id == User.team_id)
        .where(User.active, User.deleted_at.is_(None))
        .order_by(User.id)
    ).all()
    last = last_paired_on(session, programme.id, monday)
    ongoing = ongoing_pairings(session, programme, monday)
    # A new joiner has had their buddy once a pairing ran its whole length; one that ended
    # early (the buddy left) is replaced, and one that still runs keeps them out below.
    term_start = monday - timedelta(weeks=programme.pairing_weeks - 1)
    had_buddy = (
        ever_paired(session, programme.id, term_start) if programme.kind == "buddies" else set()
    )
    new_since = monday - timedelta(weeks=programme.joined_within_weeks)
    excluded: dict[str, int] = defaultdict(int)
    chosen = []
    capacity: dict[int, int] = {}
    for row in rows:
        if row.status == "not_member":
            continue
        room = (programme.mentor_capacity if row.role == "mentor" else 1) - ongoing.get(row.id, 0)
        if row.status != "active":
            excluded[LEFT_OUT_BECAUSE[row.status]] += 1
        elif programme.roles is not None and row.role not in programme.roles:
            excluded["no role chosen"] += 1
        elif row.role == "newcomer" and row.id in had_buddy:
            excluded["had their buddy already"] += 1
        elif row.role == "newcomer" and row.joined_on < new_since:
            excluded["no longer a new joiner"] += 1
        elif room <= 0:
            excluded["still in a pairing that lasts"] += 1
        elif programme.pairing_weeks <= 1 and not due_by_cadence(
            last.get(row.id), monday, row.cadence_weeks
        ):
            excluded["not due by their cadence"] += 1
        else:
            chosen.append(row)
            capacity[row.id] = room
    ids = {row.id for row in chosen}
    projects = _names_by_user(session, user_projects.c.user_id, Project, user_projects, ids)
    interests = _names_by_user(session, user_interests.c.user_id, Interest, user_interests, ids)
    offers: dict[int, list[str]] = {}
    wants: dict[int, list[str]] = {}
    if programme.kind == "mentoring":
        offers = _names_by_user(session, user_can_help.c.user_id, Skill, user_can_help, ids)
        wants = _names_by_user(session, user_wants_help.c.user_id, Skill, user_wants_help, ids)
    managers = manager_chains(session, ids)
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
            managers=managers.get(row.id, ()),
            **_role_fields(programme, row.role, capacity[row.id], offers, wants, row.id),
        )
        for row in chosen
    ]
    return participants, dict(excluded)


def manager_chains(session: Session, user_ids: set[int]) -> dict[int, tuple[int, ...]]:
    """For each of these users who has a manager: their managers' user ids, direct manager
    first, up to the top (managers need not take part, nor be active). One query for every
    reporting line; a loop in the data ends the chain before it repeats anyone, and chains
    stop after MAX_MANAGER_DEPTH managers."""
    rows = session.execute(select(User.id, User.manager_id).where(User.manager_id.is_not(None)))
    manager_of: dict[int, int] = {user_id: manager_id for user_id, manager_id in rows}
    chains: dict[int, tuple[int, ...]] = {}
    for user_id in user_ids:
        chain: list[int] = []
        seen = {user_id}
        manager = manager_of.get(user_id)
        while manager is not None and manager not in seen and len(chain) < MAX_MANAGER_DEPTH:
            chain.append(manager)
            seen.add(manager)
            manager = manager_of.get(manager)
        if chain:
            chains[user_id] = tuple(chain)
    return chains


def _role_fields(
    programme: Programme,
    role: str | None,
    capacity: int,
    offers: dict[int, list[str]],
    wants: dict[int, list[str]],
    user_id: int,
) -> dict[str, Any]:
    """The engine fields of kinds with roles; none for coffee (its problems stay as they were)."""
    if programme.roles is None:
        return {}
    return {
        "role": role,
        "capacity": capacity,
        # Directed: only what a mentor offers and what a mentee wants counts.
        "offers": tuple(offers.get(user_id, ())) if role == "mentor" else (),
        "wants": tuple(wants.get(user_id, ())) if role == "mentee" else (),
    }


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
    session: Session,
    monday: date,
    user_ids: set[int],
    cooldown_weeks: int = 0,
    programme_id: int | None = None,
) -> list[PastPairing]:
    """Pairs of these users that met in the last HISTORY_WEEKS (or cooldown), in any
    programme, and 'never again'. Published rounds of other programmes in the same week count
    as met 0 weeks ago: nobody meets the same person in two programmes of one week."""
    # A cooldown longer than the usual window needs that much history to be enforced at all.
    since = monday - timedelta(weeks=max(HISTORY_WEEKS, cooldown_weeks))
    same_week = Round.starts_on == monday
    if programme_id is not None:
        same_week = and_(same_week, Round.programme_id != programme_id)
    rows = session.execute(
        select(Membership.group_id, Membership.user_id, Round.starts_on)
        .join(Round, Round.id == Membership.round_id)
        .where(
            Round.status != "draft",
            Round.starts_on >= since,
            or_(Round.starts_on < monday, same_week),
        )
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


def meetings_that_week(
    session: Session, monday: date, programme_id: int, user_ids: set[int]
) -> defaultdict[int, set[datetime]]:
    """For these users, the suggested meeting times (naive UTC) of their pairings in other
    programmes' published rounds of the week of `monday`."""
    busy: defaultdict[int, set[datetime]] = defaultdict(set)
    rows = session.execute(
        select(Membership.user_id, MatchGroup.meeting_at)
        .join(MatchGroup, MatchGroup.id == Membership.group_id)
        .join(Round, Round.id == Membership.round_id)
        .where(
            Round.starts_on == monday,
            Round.programme_id != programme_id,
            Round.status != "draft",
            MatchGroup.meeting_at.is_not(None),
        )
    )
    for user_id, meeting_at in rows:
        if user_id in user_ids:
            busy[user_id].add(meeting_at)
    return busy


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
