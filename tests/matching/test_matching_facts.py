"""Facts out of the engine, and reasons written from them for whoever reads them."""

from __future__ import annotations

import pytest

from matcher.matching import (
    Fact,
    Participant,
    PastPairing,
    Problem,
    ProblemError,
    Rules,
    pick,
    problem_from_json,
    result_to_json,
    sentences,
    solve,
)

NAMES = {"i": "Ingrid", "a": "Axel", "s": "Sven"}


def trio(sven_projects: tuple[str, ...], history=()) -> tuple:
    people = (
        Participant("i", "Payments", ("Checkout v2",), ("Rust", "Chess"), name="Ingrid"),
        Participant("a", "Search", ("Checkout v2",), ("Rust",), name="Axel"),
        Participant("s", "Platform", sven_projects, ("Chess",), name="Sven"),
    )
    result = solve(Problem(people, history=history, rules=Rules(group_size=3)))
    assert len(result.groups) == 1
    group = result.groups[0]
    return group, tuple(group.members)


def test_a_trio_member_who_shares_the_project_is_told_so():
    group, members = trio(("Checkout v2",))
    to_sven = sentences(group.facts, members, NAMES.__getitem__, reader="s")
    assert to_sven[0].startswith("you, ") and "all work on Checkout v2" in to_sven[0]
    assert "Ingrid" in to_sven[0] and "Axel" in to_sven[0]
    assert to_sven[-1] == "none of you have met before"
    # An admin reads the same facts with names, in the third person.
    admin = sentences(group.facts, members, NAMES.__getitem__)
    assert admin[0].startswith(("Ingrid, ", "Axel, ", "Sven, ")) and "you" not in admin[0]
    assert admin[-1].startswith("none of ") and admin[-1].endswith(" have met before")


def test_every_reason_a_trio_member_reads_includes_them():
    group, members = trio(("Billing",))
    for reader in members:
        for fact in pick(group.facts, reader):
            assert reader in fact.members, (reader, fact)
        said = sentences(group.facts, members, NAMES.__getitem__, reader=reader)
        assert said and all("you" in s for s in said), said
    to_sven = sentences(group.facts, members, NAMES.__getitem__, reader="s")
    # Sven does not work on Checkout v2: he is not told that the other two do.
    assert not any("Checkout" in s for s in to_sven)
    assert "you and Ingrid are both into Chess" in to_sven


def test_novelty_in_a_trio_where_two_have_met():
    group, members = trio(("Billing",), history=(PastPairing("i", "a", 5),))
    said = {r: sentences(group.facts, members, NAMES.__getitem__, reader=r)[-1] for r in members}
    assert said["i"] == "you and Axel last met 5 weeks ago"
    assert said["a"] == "you and Ingrid last met 5 weeks ago"
    assert said["s"] == "you meet the others for the first time"


@pytest.mark.parametrize("size", [3, 4])
def test_members_of_generated_groups_always_read_about_themselves(size):
    import orggen

    problem = problem_from_json(orggen.generate(80, seed=5))
    problem = Problem(
        problem.participants, problem.history, problem.blocked, Rules(group_size=size)
    )
    result = solve(problem)
    assert any(len(g.members) >= 3 for g in result.groups)
    for group in result.groups:
        for reader in group.members:
            chosen = pick(group.facts, reader)
            assert chosen and chosen[-1].kind in {"first_meeting", "last_met_weeks"}
            assert all(reader in fact.members for fact in chosen)


def test_facts_round_trip_through_json_and_the_result_carries_them(small_problem):
    result = solve(problem_from_json(small_problem))
    out = result_to_json(result)
    for group, stored in zip(result.groups, out["groups"], strict=True):
        assert [Fact.from_dict(f) for f in stored["facts"]] == list(group.facts)
        assert stored["reasons"] == sentences(group.facts, group.members, str)


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "gossip", "members": [1, 2]},
        {"kind": "teams", "members": "1,2"},
        {"kind": "teams", "members": [True, 2]},
        {"kind": "shared_project", "members": [1, 2], "projects": "Checkout"},
        {"kind": "hours_overlap", "members": [1, 2], "hours": "9"},
        {"kind": "last_met_weeks", "members": [1, 2], "weeks": 2.5},
        {"kind": "same_office", "members": [1, 2], "office": 3},
        ["teams"],
    ],
)
def test_malformed_facts_are_refused(bad):
    with pytest.raises(ProblemError):
        Fact.from_dict(bad)
