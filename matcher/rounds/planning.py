"""Planning a round: the engine's answer for a week, with meeting times, nothing stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from matcher.matching import Fact, Problem, Result, Rules, solve
from matcher.models import Programme
from matcher.programmes.schedule import seed_for_week
from matcher.programmes.settings import rules_of
from matcher.rounds.meeting_time import meeting_slot
from matcher.rounds.participants import (
    load_blocked,
    load_history,
    meetings_that_week,
    select_participants,
)
from matcher.weeks import parse_week, week_label


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

    programme_id: int
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


def plan_round(
    session: Session,
    programme: Programme,
    week: str,
    rules: Rules | None = None,
    seed: int | None = None,
    now: datetime | None = None,
) -> RoundPlan:
    """Compute the programme's round for `week` without writing anything."""
    monday = parse_week(week)
    rules = rules or rules_of(programme)
    seed = seed_for_week(week) if seed is None else seed
    participants, excluded = select_participants(session, programme, monday)
    ids = {p.id for p in participants}
    problem = Problem(
        participants=tuple(participants),
        history=tuple(
            load_history(session, monday, ids, rules.repeat_cooldown_weeks, programme.id)
        ),
        blocked=tuple(load_blocked(session, ids)),
        rules=rules,
        seed=seed,
    )
    result = solve(problem)
    by_id = {p.id: p for p in participants}
    # Nobody gets two meetings at one time: a mentor's mentees, another programme's pairing.
    busy = meetings_that_week(session, monday, programme.id, ids)
    groups = []
    for group in result.groups:
        at = meeting_slot([by_id[m] for m in group.members], monday, now, busy)
        if at is not None:
            for member in group.members:
                busy[member].add(at)
        groups.append(PlannedGroup(tuple(group.members), group.score, tuple(group.facts), at))
    return RoundPlan(
        programme_id=programme.id,
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
