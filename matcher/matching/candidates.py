"""Candidate pairs from inverted indexes and random fill, never from all n^2 pairs at scale."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .encode import Encoded, TokenIndex
from .helping import help_candidate_keys, role_candidate_keys
from .scoring import Scorer


@dataclass(frozen=True, slots=True)
class CandidateOptions:
    """How many candidate partners each person gets; see docs/matching.md."""

    # Up to this many people every pair is a candidate (at most ~11k pairs).
    exhaustive_below: int = 150
    # Each person is paired with the next `w` holders of each of their tokens, in a seeded
    # random order of that token's holders: tokens held by <= w + 1 people give all their pairs.
    project_window: int = 6
    interest_window: int = 3
    place_window: int = 2
    # Random partners per person, so that everybody has options beyond shared tokens.
    random_partners: int = 3
    # Offerers per (wanter, topic) of the help component, and random partners from the other
    # roles under distinct_roles (see helping.py); nothing is drawn when not used.
    help_window: int = 4
    role_partners: int = 3


def _postings(
    owner: np.ndarray, token: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(token, owner) entries sorted by token, holders of one token in seeded random order."""
    shuffle = rng.random(len(owner))
    order = np.lexsort((shuffle, token))
    return owner[order], token[order]


def window_pairs(
    owner: np.ndarray, token: np.ndarray, window: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of holders at most `window` apart in each token's shuffled holder list."""
    owner, token = _postings(owner, token, rng)
    parts_a, parts_b = [], []
    for d in range(1, window + 1):
        if d >= len(owner):
            break
        same = token[d:] == token[:-d]
        parts_a.append(owner[:-d][same])
        parts_b.append(owner[d:][same])
    if not parts_a:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(parts_a), np.concatenate(parts_b)


def _token_entries(index: TokenIndex, n: int) -> tuple[np.ndarray, np.ndarray]:
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(index.indptr))
    return owner, index.tokens.astype(np.int64)


def _code_entries(codes: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    owner = np.flatnonzero((codes >= 0) & keep)
    return owner.astype(np.int64), codes[owner].astype(np.int64)


def _keys(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    keep = a != b
    a, b = a[keep], b[keep]
    return np.minimum(a, b) * n + np.maximum(a, b)


def _unique_pairs(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    keys.sort()  # sort + neighbour test beats np.unique's hashing on millions of keys
    if len(keys):
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    return keys // n, keys % n


def all_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair of n people."""
    a, b = np.triu_indices(n, k=1)
    return a.astype(np.int64), b.astype(np.int64)


def candidate_pairs(
    enc: Encoded, scorer: Scorer, options: CandidateOptions, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Allowed candidate pairs (a < b), sorted by pair key, deterministic for a given rng."""
    n = enc.n
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if n <= options.exhaustive_below:
        a, b = all_pairs(n)
    else:
        sources = [
            (_token_entries(enc.projects, n), options.project_window),
            (_token_entries(enc.interests, n), options.interest_window),
            (_code_entries(enc.location, enc.can_in_person), options.place_window),
            (_code_entries(enc.timezone, enc.can_video), options.place_window),
        ]
        parts = []
        for (owner, token), window in sources:
            pa, pb = window_pairs(owner, token, window, rng)
            parts.append(_keys(pa, pb, n))
        if options.random_partners:
            me = np.repeat(np.arange(n, dtype=np.int64), options.random_partners)
            other = rng.integers(0, n - 1, size=len(me), dtype=np.int64)
            other += other >= me  # never oneself
            parts.append(_keys(me, other, n))
        parts += help_candidate_keys(enc, options.help_window, rng)
        parts += role_candidate_keys(enc, options.role_partners, rng)
        a, b = _unique_pairs(np.concatenate(parts), n)
        del parts
    keep = scorer.allowed(a, b)
    return a[keep], b[keep]


def valid_partners(scorer: Scorer, person: int) -> np.ndarray:
    """Everybody who may be paired with `person` under the hard constraints (O(n) numpy)."""
    others = np.arange(scorer.enc.n, dtype=np.int64)
    mine = np.full(len(others), person, dtype=np.int64)
    return others[scorer.allowed(mine, others)]
