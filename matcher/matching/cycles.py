"""Longer pair swaps: improving alternating cycles, found by vectorised Bellman-Ford.

A pair swap exchanges two pairs; this exchanges k pairs at once along a cycle
x0 - y0 = x1 - y1 = ... = x0, where each x_i leaves its partner and pairs with y_i, the old
partner of x_{i+1}. On the arcs x -> mate(y) of every candidate edge (x, y), weighted
s(x, y) - s(y, mate(y)), such a cycle is a directed cycle whose weights sum to the gain, and
Bellman-Ford's predecessor graph holds one as soon as a positive cycle exists. Like the pair
swaps, this never lowers the total and never changes who is paired.
"""

from __future__ import annotations

import numpy as np

from .graph import CandidateGraph
from .pairing import MIN_GAIN, mate_scores

# Relaxation rounds per search; enough to find cycles of up to this many pairs.
ROUNDS_PER_SEARCH = 24


# Arcs relaxed per numpy block: bounds the temporaries at tens of millions of arcs.
RELAX_BLOCK = 1 << 22


class _Arcs:
    """Arcs x -> mate(y) grouped by target, for segment-wise max per relaxation round."""

    def __init__(self, graph: CandidateGraph, mate: np.ndarray, paired: np.ndarray) -> None:
        a, b, s = graph.a, graph.b, graph.score
        both = (mate[a] >= 0) & (mate[b] >= 0) & (mate[a] != b)
        a, b, s = a[both], b[both], s[both]
        dst = np.concatenate([mate[b], mate[a]]).astype(np.int32)
        order = np.argsort(dst, kind="stable")
        self.dst = dst[order]
        del dst
        self.src = np.concatenate([a, b]).astype(np.int32)[order]
        self.weight = np.concatenate([s - paired[b], s - paired[a]])[order]
        del order
        if len(self.dst):
            first = np.concatenate(([True], self.dst[1:] != self.dst[:-1]))
            self.starts = np.flatnonzero(first)
            self.targets = self.dst[self.starts].astype(np.int64)
            del first
        else:
            self.starts = self.targets = np.zeros(0, dtype=np.int64)
        # Blocks of whole target segments, about RELAX_BLOCK arcs each.
        cuts = np.searchsorted(self.starts, np.arange(0, len(self.dst), RELAX_BLOCK))
        self.blocks = np.unique(np.append(cuts, len(self.starts)))


def _relax(arcs: _Arcs, dist: np.ndarray, pred: np.ndarray, alive: np.ndarray) -> bool:
    """One Bellman-Ford round (maximising), block by block; True if any distance grew."""
    grew = False
    n_arcs = len(arcs.src)
    for k in range(len(arcs.blocks) - 1):
        s0, s1 = int(arcs.blocks[k]), int(arcs.blocks[k + 1])
        if s0 == s1:
            continue
        lo = int(arcs.starts[s0])
        hi = int(arcs.starts[s1]) if s1 < len(arcs.starts) else n_arcs
        starts = arcs.starts[s0:s1] - lo
        targets = arcs.targets[s0:s1]
        cand = dist[arcs.src[lo:hi]] + arcs.weight[lo:hi]
        best = np.maximum.reduceat(cand, starts)
        better = (best > dist[targets] + MIN_GAIN) & alive[targets]
        if not better.any():
            continue
        grew = True
        counts = np.diff(np.append(starts, hi - lo))
        index = np.where(cand >= np.repeat(best, counts), np.arange(hi - lo), hi - lo)
        first = np.minimum.reduceat(index, starts)
        dist[targets[better]] = best[better]
        pred[targets[better]] = arcs.src[lo:hi][first[better]]
    return grew


def _cycle_starts(pred: np.ndarray) -> np.ndarray:
    """One or more people on each cycle of the predecessor graph (pointer jumping)."""
    n = len(pred)
    jump = np.where(pred >= 0, pred, np.arange(n))
    for _ in range(max(1, int(n).bit_length())):
        jump = jump[jump]  # after the loop: 2^k >= n steps back, so on a cycle (or a root)
    ends = np.unique(jump[pred >= 0])
    return ends[pred[ends] >= 0]


def _apply_cycles(
    graph: CandidateGraph, mate: np.ndarray, pred: np.ndarray, starts: np.ndarray
) -> tuple[list[int], list[int], int]:
    """Apply each valid, improving, person-disjoint cycle.

    Returns the people who changed, the people on cycles that were no valid exchange, and how
    many cycles were applied.
    """
    taken = np.zeros(len(mate), dtype=bool)
    changed: list[int] = []
    invalid: list[int] = []
    applied = 0
    for start in starts.tolist():
        cycle = [start]
        v = int(pred[start])
        while v != start and len(cycle) <= len(mate):
            cycle.append(v)
            v = int(pred[v])
        if v != start:
            continue
        xs = np.asarray(cycle, dtype=np.int64)  # xs[i+1] -> xs[i] is an arc
        partners = mate[xs]
        people = np.concatenate([xs, partners])
        if len(np.unique(people)) != len(people):
            invalid.extend(cycle)  # a cycle through both members of a pair: no exchange
            continue
        if taken[people].any():
            continue
        new_a = np.roll(xs, -1)  # arc source for each target xs[i]
        new_b = partners  # the target's old partner
        gain = np.nansum(graph.lookup(new_a, new_b)) - np.sum(graph.lookup(xs, partners))
        if np.isnan(graph.lookup(new_a, new_b)).any() or gain <= MIN_GAIN:
            invalid.extend(cycle)
            continue
        taken[people] = True
        mate[new_a] = new_b
        mate[new_b] = new_a
        changed.extend(people.tolist())
        applied += 1
    return changed, invalid, applied


def improve_cycles(
    graph: CandidateGraph, mate: np.ndarray, max_passes: int = 50, work_limit: int = 1 << 62
) -> dict[str, int]:
    """Apply improving alternating cycles until a search finds none.

    Stops early after max_passes searches or `work_limit` arc relaxations (a bound on work,
    not on time, so the result stays deterministic).
    """
    passes = exchanged = 0
    while passes < max_passes and work_limit > 0:
        passes += 1
        arcs = _Arcs(graph, mate, mate_scores(graph, mate))
        if len(arcs.src) == 0:
            break
        dist = np.zeros(graph.n, dtype=np.float64)
        pred = np.full(graph.n, -1, dtype=np.int64)
        alive = np.ones(graph.n, dtype=bool)
        found = 0
        for _ in range(ROUNDS_PER_SEARCH):
            work_limit -= len(arcs.src)
            if work_limit < 0 or not _relax(arcs, dist, pred, alive):
                break
            starts = _cycle_starts(pred)
            if len(starts):
                changed, invalid, applied = _apply_cycles(graph, mate, pred, starts)
                found += applied
                exchanged += applied
                # Changed people have stale arcs now, and invalid cycles would keep growing
                # their distances: both sit out the rest of this search.
                out = np.asarray(changed + invalid, dtype=np.int64)
                alive[out] = False
                dist[out] = -np.inf
                pred[out] = -1
        if not found:
            break
    return {"cycle_passes": passes, "cycle_exchanges": exchanged}
