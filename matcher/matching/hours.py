"""Availability windows as bitmasks of UTC half-hours in one reference week."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from .errors import ProblemError
from .model import Window

SLOT_MINUTES = 30
SLOTS_PER_WEEK = 7 * 24 * 60 // SLOT_MINUTES  # 336
WORDS_PER_MASK = (SLOTS_PER_WEEK + 63) // 64  # 6 uint64 words
# A fixed week keeps daylight-saving offsets (and so the output) the same every run.
REFERENCE_MONDAY = datetime(2024, 1, 15)
_REFERENCE_MONDAY_UTC = REFERENCE_MONDAY.replace(tzinfo=UTC)


@lru_cache(maxsize=1024)
def zone(name: str | None) -> ZoneInfo | None:
    """The ZoneInfo for an IANA name (None means UTC); raises ProblemError when unknown."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ProblemError(f"unknown time zone {name!r}") from exc


def _utc_minute(tz: ZoneInfo | None, weekday: int, minute: int) -> int:
    local = REFERENCE_MONDAY + timedelta(days=weekday, minutes=minute)
    if tz is None:
        return weekday * 1440 + minute
    utc = local.replace(tzinfo=tz).astimezone(UTC)
    return int((utc - _REFERENCE_MONDAY_UTC).total_seconds() // 60)


@lru_cache(maxsize=65536)
def availability_mask(timezone: str | None, windows: tuple[Window, ...]) -> int:
    """Bit k is set when the person is free for the whole UTC half-hour k of the week."""
    tz = zone(timezone)
    mask = 0
    for window in windows:
        start = _utc_minute(tz, window.weekday, window.start_minute)
        end = start + (window.end_minute - window.start_minute)
        first = -(-start // SLOT_MINUTES)  # only whole half-hours count
        last = end // SLOT_MINUTES
        for slot in range(first, last):
            mask |= 1 << (slot % SLOTS_PER_WEEK)
    return mask


def masks_to_words(masks: Sequence[int]) -> np.ndarray:
    """Pack Python-int bitmasks into an (n, WORDS_PER_MASK) uint64 array."""
    words = np.zeros((len(masks), WORDS_PER_MASK), dtype=np.uint64)
    low = (1 << 64) - 1
    for row, mask in enumerate(masks):
        if mask:
            words[row] = [(mask >> (64 * k)) & low for k in range(WORDS_PER_MASK)]
    return words


def overlap_hours(words: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hours per week that both people of each pair (a[i], b[i]) are free."""
    shared = np.bitwise_and(words[a], words[b])
    return np.bitwise_count(shared).sum(axis=1, dtype=np.int64) * (SLOT_MINUTES / 60)


def free_hours(masks: Iterable[int]) -> list[float]:
    """Hours per week in each mask (for reasons and tests)."""
    return [m.bit_count() * SLOT_MINUTES / 60 for m in masks]
