"""Candidate pairs chosen by score under the current weights, never from all n^2 pairs at scale.

1. A pool of pairs from each indexed component's postings (components.py): every pair of
   holders of a rare token, and for popular tokens the neighbours of each holder in orders
   that put people sharing a second valuable token next to each other.
2. Every pooled pair is scored with the real Scorer; each person keeps the `keep` partners
   with the best score minus a fraction of the partner's own best score (a partner everybody
   wants is a poor bet for most of them), plus a few random partners so that maximum
   cardinality never depends on token overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .components import TokenSource, token_sources
from .encode import Encoded
from .forking import can_fork, child_succeeded, release_tail, shared_empty, start_child
from .helping import help_candidate_keys, role_candidate_keys
from .scoring import SCORE_DECIMALS, Scorer


@dataclass(frozen=True, slots=True)
class CandidateOptions:
    """How the candidate search works; see docs/matching.md."""

    # Up to this many people every pair is a candidate (at most ~11k pairs).
    exhaustive_below: int = 150
    # Tokens held by at most this many people give every pair of their holders.
    rare_holders: int = 40
    # Popular tokens: each holder meets the next `window` holders in each neighbour order.
    window: int = 4
    # Neighbour orders per popular token: by random, then by the holder's k-th best other token.
    orders: int = 4
    # Partners kept per person by adjusted score.
    keep: int = 16
    # Adjusted score = score - price * (the partner's best pooled score).
    price: float = 0.5
    # Random partners per person, always kept.
    random_partners: int = 1
    # Offerers per (wanter, topic) of the help component (pooled, kept by score), and random
    # partners from the other roles under distinct_roles (always kept); see helping.py.
    # Nothing is drawn when not used.
    help_window: int = 4
    role_partners: int = 3


def _keys(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    keep = a != b
    a, b = a[keep], b[keep]
    return np.minimum(a, b) * n + np.maximum(a, b)


def all_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair of n people."""
    a, b = np.triu_indices(n, k=1)
    return a.astype(np.int64), b.astype(np.int64)


@dataclass(frozen=True, slots=True)
class _Postings:
    """All sources' postings with globally unique token codes."""

    owner: np.ndarray
    token: np.ndarray
    value: np.ndarray
    df: np.ndarray  # holders of each global token


def _merge(sources: list[TokenSource]) -> _Postings:
    owners, tokens, values = [], [], []
    offset = 0
    for source in sources:
        owners.append(source.owner)
        tokens.append(source.token + offset)
        values.append(source.value)
        offset += source.vocabulary
    owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    token = np.concatenate(tokens) if tokens else np.zeros(0, dtype=np.int64)
    value = np.concatenate(values) if values else np.zeros(0)
    return _Postings(owner, token, value, np.bincount(token, minlength=offset))


def _group_pairs(owner: np.ndarray, token: np.ndarray, limit: int, n: int) -> list[np.ndarray]:
    """Keys of pairs of owners at most `limit` apart within runs of equal token."""
    parts = []
    m = len(owner)
    idx = None
    for d in range(1, min(limit, m - 1) + 1):
        if idx is None:
            # While most postings still have a partner d further on, compare shifted slices
            # (contiguous, no gathers) ...
            same = token[d:] == token[:-d]
            count = int(np.count_nonzero(same))
            if not count:
                break
            parts.append(_keys(owner[:-d][same], owner[d:][same], n))
            if 4 * count < m - d:
                idx = np.flatnonzero(same)  # ... then follow only those that do.
            continue
        idx = idx[idx + d < m]
        idx = idx[token[idx + d] == token[idx]]
        if not len(idx):
            break
        parts.append(_keys(owner[idx], owner[idx + d], n))
    return parts


def _rare_pairs(post: _Postings, rare: np.ndarray, n: int) -> list[np.ndarray]:
    """Keys of every pair of holders of each rare token."""
    sel = np.flatnonzero(rare[post.token])
    owner, token = post.owner[sel], post.token[sel]
    order = np.argsort(token, kind="stable")
    return _group_pairs(owner[order], token[order], int(post.df[rare].max(initial=1)), n)


def _ranked_tokens(post: _Postings, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each person's tokens by value, best first: (tokens, indptr, rank of each posting)."""
    order = np.lexsort((post.token, -post.value, post.owner))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(post.owner, minlength=n), out=indptr[1:])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - indptr[post.owner[order]]
    return post.token[order], indptr, rank


def _kth_other(
    ranked: np.ndarray, indptr: np.ndarray, owner: np.ndarray, rank: np.ndarray, k: int
) -> np.ndarray:
    """For each posting, its owner's k-th best token other than this one (-1 if none)."""
    at = indptr[owner] + k + (rank <= k)  # skip the posting's own token
    return np.where(at < indptr[owner + 1], ranked[np.minimum(at, len(ranked) - 1)], -1)


def _popular_pairs(
    post: _Postings, rare: np.ndarray, n: int, options: CandidateOptions, rng: np.random.Generator
) -> list[np.ndarray]:
    """Keys of the neighbours of each holder of a popular token, in a few orders of its holders."""
    sel = np.flatnonzero(~rare[post.token])
    if not len(sel):
        return []
    owner, token = post.owner[sel], post.token[sel]
    ranked, indptr, rank = _ranked_tokens(post, n)
    rank = rank[sel]
    parts = []
    for k in range(options.orders):
        noise = rng.random(len(owner))
        if k == 0:
            order = _lexsort3(noise, None, token)
        else:
            # Holders sharing their (k-1)-th best other token sit together: they share two.
            second = _kth_other(ranked, indptr, owner, rank, k - 1)
            order = _lexsort3(noise, second, token)
        parts += _group_pairs(owner[order], token[order], options.window, n)
    return parts


def _stable_argsort(values: np.ndarray) -> np.ndarray:
    """np.argsort(values, kind="stable"): the fast (SIMD) sort, unless two values tie (then
    only a stable sort gives the positional order), which random floats almost never do."""
    order = np.argsort(values)
    ordered = values[order]
    if len(ordered) > 1 and (ordered[1:] == ordered[:-1]).any():
        return np.argsort(values, kind="stable")
    return order


def _lexsort3(noise: np.ndarray, second: np.ndarray | None, token: np.ndarray) -> np.ndarray:
    """np.lexsort((noise, second, token)) (or without `second`): the same permutation, from
    one stable argsort of the noise and one sort of packed int64 keys (token, second + 1,
    rank of the noise), about twice as fast as lexsort's stable passes."""
    m = len(token)
    rank_bits = max(1, m.bit_length())
    second_bits = 0 if second is None else int(second.max(initial=-1) + 2).bit_length()
    token_bits = int(token.max(initial=0) + 1).bit_length()
    if rank_bits + second_bits + token_bits > 63:
        return np.lexsort((noise, token) if second is None else (noise, second, token))
    by_noise = _stable_argsort(noise)
    key = np.empty(m, dtype=np.int64)
    key[by_noise] = np.arange(m, dtype=np.int64)
    key |= token.astype(np.int64) << (rank_bits + second_bits)
    if second is not None:
        key |= (second.astype(np.int64) + 1) << rank_bits
    key.sort()
    key &= (1 << rank_bits) - 1
    return by_noise[key]


# Pairs per block when building the ranking keys (bounds the temporaries).
KEY_BLOCK = 1 << 22
# Pooled pairs checked and scored per block: keeps the temporaries in cache at millions of pairs.
POOL_BLOCK = 1 << 18


def pool_keys(
    enc: Encoded, scorer: Scorer, options: CandidateOptions, rng: np.random.Generator
) -> np.ndarray:
    """Sorted unique pair keys (lo * n + hi) worth scoring, from the indexed components."""
    n = enc.n
    post = _merge(token_sources(enc, scorer.named_weights))
    rare = post.df <= options.rare_holders
    keys = _rare_pairs(post, rare, n) + _popular_pairs(post, rare, n, options, rng)
    # The directed help component brings its own index (wanters to offerers).
    if scorer.named_weights.help > 0:
        keys += help_candidate_keys(enc, options.help_window, rng)
    flat = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    del keys
    flat.sort()  # sort + neighbour test beats np.unique's hashing on millions of keys
    if len(flat):
        flat = flat[np.concatenate(([True], flat[1:] != flat[:-1]))]
    return flat


def pool_pairs(
    enc: Encoded,
    scorer: Scorer,
    options: CandidateOptions,
    rng: np.random.Generator,
    workers: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allowed pooled pairs (a < b) and their scores, checked and scored block by block."""
    n = enc.n
    keys = pool_keys(enc, scorer, options, rng)
    starts = range(0, len(keys), POOL_BLOCK)
    if len(starts) >= 2 and can_fork(workers):
        return _pool_pairs_forked(n, scorer, keys, starts)
    out_a = np.empty(len(keys), dtype=np.int32)
    out_b = np.empty(len(keys), dtype=np.int32)
    out_s = np.empty(len(keys), dtype=np.float64)
    m = 0
    for start in starts:
        m += _score_block(n, scorer, keys, start, m, out_a, out_b, out_s)
    del keys
    # Shrink in place where numpy can (no copy of the largest arrays at a million people).
    return _shrink(out_a, m), _shrink(out_b, m), _shrink(out_s, m)


def _score_block(
    n: int,
    scorer: Scorer,
    keys: np.ndarray,
    start: int,
    at: int,
    out_a: np.ndarray,
    out_b: np.ndarray,
    out_s: np.ndarray,
) -> int:
    """Write the allowed pairs of keys[start:start + POOL_BLOCK] and their scores from `at` on."""
    block = keys[start : start + POOL_BLOCK]
    a, b = block // n, block % n
    ok = scorer.allowed(a, b)
    a, b = a[ok], b[ok]
    k = len(a)
    out_a[at : at + k] = a
    out_b[at : at + k] = b
    out_s[at : at + k] = scorer.scores(a, b)
    return k


def _pool_pairs_forked(
    n: int, scorer: Scorer, keys: np.ndarray, starts: range
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pool_pairs with every other block scored by a forked child (the same arrays out)."""
    # Shared output: each block writes its pairs at its own start (it has at most as many
    # pairs as keys), then the parent moves them together in block order.
    out_a = shared_empty(len(keys), np.int32)
    out_b = shared_empty(len(keys), np.int32)
    out_s = shared_empty(len(keys), np.float64)
    counts = shared_empty(len(starts), np.int64)

    def score(blocks: range) -> None:
        for k in blocks:
            counts[k] = _score_block(n, scorer, keys, starts[k], starts[k], out_a, out_b, out_s)

    # Scorer builds its lookup tables on first use: build them once, before forking.
    warm = keys[:64]
    scorer.scores(warm // n, warm % n)
    theirs = range(1, len(starts), 2)
    child = start_child(lambda: score(theirs))
    score(range(0, len(starts), 2))
    if not child_succeeded(child):
        score(theirs)
    m = 0
    for start, k in zip(starts, counts.tolist(), strict=True):
        if start != m:  # overlapping forward moves: numpy copies overlapping slices safely
            out_a[m : m + k] = out_a[start : start + k]
            out_b[m : m + k] = out_b[start : start + k]
            out_s[m : m + k] = out_s[start : start + k]
        m += k
    return release_tail(out_a, m), release_tail(out_b, m), release_tail(out_s, m)


def _shrink(array: np.ndarray, size: int) -> np.ndarray:
    """The first `size` entries; resized in place when nothing else holds the array."""
    try:
        array.resize(size, refcheck=False)
    except ValueError:  # not the owner of its memory: copy
        return array[:size].copy()
    return array


def _random_pairs(
    scorer: Scorer, n: int, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    me = np.repeat(np.arange(n, dtype=np.int64), count)
    other = rng.integers(0, n - 1, size=len(me), dtype=np.int64)
    other += other >= me  # never oneself
    a, b = np.minimum(me, other), np.maximum(me, other)
    keep = scorer.allowed(a, b)
    return a[keep], b[keep]


def best_per_person(
    n: int, a: np.ndarray, b: np.ndarray, score: np.ndarray, keep: int, price: float
) -> np.ndarray:
    """Mask of pairs among the `keep` best of either end, by score - price * partner's best."""
    m = len(a)
    if m == 0:
        return np.zeros(0, dtype=bool)
    # Everything in integer score ticks; each person's partners are ranked by
    # score - price * (the partner's best score), rounded to a tick.
    ticks = np.rint(score * 10**SCORE_DECIMALS).astype(np.int32)
    # Same dtype as the values: numpy's fast path for ufunc.at (30x faster than int64 + int32).
    top32 = np.zeros(n, dtype=np.int32)
    np.maximum.at(top32, a, ticks)
    np.maximum.at(top32, b, ticks)
    top = np.rint(price * top32).astype(np.int64)
    del top32
    # Sort keys: person, then (high - adjusted) so the best partner comes first.
    high = int(ticks.max()) - int(top.min())
    width = (high - (int(ticks.min()) - int(top.max()))).bit_length() + 1
    keys = np.empty(2 * m, dtype=np.int64)
    for lo in range(0, m, KEY_BLOCK):
        hi = min(lo + KEY_BLOCK, m)
        t = high - ticks[lo:hi].astype(np.int64)
        keys[lo:hi] = (a[lo:hi].astype(np.int64) << width) | (t + top[b[lo:hi]])
        keys[m + lo : m + hi] = (b[lo:hi].astype(np.int64) << width) | (t + top[a[lo:hi]])
    # Sorting the keys themselves (no argsort) is ~10x faster; each person's keep-th key is
    # their threshold, and every partner at or above it is kept (ties included, so the choice
    # does not depend on how the sort orders equal keys).
    keys.sort()
    first = np.searchsorted(keys, np.arange(n + 1, dtype=np.int64) << width)
    at = first[:-1] + keep - 1
    mask = (1 << width) - 1
    limit = np.where(at < first[1:], keys[np.minimum(at, 2 * m - 1)] & mask, 1 << width)
    del keys
    chosen = np.empty(m, dtype=bool)
    for lo in range(0, m, KEY_BLOCK):
        hi = min(lo + KEY_BLOCK, m)
        t = high - ticks[lo:hi].astype(np.int64)
        chosen[lo:hi] = ((t + top[b[lo:hi]]) <= limit[a[lo:hi]]) | (
            (t + top[a[lo:hi]]) <= limit[b[lo:hi]]
        )
    return chosen


def candidate_pairs(
    enc: Encoded,
    scorer: Scorer,
    options: CandidateOptions,
    rng: np.random.Generator,
    workers: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allowed candidate pairs (a < b) with scores; the same for a given rng and any workers."""
    n = enc.n
    if n < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    if n <= options.exhaustive_below:
        a, b = all_pairs(n)
        keep = scorer.allowed(a, b)
        a, b = a[keep], b[keep]
        return a, b, scorer.scores(a, b)
    a, b, score = pool_pairs(enc, scorer, options, rng, workers)
    chosen = best_per_person(n, a, b, score, options.keep, options.price)
    a, b, score = a[chosen].astype(np.int64), b[chosen].astype(np.int64), score[chosen]
    del chosen
    if options.random_partners:
        ra, rb = _random_pairs(scorer, n, options.random_partners, rng)
        a, b = np.concatenate([a, ra]), np.concatenate([b, rb])
        score = np.concatenate([score, scorer.scores(ra, rb)])
    roles = role_candidate_keys(enc, options.role_partners, rng)
    if roles:
        ra, rb = roles[0] // n, roles[0] % n
        ok = scorer.allowed(ra, rb)
        ra, rb = ra[ok], rb[ok]
        a, b = np.concatenate([a, ra]), np.concatenate([b, rb])
        score = np.concatenate([score, scorer.scores(ra, rb)])
    keys = a * n + b
    keys, first = np.unique(keys, return_index=True)
    return keys // n, keys % n, score[first]


def valid_partners(scorer: Scorer, person: int) -> np.ndarray:
    """Everybody who may be paired with `person` under the hard constraints (O(n) numpy)."""
    others = np.arange(scorer.enc.n, dtype=np.int64)
    mine = np.full(len(others), person, dtype=np.int64)
    return others[scorer.allowed(mine, others)]
