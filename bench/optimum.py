"""The optimum over every allowed pair, scored with the engine's own Scorer.

Exact: networkx max_weight_matching(maxcardinality=True) on all allowed pairs (small n).
Bound: scipy linear_sum_assignment on the dense all-pairs integer score matrix, maximised,
value / 2. An assignment is a cover by cycles, so half its value bounds any matching's total.
"""

from __future__ import annotations

import time

import numpy as np

from matcher.matching import Problem
from matcher.matching.encode import encode
from matcher.matching.scoring import SCORE_DECIMALS, Scorer

# Integer scores: the engine's scores are multiples of 10^-4.
SCALE = 10**SCORE_DECIMALS
# Row blocks of the dense matrix, so scoring temporaries stay around a few hundred MB.
ROW_PAIRS = 1 << 21


def allowed_pairs(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every allowed pair (a < b, engine indices) and its score, like `solve --edges-all`."""
    enc = encode(problem)
    scorer = Scorer(enc, problem.rules.weights)
    n = enc.n
    rows = max(1, ROW_PAIRS // max(n, 1))
    out_a, out_b, out_s = [], [], []
    for lo in range(0, n, rows):
        a, b = _block(n, lo, min(n, lo + rows))
        keep = scorer.allowed(a, b)
        a, b = a[keep], b[keep]
        out_a.append(a)
        out_b.append(b)
        out_s.append(scorer.scores(a, b))
    if not out_a:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(out_a), np.concatenate(out_b), np.concatenate(out_s)


def _block(n: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) with lo <= i < hi and i < j < n."""
    rows = np.arange(lo, hi, dtype=np.int64)
    counts = n - 1 - rows
    a = np.repeat(rows, counts)
    first = np.cumsum(counts) - counts
    b = np.arange(len(a), dtype=np.int64) - np.repeat(first, counts) + np.repeat(rows + 1, counts)
    return a, b


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
    """All-pairs int32 score matrix (scores x 10^4), 0 where a pair is not allowed."""
    a, b, s = allowed_pairs(problem)
    n = len(problem.participants)
    matrix = np.zeros((n, n), dtype=np.int32)
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
