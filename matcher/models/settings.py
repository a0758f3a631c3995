"""Programme settings: the matching rules and the round schedule, one row for the whole org."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from matcher.extensions import db
from matcher.models.people import utcnow

SETTINGS_ID = 1
DEFAULT_ROUND_WEEKDAY = 0  # Monday
DEFAULT_ROUND_MINUTE = 9 * 60  # 09:00
DEFAULT_REMINDER_DAYS = 5
DEFAULT_PAUSE_AFTER_MISSED = 3


class ProgrammeSettings(db.Model):
    """The rules the next round uses and when rounds run; there is one row, id 1."""

    __tablename__ = "programme_settings"
    __table_args__ = (
        CheckConstraint("round_weekday BETWEEN 0 AND 6", name="round_weekday"),
        CheckConstraint("round_minute BETWEEN 0 AND 1439", name="round_minute"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=SETTINGS_ID)
    # Engine rules as `matcher.matching.Rules.to_dict()`; empty means the engine defaults.
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    round_weekday: Mapped[int] = mapped_column(SmallInteger, default=DEFAULT_ROUND_WEEKDAY)
    round_minute: Mapped[int] = mapped_column(default=DEFAULT_ROUND_MINUTE)
    round_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    feedback_reminder_days: Mapped[int] = mapped_column(default=DEFAULT_REMINDER_DAYS)
    # Rounds in a row without an answer or a meeting before someone is nudged, then paused.
    pause_after_missed: Mapped[int] = mapped_column(default=DEFAULT_PAUSE_AFTER_MISSED)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
