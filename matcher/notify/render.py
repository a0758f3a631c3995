"""Renderers by kind: turn an outbox row into an email Message or a chat webhook body."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.message import Message
from email.utils import format_datetime, parseaddr
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher.feedback.tokens import feedback_url
from matcher.models import MEETING_MODES, MatchGroup, Membership, OutboxMessage, Round, User
from matcher.notify.ics import MEETING_LENGTH, build_invitation, pairing_uid
from matcher.notify.mime import (
    build_email,
    calendar_part,
    header_text,
    mailbox,
    mailbox_list,
    one_line,
)
from matcher.notify.place import Place, meeting_place
from matcher.reasons import reasons_for
from matcher.rounds.tokens import skip_url
from matcher.rounds.weeks import day_time, week_of

Rendered = Message | dict[str, Any]
Renderer = Callable[[Session, OutboxMessage, Mapping[str, Any]], Rendered]

RENDERERS: dict[str, Renderer] = {}

# A chat post lists at most this many groups: Slack cuts messages at 40,000 characters.
CHAT_GROUP_LIMIT = 50


class Undeliverable(Exception):
    """The message can never be sent (recipient deleted, round gone): drop it, do not retry."""


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Register a renderer for kind."""

    def register(function: Renderer) -> Renderer:
        RENDERERS[kind] = function
        return function

    return register


def render(session: Session, message: OutboxMessage, config: Mapping[str, Any]) -> Rendered:
    """Render message with its kind's renderer; raise Undeliverable when it cannot be sent."""
    function = RENDERERS.get(message.kind)
    if function is None:
        raise Undeliverable(f"unknown message kind {message.kind!r}")
    return function(session, message, config)


def payload_int(message: OutboxMessage, key: str) -> int:
    """An integer from the payload; a payload without it can never be sent (Undeliverable)."""
    value = message.payload.get(key) if isinstance(message.payload, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise Undeliverable(f"bad payload: no integer {key!r}")
    return value


def preload(session: Session, messages: Sequence[OutboxMessage]) -> list[Any]:
    """Load what a batch's renderers need in a few queries; keep the result referenced."""
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


def recipient(session: Session, message: OutboxMessage) -> User:
    """The live user a message goes to (payload "user_id"), or Undeliverable."""
    user = session.get(User, payload_int(message, "user_id"))
    if user is None or user.is_deleted:
        raise Undeliverable("recipient deleted")
    return user


def new_email(
    config: Mapping[str, Any],
    message: OutboxMessage,
    to: User,
    subject: str,
    bodies: tuple[str, str],
    invitation: bytes | None = None,
    reply_to: list[User] | None = None,
) -> Message:
    """An email to one user with the standard headers, (text, html) bodies, an optional
    calendar entry, and Reply-To the people in reply_to (answers go to them, not to us)."""
    sender, domain = _sender(config["MAIL_FROM"])
    headers = [
        ("Subject", header_text(subject)),
        ("From", sender),
        ("To", mailbox(to.display_name, to.email)),
    ]
    if reply_to:
        headers.append(("Reply-To", mailbox_list([(u.display_name, u.email) for u in reply_to])))
    headers += [
        # Stable per outbox row: a re-send after a crash is the same message to mail clients.
        ("Message-ID", f"<outbox-{message.id}@{domain}>"),
        ("Date", format_datetime(datetime.now(UTC))),
        ("Auto-Submitted", "auto-generated"),
    ]
    attachment = calendar_part(invitation) if invitation is not None else None
    return build_email(headers, bodies[0], bodies[1], attachment)


@functools.lru_cache(maxsize=16)
def _sender(mail_from: str) -> tuple[str | Header, str]:
    # The From header and the Message-ID domain, parsed once rather than for every email.
    name, address = parseaddr(mail_from)
    return mailbox(name, address), address.rpartition("@")[2] or "matcher"


def zone_of(user: User) -> ZoneInfo:
    """The user's time zone, UTC when unset or unknown."""
    name = user.profile.timezone if user.profile is not None else "UTC"
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(meeting_at: datetime | None, zone: ZoneInfo) -> str | None:
    """'Tuesday 1 December 2026, 15:00-15:30 (CET, Europe/Berlin)' or None."""
    if meeting_at is None:
        return None
    start = meeting_at.replace(tzinfo=UTC).astimezone(zone)
    end = start + MEETING_LENGTH
    return f"{day_time(start, year=True)}\u2013{end:%H:%M} ({start.tzname()}, {zone.key})"


def person(user: User, meeting_at: datetime | None) -> Person:
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
    )


# How the email addresses a group, by its size (the recipient included).
GROUP_WORDS = {2: "you both", 3: "all three of you", 4: "all four of you"}


def group_words(size: int) -> str:
    """'you both', 'all three of you', ...: the group addressed as a whole."""
    return GROUP_WORDS.get(size, "all of you")


def and_join(names: list[str]) -> str:
    """'Ada', 'Ada and Bob', 'Ada, Bob and Cy'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


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
    zone = zone_of(user)
    names = ", ".join(p.display_name for p in partners)
    place = meeting_place(members)
    context = {
        "me": person(user, group.meeting_at),
        "partners": [person(p, group.meeting_at) for p in partners],
        "reasons": reasons_for(group, reader=user.id),
        "week": week,
        "when": local_time(group.meeting_at, zone),
        "place": place,
        "whose_link": place.whose_link(user.id) if place.video_link else None,
        "together": group_words(len(partners) + 1),
        "partner_names": and_join([p.display_name for p in partners]),
        "pair": len(partners) == 1,
        "dashboard_url": config["BASE_URL"].rstrip("/") + "/dashboard",
        "feedback_url": feedback_url(config, membership.id, user.id),
        "skip_url": skip_url(config, user.id),
        "org_name": config.get("ORG_NAME", "Engineering"),
    }
    return new_email(
        config,
        message,
        user,
        f"Your coffee pairing for {week}: {names}",
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
    lines = [f"Coffee with {', '.join(f'{p.display_name} <{p.email}>' for p in partners)}."]
    if place.sentence(viewer.id):
        lines.append(place.sentence(viewer.id))
    reasons = reasons_for(group, reader=viewer.id)
    if reasons:
        lines += ["", "Why you were matched:", *(f"- {r}" for r in reasons)]
    lines += ["", f"Your pairings: {config['BASE_URL'].rstrip('/')}/dashboard"]
    video = (place.video_link, f"Video call ({place.link_owner})") if place.video_link else None
    return build_invitation(
        uid=pairing_uid(group.round.week, group.id),
        start_utc=group.meeting_at,
        timezone=zone_of(viewer),
        summary=f"Coffee with {names}",
        description="\n".join(lines),
        organizer=(viewer.display_name, viewer.email),
        location=place.location,
        video=video,
    )


def _notice(
    config: Mapping[str, Any],
    message: OutboxMessage,
    user: User,
    subject: str,
    paragraphs: list[str],
    link: tuple[str, str],
) -> Message:
    """A short email: a greeting, a few paragraphs and one link."""
    context = {
        "name": user.display_name,
        "paragraphs": paragraphs,
        "link_label": link[0],
        "link_url": link[1],
        "org_name": config.get("ORG_NAME", "Engineering"),
    }
    return new_email(
        config,
        message,
        user,
        subject,
        (
            render_template("email/notice.txt", **context),
            render_template("email/notice.html", **context),
        ),
    )


@renderer("feedback_reminder")
def render_feedback_reminder(
    session: Session, message: OutboxMessage, config: Mapping[str, Any]
) -> Message:
    """One reminder to answer 'did you meet?' for a pairing."""
    user = recipient(session, message)
    membership = session.get(Membership, payload_int(message, "membership_id"))
    if membership is None or membership.user_id != user.id:
        raise Undeliverable("membership gone")
    partners = [m.user.display_name for m in membership.group.memberships if m.user_id != user.id]
    week = week_of(membership.round.starts_on)
    return _notice(
        config,
        message,
        user,
        f"Did you meet {', '.join(partners)} in {week}?",
        [
            f"How did your coffee with {', '.join(partners)} in {week} go?",
            "Two clicks tell us whether you met and help us pick better pairings.",
        ],
        ("Tell us how it went", feedback_url(config, membership.id, user.id)),
    )


@renderer("nudge")
def render_nudge(session: Session, message: OutboxMessage, config: Mapping[str, Any]) -> Message:
    """A friendly note after missed coffees, before the person is paused."""
    user = recipient(session, message)
    streak = payload_int(message, "streak")
    return _notice(
        config,
        message,
        user,
        "We missed you at your last coffees",
        [
            f"Your last {streak} coffee pairings did not happen (or we did not hear back).",
            "If now is a busy time, snooze for a few weeks from your profile; otherwise "
            "we will pause your pairings after the next missed one.",
        ],
        ("Snooze or change your cadence", config["BASE_URL"].rstrip("/") + "/me/"),
    )


@renderer("paused")
def render_paused(session: Session, message: OutboxMessage, config: Mapping[str, Any]) -> Message:
    """Tells someone their pairings are paused, and how to resume."""
    user = recipient(session, message)
    streak = payload_int(message, "streak")
    return _notice(
        config,
        message,
        user,
        "Your coffee pairings are paused",
        [
            f"After {streak} coffees in a row that did not happen, we paused your pairings so "
            "nobody waits for a meeting that will not take place.",
            "Rejoin whenever you like: one click on your profile and you are in the next round.",
        ],
        ("Rejoin the pairings", config["BASE_URL"].rstrip("/") + "/me/"),
    )


@renderer("password_reset")
def render_password_reset(
    session: Session, message: OutboxMessage, config: Mapping[str, Any]
) -> Message:
    """The password-reset link, and how long it stays valid."""
    user = recipient(session, message)
    url = message.payload.get("url")
    if not isinstance(url, str):
        raise Undeliverable("bad payload: url")
    context = {
        "name": user.display_name,
        "url": url,
        "minutes": max(1, int(config.get("PASSWORD_RESET_MAX_AGE", 3600)) // 60),
        "org_name": config.get("ORG_NAME", "Engineering"),
    }
    return new_email(
        config,
        message,
        user,
        "Reset your matcher password",
        (
            render_template("email/password_reset.txt", **context),
            render_template("email/password_reset.html", **context),
        ),
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
    lines = [f"Coffee pairings for {week_of(round_.starts_on)} are out: {len(groups)} groups."]
    for group in groups[:CHAT_GROUP_LIMIT]:
        names = [m.display_name for m in group.members if not m.is_deleted]
        lines.append("\u2022 " + " & ".join(slack_escape(n) for n in names))
    if len(groups) > CHAT_GROUP_LIMIT:
        lines.append(f"\u2026 and {len(groups) - CHAT_GROUP_LIMIT} more.")
    dashboard = config["BASE_URL"].rstrip("/") + "/dashboard"
    lines.append(f"See yours: {dashboard}")
    return {"text": "\n".join(lines)}


def slack_escape(text: str) -> str:
    """Escape &, < and > so a name like '<!channel>' cannot ping or link anything."""
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
