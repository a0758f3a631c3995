"""People for the admin console: where each person stands, one page of a search, one person."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from matcher.admin.audit_text import describe
from matcher.models import (
    FEEDBACK_STATUSES,
    AuditEntry,
    Feedback,
    Membership,
    Profile,
    ProgrammeMember,
    Round,
    Team,
    User,
)
from matcher.programmes.members import STATUSES, member_join, status_column
from matcher.weeks import WeekError, day_month, parse_week

PAGE_SIZE = 50
AUDIT_SHOWN = 100
STATUS_HELP = {
    "active": "in the pairings",
    "snoozed": "skipping rounds until a date they chose",
    "paused": "paused by matcher after missed coffees",
    "left": "left the programme",
    "not_member": "has a profile but did not join this programme",
    "never_joined": "never filled in a profile (such as an admin made from the command line)",
    "deactivated": "cannot log in, left out of every round",
    "invited": "imported or provisioned, has not accepted the invitation yet: not paired",
    "unverified": "signed up but has not confirmed the email address yet: not paired",
}


def status_counts(session: Session, today: date, programme_id: int) -> dict[str, int]:
    """How many people (not deleted) have each status in the programme, every status listed."""
    # Grouped through a subquery: PostgreSQL would see the CASE in SELECT and in GROUP BY
    # as two expressions (each with its own bound parameters).
    people = (
        select(status_column(today).label("status"))
        .select_from(User)
        .outerjoin(Profile, Profile.user_id == User.id)
        .outerjoin(ProgrammeMember, member_join(programme_id))
        .where(User.deleted_at.is_(None))
        .subquery()
    )
    rows = session.execute(select(people.c.status, func.count()).group_by(people.c.status)).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({key: int(n) for key, n in rows})
    return counts


def parse_page(raw: str | None) -> int | None:
    """A page number from the query string (1 when absent); None for anything but 1, 2, 3..."""
    if raw is None or raw == "":
        return 1
    text = raw.strip()
    if not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0")
    if not digits:
        return None
    # Past 18 digits no list has that many pages; int() of thousands of digits would refuse.
    return int(digits) if len(digits) <= 18 else 10**18


def page_links(page: int, pages: int, around: int = 2) -> list[int | None]:
    """Page numbers to link: the first, the last and a few around this one; None is a gap."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    links: list[int | None] = []
    for number in shown:
        if links and number - (links[-1] or 0) > 1:
            links.append(None)
        links.append(number)
    return links


@dataclass(frozen=True)
class PersonRow:
    """One line of the People table."""

    user: User
    status: str


@dataclass(frozen=True)
class PeoplePage:
    """One page of a people search."""

    rows: list[PersonRow]
    total: int
    page: int
    pages: int

    @property
    def first_shown(self) -> int:
        """Position of the first person on the page (1-based), 0 when none."""
        return (self.page - 1) * PAGE_SIZE + 1 if self.rows else 0


def _search(q: str | None, status: str | None, today: date, programme_id: int) -> Any:
    query = (
        select(User, status_column(today))
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(Profile, Profile.user_id == User.id)
        .outerjoin(ProgrammeMember, member_join(programme_id))
        .where(User.deleted_at.is_(None))
    )
    if q:
        # Escape LIKE wildcards so a search for '%' matches a literal '%'.
        needle = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{needle}%"
        query = query.where(
            or_(
                func.lower(User.display_name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
                Team.key.like(pattern, escape="\\"),
            )
        )
    if status:
        query = query.where(status_column(today) == status)
    return query


def count_people(
    session: Session, q: str | None, status: str | None, today: date, programme_id: int
) -> int:
    """How many people match the search."""
    query = _search(q, status, today, programme_id)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def pages_for(total: int) -> int:
    """Pages needed for total people (at least one, even when nobody matches)."""
    return max(1, -(-total // PAGE_SIZE))


def people_page(
    session: Session, q: str | None, status: str | None, page: int, today: date, programme_id: int
) -> PeoplePage | None:
    """One page of the people matching the search, by name; None when there is no such page."""
    total = count_people(session, q, status, today, programme_id)
    pages = pages_for(total)
    if page > pages:  # checked before the query: a huge OFFSET overflows on PostgreSQL
        return None
    rows = session.execute(
        _search(q, status, today, programme_id)
        .options(selectinload(User.team), selectinload(User.profile))
        .order_by(func.lower(User.display_name), User.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return PeoplePage([PersonRow(u, s) for u, s in rows], total, page, pages)


# One person --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partner:
    """Someone a person was grouped with, and what they answered (not how they rated it)."""

    id: int
    name: str
    deleted: bool
    answer: str | None  # a FEEDBACK_STATUSES key, None without an answer


@dataclass(frozen=True)
class Pairing:
    """One published or closed round the person was grouped in."""

    round_id: int
    week: str
    round_status: str
    partners: tuple[Partner, ...]
    answer: Feedback | None

    @property
    def met(self) -> bool:
        """A 'we met' answer from the person or a partner: the same rule as Insights."""
        return (self.answer is not None and self.answer.status == "met") or any(
            p.answer == "met" for p in self.partners
        )

    @property
    def answered(self) -> bool:
        """Whether the person answered the feedback question for this pairing."""
        return self.answer is not None


@dataclass(frozen=True)
class PersonDetail:
    """Everything the person page shows."""

    user: User
    status: str
    pairings: tuple[Pairing, ...]
    unmatched: tuple[tuple[int, str, str], ...]  # (round id, week, why) rounds without a group
    audit: tuple[tuple[AuditEntry, str], ...]  # entries about them, newest first, in words
    audit_more: bool = False
    feedback: tuple[Pairing, ...] = field(default=())  # the pairings they answered, newest first
    member: ProgrammeMember | None = None  # their place in the programme shown
    # Every programme they joined, with where they stand there (a STATUSES key).
    programmes: tuple[tuple[ProgrammeMember, str], ...] = ()


def _pairings(session: Session, user_id: int) -> list[Pairing]:
    mine = session.execute(
        select(Membership.group_id, Round.id, Round.week, Round.status)
        .join(Round, Round.id == Membership.round_id)
        .where(Membership.user_id == user_id, Round.status != "draft")
        .order_by(Round.starts_on.desc())
    ).all()
    group_ids = [group_id for group_id, *_ in mine]
    if not group_ids:
        return []
    others: dict[int, list[tuple[int, str, bool]]] = defaultdict(list)
    for group_id, uid, name, deleted_at in session.execute(
        select(Membership.group_id, User.id, User.display_name, User.deleted_at)
        .join(User, User.id == Membership.user_id)
        .where(Membership.group_id.in_(group_ids), Membership.user_id != user_id)
        .order_by(Membership.id)
    ):
        others[group_id].append((uid, name, deleted_at is not None))
    answers = session.scalars(select(Feedback).where(Feedback.group_id.in_(group_ids))).all()
    own = {f.group_id: f for f in answers if f.user_id == user_id}
    said = {(f.group_id, f.user_id): f.status for f in answers}
    return [
        Pairing(
            round_id,
            week,
            status,
            tuple(
                Partner(uid, name, deleted, said.get((group_id, uid)))
                for uid, name, deleted in others[group_id]
            ),
            own.get(group_id),
        )
        for group_id, round_id, week, status in mine
    ]


def _unmatched(session: Session, user: User) -> list[tuple[int, str, str]]:
    # Only rounds since they signed up can list them; unmatched lists are short JSON arrays.
    since = user.created_at.date() if user.created_at else date.min
    rows = session.execute(
        select(Round.id, Round.week, Round.unmatched)
        .where(Round.status != "draft", Round.starts_on >= since - timedelta(days=7))
        .order_by(Round.starts_on.desc())
    )
    found = []
    for round_id, week, unmatched in rows:
        for item in unmatched or []:
            if isinstance(item, dict) and item.get("user_id") == user.id:
                found.append((round_id, week, str(item.get("reason") or "no partner")))
    return found


def _about(entry: AuditEntry, user: User) -> bool:
    after = entry.after if isinstance(entry.after, dict) else {}
    if entry.action == "round.swap":
        return str(user.id) in (after.get("names") or {})
    if entry.action == "round.take_out":
        return (after.get("unmatched") or [None])[0] == user.id
    return f"<{user.email}>" in (entry.target or "")


def _audit(session: Session, user: User) -> tuple[list[tuple[AuditEntry, str]], bool]:
    candidates = session.scalars(
        select(AuditEntry)
        .options(selectinload(AuditEntry.actor))
        .where(
            or_(
                # "Ada Lovelace <ada@example.com>": the brackets keep "mada@..." out.
                AuditEntry.target.contains(f"<{user.email}>", autoescape=True),
                AuditEntry.action.in_(("round.swap", "round.take_out")),
            )
        )
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    entries = []
    for entry in candidates:
        if _about(entry, user):
            if len(entries) == AUDIT_SHOWN:
                return entries, True
            entries.append((entry, describe(entry)))
    return entries, False


def member_status(user: User, member: ProgrammeMember, today: date) -> str:
    """Where someone stands in one programme they joined: the rule of `status_column`."""
    if not user.active:
        return "deactivated"
    if not user.is_verified:
        return "invited" if user.invited_at is not None else "unverified"
    if member.opted_out:
        return "paused" if member.pause_reason is not None else "left"
    return "snoozed" if member.is_snoozed(today) else "active"


def person_detail(
    session: Session, user_id: int, today: date, programme_id: int
) -> PersonDetail | None:
    """One person's profile, pairings, answers and audit entries; None when deleted or absent."""
    row = session.execute(
        select(User, status_column(today))
        .outerjoin(Profile, Profile.user_id == User.id)
        .outerjoin(ProgrammeMember, member_join(programme_id))
        .options(
            selectinload(User.team),
            selectinload(User.profile),
            selectinload(User.projects),
            selectinload(User.interests),
            selectinload(User.availability),
        )
        .where(User.id == user_id, User.deleted_at.is_(None))
    ).first()
    if row is None:
        return None
    user, status = row
    pairings = _pairings(session, user.id)
    audit, more = _audit(session, user)
    return PersonDetail(
        user=user,
        status=status,
        member=session.get(ProgrammeMember, (programme_id, user.id)),
        programmes=tuple(
            (member, member_status(user, member, today))
            for member in session.scalars(
                select(ProgrammeMember)
                .where(ProgrammeMember.user_id == user.id)
                .options(selectinload(ProgrammeMember.programme))
                .order_by(ProgrammeMember.programme_id)
            )
        ),
        pairings=tuple(pairings),
        unmatched=tuple(_unmatched(session, user)),
        audit=tuple(audit),
        audit_more=more,
        feedback=tuple(p for p in pairings if p.answer is not None),
    )


def answer_label(status: str | None) -> str:
    """'We met', 'Not yet', ... or 'no answer'."""
    return FEEDBACK_STATUSES.get(status or "", "no answer")


def week_name(label: str) -> str:
    """'2026-W49' as '30 November 2026', the Monday people call the week by."""
    try:
        monday = parse_week(label)
    except WeekError:
        return label
    return day_month(monday, year=True)
