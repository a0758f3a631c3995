"""Meeting-time suggestions across time zones, DST and partial overlaps."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from matcher.rounds.meeting_time import Availability, first_common_slot
from matcher.weeks import WeekError, parse_week, week_label, weeks_between

MONDAY = date(2026, 11, 30)  # 2026-W49, no DST change that week


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_overlap_between_berlin_and_new_york():
    berlin = Availability("Europe/Berlin", ((0, 14 * 60, 18 * 60),))  # 13:00-17:00 UTC
    new_york = Availability("America/New_York", ((0, 9 * 60, 12 * 60),))  # 14:00-17:00 UTC
    assert first_common_slot([berlin, new_york], MONDAY) == at(2026, 11, 30, 14, 0)


def test_no_overlap_says_none():
    tokyo = Availability("Asia/Tokyo", ((0, 9 * 60, 10 * 60),))
    lisbon = Availability("Europe/Lisbon", ((0, 9 * 60, 10 * 60),))
    assert first_common_slot([tokyo, lisbon], MONDAY) is None
    assert first_common_slot([tokyo, Availability("UTC", ())], MONDAY) is None


def test_overlap_shorter_than_half_an_hour_is_not_enough():
    a = Availability("UTC", ((2, 600, 620),))
    b = Availability("UTC", ((2, 590, 700),))
    assert first_common_slot([a, b], MONDAY) is None


def test_not_before_skips_past_slots_and_rounds_up():
    a = Availability("UTC", ((0, 600, 720), (1, 600, 720)))
    b = Availability("UTC", ((0, 540, 700), (1, 600, 630)))
    assert first_common_slot([a, b], MONDAY) == at(2026, 11, 30, 10, 0)
    # Common on Monday: 10:00-11:40. From 10:50 the next half hour, 11:00-11:30, still fits.
    assert first_common_slot([a, b], MONDAY, not_before=at(2026, 11, 30, 10, 50)) == at(
        2026, 11, 30, 11, 0
    )
    # From 11:15, 11:30-12:00 runs past 11:40: Tuesday is next.
    assert first_common_slot([a, b], MONDAY, not_before=at(2026, 11, 30, 11, 15)) == at(
        2026, 12, 1, 10, 0
    )
    assert first_common_slot([a, b], MONDAY, not_before=at(2026, 11, 30, 10, 5)) == at(
        2026, 11, 30, 10, 30
    )


def test_trio_needs_all_three():
    a = Availability("UTC", ((3, 600, 900),))
    b = Availability("UTC", ((3, 660, 900),))
    c = Availability("UTC", ((3, 780, 840),))
    assert first_common_slot([a, b, c], MONDAY) == at(2026, 12, 3, 13, 0)


def test_local_hours_hold_across_a_dst_change():
    # 2026-03-29: Europe switches to summer time on Sunday; Monday 30 March is CEST (UTC+2).
    berlin = Availability("Europe/Berlin", ((0, 10 * 60, 11 * 60),))
    assert first_common_slot([berlin], date(2026, 3, 30)) == at(2026, 3, 30, 8, 0)
    assert first_common_slot([berlin], date(2026, 3, 23)) == at(2026, 3, 23, 9, 0)


def test_weeks():
    assert parse_week("2026-W49") == MONDAY
    assert week_label(date(2026, 12, 6)) == "2026-W49"
    assert week_label(date(2027, 1, 1)) == "2026-W53"
    assert weeks_between(date(2026, 11, 16), date(2026, 12, 2)) == 2
    for bad in ["2026-49", "2026-W54", "2025-W53", "W49", "2026-W00", "🙂"]:
        with pytest.raises(WeekError):
            parse_week(bad)
