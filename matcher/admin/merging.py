"""Teams, projects, interests and offices: list, rename and merge duplicates, keeping profiles."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from matcher.models import (
    Interest,
    Profile,
    Project,
    Team,
    User,
    normalise_name,
    vocabulary_key,
)
from matcher.models.people import user_interests, user_projects
from matcher.rounds import insight_counts

VocabularyModel = type[Team] | type[Project] | type[Interest]
KINDS: dict[str, VocabularyModel] = {"teams": Team, "projects": Project, "interests": Interest}
LABELS = {"teams": "Team", "projects": "Project", "interests": "Interest", "offices": "Office"}
# The tabs of the vocabulary page: the three tables, then the offices written on profiles.
TABS = (*KINDS, "offices")
NAME_MAX = 80


class VocabularyError(ValueError):
    """A rename or merge that cannot be done; the message is for people."""


@dataclass(frozen=True)
class EntryUse:
    """One entry and how many people use it."""

    id: int
    name: str
    key: str
    people: int


def _link_table(model: VocabularyModel) -> Table | None:
    return {Project: user_projects, Interest: user_interests}.get(model)


def _link_column(model: VocabularyModel) -> str:
    return "project_id" if model is Project else "interest_id"


def entries_with_counts(session: Session, model: VocabularyModel) -> list[EntryUse]:
    """Every entry of one kind with the number of people using it, by name."""
    link = _link_table(model)
    if link is None:
        counts = dict(
            session.execute(
                select(User.team_id, func.count())
                .where(User.team_id.is_not(None))
                .group_by(User.team_id)
            ).all()
        )
    else:
        column = link.c[_link_column(model)]
        counts = dict(session.execute(select(column, func.count()).group_by(column)).all())
    entries = session.scalars(select(model).order_by(model.key)).all()
    return [EntryUse(e.id, e.name, e.key, counts.get(e.id, 0)) for e in entries]


def rename(session: Session, model: VocabularyModel, entry_id: int, raw: str) -> tuple[str, str]:
    """Give an entry a new name; returns (old, new). Not committed."""
    entry = session.get(model, entry_id)
    if entry is None:
        raise VocabularyError("That entry does not exist any more.")
    name = normalise_name(raw)
    if not name:
        raise VocabularyError("Give a name.")
    if len(name) > NAME_MAX:
        raise VocabularyError(f"At most {NAME_MAX} characters, please.")
    key = vocabulary_key(name)
    clash = session.scalar(select(model).where(model.key == key, model.id != entry.id))
    if clash is not None:
        raise VocabularyError(
            f"“{clash.name}” exists already: use merge instead to move everyone onto it."
        )
    old = entry.name
    entry.name, entry.key = name, key
    return old, name


def merge(session: Session, model: VocabularyModel, source_id: int, target_id: int) -> int:
    """Move everyone from source onto target, then delete source; returns people moved."""
    if source_id == target_id:
        raise VocabularyError("Pick another entry to merge into.")
    source, target = session.get(model, source_id), session.get(model, target_id)
    if source is None or target is None:
        raise VocabularyError("That entry does not exist any more.")
    link = _link_table(model)
    session.flush()
    if link is None:
        # The insights count people under their team: the source's pairs move with them.
        insight_counts.teams_merged(session, source.id, target.id)
        moved = session.execute(
            update(User).where(User.team_id == source.id).values(team_id=target.id)
        ).rowcount
    else:
        column = link.c[_link_column(model)]
        has_target = select(link.c.user_id).where(column == target_id)
        # Users with only the source get the target; users with both keep their one target row.
        moved = session.execute(
            insert(link).from_select(
                ["user_id", column.name],
                select(link.c.user_id, literal(target_id)).where(
                    column == source_id, link.c.user_id.not_in(has_target)
                ),
            )
        ).rowcount
        session.execute(delete(link).where(column == source.id))
    # The ORM may hold stale collections (team members, user projects) loaded before the update.
    session.expire_all()
    session.execute(delete(model).where(model.id == source_id))
    return max(moved or 0, 0)


# Offices are not a vocabulary table: each profile holds its office as text (Profile.location),
# and the engine pairs people in person only when the two strings are equal.


def office_counts(session: Session) -> list[EntryUse]:
    """Every office written on a profile (of an account not deleted), by name, with its people."""
    rows = session.execute(
        select(Profile.location, func.count())
        .join(User, User.id == Profile.user_id)
        .where(Profile.location.is_not(None), Profile.location != "", User.deleted_at.is_(None))
        .group_by(Profile.location)
    ).all()
    entries = [EntryUse(0, name, vocabulary_key(name), int(n)) for name, n in rows]
    return sorted(entries, key=lambda e: (e.key, e.name))


def merge_offices(session: Session, source: str, target: str) -> int:
    """Write target on every profile whose office is source; returns profiles changed."""
    if not source or not target or source == target:
        raise VocabularyError("Pick two different offices.")
    used = {e.name for e in office_counts(session)}
    if source not in used or target not in used:
        raise VocabularyError("That office is not on anyone's profile any more.")
    changed = session.execute(
        update(Profile).where(Profile.location == source).values(location=target)
    ).rowcount
    session.expire_all()  # profiles loaded before the update hold the old office
    return max(changed or 0, 0)
