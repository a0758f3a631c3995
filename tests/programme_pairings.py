"""Helpers for tests with several programmes: make one, join people, publish a round of groups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from matcher.models import MatchGroup, Membership, Programme, Round, Skill, User
from matcher.programmes.catalogue import ProgrammeValues, create_programme
from matcher.programmes.members import Choice, join
from matcher.weeks import week_label, week_start


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
    round_ = Round(
        programme_id=programme.id,
        week=week_label(monday),
        starts_on=monday,
        status="published",
        rules={},
        published_at=datetime.now(UTC).replace(tzinfo=None),
    )
    made = []
    for members in groups:
        group = MatchGroup(round=round_, reasons=[], meeting_at=meeting_at)
        for user_id in members:
            group.memberships.append(Membership(round=round_, user_id=user_id))
        made.append(group)
    session.add(round_)
    session.flush()
    return made


def meeting_this_week() -> datetime:
    """A naive-UTC meeting time on Wednesday of this week, 10:00."""
    return datetime.combine(this_monday() + timedelta(days=2), datetime.min.time()).replace(hour=10)
