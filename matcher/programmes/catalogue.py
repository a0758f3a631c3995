"""The programmes of the organisation: finding, creating, editing and archiving them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.audit import record
from matcher.models import OPEN_TO, PROGRAMME_KINDS, Programme
from matcher.models.people import normalise_name
from matcher.models.programmes import DEFAULT_SLUG, MAX_MENTOR_CAPACITY, MAX_PAIRING_WEEKS

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_SLUGS = frozenset({"new", "all", "org"})
# What a new programme of each kind starts with: buddies last 8 weeks with newcomers
# enrolled automatically, mentoring a 12-week term.
KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    "coffee": {"pairing_weeks": 1, "auto_enrol": False},
    "buddies": {"pairing_weeks": 8, "auto_enrol": True},
    "mentoring": {"pairing_weeks": 12, "auto_enrol": False},
}


class ProgrammeError(Exception):
    """A programme's values cannot be saved; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ProgrammeValues:
    """What an admin sets on a programme (the rules and schedule are saved on the rules page)."""

    name: str
    slug: str
    kind: str = "coffee"
    description: str = ""
    open_to: str = "everyone"
    open_values: tuple[str, ...] = ()
    joined_within_weeks: int = 8
    auto_enrol: bool = False
    pairing_weeks: int = 1
    mentor_capacity: int = 1
    chat_webhook_url: str | None = None


def all_programmes(session: Session, include_archived: bool = True) -> list[Programme]:
    """Programmes in the order they were created."""
    query = select(Programme).order_by(Programme.id)
    if not include_archived:
        query = query.where(Programme.archived.is_(False))
    return list(session.scalars(query))


def by_slug(session: Session, slug: str) -> Programme | None:
    """The programme with that slug, if any."""
    return session.scalar(select(Programme).where(Programme.slug == slug))


def default_programme(session: Session) -> Programme:
    """The organisation's cross-team coffee: the first open coffee programme (made when the
    database has no programme at all, as after `db upgrade` on an emptied database)."""
    found = session.scalar(
        select(Programme)
        .where(Programme.kind == "coffee")
        .order_by(Programme.archived, Programme.id)
        .limit(1)
    )
    if found is not None:
        return found
    first = session.scalar(select(Programme).order_by(Programme.id).limit(1))
    if first is not None:
        return first
    try:
        with session.begin_nested():
            made = Programme(
                slug=DEFAULT_SLUG,
                name="Cross-team coffee",
                description="Meet someone from another team for a coffee.",
                kind="coffee",
            )
            session.add(made)
        return made
    except IntegrityError:  # another request made it first
        found = by_slug(session, DEFAULT_SLUG)
        assert found is not None
        return found


def slug_for(name: str) -> str:
    """A URL slug from a name: 'New-joiner buddies!' -> 'new-joiner-buddies'."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:40].strip("-")


def check_values(
    session: Session, values: ProgrammeValues, editing: Programme | None = None
) -> dict[str, str]:
    """Every problem with these values, by field name (empty when they can be saved)."""
    errors: dict[str, str] = {}
    if not normalise_name(values.name):
        errors["name"] = "Give the programme a name."
    elif len(normalise_name(values.name)) > 80:
        errors["name"] = "At most 80 characters."
    if not SLUG_PATTERN.match(values.slug or "") or len(values.slug) > 40:
        errors["slug"] = (
            "Lower-case letters, digits and single hyphens, at most 40 characters "
            "(it goes into addresses)."
        )
    elif values.slug in RESERVED_SLUGS:
        errors["slug"] = f"'{values.slug}' is reserved; choose another."
    else:
        other = by_slug(session, values.slug)
        if other is not None and other is not editing:
            errors["slug"] = f"Another programme ({other.name}) uses '{values.slug}'."
    if values.kind not in PROGRAMME_KINDS:
        errors["kind"] = "Choose one of the kinds."
    elif editing is not None and editing.kind != values.kind:
        errors["kind"] = "The kind cannot change once rounds may exist; make a new programme."
    if len(values.description) > 500:
        errors["description"] = "At most 500 characters."
    if values.open_to not in OPEN_TO:
        errors["open_to"] = "Choose who may join."
    elif values.open_to in ("teams", "offices") and not values.open_values:
        errors["open_values"] = f"Name at least one of the {values.open_to} that may join."
    if not 1 <= values.joined_within_weeks <= MAX_PAIRING_WEEKS:
        errors["joined_within_weeks"] = f"From 1 to {MAX_PAIRING_WEEKS} weeks."
    if not 1 <= values.pairing_weeks <= MAX_PAIRING_WEEKS:
        errors["pairing_weeks"] = f"From 1 to {MAX_PAIRING_WEEKS} weeks."
    if not 1 <= values.mentor_capacity <= MAX_MENTOR_CAPACITY:
        errors["mentor_capacity"] = f"A mentor takes from 1 to {MAX_MENTOR_CAPACITY} mentees."
    if values.chat_webhook_url and not values.chat_webhook_url.startswith("https://"):
        errors["chat_webhook_url"] = "An https:// address (the chat's incoming webhook)."
    return errors


def _apply(programme: Programme, values: ProgrammeValues) -> None:
    programme.name = normalise_name(values.name)
    programme.slug = values.slug
    programme.kind = values.kind
    programme.description = values.description.strip()
    programme.open_to = values.open_to
    programme.open_values = sorted({normalise_name(v) for v in values.open_values if v.strip()})
    programme.joined_within_weeks = values.joined_within_weeks
    programme.auto_enrol = values.auto_enrol
    programme.pairing_weeks = values.pairing_weeks
    programme.mentor_capacity = values.mentor_capacity if values.kind == "mentoring" else 1
    programme.chat_webhook_url = values.chat_webhook_url or None


def describe(programme: Programme) -> dict[str, Any]:
    """What the audit log records of a programme."""
    return {
        "name": programme.name,
        "slug": programme.slug,
        "kind": programme.kind,
        "description": programme.description,
        "open_to": programme.open_to,
        "open_values": list(programme.open_values or []),
        "joined_within_weeks": programme.joined_within_weeks,
        "auto_enrol": programme.auto_enrol,
        "pairing_weeks": programme.pairing_weeks,
        "mentor_capacity": programme.mentor_capacity,
        "archived": programme.archived,
    }


def create_programme(session: Session, values: ProgrammeValues, actor_id: int | None) -> Programme:
    """Add a programme (raises ProgrammeError naming each bad field). Not committed."""
    errors = check_values(session, values)
    if errors:
        raise ProgrammeError(errors)
    programme = Programme(rules={})
    _apply(programme, values)
    session.add(programme)
    session.flush()
    record(
        session,
        actor_id,
        "programme.create",
        f"programme {programme.slug}",
        after=describe(programme),
    )
    return programme


def update_programme(
    session: Session, programme: Programme, values: ProgrammeValues, actor_id: int | None
) -> dict[str, Any] | None:
    """Change a programme (raises ProgrammeError); the values before, or None if unchanged."""
    errors = check_values(session, values, editing=programme)
    if errors:
        raise ProgrammeError(errors)
    before = describe(programme)
    _apply(programme, values)
    after = describe(programme)
    if before == after:
        return None
    session.flush()
    record(
        session,
        actor_id,
        "programme.update",
        f"programme {programme.slug}",
        before=before,
        after=after,
    )
    return before


def set_archived(
    session: Session, programme: Programme, archived: bool, actor_id: int | None
) -> bool:
    """Archive (no more rounds, nobody joins) or reopen a programme; True when it changed."""
    if programme.archived == archived:
        return False
    programme.archived = archived
    action = "programme.archive" if archived else "programme.reopen"
    record(session, actor_id, action, f"programme {programme.slug}")
    return True


def values_of(programme: Programme) -> ProgrammeValues:
    """A programme's current values, for a form to start from."""
    return ProgrammeValues(
        name=programme.name,
        slug=programme.slug,
        kind=programme.kind,
        description=programme.description,
        open_to=programme.open_to,
        open_values=tuple(programme.open_values or ()),
        joined_within_weeks=programme.joined_within_weeks,
        auto_enrol=programme.auto_enrol,
        pairing_weeks=programme.pairing_weeks,
        mentor_capacity=programme.mentor_capacity,
        chat_webhook_url=programme.chat_webhook_url,
    )
