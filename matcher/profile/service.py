"""Profile service: saving a profile, the do-not-pair list, snooze, leave, export and erase."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    cast,
    delete,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, selectinload

from matcher.audit import erase_person
from matcher.feedback.service import kudos_for
from matcher.models import (
    AvailabilityWindow,
    DoNotPair,
    Feedback,
    Interest,
    MatchGroup,
    Membership,
    PendingDoNotPair,
    PendingErasure,
    Profile,
    Programme,
    ProgrammeMember,
    Project,
    Round,
    Skill,
    SsoIdentity,
    Team,
    User,
)
from matcher.models.people import (
    Cadence,
    new_session_token,
    normalise_email,
    user_can_help,
    user_interests,
    user_projects,
    user_wants_help,
    utcnow,
    vocabulary_key,
)
from matcher.programmes import members
from matcher.programmes.members import membership, memberships_of
from matcher.reasons import facts_without
from matcher.weeks import week_label


@dataclass(frozen=True)
class Slot:
    """A weekly window in the person's own time zone."""

    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class ProfileData:
    """Validated profile input, whatever form or script it came from."""

    team: str
    projects: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    location: str | None = None
    timezone: str = "UTC"
    # How often to meet in the weekly programmes joined at sign-up (register_user); each
    # membership keeps its own afterwards, and update_profile leaves them alone.
    cadence_weeks: int = 1
    meeting_mode: str = "either"
    availability: tuple[Slot, ...] = ()
    video_link: str | None = None
    # The mentoring vocabularies: what one can help with, and wants help with.
    can_help: tuple[str, ...] = ()
    wants_help: tuple[str, ...] = ()


# Suggestions offered per list as people type: the most used entries, enough to recognise
# the usual spellings without sending the whole vocabulary with every form.
SUGGESTIONS_MAX = 40


@dataclass(frozen=True)
class Suggestions:
    """Entries other people use, most used first, for the profile form's suggestion lists."""

    projects: list[str]
    interests: list[str]
    locations: list[str]
    # Skills for "I can help with" / "I want help with", from both lists.
    skills: list[str] = field(default_factory=list)


# Sign-up shows these to anyone: an entry only one person wrote (their office, a one-off
# string planted to be shown to every visitor) is not offered.
SUGGESTION_MIN_PEOPLE = 2


def suggestions(
    session: Session, user_id: int | None = None, limit: int = SUGGESTIONS_MAX
) -> Suggestions:
    """What other live, confirmed accounts than user_id wrote for projects, interests and
    office (unconfirmed ones would let anyone plant a suggestion with two throwaway sign-ups)."""
    others = (
        User.deleted_at.is_(None),
        User.active.is_(True),
        User.email_verified_at.is_not(None),
        User.id != (user_id or 0),
    )

    def used(model: Any, link: Any, column: Any) -> list[str]:
        users = func.count(link.c.user_id)
        rows = session.execute(
            select(model.name)
            .join(link, column == model.id)
            .join(User, User.id == link.c.user_id)
            .where(*others)
            .group_by(model.id, model.name)
            .having(users >= SUGGESTION_MIN_PEOPLE)
            .order_by(users.desc(), func.lower(model.name), model.name)
            .limit(limit)
        )
        return list(rows.scalars())

    places = session.execute(
        select(Profile.location, func.count())
        .join(User, User.id == Profile.user_id)
        .where(*others, Profile.location.is_not(None), Profile.location != "")
        .group_by(Profile.location)
        .order_by(func.count().desc(), func.lower(Profile.location), Profile.location)
    )
    # Offices are free text: "Berlin" and "berlin" are one place, named as most people write
    # it and counted together.
    offices: dict[str, list] = {}
    for name, count in places:
        office = offices.setdefault(vocabulary_key(name), [name, 0])
        office[1] += count
    ranked = sorted(
        (o for o in offices.values() if o[1] >= SUGGESTION_MIN_PEOPLE),
        key=lambda o: (-o[1], o[0].casefold(), o[0]),
    )
    skills = used(Skill, user_can_help, user_can_help.c.skill_id)
    skills += [
        s for s in used(Skill, user_wants_help, user_wants_help.c.skill_id) if s not in skills
    ]
    return Suggestions(
        projects=used(Project, user_projects, user_projects.c.project_id),
        interests=used(Interest, user_interests, user_interests.c.interest_id),
        locations=[name for name, _ in ranked][:limit],
        skills=skills[:limit],
    )


# Entries one member may keep: far more than anyone needs, and a bound on what they can store.
DO_NOT_PAIR_MAX = 200


class DoNotPairError(ValueError):
    """A do-not-pair entry that cannot be added; the message is for the user."""


def update_profile(session: Session, user: User, data: ProfileData) -> None:
    """Write data onto user's profile, team, projects, interests and availability."""
    profile = user.profile or Profile(user=user)
    session.add(profile)
    user.team = Team.get_or_create(session, data.team)
    # Flush after each new vocabulary entry so two spellings in one save hit the same row.
    user.projects = [_vocabulary(session, Project, name) for name in data.projects]
    user.interests = [_vocabulary(session, Interest, name) for name in data.interests]
    user.can_help = [_vocabulary(session, Skill, name) for name in data.can_help]
    user.wants_help = [_vocabulary(session, Skill, name) for name in data.wants_help]
    profile.location = data.location
    profile.timezone = data.timezone
    profile.meeting_mode = data.meeting_mode
    profile.video_link = data.video_link
    user.availability = [
        AvailabilityWindow(
            weekday=slot.weekday, start_minute=slot.start_minute, end_minute=slot.end_minute
        )
        for slot in data.availability
    ]


def _vocabulary(session: Session, model: type, name: str) -> Any:
    entry = model.get_or_create(session, name)
    if entry.id is None:
        session.flush()
    return entry


def profile_data_of(session: Session, user: User) -> ProfileData:
    """The user's current profile as ProfileData (to prefill the edit form)."""
    profile = user.profile or Profile()
    return ProfileData(
        team=user.team.name if user.team else "",
        projects=tuple(p.name for p in user.projects),
        interests=tuple(i.name for i in user.interests),
        can_help=tuple(s.name for s in user.can_help),
        wants_help=tuple(s.name for s in user.wants_help),
        location=profile.location,
        timezone=profile.timezone or "UTC",
        meeting_mode=profile.meeting_mode or "either",
        video_link=profile.video_link,
        availability=tuple(
            Slot(w.weekday, w.start_minute, w.end_minute) for w in user.availability
        ),
    )


def snooze(session: Session, user: User, programme: Programme, until: date | None) -> bool:
    """Skip the programme's rounds until that date (None resumes); False when not a member."""
    member = membership(session, programme, user.id)
    if member is None:
        return False
    members.snooze(member, until)
    return True


def set_opted_out(session: Session, user: User, programme: Programme, opted_out: bool) -> None:
    """Leave (True) or rejoin (False) a programme; the profile is kept either way. Rejoining
    keeps one's role and cadence (raises JoinError when the programme is closed to them)."""
    member = membership(session, programme, user.id)
    if opted_out:
        if member is not None:
            members.leave(member)
        return
    choice = members.Choice(
        programme.id,
        role=member.role if member else None,
        cadence_weeks=member.cadence_weeks if member else 1,
    )
    members.join(session, programme, user, choice, utcnow().date())


# How a person says which role they take when joining a programme with roles.
JOIN_ROLE_LABELS = {
    "newcomer": "I am new here",
    "buddy": "I volunteer as a buddy",
    "mentee": "I would like a mentor",
    "mentor": "I volunteer as a mentor",
}


def join_roles(programme: Programme, user: User, today: date) -> list[tuple[str, str]]:
    """The roles the user may join the programme with, as (role, label); empty without roles.

    "I am new here" is offered to new joiners only (everyone on the day they sign up)."""
    if programme.roles is None:
        return []
    return [
        (role, JOIN_ROLE_LABELS[role])
        for role in programme.roles
        if role != "newcomer" or members.is_new_joiner(user, programme, today)
    ]


@dataclass(frozen=True)
class ProgrammeCard:
    """One programme on the profile page: the user's membership of it (None when they may
    join it) and where they stand: active, snoozed, paused, left, closed or open."""

    programme: Programme
    member: ProgrammeMember | None
    status: str
    roles: list[tuple[str, str]] = field(default_factory=list)


def member_status(member: ProgrammeMember, today: date) -> str:
    """Where a member stands today: paused, left, snoozed or active (as status_column says)."""
    if member.opted_out:
        return "paused" if member.pause_reason else "left"
    return "snoozed" if member.is_snoozed(today) else "active"


# The profile page's statements are built once, with the user bound: building them cost
# about as much Python as running them.
_PROGRAMMES_WITH_MEMBERSHIP = (
    select(Programme, ProgrammeMember)
    .outerjoin(
        ProgrammeMember,
        and_(
            ProgrammeMember.programme_id == Programme.id,
            ProgrammeMember.user_id == bindparam("user_id"),
        ),
    )
    .order_by(Programme.id)
)


def programme_cards(session: Session, user: User, today: date) -> list[ProgrammeCard]:
    """The programmes the user is in, then those they may join, in programme order.

    Archived programmes appear only to those who were in them (as closed); programmes closed
    to the user (another team, office, not a new joiner) do not appear at all. One query:
    every programme with the user's membership of it, if any."""
    cards: list[ProgrammeCard] = []
    offered: list[ProgrammeCard] = []
    rows = session.execute(_PROGRAMMES_WITH_MEMBERSHIP, {"user_id": user.id})
    for programme, member in rows:
        if member is not None:
            status = "closed" if programme.archived else member_status(member, today)
            roles = join_roles(programme, user, today) if status == "left" else []
            cards.append(ProgrammeCard(programme, member, status, roles))
        elif members.why_not_open(programme, user, today) is None:
            offered.append(
                ProgrammeCard(programme, None, "open", join_roles(programme, user, today))
            )
    return cards + offered


@dataclass(frozen=True)
class ProfileLists:
    """The lists the profile page shows (names, and free times in the person's zone)."""

    projects: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    can_help: list[str] = field(default_factory=list)
    wants_help: list[str] = field(default_factory=list)
    availability: list[Slot] = field(default_factory=list)


def _profile_lists_statement() -> Any:
    """profile_lists' one query, the user bound as user_id."""
    no_name = cast(null(), String).label("name")

    def no_minute(label: str) -> Any:
        # A separately labelled NULL per column: SQLAlchemy 2.1 folds one column object
        # selected three times into one, which shifted the free times' columns.
        return cast(null(), Integer).label(label)

    named = [
        select(
            literal_column(str(kind)).label("kind"),
            model.name,
            no_minute("weekday"),
            no_minute("start_minute"),
            no_minute("end_minute"),
        )
        .join(link, column == model.id)
        .where(link.c.user_id == bindparam("user_id"))
        for kind, (model, link, column) in enumerate(
            [
                (Project, user_projects, user_projects.c.project_id),
                (Interest, user_interests, user_interests.c.interest_id),
                (Skill, user_can_help, user_can_help.c.skill_id),
                (Skill, user_wants_help, user_wants_help.c.skill_id),
            ]
        )
    ]
    windows = select(
        literal_column("4").label("kind"),
        no_name,
        AvailabilityWindow.weekday,
        AvailabilityWindow.start_minute,
        AvailabilityWindow.end_minute,
    ).where(AvailabilityWindow.user_id == bindparam("user_id"))
    both = union_all(*named, windows).subquery()
    columns = list(both.c)
    return select(*columns).order_by(columns[0], columns[1], columns[2], columns[3])


_PROFILE_LISTS = _profile_lists_statement()


def profile_lists(session: Session, user_id: int) -> ProfileLists:
    """The user's projects, interests, skills (by name) and free times (by day and start), as
    the User relationships order them: one query for them all (those are five)."""
    found = ProfileLists()
    lists = [found.projects, found.interests, found.can_help, found.wants_help]
    for kind, name, weekday, start, end in session.execute(_PROFILE_LISTS, {"user_id": user_id}):
        if kind < len(lists):
            lists[kind].append(name)
        else:
            found.availability.append(Slot(weekday, start, end))
    return found


def join_programme(
    session: Session, user: User, programme: Programme, role: str | None, cadence_weeks: int
) -> ProgrammeMember:
    """Join (or rejoin) the programme with that role; raises members.JoinError. Not committed.

    Programmes whose pairings last several weeks meet at their own pace: cadence 1."""
    cadence = cadence_weeks if programme.pairing_weeks <= 1 else int(Cadence.WEEKLY)
    choice = members.Choice(programme.id, role=role, cadence_weeks=cadence)
    return members.join(session, programme, user, choice, utcnow().date())


def set_cadence(session: Session, user: User, programme: Programme, cadence_weeks: int) -> None:
    """Meet every 1, 2 or 4 weeks in the programme; raises members.JoinError. Not committed."""
    member = membership(session, programme, user.id)
    if member is None or member.opted_out:
        raise members.JoinError(f"You are not in {programme.name}.")
    if programme.pairing_weeks > 1:
        raise members.JoinError(
            f"Pairings in {programme.name} last {programme.pairing_weeks} weeks: "
            "there is no cadence to choose.",
            field="cadence_weeks",
        )
    if cadence_weeks not in {int(c) for c in Cadence}:
        raise members.JoinError("Choose every 1, 2 or 4 weeks.", field="cadence_weeks")
    member.cadence_weeks = cadence_weeks


@dataclass(frozen=True)
class DoNotPairEntry:
    """One line of a member's do-not-pair list: the address they typed, and when."""

    email: str
    added_at: datetime


_DO_NOT_PAIR_COUNTS = select(
    select(func.count())
    .select_from(DoNotPair)
    .join(User, User.id == DoNotPair.blocked_user_id)
    .where(DoNotPair.user_id == bindparam("user_id"))
    .scalar_subquery(),
    select(func.count())
    .select_from(PendingDoNotPair)
    .where(PendingDoNotPair.user_id == bindparam("user_id"))
    .scalar_subquery(),
)


def do_not_pair_count(session: Session, user: User) -> int:
    """How many entries do_not_pair_entries lists, in one query."""
    counted = session.execute(_DO_NOT_PAIR_COUNTS, {"user_id": user.id}).one()
    return int(counted[0]) + int(counted[1])


def do_not_pair_entries(session: Session, user: User) -> list[DoNotPairEntry]:
    """The user's list by address, whether or not each address has an account."""
    accounts = session.execute(
        select(User.email, DoNotPair.created_at)
        .join(User, User.id == DoNotPair.blocked_user_id)
        .where(DoNotPair.user_id == user.id)
    )
    pending = session.execute(
        select(PendingDoNotPair.email, PendingDoNotPair.created_at).where(
            PendingDoNotPair.user_id == user.id
        )
    )
    entries = [DoNotPairEntry(email, added) for email, added in [*accounts, *pending]]
    return sorted(entries, key=lambda e: e.email)


def add_do_not_pair(session: Session, user: User, email: str) -> str:
    """Keep user apart from whoever has, or later signs up with, that email; returns it stored.

    Nothing here may tell whether the address has an account: the same answer either way.
    """
    address = normalise_email(email)
    if address == user.email:
        raise DoNotPairError("That is your own address: you are never paired with yourself.")
    entries = do_not_pair_entries(session, user)
    if any(entry.email == address for entry in entries):
        return address  # the same address twice is one entry
    if len(entries) >= DO_NOT_PAIR_MAX:
        raise DoNotPairError(f"Your list is full ({DO_NOT_PAIR_MAX}): remove someone first.")
    other = session.scalar(select(User).where(User.email == address, User.deleted_at.is_(None)))
    if other is not None:
        session.add(DoNotPair(user_id=user.id, blocked_user_id=other.id))
    else:
        session.add(PendingDoNotPair(user_id=user.id, email=address))
    return address


def remove_do_not_pair(session: Session, user: User, email: str) -> bool:
    """Take that address off user's list (either kind of entry); False when it was not there."""
    address = normalise_email(email)
    other_ids = select(User.id).where(User.email == address)
    removed = session.execute(
        delete(DoNotPair).where(
            DoNotPair.user_id == user.id, DoNotPair.blocked_user_id.in_(other_ids)
        )
    ).rowcount
    removed += session.execute(
        delete(PendingDoNotPair).where(
            PendingDoNotPair.user_id == user.id, PendingDoNotPair.email == address
        )
    ).rowcount
    session.expire(user, ["do_not_pair"])
    return removed > 0


def claim_pending_do_not_pair(session: Session, user: User) -> int:
    """Turn entries naming a new account's email into DoNotPair rows; how many (not committed)."""
    session.flush()  # the new user needs its id
    pending = session.scalars(
        select(PendingDoNotPair).where(PendingDoNotPair.email == user.email)
    ).all()
    for entry in pending:
        session.add(
            DoNotPair(user_id=entry.user_id, blocked_user_id=user.id, created_at=entry.created_at)
        )
        session.delete(entry)
    return len(pending)


def _utc(moment: datetime | None) -> str | None:
    """A naive UTC timestamp as ISO 8601 with a Z."""
    return moment.isoformat() + "Z" if moment else None


def export_pairings(session: Session, user: User) -> list[dict[str, Any]]:
    """The user's published pairings, oldest first: programme, week, partners' names,
    suggested time."""
    memberships = session.scalars(
        select(Membership)
        .join(Round, Round.id == Membership.round_id)
        .where(Membership.user_id == user.id, Round.status != "draft")
        .order_by(Round.starts_on, Membership.id)
        .options(
            selectinload(Membership.group)
            .selectinload(MatchGroup.round)
            .selectinload(Round.programme),
            selectinload(Membership.group)
            .selectinload(MatchGroup.memberships)
            .selectinload(Membership.user),
        )
    ).all()
    return [
        {
            "programme": m.group.round.programme.name,
            "week": m.group.round.week,
            # Names only: partners' emails and profiles are theirs, not this person's data.
            "partners": [o.user.display_name for o in m.group.memberships if o.user_id != user.id],
            "suggested_time": _utc(m.group.meeting_at),
        }
        for m in memberships
    ]


def export_feedback_given(session: Session, user: User) -> list[dict[str, Any]]:
    """The user's own answers, oldest round first (their private notes included: theirs)."""
    rows = session.execute(
        select(Round.week, Feedback)
        .join(MatchGroup, MatchGroup.id == Feedback.group_id)
        .join(Round, Round.id == MatchGroup.round_id)
        .where(Feedback.user_id == user.id)
        .order_by(Round.starts_on, Feedback.id)
    ).all()
    return [
        {
            "week": week,
            "status": feedback.status,
            "reason": feedback.reason,
            "rating": feedback.rating,
            "would_meet_again": feedback.would_meet_again,
            "private_note": feedback.private_note,
            "kudos": feedback.kudos,
            "created_at": _utc(feedback.created_at),
            "updated_at": _utc(feedback.updated_at),
        }
        for week, feedback in rows
    ]


def export_user_data(session: Session, user: User) -> dict[str, Any]:
    """Everything stored about user, as a JSON-ready dict."""
    profile = user.profile
    return {
        "account": {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "is_admin": user.is_admin,
            "active": user.active,
            "created_at": user.created_at.isoformat() + "Z",
        },
        "team": user.team.name if user.team else None,
        "projects": [p.name for p in user.projects],
        "interests": [i.name for i in user.interests],
        "profile": None
        if profile is None
        else {
            "location": profile.location,
            "timezone": profile.timezone,
            "meeting_mode": profile.meeting_mode,
            "video_link": profile.video_link,
            "updated_at": profile.updated_at.isoformat() + "Z" if profile.updated_at else None,
        },
        "joined_on": user.joined_on.isoformat(),
        "can_help_with": [s.name for s in user.can_help],
        "wants_help_with": [s.name for s in user.wants_help],
        "programmes": [
            {
                "programme": m.programme.name,
                "slug": m.programme.slug,
                "kind": m.programme.kind,
                "role": m.role,
                "cadence_weeks": m.cadence_weeks,
                "snoozed_until": m.snoozed_until.isoformat() if m.snoozed_until else None,
                "left": m.opted_out,
                "pause_reason": m.pause_reason,
                "joined_at": _utc(m.joined_at),
            }
            for m in memberships_of(session, user.id)
        ],
        "availability": [
            {"weekday": w.weekday, "start_minute": w.start_minute, "end_minute": w.end_minute}
            for w in user.availability
        ],
        # By the address typed: whether it has an account is not this person's data.
        "do_not_pair": [
            {"email": entry.email, "added_at": _utc(entry.added_at)}
            for entry in do_not_pair_entries(session, user)
        ],
        "pairings": export_pairings(session, user),
        "feedback_given": export_feedback_given(session, user),
        "kudos_received": [
            {"week": week_label(monday), "from": author, "text": text}
            for monday, author, text in kudos_for(session, user, limit=None)
        ],
    }


def delete_account(session: Session, user: User) -> None:
    """Erase user's personal data, leaving an anonymous placeholder row for past pairings."""
    # Other members' entries naming this person stay on their lists, by address (they typed
    # it, it is theirs), and still keep them apart should the address sign up again.
    for entry in session.scalars(select(DoNotPair).where(DoNotPair.blocked_user_id == user.id)):
        if session.get(PendingDoNotPair, (entry.user_id, user.email)) is None:
            session.add(
                PendingDoNotPair(
                    user_id=entry.user_id, email=user.email, created_at=entry.created_at
                )
            )
    session.execute(
        delete(DoNotPair).where(
            or_(DoNotPair.user_id == user.id, DoNotPair.blocked_user_id == user.id)
        )
    )
    session.execute(delete(PendingDoNotPair).where(PendingDoNotPair.user_id == user.id))
    user.do_not_pair = []
    # Copies elsewhere: the admin audit log, what they wrote in feedback, the facts of their
    # groups (their shared interests, projects, office) and the old English reasons, and the
    # stored round problems (queued: years of rounds are too much work for one request).
    erase_person(session, user.id, user.display_name, user.email)
    session.execute(
        update(Feedback).where(Feedback.user_id == user.id).values(private_note=None, kudos=None)
    )
    their_groups = select(Membership.group_id).where(Membership.user_id == user.id)
    for group in session.scalars(select(MatchGroup).where(MatchGroup.id.in_(their_groups))):
        group.facts = facts_without(group.facts or [], user.id)
        group.reasons = []
    if session.get(PendingErasure, user.id) is None:
        session.add(PendingErasure(user_id=user.id))
    user.projects = []
    user.interests = []
    user.can_help = []
    user.wants_help = []
    session.execute(delete(ProgrammeMember).where(ProgrammeMember.user_id == user.id))
    user.availability = []
    user.team = None
    if user.profile is not None:
        session.delete(user.profile)
        user.profile = None
    # The reporting line and the identity provider's ids are personal data too; the people
    # this person managed keep no manager rather than a placeholder.
    session.execute(update(User).where(User.manager_id == user.id).values(manager_id=None))
    session.execute(delete(SsoIdentity).where(SsoIdentity.user_id == user.id))
    user.manager_id = None
    user.external_id = None
    user.roster_values = None
    user.invited_at = None
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.display_name = "Deleted user"
    # '!' can never be produced by werkzeug's hashers, so no password matches it.
    user.password_hash = "!"
    user.is_admin = False
    user.active = False
    user.deleted_at = utcnow()
    user.session_token = new_session_token()
