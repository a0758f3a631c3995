"""Queue outbox messages in the caller's transaction; the sender delivers them later."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from matcher.models import OutboxMessage

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
