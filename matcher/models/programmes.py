"""Programmes (cross-team coffee, new-joiner buddies, mentoring) and who belongs to which."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher.extensions import db
from matcher.models.people import User, utcnow

DEFAULT_ROUND_WEEKDAY = 0  # Monday
DEFAULT_ROUND_MINUTE = 9 * 60  # 09:00
DEFAULT_REMINDER_DAYS = 5
DEFAULT_PAUSE_AFTER_MISSED = 3

# What each kind pairs, and the two roles of the kinds that have roles (first the one that
# is helped, then the one who helps): every pair joins one of each.
PROGRAMME_KINDS = {
    "coffee": "Cross-team coffee: pairs or small groups across teams",
    "buddies": "New-joiner buddies: each new joiner with a volunteer buddy from another team",
    "mentoring": "Mentoring: mentees with mentors who can help with what they want to learn",
}
KIND_ROLES: dict[str, tuple[str, str]] = {
    "buddies": ("newcomer", "buddy"),
    "mentoring": ("mentee", "mentor"),
}
ROLE_LABELS = {
    "newcomer": "New joiner",
    "buddy": "Buddy",
    "mentee": "Mentee",
    "mentor": "Mentor",
}
# Who may join: everyone, or only some teams, offices, or people who joined recently.
OPEN_TO = {
    "everyone": "Everyone",
    "teams": "Some teams",
    "offices": "Some offices",
    "new_joiners": "People who joined recently",
}
MAX_MENTOR_CAPACITY = 10
MAX_PAIRING_WEEKS = 52
DEFAULT_SLUG = "coffee"


def _in(column: str, values: Any) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


class Programme(db.Model):
    """A pairing programme: its kind, who may join, its rules and when its rounds run."""

    __tablename__ = "programmes"
    __table_args__ = (
        CheckConstraint(_in("kind", PROGRAMME_KINDS), name="kind"),
        CheckConstraint(_in("open_to", OPEN_TO), name="open_to"),
        CheckConstraint("round_weekday BETWEEN 0 AND 6", name="round_weekday"),
        CheckConstraint("round_minute BETWEEN 0 AND 1439", name="round_minute"),
        CheckConstraint(f"mentor_capacity BETWEEN 1 AND {MAX_MENTOR_CAPACITY}", name="capacity"),
        CheckConstraint(f"pairing_weeks BETWEEN 1 AND {MAX_PAIRING_WEEKS}", name="pairing_weeks"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str] = mapped_column(String(16), default="coffee")
    archived: Mapped[bool] = mapped_column(default=False)
    # Engine rules as `matcher.matching.Rules.to_dict()`; empty means the engine defaults.
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    round_weekday: Mapped[int] = mapped_column(SmallInteger, default=DEFAULT_ROUND_WEEKDAY)
    round_minute: Mapped[int] = mapped_column(default=DEFAULT_ROUND_MINUTE)
    round_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    feedback_reminder_days: Mapped[int] = mapped_column(default=DEFAULT_REMINDER_DAYS)
    # Rounds in a row without an answer or a meeting before someone is nudged, then paused.
    pause_after_missed: Mapped[int] = mapped_column(default=DEFAULT_PAUSE_AFTER_MISSED)
    # Slack-compatible incoming webhook announcing this programme's rounds; None: the
    # app-wide CHAT_WEBHOOK_URL.
    chat_webhook_url: Mapped[str | None] = mapped_column(String(300), default=None)
    open_to: Mapped[str] = mapped_column(String(16), default="everyone")
    # Team names or offices that may join when open_to says so.
    open_values: Mapped[list[str]] = mapped_column(JSON, default=list)
    # New joiners: people whose join date is at most this many weeks ago (buddies' newcomers,
    # or everyone who may join when open_to is "new_joiners").
    joined_within_weeks: Mapped[int] = mapped_column(default=8)
    # Join automatically when one qualifies (the newcomers of a buddy programme), or by choice.
    auto_enrol: Mapped[bool] = mapped_column(default=False)
    # How many weeks one pairing lasts before a new one (1 for weekly coffee).
    pairing_weeks: Mapped[int] = mapped_column(default=1)
    # Mentoring: how many mentees one mentor takes at most.
    mentor_capacity: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    members: Mapped[list[ProgrammeMember]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def roles(self) -> tuple[str, str] | None:
        """The two roles of this kind (helped first), or None when members are all alike."""
        return KIND_ROLES.get(self.kind)

    def __repr__(self) -> str:
        return f"<Programme {self.slug!r} {self.kind}>"


class ProgrammeMember(db.Model):
    """One person in one programme: role, cadence, snooze, and whether they left or were paused."""

    __tablename__ = "programme_members"
    __table_args__ = (
        CheckConstraint("cadence_weeks IN (1, 2, 4)", name="cadence_weeks"),
        CheckConstraint(
            "role IS NULL OR " + _in("role", ROLE_LABELS),
            name="role",
        ),
    )

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str | None] = mapped_column(String(16), default=None)
    cadence_weeks: Mapped[int] = mapped_column(SmallInteger, default=1)
    snoozed_until: Mapped[date | None] = mapped_column(default=None)
    opted_out: Mapped[bool] = mapped_column(default=False)
    # Why matcher paused someone (e.g. missed meetings); None when they left by themselves.
    pause_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    def is_snoozed(self, on: date) -> bool:
        """True when the person asked not to be matched on that date."""
        return self.snoozed_until is not None and on <= self.snoozed_until
