"""Insights: participation, whether people met, and which teams are getting connected."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from matcher.models import Feedback, MatchGroup, Membership, Round, Team, User

ROUNDS_SHOWN = 52


@dataclass(frozen=True)
class RoundStats:
    """One published or closed round in numbers."""

    week: str
    status: str
    participants: int
    groups: int
    answers: int
    met: int
    average_rating: float | None
    new_pairs: int

    @property
    def meeting_rate(self) -> float | None:
        """Share of feedback answers saying 'met', None without answers."""
        return self.met / self.answers if self.answers else None


@dataclass(frozen=True)
class Insights:
    """Everything the insights page shows."""

    rounds: tuple[RoundStats, ...]
    teams: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]  # distinct people pairs met, team x team
    unconnected: tuple[str, ...]  # teams nobody from another team has met yet
    team_pairs_connected: int
    team_pairs_possible: int
    people_pairs: int


def _feedback_by_round(session: Session) -> dict[int, tuple[int, int, float | None]]:
    rows = session.execute(
        select(
            MatchGroup.round_id,
            func.count(Feedback.id),
            func.sum(case((Feedback.status == "met", 1), else_=0)),
            func.avg(Feedback.rating),
        )
        .join(MatchGroup, MatchGroup.id == Feedback.group_id)
        .group_by(MatchGroup.round_id)
    )
    return {
        rid: (int(n), int(met or 0), float(avg) if avg is not None else None)
        for rid, n, met, avg in rows
    }


def compute(session: Session) -> Insights:
    """Read published and closed rounds, their groups and feedback."""
    rounds = session.scalars(
        select(Round).where(Round.status != "draft").order_by(Round.starts_on)
    ).all()
    group_counts = dict(
        session.execute(
            select(MatchGroup.round_id, func.count()).group_by(MatchGroup.round_id)
        ).all()
    )
    feedback = _feedback_by_round(session)
    rows = session.execute(
        select(Membership.round_id, Membership.group_id, Membership.user_id)
        .join(Round, Round.id == Membership.round_id)
        .where(Round.status != "draft")
    )
    groups: dict[int, tuple[int, list[int]]] = {}
    for round_id, group_id, user_id in rows:
        groups.setdefault(group_id, (round_id, []))[1].append(user_id)
    by_round: dict[int, list[list[int]]] = defaultdict(list)
    for round_id, members in groups.values():
        by_round[round_id].append(members)
    seen: set[tuple[int, int]] = set()
    stats = []
    for r in rounds:  # oldest first, so a pair is new only the first week it meets
        new = 0
        for members in by_round.get(r.id, []):
            for pair in combinations(sorted(members), 2):
                if pair not in seen:
                    seen.add(pair)
                    new += 1
        answers, met, rating = feedback.get(r.id, (0, 0, None))
        stats.append(
            RoundStats(
                r.week,
                r.status,
                r.participant_count,
                group_counts.get(r.id, 0),
                answers,
                met,
                rating,
                new,
            )  # fmt: skip
        )
    team_of = dict(
        session.execute(select(User.id, Team.name).join(Team, Team.id == User.team_id)).all()
    )
    live_teams = session.scalars(
        select(Team.name)
        .join(User, User.team_id == Team.id)
        .where(User.deleted_at.is_(None))
        .group_by(Team.id, Team.name)
    ).all()
    names = sorted(set(live_teams) | {team_of[u] for pair in seen for u in pair if u in team_of},
                   key=str.casefold)  # fmt: skip
    index = {name: k for k, name in enumerate(names)}
    matrix = [[0] * len(names) for _ in names]
    for a, b in seen:
        ta, tb = team_of.get(a), team_of.get(b)
        if ta is None or tb is None:
            continue
        i, j = index[ta], index[tb]
        matrix[i][j] += 1
        if i != j:
            matrix[j][i] += 1
    connected = sum(1 for i, j in combinations(range(len(names)), 2) if matrix[i][j])
    unconnected = tuple(
        name
        for i, name in enumerate(names)
        if not any(matrix[i][j] for j in range(len(names)) if j != i)
    )
    return Insights(
        rounds=tuple(stats[-ROUNDS_SHOWN:]),
        teams=tuple(names),
        matrix=tuple(tuple(row) for row in matrix),
        unconnected=unconnected,
        team_pairs_connected=connected,
        team_pairs_possible=len(names) * (len(names) - 1) // 2,
        people_pairs=len(seen),
    )
