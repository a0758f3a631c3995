"""Queueing: dedupe keys, bulk inserts, and what a published round queues."""

from __future__ import annotations

from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import OutboxMessage, Round
from matcher.notify import queue_message, queue_messages
from matcher.rounds.emails import round_messages
from tests.notify.support import outbox_rows


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_queue_message_adds_once_per_dedupe_key(app, make_user):
    ada = make_user()
    with app.app_context():
        assert queue_message(db.session, "password_reset", "k1", {"user_id": ada, "url": "u"}, ada)
        assert not queue_message(db.session, "password_reset", "k1", {"user_id": 0}, ada)
        db.session.commit()
        # Also after the commit, from a fresh transaction.
        assert not queue_message(db.session, "password_reset", "k1", {"user_id": 0})
        db.session.commit()
    rows = outbox_rows(app)
    assert len(rows) == 1
    assert rows[0]["payload"] == {"user_id": ada, "url": "u"}
    assert rows[0]["attempts"] == 0 and rows[0]["sent_at"] is None
    assert rows[0]["next_attempt_at"] is not None


def test_queue_message_is_not_committed_by_itself(app, make_user):
    with app.app_context():
        queue_message(db.session, "chat_round", "k2", {"round_id": 1})
        db.session.rollback()
    assert count(app) == 0


def test_round_messages_one_per_member_plus_chat(app, make_user, make_round):
    ids = [make_user(email=f"u{i}@example.com", name=f"U {i}") for i in range(5)]
    round_id, groups = make_round([ids[:2], ids[2:]])
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        without_chat = round_messages(db.session, round_, {"CHAT_WEBHOOK_URL": None})
        rows = round_messages(db.session, round_, {"CHAT_WEBHOOK_URL": "http://127.0.0.1:9/x"})
        assert len(without_chat) == 5
        assert queue_messages(db.session, rows) == 6
        db.session.commit()
    stored = outbox_rows(app)
    assert sorted(r["kind"] for r in stored) == ["chat_round"] + ["pairing"] * 5
    pairing = [r for r in stored if r["kind"] == "pairing"]
    assert {r["user_id"] for r in pairing} == set(ids)
    assert {r["payload"]["group_id"] for r in pairing} == set(groups)
    assert all(r["round_id"] == round_id for r in stored)
    # One per person and group of the round (a mentor may be in several groups of one round).
    assert {r["dedupe_key"] for r in pairing} == {
        f"pairing:{round_id}:{r['payload']['group_id']}:{r['user_id']}" for r in pairing
    }
    assert len({r["dedupe_key"] for r in pairing}) == 5
    with app.app_context():
        # Publishing twice queues nothing new.
        for row in round_messages(db.session, db.session.get(Round, round_id), {}):
            assert not queue_message(db.session, **row)
        db.session.commit()
    assert count(app) == 6
