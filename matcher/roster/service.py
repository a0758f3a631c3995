"""Create or update people from a directory (a roster file, SCIM): one person at a time, or a
whole file in one transaction, never overwriting what a person changed themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from matcher.auth.invitations import queue_invitation, queue_invitations
from matcher.models import PendingDoNotPair, Profile, Programme, ProgrammeMember, Team, User
from matcher.models.people import normalise_email, normalise_name, utcnow, vocabulary_key
from matcher.profile.service import claim_pending_do_not_pair
from matcher.programmes.members import (
    Choice,
    JoinError,
    check_role,
    is_new_joiner,
    join,
    why_not_open,
)
from matcher.rounds import insight_counts

# Why a membership is paused when the directory says the person is no longer active; only
# pauses with this reason are resumed when it says they are active again.
PAUSED_BY_DIRECTORY = "paused by the directory"
# The fields a directory sets, in the order pages list them (PersonRecord's names).
FIELDS = (
    "name",
    "team",
    "manager_email",
    "office",
    "time_zone",
    "join_date",
    "programmes",
    "external_id",
)
# A reporting line longer than this is treated as a loop (no real organisation is this deep).
MAX_MANAGER_DEPTH = 1000
# Emails looked up per query when a whole file is loaded (below every database's limit).
_CHUNK = 500


@dataclass(frozen=True)
class PersonRecord:
    """One person as a directory describes them; None leaves a field as it is."""

    email: str
    name: str
    team: str | None = None
    manager_email: str | None = None  # resolved to manager_id; "" clears
    office: str | None = None  # Profile.location
    time_zone: str | None = None  # Profile.timezone (IANA)
    join_date: date | None = None  # User.joined_on
    programmes: tuple[str, ...] | None = None  # programme slugs to join; None = leave as is
    external_id: str | None = None
    active: bool | None = None  # False pauses every membership, True resumes those pauses


@dataclass
class Outcome:
    """What upsert_person did: the user, whether it was new, the fields it changed and the
    fields it kept because the person (or an admin) edited them since the last import."""

    user: User
    created: bool
    changed: tuple[str, ...]
    kept: tuple[str, ...]


class RosterError(ValueError):
    """A record that cannot be applied; `field` names the PersonRecord field at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def find_person(session: Session, email: str) -> User | None:
    """The live (not erased) account with that email, in any letter case."""
    return session.scalar(
        select(User).where(User.email == normalise_email(email), User.deleted_at.is_(None))
    )


def upsert_person(
    session: Session,
    record: PersonRecord,
    *,
    today: date,
    overwrite: bool = False,
    invite: bool = True,
    manager_ids: Mapping[str, int] | None = None,
    invited_by: str | None = None,
) -> Outcome:
    """Create or update one person by email (not committed); raises RosterError.

    manager_ids maps lower-cased emails to user ids for managers not in the database yet
    (a file's earlier rows); others are looked up. invited_by names the inviter in the email.
    """
    lookups = _Lookups(session)
    for email, user_id in (manager_ids or {}).items():
        lookups.know(normalise_email(email), user_id)
    user = lookups.user(record.email)
    if user is None:
        values = _checked_values(record)
        columns = _new_columns(lookups, record, values, today)
        (work,) = _create(session, lookups, [(record, values, columns)])
    else:
        work = _write(session, lookups, user, record, today=today, overwrite=overwrite)
    _memberships(session, lookups, work, today=today, overwrite=overwrite)
    lookups.insert_members()
    _welcome(session, lookups, work, invite=invite, by=invited_by)
    return work.outcome()


# -- a whole file -----------------------------------------------------------------------------


@dataclass
class RowResult:
    """What applying one row did, or would do (the person is named by email, not by object:
    a preview is rolled back)."""

    email: str
    created: bool
    changed: tuple[str, ...]
    kept: tuple[str, ...]

    @property
    def status(self) -> str:
        """new, updated, kept (something left as the person edited it) or unchanged."""
        if self.created:
            return "new"
        if self.kept:
            return "kept"
        return "updated" if self.changed else "unchanged"


@dataclass
class BatchResult:
    """Rows' results in input order and the errors that stopped rows (index -> error)."""

    results: dict[int, RowResult] = field(default_factory=dict)
    errors: dict[int, RosterError] = field(default_factory=dict)
    invitations: int = 0

    def count(self, status: str) -> int:
        """How many rows ended with that status."""
        return sum(1 for r in self.results.values() if r.status == status)


def upsert_people(
    session: Session,
    records: Sequence[PersonRecord],
    *,
    today: date,
    overwrite: bool = False,
    invite: bool = True,
    invited_by: str | None = None,
) -> BatchResult:
    """Create or update every record (not committed): managers before the people who report
    to them, so a manager later in the file works. A row that fails is listed in `errors`
    and the others go on (the caller rolls back when there are any)."""
    lookups = _Lookups(session)
    emails = {normalise_email(r.email) for r in records}
    emails |= {normalise_email(r.manager_email) for r in records if r.manager_email}
    lookups.preload(emails)
    batch = BatchResult()
    for level in _levels(records):
        works: dict[int, _Work] = {}
        new: list[tuple[int, PersonRecord, dict[str, Any]]] = []
        with session.no_autoflush:
            for index in level:
                record = records[index]
                try:
                    user = lookups.user(record.email)
                    if user is None:
                        new.append((index, record, _checked_values(record)))
                    else:
                        works[index] = _write(
                            session, lookups, user, record, today=today, overwrite=overwrite
                        )
                except RosterError as error:
                    batch.errors[index] = error
            # New people in one statement per table; their ids serve the next level.
            lookups.add_teams(values["team"] for _, _, values in new if values.get("team"))
            creatable = []
            for index, record, values in new:
                try:
                    columns = _new_columns(lookups, record, values, today)
                except RosterError as error:
                    batch.errors[index] = error
                else:
                    creatable.append((index, (record, values, columns)))
            created = _create(session, lookups, [item for _, item in creatable])
            for (index, _), work in zip(creatable, created, strict=True):
                works[index] = work
            for index, work in list(works.items()):
                try:
                    _memberships(session, lookups, work, today=today, overwrite=overwrite)
                except RosterError as error:
                    batch.errors[index] = error
                    del works[index]
        lookups.insert_members()
        session.flush()
        welcomed = [work for work in works.values() if work.created]
        _welcome_all(session, lookups, welcomed, invite=invite, by=invited_by)
        for index, work in works.items():
            batch.invitations += work.invited
            outcome = work.outcome()
            batch.results[index] = RowResult(
                record_email(records[index]), outcome.created, outcome.changed, outcome.kept
            )
    return batch


def record_email(record: PersonRecord) -> str:
    """The record's email as stored."""
    return normalise_email(record.email)


def _levels(records: Sequence[PersonRecord]) -> list[list[int]]:
    """Record indexes grouped so that a manager in the file comes in an earlier group than
    the people who report to them (file order within a group); a loop ends up last."""
    index_of = {record_email(r): i for i, r in enumerate(records)}
    depth: dict[int, int] = {}
    for start in range(len(records)):
        chain: list[int] = []
        seen: set[int] = set()
        current: int | None = start
        while current is not None and current not in depth and current not in seen:
            seen.add(current)
            chain.append(current)
            manager = records[current].manager_email
            current = index_of.get(normalise_email(manager)) if manager else None
        base = depth[current] + 1 if current is not None and current in depth else 0
        if current is not None and current in seen:  # a loop: refused elsewhere, kept last
            base = len(records)
        for offset, index in enumerate(reversed(chain)):
            depth[index] = base + offset
    groups: dict[int, list[int]] = {}
    for index in range(len(records)):
        groups.setdefault(depth[index], []).append(index)
    return [groups[d] for d in sorted(groups)]


# -- the work for one person ------------------------------------------------------------------


class _Lookups:
    """Finds people, teams, programmes and memberships; preloaded for a whole file."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.users: dict[str, User | None] | None = None
        # Team ids by key (every team, for a preloaded file), and the teams loaded.
        self.teams: dict[str, int] = {}
        self.team_objects: dict[int, Team] = {}
        self.programmes: dict[str, Programme | None] = {}
        self.manager_ids: dict[str, int] = {}
        self.pending: set[str] | None = None
        self.emails: dict[int, str] = {}
        # Memberships by user id, for the people of a preloaded file.
        self.members: dict[int, list[ProgrammeMember]] = {}
        # And those of people created here (by object: their ids may not exist yet).
        self.created_members: dict[int, list[ProgrammeMember]] = {}
        # Memberships of people created here, inserted together (insert_members).
        self.new_members: list[dict[str, Any]] = []

    def preload(self, emails: Iterable[str]) -> None:
        """Load these people (profiles, teams, managers, memberships) and every team at once."""
        wanted = sorted(set(emails))
        self.users = dict.fromkeys(wanted)
        self.pending = set()
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            found = self.session.scalars(
                select(User)
                .where(User.email.in_(chunk), User.deleted_at.is_(None))
                .options(selectinload(User.profile), selectinload(User.team))
            ).all()
            ids = [user.id for user in found]
            for user in found:
                self.users[user.email] = user
                self.know(user.email, user.id)
            # Held here (the identity map keeps objects only while referenced), so
            # members.join finds them there without a query.
            for member in self.session.scalars(
                select(ProgrammeMember).where(ProgrammeMember.user_id.in_(ids))
            ):
                self.members.setdefault(member.user_id, []).append(member)
            self.pending.update(
                self.session.scalars(
                    select(PendingDoNotPair.email).where(PendingDoNotPair.email.in_(chunk))
                )
            )
        for team in self.session.scalars(select(Team)):
            self.teams[team.key] = team.id
            self.team_objects[team.id] = team

    def user(self, email: str) -> User | None:
        """The live account with that email."""
        address = normalise_email(email)
        if self.users is not None and address in self.users:
            return self.users[address]
        return find_person(self.session, address)

    def memberships(self, user: User, created: bool) -> list[ProgrammeMember]:
        """The user's memberships (left and paused ones included)."""
        if created:
            return self.created_members.setdefault(id(user), [])
        if self.users is not None:
            return self.members.setdefault(user.id, [])
        return list(
            self.session.scalars(select(ProgrammeMember).where(ProgrammeMember.user_id == user.id))
        )

    def remember(self, user: User) -> None:
        """A person just created (later rows with the same email update them)."""
        if self.users is not None:
            self.users[user.email] = user

    def team_id(self, name: str) -> int:
        """The id of the team with that name's key, made when new."""
        key = vocabulary_key(name)
        if key not in self.teams:
            if self.users is None:
                team = Team.get_or_create(self.session, name)
                self.session.flush()
                self.team_objects[team.id] = team
                self.teams[key] = team.id
            else:  # every team was loaded: a missing one is new
                self.teams[key] = self.session.scalars(
                    insert(Team).returning(Team.id), [{"name": normalise_name(name), "key": key}]
                ).one()
        return self.teams[key]

    def add_teams(self, names: Iterable[str]) -> None:
        """Make the teams of these names that do not exist yet, in one statement."""
        rows = {}
        for name in names:
            key = vocabulary_key(name)
            if key not in self.teams and key not in rows:
                rows[key] = {"name": normalise_name(name), "key": key}
        if not rows:
            return
        if self.users is None:
            for row in rows.values():
                self.team_id(row["name"])
            return
        ids = self.session.scalars(
            insert(Team).returning(Team.id, sort_by_parameter_order=True), list(rows.values())
        ).all()
        self.teams.update(zip(rows, ids, strict=True))

    def team(self, name: str) -> Team:
        """The team with that name's key, made when new."""
        team_id = self.team_id(name)
        if team_id not in self.team_objects:
            team = self.session.get(Team, team_id)
            assert team is not None
            self.team_objects[team_id] = team
        return self.team_objects[team_id]

    def programme(self, slug: str) -> Programme | None:
        """The programme with that slug."""
        if slug not in self.programmes:
            self.programmes[slug] = self.session.scalar(
                select(Programme).where(Programme.slug == slug)
            )
        return self.programmes[slug]

    def manager_id(self, email: str) -> int:
        """The id of the live account with that email; RosterError when there is none."""
        address = normalise_email(email)
        if address in self.manager_ids:
            return self.manager_ids[address]
        manager = self.user(address)
        if manager is None or manager.id is None:
            raise RosterError(
                f"The manager {address} is neither in the file nor in matcher.", "manager_email"
            )
        self.know(address, manager.id)
        return manager.id

    def know(self, email: str, user_id: int) -> None:
        """Remember an account's id by email (managers of later rows)."""
        self.manager_ids[email] = user_id
        self.emails[user_id] = email

    def email_of(self, user_id: int) -> str:
        """The email of the account with that id ("" when there is none)."""
        if user_id not in self.emails:
            found = self.session.get(User, user_id)
            return found.email if found is not None else ""
        return self.emails[user_id]

    def insert_members(self) -> None:
        """Insert the memberships of the people created (one statement)."""
        if self.new_members:
            self.session.connection().execute(insert(ProgrammeMember.__table__), self.new_members)
            self.new_members = []

    def has_pending_do_not_pair(self, email: str) -> bool:
        """True when someone asked never to be paired with this address (or unknown)."""
        return self.pending is None or email in self.pending


@dataclass
class _Work:
    """One record being applied: the user, what changed and what was kept."""

    user: User
    record: PersonRecord
    created: bool
    values: dict[str, Any]
    changed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    invited: int = 0

    def outcome(self) -> Outcome:
        """The result as the contract's Outcome."""
        order = {name: i for i, name in enumerate((*FIELDS, "active"))}
        return Outcome(
            user=self.user,
            created=self.created,
            changed=tuple(sorted(set(self.changed), key=lambda f: order.get(f, 99))),
            kept=tuple(sorted(set(self.kept), key=lambda f: order.get(f, 99))),
        )


def record_values(record: PersonRecord) -> dict[str, Any]:
    """What the record sets, as roster_values stores it (JSON: strings and lists)."""
    values: dict[str, Any] = {"name": normalise_name(record.name)}
    if record.team is not None:
        values["team"] = normalise_name(record.team)
    if record.manager_email is not None:
        values["manager_email"] = normalise_email(record.manager_email)
    if record.office is not None:
        values["office"] = normalise_name(record.office)
    if record.time_zone is not None:
        values["time_zone"] = record.time_zone.strip()
    if record.join_date is not None:
        values["join_date"] = record.join_date.isoformat()
    if record.programmes is not None:
        values["programmes"] = sorted({slug.strip() for slug in record.programmes if slug.strip()})
    if record.external_id is not None:
        values["external_id"] = record.external_id.strip()
    return values


def _same(field_name: str, a: Any, b: Any) -> bool:
    """Whether two values of a field mean the same (teams and offices ignore case and spaces)."""
    if field_name in ("team", "office") and isinstance(a, str) and isinstance(b, str):
        return vocabulary_key(a) == vocabulary_key(b)
    return a == b


def _write(
    session: Session,
    lookups: _Lookups,
    user: User | None,
    record: PersonRecord,
    *,
    today: date,
    overwrite: bool,
) -> _Work:
    """Update the fields the person did not edit (memberships come after)."""
    values = _checked_values(record)
    work = _Work(user=user, record=record, created=False, values=values)
    previous = dict(user.roster_values or {})
    remembered = dict(previous)
    for name, (current, setter) in _fields(lookups, user).items():
        if name not in values:
            continue
        wanted = values[name]
        if _same(name, current, wanted):
            # Remembered as first written: "payments" after "Payments" is no change.
            if name not in previous or not _same(name, previous[name], wanted):
                remembered[name] = wanted
            continue
        untouched = name not in previous or _same(name, current, previous[name])
        if overwrite or untouched:
            setter(wanted)
            remembered[name] = wanted
            work.changed.append(name)
        else:
            work.kept.append(name)
    if remembered != previous:
        user.roster_values = remembered
    return work


def _checked_values(record: PersonRecord) -> dict[str, Any]:
    """The record's values, refusing one without a name."""
    values = record_values(record)
    if not values["name"]:
        raise RosterError("A name is required.", "name")
    return values


def _new_columns(
    lookups: _Lookups, record: PersonRecord, values: dict[str, Any], today: date
) -> dict[str, Any]:
    """A new person's users row: invited now, no password, address not verified."""
    email = record_email(record)
    columns: dict[str, Any] = {
        "email": email,
        "display_name": values["name"],
        "password_hash": None,
        "email_verified_at": None,
        "invited_at": utcnow(),
        "joined_on": record.join_date or today,
        "external_id": values.get("external_id") or None,
        "roster_values": values,
        "team_id": lookups.team_id(values["team"]) if values.get("team") else None,
        "manager_id": None,
    }
    if record.manager_email:
        if values["manager_email"] == email:
            raise RosterError("A person cannot be their own manager.", "manager_email")
        columns["manager_id"] = lookups.manager_id(record.manager_email)
    return columns


def _create(
    session: Session,
    lookups: _Lookups,
    items: Sequence[tuple[PersonRecord, dict[str, Any], dict[str, Any]]],
) -> list[_Work]:
    """Insert new people (their _new_columns) and their profiles, one statement per table,
    then load them."""
    if not items:
        return []
    session.flush()  # what the caller changed lands first (a manager they just made)
    # Core statements (not the unit of work): a file's thousands of people in a few round
    # trips. No flush event sees them: a new person is in no round yet, but counts in their
    # team's size.
    connection = session.connection()
    users, profiles = User.__table__, Profile.__table__
    ids = (
        connection.execute(
            insert(users).returning(users.c.id, sort_by_parameter_order=True),
            [columns for _, _, columns in items],
        )
        .scalars()
        .all()
    )
    insight_counts.people_joined(session, [columns["team_id"] for _, _, columns in items])
    connection.execute(
        insert(profiles),
        [
            {
                "user_id": user_id,
                "location": values.get("office") or None,
                "timezone": values.get("time_zone") or "UTC",
            }
            for user_id, (_, values, _) in zip(ids, items, strict=True)
        ],
    )
    loaded: dict[int, User] = {}
    for start in range(0, len(ids), _CHUNK):
        # Profiles load when asked for (only programmes open to some offices read them).
        for user in session.scalars(
            select(User)
            .where(User.id.in_(ids[start : start + _CHUNK]))
            .options(selectinload(User.team))
        ):
            loaded[user.id] = user
    works = []
    for user_id, (record, values, _) in zip(ids, items, strict=True):
        user = loaded[user_id]
        lookups.remember(user)
        lookups.know(user.email, user.id)
        changed = [name for name in FIELDS if name in values and name != "programmes"]
        works.append(_Work(user=user, record=record, created=True, values=values, changed=changed))
    return works


def _fields(lookups: _Lookups, user: User) -> dict[str, tuple[Any, Callable[[Any], None]]]:
    """Each scalar field's current value and how to set it."""
    profile = user.profile

    def set_name(value: str) -> None:
        user.display_name = value

    def set_team(value: str) -> None:
        user.team = lookups.team(value) if value else None

    def set_manager(value: str) -> None:
        user.manager_id = _checked_manager(lookups, user, value) if value else None

    def set_office(value: str) -> None:
        _profile(user).location = value or None

    def set_time_zone(value: str) -> None:
        _profile(user).timezone = value or "UTC"

    def set_join_date(value: str) -> None:
        user.joined_on = date.fromisoformat(value)

    def set_external_id(value: str) -> None:
        user.external_id = value or None

    manager = lookups.email_of(user.manager_id) if user.manager_id is not None else ""
    return {
        "name": (user.display_name, set_name),
        "team": (user.team.name if user.team else None, set_team),
        "manager_email": (manager, set_manager),
        "office": ((profile.location or "") if profile else "", set_office),
        "time_zone": (profile.timezone if profile else None, set_time_zone),
        "join_date": (user.joined_on.isoformat() if user.joined_on else None, set_join_date),
        "external_id": (user.external_id or "", set_external_id),
    }


def _profile(user: User) -> Profile:
    if user.profile is None:
        user.profile = Profile(user=user)
    return user.profile


def _checked_manager(lookups: _Lookups, user: User, email: str) -> int:
    """The manager's id, refusing the person themselves and a loop in the reporting line."""
    if normalise_email(email) == user.email:
        raise RosterError("A person cannot be their own manager.", "manager_email")
    manager_id = lookups.manager_id(email)
    if user.id is not None and would_loop(lookups.session, user.id, manager_id):
        raise RosterError(
            f"{normalise_email(email)} reports to {user.email} (directly or through others): "
            "a manager cannot report to their own report.",
            "manager_email",
        )
    return manager_id


def would_loop(session: Session, user_id: int, manager_id: int) -> bool:
    """True when making manager_id the manager of user_id closes a loop in the reporting line."""
    current: int | None = manager_id
    for _ in range(MAX_MANAGER_DEPTH):
        if current is None:
            return False
        if current == user_id:
            return True
        above = session.get(User, current)
        current = above.manager_id if above is not None else None
    return True


def _memberships(
    session: Session, lookups: _Lookups, work: _Work, *, today: date, overwrite: bool
) -> None:
    """Join the listed programmes; pause or resume as the record's `active` says."""
    if "programmes" in work.values:
        _join_programmes(session, lookups, work, today=today, overwrite=overwrite)
    if work.record.active is not None and _set_active(lookups, work, work.record.active):
        work.changed.append("active")


def _welcome(
    session: Session, lookups: _Lookups, work: _Work, *, invite: bool, by: str | None
) -> None:
    """For a new person: entries naming their address on do-not-pair lists, the invitation."""
    if not work.created:
        return
    user = work.user
    if lookups.has_pending_do_not_pair(user.email):
        claim_pending_do_not_pair(session, user)
    if invite and queue_invitation(session, user, by):
        work.invited = 1


def _welcome_all(
    session: Session, lookups: _Lookups, works: Sequence[_Work], *, invite: bool, by: str | None
) -> None:
    """_welcome for the new people of a file, their invitations queued in one statement."""
    for work in works:
        if lookups.has_pending_do_not_pair(work.user.email):
            claim_pending_do_not_pair(session, work.user)
    if not invite:
        return
    invited = {user.id for user in queue_invitations(session, [work.user for work in works], by)}
    for work in works:
        work.invited = int(work.user.id in invited)


def _choice(programme: Programme, user: User, today: date) -> Choice:
    """How a directory adds someone: the kind's default role (new joiners as newcomers)."""
    if programme.kind == "mentoring":
        raise RosterError(
            f"{programme.name} asks each person what they want help with or can help with: "
            "people join it from their profile.",
            "programmes",
        )
    role = None
    if programme.roles is not None:
        helped, helper = programme.roles
        role = helped if is_new_joiner(user, programme, today) else helper
    return Choice(programme_id=programme.id, role=role)


def _join_programmes(
    session: Session, lookups: _Lookups, work: _Work, *, today: date, overwrite: bool
) -> None:
    """Join the listed programmes the person is not in; one they left stays left unless
    overwrite (and is listed as kept)."""
    user = work.user
    for slug in work.values["programmes"]:
        programme = lookups.programme(slug)
        if programme is None:
            raise RosterError(f"There is no programme “{slug}”.", "programmes")
        mine = lookups.memberships(user, work.created)
        member = next((m for m in mine if m.programme_id == programme.id), None)
        if member is not None and not member.opted_out:
            continue
        if member is not None and member.pause_reason is not None:
            continue  # paused (missed coffees, the directory): resumed elsewhere
        if member is not None and not overwrite:
            work.kept.append("programmes")  # they left it themselves
            continue
        try:
            choice = _choice(programme, user, today)
            if member is None and work.created:
                lookups.new_members.append(
                    _first_join(programme, user, choice, today, work.record.active is False)
                )
            else:
                joined = join(session, programme, user, choice, today)
                if joined not in mine:
                    mine.append(joined)
        except JoinError as refused:
            raise RosterError(f"{programme.name}: {refused}", "programmes") from refused
        work.changed.append("programmes")


def _first_join(
    programme: Programme, user: User, choice: Choice, today: date, paused: bool
) -> dict[str, Any]:
    """members.join for someone this import created: the same checks, and the row to insert
    (with the others: Lookups.insert_members), paused when the directory says inactive."""
    reason = why_not_open(programme, user, today)
    if reason:
        raise JoinError(reason)
    return {
        "programme_id": programme.id,
        "user_id": user.id,
        "role": check_role(programme, user, choice.role, today),
        "cadence_weeks": choice.cadence_weeks,
        "joined_at": utcnow(),
        "opted_out": paused,
        "pause_reason": PAUSED_BY_DIRECTORY if paused else None,
    }


def _set_active(lookups: _Lookups, work: _Work, active: bool) -> bool:
    """Pause every membership (False) or resume those the directory paused (True); whether
    anything changed. History is never deleted."""
    changed = False
    if work.created:
        return False  # their memberships are made paused or not: _first_join
    for member in lookups.memberships(work.user, work.created):
        if not active and not member.opted_out:
            member.opted_out = True
            member.pause_reason = PAUSED_BY_DIRECTORY
            changed = True
        elif active and member.opted_out and member.pause_reason == PAUSED_BY_DIRECTORY:
            member.opted_out = False
            member.pause_reason = None
            changed = True
    return changed


def set_manager(session: Session, user: User, email: str) -> User | None:
    """Make the live account with that email the user's manager ("" removes the manager);
    returns the manager. Refuses the person themselves, an unknown or erased address and a
    loop in the reporting line (RosterError). Not committed."""
    address = normalise_email(email)
    if not address:
        user.manager_id = None
        return None
    if address == user.email:
        raise RosterError("A person cannot be their own manager.", "manager_email")
    manager = find_person(session, address)
    if manager is None:
        raise RosterError(f"Nobody in matcher has the address {address}.", "manager_email")
    if would_loop(session, user.id, manager.id):
        raise RosterError(
            f"{manager.display_name} reports to {user.display_name} (directly or through "
            "others): a manager cannot report to their own report.",
            "manager_email",
        )
    user.manager_id = manager.id
    return manager
