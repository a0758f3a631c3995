"""The scored candidate graph: edge arrays sorted by pair key, with lookups and adjacency."""

from __future__ import annotations

import numpy as np

from .encode import pair_keys

INDEX_DTYPE = np.int32


class CandidateGraph:
    """Undirected scored edges between n people; edge i joins a[i] < b[i] with score[i]."""

    def __init__(self, n: int, a: np.ndarray, b: np.ndarray, score: np.ndarray) -> None:
        if n >= 2**31:
            raise ValueError("more than 2^31 people")
        self.n = n
        self._set(np.asarray(a), np.asarray(b), np.asarray(score, np.float64))

    def _set(self, a: np.ndarray, b: np.ndarray, score: np.ndarray) -> None:
        keys = pair_keys(a, b, self.n)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        del keys
        # int32 people halve the largest arrays (tens of millions of edges at 1M people).
        self.a = (self.keys // self.n).astype(INDEX_DTYPE)
        self.b = (self.keys % self.n).astype(INDEX_DTYPE)
        self.score = score[order]
        self._adjacency: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.a)

    def add(self, a: np.ndarray, b: np.ndarray, score: np.ndarray) -> None:
        """Add edges that are not present yet."""
        keys = pair_keys(a, b, self.n)
        fresh = ~self.has(keys)
        if not fresh.any():
            return
        self._set(
            np.concatenate([self.a, np.asarray(a)[fresh].astype(INDEX_DTYPE)]),
            np.concatenate([self.b, np.asarray(b)[fresh].astype(INDEX_DTYPE)]),
            np.concatenate([self.score, np.asarray(score, np.float64)[fresh]]),
        )

    def has(self, keys: np.ndarray) -> np.ndarray:
        """Whether each pair key is an edge."""
        if len(self.keys) == 0:
            return np.zeros(len(keys), dtype=bool)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return self.keys[pos] == keys

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Score of each pair (x[i], y[i]), NaN where it is not an edge."""
        keys = pair_keys(x, y, self.n)
        if len(self.keys) == 0:
            return np.full(len(keys), np.nan)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, self.score[pos], np.nan)

    def adjacency(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR (indptr, neighbour) over both directions of every edge."""
        if self._adjacency is None:
            src = np.concatenate([self.a, self.b])
            order = np.argsort(src, kind="stable")
            indptr = np.zeros(self.n + 1, dtype=np.int64)
            np.cumsum(np.bincount(src, minlength=self.n), out=indptr[1:])
            del src
            dst = np.concatenate([self.b, self.a])[order]
            self._adjacency = (indptr, dst)
        return self._adjacency

    def degree(self) -> np.ndarray:
        """Number of candidate partners of each person."""
        return np.bincount(self.a, minlength=self.n) + np.bincount(self.b, minlength=self.n)
