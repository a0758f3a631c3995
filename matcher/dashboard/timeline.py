"""What a participant's dashboard shows: a card per programme with its current pairing, and the
pairings past, all read in a fixed number of queries whatever the number of programmes and
the length of the history (columns into small read-only views, not object graphs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, literal_column, or_, select, union_all
from sqlalchemy.orm import Session, aliased, contains_eager

from matcher.models import (
    KIND_ROLES,
    ROLE_LABELS,
    Feedback,
    Interest,
    MatchGroup,
    Membership,
    Profile,
    Programme,
    ProgrammeMember,
    Project,
    Round,
    Team,
    User,
)
from matcher.models.people import user_interests, user_projects
from matcher.programmes.schedule import published_since
from matcher.reasons import reasons_for
from matcher.rounds.cadence import NextRound, is_skipping, next_rounds_from, paired_since
from matcher.rounds.place import Place, meeting_place
from matcher.timezones import zone_of
from matcher.weeks import week_start

PAST_LIMIT = 20
# Pairings read at least: the past ones shown, and room for those shown on the cards.
READ_LIMIT = PAST_LIMIT + 10


@dataclass(frozen=True)
class Named:
    """A team, project or interest as the page shows it: its name."""

    name: str


@dataclass(frozen=True)
class PersonProfile:
    """What the page reads of a member's profile (their office and how they meet)."""

    location: str | None
    meeting_mode: str
    video_link: str | None


@dataclass(frozen=True)
class Person:
    """A member of one of the user's groups, as the page shows them."""

    id: int
    display_name: str
    email: str
    deleted_at: datetime | None
    team: Named | None
    profile: PersonProfile | None
    projects: list[Named] = field(default_factory=list)
    interests: list[Named] = field(default_factory=list)

    @property
    def is_deleted(self) -> bool:
        """True once the account was erased (as User.is_deleted)."""
        return self.deleted_at is not None


@dataclass(frozen=True)
class GroupMember:
    """One place in a group (as Membership: user_id and user), for reasons and places."""

    user_id: int
    user: Person


@dataclass(frozen=True)
class ProgrammeView:
    """What a pairing shows of its programme."""

    id: int
    slug: str
    name: str
    kind: str
    pairing_weeks: int

    @property
    def roles(self) -> tuple[str, str] | None:
        """The two roles of this kind (as Programme.roles)."""
        return KIND_ROLES.get(self.kind)


@dataclass(frozen=True)
class RoundView:
    """What a pairing shows of its round."""

    id: int
    week: str
    starts_on: date
    status: str
    programme_id: int
    programme: ProgrammeView


@dataclass(frozen=True)
class GroupView:
    """One of the user's groups: its members in stored order, facts, reasons and time."""

    id: int
    meeting_at: datetime | None
    facts: list[dict[str, Any]]
    reasons: list[str]
    memberships: list[GroupMember]

    @property
    def members(self) -> list[Person]:
        """The people in this group, in the order they were stored (as MatchGroup.members)."""
        return [m.user for m in self.memberships]


@dataclass(frozen=True)
class Answer:
    """The viewer's own feedback on a pairing: what the page shows of it."""

    status: str


@dataclass(frozen=True)
class Pairing:
    """One of the user's groups, with everything the page shows about it."""

    round: RoundView
    group: GroupView
    partners: list[Person]
    meeting_local: datetime | None  # in the viewer's time zone
    feedback: Answer | None = None  # the viewer's own answer, if any
    reasons: tuple[str, ...] = ()  # why they were matched, written to the viewer
    # Each member's role ("Mentor"), for the kinds with roles; empty otherwise.
    roles: Mapping[int, str] = field(default_factory=dict)

    @property
    def programme(self) -> ProgrammeView:
        """The programme the pairing belongs to."""
        return self.round.programme

    @property
    def ends_on(self) -> date | None:
        """The last day of a pairing that lasts several weeks (a buddy, a mentor), else None."""
        weeks = self.programme.pairing_weeks
        if weeks <= 1:
            return None
        return self.round.starts_on + timedelta(weeks=weeks, days=-1)

    @property
    def place(self) -> Place:
        """Where the group meets (their shared office, or someone's video link)."""
        return meeting_place(self.group.members)

    def role_of(self, user_id: int) -> str | None:
        """The member's role in this pairing ("Mentor"), or None for kinds without roles."""
        return self.roles.get(user_id)


@dataclass(frozen=True)
class Card:
    """One programme the user belongs to: its pairing now, those ahead, and the next round."""

    programme: Programme
    member: ProgrammeMember
    current: list[Pairing]  # several for a mentor with several mentees
    upcoming: list[Pairing]
    next_round: NextRound
    skipping: bool
    # The last day of the pairings that leave the member no room for another (a buddy, a
    # mentee, a mentor with as many mentees as they take): no round pairs them before then.
    busy_until: date | None = None

    @property
    def room(self) -> int:
        """How many more pairings the next round may give (mentors take several)."""
        capacity = self.programme.mentor_capacity if self.member.role == "mentor" else 1
        return max(capacity - sum(1 for p in self.current if p.ends_on), 0)

    @property
    def paused(self) -> bool:
        """True when matcher paused the membership (missed coffees)."""
        return self.member.opted_out


@dataclass(frozen=True)
class Dashboard:
    """The whole page: a card per programme, then the pairings past (every programme)."""

    cards: list[Card]
    past: list[Pairing]


_published = aliased(Round)
# The page's statements are built once (with bound parameters): building a select of a
# dozen columns and joins costs as much Python as running it.
_CARDS = (
    select(ProgrammeMember, _published.week)
    .join(Programme, Programme.id == ProgrammeMember.programme_id)
    .outerjoin(
        _published,
        and_(
            _published.programme_id == Programme.id,
            _published.status != "draft",
            _published.starts_on >= bindparam("published_since"),
        ),
    )
    .where(
        ProgrammeMember.user_id == bindparam("user_id"),
        Programme.archived.is_(False),
        or_(
            ProgrammeMember.opted_out.is_(False),
            ProgrammeMember.pause_reason.is_not(None),
        ),
    )
    .order_by(Programme.id)
    .options(contains_eager(ProgrammeMember.programme))
)


def cards_memberships(
    session: Session, user: User, now: datetime
) -> tuple[list[ProgrammeMember], dict[int, set[str]]]:
    """The user's memberships shown as cards: not left (paused ones are shown, to rejoin),
    of programmes not archived, with their programme, in programme order; and the weeks of
    each of those programmes published from last week on (schedule.published_weeks), read
    in the same query."""
    rows = session.execute(_CARDS, {"user_id": user.id, "published_since": published_since(now)})
    members: dict[int, ProgrammeMember] = {}
    weeks: dict[int, set[str]] = {}
    for member, week in rows:
        members.setdefault(member.programme_id, member)
        found = weeks.setdefault(member.programme_id, set())
        if week is not None:
            found.add(week)
    return list(members.values()), weeks


def _pairings_statement(since: bool) -> Any:
    """The user's groups (bound: user_id, limit and, with since, since): a row per group."""
    newest = (
        select(Membership.id)
        .join(Round, Round.id == Membership.round_id)
        .where(Membership.user_id == bindparam("user_id"), Round.status != "draft")
        .order_by(Round.starts_on.desc(), Membership.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )
    wanted = Membership.id.in_(newest)
    if since:
        wanted = or_(wanted, Round.starts_on >= bindparam("since"))
    return (
        select(
            Membership.group_id,
            Feedback.status,
            Round.id,
            Round.week,
            Round.starts_on,
            Round.status,
            Programme.id,
            Programme.slug,
            Programme.name,
            Programme.kind,
            Programme.pairing_weeks,
            MatchGroup.meeting_at,
            MatchGroup.facts,
            MatchGroup.reasons,
        )
        .join(Round, Round.id == Membership.round_id)
        .join(Programme, Programme.id == Round.programme_id)
        .join(MatchGroup, MatchGroup.id == Membership.group_id)
        .outerjoin(Feedback, Feedback.membership_id == Membership.id)
        .where(Membership.user_id == bindparam("user_id"), Round.status != "draft", wanted)
        .order_by(Round.starts_on.desc(), Membership.id.desc())
    )


_PAIRINGS = {since: _pairings_statement(since) for since in (False, True)}


def pairings_of(
    session: Session, user: User, since: date | None = None, limit: int = READ_LIMIT
) -> list[Pairing]:
    """The user's published pairings, newest first: every one from `since` on, and at least
    the `limit` newest.

    Three queries whatever their number: the user's groups, their members, and the members'
    projects and interests. Not one: PostgreSQL spends longer planning a join of ten tables
    than running it, each time."""
    values: dict[str, Any] = {"user_id": user.id, "limit": limit}
    if since is not None:
        values["since"] = since
    mine = session.execute(_PAIRINGS[since is not None], values).all()
    if not mine:
        return []
    with_roles = {row[6] for row in mine if KIND_ROLES.get(row[9])}
    members, roles = _members(session, [row[0] for row in mine], with_roles, user.id)
    programmes: dict[int, ProgrammeView] = {}
    rounds: dict[int, RoundView] = {}
    zone = zone_of(user)
    result = []
    for row in mine:
        group_id, answer, round_id, week, starts_on, status, programme_id = row[:7]
        slug, name, kind, pairing_weeks, meeting_at, facts, reasons = row[7:]
        programme = programmes.get(programme_id)
        if programme is None:
            programme = programmes[programme_id] = ProgrammeView(
                programme_id, slug, name, kind, pairing_weeks
            )
        round_ = rounds.get(round_id)
        if round_ is None:
            round_ = rounds[round_id] = RoundView(
                round_id, week, starts_on, status, programme_id, programme
            )
        group = GroupView(group_id, meeting_at, facts or [], reasons or [], members[group_id])
        meeting = meeting_at.replace(tzinfo=UTC).astimezone(zone) if meeting_at else None
        result.append(
            Pairing(
                round_,
                group,
                [m.user for m in group.memberships if m.user_id != user.id],
                meeting,
                Answer(answer) if answer else None,
                tuple(reasons_for(group, reader=user.id)),  # type: ignore[arg-type]
                {
                    m.user_id: roles[programme_id, m.user_id]
                    for m in group.memberships
                    if (programme_id, m.user_id) in roles
                },
            )
        )
    return result


_MEMBERS = (
    select(
        Membership.group_id,
        User.id,
        User.display_name,
        User.email,
        User.deleted_at,
        Team.name,
        Profile.user_id,
        Profile.location,
        Profile.meeting_mode,
        Profile.video_link,
        ProgrammeMember.programme_id,
        ProgrammeMember.role,
    )
    .join(User, User.id == Membership.user_id)
    .outerjoin(Team, Team.id == User.team_id)
    .outerjoin(Profile, Profile.user_id == User.id)
    # A row per programme with roles the member is in: their role there.
    .outerjoin(
        ProgrammeMember,
        and_(
            ProgrammeMember.user_id == User.id,
            ProgrammeMember.programme_id.in_(bindparam("with_roles", expanding=True)),
        ),
    )
    .where(Membership.group_id.in_(bindparam("group_ids", expanding=True)))
    .order_by(Membership.group_id, Membership.id)
)


def _members(
    session: Session, group_ids: list[int], with_roles: set[int], viewer_id: int
) -> tuple[dict[int, list[GroupMember]], dict[tuple[int, int], str]]:
    """The members of those groups in stored order (as MatchGroup.memberships), each person
    one Person; and (programme id, user id) -> role label in the programmes with roles."""
    rows = session.execute(_MEMBERS, {"group_ids": group_ids, "with_roles": list(with_roles)}).all()
    lists = _lists(session, {row[1] for row in rows if row[1] != viewer_id})
    people: dict[int, Person] = {}
    roles: dict[tuple[int, int], str] = {}
    groups: dict[int, list[GroupMember]] = {group_id: [] for group_id in group_ids}
    for row in rows:
        group_id, user_id, display_name, email, deleted_at, team = row[:6]
        has_profile, location, meeting_mode, video_link, programme_id, role = row[6:]
        person = people.get(user_id)
        if person is None:
            projects, interests = lists.get(user_id, ([], []))
            person = people[user_id] = Person(
                user_id,
                display_name,
                email,
                deleted_at,
                Named(team) if team is not None else None,
                PersonProfile(location, meeting_mode, video_link) if has_profile else None,
                projects,
                interests,
            )
        if role in ROLE_LABELS:
            roles[programme_id, user_id] = ROLE_LABELS[role]
        members = groups[group_id]
        if not members or members[-1].user_id != user_id:
            members.append(GroupMember(user_id, person))
    return groups, roles


def _lists_statement() -> Any:
    """Projects and interests of the users bound as user_ids, ordered by name."""
    projects = (
        select(user_projects.c.user_id, literal_column("0").label("kind"), Project.name)
        .join(Project, Project.id == user_projects.c.project_id)
        .where(user_projects.c.user_id.in_(bindparam("user_ids", expanding=True)))
    )
    interests = (
        select(user_interests.c.user_id, literal_column("1").label("kind"), Interest.name)
        .join(Interest, Interest.id == user_interests.c.interest_id)
        .where(user_interests.c.user_id.in_(bindparam("user_ids", expanding=True)))
    )
    both = union_all(projects, interests).subquery()
    return select(both.c.user_id, both.c.kind, both.c.name).order_by(both.c.name)


_LISTS = _lists_statement()


def _lists(session: Session, user_ids: set[int]) -> dict[int, tuple[list[Named], list[Named]]]:
    """Each user's projects and interests, ordered by name as User.projects and
    User.interests are: one query for them all."""
    lists: dict[int, tuple[list[Named], list[Named]]] = {i: ([], []) for i in user_ids}
    if not user_ids:
        return lists
    for user_id, kind, name in session.execute(_LISTS, {"user_ids": list(user_ids)}):
        lists[user_id][kind].append(Named(name))
    return lists


def group_for(session: Session, user: User, group_id: int) -> MatchGroup | None:
    """The group with that id if the user is in it (and its round is published), else None."""
    return session.scalar(
        select(MatchGroup)
        .join(Membership, Membership.group_id == MatchGroup.id)
        .join(Round, Round.id == MatchGroup.round_id)
        .where(MatchGroup.id == group_id, Membership.user_id == user.id, Round.status != "draft")
    )


def is_current(pairing: Pairing, today: date) -> bool:
    """True while the pairing lasts: its weeks, and for weekly pairings the week after too
    (people often meet late)."""
    weeks = pairing.programme.pairing_weeks
    age = (week_start(today) - pairing.round.starts_on).days
    return age <= 7 if weeks <= 1 else age < 7 * weeks


def split(pairings: list[Pairing], today: date) -> tuple[list[Pairing], list[Pairing]]:
    """One programme's pairings (newest first) as (current, upcoming).

    Current is this week's round (several groups for a mentor); without one, last week's
    (people meet late); without either, the earliest round published ahead of its week. A
    pairing that lasts weeks stays current until it ends. Later rounds are upcoming.
    """
    this_monday = week_start(today)
    recent = sorted((p for p in pairings if is_current(p, today)), key=lambda p: p.round.starts_on)
    if not recent:
        return [], []
    if recent[0].programme.pairing_weeks > 1:
        ongoing = [p for p in recent if p.round.starts_on <= this_monday]
        if ongoing:
            return ongoing, [p for p in recent if p.round.starts_on > this_monday]
    elif any(p.round.starts_on == this_monday for p in recent):
        recent = [p for p in recent if p.round.starts_on >= this_monday]
    first = recent[0].round.id
    return [p for p in recent if p.round.id == first], [p for p in recent if p.round.id != first]


def dashboard(session: Session, user: User, now: datetime) -> Dashboard:
    """Everything the user's dashboard shows, in a fixed number of queries."""
    today = now.astimezone(zone_of(user)).date()
    members, published = cards_memberships(session, user, now)
    longest = max((m.programme.pairing_weeks for m in members), default=1)
    # Every pairing that may still be current (the longest term, or last week's coffee).
    since = week_start(today) - timedelta(weeks=max(longest, 1))
    # One read serves the cards and the next rounds (which look back at recent pairings too).
    # It is a newest-first prefix of the history, so cutting it at `since` and the newest
    # ones gives what a read from `since` would have.
    read = pairings_of(session, user, since=min(since, paired_since(now)), limit=READ_LIMIT)
    pairings = [p for i, p in enumerate(read) if i < READ_LIMIT or p.round.starts_on >= since]
    paired: dict[int, list[date]] = {}
    for pairing in read:
        if pairing.round.starts_on >= paired_since(now):
            paired.setdefault(pairing.round.programme_id, []).append(pairing.round.starts_on)
    next_rounds = next_rounds_from(members, published, paired, now)
    cards, shown = [], set()
    for member in members:
        mine = [p for p in pairings if p.round.programme_id == member.programme_id]
        current, upcoming = split(mine, today)
        shown |= {p.group.id for p in current + upcoming}
        next_round = next_rounds[member.programme_id]
        made = Card(
            member.programme, member, current, upcoming, next_round, is_skipping(member, next_round)
        )
        lasting = [p.ends_on for p in current if p.ends_on]
        if lasting and made.room == 0:
            made = replace(made, busy_until=min(lasting))
        cards.append(made)
    past = [p for p in pairings if p.group.id not in shown][:PAST_LIMIT]
    return Dashboard(cards, past)
