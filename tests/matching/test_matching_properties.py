"""Property-based tests: hard constraints, determinism and nobody dropped."""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.matching import Participant, PastPairing, Problem, Rules, solve

IDS = [f"p{i}" for i in range(24)]


@st.composite
def problems(draw):
    n = draw(st.integers(0, 24))
    teams = st.sampled_from(["A", "B", "C", "D"])
    tokens = st.lists(st.sampled_from(["x", "y", "z", "w"]), max_size=3, unique=True)
    ps = tuple(
        Participant(
            IDS[i],
            draw(teams),
            projects=tuple(draw(tokens)),
            interests=tuple(draw(tokens)),
            location=draw(st.sampled_from([None, "Berlin", "Paris"])),
            weeks_waiting=draw(st.integers(0, 5)),
            meeting_mode=draw(st.sampled_from(["either", "in_person", "video"])),
        )
        for i in range(n)
    )
    pairs = list(itertools.combinations(IDS[:n], 2))
    history = ()
    blocked = ()
    if pairs:
        chosen = draw(st.lists(st.sampled_from(pairs), max_size=12))
        history = tuple(
            PastPairing(a, b, draw(st.integers(0, 12)), draw(st.sampled_from([None, True, False])))
            for a, b in chosen
        )
        blocked = tuple(draw(st.lists(st.sampled_from(pairs), max_size=4)))
    rules = Rules(
        cross_team_only=draw(st.booleans()),
        repeat_cooldown_weeks=draw(st.integers(0, 6)),
        group_size=draw(st.sampled_from([2, 2, 3, 4])),
    )
    return Problem(ps, history, blocked, rules, seed=draw(st.integers(0, 3)))


def forbidden(problem: Problem) -> set[frozenset]:
    """Every pair the hard constraints exclude, computed independently of the engine."""
    out = {frozenset(pair) for pair in problem.blocked}
    for h in problem.history:
        if h.would_meet_again is False or h.weeks_ago < problem.rules.repeat_cooldown_weeks:
            out.add(frozenset((h.a, h.b)))
    if problem.rules.cross_team_only:
        for p, q in itertools.combinations(problem.participants, 2):
            if p.team == q.team:
                out.add(frozenset((p.id, q.id)))
    return out


FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(problems())
def test_hard_constraints_never_broken(problem):
    bad = forbidden(problem)
    for group in solve(problem).groups:
        for pair in itertools.combinations(group.members, 2):
            assert frozenset(pair) not in bad


@FAST
@given(problems())
def test_nobody_dropped_and_no_two_unmatched_could_pair(problem):
    result = solve(problem)
    seen = [m for g in result.groups for m in g.members] + [u.id for u in result.unmatched]
    assert sorted(seen) == sorted(p.id for p in problem.participants)
    bad = forbidden(problem)
    left = [u.id for u in result.unmatched]
    for pair in itertools.combinations(left, 2):
        assert frozenset(pair) in bad
    for group in result.groups:
        assert 2 <= len(group.members) <= problem.rules.group_size + 1


@settings(max_examples=60, deadline=None)
@given(problems())
def test_same_input_and_seed_give_the_same_output(problem):
    assert solve(problem) == solve(problem)
