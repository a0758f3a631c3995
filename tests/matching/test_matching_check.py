"""disallowed_pairs: the solver's own hard constraints, for groups made by someone else."""

from __future__ import annotations

from matcher.matching import Participant, PastPairing, Problem, Rules, disallowed_pairs

PEOPLE = (
    Participant("ada", "Payments"),
    Participant("bo", "Payments"),
    Participant("cy", "Search"),
    Participant("dee", "Platform"),
    Participant("eve", "Data"),
)


def test_each_hard_constraint_is_named_and_allowed_pairs_pass():
    problem = Problem(
        PEOPLE,
        history=(PastPairing("cy", "dee", 1), PastPairing("ada", "eve", 30, False)),
        blocked=(("bo", "cy"),),
        rules=Rules(repeat_cooldown_weeks=4),
    )
    assert disallowed_pairs(problem, [["ada", "cy"], ["dee", "eve"]]) == []
    assert disallowed_pairs(problem, [["ada", "bo"]]) == [("ada", "bo")]  # same team
    assert disallowed_pairs(problem, [["bo", "cy"]]) == [("bo", "cy")]  # do-not-pair
    assert disallowed_pairs(problem, [["cy", "dee"]]) == [("cy", "dee")]  # cooldown
    assert disallowed_pairs(problem, [["ada", "eve"]]) == [("ada", "eve")]  # never again
    assert disallowed_pairs(problem, [["ada", "zed"]]) == [("ada", "zed")]  # not taking part
    # A trio is checked pair by pair.
    assert disallowed_pairs(problem, [["ada", "cy", "bo"]]) == [("ada", "bo"), ("cy", "bo")]


def test_same_team_is_fine_when_the_rules_allow_it():
    problem = Problem(PEOPLE, rules=Rules(cross_team_only=False))
    assert disallowed_pairs(problem, [["ada", "bo"]]) == []
