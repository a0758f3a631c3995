import math

import pytest

from matcher.matching import DEFAULT_WEIGHTS, ProblemError, Rules, Weights


def test_defaults_round_trip_through_dict():
    rules = Rules()
    assert rules.cross_team_only is True
    assert rules.repeat_cooldown_weeks == 4
    assert rules.group_size == 2
    assert rules.weights == DEFAULT_WEIGHTS
    assert Rules.from_dict(rules.to_dict()) == rules


def test_missing_keys_take_defaults_and_weights_may_be_partial():
    rules = Rules.from_dict({"group_size": 3, "weights": {"interests": 5}})
    assert rules.group_size == 3
    assert rules.weights.interests == 5
    assert rules.weights.projects == DEFAULT_WEIGHTS.projects


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"colour": "blue"}, "rules: unknown rule 'colour'"),
        ({"weights": {"beauty": 1}}, "rules.weights: unknown weight 'beauty'"),
        ({"group_size": 5}, "rules.group_size"),
        ({"group_size": 1}, "rules.group_size"),
        ({"group_size": 2.0}, "rules.group_size"),
        ({"group_size": True}, "rules.group_size"),
        ({"repeat_cooldown_weeks": -1}, "rules.repeat_cooldown_weeks"),
        ({"repeat_cooldown_weeks": 53}, "rules.repeat_cooldown_weeks"),
        ({"cross_team_only": "yes"}, "rules.cross_team_only"),
        ({"weights": {"novelty": math.inf}}, "rules.weights.novelty"),
        ({"weights": {"novelty": math.nan}}, "rules.weights.novelty"),
        ({"weights": {"hours": -0.5}}, "rules.weights.hours"),
        ({"weights": {"hours": 11}}, "rules.weights.hours"),
        ({"weights": {"hours": "1"}}, "rules.weights.hours"),
        ({"weights": {"hours": False}}, "rules.weights.hours"),
        ({"weights": [1, 2]}, "rules.weights: must be an object"),
        ([], "rules: must be an object"),
    ],
)
def test_invalid_rules_name_the_field(data, field):
    with pytest.raises(ProblemError) as err:
        Rules.from_dict(data)
    assert field in str(err.value)
    assert "\n" not in str(err.value)


def test_constructing_invalid_rules_directly_raises():
    with pytest.raises(ProblemError, match="rules.group_size"):
        Rules(group_size=7)
    with pytest.raises(ProblemError, match="rules.weights.fairness"):
        Weights(fairness=-1)


def test_weights_names_are_the_documented_components():
    assert Weights.names() == (
        "interests",
        "projects",
        "org_distance",
        "location",
        "hours",
        "novelty",
        "fairness",
        "help",
    )
