import numpy as np
import pytest

from matcher.matching import Participant, PastPairing, Problem, Rules, Weights, Window
from matcher.matching.encode import encode
from matcher.matching.scoring import COMPONENTS, Scorer


def scorer_for(people, history=(), blocked=(), rules=None) -> tuple[Scorer, dict]:
    problem = Problem(tuple(people), tuple(history), tuple(blocked), rules or Rules())
    enc = encode(problem)
    return Scorer(enc, problem.rules.weights), {p.id: i for i, p in enumerate(people)}


def components(scorer, index, x, y) -> dict[str, float]:
    row = scorer.components(np.array([index[x]]), np.array([index[y]]))[0]
    return dict(zip(COMPONENTS, row.tolist(), strict=True))


def test_rarer_shared_interests_count_more():
    people = [
        Participant("a", "T1", interests=("coffee", "rust")),
        Participant("b", "T2", interests=("coffee",)),
        Participant("c", "T3", interests=("coffee", "rust")),
        Participant("d", "T4", interests=("coffee",)),
        Participant("e", "T5", interests=("coffee",)),
    ]
    scorer, ix = scorer_for(people)
    popular = components(scorer, ix, "a", "b")["interests"]
    rare = components(scorer, ix, "a", "c")["interests"]
    assert 0 < popular < rare <= 1
    assert components(scorer, ix, "b", "d")["interests"] == pytest.approx(popular)


def test_shared_project_counts_only_across_teams():
    people = [
        Participant("a", "Payments", projects=("Checkout",)),
        Participant("b", "Search", projects=("Checkout",)),
        Participant("c", "Payments", projects=("Checkout",)),
    ]
    scorer, ix = scorer_for(people, rules=Rules(cross_team_only=False))
    assert components(scorer, ix, "a", "b")["projects"] == 1
    assert components(scorer, ix, "a", "c")["projects"] == 0
    assert components(scorer, ix, "a", "b")["org_distance"] == 1
    assert components(scorer, ix, "a", "c")["org_distance"] == 0


def test_location_needs_both_open_to_meeting_in_person():
    people = [
        Participant("a", "T1", location="Berlin"),
        Participant("b", "T2", location="Berlin"),
        Participant("c", "T3", location="Berlin", meeting_mode="video"),
        Participant("d", "T4", location="Paris"),
    ]
    scorer, ix = scorer_for(people)
    assert components(scorer, ix, "a", "b")["location"] == 1
    assert components(scorer, ix, "a", "c")["location"] == 0
    assert components(scorer, ix, "a", "d")["location"] == 0


def workday(start_hour: int, end_hour: int) -> tuple[Window, ...]:
    return tuple(Window(d, start_hour * 60, end_hour * 60) for d in range(5))


def test_hours_overlap_uses_time_zones_and_only_applies_to_video():
    people = [
        Participant("berlin", "T1", timezone="Europe/Berlin", availability=workday(9, 17)),
        Participant("london", "T2", timezone="Europe/London", availability=workday(9, 17)),
        Participant("sf", "T3", timezone="America/Los_Angeles", availability=workday(9, 17)),
        Participant("ny", "T4", timezone="America/New_York", availability=workday(9, 17)),
        Participant(
            "office",
            "T5",
            timezone="Europe/Berlin",
            availability=workday(9, 17),
            meeting_mode="in_person",
        ),
        Participant("nowindows", "T6", timezone="Europe/Berlin"),
    ]
    scorer, ix = scorer_for(people)
    assert components(scorer, ix, "berlin", "london")["hours"] == 1  # 7 h a day overlap
    assert components(scorer, ix, "berlin", "sf")["hours"] == 0  # 9 h apart: no overlap
    ny = components(scorer, ix, "berlin", "ny")["hours"]  # 6 h apart: 2 h a day, 10 h a week
    assert ny == 1
    assert components(scorer, ix, "sf", "ny")["hours"] == 1
    assert components(scorer, ix, "berlin", "office")["hours"] == 0
    assert components(scorer, ix, "berlin", "nowindows")["hours"] == 0


def test_partial_hours_overlap_is_fractional():
    people = [
        Participant("a", "T1", availability=(Window(0, 9 * 60, 11 * 60),)),
        Participant("b", "T2", availability=(Window(0, 10 * 60, 12 * 60),)),
    ]
    scorer, ix = scorer_for(people)
    assert components(scorer, ix, "a", "b")["hours"] == pytest.approx(1 / 5)


def test_novelty_prefers_never_met_and_grows_with_time():
    people = [Participant(x, f"T{x}") for x in "abcd"]
    history = [PastPairing("a", "b", 5), PastPairing("a", "c", 40)]
    scorer, ix = scorer_for(people, history)
    never = components(scorer, ix, "a", "d")["novelty"]
    recent = components(scorer, ix, "a", "b")["novelty"]
    old = components(scorer, ix, "a", "c")["novelty"]
    assert never == 1 and 0 < recent < old < never


def test_fairness_favours_people_who_waited():
    people = [
        Participant("a", "T1", weeks_waiting=4),
        Participant("b", "T2", weeks_waiting=0),
        Participant("c", "T3", weeks_waiting=0),
    ]
    scorer, ix = scorer_for(people)
    assert components(scorer, ix, "a", "b")["fairness"] == 0.5
    assert components(scorer, ix, "b", "c")["fairness"] == 0


def test_hard_constraints_in_allowed():
    people = [Participant(x, t) for x, t in zip("abcdef", "XXYZWV", strict=True)]
    history = [
        PastPairing("a", "c", 2),  # inside the cooldown
        PastPairing("a", "d", 10, would_meet_again=False),  # said no
        PastPairing("a", "e", 10),  # long ago: fine
    ]
    scorer, ix = scorer_for(people, history, blocked=[("a", "f")])
    pairs = [("a", "b"), ("a", "c"), ("a", "d"), ("a", "e"), ("a", "f"), ("c", "d")]
    a = np.array([ix[x] for x, _ in pairs])
    b = np.array([ix[y] for _, y in pairs])
    assert scorer.allowed(a, b).tolist() == [False, False, False, True, False, True]


def test_score_is_weighted_sum_of_components():
    people = [
        Participant("a", "T1", projects=("P",), interests=("x",), location="Berlin"),
        Participant("b", "T2", projects=("P",), interests=("x",), location="Berlin"),
    ]
    weights = Weights(interests=1, projects=3, org_distance=0.5, location=2, novelty=1)
    scorer, ix = scorer_for(people, rules=Rules(weights=weights))
    comp = components(scorer, ix, "a", "b")
    expected = sum(comp[name] * w for name, w in zip(COMPONENTS, weights.as_tuple(), strict=True))
    assert scorer.scores(np.array([0]), np.array([1]))[0] == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("most", [3, 7])
def test_share_any_agrees_with_counting_shared_tokens(most):
    # Padded rows up to FEW_TOKENS projects a person, the token-by-token count above that.
    rng = np.random.default_rng(most)
    people = [
        Participant(
            f"p{i}",
            f"T{i % 5}",
            projects=tuple(f"x{t}" for t in rng.choice(12, rng.integers(0, most + 1), False)),
        )
        for i in range(60)
    ]
    scorer, _ = scorer_for(people)
    a, b = np.triu_indices(60, k=1)
    enc = scorer.enc
    counted = scorer.shared("projects", enc.projects, None, a, b) > 0
    assert np.array_equal(scorer.share_any("projects", enc.projects, a, b), counted)
    assert counted.any() and not counted.all()
