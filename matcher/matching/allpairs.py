"""Every allowed pair with its score, in row blocks: the ground truth `--edges-all` writes."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .scoring import Scorer

# Pairs per block: a few hundred MB of temporaries at most.
BLOCK_PAIRS = 1 << 21


def row_block(n: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) with lo <= i < hi and i < j < n, in order."""
    rows = np.arange(lo, hi, dtype=np.int64)
    counts = n - 1 - rows
    a = np.repeat(rows, counts)
    first = np.cumsum(counts) - counts
    b = np.arange(len(a), dtype=np.int64) - np.repeat(first - rows - 1, counts)
    return a, b


def allowed_pair_blocks(scorer: Scorer) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(a, b, score) blocks of every allowed pair a < b, O(n^2) work in bounded memory."""
    n = scorer.enc.n
    rows = max(1, BLOCK_PAIRS // max(n, 1))
    for lo in range(0, n, rows):
        a, b = row_block(n, lo, min(n, lo + rows))
        keep = scorer.allowed(a, b)
        a, b = a[keep], b[keep]
        yield a, b, scorer.scores(a, b)
