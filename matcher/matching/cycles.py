"""Longer pair swaps: improving alternating cycles, found by vectorised Bellman-Ford.

A pair swap exchanges two pairs; this exchanges k pairs at once along a cycle
x0 - y0 = x1 - y1 = ... = x0, where each x_i leaves its partner and pairs with y_i, the old
partner of x_{i+1}. On the arcs x -> mate(y) of every candidate edge (x, y), weighted
s(x, y) - s(y, mate(y)), such a cycle is a directed cycle whose weights sum to the gain, and
Bellman-Ford's predecessor graph holds one as soon as a positive cycle exists.

Each search orients every pair at random: one member is "left", the other "right", and only
arcs from a left person through a right one are used. Then a cycle visits each pair at most
once, so every cycle found is a valid exchange (without orientation, walks through both
members of a pair grow without bound and crowd out the real cycles). A cycle of k pairs is
oriented the right way with probability 2^(1-k) per search; searches are cheap, and the next
ones find what one orientation missed. Like the pair swaps, this never lowers the total and
never changes who is paired.
"""

from __future__ import annotations

import numpy as np

from .graph import CandidateGraph
from .pairing import MIN_GAIN, mate_scores
from .scoring import SCORE_DECIMALS

# Relaxation rounds per search: cycles of up to this many pairs can be found.
ROUNDS_PER_SEARCH = 48
# Distances are integer score ticks shifted left by PRED_BITS, the predecessor in the low
# bits, so one maximum.reduceat gives both the best distance and a deterministic argmax.
PRED_BITS = 24
PRED_MASK = (1 << PRED_BITS) - 1
DEAD = -(1 << 60)
# Arcs relaxed per numpy block: bounds the temporaries at tens of millions of arcs.
RELAX_BLOCK = 1 << 22
# Pointer-jumping doublings per cycle check: cycles of up to 2^7 pairs are found.
MAX_JUMPS = 7
# Relaxation rounds per unoriented search.
UNORIENTED_ROUNDS = 24


class _Edges:
    """The candidate edges as int64 people and integer score ticks, converted once."""

    def __init__(self, graph: CandidateGraph) -> None:
        self.a = graph.a.astype(np.int64)
        self.b = graph.b.astype(np.int64)
        self.ticks = np.rint(graph.score * 10**SCORE_DECIMALS).astype(np.int64)


class _Arcs:
    """Oriented arcs x -> mate(y), grouped by target, weights packed with their source."""

    def __init__(
        self, edges: _Edges, mate: np.ndarray, paired: np.ndarray, left: np.ndarray
    ) -> None:
        a, b = edges.a, edges.b
        ma, mb = mate[a], mate[b]
        la, lb = left[a], left[b]
        # Arcs a -> mate(b) (a left, b right) and b -> mate(a) (b left, a right); pairs
        # never have both members on one side, so mb >= 0 and ma >= 0 follow from the sides.
        ab = np.flatnonzero(la & ~lb & (mb >= 0) & (ma != b))
        ba = np.flatnonzero(lb & ~la & (ma >= 0) & (mb != a))
        src = np.concatenate([a[ab], b[ba]])
        dst = np.concatenate([mb[ab], ma[ba]])
        weight = np.concatenate([edges.ticks[ab] - paired[b[ab]], edges.ticks[ba] - paired[a[ba]]])
        del a, b, ma, mb, la, lb, ab, ba
        # Sort by target with a sort of one int64 key (target, position): no argsort.
        pos = np.sort((dst << 32) | np.arange(len(dst), dtype=np.int64)) & 0xFFFFFFFF
        self.dst = dst[pos]
        self.src = src[pos]
        self.packed = (weight[pos] << PRED_BITS) + self.src
        del pos, dst, src, weight
        if len(self.dst):
            first = np.concatenate(([True], self.dst[1:] != self.dst[:-1]))
            self.starts = np.flatnonzero(first)
            self.targets = self.dst[self.starts]
        else:
            self.starts = self.targets = np.zeros(0, dtype=np.int64)
        cuts = np.searchsorted(self.starts, np.arange(0, len(self.dst), RELAX_BLOCK))
        self.blocks = np.unique(np.append(cuts, len(self.starts)))

    def __len__(self) -> int:
        return len(self.src)


def _relax(arcs: _Arcs, dist: np.ndarray, alive: np.ndarray) -> bool:
    """One Bellman-Ford round (maximising), block by block; True if any distance grew.

    `dist` holds packed values: distance ticks << PRED_BITS | predecessor.
    """
    grew = False
    n_arcs = len(arcs.src)
    for k in range(len(arcs.blocks) - 1):
        s0, s1 = int(arcs.blocks[k]), int(arcs.blocks[k + 1])
        if s0 == s1:
            continue
        lo = int(arcs.starts[s0])
        hi = int(arcs.starts[s1]) if s1 < len(arcs.starts) else n_arcs
        targets = arcs.targets[s0:s1]
        # Distance of the source (its predecessor bits cleared) plus the packed arc.
        cand = (dist[arcs.src[lo:hi]] & ~PRED_MASK) + arcs.packed[lo:hi]
        best = np.maximum.reduceat(cand, arcs.starts[s0:s1] - lo)
        better = ((best >> PRED_BITS) > (dist[targets] >> PRED_BITS)) & alive[targets]
        if better.any():
            grew = True
            dist[targets[better]] = best[better]
    return grew


class _BothArcs:
    """Unoriented arcs x -> mate(y) (both ends of every edge), grouped by target."""

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


def _relax_both(arcs: _BothArcs, dist: np.ndarray, pred: np.ndarray, alive: np.ndarray) -> bool:
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
    mark = np.zeros(n, dtype=bool)
    mark[jump[pred >= 0]] = True
    ends = np.flatnonzero(mark)
    return ends[pred[ends] >= 0]


def _link_cycles(link: np.ndarray, me: np.ndarray, jumps: int) -> np.ndarray:
    """One or more people on each cycle of the predecessor links (roots link to themselves)."""
    jump = link
    for _ in range(jumps):
        jump = jump[jump]  # after the loop: 2^k >= n steps back, so on a cycle (or a root)
    mark = np.zeros(len(link), dtype=bool)
    mark[jump] = True
    return np.flatnonzero(mark & (link != me))


def _apply_cycles(
    graph: CandidateGraph,
    mate: np.ndarray,
    pred: np.ndarray,
    starts: np.ndarray,
    longest: int,
    repeats_invalid: bool = False,
) -> tuple[list[int], list[int], int]:
    """Apply each valid, improving, person-disjoint cycle of at most `longest` pairs.

    Returns the people who changed, the people on cycles that were no valid exchange or gain
    nothing, and how many cycles were applied. A cycle through one person twice (both
    members of a pair) is skipped; with `repeats_invalid` (the unoriented search, where such
    walks keep growing) its people count as invalid too.
    """
    taken = np.zeros(len(mate), dtype=bool)
    changed: list[int] = []
    invalid: list[int] = []
    applied = 0
    for start in starts.tolist():
        cycle = [start]
        v = int(pred[start])
        while v != start and len(cycle) <= longest:
            cycle.append(v)
            v = int(pred[v])
        if v != start:
            continue
        xs = np.asarray(cycle, dtype=np.int64)  # xs[i+1] -> xs[i] is an arc
        partners = mate[xs]
        people = np.concatenate([xs, partners])
        if len(set(people.tolist())) != len(people):
            if repeats_invalid:
                invalid.extend(cycle)
            continue
        if taken[people].any():
            continue
        new_a = np.roll(xs, -1)  # arc source for each target xs[i]
        new_b = partners  # the target's old partner
        new = graph.lookup(new_a, new_b)
        if np.isnan(new).any() or new.sum() - graph.lookup(xs, partners).sum() <= MIN_GAIN:
            invalid.extend(cycle)
            continue
        taken[people] = True
        mate[new_a] = new_b
        mate[new_b] = new_a
        changed.extend(people.tolist())
        applied += 1
    return changed, invalid, applied


def _unoriented(
    graph: CandidateGraph, mate: np.ndarray, max_passes: int, work_limit: int
) -> tuple[int, int, int]:
    """The unoriented search: (searches, exchanges, work left).

    Arcs from both ends of every edge, so walks may pass both members of a pair; such cycles
    are set aside. Converges in a few searches on small graphs, where it finds exchanges the
    oriented searches can miss, but wastes its work on those walks at thousands of people.
    """
    passes = exchanged = 0
    while passes < max_passes and work_limit > 0:
        passes += 1
        arcs = _BothArcs(graph, mate, mate_scores(graph, mate))
        if len(arcs.src) == 0:
            break
        dist = np.zeros(graph.n, dtype=np.float64)
        pred = np.full(graph.n, -1, dtype=np.int64)
        alive = np.ones(graph.n, dtype=bool)
        found = 0
        for _ in range(UNORIENTED_ROUNDS):
            work_limit -= len(arcs.src)
            if work_limit < 0 or not _relax_both(arcs, dist, pred, alive):
                break
            starts = _cycle_starts(pred)
            if len(starts):
                changed, invalid, applied = _apply_cycles(
                    graph, mate, pred, starts, len(mate), repeats_invalid=True
                )
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
    return passes, exchanged, work_limit


def _orientation(mate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Left side of a random orientation of every pair (free people are on neither side)."""
    n = len(mate)
    me = np.arange(n)
    low = np.minimum(me, np.maximum(mate, 0))
    flip = rng.random(n) < 0.5
    return (mate >= 0) & (flip[low] ^ (me == low))


def improve_cycles(
    graph: CandidateGraph,
    mate: np.ndarray,
    max_passes: int = 50,
    work_limit: int = 1 << 62,
    seed: int = 0,
    unoriented_work: int = 0,
    max_rounds: int = 1 << 62,
    min_work: int = 0,
) -> dict[str, int]:
    """Apply improving alternating cycles until the searches stop paying.

    First unoriented searches within `unoriented_work` arc relaxations, then searches each
    under a new random orientation of the pairs. Stops after max_passes searches, after
    `max_rounds` oriented relaxation rounds (but not before `min_work` arc relaxations) or
    after `work_limit` arc relaxations in all (bounds on work, not on time, so the result
    stays deterministic), or when fewer than one exchange per 10,000 people came from two
    oriented searches in a row.
    """
    if graph.n >= 1 << PRED_BITS:
        raise ValueError("cycle search packs people into 24 bits")
    budget = min(work_limit, unoriented_work)
    passes, exchanged, left_over = _unoriented(graph, mate, max_passes, budget)
    done = budget - max(left_over, 0)
    rng = np.random.default_rng(seed)
    edges = _Edges(graph)
    me = np.arange(graph.n, dtype=np.int64)
    # 2^jumps steps back from anybody is on their cycle if it has at most 2^jumps people and
    # they are at most that deep in its tree; longer cycles are left alone (the walk from a
    # start that is not on a cycle gives up after 2^jumps steps).
    jumps = min(MAX_JUMPS, max(1, int(graph.n).bit_length()))
    idle = 0

    def more() -> bool:
        return done < work_limit and (max_rounds > 0 or done < min_work)

    while passes < max_passes and more():
        passes += 1
        left = _orientation(mate, rng)
        paired = np.rint(mate_scores(graph, mate) * 10**SCORE_DECIMALS).astype(np.int64)
        arcs = _Arcs(edges, mate, paired, left)
        if len(arcs) == 0:
            break
        # Everybody starts at distance 0 and is their own root (their own predecessor).
        dist = np.where(left, 0, DEAD).astype(np.int64) | me
        alive = left.copy()
        found = 0
        for _ in range(ROUNDS_PER_SEARCH):
            grew = more() and _relax(arcs, dist, alive)
            done += len(arcs)
            max_rounds -= 1
            # Look for cycles every round: they come and go as better paths take over.
            link = dist & PRED_MASK
            starts = _link_cycles(link, me, jumps)
            if len(starts):
                changed, invalid, applied = _apply_cycles(graph, mate, link, starts, 1 << jumps)
                found += applied
                # Changed people have stale arcs now, and cycles that gain nothing would be
                # found again: both sit out the rest of this search.
                out = np.asarray(changed + invalid, dtype=np.int64)
                alive[out] = False
                dist[out] = DEAD | out

            if not grew:
                break
        exchanged += found
        idle = idle + 1 if found * 10_000 < graph.n else 0
        if idle >= 2:
            break
    return {"cycle_passes": passes, "cycle_exchanges": exchanged}
