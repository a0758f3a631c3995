"""Saving a planned round as a draft, publishing it (its messages queued with it), closing it.

Shared by the CLI, the scheduler and the admin console; nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from matcher.matching import problem_to_json
from matcher.models import MatchGroup, Membership, Programme, Round
from matcher.notify.queue import queue_messages
from matcher.programmes.members import auto_enrol
from matcher.rounds.emails import round_messages
from matcher.rounds.planning import RoundPlan, plan_round
from matcher.weeks import parse_week, week_label


class RoundExists(Exception):
    """A round for that week exists already; it carries the existing round."""

    def __init__(self, existing: Round) -> None:
        super().__init__(f"a round for {existing.week} exists already ({existing.status})")
        self.round = existing


def find_round(session: Session, programme: Programme, week: str) -> Round | None:
    """The programme's round of that week, if any."""
    return session.scalar(
        select(Round).where(Round.programme_id == programme.id, Round.week == week)
    )


def save_round(session: Session, plan: RoundPlan) -> Round:
    """Store a plan as a draft round with its groups; raises RoundExists. Not committed."""
    existing = session.scalar(
        select(Round).where(Round.programme_id == plan.programme_id, Round.week == plan.week)
    )
    if existing is not None:
        raise RoundExists(existing)
    stats: dict[str, Any] = dict(plan.result.stats)
    stats["excluded"] = plan.excluded
    round_ = Round(
        programme_id=plan.programme_id,
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


@dataclass(frozen=True)
class RunOutcome:
    """What `run_round` did, for the CLI and the admin console to report."""

    round: Round | None
    plan: RoundPlan | None
    created: bool
    published: bool
    message: str


def run_round(
    session: Session,
    programme: Programme,
    week: str,
    publish: bool = False,
    dry_run: bool = False,
) -> RunOutcome:
    """Create (and optionally publish) the programme's round of `week`; idempotent. Not
    committed."""
    label = week_label(parse_week(week))
    existing = find_round(session, programme, label)
    if existing is not None:
        if publish and existing.status == "draft" and not dry_run:
            queued = publish_round(session, existing)
            return RunOutcome(
                existing,
                None,
                False,
                True,
                f"Published {programme.name}, {label}: {queued} messages queued.",
            )
        return RunOutcome(
            existing,
            None,
            False,
            False,
            f"A round of {programme.name} for {label} exists already ({existing.status}).",
        )
    if not dry_run:
        # New joiners of a programme that enrols them by itself are in before it is computed.
        auto_enrol(session, programme, parse_week(label))
    plan = plan_round(session, programme, label)
    summary = (
        f"{programme.name}, {label}: {len(plan.groups)} groups "
        f"for {plan.participant_count} people, "
        f"{len(plan.unmatched)} unmatched, total score {plan.result.total_score:.1f}"
    )
    if dry_run:
        return RunOutcome(None, plan, False, False, f"Dry run, nothing stored. {summary}.")
    round_ = save_round(session, plan)
    if publish:
        queued = publish_round(session, round_)
        return RunOutcome(round_, plan, True, True, f"Published {summary}; {queued} queued.")
    return RunOutcome(round_, plan, True, False, f"Draft saved. {summary}.")
