"""Programmes in the engine: roles, capacity and the directed help component."""

import copy
import itertools
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.matching import (
    FACT_KINDS,
    Fact,
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
    sentences,
    solve,
)
from matcher.matching.encode import encode
from matcher.matching.scoring import COMPONENTS, Scorer

DATA = Path(__file__).resolve().parent / "data"
HELP = COMPONENTS.index("help")
IDS = [f"p{i}" for i in range(20)]


def help_of(problem: Problem, x, y) -> float:
    """The unweighted help component of the pair (x, y)."""
    enc = encode(problem)
    index = {p.id: k for k, p in enumerate(problem.participants)}
    return float(Scorer(enc, problem.rules.weights).components([index[x]], [index[y]])[0, HELP])


def forbidden(problem: Problem) -> set[frozenset]:
    """Pairs blocked, refused, within the cooldown or same-team, computed without the engine."""
    out = {frozenset(pair) for pair in problem.blocked}
    for h in problem.history:
        if h.would_meet_again is False or h.weeks_ago < problem.rules.repeat_cooldown_weeks:
            out.add(frozenset((h.a, h.b)))
    if problem.rules.cross_team_only:
        for p, q in itertools.combinations(problem.participants, 2):
            if p.team == q.team:
                out.add(frozenset((p.id, q.id)))
    return out


def pairs_of(result) -> list[frozenset]:
    return [frozenset(p) for g in result.groups for p in itertools.combinations(g.members, 2)]


# --- old problems are unchanged -------------------------------------------------------------


@pytest.mark.parametrize("size", ["2", "3"])
def test_old_problem_gives_the_result_recorded_with_main(size):
    recorded = json.loads((DATA / "old_problem_60.json").read_text())
    data = copy.deepcopy(recorded["problem"])
    data["rules"]["group_size"] = int(size)
    got = result_to_json(solve(problem_from_json(data)))
    want = recorded["results_by_group_size"][size]
    assert [[g["members"], g["score"], g["reasons"]] for g in got["groups"]] == want["groups"]
    assert got["unmatched"] == want["unmatched"]
    assert got["total_score"] == want["total_score"]
    assert all(g["components"]["help"] == 0.0 for g in got["groups"])


def test_old_problem_json_round_trip_keeps_its_shape(small_problem):
    problem = problem_from_json(small_problem)
    out = problem_to_json(problem)
    for person in out["participants"]:
        assert not {"role", "capacity", "offers", "wants"} & set(person)
    assert problem_from_json(out) == problem
    assert out["rules"]["distinct_roles"] is False


# --- roles ----------------------------------------------------------------------------------


@st.composite
def role_problems(draw):
    n = draw(st.integers(0, 20))
    topics = st.lists(st.sampled_from(["k8s", "go", "sql", "ux"]), max_size=2, unique=True)
    people = tuple(
        Participant(
            IDS[i],
            draw(st.sampled_from(["A", "B", "C"])),
            interests=tuple(draw(topics)),
            role=draw(st.sampled_from([None, "mentor", "mentee", "mentee", "x"])),
            capacity=draw(st.sampled_from([1, 1, 1, 2, 3])),
            offers=tuple(draw(topics)),
            wants=tuple(draw(topics)),
            weeks_waiting=draw(st.integers(0, 3)),
        )
        for i in range(n)
    )
    pairs = list(itertools.combinations(IDS[:n], 2))
    history, blocked = (), ()
    if pairs:
        chosen = draw(st.lists(st.sampled_from(pairs), max_size=10))
        history = tuple(
            PastPairing(a, b, draw(st.integers(0, 8)), draw(st.sampled_from([None, False])))
            for a, b in chosen
        )
        blocked = tuple(draw(st.lists(st.sampled_from(pairs), max_size=4)))
    distinct = draw(st.booleans())
    rules = Rules(
        cross_team_only=draw(st.booleans()),
        repeat_cooldown_weeks=draw(st.integers(0, 4)),
        group_size=2 if distinct else draw(st.sampled_from([2, 3, 4])),
        distinct_roles=distinct,
    )
    return Problem(people, history, blocked, rules, seed=draw(st.integers(0, 3)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(role_problems())
def test_roles_capacity_and_hard_constraints_always_hold(problem):
    result = solve(problem)
    people = {p.id: p for p in problem.participants}
    if problem.rules.distinct_roles:
        for g in result.groups:
            roles = [people[m].role for m in g.members]
            assert None not in roles and len(set(roles)) == len(roles), (g.members, roles)
    seen = Counter(m for g in result.groups for m in g.members)
    for pid, times in seen.items():
        assert times <= people[pid].capacity
    pairs = pairs_of(result)
    assert len(pairs) == len(set(pairs)), "the same two people met twice"
    assert not set(pairs) & forbidden(problem)
    assert all(len(set(g.members)) == len(g.members) for g in result.groups)
    unmatched = {u.id for u in result.unmatched}
    assert not unmatched & set(seen)
    assert unmatched | set(seen) == set(people)
    assert solve(problem) == result


def test_people_without_a_role_are_unmatched_with_a_reason():
    people = (
        Participant("m", "A", role="mentor"),
        Participant("e", "B", role="mentee"),
        Participant("n", "C"),
    )
    result = solve(Problem(people, rules=Rules(distinct_roles=True)))
    assert [g.members for g in result.groups] == [("m", "e")]
    (left,) = result.unmatched
    assert left.id == "n" and "no role" in left.reason


def test_distinct_roles_pairs_across_roles_only():
    people = tuple(Participant(f"m{i}", f"T{i}", role="mentor") for i in range(3)) + tuple(
        Participant(f"e{i}", f"T{i}", role="mentee") for i in range(3)
    )
    result = solve(Problem(people, rules=Rules(distinct_roles=True)))
    assert len(result.groups) == 3
    assert all({m[0] for m in g.members} == {"m", "e"} for g in result.groups)
    # Without the rule the same people pair as they like (mentors with mentors too is fine).
    assert solve(Problem(people)).groups


def test_distinct_roles_needs_pairs():
    with pytest.raises(ProblemError, match="rules.distinct_roles"):
        Rules(distinct_roles=True, group_size=3)
    with pytest.raises(ProblemError, match="rules.distinct_roles"):
        Rules(distinct_roles="yes")


def test_rules_round_trip_with_distinct_roles():
    rules = Rules(distinct_roles=True, weights=Weights(help=3.5))
    assert Rules.from_dict(rules.to_dict()) == rules
    assert rules.to_dict()["distinct_roles"] is True
    assert Rules.from_dict({}).distinct_roles is False


def test_disallowed_pairs_honours_distinct_roles():
    people = (
        Participant("m", "A", role="mentor"),
        Participant("m2", "B", role="mentor"),
        Participant("e", "C", role="mentee"),
        Participant("n", "D"),
    )
    problem = Problem(people, rules=Rules(distinct_roles=True))
    assert disallowed_pairs(problem, [("m", "e")]) == []
    assert disallowed_pairs(problem, [("m", "m2"), ("e", "n")]) == [("m", "m2"), ("e", "n")]
    assert disallowed_pairs(Problem(people), [("m", "m2")]) == []


def test_roles_at_scale_use_the_candidate_search():
    # 400 people: above exhaustive_below, so role and help candidates must find the partners.
    mentors = tuple(
        Participant(f"m{i}", f"T{i % 40}", role="mentor", capacity=3, offers=(f"t{i % 30}",))
        for i in range(100)
    )
    mentees = tuple(
        Participant(f"e{i}", f"T{(i + 7) % 40}", role="mentee", wants=(f"t{i % 60}",))
        for i in range(300)
    )
    problem = Problem(mentors + mentees, rules=Rules(distinct_roles=True), seed=5)
    result = solve(problem)
    roles = {p.id: p.role for p in problem.participants}
    assert all({roles[m] for m in g.members} == {"mentor", "mentee"} for g in result.groups)
    assert (
        Counter(m for g in result.groups for m in g.members if m[0] == "m").most_common(1)[0][1]
        <= 3
    )
    assert not [u for u in result.unmatched if u.id.startswith("e")]
    # Mentees whose topic someone offers (t0..t29) are with an offerer of it.
    helped = [g for g in result.groups if g.components and dict(g.components)["help"] > 0]
    assert len(helped) >= 140


# --- capacity -------------------------------------------------------------------------------


def test_mentor_with_capacity_three_gets_all_three_mentees():
    people = (
        Participant("ana", "Infra", role="mentor", capacity=3, offers=("kubernetes",)),
        Participant("bo", "Web", role="mentor", capacity=3, offers=("css",)),
        *(
            Participant(f"e{i}", f"T{i}", role="mentee", wants=("kubernetes",), name=f"E{i}")
            for i in range(3)
        ),
    )
    problem = Problem(people, rules=Rules(distinct_roles=True))
    result = solve(problem)
    ana = sorted(m for g in result.groups if "ana" in g.members for m in g.members if m != "ana")
    assert ana == ["e0", "e1", "e2"]
    assert [u.id for u in result.unmatched] == ["bo"]
    assert result.stats["participants"] == 5
    assert all(isinstance(m, str) for g in result.groups for f in g.facts for m in f.members)


def test_capacity_is_never_exceeded_and_partners_differ():
    # Everybody has capacity 2 and no roles: slots of two people could meet twice.
    people = tuple(Participant(f"p{i}", f"T{i}", capacity=2, interests=("x",)) for i in range(5))
    result = solve(Problem(people, rules=Rules(cross_team_only=False)))
    seen = Counter(m for g in result.groups for m in g.members)
    assert max(seen.values()) <= 2
    pairs = pairs_of(result)
    assert len(pairs) == len(set(pairs))
    assert len(result.groups) == 5  # a 5-cycle: everybody twice, all partners different
    assert result.stats["capacity_solves"] >= 1


def test_capacity_history_applies_to_every_slot():
    people = (
        Participant("m", "A", role="mentor", capacity=2),
        Participant("e", "B", role="mentee"),
        Participant("f", "C", role="mentee"),
    )
    history = (PastPairing("m", "e", 1),)
    result = solve(Problem(people, history, rules=Rules(distinct_roles=True)))
    assert [g.members for g in result.groups] == [("m", "f")]
    assert [u.id for u in result.unmatched] == ["e"]
    assert "cooldown" in result.unmatched[0].reason


def test_capacity_is_deterministic():
    people = tuple(
        Participant(f"p{i}", f"T{i % 4}", capacity=1 + i % 3, interests=("a", "b")[: i % 3])
        for i in range(30)
    )
    problem = Problem(people, seed=3)
    assert solve(problem) == solve(problem)


@pytest.mark.parametrize("capacity", [0, 51, -1, True, 2.0])
def test_bad_capacity_names_the_field(capacity, small_problem):
    with pytest.raises(ProblemError, match="capacity"):
        Participant("x", "A", capacity=capacity)
    data = copy.deepcopy(small_problem)
    data["participants"][1]["capacity"] = capacity
    with pytest.raises(ProblemError, match=r"participants\[1\]\.capacity"):
        problem_from_json(data)


# --- help -----------------------------------------------------------------------------------


def test_help_is_directed():
    people = (
        Participant("a", "A", wants=("k8s",)),
        Participant("b", "B", wants=("k8s",)),
        Participant("c", "C", offers=("k8s",)),
        Participant("d", "D", offers=("k8s",)),
        Participant("e", "E", wants=("go",)),
    )
    problem = Problem(people)
    assert help_of(problem, "a", "b") == 0.0  # both want
    assert help_of(problem, "c", "d") == 0.0  # both offer
    assert help_of(problem, "a", "c") > 0.0
    assert help_of(problem, "c", "a") == help_of(problem, "a", "c")
    assert help_of(problem, "c", "e") == 0.0


def test_a_topic_counts_once_when_it_goes_both_ways():
    one_way = Problem(
        (Participant("a", "A", wants=("k8s",)), Participant("b", "B", offers=("k8s",)))
    )
    both_ways = Problem(
        (
            Participant("a", "A", wants=("k8s",), offers=("k8s",)),
            Participant("b", "B", wants=("k8s",), offers=("k8s",)),
        )
    )
    assert help_of(both_ways, "a", "b") == help_of(one_way, "a", "b")


def test_rarer_topic_beats_common_topic():
    crowd = tuple(Participant(f"c{i}", f"C{i}", wants=("python",)) for i in range(10))
    people = (
        Participant("me", "A", wants=("python", "erlang")),
        Participant("rare", "B", offers=("erlang",)),
        Participant("common", "C", offers=("python",)),
        *crowd,
    )
    problem = Problem(people)
    assert 0 < help_of(problem, "me", "common") < help_of(problem, "me", "rare") <= 1


def test_without_wants_or_offers_help_is_zero_everywhere(small_problem):
    problem = problem_from_json(small_problem)
    enc = encode(problem)
    a, b = zip(*itertools.combinations(range(enc.n), 2), strict=True)
    assert not Scorer(enc, problem.rules.weights).components(a, b)[:, HELP].any()


def test_help_brings_the_mentee_to_the_mentor_who_offers_the_topic():
    people = (
        Participant("ana", "Infra", role="mentor", offers=("kubernetes",), name="Ana"),
        Participant("max", "Data", role="mentor", offers=("sql",), name="Max"),
        Participant("bo", "Web", role="mentee", wants=("kubernetes",), name="Bo"),
        Participant("cy", "App", role="mentee", wants=("sql",), name="Cy"),
    )
    result = solve(Problem(people, rules=Rules(distinct_roles=True)))
    assert sorted(sorted(g.members) for g in result.groups) == [["ana", "bo"], ["cy", "max"]]
    group = next(g for g in result.groups if "bo" in g.members)
    fact = next(f for f in group.facts if f.kind == "can_help")
    assert fact.members == ("ana", "bo") and fact.topics == ("kubernetes",)
    assert "Ana can help Bo with kubernetes" in group.reasons
    name = {"ana": "Ana", "bo": "Bo"}.__getitem__
    assert "Ana can help you with kubernetes" in sentences(group.facts, group.members, name, "bo")
    assert "you can help Bo with kubernetes" in sentences(group.facts, group.members, name, "ana")


def test_can_help_fact_kind_and_json():
    assert "can_help" in FACT_KINDS
    fact = Fact("can_help", ("ana", "bo"), topics=("kubernetes", "helm"))
    assert fact.to_dict() == {
        "kind": "can_help",
        "members": ["ana", "bo"],
        "topics": ["kubernetes", "helm"],
    }
    assert Fact.from_dict(fact.to_dict()) == fact


def test_new_fields_round_trip_and_follow_the_schemas(small_problem):
    jsonschema = pytest.importorskip("jsonschema")
    docs = Path(__file__).resolve().parents[2] / "docs"
    data = copy.deepcopy(small_problem)
    data["participants"][0].update(role="mentor", capacity=2, offers=["rust", "go"])
    data["participants"][2].update(role="mentee", wants=["rust"])
    data["participants"][3].update(role="mentee", wants=["go"])
    data["participants"][4].update(role="mentee", wants=["rust"], offers=[])
    data["rules"]["distinct_roles"] = True
    data["rules"]["weights"] = {"help": 4.0}
    problem_schema = json.loads((docs / "problem.schema.json").read_text())
    jsonschema.Draft202012Validator(problem_schema).validate(data)
    problem = problem_from_json(data)
    assert problem.participants[0].capacity == 2
    assert problem.participants[0].offers == ("rust", "go")
    assert problem_from_json(problem_to_json(problem)) == problem
    result = result_to_json(solve(problem))
    assert any(f["kind"] == "can_help" for g in result["groups"] for f in g["facts"])
    result_schema = json.loads((docs / "result.schema.json").read_text())
    jsonschema.Draft202012Validator(result_schema).validate(result)
    data["participants"][0]["capacity"] = 0
    assert not jsonschema.Draft202012Validator(problem_schema).is_valid(data)


def test_role_candidates_give_everybody_with_a_role_options():
    # 720 people, 600 without a role: plain random partners rarely hit the other role, so
    # without the role candidates most mentors and mentees would have no candidate at all
    # (only the leftover safety net would pair them, blind to the score).
    from matcher.matching.capacity import solve_with_graph

    people = (
        tuple(Participant(f"n{i}", f"T{i % 50}") for i in range(600))
        + tuple(Participant(f"m{i}", f"T{i % 50}", role="mentor") for i in range(60))
        + tuple(Participant(f"e{i}", f"T{(i + 1) % 50}", role="mentee") for i in range(60))
    )
    outcome = solve_with_graph(Problem(people, rules=Rules(distinct_roles=True), seed=2))
    assert len(outcome.result.groups) == 60
    assert (outcome.graph.degree()[600:] >= 2).all()


def test_unused_help_and_role_candidates_leave_the_random_stream_alone(small_problem):
    import numpy as np

    from matcher.matching.helping import help_candidate_keys, role_candidate_keys

    enc = encode(problem_from_json(small_problem))
    rng = np.random.default_rng(7)
    before = rng.bit_generator.state
    assert help_candidate_keys(enc, 4, rng) == []
    assert role_candidate_keys(enc, 3, rng) == []
    assert rng.bit_generator.state == before


def test_slots_do_not_change_scores():
    # Rarity counts a person once: a mentor with capacity 3 scores her pairs as with capacity 1.
    def people(capacity):
        return (
            Participant("m", "A", role="mentor", capacity=capacity, interests=("go", "tea")),
            Participant("e", "B", role="mentee", interests=("go",), wants=("k8s",)),
            Participant("f", "C", role="mentee", interests=("tea",), wants=("go",)),
            Participant("g", "D", interests=("go", "tea"), offers=("k8s", "go")),
            Participant("h", "E", interests=("chess",), offers=("k8s",)),
        )

    rules = Rules(distinct_roles=True)
    with_slots = solve(Problem(people(3), rules=rules))
    single = Problem(people(1), rules=rules)
    enc = encode(single)
    scorer = Scorer(enc, rules.weights)
    index = {p.id: k for k, p in enumerate(single.participants)}
    assert len(with_slots.groups) == 2
    for g in with_slots.groups:
        x, y = (index[m] for m in g.members)
        assert g.score == float(scorer.scores([x], [y])[0])
