"""Maximum cardinality: Edmonds augmenting-path search from the people greedy left free."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import numpy as np

from .graph import CandidateGraph


def _search(
    root: int, neighbours: Callable[[int], list[int]], mate: list[int], dead: set[int]
) -> tuple[int, dict[int, int], list[int]]:
    """BFS for an augmenting path from a free root, shrinking blossoms (Edmonds 1965).

    Blossom bases live in a union-find, so a search costs O(E alpha) over what it explores;
    all state is in dicts so a search never pays O(n). Returns (free end or -1, parent links,
    every vertex the search labelled).
    """
    even, odd = 0, 1
    label: dict[int, int] = {root: even}
    parent: dict[int, int] = {}
    base: dict[int, int] = {}
    seen_at: dict[int, int] = {}
    stamp = 0
    queue = deque([root])

    def find(x: int) -> int:
        root_ = x
        while base.get(root_, root_) != root_:
            root_ = base[root_]
        while x != root_:  # path compression
            nxt = base[x]
            base[x] = root_
            x = nxt
        return root_

    def lca(x: int, y: int) -> int:
        nonlocal stamp
        stamp += 1
        while True:
            if x != -1:
                x = find(x)
                if seen_at.get(x) == stamp:
                    return x
                seen_at[x] = stamp
                x = parent[mate[x]] if mate[x] != -1 else -1
            x, y = y, x

    def shrink(x: int, y: int, top: int) -> None:
        while find(x) != top:
            parent[x] = y
            y = mate[x]
            if label.get(y) == odd:
                label[y] = even
                queue.append(y)
            if find(x) == x:
                base[x] = top
            if find(y) == y:
                base[y] = top
            x = parent[y]

    while queue:
        x = queue.popleft()
        for y in neighbours(x):
            if y in dead:
                continue
            state = label.get(y)
            if state is None:
                parent[y] = x
                label[y] = odd
                if mate[y] == -1:
                    return y, parent, list(label)
                label[mate[y]] = even
                queue.append(mate[y])
            elif state == even and find(x) != find(y):
                top = lca(x, y)
                shrink(x, y, top)
                shrink(y, x, top)
    return -1, parent, list(label)


def _flip(end: int, parent: dict[int, int], mate: list[int]) -> None:
    v = end
    while v != -1:
        pv = parent[v]
        ppv = mate[pv]
        mate[v] = pv
        mate[pv] = v
        v = ppv


def component_labels(graph: CandidateGraph) -> np.ndarray:
    """Connected component label of each person (min-label propagation with pointer jumping)."""
    label = np.arange(graph.n, dtype=np.int64)
    while True:
        new = label.copy()
        np.minimum.at(new, graph.a, label[graph.b])
        np.minimum.at(new, graph.b, label[graph.a])
        new = new[new]  # jump: follow labels towards the component minimum
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, label):
            return label
        label = new


def _roots_worth_searching(graph: CandidateGraph, mate: np.ndarray) -> np.ndarray:
    """Free people in connected components that hold two or more free people."""
    free = (mate < 0) & (graph.degree() > 0)
    if free.sum() < 2:
        return np.zeros(0, dtype=np.int64)
    label = component_labels(graph)
    # A component with at most one free person cannot gain a pair.
    free_per_label = np.bincount(label[free], minlength=graph.n)
    return np.flatnonzero(free & (free_per_label[label] >= 2))


def _short_path_candidates(
    graph: CandidateGraph, mate: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All paths u - v = w - x with u, x free and v = w a current pair, as arrays."""
    free = mate < 0
    free_a, free_b = free[graph.a], free[graph.b]
    edge = np.flatnonzero(free_a != free_b)  # exactly one end free: few edges
    a_free = free_a[edge]
    loose = np.where(a_free, graph.a[edge], graph.b[edge]).astype(np.int64)
    held = np.where(a_free, graph.b[edge], graph.a[edge]).astype(np.int64)
    score = graph.score[edge]
    # u - v with v matched; w - x for every w: join on w = mate(v).
    order = np.argsort(held, kind="stable")
    w2, x2, s_wx = held[order], loose[order], score[order]
    u, v, s_uv = loose, held, score
    w = mate[v]
    lo = np.searchsorted(w2, w, side="left")
    count = np.searchsorted(w2, w, side="right") - lo
    row = np.repeat(np.arange(len(u)), count)
    pos = np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
    u, v, w, s_uv = u[row], v[row], w[row], s_uv[row]
    x, s_wx = x2[pos], s_wx[pos]
    keep = x != u
    u, v, w, x = u[keep], v[keep], w[keep], x[keep]
    gain = s_uv[keep] + s_wx[keep] - graph.lookup(v, w)
    return u, v, w, x, gain


def augment_short_paths(graph: CandidateGraph, mate: np.ndarray, priority: np.ndarray) -> int:
    """Cheap first pass: augment along u - v = w - x paths (u, x free), in vectorised rounds.

    Most people greedy leaves free are one such swap away from a partner; this finds them
    without the general blossom search. Whoever waited longest goes first, then best gain.
    """
    done = 0
    while True:
        u, v, w, x, gain = _short_path_candidates(graph, mate)
        if len(u) == 0:
            return done
        order = np.lexsort((-gain, -np.maximum(priority[u], priority[x])))
        # Keep each free person's first path only (as u, then as x): a free person with
        # thousands of options must not cost thousands of Python steps.
        order = order[np.sort(np.unique(u[order], return_index=True)[1])]
        order = order[np.sort(np.unique(x[order], return_index=True)[1])]
        used: set[int] = set()
        progress = 0
        for k in order.tolist():
            path = (int(u[k]), int(v[k]), int(w[k]), int(x[k]))
            if used.intersection(path):
                continue
            used.update(path)
            pu, pv, pw, px = path
            mate[pu], mate[pv], mate[pw], mate[px] = pv, pu, px, pw
            progress += 1
        done += progress
        if not progress:
            return done


def _trace(v: int, parent: np.ndarray) -> list[int]:
    path = [v]
    while parent[v] >= 0:
        v = int(parent[v])
        path.append(v)
        if len(path) > len(parent):
            raise RuntimeError("alternating forest has a cycle")  # a bug, never bad input
    return path


def augment_forest(graph: CandidateGraph, mate: np.ndarray) -> int:
    """Grow alternating trees from every free person at once, layer by layer (numpy), and
    augment along each edge that joins the outer vertices of two different trees.

    Trees are disjoint, so such paths are valid without blossom handling; what needs a blossom
    is left to the Edmonds search. Repeats until a full forest finds nothing.
    """
    indptr, nbr = graph.adjacency()
    deg = np.diff(indptr)
    done = 0
    while True:
        free = np.flatnonzero((mate < 0) & (deg > 0))
        if len(free) < 2:
            return done
        root = np.full(graph.n, -1, dtype=np.int64)
        parent = np.full(graph.n, -1, dtype=np.int64)
        outer = np.zeros(graph.n, dtype=bool)
        root[free] = free
        outer[free] = True
        frontier = free
        joins = np.zeros((0, 2), dtype=np.int64)
        while len(frontier):
            counts = deg[frontier]
            src = np.repeat(frontier, counts)
            first = np.cumsum(counts) - counts
            pos = np.repeat(indptr[frontier] - first, counts) + np.arange(int(counts.sum()))
            dst = nbr[pos]
            cross = outer[dst] & (root[dst] != root[src])
            if cross.any():
                joins = np.stack([src[cross], dst[cross]], axis=1)
                break
            grow = (root[dst] < 0) & (mate[dst] >= 0)
            src, dst = src[grow], dst[grow]
            dst, at = np.unique(dst, return_index=True)  # first claim wins, deterministic
            src = src[at]
            # If both members of a pair were reached, only one may be the odd (inner) one.
            both = np.isin(mate[dst], dst) & (dst > mate[dst])
            src, dst = src[~both], dst[~both]
            root[dst] = root[src]
            parent[dst] = src
            nxt = mate[dst]
            root[nxt] = root[dst]
            parent[nxt] = dst
            outer[nxt] = True
            frontier = nxt
        if len(joins) == 0:
            return done
        used: set[int] = set()
        progress = 0
        for x, y in joins.tolist():
            rx, ry = int(root[x]), int(root[y])
            if rx in used or ry in used:
                continue
            used.update((rx, ry))
            path = _trace(x, parent)[::-1] + _trace(y, parent)
            for i in range(0, len(path), 2):
                mate[path[i]] = path[i + 1]
                mate[path[i + 1]] = path[i]
            progress += 1
        done += progress


def maximise_cardinality(
    graph: CandidateGraph, mate: np.ndarray, priority: Sequence[float] | np.ndarray
) -> dict[str, int]:
    """Augment the matching in place until no augmenting path is left (maximum cardinality).

    Roots are tried in order of `priority` (highest first), so when not everybody can be
    matched, the people who waited longest are the ones who get a partner.
    """
    priority = np.asarray(priority)
    free = np.flatnonzero(mate < 0)
    short = 0
    if len(free) >= 2:
        short = augment_short_paths(graph, mate, priority)
        short += augment_forest(graph, mate)
    roots = _roots_worth_searching(graph, mate)
    if len(roots) == 0:
        return {"augmentations": short, "augment_searches": 0}
    order = np.lexsort((roots, -priority[roots]))
    indptr, nbr = graph.adjacency()
    cache: dict[int, list[int]] = {}

    def neighbours(v: int) -> list[int]:
        got = cache.get(v)
        if got is None:
            got = cache[v] = nbr[indptr[v] : indptr[v + 1]].tolist()
        return got

    mate_list = mate.tolist()
    dead: set[int] = set()
    augmentations = searches = 0
    for root in roots[order].tolist():
        if mate_list[root] != -1 or root in dead:
            continue
        searches += 1
        end, parent, tree = _search(root, neighbours, mate_list, dead)
        if end == -1:
            # No augmenting path from root now means none later either, and the vertices of
            # the failed (Hungarian) tree can never lie on one: drop them from later searches.
            dead.update(tree)
        else:
            _flip(end, parent, mate_list)
            augmentations += 1
    mate[:] = mate_list
    return {"augmentations": short + augmentations, "augment_searches": searches}
