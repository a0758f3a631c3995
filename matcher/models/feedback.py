"""What people say after a pairing: did they meet, how was it, would they meet again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher.extensions import db
from matcher.models.people import User, utcnow
from matcher.models.rounds import MatchGroup, Membership

FEEDBACK_STATUSES = {
    "met": "We met",
    "not_yet": "Not yet",
    "will_not_meet": "We will not meet",
}
NOT_MEETING_REASONS = {
    "no_time": "No time",
    "no_reply": "No reply",
    "other": "Other",
}
NOTE_MAX = 2000
KUDOS_MAX = 500


class Feedback(db.Model):
    """One member's answer about one pairing; a second answer edits the first."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("status IN ('met', 'not_yet', 'will_not_meet')", name="status"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        CheckConstraint(
            "reason IS NULL OR reason IN ('no_time', 'no_reply', 'other')", name="reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: one answer per person per pairing, whatever the number of submissions.
    membership_id: Mapped[int] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), unique=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("match_groups.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(16), default=None)
    rating: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    would_meet_again: Mapped[bool | None] = mapped_column(default=None)
    # Only admins ever read the note; only the partners read the kudos.
    private_note: Mapped[str | None] = mapped_column(Text, default=None)
    kudos: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    membership: Mapped[Membership] = relationship()
    group: Mapped[MatchGroup] = relationship()
    user: Mapped[User] = relationship()
