"""Round service: build the engine's problem from the database, solve, store and publish.

Shared by the CLI, the scheduler and the admin console; nothing here commits.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any

from flask import current_app
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, undefer

from matcher.matching import (
    Fact,
    Participant,
    PastPairing,
    Problem,
    Result,
    Rules,
    Window,
    problem_to_json,
    solve,
)
from matcher.models import (
    DoNotPair,
    Feedback,
    MatchGroup,
    Membership,
    PendingErasure,
    ProgrammeSettings,
    Round,
    User,
)
from matcher.models.people import (
    AvailabilityWindow,
    Interest,
    Profile,
    Project,
    Team,
    user_interests,
    user_projects,
)
from matcher.models.settings import (
    DEFAULT_PAUSE_AFTER_MISSED,
    DEFAULT_REMINDER_DAYS,
    DEFAULT_ROUND_MINUTE,
    DEFAULT_ROUND_WEEKDAY,
    SETTINGS_ID,
)
from matcher.notify.queue import queue_messages
from matcher.rounds.emails import round_messages
from matcher.rounds.scheduling import Availability, first_common_slot
from matcher.weeks import parse_week, week_label, weeks_between

# How far back pairings count as history (novelty score and the repeat cooldown).
HISTORY_WEEKS = 26
# A suggested meeting is never sooner than this after the round is computed.
MEETING_LEAD_TIME = timedelta(hours=2)


class RoundExists(Exception):
    """A round for that week exists already; it carries the existing round."""

    def __init__(self, existing: Round) -> None:
        super().__init__(f"a round for {existing.week} exists already ({existing.status})")
        self.round = existing


@dataclass(frozen=True)
class PlannedGroup:
    """A group the engine proposes, before anything is stored."""

    user_ids: tuple[int, ...]
    score: float
    facts: tuple[Fact, ...]
    meeting_at: datetime | None  # naive UTC


@dataclass(frozen=True)
class RoundPlan:
    """What a round for one week would be: the engine's answer plus who was left out and why."""

    week: str
    starts_on: date
    rules: Rules
    seed: int
    problem: Problem
    result: Result
    groups: tuple[PlannedGroup, ...]
    unmatched: tuple[tuple[int, str], ...]
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def participant_count(self) -> int:
        """How many people the engine was asked to group."""
        return len(self.problem.participants)


def programme_settings(session: Session) -> ProgrammeSettings:
    """The settings row, or (not added to the session) the defaults when none was saved yet."""
    settings = session.get(ProgrammeSettings, SETTINGS_ID)
    if settings is None:
        # Transient on purpose: reading the settings must never write (or race on) a row.
        settings = ProgrammeSettings(
            id=SETTINGS_ID,
            rules=Rules().to_dict(),
            round_weekday=DEFAULT_ROUND_WEEKDAY,
            round_minute=DEFAULT_ROUND_MINUTE,
            round_timezone="UTC",
            feedback_reminder_days=DEFAULT_REMINDER_DAYS,
            pause_after_missed=DEFAULT_PAUSE_AFTER_MISSED,
        )
    return settings


def current_rules(session: Session) -> Rules:
    """The matching rules the next round uses."""
    return Rules.from_dict(programme_settings(session).rules or {})


def seed_for_week(week: str) -> int:
    """A stable seed per week: re-running a week reproduces its ties."""
    # 31 bits: the seed column is a signed 32-bit integer on PostgreSQL.
    return int.from_bytes(hashlib.sha256(week.encode()).digest()[:4], "big") & 0x7FFFFFFF


def next_round_start(settings: ProgrammeSettings, now: datetime) -> datetime:
    """The next scheduled run (aware UTC) strictly after `now` (aware)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(settings.round_timezone or "UTC")
    local_now = now.astimezone(zone)
    at = time(settings.round_minute // 60, settings.round_minute % 60)
    day = local_now.date()
    for offset in range(8):
        candidate_day = day + timedelta(days=offset)
        if candidate_day.weekday() != settings.round_weekday:
            continue
        candidate = datetime.combine(candidate_day, at, tzinfo=zone)
        if candidate > local_now:
            return candidate.astimezone(UTC)
    raise AssertionError("a weekday recurs within 8 days")


def next_round(session: Session, now: datetime) -> tuple[datetime, str]:
    """The next scheduled run (aware UTC) of a week not yet published, and that ISO week."""
    from zoneinfo import ZoneInfo

    settings = programme_settings(session)
    zone = ZoneInfo(settings.round_timezone or "UTC")
    # A week published early (by an admin, or `rounds run`) is not "next" any more.
    published = set(
        session.scalars(
            select(Round.week).where(
                Round.status != "draft", Round.starts_on >= now.date() - timedelta(days=7)
            )
        )
    )
    start = now
    for _ in range(len(published) + 2):
        start = next_round_start(settings, start)
        # The week of the run's local date, as due_week labels it (not the UTC date's week).
        week = week_label(start.astimezone(zone).date())
        if week not in published:
            return start, week
    raise AssertionError("more published weeks ahead than were counted")


def due_week(settings: ProgrammeSettings, now: datetime) -> str | None:
    """The week whose scheduled run time has passed at `now` (aware), or None before it."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(settings.round_timezone or "UTC")
    local_now = now.astimezone(zone)
    monday = local_now.date() - timedelta(days=local_now.weekday())
    at = time(settings.round_minute // 60, settings.round_minute % 60)
    scheduled = datetime.combine(monday + timedelta(days=settings.round_weekday), at, tzinfo=zone)
    return week_label(monday) if local_now >= scheduled else None


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
            Profile.snoozed_until,
            Profile.opted_out,
            Profile.pause_reason,
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
        # No team means the profile was never filled in (an admin made from the command line
        # is also opted out): they never joined, which is not the same as leaving.
        if row.name is None:
            excluded["never joined (no profile)"] += 1
        elif row.opted_out and row.pause_reason:
            excluded["paused after missed coffees"] += 1
        elif row.opted_out:
            excluded["left the programme"] += 1
        elif row.snoozed_until is not None and row.snoozed_until >= monday:
            excluded["snoozed"] += 1
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


def plan_round(
    session: Session,
    week: str,
    rules: Rules | None = None,
    seed: int | None = None,
    now: datetime | None = None,
) -> RoundPlan:
    """Compute the round for `week` without writing anything."""
    monday = parse_week(week)
    rules = rules or current_rules(session)
    seed = seed_for_week(week) if seed is None else seed
    participants, excluded = select_participants(session, monday)
    ids = {p.id for p in participants}
    problem = Problem(
        participants=tuple(participants),
        history=tuple(load_history(session, monday, ids, rules.repeat_cooldown_weeks)),
        blocked=tuple(load_blocked(session, ids)),
        rules=rules,
        seed=seed,
    )
    result = solve(problem)
    by_id = {p.id: p for p in participants}
    now = now or datetime.now(UTC)
    not_before = max(datetime.combine(monday, time(), tzinfo=UTC), now + MEETING_LEAD_TIME)
    groups = []
    for group in result.groups:
        members = [by_id[m] for m in group.members]
        slot = first_common_slot(
            [
                Availability(
                    m.timezone or "UTC",
                    tuple((w.weekday, w.start_minute, w.end_minute) for w in m.availability),
                )
                for m in members
            ],
            monday,
            not_before,
        )
        groups.append(
            PlannedGroup(
                user_ids=tuple(group.members),
                score=group.score,
                facts=tuple(group.facts),
                meeting_at=slot.replace(tzinfo=None) if slot else None,
            )
        )
    return RoundPlan(
        week=week_label(monday),
        starts_on=monday,
        rules=rules,
        seed=seed,
        problem=problem,
        result=result,
        groups=tuple(groups),
        unmatched=tuple((u.id, u.reason) for u in result.unmatched),
        excluded=excluded,
    )


def find_round(session: Session, week: str) -> Round | None:
    """The round of that week, if any."""
    return session.scalar(select(Round).where(Round.week == week))


def save_round(session: Session, plan: RoundPlan) -> Round:
    """Store a plan as a draft round with its groups; raises RoundExists. Not committed."""
    existing = find_round(session, plan.week)
    if existing is not None:
        raise RoundExists(existing)
    stats: dict[str, Any] = dict(plan.result.stats)
    stats["excluded"] = plan.excluded
    round_ = Round(
        week=plan.week,
        starts_on=plan.starts_on,
        status="draft",
        seed=plan.seed,
        rules=plan.rules.to_dict(),
        problem=problem_to_json(plan.problem),
        stats=stats,
        unmatched=[{"user_id": uid, "reason": reason} for uid, reason in plan.unmatched],
        total_score=plan.result.total_score,
        participant_count=plan.participant_count,
    )
    session.add(round_)
    # Flush now so a concurrent run for the same week fails here, on the unique week.
    session.flush()
    if plan.groups:
        # Bulk inserts: thousands of groups must not become thousands of ORM round trips.
        group_ids = session.scalars(
            insert(MatchGroup).returning(MatchGroup.id, sort_by_parameter_order=True),
            [
                {
                    "round_id": round_.id,
                    "score": planned.score,
                    "facts": [fact.to_dict() for fact in planned.facts],
                    "meeting_at": planned.meeting_at,
                }
                for planned in plan.groups
            ],
        ).all()
        session.execute(
            insert(Membership),
            [
                {"group_id": group_id, "round_id": round_.id, "user_id": user_id}
                for group_id, planned in zip(group_ids, plan.groups, strict=True)
                for user_id in planned.user_ids
            ],
        )
    session.expire(round_, ["groups"])
    return round_


def publish_round(session: Session, round_: Round, now: datetime | None = None) -> int:
    """Mark a draft round published and queue one message per member; returns messages queued."""
    if round_.status != "draft":
        return 0
    round_.status = "published"
    round_.published_at = (now or datetime.now(UTC)).replace(tzinfo=None)
    rows = round_messages(session, round_, current_app.config)
    queued = queue_messages(session, rows)
    session.flush()
    return queued


def close_round(round_: Round, now: datetime | None = None) -> None:
    """End a published round's feedback window."""
    if round_.status == "published":
        round_.status = "closed"
        round_.closed_at = (now or datetime.now(UTC)).replace(tzinfo=None)


def next_round_holding(session: Session, user_id: int, after_round_id: int) -> int | None:
    """The lowest round id above after_round_id whose problem may hold this person."""
    candidates = set(
        session.scalars(
            select(Membership.round_id).where(
                Membership.user_id == user_id, Membership.round_id > after_round_id
            )
        )
    )
    rows = session.execute(select(Round.id, Round.unmatched).where(Round.id > after_round_id))
    for round_id, unmatched in rows:
        if any(entry.get("user_id") == user_id for entry in unmatched or ()):
            candidates.add(round_id)
    return min(candidates, default=None)


def erase_from_problem(problem: dict[str, Any], user_id: int) -> dict[str, Any]:
    """The problem with this person's entry anonymous and their do-not-pair pairs gone."""
    # Keep the id (memberships still point at the placeholder row) and nothing personal;
    # replaying such a round may then differ, which erasure is worth.
    anonymous = {"id": user_id, "team": f"deleted-{user_id}", "projects": [], "interests": []}
    participants = [
        anonymous if p.get("id") == user_id else p for p in problem.get("participants", ())
    ]
    blocked = [pair for pair in problem.get("blocked", ()) if user_id not in pair]
    return {**problem, "participants": participants, "blocked": blocked}


def erase_next_snapshot(session: Session) -> int | None:
    """Erase one queued person from one stored round: 1, or 0 when theirs are all done.

    None when nobody is queued.
    """
    pending = session.scalars(
        select(PendingErasure).order_by(PendingErasure.requested_at, PendingErasure.user_id)
    ).first()
    if pending is None:
        return None
    round_id = next_round_holding(session, pending.user_id, pending.done_through_round_id)
    if round_id is None:
        session.delete(pending)
        return 0
    round_ = session.scalars(
        select(Round).where(Round.id == round_id).options(undefer(Round.problem))
    ).one()
    if round_.problem:
        round_.problem = erase_from_problem(round_.problem, pending.user_id)
    pending.done_through_round_id = round_id
    return 1


def erase_pending(session: Session, seconds: float) -> int:
    """Work through queued erasures, one round per commit, for about `seconds`; rounds erased."""
    deadline = monotonic() + seconds
    erased = 0
    # One round per transaction: a problem can be megabytes and SQLite locks while writing.
    while monotonic() < deadline and (step := erase_next_snapshot(session)) is not None:
        session.commit()
        erased += step
    session.rollback()  # nothing half-done stays in the session
    return erased


@dataclass(frozen=True)
class RunOutcome:
    """What `run_round` did, for the CLI and the admin console to report."""

    round: Round | None
    plan: RoundPlan | None
    created: bool
    published: bool
    message: str


def run_round(
    session: Session, week: str, publish: bool = False, dry_run: bool = False
) -> RunOutcome:
    """Create (and optionally publish) the round of `week`; idempotent. Not committed."""
    label = week_label(parse_week(week))
    existing = find_round(session, label)
    if existing is not None:
        if publish and existing.status == "draft" and not dry_run:
            queued = publish_round(session, existing)
            return RunOutcome(
                existing, None, False, True, f"Published {label}: {queued} messages queued."
            )
        return RunOutcome(
            existing, None, False, False, f"A round for {label} exists already ({existing.status})."
        )
    plan = plan_round(session, label)
    summary = (
        f"{label}: {len(plan.groups)} groups for {plan.participant_count} people, "
        f"{len(plan.unmatched)} unmatched, total score {plan.result.total_score:.1f}"
    )
    if dry_run:
        return RunOutcome(None, plan, False, False, f"Dry run, nothing stored. {summary}.")
    round_ = save_round(session, plan)
    if publish:
        queued = publish_round(session, round_)
        return RunOutcome(round_, plan, True, True, f"Published {summary}; {queued} queued.")
    return RunOutcome(round_, plan, True, False, f"Draft saved. {summary}.")


def current_week(now: datetime | None = None) -> str:
    """The ISO week label of today (UTC)."""
    return week_label((now or datetime.now(UTC)).date())
