"""People and what they bring: users, teams, projects, interests, profiles, do-not-pair lists."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from enum import IntEnum
from typing import Any, Self

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Table,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from matcher.extensions import db
from matcher.matching import MEETING_MODES as ENGINE_MEETING_MODES

# The engine's meeting modes (its tuple is the one list), with the words people read.
_MODE_LABELS = {"either": "In person or video", "in_person": "In person", "video": "Video call"}
MEETING_MODES = {mode: _MODE_LABELS[mode] for mode in ENGINE_MEETING_MODES}


class Cadence(IntEnum):
    """How often someone wants to meet, in weeks."""

    WEEKLY = 1
    FORTNIGHTLY = 2
    MONTHLY = 4


def utcnow() -> datetime:
    """Naive UTC now: every timestamp column stores UTC without a zone (SQLite has none)."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_session_token() -> str:
    """A random token that identifies one generation of a user's log-in sessions."""
    return secrets.token_urlsafe(24)


def normalise_name(raw: str) -> str:
    """Trim and collapse inner white space: '  Rust   lang ' -> 'Rust lang'."""
    return " ".join(raw.split())


def normalise_email(email: str) -> str:
    """The stored form of an email: trimmed and lower-cased."""
    return email.strip().lower()


def vocabulary_key(raw: str) -> str:
    """The case- and space-insensitive key that makes 'Rust', ' rust ' and 'RUST' one entry."""
    return normalise_name(raw).casefold()


user_projects = Table(
    "user_projects",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
)

user_can_help = Table(
    "user_can_help",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True),
)

user_wants_help = Table(
    "user_wants_help",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True),
)

user_interests = Table(
    "user_interests",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("interest_id", ForeignKey("interests.id", ondelete="CASCADE"), primary_key=True),
)


class VocabularyMixin:
    """A named entry whose key is unique regardless of case and spacing."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(80), unique=True)

    @classmethod
    def get_or_create(cls, session: Session, raw: str) -> Self:
        """Return the entry for raw's key, adding it (not committed) when new."""
        key = vocabulary_key(raw)
        entry = session.scalar(select(cls).where(cls.key == key))
        if entry is None:
            entry = cls(name=normalise_name(raw), key=key)
            session.add(entry)
        return entry

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class Team(VocabularyMixin, db.Model):
    """An org team; every participant belongs to one."""

    __tablename__ = "teams"

    members: Mapped[list[User]] = relationship(back_populates="team")


class Project(VocabularyMixin, db.Model):
    """Something people work on; shared projects across teams are a reason to meet."""

    __tablename__ = "projects"


class Interest(VocabularyMixin, db.Model):
    """A topic or hobby people like to talk about."""

    __tablename__ = "interests"


class Skill(VocabularyMixin, db.Model):
    """Something one can help with or wants help with (mentoring programmes)."""

    __tablename__ = "skills"


class User(UserMixin, db.Model):
    """An account: who someone is and how they log in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    # None for accounts that have no password (single sign-on only, or invited and not yet
    # accepted): no password matches them.
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the person joined the organisation (new-joiner programmes); the sign-up day by
    # default, admins may correct it.
    joined_on: Mapped[date] = mapped_column(default=lambda: utcnow().date())
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    # Part of the session id: rotating it logs out every session of this user.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    # When the person proved they own the address (a link, an identity provider, an
    # invitation accepted); nobody unverified is paired.
    email_verified_at: Mapped[datetime | None] = mapped_column(default=None)
    # Imported from a roster or provisioned by SCIM and not yet accepted: no pairing until then.
    invited_at: Mapped[datetime | None] = mapped_column(default=None)
    # Reporting line (roster, SCIM, or an admin): never paired with their manager or reports.
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True, default=None
    )
    # The identity provider's id for this person (SCIM externalId).
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    # What a roster import or SCIM last set (field -> value): a field whose value differs was
    # edited by the person and is not overwritten unless an admin says so.
    roster_values: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    team: Mapped[Team | None] = relationship(back_populates="members")
    manager: Mapped[User | None] = relationship(remote_side="User.id", foreign_keys=[manager_id])
    projects: Mapped[list[Project]] = relationship(secondary=user_projects, order_by="Project.name")
    interests: Mapped[list[Interest]] = relationship(
        secondary=user_interests, order_by="Interest.name"
    )
    can_help: Mapped[list[Skill]] = relationship(secondary=user_can_help, order_by="Skill.name")
    wants_help: Mapped[list[Skill]] = relationship(secondary=user_wants_help, order_by="Skill.name")
    profile: Mapped[Profile | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", uselist=False
    )
    availability: Mapped[list[AvailabilityWindow]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        order_by="(AvailabilityWindow.weekday, AvailabilityWindow.start_minute)",
    )
    do_not_pair: Mapped[list[DoNotPair]] = relationship(
        foreign_keys="DoNotPair.user_id",
        back_populates="user",
        cascade="all, delete-orphan",
    )

    @property
    def is_active(self) -> bool:  # flask-login refuses log-in for inactive users
        return self.active and self.deleted_at is None

    @property
    def is_verified(self) -> bool:
        """True once the person proved they own the address (only they are paired)."""
        return self.email_verified_at is not None

    @property
    def is_deleted(self) -> bool:
        """True once the account was erased and only a placeholder remains."""
        return self.deleted_at is not None

    def get_id(self) -> str:
        """Session id: the user id and the current session token."""
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email!r}>"


class Profile(db.Model):
    """How and where someone meets, in every programme (cadence and snoozes are per programme)."""

    __tablename__ = "profiles"
    __table_args__ = (
        CheckConstraint(
            "meeting_mode IN ({})".format(", ".join(f"'{m}'" for m in ENGINE_MEETING_MODES)),
            name="meeting_mode",
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    location: Mapped[str | None] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    meeting_mode: Mapped[str] = mapped_column(String(16), default="either")
    # The person's own video-call room (https only), put in invitations for video meetings.
    video_link: Mapped[str | None] = mapped_column(String(300), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="profile")


class AvailabilityWindow(db.Model):
    """A weekly slot when someone is free, in their own time zone."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
            name="minutes",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)  # 0 = Monday
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)

    user: Mapped[User] = relationship(back_populates="availability")


class DoNotPair(db.Model):
    """A private 'never pair me with' entry; only its owner ever sees it."""

    __tablename__ = "do_not_pair"
    __table_args__ = (CheckConstraint("user_id <> blocked_user_id", name="not_self"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], back_populates="do_not_pair")
    blocked_user: Mapped[User] = relationship(foreign_keys=[blocked_user_id])


class PendingDoNotPair(db.Model):
    """A do-not-pair entry for an address nobody has signed up with (yet).

    The form answers the same whether or not an address has an account (no oracle); when
    someone signs up with it, the entry becomes a DoNotPair row.
    """

    __tablename__ = "do_not_pair_pending"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Lower-cased, as User.email.
    email: Mapped[str] = mapped_column(String(254), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
