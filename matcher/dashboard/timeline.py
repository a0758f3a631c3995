"""What a participant's dashboard shows: a card per programme with its current pairing, and the
pairings past, all read in a fixed number of queries whatever the number of programmes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from matcher.models import (
    ROLE_LABELS,
    Feedback,
    MatchGroup,
    Membership,
    Programme,
    ProgrammeMember,
    Round,
    User,
)
from matcher.reasons import reasons_for
from matcher.rounds.cadence import NextRound, is_skipping, next_rounds_for
from matcher.rounds.place import Place, meeting_place
from matcher.timezones import zone_of
from matcher.weeks import week_start

PAST_LIMIT = 20


@dataclass(frozen=True)
class Pairing:
    """One of the user's groups, with everything the page shows about it."""

    round: Round
    group: MatchGroup
    partners: list[User]
    meeting_local: datetime | None  # in the viewer's time zone
    feedback: Feedback | None = None  # the viewer's own answer, if any
    reasons: tuple[str, ...] = ()  # why they were matched, written to the viewer
    # Each member's role ("Mentor"), for the kinds with roles; empty otherwise.
    roles: Mapping[int, str] = field(default_factory=dict)

    @property
    def programme(self) -> Programme:
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


def cards_memberships(session: Session, user: User) -> list[ProgrammeMember]:
    """The user's memberships shown as cards: not left (paused ones are shown, to rejoin),
    of programmes not archived, with their programme; in programme order."""
    return list(
        session.scalars(
            select(ProgrammeMember)
            .join(Programme, Programme.id == ProgrammeMember.programme_id)
            .where(
                ProgrammeMember.user_id == user.id,
                Programme.archived.is_(False),
                or_(
                    ProgrammeMember.opted_out.is_(False),
                    ProgrammeMember.pause_reason.is_not(None),
                ),
            )
            .order_by(Programme.id)
            .options(joinedload(ProgrammeMember.programme))
        )
    )


def pairings_of(
    session: Session, user: User, since: date | None = None, limit: int = PAST_LIMIT + 10
) -> list[Pairing]:
    """The user's published pairings, newest first: every one from `since` on, and at least
    the `limit` newest."""
    newest = (
        select(Membership.id)
        .join(Round, Round.id == Membership.round_id)
        .where(Membership.user_id == user.id, Round.status != "draft")
        .order_by(Round.starts_on.desc(), Membership.id.desc())
        .limit(limit)
    )
    wanted = Membership.id.in_(newest)
    if since is not None:
        wanted = or_(wanted, Round.starts_on >= since)
    member_user = (
        selectinload(Membership.group)
        .selectinload(MatchGroup.memberships)
        .selectinload(Membership.user)
    )
    memberships = session.scalars(
        select(Membership)
        .join(Round, Round.id == Membership.round_id)
        .where(Membership.user_id == user.id, Round.status != "draft", wanted)
        .order_by(Round.starts_on.desc(), Membership.id.desc())
        .options(
            # Everything the page shows, in a fixed number of queries whatever the history.
            selectinload(Membership.group)
            .selectinload(MatchGroup.round)
            .selectinload(Round.programme),
            member_user.options(
                selectinload(User.team),
                selectinload(User.profile),
                selectinload(User.projects),
                selectinload(User.interests),
            ),
        )
    ).all()
    answers = {
        feedback.membership_id: feedback
        for feedback in session.scalars(
            select(Feedback).where(Feedback.membership_id.in_([m.id for m in memberships]))
        )
    }
    roles = _roles(session, [m.group for m in memberships])
    zone = zone_of(user)
    result = []
    for membership in memberships:
        group = membership.group
        meeting = (
            group.meeting_at.replace(tzinfo=UTC).astimezone(zone) if group.meeting_at else None
        )
        partners = [m.user for m in group.memberships if m.user_id != user.id]
        programme_id = group.round.programme_id
        result.append(
            Pairing(
                group.round,
                group,
                partners,
                meeting,
                answers.get(membership.id),
                tuple(reasons_for(group, reader=user.id)),
                {
                    m.user_id: roles[programme_id, m.user_id]
                    for m in group.memberships
                    if (programme_id, m.user_id) in roles
                },
            )
        )
    return result


def _roles(session: Session, groups: Sequence[MatchGroup]) -> dict[tuple[int, int], str]:
    """(programme id, user id) -> role label for the members of groups of kinds with roles:
    one query for them all (emails.roles_in reads one group)."""
    programme_ids = {g.round.programme_id for g in groups if g.round.programme.roles}
    user_ids = {m.user_id for g in groups for m in g.memberships}
    if not programme_ids:
        return {}
    rows = session.execute(
        select(ProgrammeMember.programme_id, ProgrammeMember.user_id, ProgrammeMember.role).where(
            ProgrammeMember.programme_id.in_(programme_ids),
            ProgrammeMember.user_id.in_(user_ids),
        )
    )
    return {(p, u): ROLE_LABELS[role] for p, u, role in rows if role in ROLE_LABELS}


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
    members = cards_memberships(session, user)
    longest = max((m.programme.pairing_weeks for m in members), default=1)
    # Every pairing that may still be current (the longest term, or last week's coffee).
    since = week_start(today) - timedelta(weeks=max(longest, 1))
    pairings = pairings_of(session, user, since=since)
    next_rounds = next_rounds_for(session, members, now)
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
