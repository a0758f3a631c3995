"""The outbox: messages queued in the same transaction as what they announce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from matcher.extensions import db
from matcher.models.people import utcnow


class OutboxMessage(db.Model):
    """One message to deliver (email or chat), rendered from `kind` and `payload` at send time."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # e.g. "pairing", "password_reset", "chat_round"; the sender picks a renderer by kind.
    kind: Mapped[str] = mapped_column(String(32))
    # Unique: queueing the same announcement twice (a re-run, a retry) adds nothing.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("rounds.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # A sender claims a batch by writing its token and a lease; an expired lease frees it.
    claim_token: Mapped[str | None] = mapped_column(String(64), default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    gave_up_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.dedupe_key!r}>"
