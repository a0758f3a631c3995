"""Capacity: a person with capacity k may be in up to k groups of a round (a mentor's mentees).

Wraps the solver without changing it: each such person becomes k slot rows; slots of one
person never meet (encode's `owner`), history and blocks apply to every slot, and interest and
topic rarity count the person once. After solving, slots map back to the person. Two people
who both have capacity > 1 could meet twice through two slot pairs; when that happens, their
meetings are restricted to the slot pair of their first group and the round is solved again
(rare: with roles, mentors never meet mentors).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from itertools import combinations, product

import numpy as np

from .encode import encode
from .facts import Fact
from .graph import CandidateGraph
from .model import Group, PersonId, Problem, Result, Unmatched, trusted_past_pairing
from .solver import SolveOutcome, SolverOptions
from .solver import solve_with_graph as _solve_slots


@dataclasses.dataclass(frozen=True, slots=True)
class SlotProblem(Problem):
    """A problem whose participants are slots; slot_owner[i] is the person of slot i, whose id
    is person_ids[slot_owner[i]] (slots keep their person's managers, which name people by
    those ids: the direct manager and the reports of a person are kept from all its slots)."""

    slot_owner: tuple[int, ...] = ()
    person_ids: tuple[PersonId, ...] = ()


def _slots(problem: Problem) -> tuple[list[list[int]], list[int]]:
    """Slot numbers of each person (consecutive, in participant order) and each slot's owner."""
    slots_of: list[list[int]] = []
    owner: list[int] = []
    for i, p in enumerate(problem.participants):
        slots_of.append(list(range(len(owner), len(owner) + p.capacity)))
        owner.extend([i] * p.capacity)
    return slots_of, owner


def _expand(
    problem: Problem,
    slots_of: list[list[int]],
    owner: list[int],
    restricted: dict[tuple[int, int], tuple[int, int]],
) -> SlotProblem:
    """The slot problem: slot ids are 0..m-1; names keep each person's label for reasons."""
    people = problem.participants
    index = {p.id: i for i, p in enumerate(people)}
    participants = tuple(
        dataclasses.replace(people[i], id=slot, capacity=1, name=people[i].label)
        for slot, i in enumerate(owner)
    )
    history = tuple(
        trusted_past_pairing(x, y, h.weeks_ago, h.would_meet_again)  # validated by encode
        for h in problem.history
        for x, y in product(slots_of[index[h.a]], slots_of[index[h.b]])
    )
    blocked: list[tuple[PersonId, PersonId]] = [
        (x, y)
        for a, b in problem.blocked
        for x, y in product(slots_of[index[a]], slots_of[index[b]])
    ]
    # People who would otherwise meet twice: only one slot pair of theirs may meet.
    for (i, j), keep in sorted(restricted.items()):
        blocked += [(x, y) for x, y in product(slots_of[i], slots_of[j]) if (x, y) != keep]
    return SlotProblem(
        participants,
        history,
        tuple(blocked),
        problem.rules,
        problem.seed,
        slot_owner=tuple(owner),
        person_ids=tuple(p.id for p in people),
    )


def _repeats(groups: Sequence[Group], owner: list[int]) -> dict[tuple[int, int], tuple[int, int]]:
    """People pairs who share more than one group, with their slots in the first such group."""
    first: dict[tuple[int, int], tuple[int, int]] = {}
    repeated: dict[tuple[int, int], tuple[int, int]] = {}
    for group in groups:
        for x, y in combinations(sorted(group.members, key=lambda s: owner[s]), 2):
            key = (owner[x], owner[y])
            if key in first:
                repeated.setdefault(key, first[key])
            else:
                first[key] = (x, y)
    return repeated


def _person_graph(graph: CandidateGraph, owner: np.ndarray, n: int) -> CandidateGraph:
    """The candidate graph between people (one edge per pair of people)."""
    a, b = owner[graph.a], owner[graph.b]
    keys = np.minimum(a, b) * n + np.maximum(a, b)
    keys, first = np.unique(keys, return_index=True)
    return CandidateGraph(n, keys // n, keys % n, graph.score[first])


def _map_back(result: Result, problem: Problem, owner: list[int], solves: int) -> Result:
    """The slot result in terms of people."""
    ids = [problem.participants[i].id for i in owner]
    groups = tuple(
        dataclasses.replace(
            g,
            members=tuple(ids[s] for s in g.members),
            facts=tuple(
                dataclasses.replace(f, members=tuple(ids[s] for s in f.members))
                if isinstance(f, Fact)
                else f
                for f in g.facts
            ),
        )
        for g in result.groups
    )
    placed = {m for g in groups for m in g.members}
    unmatched: dict[PersonId, Unmatched] = {}
    for u in result.unmatched:
        pid = ids[int(u.id)]
        if pid not in placed and pid not in unmatched:
            unmatched[pid] = Unmatched(pid, u.reason)
    stats = dict(result.stats)
    stats.update(
        participants=len(problem.participants),
        slots=len(owner),
        unmatched=len(unmatched),
        capacity_solves=solves,
    )
    return Result(groups, tuple(unmatched.values()), result.total_score, stats)


def solve_with_graph(problem: Problem, options: SolverOptions | None = None) -> SolveOutcome:
    """Like solver.solve_with_graph, honouring each participant's capacity."""
    if all(p.capacity == 1 for p in problem.participants):
        return _solve_slots(problem, options)
    encode(problem)  # validate, so errors name the problem's own entries, not slots
    slots_of, owner = _slots(problem)
    restricted: dict[tuple[int, int], tuple[int, int]] = {}
    solves = 0
    while True:
        solves += 1
        outcome = _solve_slots(_expand(problem, slots_of, owner, restricted), options)
        repeated = _repeats(outcome.result.groups, owner)
        fresh = {key: slots for key, slots in repeated.items() if key not in restricted}
        if not fresh:
            break
        # Each pass restricts at least one more pair of people, so this ends.
        restricted.update(fresh)
    graph = _person_graph(outcome.graph, np.asarray(owner, dtype=np.int64), len(slots_of))
    return SolveOutcome(_map_back(outcome.result, problem, owner, solves), graph)


def solve(problem: Problem, options: SolverOptions | None = None) -> Result:
    """Group this week's participants, each in up to `capacity` groups with new partners."""
    return solve_with_graph(problem, options).result
