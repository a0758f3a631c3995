"""A forked helper (workers=2) changes nothing in the results, only where the work runs."""

import numpy as np

from matcher.matching import Participant, Problem
from matcher.matching.candidates import POOL_BLOCK, CandidateOptions, pool_pairs
from matcher.matching.encode import encode
from matcher.matching.rules import Rules
from matcher.matching.scoring import Scorer


def org(n: int, seed: int = 7) -> Problem:
    rng = np.random.default_rng(seed)
    topics = [f"topic-{k}" for k in range(60)]
    people = tuple(
        Participant(
            f"p{i}",
            f"team-{i % 40}",
            projects=(f"project-{i % 25}",),
            interests=tuple(rng.choice(topics, size=4, replace=False).tolist()),
            location=("Berlin", "Lisbon", None)[i % 3],
            weeks_waiting=int(rng.integers(0, 6)),
        )
        for i in range(n)
    )
    return Problem(people, rules=Rules(), seed=seed)


def test_pool_scored_by_two_processes_is_the_same():
    problem = org(8_000)
    enc = encode(problem)
    scorer = Scorer(enc, problem.rules.weights)
    one = pool_pairs(enc, scorer, CandidateOptions(), np.random.default_rng(1), workers=1)
    two = pool_pairs(enc, scorer, CandidateOptions(), np.random.default_rng(1), workers=2)
    assert len(one[0]) > 2 * POOL_BLOCK  # enough blocks for the helper to take some
    for x, y in zip(one, two, strict=True):
        assert x.dtype == y.dtype
        assert np.array_equal(x, y)
