import copy

import pytest

from matcher.matching import (
    Participant,
    ProblemError,
    problem_from_json,
    problem_to_json,
    result_to_json,
    solve,
)


def test_parse_round_trip(small_problem):
    problem = problem_from_json(small_problem)
    assert len(problem.participants) == 6
    assert isinstance(problem.participants[0], Participant)
    assert problem_from_json(problem_to_json(problem)) == problem


def test_int_and_str_ids_are_kept(small_problem):
    data = copy.deepcopy(small_problem)
    data["participants"][0]["id"] = 17
    data["history"] = [{"a": 17, "b": "bo", "weeks_ago": 9}]
    result = result_to_json(solve(problem_from_json(data)))
    members = [m for g in result["groups"] for m in g["members"]]
    members += [u["id"] for u in result["unmatched"]]
    assert 17 in members and "17" not in members


def break_(data, path, value):
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


BROKEN = [
    (("participants",), KeyError, "missing 'participants'"),
    (("participants",), {}, "participants: must be a list"),
    (("participants", 0, "id"), 1.5, "participants[0].id"),
    (("participants", 0, "id"), True, "participants[0].id"),
    (("participants", 1, "id"), "ana", "duplicate participant id 'ana'"),
    (("participants", 0, "team"), 3, "participants[0].team"),
    (("participants", 0, "projects"), "Checkout", "participants[0].projects"),
    (("participants", 0, "interests"), [1], "participants[0].interests[0]"),
    (("participants", 0, "weeks_waiting"), -1, "participants[0].weeks_waiting"),
    (("participants", 0, "meeting_mode"), "teleport", "participants[0].meeting_mode"),
    (("participants", 0, "timezone"), "Mars/Olympus", "participants[0].timezone"),
    (("participants", 0, "availability"), [{"weekday": 7}], "participants[0].availability[0]"),
    (("participants", 0, "shoe_size"), 44, "unknown key 'shoe_size'"),
    (("history", 0, "a"), "zed", "history[0].a: unknown participant 'zed'"),
    (("history", 0, "weeks_ago"), "3", "history[0].weeks_ago"),
    (("history", 0, "b"), "ed", "cannot meet themselves"),
    (("history", 0, "would_meet_again"), "no", "history[0].would_meet_again"),
    (("blocked",), [["ana"]], "blocked[0]"),
    (("blocked",), [["ana", "zed"]], "blocked[0][1]: unknown participant 'zed'"),
    (("rules", "group_size"), 9, "rules.group_size"),
    (("rules", "colour"), "red", "unknown rule 'colour'"),
    (("seed",), -1, "seed"),
    (("seed",), "x", "seed"),
    (("extra",), 1, "unknown key 'extra'"),
]


@pytest.mark.parametrize(("path", "value", "message"), BROKEN)
def test_broken_problems_raise_one_clear_line(small_problem, path, value, message):
    data = break_(copy.deepcopy(small_problem), path, value)
    with pytest.raises(ProblemError) as err:
        problem_from_json(data)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_result_json_shape(small_problem):
    result = result_to_json(solve(problem_from_json(small_problem)))
    assert set(result) == {"groups", "unmatched", "total_score", "stats"}
    for group in result["groups"]:
        assert {"members", "score", "reasons"} <= set(group)
        assert 1 <= len(group["reasons"]) <= 3
    total = sum(g["score"] for g in result["groups"])
    assert result["total_score"] == pytest.approx(total, abs=1e-3)


def test_consume_mode_names_the_right_entry_and_empties_lists(small_problem):
    data = copy.deepcopy(small_problem)
    data["history"] = [{"a": "ana", "b": "bo", "weeks_ago": 9}] * 70_000
    data["history"].append({"a": "ana", "b": "zed", "weeks_ago": 1})
    with pytest.raises(ProblemError, match=r"history\[70000\]\.b: unknown participant 'zed'"):
        problem_from_json(copy.deepcopy(data), consume=True)
    data["history"].pop()
    problem = problem_from_json(data, consume=True)
    assert len(problem.history) == 70_000
    assert data["history"] == [] and data["participants"] == []
    assert problem == problem_from_json(
        {
            **copy.deepcopy(small_problem),
            "history": [{"a": "ana", "b": "bo", "weeks_ago": 9}] * 70_000,
        }
    )
