"""SIGKILL a `rounds run --publish` part-way: the database never holds half a round."""

from __future__ import annotations

import signal
import time

import pytest

from matcher.models import Membership, OutboxMessage
from tests.faults.support import assert_no_half_round, count, flask_process, load_organisation

pytestmark = pytest.mark.real_clock("kills a flask process running the round")

WEEK = "2026-W49"
PEOPLE = 1500
# Kill times as fractions of a full run (measured first with --dry-run, which computes the same
# round without storing it): interpreter start-up, reading and solving, and storing. Kills that
# would land after the run finished are not made.
KILL_AT = (0.1, 0.4, 0.7, 0.9)


def test_killed_round_run_leaves_no_half_round_and_a_rerun_completes(app):
    members = load_organisation(app, PEOPLE)
    started = time.monotonic()
    dry = flask_process(app, "rounds", "run", "--week", WEEK, "--dry-run")
    out, err = dry.communicate(timeout=120)
    assert dry.returncode == 0, err
    # Storing adds to a dry run's time: the real run takes at least this long.
    full_run = time.monotonic() - started
    assert assert_no_half_round(app) == 0
    killed = 0
    for delay in (fraction * full_run for fraction in KILL_AT):
        run = flask_process(app, "rounds", "run", "--week", WEEK, "--publish")
        time.sleep(delay)
        if run.poll() is not None:
            # Finished before the kill: it must have stored a whole round; stop killing.
            out, err = run.communicate()
            assert run.returncode == 0, err
            assert assert_no_half_round(app) == 1
            break
        run.send_signal(signal.SIGKILL)
        run.communicate(timeout=30)
        assert run.returncode == -signal.SIGKILL
        killed += 1
        assert assert_no_half_round(app) in (0, 1)
    # At least the start-up and the solving phases were interrupted.
    assert killed >= 2

    rerun = flask_process(app, "rounds", "run", "--week", WEEK, "--publish")
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert WEEK in out
    assert assert_no_half_round(app) == 1
    assert count(app, Membership) == len(members)
    assert count(app, OutboxMessage, OutboxMessage.kind == "pairing") == len(members)
