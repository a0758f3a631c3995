"""Erasing deleted accounts from stored round problems, one round per transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from matcher.models import Membership, PendingErasure, Round


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


def _without_manager(person: dict[str, Any], user_id: int) -> dict[str, Any]:
    """A participant entry with user_id taken out of its chain of managers."""
    managers = person.get("managers")
    if not managers or user_id not in managers:
        return person
    return {**person, "managers": [m for m in managers if m != user_id]}


def erase_from_problem(problem: dict[str, Any], user_id: int) -> dict[str, Any]:
    """The problem with this person's entry anonymous, their do-not-pair pairs gone and their
    place in others' reporting lines too."""
    # Keep the id (memberships still point at the placeholder row) and nothing personal;
    # replaying such a round may then differ, which erasure is worth.
    anonymous = {"id": user_id, "team": f"deleted-{user_id}", "projects": [], "interests": []}
    participants = [
        anonymous if p.get("id") == user_id else _without_manager(p, user_id)
        for p in problem.get("participants", ())
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
