"""The directed "help" component: topics one person wants help with and the other offers.

For a pair (a, b) the topics that count are (a.wants & b.offers) | (b.wants & a.offers): what
both want, or both offer, never counts. Each topic weighs its rarity (fewer people wanting or
offering it, higher), and the sum is squashed into [0, 1] like the interests component.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .encode import Encoded, TokenIndex


class TopicLookup:
    """Whether person p holds topic t in one TokenIndex (sorted keys, binary search)."""

    def __init__(self, index: TokenIndex, n: int) -> None:
        self.index = index
        self.vocab = max(len(index.names), 1)
        owners = np.repeat(np.arange(n, dtype=np.int64), np.diff(index.indptr))
        # owner * vocab + token is sorted because each row is a sorted set.
        self.keys = owners * self.vocab + index.tokens.astype(np.int64)

    def holds(self, people: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """For each (people[i], tokens[i]), whether that person holds that topic."""
        if len(self.keys) == 0:
            return np.zeros(len(people), dtype=bool)
        query = people * self.vocab + tokens
        pos = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        return self.keys[pos] == query


class HelpScorer:
    """Scores the help component of pairs of one encoded problem."""

    def __init__(self, enc: Encoded) -> None:
        self.enc = enc
        self.active = len(enc.wants.tokens) > 0 and len(enc.offers.tokens) > 0
        if self.active:
            self.wants = TopicLookup(enc.wants, enc.n)
            self.offers = TopicLookup(enc.offers, enc.n)

    def _directed(
        self, x: np.ndarray, y: np.ndarray, skip_both_ways: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """(pair index, topic) where x[i] wants the topic and y[i] offers it.

        With skip_both_ways, topics that also go the other way (y wants, x offers) are left
        out, so a topic counts once per pair.
        """
        wants = self.enc.wants
        counts = np.diff(wants.indptr)[x]
        total = int(counts.sum())
        if total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        pair = np.repeat(np.arange(len(x), dtype=np.int64), counts)
        first = np.cumsum(counts) - counts
        pos = np.repeat(wants.indptr[x] - first, counts) + np.arange(total, dtype=np.int64)
        tokens = wants.tokens[pos].astype(np.int64)
        hit = self.offers.holds(y[pair], tokens)
        if skip_both_ways:
            hit &= ~(self.wants.holds(y[pair], tokens) & self.offers.holds(x[pair], tokens))
        return pair[hit], tokens[hit]

    def component(self, a: ArrayLike, b: ArrayLike) -> np.ndarray:
        """The help component of each pair, in [0, 1]; 0 everywhere without wants/offers."""
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        out = np.zeros(len(a), dtype=np.float64)
        if not self.active or len(a) == 0:
            return out
        rarity = self.enc.help_rarity
        for x, y, skip in ((a, b, False), (b, a, True)):
            pair, tokens = self._directed(x, y, skip)
            out += np.bincount(pair, weights=rarity[tokens], minlength=len(a))
        return 1.0 - np.exp(-out)


def help_candidate_keys(enc: Encoded, window: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Pair keys joining each (wanter, topic) to up to `window` offerers of that topic.

    The offerers of a topic are shuffled once; each wanter takes a run of `window` of them
    from a random start, so a topic offered by <= window people gives every wanter all of
    them. Empty (and the rng untouched) when nobody wants or offers anything, so problems
    without topics keep their candidates and their random stream.
    """
    wants, offers, n = enc.wants, enc.offers, enc.n
    if window <= 0 or len(wants.tokens) == 0 or len(offers.tokens) == 0:
        return []
    offer_owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(offers.indptr))
    offer_token = offers.tokens.astype(np.int64)
    order = np.lexsort((rng.random(len(offer_owner)), offer_token))
    offer_owner, offer_token = offer_owner[order], offer_token[order]
    vocab = len(offers.names)
    start = np.searchsorted(offer_token, np.arange(vocab), side="left")
    count = np.bincount(offer_token, minlength=vocab)

    want_owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(wants.indptr))
    want_token = wants.tokens.astype(np.int64)
    have = count[want_token] > 0
    want_owner, want_token = want_owner[have], want_token[have]
    if len(want_owner) == 0:
        return []
    c = count[want_token]
    begin = rng.integers(0, c, dtype=np.int64)
    keys = []
    for j in range(window):
        other = offer_owner[start[want_token] + (begin + j) % c]
        keep = other != want_owner
        x, y = want_owner[keep], other[keep]
        keys.append(np.minimum(x, y) * n + np.maximum(x, y))
    return keys


def role_candidate_keys(enc: Encoded, partners: int, rng: np.random.Generator) -> list[np.ndarray]:
    """With distinct roles, `partners` random partners per person drawn from the other roles.

    The plain random partners mostly share a role (and are then not allowed); these make
    sure everybody has allowed options. Empty, rng untouched, without distinct roles.
    """
    if not enc.distinct_roles or partners <= 0:
        return []
    people = np.flatnonzero(enc.role >= 0)
    if len(people) < 2:
        return []
    roles = enc.role[people].astype(np.int64)
    order = np.lexsort((people, roles))
    people, roles = people[order], roles[order]
    size = np.bincount(roles)
    block_start = np.cumsum(size) - size
    others = len(people) - size[roles]  # people outside my role
    me = np.repeat(np.arange(len(people), dtype=np.int64), partners)
    room = np.repeat(others, partners)
    keep = room > 0
    me, room = me[keep], room[keep]
    if len(me) == 0:
        return []
    pick = rng.integers(0, room, dtype=np.int64)
    # Skip over my own role's block in the role-sorted list.
    mine = roles[me]
    pick += (pick >= block_start[mine]) * size[mine]
    x, y = people[me], people[pick]
    return [np.minimum(x, y) * enc.n + np.maximum(x, y)]
