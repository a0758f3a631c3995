"""Managers: the avoid_managers hard rule and the reporting-tree org distance."""

import copy
import dataclasses
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.matching import (
    Participant,
    PastPairing,
    Problem,
    ProblemError,
    Rules,
    Weights,
    disallowed_pairs,
    problem_from_json,
    problem_to_json,
    result_to_json,
    solve,
)
from matcher.matching.allpairs import allowed_pair_blocks
from matcher.matching.encode import encode
from matcher.matching.jsonio import _participant, _participant_fast
from matcher.matching.scoring import COMPONENTS, ORG_FULL_HOPS, Scorer

ORG = COMPONENTS.index("org_distance")
IDS = [f"p{i}" for i in range(16)]
OUTSIDERS = ["o0", "o1", "o2", "o3"]  # managers who never take part
DOCS = Path(__file__).resolve().parents[2] / "docs"


def scorer_of(problem: Problem) -> tuple[Scorer, dict]:
    return Scorer(encode(problem), problem.rules.weights), {
        p.id: k for k, p in enumerate(problem.participants)
    }


def org_of(problem: Problem, x, y) -> float:
    """The unweighted org_distance component of the pair (x, y)."""
    scorer, index = scorer_of(problem)
    return float(scorer.components([index[x]], [index[y]])[0, ORG])


def without_managers(problem: Problem) -> Problem:
    people = tuple(dataclasses.replace(p, managers=()) for p in problem.participants)
    return dataclasses.replace(problem, participants=people)


def direct_pairs(problem: Problem) -> set[frozenset]:
    """Pairs of participants where one is the other's direct manager, as the rule says:
    the first of one's own chain, or for someone without a chain but named in another's,
    the next one up that chain (computed without the engine)."""
    people = {p.id: p for p in problem.participants}
    parent = {}
    for p in problem.participants:
        for k, m in enumerate(p.managers):
            if m in people and not people[m].managers and m not in parent:
                parent[m] = p.managers[k + 1] if k + 1 < len(p.managers) else None
    for p in problem.participants:
        if p.managers:
            parent[p.id] = p.managers[0]
    return {
        frozenset((child, boss))
        for child, boss in parent.items()
        if boss is not None and boss in people
    }


def pairs_of(result) -> set[frozenset]:
    return {frozenset(p) for g in result.groups for p in itertools.combinations(g.members, 2)}


# --- the hard rule ---------------------------------------------------------------------------


@st.composite
def org_problems(draw):
    """People in a random reporting forest (with managers who do not take part); some people's
    chains are unknown, some have capacity 2, the rule on or off."""
    n = draw(st.integers(2, 16))
    nodes = IDS[:n] + OUTSIDERS
    order = draw(st.permutations(nodes))
    parent = {}
    for k, node in enumerate(order):
        parent[node] = draw(st.sampled_from([None, *order[:k]])) if k else None
    known = draw(st.lists(st.booleans(), min_size=n, max_size=n))

    def chain(node):
        out = []
        while parent[node] is not None:
            node = parent[node]
            out.append(node)
        return tuple(out)

    people = tuple(
        Participant(
            IDS[i],
            draw(st.sampled_from(["A", "B", "C"])),
            interests=tuple(draw(st.lists(st.sampled_from(["x", "y", "z"]), max_size=2))),
            capacity=draw(st.sampled_from([1, 1, 1, 2])),
            weeks_waiting=draw(st.integers(0, 3)),
            managers=chain(IDS[i]) if known[i] else (),
        )
        for i in range(n)
    )
    pairs = list(itertools.combinations(IDS[:n], 2))
    history = tuple(
        PastPairing(a, b, draw(st.integers(0, 8)))
        for a, b in draw(st.lists(st.sampled_from(pairs), max_size=5))
    )
    rules = Rules(
        cross_team_only=draw(st.booleans()),
        group_size=draw(st.sampled_from([2, 3, 4])),
        avoid_managers=draw(st.booleans()),
    )
    return Problem(people, history, rules=rules, seed=draw(st.integers(0, 3)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org_problems())
def test_nobody_is_grouped_with_their_manager_or_report_while_the_rule_is_on(problem):
    managed = direct_pairs(problem)
    scorer, _ = scorer_of(problem)
    plain, _ = scorer_of(without_managers(problem))
    ids = [p.id for p in problem.participants]
    pairs = np.asarray(list(itertools.combinations(range(len(ids)), 2)), dtype=np.int64)
    a, b = pairs[:, 0], pairs[:, 1]
    got = scorer.allowed(a, b)
    # Exactly the manager pairs are taken away when on; nothing when off.
    want = plain.allowed(a, b)
    if problem.rules.avoid_managers:
        want &= np.array([frozenset((ids[x], ids[y])) not in managed for x, y in pairs])
    assert got.tolist() == want.tolist()
    result = solve(problem)
    bad = [tuple(pair) for pair in managed]
    if problem.rules.avoid_managers:
        assert not pairs_of(result) & managed
        assert len(disallowed_pairs(problem, bad)) == len(bad)
    else:  # only what would forbid them anyway (same team, cooldown)
        assert disallowed_pairs(problem, bad) == disallowed_pairs(without_managers(problem), bad)
    placed = {m for g in result.groups for m in g.members}
    assert placed | {u.id for u in result.unmatched} == set(ids)
    assert solve(problem) == result


def test_a_manager_and_their_report_pair_only_when_the_rule_is_off():
    people = (
        Participant("boss", "Platform", interests=("rust",), managers=("ceo",)),
        Participant("dev", "Payments", interests=("rust",), managers=("boss", "ceo")),
    )
    on = solve(Problem(people))
    assert on.groups == () and {u.id for u in on.unmatched} == {"boss", "dev"}
    off = solve(Problem(people, rules=Rules(avoid_managers=False)))
    assert [set(g.members) for g in off.groups] == [{"boss", "dev"}]
    # A skip-level manager is no direct manager: allowed with the rule on.
    skip = (people[1], Participant("ceo", "Exec", interests=("rust",)))
    assert [set(g.members) for g in solve(Problem(skip)).groups] == [{"dev", "ceo"}]


def test_direct_reports_are_kept_apart_from_every_slot_and_at_scale():
    # 400 people (above the exhaustive search): the leads of each team manage the next team.
    people = []
    for t in range(40):
        for k in range(10):
            lead = f"t{(t - 1) % 40}-0"
            chain = (f"dir{t % 4}", "ceo") if k == 0 else (lead, f"dir{(t - 1) % 4}", "ceo")
            people.append(
                Participant(
                    f"t{t}-{k}",
                    f"T{t}",
                    interests=(f"i{(t + k) % 7}", f"i{k % 3 + 7}"),
                    projects=(f"P{t // 2}",),
                    capacity=3 if k == 0 else 1,
                    managers=chain,
                )
            )
    problem = Problem(tuple(people))
    managed = direct_pairs(problem)
    assert len(managed) == 360
    result = solve(problem)
    assert not pairs_of(result) & managed
    assert len(result.unmatched) == 0
    scorer, index = scorer_of(problem)
    for g in result.groups:  # the solver scored with the tree distance it reports
        pairs = list(itertools.combinations([index[m] for m in g.members], 2))
        x, y = zip(*pairs, strict=True)
        assert g.score == pytest.approx(float(scorer.scores(x, y).sum()), abs=1e-4)
    # --edges-all: every allowed pair, and no manager pair among them.
    everything = {
        frozenset((people[x].id, people[y].id))
        for a, b, _ in allowed_pair_blocks(scorer)
        for x, y in zip(a.tolist(), b.tolist(), strict=True)
    }
    assert not everything & managed
    assert len(everything) == 400 * 399 // 2 - 40 * 45 - 360


# --- the reporting-tree distance ----------------------------------------------------------------

#            ceo (not taking part)           top2 (not taking part)
#          /      \                               |
#        m1        m2                             x
#       /  \        |
#      a    b       c        m3 (takes part, lists no chain, named in e's chain) -- e
#      |
#      d
TREE = (
    Participant("m1", "T1", managers=("ceo",)),
    Participant("m2", "T2", managers=("ceo",)),
    Participant("a", "T3", managers=("m1", "ceo")),
    Participant("b", "T4", managers=("m1", "ceo")),
    Participant("c", "T5", managers=("m2", "ceo")),
    Participant("d", "T6", managers=("a", "m1", "ceo")),
    Participant("x", "T7", managers=("top2",)),
    Participant("e", "T8", managers=("m3", "ceo")),
    Participant("m3", "T9"),
    Participant("y", "T10"),
    Participant("z", "T3"),
)


@pytest.mark.parametrize(
    ("x", "y", "hops"),
    [
        ("a", "b", 2),  # siblings
        ("m1", "m2", 2),  # siblings, the top not taking part
        ("a", "c", 4),  # cousins
        ("d", "c", 5),
        ("b", "d", 3),  # uncle and nephew
        ("d", "m1", 2),  # skip-level manager
        ("a", "m1", 1),  # direct manager (rule off)
        ("m3", "m1", 2),  # a manager without a chain is placed by the chain naming them
        ("e", "m3", 1),
    ],
)
def test_tree_distance_is_hops_through_the_lowest_common_manager(x, y, hops):
    problem = Problem(TREE, rules=Rules(avoid_managers=False, cross_team_only=False))
    assert org_of(problem, x, y) == pytest.approx(min(hops / ORG_FULL_HOPS, 1.0))
    assert org_of(problem, y, x) == org_of(problem, x, y)
    assert ORG_FULL_HOPS == 6


def test_other_trees_are_furthest_and_people_outside_any_tree_use_the_team_flag():
    problem = Problem(TREE, rules=Rules(cross_team_only=False))
    assert org_of(problem, "x", "a") == 1.0  # another tree
    assert org_of(problem, "x", "m2") == 1.0
    assert org_of(problem, "y", "a") == 1.0  # y is in no tree: different teams
    assert org_of(problem, "z", "a") == 0.0  # z is in no tree: same team T3
    assert org_of(problem, "y", "z") == 1.0
    # Far apart in one tree: capped at 1.
    deep = (
        Participant("p", "A", managers=("l1", "l2", "l3", "top")),
        Participant("q", "B", managers=("r1", "r2", "top")),
        Participant("s", "C", managers=("l1", "l2", "l3", "top")),
    )
    assert org_of(Problem(deep), "p", "q") == 1.0  # 4 + 3 hops
    assert org_of(Problem(deep), "p", "s") == pytest.approx(2 / 6)


def test_weights_scale_the_tree_distance_and_facts_stay_as_they_were():
    # m1 and m2 may only meet each other (a and b report to m1), then the siblings a and b.
    problem = Problem(TREE[:4], rules=Rules(weights=Weights(org_distance=3.0)))
    result = solve(problem)
    assert {frozenset(g.members) for g in result.groups} == {
        frozenset(("m1", "m2")),
        frozenset(("a", "b")),
    }
    for group in result.groups:  # siblings: 2 hops, 2/6 of the weight 3
        assert dict(group.components)["org_distance"] == pytest.approx(1.0)
        assert group.score == pytest.approx(1.5 + 1.0)  # first meeting + org distance
        assert [f.kind for f in group.facts] == ["teams", "first_meeting"]
        assert group.reasons[0].startswith("from different teams")


def test_the_solver_pairs_people_further_apart_in_the_tree():
    # Two pairs of siblings under two managers, four teams: cousins (4 hops) beat siblings (2).
    people = tuple(
        Participant(pid, f"T{k}", managers=(boss, "ceo"))
        for k, (pid, boss) in enumerate([("a", "m1"), ("b", "m1"), ("c", "m2"), ("d", "m2")])
    )
    for seed in range(4):
        result = solve(Problem(people, seed=seed))
        assert {frozenset(g.members) for g in result.groups} & {
            frozenset("ab"),
            frozenset("cd"),
        } == set()
        assert result.total_score == pytest.approx(2 * (1.5 + 4 / 6), abs=1e-3)


# --- problems without managers are unchanged -----------------------------------------------------


def test_problems_without_managers_build_nothing_and_give_the_same_result():
    import orggen

    data = orggen.generate(300, seed=7)
    data["rules"] = {**data.get("rules", {}), "cross_team_only": False}  # the team flag varies
    problem = problem_from_json(data)
    assert encode(problem).org_path is None and encode(problem).manager is None
    base = result_to_json(solve(problem))
    # Explicitly empty chains everywhere: the same problem, the same result.
    empty = copy.deepcopy(data)
    for person in empty["participants"]:
        person["managers"] = []
    assert problem_from_json(empty) == problem
    assert result_to_json(solve(problem_from_json(empty))) == base
    # One person whose managers all stay out of the round: the tree arrays are built, yet
    # every pair still has someone in no known tree, so the team flag decides as before.
    lone = copy.deepcopy(data)
    lone["participants"][0]["managers"] = ["outside-1", "outside-2"]
    lone_problem = problem_from_json(lone)
    assert encode(lone_problem).org_path is not None
    assert result_to_json(solve(lone_problem)) == base
    # The same with manager ids that are integers like the participants' (not theirs).
    lone["participants"][0]["managers"] = [10**9]
    assert result_to_json(solve(problem_from_json(lone))) == base


# --- JSON ----------------------------------------------------------------------------------------


def test_json_round_trip_keeps_managers_and_follows_the_schema():
    people = (
        Participant(1, "A", managers=(2, "ceo")),
        Participant(2, "B", managers=("ceo",)),
        Participant("3", "C", managers=(1, 2, "ceo")),
        Participant(4, "D"),
    )
    problem = Problem(people, rules=Rules(avoid_managers=False))
    out = problem_to_json(problem)
    assert [p.get("managers") for p in out["participants"]] == [
        [2, "ceo"],
        ["ceo"],
        [1, 2, "ceo"],
        None,
    ]
    assert out["rules"]["avoid_managers"] is False
    assert problem_from_json(json.loads(json.dumps(out))) == problem
    assert solve(problem_from_json(out)) == solve(problem)
    # The fast reader and the checking reader agree.
    for raw, person in zip(out["participants"], people, strict=True):
        assert _participant_fast(raw) == person == _participant(raw, "participants[0]")
    assert Rules.from_dict({}).avoid_managers is True
    assert Rules.from_dict(Rules().to_dict()) == Rules()
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(
        json.loads((DOCS / "problem.schema.json").read_text())
    )
    validator.validate(out)
    repeated = copy.deepcopy(out)
    repeated["participants"][0]["managers"] = [2, 2]
    assert not validator.is_valid(repeated)
    repeated["participants"][0]["managers"] = [True]
    assert not validator.is_valid(repeated)


@pytest.mark.parametrize(
    ("managers", "message"),
    [
        ("m1", "participants[1].managers: must be a list of person ids, got str"),
        (None, "participants[1].managers: must be a list of person ids, got null"),
        ({"id": 1}, "participants[1].managers: must be a list of person ids, got dict"),
        ([True], "participants[1].managers[0]: must be a string or integer id, got True"),
        (["m1", 2.5], "participants[1].managers[1]: must be a string or integer id, got 2.5"),
        (["m1", "bo"], "participants[1].managers[1]: a person cannot be their own manager ('bo')"),
        (["m1", "m2", "m1"], "participants[1].managers[2]: 'm1' appears twice in the chain"),
        ([f"m{i}" for i in range(65)], "participants[1].managers: at most 64 managers, got 65"),
    ],
)
def test_broken_chains_raise_one_clear_line(managers, message):
    data = {
        "participants": [
            {"id": "ana", "team": "A"},
            {"id": "bo", "team": "B", "managers": managers},
        ]
    }
    with pytest.raises(ProblemError) as error:
        problem_from_json(data)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_chains_built_in_python_are_checked_too():
    for managers, message in [
        (("a",), "participants[0].managers[0]: a person cannot be their own manager ('a')"),
        (("m", "m"), "participants[0].managers[1]: 'm' appears twice in the chain"),
        (("m", False), "participants[0].managers[1]: must be a string or integer id, got False"),
        ("m", "participants[0].managers: must be a list of person ids, got str"),
        (None, "participants[0].managers: must be a list of person ids, got None"),
    ]:
        with pytest.raises(ProblemError) as error:
            solve(Problem((Participant("a", "T", managers=managers), Participant("b", "U"))))
        assert str(error.value).startswith(message), str(error.value)
    # Ids of two types are two people: 1 may report to "1".
    ok = Problem((Participant(1, "T", managers=("1",)), Participant("1", "U")))
    assert solve(ok).groups == ()
    with pytest.raises(ProblemError, match=r"rules.avoid_managers: must be true or false"):
        Rules(avoid_managers="yes")
    with pytest.raises(ProblemError, match=r"rules.avoid_managers: must be true or false"):
        Rules.from_dict({"avoid_managers": 1})
