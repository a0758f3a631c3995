"""The sender against real servers: retries, back-off, giving up, and never sending twice."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import event, update

from matcher.extensions import db
from matcher.models import OutboxMessage
from matcher.notify import queue_message, send_pending
from matcher.notify.sender import backoff
from tests.notify.support import outbox_rows, queue_round, send, smtp_server


def pair_round(make_user, make_round) -> int:
    ada = make_user(email="ada@example.com")
    bob = make_user(email="bob@example.com", name="Bob")
    round_id, _ = make_round([[ada, bob]])
    return round_id


def many_pairs(make_user, make_round, pairs: int) -> int:
    ids = [make_user(email=f"p{i}@example.com", name=f"P {i}") for i in range(2 * pairs)]
    round_id, _ = make_round([ids[i : i + 2] for i in range(0, len(ids), 2)])
    return round_id


def message_ids(smtp) -> list[str]:
    return [m["Message-ID"] for m in smtp.messages]


def test_backoff_doubles_and_is_capped():
    assert [backoff(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(30, 60) == timedelta(hours=1)


def test_refused_then_recovered_delivers_each_message_once(t0, app, make_user, make_round):
    queue_round(app, pair_round(make_user, make_round))
    with smtp_server() as smtp:
        smtp.handler.refuse_next = 2
        first = send(app, now=t0, **smtp.config)
        assert (first.sent, first.retried) == (0, 2)
        rows = outbox_rows(app)
        assert [r["attempts"] for r in rows] == [1, 1]
        assert all("451" in r["last_error"] for r in rows)
        assert [r["next_attempt_at"] for r in rows] == [t0 + timedelta(minutes=1)] * 2
        assert all(r["claim_token"] is None and r["sent_at"] is None for r in rows)

        too_early = send(app, now=t0 + timedelta(seconds=59), **smtp.config)
        assert too_early.sent == 0 and smtp.messages == []

        later = send(app, now=t0 + timedelta(minutes=1), **smtp.config)
        assert later.sent == 2
        again = send(app, now=t0 + timedelta(hours=5), **smtp.config)
        assert again.sent == 0
        ids = message_ids(smtp)
    assert len(ids) == 2 and len(set(ids)) == 2
    assert smtp.handler.refused == 2
    assert all(r["sent_at"] == t0 + timedelta(minutes=1) for r in outbox_rows(app))


def test_server_down_delays_without_losing_anything(t0, app, make_user, make_round):
    queue_round(app, pair_round(make_user, make_round))
    with smtp_server(started=False) as smtp:
        down = send(app, now=t0, OUTBOX_MAX_ATTEMPTS=2, **smtp.config)
        # The first message found the server down; the second was not even tried.
        assert (down.sent, down.retried, down.skipped) == (0, 1, 1)
        rows = outbox_rows(app)
        assert [r["attempts"] for r in rows] == [1, 0]
        assert "unreachable" in rows[0]["last_error"]
        assert rows[1]["last_error"].startswith("not tried")
        # Down for longer than OUTBOX_MAX_ATTEMPTS tries: still waiting, never given up.
        for minutes in (10, 20, 30):
            send(app, now=t0 + timedelta(minutes=minutes), OUTBOX_MAX_ATTEMPTS=2, **smtp.config)
        assert all(r["gave_up_at"] is None for r in outbox_rows(app))
        assert max(r["attempts"] for r in outbox_rows(app)) >= 2

        smtp.start()
        up = send(app, now=t0 + timedelta(hours=3), **smtp.config)
        assert up.sent == 2
        assert send(app, now=t0 + timedelta(hours=4), **smtp.config).sent == 0
        ids = message_ids(smtp)
    assert len(ids) == 2 and len(set(ids)) == 2


def test_gives_up_after_max_attempts_with_exponential_backoff(t0, app, make_user, make_round):
    ada = make_user(email="ada@example.com")
    bob = make_user(email="bob@example.com", name="Bob")
    round_id, _ = make_round([[ada, bob]])
    queue_round(app, round_id)
    with app.app_context():
        # Only Ada's message, to follow one row.
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.user_id == bob).values(sent_at=t0)
        )
        db.session.commit()
    with smtp_server() as smtp:
        smtp.handler.refuse_next = 100
        now, delays = t0, []
        for _ in range(3):
            report = send(app, now=now, OUTBOX_MAX_ATTEMPTS=3, **smtp.config)
            (row,) = [r for r in outbox_rows(app) if r["user_id"] == ada]
            if row["gave_up_at"] is None:
                delays.append(row["next_attempt_at"] - now)
                now = row["next_attempt_at"]
        assert report.gave_up == 1
        assert send(app, now=now + timedelta(days=1), **smtp.config).sent == 0
        assert smtp.messages == []
    assert delays == [timedelta(minutes=1), timedelta(minutes=2)]
    assert row["attempts"] == 3 and row["gave_up_at"] == now and "451" in row["last_error"]


def test_claimed_messages_are_left_alone_until_the_lease_ends(t0, app, make_user, make_round):
    queue_round(app, pair_round(make_user, make_round))
    with app.app_context():
        # Another sender holds a live claim on everything.
        db.session.execute(
            update(OutboxMessage).values(
                claim_token="someone-else", claimed_until=t0 + timedelta(minutes=5)
            )
        )
        db.session.commit()
    with smtp_server() as smtp:
        assert send(app, now=t0, **smtp.config).sent == 0
        assert smtp.messages == []
        # That sender died: once its lease is over the messages are ours.
        assert send(app, now=t0 + timedelta(minutes=6), **smtp.config).sent == 2
        assert len(smtp.messages) == 2


def test_a_claim_taken_between_select_and_update_is_not_stolen(app, make_user, make_round):
    queue_round(app, pair_round(make_user, make_round))
    taken: list[object] = []

    with smtp_server() as smtp, app.app_context():
        config = {**app.config, **smtp.config}

        def other_sender_first(conn, cursor, statement, *args) -> None:
            # Deterministic race: right before our claiming UPDATE runs, another sender
            # (own thread, own connection) claims and sends everything.
            if statement.lstrip().upper().startswith("UPDATE OUTBOX SET CLAIM_TOKEN") and not taken:
                taken.append(True)

                def run() -> None:
                    with app.app_context():
                        taken.append(send_pending(db.session, config))

                thread = threading.Thread(target=run)
                thread.start()
                thread.join(timeout=30)

        event.listen(db.engine, "before_cursor_execute", other_sender_first)
        try:
            ours = send_pending(db.session, config)
        finally:
            event.remove(db.engine, "before_cursor_execute", other_sender_first)
        ids = message_ids(smtp)
    assert taken[1].sent == 2
    assert ours.sent == 0
    assert len(ids) == 2 and len(set(ids)) == 2


def test_concurrent_senders_never_send_the_same_message(app, make_user, make_round):
    round_id = many_pairs(make_user, make_round, 12)
    assert queue_round(app, round_id) == 24
    config = {**app.config, "OUTBOX_BATCH_SIZE": 2}
    reports, errors = [], []
    start = threading.Barrier(3)

    def run() -> None:
        try:
            with app.app_context():
                start.wait()
                reports.append(send_pending(db.session, config))
        except Exception as error:  # surfaced below
            errors.append(error)

    with smtp_server() as smtp:
        config.update(smtp.config)
        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        ids = message_ids(smtp)
    assert errors == []
    assert sum(r.sent for r in reports) == 24
    assert len(ids) == 24 and len(set(ids)) == 24
    assert all(r["sent_at"] is not None for r in outbox_rows(app))


def test_limit_sends_at_most_that_many(app, make_user, make_round):
    queue_round(app, many_pairs(make_user, make_round, 3))
    with smtp_server() as smtp, app.app_context():
        report = send_pending(db.session, {**app.config, **smtp.config}, limit=4)
        assert report.sent == 4 and len(smtp.messages) == 4


def test_messages_that_can_never_be_sent_are_dropped_not_retried(t0, app, make_user):
    ada = make_user(email="ada@example.com")
    with app.app_context():
        queue_message(db.session, "pairing", "no-user", {"group_id": 1})
        queue_message(db.session, "pairing", "no-group", {"user_id": ada, "group_id": 999})
        queue_message(db.session, "password_reset", "bool-id", {"user_id": True, "url": "x"})
        queue_message(db.session, "password_reset", "no-url", {"user_id": ada})
        queue_message(db.session, "carrier_pigeon", "unknown", {})
        db.session.commit()
    report = send(app, now=t0)
    assert (report.sent, report.gave_up, report.retried) == (0, 5, 0)
    errors = {r["dedupe_key"]: r["last_error"] for r in outbox_rows(app)}
    assert errors == {
        "no-user": "bad payload: no integer 'user_id'",
        "no-group": "group deleted",
        "bool-id": "bad payload: no integer 'user_id'",
        "no-url": "bad payload: url",
        "unknown": "unknown message kind 'carrier_pigeon'",
    }
