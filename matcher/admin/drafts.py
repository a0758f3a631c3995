"""Manual changes to a draft round: swap two people, take someone out, discard, publish.

Each change keeps the engine's hard constraints, rescored by the engine itself, and is audited.
Nothing here commits.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.admin.summaries import round_problem
from matcher.audit import record
from matcher.matching import Problem, ProblemError, Rules, disallowed_pairs, solve
from matcher.models import MatchGroup, Membership, Round, User
from matcher.rounds import participants, publishing
from matcher.rounds.meeting_time import meeting_slot

TAKEN_OUT = "taken out by an admin"
PARTNER_TAKEN_OUT = "their group was dissolved when an admin took someone out"
HARD_CONSTRAINT = "This swap breaks a hard constraint, so nothing was changed."


class OverrideError(ValueError):
    """An override that cannot be made; the message is for the admin."""


def _require_draft(round_: Round) -> None:
    if round_.status != "draft":
        raise OverrideError(f"The round of {round_.week} is {round_.status}: it is read-only.")


def _rules(round_: Round) -> Rules:
    try:
        return Rules.from_dict(round_.rules or {})
    except ProblemError:
        return Rules()


def _membership(round_: Round, membership_id: int) -> Membership:
    """One place in one group of the round (a mentor has one per mentee)."""
    for group in round_.groups:
        for membership in group.memberships:
            if membership.id == membership_id:
                return membership
    raise OverrideError("That person is not in a group of this round.")


def breaks_hard_constraint(session: Session, round_: Round, groups: list[list[int]]) -> bool:
    """True when the engine would refuse any pair inside these groups: its own check, on the
    round's stored problem and rules plus do-not-pair entries and history added since."""
    problem = round_problem(round_)
    rules = _rules(round_)
    ids = {uid for g in groups for uid in g}
    problem = replace(
        problem,
        rules=rules,
        blocked=(*problem.blocked, *participants.load_blocked(session, ids)),
        history=(
            *problem.history,
            *participants.load_history(
                session, round_.starts_on, ids, rules.repeat_cooldown_weeks, round_.programme_id
            ),
        ),
    )
    return bool(disallowed_pairs(problem, groups))


def rescore(round_: Round, problem: Problem, group: MatchGroup) -> None:
    """Score, reasons and meeting time of a changed group, computed by the engine."""
    ids = [m.user_id for m in group.memberships]
    people = [p for p in problem.participants if p.id in set(ids)]
    if len(people) == len(ids) and 2 <= len(ids):
        inside = set(ids)
        sub = Problem(
            participants=tuple(people),
            history=tuple(h for h in problem.history if h.a in inside and h.b in inside),
            rules=replace(_rules(round_), group_size=min(len(ids), 4)),
            seed=round_.seed,
        )
        try:
            result = solve(sub)
        except ProblemError:
            result = None
        if (
            result is not None
            and len(result.groups) == 1
            and len(result.groups[0].members) == len(ids)
        ):
            group.score = result.groups[0].score
            group.facts = [fact.to_dict() for fact in result.groups[0].facts]
            group.reasons = []
        else:
            # Not a group the engine would make: no engine score to show for it either.
            group.score = 0.0
            group.facts = []
            group.reasons = ["Put together by an admin."]
        group.meeting_at = meeting_slot(people, round_.starts_on)
    round_.total_score = round(sum(g.score for g in round_.groups), 3)


def _names(session: Session, ids: list[int]) -> list[str]:
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
    return [names.get(uid, f"#{uid}") for uid in ids]


def swap(
    session: Session, round_: Round, first_place: int, second_place: int, actor_id: int
) -> str:
    """Exchange two people (by their membership: their place in one group) between their
    groups; returns what was done."""
    _require_draft(round_)
    a, b = _membership(round_, first_place), _membership(round_, second_place)
    first, second = a.user_id, b.user_id
    group_a, group_b = a.group, b.group
    if group_a is group_b:
        raise OverrideError("Those two are in the same group already; pick people in two groups.")
    if any(m.user_id == first for m in group_b.memberships) or any(
        m.user_id == second for m in group_a.memberships
    ):
        # A mentor with several mentees: one person cannot be twice in one group.
        raise OverrideError("One of them is in the other group already.")
    before = {
        str(group_a.id): [m.user_id for m in group_a.memberships],
        str(group_b.id): [m.user_id for m in group_b.memberships],
    }
    new_a = [uid for uid in before[str(group_a.id)] if uid != first] + [second]
    new_b = [uid for uid in before[str(group_b.id)] if uid != second] + [first]
    if breaks_hard_constraint(session, round_, [new_a, new_b]):
        raise OverrideError(HARD_CONSTRAINT)
    a.group, b.group = group_b, group_a
    problem = round_problem(round_)
    rescore(round_, problem, group_a)
    rescore(round_, problem, group_b)
    first_name, second_name = _names(session, [first, second])
    everyone = sorted({*new_a, *new_b})
    record(
        session,
        actor_id,
        "round.swap",
        f"round {round_.week}: {first_name} <-> {second_name}",
        before={"groups": before},
        after={
            "groups": {str(group_a.id): new_a, str(group_b.id): new_b},
            "names": dict(zip(map(str, everyone), _names(session, everyone), strict=True)),
        },
    )
    session.flush()
    return f"Swapped {first_name} and {second_name}."


def take_out(session: Session, round_: Round, place: int, actor_id: int) -> str:
    """Remove someone from one group (by membership); they (unless still in another group of
    the round, as a mentor may be) and a partner left alone become unmatched."""
    _require_draft(round_)
    membership = _membership(round_, place)
    user_id = membership.user_id
    group = membership.group
    before = [m.user_id for m in group.memberships]
    group.memberships.remove(membership)
    unmatched = list(round_.unmatched or [])
    elsewhere = any(
        m.user_id == user_id for g in round_.groups if g is not group for m in g.memberships
    )
    if not elsewhere:
        unmatched.append({"user_id": user_id, "reason": TAKEN_OUT})
    rest = [m.user_id for m in group.memberships]
    if len(rest) < 2:
        unmatched += [{"user_id": uid, "reason": PARTNER_TAKEN_OUT} for uid in rest]
        round_.groups.remove(group)
    else:
        rescore(round_, round_problem(round_), group)
    round_.unmatched = unmatched  # a new list: JSON columns only notice reassignment
    round_.total_score = round(sum(g.score for g in round_.groups), 3)
    (name,) = _names(session, [user_id])
    record(
        session,
        actor_id,
        "round.take_out",
        f"round {round_.week}: {name}",
        before={"group": before},
        after={
            "group": rest,
            "unmatched": ([] if elsewhere else [user_id]) + (rest if len(rest) < 2 else []),
        },
    )
    session.flush()
    if elsewhere:
        return f"Took {name} out of one group of the round of {round_.week}."
    return f"Took {name} out of the round of {round_.week}."


def discard(session: Session, round_: Round, actor_id: int) -> str:
    """Delete a draft round."""
    _require_draft(round_)
    record(
        session,
        actor_id,
        "round.discard",
        f"round {round_.week}",
        before={"week": round_.week, "groups": len(round_.groups)},
    )
    week = round_.week
    session.delete(round_)
    session.flush()
    return f"Discarded the draft of {week}."


def publish(session: Session, round_: Round, actor_id: int) -> str:
    """Publish a draft: members are told in the same transaction (outbox)."""
    _require_draft(round_)
    queued = publishing.publish_round(session, round_)
    record(
        session,
        actor_id,
        "round.publish",
        f"round {round_.week}",
        before={"status": "draft"},
        after={"status": round_.status, "messages": queued},
    )
    return f"Published {round_.week}: {queued} messages queued."
