"""Check groups made elsewhere (an admin's swap) against the hard constraints the solver uses."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

from .encode import encode
from .model import PersonId, Problem
from .scoring import Scorer


def disallowed_pairs(
    problem: Problem, groups: Sequence[Sequence[PersonId]]
) -> list[tuple[PersonId, PersonId]]:
    """Pairs inside these groups the solver would never make: same team (when cross-team
    only), blocked, "never again", within the cooldown, or someone not in the problem."""
    enc = encode(problem)
    index = {p.id: k for k, p in enumerate(problem.participants)}
    pairs = [pair for group in groups for pair in combinations(group, 2)]
    unknown = [(x, y) for x, y in pairs if x not in index or y not in index]
    known = [(x, y) for x, y in pairs if x in index and y in index]
    if not known:
        return unknown
    a = np.fromiter((index[x] for x, _ in known), dtype=np.int64, count=len(known))
    b = np.fromiter((index[y] for _, y in known), dtype=np.int64, count=len(known))
    ok = Scorer(enc, problem.rules.weights).allowed(a, b).tolist()
    return unknown + [pair for pair, fine in zip(known, ok, strict=True) if not fine]
