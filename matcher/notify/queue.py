"""Queue outbox messages in the caller's transaction; the sender delivers them later."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from matcher.models import Membership, OutboxMessage, Round

_UPSERT_DIALECTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def queue_message(
    session: Session,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    user_id: int | None = None,
    round_id: int | None = None,
) -> bool:
    """Add a message unless one with dedupe_key exists (then False); not committed."""
    values = {
        "kind": kind,
        "dedupe_key": dedupe_key,
        "payload": payload,
        "user_id": user_id,
        "round_id": round_id,
    }
    dialect_insert = _UPSERT_DIALECTS.get(session.get_bind().dialect.name)
    if dialect_insert is not None:
        # ON CONFLICT DO NOTHING: a concurrent transaction queueing the same key cannot make
        # this one fail, and exactly one of them ends up with the row.
        table = OutboxMessage.__table__
        statement = (
            dialect_insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.id)
        )
        return session.execute(statement).scalar() is not None
    session.flush()
    exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    if exists is not None:
        return False
    session.add(OutboxMessage(**values))
    return True


def queue_messages(session: Session, rows: list[dict[str, Any]]) -> int:
    """Bulk-insert fresh messages (keys must be new, else IntegrityError); not committed."""
    if not rows:
        return 0
    session.execute(insert(OutboxMessage), rows)
    return len(rows)


def round_messages(
    session: Session, round_: Round, config: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The rows announcing a published round: one pairing email per member, one chat post.

    For queue_messages in the transaction that publishes the round.
    """
    # One query for every member of every group: a round of 10,000 people stays fast.
    members = session.execute(
        select(Membership.group_id, Membership.user_id)
        .where(Membership.round_id == round_.id)
        .order_by(Membership.group_id, Membership.id)
    ).all()
    rows = [
        {
            "kind": "pairing",
            # One pairing email per person per week, whatever happens to ids.
            "dedupe_key": f"pairing:{round_.week}:{user_id}",
            "payload": {"group_id": group_id, "user_id": user_id},
            "user_id": user_id,
            "round_id": round_.id,
        }
        for group_id, user_id in members
    ]
    if config.get("CHAT_WEBHOOK_URL"):
        rows.append(
            {
                "kind": "chat_round",
                "dedupe_key": f"chat_round:{round_.week}",
                "payload": {"round_id": round_.id},
                "user_id": None,
                "round_id": round_.id,
            }
        )
    return rows
