"""solve(): candidates, greedy, improvement, maximum cardinality, groups, reasons."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .augment import maximise_cardinality
from .candidates import CandidateOptions, candidate_pairs, valid_partners
from .cycles import improve_cycles
from .encode import encode
from .errors import ProblemError
from .graph import CandidateGraph
from .grouping import (
    merge_pairs_into_fours,
    pair_up_leftovers,
    pairs_from_mate,
    place_leftovers,
    split_into_threes,
    why_unmatched,
)
from .model import Problem, Result, Unmatched, trusted_group
from .pairing import greedy_matching, improve, matching_total, priority_order
from .reasons import describe_groups
from .scoring import SCORE_DECIMALS, Scorer


@dataclass(frozen=True, slots=True)
class SolverOptions:
    """Tuning knobs of the engine (not admin rules); the defaults are what the docs describe."""

    candidates: CandidateOptions = field(default_factory=CandidateOptions)
    # Run the pair-swap improvement pass after greedy (turn off only to measure its effect).
    improve: bool = True
    # Searches for improving alternating cycles (each under a new random orientation of the
    # pairs, applying all it finds) ...
    max_cycle_passes: int = 1_000
    # ... within cycle_rounds_per_person * n relaxation rounds (each round applies about one
    # exchange, and the exchanges needed grow with n; ~0.4 s at 10,000 people on 2 cores,
    # ~1.5 s at 20,000), but at least `min_cycle_work` arc relaxations (small organisations
    # converge) and at most `cycle_work` (~1.5 s; very large organisations stop early).
    # Bounds on work, not on time, so the result is deterministic.
    cycle_rounds_per_person: float = 0.06
    min_cycle_work: int = 20_000_000
    cycle_work: int = 120_000_000
    # Up to this many people, unoriented searches come first, within this many relaxations:
    # on small graphs they find exchanges the oriented searches can miss.
    unoriented_below: int = 1_000
    unoriented_cycle_work: int = 4_000_000
    # People still free after augmenting get every allowed pair added (O(n) each) when this few.
    max_free_for_full_scan: int = 64
    # Put phase timings into stats["timings"]; off by default so output is reproducible.
    timings: bool = False
    # Processes: 2 forks a helper that scores half the candidate pool (the same result, ~1.6x
    # faster there on two cores); the command line's choice: threaded callers must keep 1.
    workers: int = 1


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (0 where unsupported)."""
    try:
        import resource
    except ImportError:  # not on Unix
        return 0.0
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass(slots=True)
class _Clock:
    enabled: bool
    start: float = field(default_factory=time.perf_counter)
    laps: dict[str, float] = field(default_factory=dict)
    peaks: dict[str, float] = field(default_factory=dict)

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.start, 3)
        if self.enabled:
            self.peaks[name] = peak_rss_mb()
        self.start = now


@dataclass(frozen=True, slots=True)
class SolveOutcome:
    """The result plus the candidate graph it was chosen from (for --edges)."""

    result: Result
    graph: CandidateGraph


def _add_full_scan_edges(
    scorer: Scorer, graph: CandidateGraph, mate: np.ndarray, limit: int
) -> int:
    free = np.flatnonzero(mate < 0)
    if not 2 <= len(free) <= limit or graph.n * len(free) > 50_000_000:
        return 0
    parts_a, parts_b = [], []
    for u in free.tolist():
        v = valid_partners(scorer, u)
        parts_a.append(np.full(len(v), u, dtype=np.int64))
        parts_b.append(v)
    a, b = np.concatenate(parts_a), np.concatenate(parts_b)
    before = len(graph)
    graph.add(a, b, scorer.scores(a, b))
    return len(graph) - before


def _leftover_order(mate: np.ndarray, waiting: np.ndarray) -> list[int]:
    free = np.flatnonzero(mate < 0)
    # Who waited longest gets the first pick of a group to join.
    return free[np.lexsort((free, -waiting[free]))].tolist()


def solve_with_graph(problem: Problem, options: SolverOptions | None = None) -> SolveOutcome:
    """Like solve(), also returning the scored candidate graph."""
    # The cyclic garbage collector would rescan millions of live objects for nothing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _solve(problem, options)
    finally:
        if was_enabled:
            gc.enable()


def _solve(problem: Problem, options: SolverOptions | None) -> SolveOutcome:
    options = options or SolverOptions()
    if isinstance(problem.seed, bool) or not isinstance(problem.seed, int) or problem.seed < 0:
        raise ProblemError(f"seed: must be a non-negative integer, got {problem.seed!r}")
    clock = _Clock(options.timings)
    enc = encode(problem)
    rules = problem.rules
    scorer = Scorer(enc, rules.weights)
    rng = np.random.default_rng(problem.seed)
    clock.lap("encode")

    found = candidate_pairs(enc, scorer, options.candidates, rng, options.workers)
    graph = CandidateGraph(enc.n, *found)
    del found  # the graph keeps sorted copies
    clock.lap("candidates")

    mate = greedy_matching(graph, priority_order(graph, rng))
    greedy_total = matching_total(graph, mate)
    clock.lap("greedy")
    stats: dict[str, Any] = {}
    if options.improve:
        stats.update(improve(graph, mate))
    improved_total = matching_total(graph, mate)
    clock.lap("improve")

    aug = maximise_cardinality(graph, mate, enc.waiting)
    # Whoever is still free may have allowed partners outside the candidates: add them all.
    added = _add_full_scan_edges(scorer, graph, mate, options.max_free_for_full_scan)
    if added:
        more_aug = maximise_cardinality(graph, mate, enc.waiting)
        aug = {key: aug[key] + more_aug[key] for key in aug}
    if options.improve and (added or aug["augmentations"]):
        more = improve(graph, mate)
        stats["improve_moves"] = stats.get("improve_moves", 0) + more["improve_moves"]
    stats.update(aug)
    clock.lap("cardinality")
    before_cycles = matching_total(graph, mate)
    if options.improve:
        rounds = int(options.cycle_rounds_per_person * enc.n)
        unoriented = options.unoriented_cycle_work if enc.n < options.unoriented_below else 0
        stats.update(
            improve_cycles(
                graph,
                mate,
                options.max_cycle_passes,
                options.cycle_work,
                seed=problem.seed,
                unoriented_work=unoriented,
                max_rounds=rounds,
                min_work=options.min_cycle_work,
            )
        )
        if stats.get("cycle_exchanges"):
            more = improve(graph, mate)
            stats["improve_moves"] += more["improve_moves"]
    clock.lap("cycles")

    pairs = pairs_from_mate(mate)
    pair_total = matching_total(graph, mate)
    leftovers = _leftover_order(mate, enc.waiting)
    size = rules.group_size
    if size == 2:
        groups = pairs
    elif size == 3:
        groups, leftovers = split_into_threes(scorer, graph, pairs, leftovers)
    else:
        groups = merge_pairs_into_fours(scorer, graph, pairs, rng)
    leftovers = place_leftovers(scorer, groups, leftovers, capacity=size)
    leftovers = place_leftovers(scorer, groups, leftovers, capacity=size + 1)
    extra, leftovers = pair_up_leftovers(scorer, leftovers)
    groups.extend(extra)
    clock.lap("groups")

    people = problem.participants
    described = describe_groups(groups, people, scorer)
    built = [
        trusted_group(tuple(people[m].id for m in members), score, reasons, components, facts)
        for members, (score, facts, reasons, components) in zip(groups, described, strict=True)
    ]
    order = sorted(range(len(built)), key=lambda k: (-built[k].score, min(groups[k])))
    unmatched = tuple(Unmatched(people[p].id, why_unmatched(scorer, p)) for p in leftovers)
    total = round(sum(g.score for g in built), SCORE_DECIMALS)
    clock.lap("reasons")

    stats.update(
        participants=enc.n,
        groups=len(built),
        unmatched=len(unmatched),
        candidate_pairs=len(graph),
        full_scan_pairs=added,
        mean_candidates_per_person=round(2 * len(graph) / enc.n, 2) if enc.n else 0.0,
        greedy_pair_total=round(greedy_total, SCORE_DECIMALS),
        improved_pair_total=round(improved_total, SCORE_DECIMALS),
        pre_cycle_pair_total=round(before_cycles, SCORE_DECIMALS),
        pair_total=round(pair_total, SCORE_DECIMALS),
        pairs=len(pairs),
    )
    if options.timings:
        stats["timings"] = clock.laps
        stats["peak_rss_mb_after"] = clock.peaks
    result = Result(tuple(built[k] for k in order), unmatched, total, stats)
    return SolveOutcome(result, graph)


def solve(problem: Problem, options: SolverOptions | None = None) -> Result:
    """Group this week's participants: hard constraints always hold, score near optimal."""
    return solve_with_graph(problem, options).result
