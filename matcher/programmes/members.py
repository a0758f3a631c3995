"""Who belongs to which programme: joining, leaving, snoozing, cadence, and where one stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlalchemy.orm import Session

from matcher.models import Profile, Programme, ProgrammeMember, User
from matcher.models.people import Cadence, utcnow

# Where someone stands in a programme, as the admin pages name it.
STATUSES = {
    "active": "active",
    "snoozed": "snoozed",
    "paused": "paused",
    "left": "left",
    "not_member": "not in this programme",
    "never_joined": "never joined",
    "deactivated": "deactivated",
    "invited": "invited",
    "unverified": "address not confirmed",
}
# Why someone who stands elsewhere than "active" is left out of a round, as round pages say.
LEFT_OUT_BECAUSE = {
    "never_joined": "never joined (no profile)",
    "not_member": "not in this programme",
    "paused": "paused after missed coffees",
    "left": "left the programme",
    "snoozed": "snoozed",
    "invited": "invited, not yet accepted",
    "unverified": "address not confirmed",
}


class JoinError(ValueError):
    """Someone cannot join a programme (or not with that role); `field` names what to fix."""

    def __init__(self, message: str, field: str = "programmes") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Choice:
    """A programme someone asks to join, with their role there (kinds with roles) and cadence."""

    programme_id: int
    role: str | None = None
    cadence_weeks: int = int(Cadence.WEEKLY)


def status_column(today: date) -> ColumnElement[str]:
    """SQL for where a person stands in a programme on `today`: deactivated, invited,
    never_joined, not_member, unverified, paused, left, snoozed or active. Needs Profile and
    ProgrammeMember (of one programme) outer-joined to User; the one rule for rounds and pages.

    Never joined means no team: every profile form asks for one, so only accounts that never
    filled it in (`users create-admin`) have none. Invited (imported or provisioned, the
    invitation not accepted) and unverified (signed up, the address not confirmed) people are
    never paired: nobody unverified is.
    """
    unverified = User.email_verified_at.is_(None)
    return case(
        (User.active.is_(False), "deactivated"),
        (and_(unverified, User.invited_at.is_not(None)), "invited"),
        (or_(Profile.user_id.is_(None), User.team_id.is_(None)), "never_joined"),
        (ProgrammeMember.user_id.is_(None), "not_member"),
        (unverified, "unverified"),
        (
            and_(ProgrammeMember.opted_out.is_(True), ProgrammeMember.pause_reason.is_not(None)),
            "paused",
        ),
        (ProgrammeMember.opted_out.is_(True), "left"),
        (
            and_(
                ProgrammeMember.snoozed_until.is_not(None), ProgrammeMember.snoozed_until >= today
            ),
            "snoozed",
        ),
        else_="active",
    )


def member_join(programme_id: int) -> ColumnElement[bool]:
    """The ON clause that outer-joins a user's membership of one programme."""
    return and_(ProgrammeMember.user_id == User.id, ProgrammeMember.programme_id == programme_id)


def membership(session: Session, programme: Programme, user_id: int) -> ProgrammeMember | None:
    """The user's membership of the programme, if they ever joined it."""
    return session.get(ProgrammeMember, (programme.id, user_id))


def memberships_of(session: Session, user_id: int) -> list[ProgrammeMember]:
    """Every programme the user joined (left ones included), in programme order."""
    return list(
        session.scalars(
            select(ProgrammeMember)
            .where(ProgrammeMember.user_id == user_id)
            .order_by(ProgrammeMember.programme_id)
        )
    )


def is_new_joiner(user: User, programme: Programme, today: date) -> bool:
    """True when the user joined the organisation within the programme's new-joiner weeks."""
    return user.joined_on >= today - timedelta(weeks=programme.joined_within_weeks)


def why_not_open(programme: Programme, user: User, today: date) -> str | None:
    """Why the user may not join the programme, or None when they may."""
    if programme.archived:
        return f"{programme.name} is closed."
    values = {v.casefold() for v in programme.open_values or ()}
    if programme.open_to == "teams" and (
        user.team is None or user.team.name.casefold() not in values
    ):
        return f"{programme.name} is only for some teams."
    if programme.open_to == "offices":
        office = user.profile.location if user.profile else None
        if not office or office.casefold() not in values:
            return f"{programme.name} is only for some offices."
    if programme.open_to == "new_joiners" and not is_new_joiner(user, programme, today):
        weeks = programme.joined_within_weeks
        return f"{programme.name} is for people who joined in the last {weeks} weeks."
    return None


def check_role(programme: Programme, user: User, role: str | None, today: date) -> str | None:
    """The role someone joins with (None for kinds without roles); raises JoinError."""
    if programme.roles is None:
        return None
    helped, helper = programme.roles
    if role not in programme.roles:
        raise JoinError(f"Choose how you take part in {programme.name}.", field="role")
    if role == "newcomer" and not is_new_joiner(user, programme, today):
        raise JoinError(
            f"New joiners are people who joined in the last {programme.joined_within_weeks} "
            "weeks; you can volunteer as a buddy.",
            field="role",
        )
    if role == "mentee" and not user.wants_help:
        raise JoinError(
            "Say what you want help with, so we can find you a mentor.", field="wants_help"
        )
    if role == "mentor" and not user.can_help:
        raise JoinError("Say what you can help with, so mentees can find you.", field="can_help")
    return role


def join(
    session: Session, programme: Programme, user: User, choice: Choice, today: date
) -> ProgrammeMember:
    """Add the user to the programme, or rejoin it with this role and cadence (raises JoinError).

    Not committed.
    """
    reason = why_not_open(programme, user, today)
    if reason:
        raise JoinError(reason)
    role = check_role(programme, user, choice.role, today)
    if choice.cadence_weeks not in {int(c) for c in Cadence}:
        raise JoinError("Choose every 1, 2 or 4 weeks.", field="cadence_weeks")
    member = membership(session, programme, user.id)
    if member is None:
        member = ProgrammeMember(programme_id=programme.id, user_id=user.id, joined_at=utcnow())
        session.add(member)
    member.role = role
    member.cadence_weeks = choice.cadence_weeks
    member.opted_out = False
    member.pause_reason = None
    member.snoozed_until = None
    return member


def leave(member: ProgrammeMember) -> None:
    """Leave the programme; the membership (and its history) is kept for rejoining."""
    member.opted_out = True
    member.pause_reason = None


def snooze(member: ProgrammeMember, until: date | None) -> None:
    """Skip the programme's rounds up to that date (None resumes)."""
    member.snoozed_until = until


def auto_enrol(session: Session, programme: Programme, today: date) -> int:
    """Add everyone who qualifies and is not in yet (new joiners of a buddy programme,
    everyone open to a coffee programme with automatic joining); returns how many."""
    if not programme.auto_enrol or programme.archived:
        return 0
    known = select(ProgrammeMember.user_id).where(ProgrammeMember.programme_id == programme.id)
    query = (
        select(User)
        .join(Profile, Profile.user_id == User.id)
        .where(
            User.active,
            User.deleted_at.is_(None),
            User.team_id.is_not(None),
            User.id.not_in(known),
        )
        .order_by(User.id)
    )
    if programme.kind == "buddies" or programme.open_to == "new_joiners":
        query = query.where(
            User.joined_on >= today - timedelta(weeks=programme.joined_within_weeks)
        )
    added = 0
    for user in session.scalars(query):
        if why_not_open(programme, user, today) is not None:
            continue
        role = programme.roles[0] if programme.roles else None
        if role == "mentee" and not user.wants_help:
            continue
        session.add(
            ProgrammeMember(
                programme_id=programme.id, user_id=user.id, role=role, joined_at=utcnow()
            )
        )
        added += 1
    session.flush()
    return added
