"""The optimum over every allowed pair, scored with the engine's own Scorer.

Exact: networkx max_weight_matching(maxcardinality=True) on all allowed pairs (small n).
Bound: scipy linear_sum_assignment on the dense all-pairs integer score matrix, maximised,
value / 2. An assignment is a cover by cycles, so half its value bounds any matching's total.
"""

from __future__ import annotations

import time

import numpy as np

from matcher.matching import Problem
from matcher.matching.allpairs import allowed_pair_blocks
from matcher.matching.encode import encode
from matcher.matching.scoring import SCORE_DECIMALS, Scorer

# Integer scores: the engine's scores are multiples of 10^-4.
SCALE = 10**SCORE_DECIMALS


def allowed_pairs(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every allowed pair (a < b, engine indices) and its score, as `solve --edges-all` writes."""
    enc = encode(problem)
    blocks = list(allowed_pair_blocks(Scorer(enc, problem.rules.weights)))
    if not blocks:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return tuple(np.concatenate(part) for part in zip(*blocks, strict=True))  # type: ignore[return-value]


def exact_optimum(problem: Problem) -> tuple[float, int, float]:
    """networkx's exact max-weight maximum-cardinality matching: (total, pairs, seconds)."""
    import networkx as nx

    a, b, s = allowed_pairs(problem)
    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(a.tolist(), b.tolist(), s.tolist(), strict=True))
    start = time.perf_counter()
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    seconds = time.perf_counter() - start
    total = sum(graph[x][y]["weight"] for x, y in matching)
    return round(total, SCORE_DECIMALS), len(matching), seconds


def dense_matrix(problem: Problem) -> np.ndarray:
    """All-pairs int32 score matrix (scores x 10^4), 0 where a pair is not allowed.

    Filled block by block, so the all-pairs arrays never exist at once (20,000 people:
    1.6 GB for the matrix instead of ~10 GB of pair arrays).
    """
    enc = encode(problem)
    n = len(problem.participants)
    matrix = np.zeros((n, n), dtype=np.int32)
    for a, b, s in allowed_pair_blocks(Scorer(enc, problem.rules.weights)):
        ticks = np.rint(s * SCALE).astype(np.int32)
        matrix[a, b] = ticks
        matrix[b, a] = ticks
    return matrix


def assignment_bound(problem: Problem) -> tuple[float, float]:
    """Half the maximum assignment value over the dense score matrix: (bound, seconds)."""
    from scipy.optimize import linear_sum_assignment

    matrix = dense_matrix(problem)
    start = time.perf_counter()
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    seconds = time.perf_counter() - start
    value = int(matrix[rows, cols].astype(np.int64).sum())
    return value / SCALE / 2, seconds


def max_cardinality(problem: Problem) -> int:
    """Pairs in a maximum-cardinality matching over every allowed pair (networkx)."""
    import networkx as nx

    a, b, _ = allowed_pairs(problem)
    graph = nx.Graph()
    graph.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))
    return len(nx.max_weight_matching(graph, maxcardinality=True))
