"""Feedback service: record answers, remind, close rounds, nudge and pause, kudos."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from matcher.models import Feedback, MatchGroup, Membership, ProgrammeMember, Round, User
from matcher.models.people import utcnow
from matcher.notify.queue import queue_message
from matcher.rounds import publishing
from matcher.timezones import zone_of
from matcher.weeks import week_of

DEFAULT_WINDOW_DAYS = 14


# The one answer that makes sense before the coffee could have happened.
ANSWER_BEFORE_MEETING = "not_yet"


class FeedbackClosed(Exception):
    """The round's feedback window is over."""


class TooEarly(ValueError):
    """An answer other than "not yet" before the coffee can have happened; message for people."""


@dataclass(frozen=True)
class Answer:
    """A validated feedback submission."""

    status: str
    reason: str | None = None
    rating: int | None = None
    would_meet_again: bool | None = None
    private_note: str | None = None
    kudos: str | None = None


def membership_for(session: Session, membership_id: int, user_id: int) -> Membership | None:
    """The membership if it belongs to that user, in a published or closed round."""
    return _published_membership(
        session, Membership.id == membership_id, Membership.user_id == user_id
    )


def membership_in_group(session: Session, group_id: int, user_id: int) -> Membership | None:
    """The user's membership of that group, if they are in it (published rounds only)."""
    return _published_membership(
        session, Membership.group_id == group_id, Membership.user_id == user_id
    )


def _published_membership(session: Session, *where: Any) -> Membership | None:
    """The membership that `where` names in a published or closed round, with what the
    feedback form shows (round, person and zone, partners and teams): two queries whatever
    the size of the group."""
    return session.scalar(
        select(Membership)
        .join(Round, Round.id == Membership.round_id)
        .where(*where, Round.status != "draft")
        .options(
            joinedload(Membership.round),
            joinedload(Membership.user).joinedload(User.profile),
            joinedload(Membership.group)
            .selectinload(MatchGroup.memberships)
            .joinedload(Membership.user)
            .joinedload(User.team),
        )
    )


def feedback_of(session: Session, membership: Membership) -> Feedback | None:
    """The member's answer so far, if any."""
    return session.scalar(select(Feedback).where(Feedback.membership_id == membership.id))


def answerable_from(membership: Membership) -> datetime:
    """When the coffee can first have happened, in naive UTC: the start of the pairing's week
    where the member lives (a group may move its suggested time earlier)."""
    start = datetime.combine(membership.round.starts_on, time(), tzinfo=zone_of(membership.user))
    return start.astimezone(UTC).replace(tzinfo=None)


def too_early(membership: Membership, now: datetime | None = None) -> str | None:
    """Why "we met" cannot be answered yet, for people; None once the pairing's week began."""
    if (now or utcnow()) >= answerable_from(membership):
        return None
    return (
        f"Your coffee is for {week_of(membership.round.starts_on)}: until then you can answer "
        "\u201cNot yet\u201d, or \u201cWe will not meet\u201d if you already know."
    )


def check_answer(membership: Membership, status: str, now: datetime | None = None) -> None:
    """Raise TooEarly for "we met" before the pairing's week has begun."""
    if status == "met":
        message = too_early(membership, now)
        if message:
            raise TooEarly(message)


def record(
    session: Session, membership: Membership, answer: Answer, now: datetime | None = None
) -> Feedback:
    """Store or update the answer (not committed); refuses closed rounds and answers too early."""
    if membership.round.status == "closed":
        raise FeedbackClosed("The feedback window for this round is over.")
    check_answer(membership, answer.status, now)
    feedback = feedback_of(session, membership)
    if feedback is None:
        feedback = Feedback(
            membership_id=membership.id, group_id=membership.group_id, user_id=membership.user_id
        )
        session.add(feedback)
    feedback.status = answer.status
    feedback.reason = answer.reason if answer.status == "will_not_meet" else None
    feedback.rating = answer.rating if answer.status == "met" else None
    # "Would meet again" and kudos speak of a coffee that happened (or will not): a "not yet"
    # must not block a pair for good or thank someone in advance.
    decided = answer.status != ANSWER_BEFORE_MEETING
    feedback.would_meet_again = answer.would_meet_again if decided else None
    feedback.private_note = (answer.private_note or "").strip() or None
    feedback.kudos = ((answer.kudos or "").strip() or None) if answer.status == "met" else None
    member = session.get(ProgrammeMember, (membership.round.programme_id, membership.user_id))
    if feedback.status == "met" and member is not None:
        # Meeting again ends any pause for missed coffees.
        member.pause_reason = None
    return feedback


def kudos_for(session: Session, user: User, limit: int | None = 20) -> list[tuple[date, str, str]]:
    """(Monday of the week, from whom, text) of kudos to the user, newest first (None: all)."""
    mine = select(Membership.group_id).where(Membership.user_id == user.id)
    rows = session.execute(
        select(Round.starts_on, User.display_name, Feedback.kudos)
        .join(MatchGroup, MatchGroup.id == Feedback.group_id)
        .join(Round, Round.id == MatchGroup.round_id)
        .join(User, User.id == Feedback.user_id)
        .where(
            Feedback.group_id.in_(mine),
            Feedback.user_id != user.id,
            Feedback.kudos.is_not(None),
        )
        .order_by(Round.starts_on.desc(), Feedback.id)
        .limit(limit)
    )
    return [(monday, name, text) for monday, name, text in rows]


@dataclass
class MaintenanceReport:
    """What one maintenance pass did."""

    reminders: int = 0
    closed: int = 0
    nudged: int = 0
    paused: int = 0


def maintain(
    session: Session, config: Mapping[str, Any], now: datetime | None = None
) -> MaintenanceReport:
    """Send due reminders, close rounds past their window, nudge and pause no-shows."""
    now = now or utcnow()
    report = MaintenanceReport()
    published = session.scalars(
        select(Round)
        .where(Round.status == "published")
        .options(
            selectinload(Round.groups).selectinload(MatchGroup.memberships),
            selectinload(Round.programme),
        )
    ).all()
    for round_ in published:
        programme = round_.programme
        # A pairing that lasts weeks (buddies, mentoring) is asked about when it ends.
        lasts = timedelta(weeks=programme.pairing_weeks - 1)
        window = lasts + timedelta(
            days=int(config.get("FEEDBACK_WINDOW_DAYS", DEFAULT_WINDOW_DAYS))
        )
        remind_after = lasts + timedelta(days=programme.feedback_reminder_days)
        answered = set(
            session.scalars(
                select(Feedback.membership_id)
                .join(Membership, Membership.id == Feedback.membership_id)
                .where(Membership.round_id == round_.id)
            )
        )
        if round_.published_at and now >= round_.published_at + remind_after:
            for group in round_.groups:
                for membership in group.memberships:
                    if membership.id not in answered and queue_message(
                        session,
                        "feedback_reminder",
                        f"feedback_reminder:{round_.id}:{membership.id}",
                        {"membership_id": membership.id, "user_id": membership.user_id},
                        user_id=membership.user_id,
                        round_id=round_.id,
                    ):
                        report.reminders += 1
        if round_.published_at and now >= round_.published_at + window:
            publishing.close_round(round_, now)
            report.closed += 1
            nudged, paused = _nudge_and_pause(session, round_, programme.pause_after_missed)
            report.nudged += nudged
            report.paused += paused
    return report


def missed_streak(session: Session, user_id: int, programme_id: int) -> int:
    """Closed rounds of the programme in a row, newest first, where the user neither answered
    'met' nor at all."""
    rows = session.execute(
        select(Round.id, Feedback.status)
        .join(Membership, Membership.round_id == Round.id)
        .outerjoin(Feedback, Feedback.membership_id == Membership.id)
        .where(
            Membership.user_id == user_id,
            Round.status == "closed",
            Round.programme_id == programme_id,
        )
        .order_by(Round.starts_on.desc())
        .limit(52)
    )
    streak = 0
    for _round_id, status in rows:
        if status == "met":
            break
        streak += 1
    return streak


def _nudge_and_pause(session: Session, round_: Round, pause_after: int) -> tuple[int, int]:
    nudged = paused = 0
    seen: set[int] = set()
    for group in round_.groups:
        for membership in group.memberships:
            user = membership.user
            if membership.user_id in seen:  # a mentor with several mentees: once
                continue
            seen.add(membership.user_id)
            member = session.get(ProgrammeMember, (round_.programme_id, user.id))
            if user.is_deleted or member is None or member.opted_out:
                continue
            streak = missed_streak(session, user.id, round_.programme_id)
            if streak >= pause_after:
                member.opted_out = True
                member.pause_reason = f"{streak} coffees in a row without a meeting"
                kind = "paused"
                paused += 1
            elif streak == pause_after - 1 and streak > 0:
                kind = "nudge"
                nudged += 1
            else:
                continue
            queue_message(
                session,
                kind,
                f"{kind}:{round_.id}:{user.id}",
                {"user_id": user.id, "streak": streak, "programme_id": round_.programme_id},
                user_id=user.id,
                round_id=round_.id,
            )
    return nudged, paused
