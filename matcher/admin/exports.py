"""CSV exports of rounds, pairs, feedback and teams, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher.admin.metrics import every_team
from matcher.models import Feedback, MatchGroup, Membership, Programme, Round, Team, User
from matcher.reasons import read_facts, write_reasons

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORTS = ("rounds", "pairs", "feedback", "teams")


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


def _in_programme(query: Any, programme_id: int | None) -> Any:
    """The query (which joins Round) limited to one programme; all programmes for None."""
    return query if programme_id is None else query.where(Round.programme_id == programme_id)


def rounds_rows(
    session: Session, programme_id: int | None = None
) -> tuple[list[str], Iterator[list[object]]]:
    """One row per round."""
    header = [
        "week", "status", "starts_on", "participants", "groups", "unmatched",
        "total_score", "published_at", "closed_at", "programme",
    ]  # fmt: skip
    rounds = session.scalars(
        _in_programme(select(Round), programme_id)
        .options(selectinload(Round.groups), selectinload(Round.programme))
        .order_by(Round.starts_on, Round.programme_id)
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
            r.programme.name,
        ]  # fmt: skip
        for r in rounds
    )
    return header, rows


def pairs_rows(
    session: Session, programme_id: int | None = None
) -> tuple[list[str], Iterator[list[object]]]:
    """One row per group: week, group id, member names and teams, score, reasons, programme."""
    header = ["week", "status", "group_id", "members", "teams", "score", "reasons", "programme"]
    # Plain rows in one query: a year of rounds for a big organisation is 100,000s of groups.
    query = _in_programme(
        select(
            Round.week,
            Round.status,
            MatchGroup.id,
            MatchGroup.score,
            MatchGroup.reasons,
            MatchGroup.facts,
            Membership.user_id,
            User.display_name,
            Team.name,
            Programme.name,
        )
        .join(Programme, Programme.id == Round.programme_id)
        .join(MatchGroup, MatchGroup.round_id == Round.id)
        .join(Membership, Membership.group_id == MatchGroup.id)
        .outerjoin(User, User.id == Membership.user_id)
        .outerjoin(Team, Team.id == User.team_id),
        programme_id,
    )
    members = session.execute(query.order_by(Round.starts_on, MatchGroup.id, Membership.id))

    def rows() -> Iterator[list[object]]:
        for _, group in groupby(members, key=lambda row: row[2]):
            people = list(group)
            week, status, group_id, score, legacy, facts = people[0][:6]
            if facts:
                ids = [row[6] for row in people]
                names = {row[6]: row[7] or "(deleted)" for row in people}
                reasons = write_reasons(read_facts(facts), ids, names)
            else:
                reasons = legacy
            yield [
                week,
                status,
                group_id,
                "; ".join(row[7] if row[7] is not None else "(deleted)" for row in people),
                "; ".join(row[8] or "" for row in people),
                score,
                "; ".join(reasons or []),
                people[0][9],
            ]

    return header, rows()


def feedback_rows(
    session: Session, programme_id: int | None = None
) -> tuple[list[str], Iterator[list[object]]]:
    """One row per answer, private notes included (admins only ever see this)."""
    header = [
        "week", "group_id", "person", "team", "status", "reason", "rating",
        "would_meet_again", "private_note", "kudos", "updated_at", "programme",
    ]  # fmt: skip
    answers = session.scalars(
        _in_programme(
            select(Feedback)
            .join(MatchGroup, MatchGroup.id == Feedback.group_id)
            .join(Round, Round.id == MatchGroup.round_id),
            programme_id,
        )
        .options(
            selectinload(Feedback.group)
            .selectinload(MatchGroup.round)
            .selectinload(Round.programme),
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
            f.group.round.programme.name,
        ]  # fmt: skip
        for f in answers
    )
    return header, rows


def teams_rows(
    session: Session, programme_id: int | None = None
) -> tuple[list[str], Iterator[list[object]]]:
    """One row per team: its people, the other teams they were matched with and met."""
    header = [
        "team", "people", "other_teams_matched", "other_teams_met",
        "cross_team_pairs_matched", "cross_team_pairs_met",
    ]  # fmt: skip
    reach = every_team(session, programme_id)
    return header, (
        [r.name, r.people, r.teams_matched, r.teams_met, r.pairs_matched, r.pairs_met]
        for r in reach
    )


def export(session: Session, what: str, programme_id: int | None = None) -> str:
    """The CSV text of one export ('rounds', 'pairs', 'feedback' or 'teams') of one programme,
    or of every programme (None)."""
    builders = {
        "rounds": rounds_rows,
        "pairs": pairs_rows,
        "feedback": feedback_rows,
        "teams": teams_rows,
    }
    header, rows = builders[what](session, programme_id)
    return to_csv(header, rows)
