"""Round axis maxima and equal-width bin counts, shared by charts and the stored round summaries."""

from __future__ import annotations

import math
from collections.abc import Iterable

BINS = 10


def nice_ceiling(value: float) -> float:
    """A round axis maximum at or above value (1, 2, 5 times a power of ten)."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def bin_counts(values: Iterable[float], upper: float, bins: int = BINS) -> list[int]:
    """How many finite values fall in each of `bins` equal bins from 0 to upper."""
    # Values out of range count in the first or last bin.
    upper = upper if upper > 0 else 1.0
    counts = [0] * bins
    for v in values:
        if math.isfinite(v):
            counts[min(max(int(v / upper * bins), 0), bins - 1)] += 1
    return counts


def upper_of(values: Iterable[float]) -> float:
    """The axis maximum of these values' histogram."""
    return nice_ceiling(max((v for v in values if math.isfinite(v)), default=0.0))
