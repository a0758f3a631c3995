"""Greedy pairing on the candidate graph and the local improvement pass that follows it."""

from __future__ import annotations

import numpy as np

from .graph import CandidateGraph
from .scoring import SCORE_DECIMALS

# Edges examined per numpy block when looking for improving moves.
MOVE_BLOCK = 1 << 22
# Moves must gain more than this; scores are multiples of 1e-4, so this only filters noise.
MIN_GAIN = 1e-7


def priority_order(graph: CandidateGraph, rng: np.random.Generator) -> np.ndarray:
    """Edge indices, best score first, equal scores in a seeded random order."""
    # Scores are multiples of 1e-4 below 100, so (score, 40 random bits) packs into one int64
    # key: one argsort instead of a two-key lexsort.
    ticks = np.rint(graph.score * 10**SCORE_DECIMALS).astype(np.int64)
    if len(ticks) and (ticks.min() < 0 or ticks.max() >= 1 << 22):
        return np.lexsort((rng.random(len(graph)), -graph.score))
    tie = rng.integers(0, 1 << 40, size=len(graph), dtype=np.int64)
    return np.argsort(((ticks.max(initial=0) - ticks) << 40) | tie, kind="stable")


def greedy_matching(graph: CandidateGraph, order: np.ndarray) -> np.ndarray:
    """Sequential greedy (take an edge if both ends are free), computed in vectorised rounds.

    Each round takes every edge that is the best remaining edge at both of its ends; sequential
    greedy would take exactly those edges too, so the result is the same, without a Python loop
    over millions of edges.
    """
    n = graph.n
    u = graph.a[order]
    v = graph.b[order]
    mate = np.full(n, -1, dtype=np.int64)
    while len(u):
        rank = np.arange(len(u), dtype=np.int64)
        best = np.full(n, len(u), dtype=np.int64)
        np.minimum.at(best, u, rank)
        np.minimum.at(best, v, rank)
        win = (best[u] == rank) & (best[v] == rank)
        mate[u[win]] = v[win]
        mate[v[win]] = u[win]
        keep = (mate[u] < 0) & (mate[v] < 0)
        u, v = u[keep], v[keep]
    return mate


def mate_scores(graph: CandidateGraph, mate: np.ndarray) -> np.ndarray:
    """Score of each person's current pair, 0 for people without one."""
    people = np.flatnonzero(mate >= 0)
    out = np.zeros(graph.n, dtype=np.float64)
    out[people] = graph.lookup(people, mate[people])
    return out


def matching_total(graph: CandidateGraph, mate: np.ndarray) -> float:
    """Sum of the scores of all pairs in the matching."""
    return float(mate_scores(graph, mate).sum() / 2)


def best_edge_scores(graph: CandidateGraph) -> np.ndarray:
    """Highest candidate-edge score at each person (0 without edges)."""
    best = np.zeros(graph.n, dtype=np.float64)
    np.maximum.at(best, graph.a, graph.score)
    np.maximum.at(best, graph.b, graph.score)
    return best


def _moves(
    graph: CandidateGraph,
    mate: np.ndarray,
    paired: np.ndarray,
    active: np.ndarray,
    best_edge: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Improving moves through edges (a, c) next to a changed person, best gain first.

    With a-b and c-d paired, the move swaps to a-c and b-d (needs the b-d edge); when a or c
    is free it takes the other's place, leaving that one's old partner free. Edges are
    processed in blocks so temporaries stay small at millions of edges.
    """
    sel = np.flatnonzero(active[graph.a] | active[graph.b])
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, len(sel), MOVE_BLOCK):
        block = sel[start : start + MOVE_BLOCK]
        a, c, s_ac = graph.a[block], graph.b[block], graph.score[block]
        b, d = mate[a], mate[c]
        outside = b != c
        both = (b >= 0) & (d >= 0)
        # Bound s(b, d) by b's best edge before paying for a lookup: most edges fail it.
        bound = s_ac - paired[a] - paired[c] + np.where(both, best_edge[np.maximum(b, 0)], 0.0)
        hopeful = np.flatnonzero(outside & (bound > MIN_GAIN))
        a, c, b, d, s_ac, both = (
            a[hopeful],
            c[hopeful],
            b[hopeful],
            d[hopeful],
            s_ac[hopeful],
            both[hopeful],
        )
        s_bd = np.zeros(len(a))
        s_bd[both] = graph.lookup(b[both], d[both])
        gain = s_ac + s_bd - paired[a] - paired[c]
        keep = ~np.isnan(gain) & (gain > MIN_GAIN)
        parts.append((a[keep].astype(np.int64), c[keep].astype(np.int64), gain[keep]))
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    a = np.concatenate([p[0] for p in parts])
    c = np.concatenate([p[1] for p in parts])
    gain = np.concatenate([p[2] for p in parts])
    order = np.argsort(-gain, kind="stable")
    return a[order], c[order]


def _pick_disjoint(n: int, a: np.ndarray, c: np.ndarray, mate: np.ndarray) -> np.ndarray:
    """Indices of moves, in order, that touch no person already touched by an earlier one."""
    touched = bytearray(n)
    done: list[int] = []
    old_a, old_c = mate[a].tolist(), mate[c].tolist()
    for k, (x, y) in enumerate(zip(a.tolist(), c.tolist(), strict=True)):
        bx, dy = old_a[k], old_c[k]
        if touched[x] or touched[y] or (bx >= 0 and touched[bx]) or (dy >= 0 and touched[dy]):
            continue
        touched[x] = touched[y] = 1
        if bx >= 0:
            touched[bx] = 1
        if dy >= 0:
            touched[dy] = 1
        done.append(k)
    return np.asarray(done, dtype=np.int64)


def apply_moves(mate: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pair x[i] with y[i]; their old partners pair up when both exist. Returns who changed."""
    bx, dy = mate[x], mate[y]
    swap = (bx >= 0) & (dy >= 0)
    mate[bx[bx >= 0]] = -1
    mate[dy[dy >= 0]] = -1
    mate[x] = y
    mate[y] = x
    mate[bx[swap]] = dy[swap]
    mate[dy[swap]] = bx[swap]
    return np.concatenate([x, y, bx[bx >= 0], dy[dy >= 0]])


def improve(graph: CandidateGraph, mate: np.ndarray, max_rounds: int = 200) -> dict[str, int]:
    """Apply pair swaps that raise the total until none is left; never lowers cardinality."""
    paired = mate_scores(graph, mate)
    best_edge = best_edge_scores(graph)
    active = np.ones(graph.n, dtype=bool)
    rounds = moves_done = 0
    while rounds < max_rounds:
        rounds += 1
        a, c = _moves(graph, mate, paired, active, best_edge)
        if len(a) == 0:
            break
        chosen = _pick_disjoint(graph.n, a, c, mate)
        changed = apply_moves(mate, a[chosen], c[chosen])
        moves_done += len(chosen)
        paired[changed] = mate_scores_for(graph, mate, changed)
        active = np.zeros(graph.n, dtype=bool)
        active[changed] = True
    return {"improve_rounds": rounds, "improve_moves": moves_done}


def mate_scores_for(graph: CandidateGraph, mate: np.ndarray, people: np.ndarray) -> np.ndarray:
    """Current pair score of the given people (0 when free)."""
    out = np.zeros(len(people), dtype=np.float64)
    has = mate[people] >= 0
    out[has] = graph.lookup(people[has], mate[people[has]])
    return out
