"""The suite's clock guard: `--clock-offset-days` really moves this process's clock, only it."""

from __future__ import annotations

import subprocess
import time

import pytest


def test_clock_offset_moves_this_process_and_not_its_children(request: pytest.FixtureRequest):
    days = request.config.getoption("--clock-offset-days")
    # A child process keeps the real clock: that is why real_clock tests are left out.
    real = int(subprocess.run(["date", "+%s"], capture_output=True, text=True).stdout)
    ahead = time.time() - real
    assert abs(ahead - days * 86_400) < 120, f"clock is {ahead / 86_400:.2f} days ahead"
