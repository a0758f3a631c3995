"""The round's messages: the pairing email with its calendar entry, and the chat post."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from matcher.links import FEEDBACK, SKIP, link_url, public_url
from matcher.models import (
    MEETING_MODES,
    ROLE_LABELS,
    MatchGroup,
    Membership,
    OutboxMessage,
    Programme,
    ProgrammeMember,
    Round,
    User,
)
from matcher.notify.ics import MEETING_LENGTH, build_invitation, pairing_uid
from matcher.notify.render import (
    WEBHOOK_KEY,
    Undeliverable,
    new_email,
    payload_int,
    preloader,
    recipient,
    renderer,
    slack_escape,
)
from matcher.reasons import reasons_for
from matcher.rounds.place import Place, meeting_place
from matcher.timezones import zone_of
from matcher.weeks import day_month, day_time, week_of

# A chat post lists at most this many groups: Slack cuts messages at 40,000 characters.
CHAT_GROUP_LIMIT = 50


@preloader("pairing")
def preload_groups(session: Session, messages: Sequence[OutboxMessage]) -> list[Any]:
    """The groups of a batch of pairing emails, with everything the emails show."""
    group_ids = {
        m.payload.get("group_id")
        for m in messages
        if m.kind == "pairing"
        and isinstance(m.payload, dict)
        and isinstance(m.payload.get("group_id"), int)
    }
    if not group_ids:
        return []
    member_user = selectinload(MatchGroup.memberships).selectinload(Membership.user)
    return list(
        session.scalars(
            select(MatchGroup)
            .where(MatchGroup.id.in_(group_ids))
            .options(
                selectinload(MatchGroup.round),
                member_user.selectinload(User.profile),
                member_user.selectinload(User.team),
                member_user.selectinload(User.projects),
                member_user.selectinload(User.interests),
            )
        )
    )


@dataclass(frozen=True)
class Person:
    """What an email says about one group member."""

    name: str
    email: str
    team: str
    location: str
    projects: list[str]
    interests: list[str]
    meeting_mode: str
    timezone: str
    local_time: str | None
    role: str | None = None  # their role in the pairing ("Mentor"), for kinds with roles

    def same_clock(self, other: Person) -> bool:
        """True when the meeting reads the same on both their clocks (zone names aside)."""
        return (self.local_time or "").split(" (")[0] == (other.local_time or "").split(" (")[0]


def local_time(meeting_at: datetime | None, zone: ZoneInfo) -> str | None:
    """'Tuesday 1 December 2026, 15:00-15:30 (CET, Europe/Berlin)' or None."""
    if meeting_at is None:
        return None
    start = meeting_at.replace(tzinfo=UTC).astimezone(zone)
    end = start + MEETING_LENGTH
    names = zone.key if start.tzname() == zone.key else f"{start.tzname()}, {zone.key}"
    return f"{day_time(start, year=True)}\u2013{end:%H:%M} ({names})"


def person(user: User, meeting_at: datetime | None, role: str | None = None) -> Person:
    """The facts about user an email shows."""
    profile = user.profile
    zone = zone_of(user)
    return Person(
        name=user.display_name,
        email=user.email,
        team=user.team.name if user.team is not None else "no team",
        location=(profile.location if profile is not None else None) or "",
        projects=[p.name for p in user.projects],
        interests=[i.name for i in user.interests],
        meeting_mode=MEETING_MODES.get(profile.meeting_mode if profile else "", "either"),
        timezone=zone.key,
        local_time=local_time(meeting_at, zone),
        role=role,
    )


# How the email addresses a group, by its size (the recipient included).
GROUP_WORDS = {2: "you both", 3: "all three of you", 4: "all four of you"}


def group_words(size: int) -> str:
    """'you both', 'all three of you', ...: the group addressed as a whole."""
    return GROUP_WORDS.get(size, "all of you")


def and_join(names: list[str]) -> str:
    """'Ada', 'Ada and Bob', 'Ada, Bob and Cy'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def roles_in(group: MatchGroup) -> dict[int, str]:
    """Each member's role in the group's programme ("Mentor"...), empty for kinds without."""
    programme = group.round.programme
    if programme.roles is None:
        return {}
    session = object_session(group)
    assert session is not None
    ids = [m.user_id for m in group.memberships]
    rows = session.execute(
        select(ProgrammeMember.user_id, ProgrammeMember.role).where(
            ProgrammeMember.programme_id == programme.id, ProgrammeMember.user_id.in_(ids)
        )
    )
    return {user_id: ROLE_LABELS[role] for user_id, role in rows if role in ROLE_LABELS}


def roles_sentence(partners: Sequence[Person], my_role: str | None) -> str | None:
    """'Ana is your mentor; you are the mentee.' (kinds with roles), else None."""
    named = [f"{p.name} is your {p.role.lower()}" for p in partners if p.role]
    if not named and not my_role:
        return None
    mine = f"you are the {my_role.lower()}" if my_role else ""
    if not named:
        return f"In this pairing {mine}."
    return and_join(named) + (f"; {mine}." if mine else ".")


def pairing_term(programme: Programme, starts_on: date) -> tuple[int, date] | None:
    """(weeks, last day) of a pairing that lasts several weeks (buddies, mentoring), else None."""
    if programme.pairing_weeks <= 1:
        return None
    return programme.pairing_weeks, starts_on + timedelta(weeks=programme.pairing_weeks, days=-1)


def meeting_word(programme: Programme) -> str:
    """What the programme's meetings are called in messages: 'coffee' or 'meeting'."""
    return "coffee" if programme.kind == "coffee" else "meeting"


@renderer("pairing")
def render_pairing(session: Session, message: OutboxMessage, config: Mapping[str, Any]) -> Message:
    """The pairing email to one member: who, why, when (in their zone), where, and a calendar
    entry; replies go to the partners."""
    user = recipient(session, message)
    group = session.get(MatchGroup, payload_int(message, "group_id"))
    if group is None:
        raise Undeliverable("group deleted")
    members = group.members
    membership = next((m for m in group.memberships if m.user_id == user.id), None)
    if membership is None:
        raise Undeliverable("recipient no longer in the group")
    partners = [m for m in members if m.id != user.id and not m.is_deleted]
    if not partners:
        raise Undeliverable("no partner left in the group")
    week = week_of(group.round.starts_on)
    programme = group.round.programme
    zone = zone_of(user)
    names = ", ".join(p.display_name for p in partners)
    place = meeting_place(members)
    roles = roles_in(group)
    people = [person(p, group.meeting_at, roles.get(p.id)) for p in partners]
    term = pairing_term(programme, group.round.starts_on)
    context = {
        "me": person(user, group.meeting_at, roles.get(user.id)),
        "partners": people,
        "reasons": reasons_for(group, reader=user.id),
        "week": week,
        "when": local_time(group.meeting_at, zone),
        "place": place,
        "whose_link": place.whose_link(user.id) if place.video_link else None,
        "together": group_words(len(partners) + 1),
        "partner_names": and_join([p.display_name for p in partners]),
        "pair": len(partners) == 1,
        "dashboard_url": public_url(config, "/dashboard"),
        "feedback_url": link_url(config, FEEDBACK, membership.id, user.id),
        "skip_url": link_url(config, SKIP, user.id, programme.id),
        "org_name": config.get("ORG_NAME", "Engineering"),
        "programme": programme,
        "roles_sentence": roles_sentence(people, roles.get(user.id)),
        "term": (term[0], day_month(term[1], year=term[1].year != group.round.starts_on.year))
        if term
        else None,
        "meeting": meeting_word(programme),
    }
    return new_email(
        config,
        message,
        user,
        f"{programme.name}: your pairing for {week} with {names}",
        (
            render_template("email/pairing.txt", **context),
            render_template("email/pairing.html", **context),
        ),
        pairing_invitation(group, user, config, place),
        reply_to=partners,
    )


def pairing_invitation(
    group: MatchGroup, viewer: User, config: Mapping[str, Any], place: Place | None = None
) -> bytes | None:
    """The group's calendar entry as `viewer` sees it (their zone, they the organiser), or None
    without a time. place: meeting_place(group.members), when the caller has it already."""
    if group.meeting_at is None:
        return None
    partners = [m for m in group.members if m.id != viewer.id and not m.is_deleted]
    names = ", ".join(p.display_name for p in partners)
    place = place if place is not None else meeting_place(group.members)
    programme = group.round.programme
    word = meeting_word(programme)
    lines = [
        f"{programme.name}: {word} with "
        f"{', '.join(f'{p.display_name} <{p.email}>' for p in partners)}."
    ]
    term = pairing_term(programme, group.round.starts_on)
    if term:
        lines.append(f"Your pairing lasts {term[0]} weeks, until {day_month(term[1])}.")
    if place.sentence(viewer.id):
        lines.append(place.sentence(viewer.id))
    reasons = reasons_for(group, reader=viewer.id)
    if reasons:
        lines += ["", "Why you were matched:", *(f"- {r}" for r in reasons)]
    lines += ["", f"Your pairings: {public_url(config, '/dashboard')}"]
    video = (place.video_link, f"Video call ({place.link_owner})") if place.video_link else None
    return build_invitation(
        uid=pairing_uid(group.round.week, group.id),
        start_utc=group.meeting_at,
        timezone=zone_of(viewer),
        summary=f"{programme.name}: {word} with {names}",
        description="\n".join(lines),
        organizer=(viewer.display_name, viewer.email),
        location=place.location,
        video=video,
    )


@renderer("chat_round")
def render_chat_round(
    session: Session, message: OutboxMessage, config: Mapping[str, Any]
) -> dict[str, Any]:
    """A Slack-compatible {"text": ...} body announcing a published round."""
    round_ = session.get(Round, payload_int(message, "round_id"))
    if round_ is None:
        raise Undeliverable("round deleted")
    groups = round_.groups
    lines = [
        f"{round_.programme.name}: pairings for {week_of(round_.starts_on)} are out: "
        f"{len(groups)} groups."
    ]
    for group in groups[:CHAT_GROUP_LIMIT]:
        names = [m.display_name for m in group.members if not m.is_deleted]
        lines.append("\u2022 " + " & ".join(slack_escape(n) for n in names))
    if len(groups) > CHAT_GROUP_LIMIT:
        lines.append(f"\u2026 and {len(groups) - CHAT_GROUP_LIMIT} more.")
    dashboard = public_url(config, "/dashboard")
    lines.append(f"See yours: {dashboard}")
    body: dict[str, Any] = {"text": "\n".join(lines)}
    if round_.programme.chat_webhook_url:
        body[WEBHOOK_KEY] = round_.programme.chat_webhook_url
    return body


def round_messages(
    session: Session, round_: Round, config: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The rows announcing a published round: one pairing email per member, one chat post.

    For queue_messages in the transaction that publishes the round.
    """
    # One query for every member of every group: a round of 10,000 people stays fast.
    members = session.execute(
        select(Membership.group_id, Membership.user_id)
        .where(Membership.round_id == round_.id)
        .order_by(Membership.group_id, Membership.id)
    ).all()
    rows = [
        {
            "kind": "pairing",
            # One pairing email per person and group of the round, however often it is
            # published (a mentor may be in several groups of one round).
            "dedupe_key": f"pairing:{round_.id}:{group_id}:{user_id}",
            "payload": {"group_id": group_id, "user_id": user_id},
            "user_id": user_id,
            "round_id": round_.id,
        }
        for group_id, user_id in members
    ]
    if round_.programme.chat_webhook_url or config.get("CHAT_WEBHOOK_URL"):
        rows.append(
            {
                "kind": "chat_round",
                "dedupe_key": f"chat_round:{round_.id}",
                "payload": {"round_id": round_.id},
                "user_id": None,
                "round_id": round_.id,
            }
        )
    return rows
