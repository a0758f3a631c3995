"""Feedback's messages: reminders to answer, nudges after missed coffees, pause notices."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import Message
from typing import Any

from sqlalchemy.orm import Session

from matcher.links import FEEDBACK, link_url, public_url
from matcher.models import Membership, OutboxMessage, Programme
from matcher.notify.render import Undeliverable, notice_email, payload_int, recipient, renderer
from matcher.weeks import week_of


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
    programme = membership.round.programme
    word = "coffee" if programme.kind == "coffee" else "pairing"
    return notice_email(
        config,
        message,
        user,
        f"{programme.name}: did you meet {', '.join(partners)} in {week}?",
        [
            f"How did your {word} with {', '.join(partners)} in {week} go? ({programme.name})",
            "Two clicks tell us whether you met and help us pick better pairings.",
        ],
        ("Tell us how it went", link_url(config, FEEDBACK, membership.id, user.id)),
    )


def programme_name(session: Session, message: OutboxMessage) -> str:
    """The name of the programme a nudge or pause is about (messages queued before
    programmes carry none: they were about the cross-team coffee)."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    programme_id = payload.get("programme_id")
    programme = session.get(Programme, programme_id) if isinstance(programme_id, int) else None
    return programme.name if programme is not None else "Cross-team coffee"


@renderer("nudge")
def render_nudge(session: Session, message: OutboxMessage, config: Mapping[str, Any]) -> Message:
    """A friendly note after missed coffees, before the person is paused."""
    user = recipient(session, message)
    streak = payload_int(message, "streak")
    name = programme_name(session, message)
    return notice_email(
        config,
        message,
        user,
        f"{name}: we missed you at your last meetings",
        [
            f"Your last {streak} {name} pairings did not happen (or we did not hear back).",
            "If now is a busy time, snooze for a few weeks from your profile; otherwise "
            f"we will pause you in {name} after the next missed one (your other programmes "
            "go on as they are).",
        ],
        ("Snooze or change your cadence", public_url(config, "/me/")),
    )


@renderer("paused")
def render_paused(session: Session, message: OutboxMessage, config: Mapping[str, Any]) -> Message:
    """Tells someone their pairings are paused, and how to resume."""
    user = recipient(session, message)
    streak = payload_int(message, "streak")
    name = programme_name(session, message)
    return notice_email(
        config,
        message,
        user,
        f"{name}: your pairings are paused",
        [
            f"After {streak} {name} pairings in a row that did not happen, we paused you in "
            f"{name} so nobody waits for a meeting that will not take place.",
            f"Only {name} is paused: your other programmes go on as they are.",
            "Rejoin whenever you like: one click on your profile and you are in its next round.",
        ],
        (f"Rejoin {name}", public_url(config, "/me/")),
    )
