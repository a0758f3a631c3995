"""From a pairing to groups: trios for the odd one out, groups of 3 or 4, and who stays out."""

from __future__ import annotations

import numpy as np

from .augment import maximise_cardinality
from .candidates import valid_partners
from .graph import CandidateGraph
from .pairing import greedy_matching, improve, priority_order
from .scoring import Scorer

# Someone left over is checked against every group (O(n) numpy each) only while this holds.
MAX_EXHAUSTIVE_WORK = 200_000_000
# Up to this many pairs, every two pairs are considered for merging into a four.
EXHAUSTIVE_PAIR_MERGE = 1500


def pairs_from_mate(mate: np.ndarray) -> list[list[int]]:
    """Each matched pair once, lower index first, in index order."""
    a = np.flatnonzero((mate >= 0) & (np.arange(len(mate)) < mate))
    return [[x, y] for x, y in zip(a.tolist(), mate[a].tolist(), strict=True)]


def _padded(groups: list[list[int]], width: int) -> np.ndarray:
    out = np.full((len(groups), width), -1, dtype=np.int64)
    for row, members in enumerate(groups):
        out[row, : len(members)] = members
    return out


def join_gains(scorer: Scorer, person: int, members: np.ndarray) -> np.ndarray:
    """Score `person` adds to each group (rows of -1-padded members); -inf where not allowed."""
    gain = np.zeros(len(members), dtype=np.float64)
    ok = np.ones(len(members), dtype=bool)
    me = np.full(len(members), person, dtype=np.int64)
    for col in range(members.shape[1]):
        other = members[:, col]
        present = other >= 0
        if not present.any():
            continue
        idx = np.flatnonzero(present)
        ok[idx] &= scorer.allowed(me[idx], other[idx])
        gain[idx] += scorer.scores(me[idx], other[idx])
    return np.where(ok, gain, -np.inf)


def place_leftovers(
    scorer: Scorer, groups: list[list[int]], leftovers: list[int], capacity: int
) -> list[int]:
    """Put each leftover into the group where they add most and that still has room.

    Returns the people who fit nowhere. Checks every group, so it stops early on huge inputs.
    """
    still_out: list[int] = []
    if not leftovers:
        return still_out
    width = capacity
    members = _padded(groups, width)
    sizes = np.array([len(g) for g in groups], dtype=np.int64)
    for person in leftovers:
        if len(groups) == 0 or len(groups) * len(leftovers) > MAX_EXHAUSTIVE_WORK:
            still_out.append(person)
            continue
        gains = join_gains(scorer, person, members)
        gains[sizes >= capacity] = -np.inf
        best = int(np.argmax(gains))
        if not np.isfinite(gains[best]):
            still_out.append(person)
            continue
        groups[best].append(person)
        members[best, sizes[best]] = person
        sizes[best] += 1
    return still_out


def pair_up_leftovers(scorer: Scorer, leftovers: list[int]) -> tuple[list[list[int]], list[int]]:
    """Greedily pair leftovers who may meet each other (a safety net; rarely finds anything)."""
    if len(leftovers) < 2:
        return [], leftovers
    people = np.asarray(leftovers, dtype=np.int64)
    x, y = np.triu_indices(len(people), k=1)
    a, b = people[x], people[y]
    ok = scorer.allowed(a, b)
    a, b = a[ok], b[ok]
    order = np.argsort(-scorer.scores(a, b), kind="stable")
    used: set[int] = set()
    pairs = []
    for i in order.tolist():
        p, q = int(a[i]), int(b[i])
        if p not in used and q not in used:
            used.update((p, q))
            pairs.append([p, q])
    return pairs, [p for p in leftovers if p not in used]


def merge_pairs_into_fours(
    scorer: Scorer, graph: CandidateGraph, pairs: list[list[int]], rng: np.random.Generator
) -> list[list[int]]:
    """Merge pairs two by two: a matching on the pairs themselves, with the same machinery.

    Two pairs may merge when all four new cross pairs are allowed; the merge scores the sum of
    those four. Greedy, swaps and augmenting paths then give as many fours as possible.
    """
    k = len(pairs)
    if k < 2:
        return pairs
    if k <= EXHAUSTIVE_PAIR_MERGE:
        lo, hi = (x.astype(np.int64) for x in np.triu_indices(k, k=1))
    else:
        owner = np.full(graph.n, -1, dtype=np.int64)
        for i, (x, y) in enumerate(pairs):
            owner[x] = owner[y] = i
        pa, pb = owner[graph.a], owner[graph.b]
        link = (pa >= 0) & (pb >= 0) & (pa != pb)
        keys = np.unique(np.minimum(pa[link], pb[link]) * k + np.maximum(pa[link], pb[link]))
        lo, hi = keys // k, keys % k
    members = np.asarray(pairs, dtype=np.int64)
    gain = np.zeros(len(lo))
    ok = np.ones(len(lo), dtype=bool)
    for i in range(2):
        for j in range(2):
            x, y = members[lo, i], members[hi, j]
            ok &= scorer.allowed(x, y)
            gain += scorer.scores(x, y)
    merges = CandidateGraph(k, lo[ok], hi[ok], gain[ok])
    mate = greedy_matching(merges, priority_order(merges, rng))
    improve(merges, mate)
    maximise_cardinality(merges, mate, np.zeros(k))
    groups = [pairs[i] + pairs[int(mate[i])] for i in range(k) if i < mate[i]]
    groups.extend(pairs[i] for i in range(k) if mate[i] < 0)
    return groups


def split_into_threes(
    scorer: Scorer, graph: CandidateGraph, pairs: list[list[int]], singles: list[int]
) -> tuple[list[list[int]], list[int]]:
    """Keep the best pairs as cores of trios; the weakest pairs split up and join them."""
    total_people = 2 * len(pairs) + len(singles)
    cores_wanted = max(total_people // 3, 1)
    if len(pairs) <= cores_wanted:
        return [list(p) for p in pairs], singles
    score = scorer.scores([p[0] for p in pairs], [p[1] for p in pairs])
    order = np.argsort(-score, kind="stable")
    cores = [list(pairs[k]) for k in order[:cores_wanted].tolist()]
    loose = [x for k in order[cores_wanted:].tolist() for x in pairs[k]] + singles
    owner = np.full(graph.n, -1, dtype=np.int64)
    for k, (x, y) in enumerate(cores):
        owner[x] = owner[y] = k
    is_loose = np.zeros(graph.n, dtype=bool)
    is_loose[loose] = True
    # Links single -> core from candidate edges, in both directions.
    s = np.concatenate([graph.a, graph.b])
    t = np.concatenate([graph.b, graph.a])
    link = is_loose[s] & (owner[t] >= 0)
    s, core = s[link], owner[t[link]]
    keys = np.unique(s * len(cores) + core)
    s, core = keys // len(cores), keys % len(cores)
    members = np.asarray(cores, dtype=np.int64)
    gain = np.zeros(len(keys))
    ok = np.ones(len(keys), dtype=bool)
    for j in range(2):
        ok &= scorer.allowed(s, members[core, j])
        gain += scorer.scores(s, members[core, j])
    s, core, gain = s[ok], core[ok], gain[ok]
    order = np.lexsort((s, -gain))
    placed: set[int] = set()
    full = [False] * len(cores)
    for i in order.tolist():
        p, k = int(s[i]), int(core[i])
        if p not in placed and not full[k]:
            placed.add(p)
            full[k] = True
            cores[k].append(p)
    rest = [p for p in loose if p not in placed]
    rest = place_leftovers(scorer, cores, rest, capacity=3)
    more_pairs, rest = pair_up_leftovers(scorer, rest)
    return cores + more_pairs, rest


def why_unmatched(scorer: Scorer, person: int) -> str:
    """A short reason why this person has no group this week."""
    enc = scorer.enc
    if enc.n < 2 or (enc.owner is not None and (enc.owner == enc.owner[person]).all()):
        return "no valid partner: nobody else is taking part this week"
    if len(valid_partners(scorer, person)):
        return "every valid partner is already in a group that cannot take one more"
    if enc.distinct_roles:
        if enc.role[person] < 0:
            return "no role: this round pairs only people of different roles"
        if not ((enc.role >= 0) & (enc.role != enc.role[person])).any():
            return "no valid partner: nobody with another role is taking part"
    others = np.arange(enc.n) != person
    if enc.owner is not None:  # other slots of the same person are not others
        others &= enc.owner != enc.owner[person]
    if enc.cross_team_only and not (others & (enc.team != enc.team[person])).any():
        return "no valid partner: everyone else is on the same team"
    return "no valid partner: every possible partner was met within the cooldown or is blocked"
