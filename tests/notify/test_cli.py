"""`flask outbox status` and `flask outbox send` through the real command line runner."""

from __future__ import annotations

from pathlib import Path

from tests.notify.conftest import queue_round


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
