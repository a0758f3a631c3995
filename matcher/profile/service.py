"""Profile service: saving a profile, the do-not-pair list, snooze, leave, export and erase."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from matcher.admin.audit import erase_person
from matcher.models import (
    AvailabilityWindow,
    DoNotPair,
    Feedback,
    Interest,
    MatchGroup,
    Membership,
    PendingErasure,
    Profile,
    Project,
    Team,
    User,
)
from matcher.models.people import new_session_token, utcnow


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
    cadence_weeks: int = 1
    meeting_mode: str = "either"
    availability: tuple[Slot, ...] = ()


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
    profile.location = data.location
    profile.timezone = data.timezone
    profile.cadence_weeks = data.cadence_weeks
    profile.meeting_mode = data.meeting_mode
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


def profile_data_of(user: User) -> ProfileData:
    """The user's current profile as ProfileData (to prefill the edit form)."""
    profile = user.profile or Profile()
    return ProfileData(
        team=user.team.name if user.team else "",
        projects=tuple(p.name for p in user.projects),
        interests=tuple(i.name for i in user.interests),
        location=profile.location,
        timezone=profile.timezone or "UTC",
        cadence_weeks=profile.cadence_weeks or 1,
        meeting_mode=profile.meeting_mode or "either",
        availability=tuple(
            Slot(w.weekday, w.start_minute, w.end_minute) for w in user.availability
        ),
    )


def snooze(user: User, until: date | None) -> None:
    """Pause pairings until that date (None resumes)."""
    user.profile.snoozed_until = until


def set_opted_out(user: User, opted_out: bool) -> None:
    """Leave (True) or rejoin (False) the programme; the profile is kept either way."""
    user.profile.opted_out = opted_out
    if not opted_out:
        user.profile.snoozed_until = None
        user.profile.pause_reason = None


def add_do_not_pair(session: Session, user: User, email: str) -> User:
    """Add the user with that email to user's private list; returns them."""
    other = session.scalar(
        select(User).where(User.email == email.strip().lower(), User.deleted_at.is_(None))
    )
    if other is None:
        raise DoNotPairError("Nobody with that email has signed up.")
    if other.id == user.id:
        raise DoNotPairError("That is your own email.")
    if session.get(DoNotPair, (user.id, other.id)) is None:
        session.add(DoNotPair(user_id=user.id, blocked_user_id=other.id))
    return other


def remove_do_not_pair(session: Session, user: User, other_id: int) -> bool:
    """Remove other_id from user's list; False when it was not there."""
    entry = session.get(DoNotPair, (user.id, other_id))
    if entry is None:
        return False
    session.delete(entry)
    return True


def export_user_data(user: User) -> dict[str, Any]:
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
            "cadence_weeks": profile.cadence_weeks,
            "meeting_mode": profile.meeting_mode,
            "snoozed_until": profile.snoozed_until.isoformat() if profile.snoozed_until else None,
            "opted_out": profile.opted_out,
            "updated_at": profile.updated_at.isoformat() + "Z" if profile.updated_at else None,
        },
        "availability": [
            {"weekday": w.weekday, "start_minute": w.start_minute, "end_minute": w.end_minute}
            for w in user.availability
        ],
        "do_not_pair": [
            {
                "display_name": entry.blocked_user.display_name,
                "email": entry.blocked_user.email,
                "added_at": entry.created_at.isoformat() + "Z",
            }
            for entry in user.do_not_pair
        ],
    }


def delete_account(session: Session, user: User) -> None:
    """Erase user's personal data, leaving an anonymous placeholder row for past pairings."""
    session.execute(
        delete(DoNotPair).where(
            or_(DoNotPair.user_id == user.id, DoNotPair.blocked_user_id == user.id)
        )
    )
    user.do_not_pair = []
    # Copies elsewhere: the admin audit log, what they wrote in feedback, the reasons of their
    # groups (which name shared interests, projects, their office), and the stored round
    # problems (queued: years of rounds are too much work for one request).
    erase_person(session, user.id, user.display_name, user.email)
    session.execute(
        update(Feedback).where(Feedback.user_id == user.id).values(private_note=None, kudos=None)
    )
    their_groups = select(Membership.group_id).where(Membership.user_id == user.id)
    session.execute(update(MatchGroup).where(MatchGroup.id.in_(their_groups)).values(reasons=[]))
    if session.get(PendingErasure, user.id) is None:
        session.add(PendingErasure(user_id=user.id))
    user.projects = []
    user.interests = []
    user.availability = []
    user.team = None
    if user.profile is not None:
        session.delete(user.profile)
        user.profile = None
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.display_name = "Deleted user"
    # '!' can never be produced by werkzeug's hashers, so no password matches it.
    user.password_hash = "!"
    user.is_admin = False
    user.active = False
    user.deleted_at = utcnow()
    user.session_token = new_session_token()
