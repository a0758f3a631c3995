"""Feedback service: record answers, remind, close rounds, nudge and pause, kudos."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, String, bindparam, cast, literal, select
from sqlalchemy.orm import Session, joinedload, selectinload

from matcher.models import (
    Feedback,
    MatchGroup,
    Membership,
    OutboxMessage,
    ProgrammeMember,
    Round,
    User,
)
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


_KUDOS = (
    select(Round.starts_on, User.display_name, Feedback.kudos)
    .join(MatchGroup, MatchGroup.id == Feedback.group_id)
    .join(Round, Round.id == MatchGroup.round_id)
    .join(User, User.id == Feedback.user_id)
    .where(
        Feedback.group_id.in_(
            select(Membership.group_id).where(Membership.user_id == bindparam("user_id"))
        ),
        Feedback.user_id != bindparam("user_id"),
        Feedback.kudos.is_not(None),
    )
    .order_by(Round.starts_on.desc(), Feedback.id)
)
# Built once (the dashboard asks on every view): the statement, then a page of it.
_KUDOS_PAGE = _KUDOS.limit(bindparam("limit", type_=Integer))


def kudos_for(session: Session, user: User, limit: int | None = 20) -> list[tuple[date, str, str]]:
    """(Monday of the week, from whom, text) of kudos to the user, newest first (None: all)."""
    if limit is None:
        rows = session.execute(_KUDOS, {"user_id": user.id})
    else:
        rows = session.execute(_KUDOS_PAGE, {"user_id": user.id, "limit": limit})
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
            selectinload(Round.groups)
            .selectinload(MatchGroup.memberships)
            .selectinload(Membership.user),
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
            reminded = legacy_reminders(session, round_)
            for group in round_.groups:
                for membership in group.memberships:
                    if membership.user_id in reminded:
                        continue
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


def legacy_reminders(session: Session, round_: Round) -> set[int]:
    """Users reminded about this round before programmes, under the old key
    feedback_reminder:<week>:<user> (one membership per person and round then): they are
    not reminded again under the new key."""
    return set(
        session.scalars(
            select(OutboxMessage.user_id).where(
                OutboxMessage.round_id == round_.id,
                OutboxMessage.kind == "feedback_reminder",
                OutboxMessage.dedupe_key
                == literal(f"feedback_reminder:{round_.week}:", String)
                + cast(OutboxMessage.user_id, String),
            )
        )
    )


def missed_streaks(
    session: Session, user_ids: Collection[int], programme_id: int, up_to: int
) -> dict[int, int]:
    """For each user: closed rounds of the programme in a row, newest first, in which they
    neither answered 'met' nor at all, counted up to `up_to` (all a pause needs). A round
    counts once however many groups the user was in (a mentor): met in any of them is met."""
    rows = session.execute(
        select(Membership.user_id, Round.id, Feedback.status)
        .join(Round, Round.id == Membership.round_id)
        .outerjoin(Feedback, Feedback.membership_id == Membership.id)
        .where(
            Membership.user_id.in_(list(user_ids)),
            Round.status == "closed",
            Round.programme_id == programme_id,
        )
        .order_by(Membership.user_id, Round.starts_on.desc(), Round.id)
    )
    met: dict[int, dict[int, bool]] = defaultdict(dict)  # user -> round -> met, newest first
    for user_id, round_id, status in rows:
        rounds = met[user_id]
        rounds[round_id] = rounds.get(round_id, False) or status == "met"
    streaks = {}
    for user_id in user_ids:
        streak = 0
        for was_met in met.get(user_id, {}).values():
            if was_met or streak >= up_to:
                break
            streak += 1
        streaks[user_id] = streak
    return streaks


def _nudge_and_pause(session: Session, round_: Round, pause_after: int) -> tuple[int, int]:
    nudged = paused = 0
    # Each person once (a mentor is in several groups), their memberships and streaks read
    # in one query each: closing a round of 10,000 must not be 20,000 queries.
    users = {m.user_id: m.user for group in round_.groups for m in group.memberships}
    members = {
        member.user_id: member
        for member in session.scalars(
            select(ProgrammeMember).where(
                ProgrammeMember.programme_id == round_.programme_id,
                ProgrammeMember.user_id.in_(list(users)),
            )
        )
    }
    streaks = missed_streaks(session, list(users), round_.programme_id, pause_after)
    for user_id in sorted(users):
        user, member = users[user_id], members.get(user_id)
        if user.is_deleted or member is None or member.opted_out:
            continue
        streak = streaks[user_id]
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
