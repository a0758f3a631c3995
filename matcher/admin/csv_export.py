"""CSV exports of rounds, pairs and feedback, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher.models import Feedback, MatchGroup, Membership, Round, User

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORTS = ("rounds", "pairs", "feedback")


def safe_cell(value: object) -> object:
    """The value, with a leading quote when its text would start a spreadsheet formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value  # numbers are data, never formulas
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The rows as CSV text (header first), every cell made formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def _name(user: User | None) -> str:
    return user.display_name if user is not None else "(deleted)"


def _team(user: User | None) -> str:
    return user.team.name if user is not None and user.team is not None else ""


def rounds_rows(session: Session) -> tuple[list[str], Iterator[list[object]]]:
    """One row per round."""
    header = [
        "week", "status", "starts_on", "participants", "groups", "unmatched",
        "total_score", "published_at", "closed_at",
    ]  # fmt: skip
    rounds = session.scalars(
        select(Round).options(selectinload(Round.groups)).order_by(Round.starts_on)
    ).all()
    rows = (
        [
            r.week,
            r.status,
            r.starts_on.isoformat(),
            r.participant_count,
            len(r.groups),
            len(r.unmatched or []),
            r.total_score,
            r.published_at.isoformat(sep=" ") if r.published_at else "",
            r.closed_at.isoformat(sep=" ") if r.closed_at else "",
        ]  # fmt: skip
        for r in rounds
    )
    return header, rows


def pairs_rows(session: Session) -> tuple[list[str], Iterator[list[object]]]:
    """One row per group: week, group id, member names and teams, score, reasons."""
    header = ["week", "status", "group_id", "members", "teams", "score", "reasons"]
    groups = session.scalars(
        select(MatchGroup)
        .join(Round)
        .options(
            selectinload(MatchGroup.round),
            selectinload(MatchGroup.memberships)
            .selectinload(Membership.user)
            .selectinload(User.team),
        )
        .order_by(Round.starts_on, MatchGroup.id)
    ).all()
    rows = (
        [
            g.round.week,
            g.round.status,
            g.id,
            "; ".join(_name(m.user) for m in g.memberships),
            "; ".join(_team(m.user) for m in g.memberships),
            g.score,
            "; ".join(g.reasons or []),
        ]
        for g in groups
    )
    return header, rows


def feedback_rows(session: Session) -> tuple[list[str], Iterator[list[object]]]:
    """One row per answer, private notes included (admins only ever see this)."""
    header = [
        "week", "group_id", "person", "team", "status", "reason", "rating",
        "would_meet_again", "private_note", "kudos", "updated_at",
    ]  # fmt: skip
    answers = session.scalars(
        select(Feedback)
        .join(MatchGroup, MatchGroup.id == Feedback.group_id)
        .join(Round, Round.id == MatchGroup.round_id)
        .options(
            selectinload(Feedback.group).selectinload(MatchGroup.round),
            selectinload(Feedback.user).selectinload(User.team),
        )
        .order_by(Round.starts_on, Feedback.group_id, Feedback.id)
    ).all()
    rows = (
        [
            f.group.round.week,
            f.group_id,
            _name(f.user),
            _team(f.user),
            f.status,
            f.reason,
            f.rating,
            f.would_meet_again,
            f.private_note,
            f.kudos,
            f.updated_at.isoformat(sep=" ", timespec="seconds") if f.updated_at else "",
        ]  # fmt: skip
        for f in answers
    )
    return header, rows


def export(session: Session, what: str) -> str:
    """The CSV text of one export ('rounds', 'pairs' or 'feedback')."""
    builders = {"rounds": rounds_rows, "pairs": pairs_rows, "feedback": feedback_rows}
    header, rows = builders[what](session)
    return to_csv(header, rows)
