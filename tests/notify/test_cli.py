"""`flask outbox status` and `flask outbox send` through the real command line runner."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.notify.support import outbox_rows, queue_round, smtp_server

ROOT = Path(__file__).resolve().parents[2]


def test_status_then_send_then_status(app, make_user, make_round):
    ada = make_user(email="ada@example.com")
    bob = make_user(email="bob@example.com", name="Bob")
    round_id, _ = make_round([[ada, bob]])
    queue_round(app, round_id)
    runner = app.test_cli_runner()

    before = runner.invoke(args=["outbox", "status"])
    assert before.exit_code == 0, before.output
    assert "pending: 2 (0 after a failed attempt)" in before.output
    assert "sent: 0" in before.output and "oldest pending: queued" in before.output

    sent = runner.invoke(args=["outbox", "send"])
    assert sent.exit_code == 0, sent.output
    assert sent.output.strip() == "outbox: sent 2, retried later 0, gave up 0, skipped 0"
    assert len(list(Path(app.instance_path).glob("outbox/*.eml"))) == 2

    after = runner.invoke(args=["outbox", "status"])
    assert "pending: 0" in after.output and "sent: 2" in after.output
    assert "failed (gave up): 0" in after.output and "oldest pending: none" in after.output


def test_send_rejects_a_bad_interval(app):
    result = app.test_cli_runner().invoke(args=["outbox", "send", "--loop", "--interval", "0"])
    assert result.exit_code == 2
    assert "--interval" in result.output


@pytest.mark.real_clock("a second sender runs as a subprocess")
def test_send_with_two_processes_delivers_each_message_once(app, make_user, make_round):
    ids = [make_user(email=f"p{i}@example.com", name=f"P {i}") for i in range(12)]
    round_id, _ = make_round([ids[i : i + 2] for i in range(0, len(ids), 2)])
    assert queue_round(app, round_id) == 12
    with smtp_server() as smtp:
        # The real command line, as an operator runs it: the extra sender is a subprocess
        # that finds the database and mail server through the same MATCHER_* environment.
        env = {
            **os.environ,
            "MATCHER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "MATCHER_SECRET_KEY": app.config["SECRET_KEY"],
            "MATCHER_MAIL_SERVER": "127.0.0.1",
            "MATCHER_MAIL_PORT": str(smtp.port),
            "MATCHER_OUTBOX_BATCH_SIZE": "2",  # small claims, so both senders get some
        }
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "send", "--processes", "2"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        ids_received = [m["Message-ID"] for m in smtp.messages]
    assert result.returncode == 0, result.stdout + result.stderr
    reports = re.findall(r"outbox: sent (\d+)", result.stdout)
    assert len(reports) == 2 and sum(int(n) for n in reports) == 12
    assert len(ids_received) == 12 and len(set(ids_received)) == 12
    assert all(r["sent_at"] is not None for r in outbox_rows(app))


def test_more_processes_need_an_app_to_start_them_with(app):
    # The test runner has no --app import path to give the extra senders.
    result = app.test_cli_runner().invoke(args=["outbox", "send", "--processes", "2"])
    assert result.exit_code == 2
    assert "--app" in result.output
