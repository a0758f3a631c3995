"""The other channels: .eml files when no mail server is set, and the chat webhook."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

from matcher.extensions import db
from matcher.notify import queue_message
from tests.notify.support import (
    body_text,
    calendar_part,
    outbox_rows,
    queue_round,
    send,
    webhook_server,
)


def test_without_mail_server_emails_are_written_as_eml_files(app, make_user, make_round):
    assert app.config["MAIL_SERVER"] is None
    ada = make_user(email="ada@example.com")
    bob = make_user(email="bob@example.com", name="Bob")
    round_id, _ = make_round([[ada, bob]])
    queue_round(app, round_id)
    report = send(app)
    assert report.sent == 2
    files = sorted(Path(app.instance_path).glob("outbox/*.eml"))
    rows = outbox_rows(app)
    assert [f.name for f in files] == sorted(f"outbox-{r['id']}@localhost.eml" for r in rows)
    parsed = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    assert {m["To"].addresses[0].addr_spec for m in parsed} == {
        "ada@example.com",
        "bob@example.com",
    }
    assert all(calendar_part(m) is not None for m in parsed)
    assert "Bob" in body_text(next(m for m in parsed if "ada@" in str(m["To"])), "plain")


def test_round_is_announced_in_chat(app, make_user, make_round):
    ada = make_user(email="ada@example.com")
    bob = make_user(email="bob@example.com", name="<!channel> Bob & co")
    round_id, _ = make_round([[ada, bob]])
    with webhook_server() as hook:
        queue_round(app, round_id, CHAT_WEBHOOK_URL=hook.url)
        with app.app_context():
            queue_message(db.session, "other", "k", {})  # an unknown kind is dropped
            db.session.commit()
        # The pairing emails go to files; the chat post to the webhook.
        report = send(app, CHAT_WEBHOOK_URL=hook.url)
        assert (report.sent, report.gave_up) == (3, 1)
        (body,) = hook.bodies
    text = body["text"]
    assert "the week of 30 November are out" in text and "1 groups" in text
    assert "2026-W49" not in text  # people read weeks by their Monday
    assert "Ada Lovelace & &lt;!channel&gt; Bob &amp; co" in text
    assert "<!channel>" not in text
    assert "http://127.0.0.1:5000/dashboard" in text


def test_webhook_error_means_retry_later(t0, app, make_user, make_round):
    round_id, _ = make_round([])
    with webhook_server() as hook:
        queue_round(app, round_id, CHAT_WEBHOOK_URL=hook.url)
        hook.status = 500
        failed = send(app, now=t0, CHAT_WEBHOOK_URL=hook.url)
        assert (failed.sent, failed.retried) == (0, 1)
        (row,) = outbox_rows(app)
        assert row["last_error"] == "chat webhook answered HTTP 500"
        assert "secret-token" not in row["last_error"]
        assert row["attempts"] == 1 and row["next_attempt_at"] == t0 + timedelta(minutes=1)
        hook.status = 200
        assert send(app, now=t0 + timedelta(minutes=1), CHAT_WEBHOOK_URL=hook.url).sent == 1
        assert len(hook.bodies) == 1
        assert "0 groups" in hook.bodies[0]["text"]


def test_unreachable_webhook_is_retried(t0, app, make_round):
    round_id, _ = make_round([])
    queue_round(app, round_id, CHAT_WEBHOOK_URL="http://127.0.0.1:9/hook")
    report = send(app, now=t0, CHAT_WEBHOOK_URL="http://127.0.0.1:9/hook")
    assert report.retried == 1
    (row,) = outbox_rows(app)
    assert row["last_error"].startswith("chat webhook unreachable")
    assert row["sent_at"] is None and row["gave_up_at"] is None
