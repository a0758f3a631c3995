"""The pair score: eight named components in [0, 1], weighted and summed, vectorised over pairs."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .encode import Encoded, TokenIndex, pair_keys
from .helping import HelpScorer
from .hours import overlap_hours
from .rules import Weights

COMPONENTS = Weights.names()
# Novelty of a pair met w weeks ago is w / (w + NOVELTY_HALF_WEEKS): 0.5 after 8 weeks, never 1.
NOVELTY_HALF_WEEKS = 8.0
# Hours of shared availability per week that count as a perfect fit (one hour each weekday).
FULL_OVERLAP_HOURS = 5.0
# Hops in the reporting tree (up to the lowest common manager and down again) at which the
# org_distance component is full: siblings (2 hops) score 1/3, cousins (4) 2/3, second
# cousins (6) and anybody further apart 1.
ORG_FULL_HOPS = 6
# Weeks of waiting after which a person's fairness share is full.
FAIRNESS_FULL_WEEKS = 4
# Scores are rounded so ties are exact and the --edges file reproduces them bit for bit.
SCORE_DECIMALS = 4
# Pairs scored per numpy block: ~100 bytes of temporaries per pair; blocks this small stay
# in cache, 2-3x faster than blocks of 2^20 pairs.
CHUNK_PAIRS = 1 << 15
# Token membership uses a bitmap (fast, n * vocabulary / 8 bytes) up to this size, else a
# sorted-key binary search.
MAX_BITMAP_BYTES = 512 << 20
# "Any token in common" compares padded rows of tokens when nobody holds more than this many.
FEW_TOKENS = 4


class Scorer:
    """Scores and checks pairs of one encoded problem under one set of weights."""

    def __init__(self, enc: Encoded, weights: Weights) -> None:
        self.enc = enc
        self.named_weights = weights
        self.weights = np.asarray(weights.as_tuple(), dtype=np.float64)
        self._keys: dict[str, np.ndarray] = {}
        self._rows_cache: dict[str, np.ndarray | None] = {}
        self.help = HelpScorer(enc)
        # Who has any availability: only pairs of two such people can overlap.
        self._has_hours = enc.hours_words.any(axis=1)

    def _token_keys(self, name: str, index: TokenIndex) -> np.ndarray:
        # owner * vocabulary + token is already sorted because rows are sorted sets.
        if name not in self._keys:
            owners = np.repeat(np.arange(self.enc.n, dtype=np.int64), np.diff(index.indptr))
            self._keys[name] = owners * max(len(index.names), 1) + index.tokens
        return self._keys[name]

    def _token_bitmap(self, name: str, index: TokenIndex) -> np.ndarray | None:
        """Flat (n, bytes per person) bitmap of who holds which token, if small enough."""
        key = name + ":bits"
        if key not in self._keys:
            width = (len(index.names) + 7) // 8
            if self.enc.n * width > MAX_BITMAP_BYTES:
                return None
            owners = np.repeat(np.arange(self.enc.n, dtype=np.int64), np.diff(index.indptr))
            tokens = index.tokens.astype(np.int64)
            flat = np.zeros(self.enc.n * width, dtype=np.uint8)
            bits = np.left_shift(1, tokens & 7).astype(np.uint8)
            np.bitwise_or.at(flat, owners * width + (tokens >> 3), bits)
            self._keys[key] = flat
        return self._keys[key]

    def _rows(self, name: str, index: TokenIndex) -> np.ndarray | None:
        """Each person's tokens as a (n, width) int32 row padded with -1 - person (so pads
        never match anybody's), or None when somebody holds more than FEW_TOKENS."""
        if name not in self._rows_cache:
            deg = np.diff(index.indptr)
            width = int(deg.max(initial=0))
            if width > FEW_TOKENS:
                self._rows_cache[name] = None
                return None
            n = self.enc.n
            rows = np.repeat(-1 - np.arange(n, dtype=np.int32), max(width, 1)).reshape(n, -1)
            owner = np.repeat(np.arange(n, dtype=np.int64), deg)
            col = np.arange(len(owner), dtype=np.int64) - index.indptr[owner]
            rows[owner, col] = index.tokens
            self._rows_cache[name] = rows
        return self._rows_cache[name]

    def share_any(self, name: str, index: TokenIndex, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether each pair holds at least one token in common: `shared(...) > 0`. When
        everybody holds at most FEW_TOKENS (projects), by comparing two short padded rows:
        1.5x faster than the bitmap, 3.5x faster than the binary search per token that
        `shared` does without one (projects at a million people)."""
        rows = self._rows(name, index)
        if rows is None:
            return self.shared(name, index, None, a, b) > 0
        ra, rb = rows[a].T.copy(), rows[b].T.copy()
        hit = np.zeros(len(a), dtype=bool)
        for x in ra:
            for y in rb:
                hit |= x == y
        return hit

    def shared(
        self,
        name: str,
        index: TokenIndex,
        token_weight: np.ndarray | None,
        a: ArrayLike,
        b: ArrayLike,
    ) -> np.ndarray:
        """Per pair, the number (or summed token_weight) of tokens both people hold."""
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        out = np.zeros(len(a), dtype=np.float64)
        if len(a) == 0 or len(index.tokens) == 0:
            return out
        vocab = max(len(index.names), 1)
        deg = np.diff(index.indptr)
        # Walk the tokens of whichever side holds fewer, and look each up on the other side.
        swap = deg[a] > deg[b]
        x = np.where(swap, b, a)
        y = np.where(swap, a, b)
        counts = deg[x]
        total = int(counts.sum())
        if total == 0:
            return out
        pair = np.repeat(np.arange(len(a), dtype=np.int64), counts)
        first = np.cumsum(counts) - counts
        pos = np.repeat(index.indptr[x] - first, counts) + np.arange(total, dtype=np.int64)
        tokens = index.tokens[pos].astype(np.int64)
        bitmap = self._token_bitmap(name, index)
        if bitmap is not None:
            width = (vocab + 7) // 8
            hit = (bitmap[y[pair] * width + (tokens >> 3)] >> (tokens & 7).astype(np.uint8)) & 1
            hit = hit.astype(bool)
        else:
            keys = self._token_keys(name, index)
            query = y[pair] * vocab + tokens
            hit_pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
            hit = keys[hit_pos] == query
        w = hit.astype(np.float64) if token_weight is None else token_weight[tokens] * hit
        return np.bincount(pair, weights=w, minlength=len(a))

    def allowed(self, a: ArrayLike, b: ArrayLike) -> np.ndarray:
        """Whether each pair passes every hard constraint."""
        enc = self.enc
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        ok = a != b
        if enc.cross_team_only:
            ok &= enc.team[a] != enc.team[b]
        if len(enc.blocked.keys):
            ok &= ~enc.blocked.contains(pair_keys(a, b, enc.n))
        if enc.distinct_roles:
            ok &= (enc.role[a] >= 0) & (enc.role[b] >= 0) & (enc.role[a] != enc.role[b])
        if enc.owner is not None:  # two slots of one person (capacity.py) never meet
            ok &= enc.owner[a] != enc.owner[b]
        if enc.avoid_managers and enc.manager is not None:
            # Manager codes are person numbers: the row, or the person of a slot row.
            pa, pb = (a, b) if enc.owner is None else (enc.owner[a], enc.owner[b])
            ok &= (enc.manager[a] != pb) & (enc.manager[b] != pa)
        return ok

    def org_distance(self, a: np.ndarray, b: np.ndarray, cross: np.ndarray) -> np.ndarray:
        """The org_distance component: where both are in a known reporting tree, the hops
        between them through their lowest common manager over ORG_FULL_HOPS, capped at 1 (1
        in different trees); elsewhere `cross` (different teams). Just `cross`, untouched,
        when nobody lists managers."""
        enc = self.enc
        if enc.org_path is None or len(a) == 0:
            return cross
        depth_a, depth_b = enc.org_depth[a], enc.org_depth[b]
        known = np.flatnonzero((depth_a > 0) & (depth_b > 0))
        if not len(known):
            return cross
        out = cross.astype(np.float64)
        path_a, path_b = enc.org_path[a[known]], enc.org_path[b[known]]
        # Paths run from the top down and pads never match: the common prefix is the shared
        # managers (the lowest common manager is its last), empty in different trees.
        common = np.logical_and.accumulate(path_a == path_b, axis=1).sum(axis=1)
        hops = depth_a[known] + depth_b[known] - 2 * common
        out[known] = np.where(common > 0, np.minimum(hops / ORG_FULL_HOPS, 1.0), 1.0)
        return out

    def components(self, a: ArrayLike, b: ArrayLike) -> np.ndarray:
        """Unweighted components, shape (pairs, 8), columns in COMPONENTS order."""
        enc = self.enc
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        comp = np.zeros((len(a), len(COMPONENTS)), dtype=np.float64)
        if len(a) == 0:
            return comp
        cross = enc.team[a] != enc.team[b]
        rare = self.shared("interests", enc.interests, enc.interest_rarity, a, b)
        comp[:, 0] = 1.0 - np.exp(-rare)
        comp[:, 1] = self.share_any("projects", enc.projects, a, b) & cross
        comp[:, 2] = self.org_distance(a, b, cross)
        in_person = (
            (enc.location[a] >= 0)
            & (enc.location[a] == enc.location[b])
            & enc.can_in_person[a]
            & enc.can_in_person[b]
        )
        comp[:, 3] = in_person
        video = ~in_person & enc.can_video[a] & enc.can_video[b]
        if video.any():
            hours = overlap_hours(enc.hours_words, a[video], b[video])
            comp[video, 4] = np.minimum(hours / FULL_OVERLAP_HOURS, 1.0)
        weeks = enc.met.lookup(pair_keys(a, b, enc.n)).astype(np.float64)
        comp[:, 5] = np.where(weeks < 0, 1.0, weeks / (weeks + NOVELTY_HALF_WEEKS))
        wait = np.minimum(enc.waiting[a], FAIRNESS_FULL_WEEKS) + np.minimum(
            enc.waiting[b], FAIRNESS_FULL_WEEKS
        )
        comp[:, 6] = wait / (2 * FAIRNESS_FULL_WEEKS)
        comp[:, 7] = self.help.component(a, b)
        return comp

    def weighted(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Unrounded weighted scores: the components summed in COMPONENTS order.

        The same arithmetic as `components`, without the (pairs, 8) matrix and skipping
        components with weight 0; every score (candidates, groups, --edges) comes from here.
        """
        enc = self.enc
        w = self.weights
        total = np.zeros(len(a), dtype=np.float64)
        cross = enc.team[a] != enc.team[b]
        if w[0]:
            rare = self.shared("interests", enc.interests, enc.interest_rarity, a, b)
            total += w[0] * (1.0 - np.exp(-rare))
        if w[1]:
            total += w[1] * (self.share_any("projects", enc.projects, a, b) & cross)
        if w[2]:
            total += w[2] * self.org_distance(a, b, cross)
        in_person = (
            (enc.location[a] >= 0)
            & (enc.location[a] == enc.location[b])
            & enc.can_in_person[a]
            & enc.can_in_person[b]
        )
        if w[3]:
            total += w[3] * in_person
        if w[4]:
            # Pairs where either has no availability overlap 0 hours: adding 0.0 changes nothing.
            has_hours = self._has_hours
            video = np.flatnonzero(
                ~in_person & enc.can_video[a] & enc.can_video[b] & has_hours[a] & has_hours[b]
            )
            if len(video):
                hours = overlap_hours(enc.hours_words, a[video], b[video])
                total[video] += w[4] * np.minimum(hours / FULL_OVERLAP_HOURS, 1.0)
        if w[5]:
            weeks = enc.met.lookup(pair_keys(a, b, enc.n)).astype(np.float64)
            total += w[5] * np.where(weeks < 0, 1.0, weeks / (weeks + NOVELTY_HALF_WEEKS))
        if w[6]:
            wait = np.minimum(enc.waiting[a], FAIRNESS_FULL_WEEKS) + np.minimum(
                enc.waiting[b], FAIRNESS_FULL_WEEKS
            )
            total += w[6] * (wait / (2 * FAIRNESS_FULL_WEEKS))
        if w[7]:
            total += w[7] * self.help.component(a, b)
        return total

    def scores(self, a: ArrayLike, b: ArrayLike) -> np.ndarray:
        """Weighted pair scores, rounded to SCORE_DECIMALS, computed in bounded blocks."""
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        out = np.empty(len(a), dtype=np.float64)
        for start in range(0, len(a), CHUNK_PAIRS):
            end = start + CHUNK_PAIRS
            out[start:end] = self.weighted(a[start:end], b[start:end])
        return np.round(out, SCORE_DECIMALS)
