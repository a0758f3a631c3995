"""Helpers for tests with several programmes: make one, join people, publish a round of groups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from matcher.models import Programme, Skill, User
from matcher.programmes.catalogue import ProgrammeValues, create_programme
from matcher.programmes.members import Choice, join
from matcher.weeks import week_start
from tests.support import published_round


def this_monday() -> date:
    """The Monday of this week (UTC; the tests' people live in UTC)."""
    return week_start(datetime.now(UTC).date())


def new_programme(session, name: str, slug: str, kind: str = "coffee", **values) -> Programme:
    """A programme made with the catalogue service (flushed, not committed)."""
    return create_programme(
        session, ProgrammeValues(name=name, slug=slug, kind=kind, **values), actor_id=None
    )


def add_member(session, programme: Programme, user_id: int, role: str | None = None) -> None:
    """Join the user to the programme with the real service (skills added for mentoring)."""
    user = session.get(User, user_id)
    if role == "mentor" and not user.can_help:
        user.can_help.append(Skill.get_or_create(session, "Public speaking"))
    if role == "mentee" and not user.wants_help:
        user.wants_help.append(Skill.get_or_create(session, "Public speaking"))
    session.flush()
    join(session, programme, user, Choice(programme.id, role), datetime.now(UTC).date())
    session.flush()


def publish(session, programme: Programme, monday: date, *groups, meeting_at=None) -> list:
    """A published round of the programme for the week of `monday` with these groups of user
    ids (flushed, not committed); its MatchGroup rows, in order."""
    return published_round(session, monday, *groups, meeting_at=meeting_at, programme=programme)


def meeting_this_week() -> datetime:
    """A naive-UTC meeting time on Wednesday of this week, 10:00."""
    return datetime.combine(this_monday() + timedelta(days=2), datetime.min.time()).replace(hour=10)
