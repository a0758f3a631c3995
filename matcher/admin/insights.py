"""Insights: participation, whether people met, and which teams are getting connected."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from matcher.models import Feedback, MatchGroup, Membership, Round, Team, User

ROUNDS_SHOWN = 52
# The heatmap draws the largest teams only: a 1,000-team grid is a million cells nobody reads
# (and a 150 MB page); every team's numbers are in the table and teams.csv.
HEATMAP_TEAMS = 25
LEAST_CONNECTED_SHOWN = 15


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
class TeamReach:
    """How connected one team is: other teams its people have met, and those pairs."""

    name: str
    people: int  # current members
    teams_met: int
    cross_team_pairs: int


@dataclass(frozen=True)
class Insights:
    """Everything the insights page shows."""

    rounds: tuple[RoundStats, ...]
    teams: tuple[str, ...]  # the heatmap's teams: the largest HEATMAP_TEAMS, by name
    matrix: tuple[tuple[int, ...], ...]  # distinct people pairs met, team x team
    unconnected: tuple[str, ...]  # teams nobody from another team has met yet
    team_pairs_connected: int
    team_pairs_possible: int
    people_pairs: int
    reach: tuple[TeamReach, ...] = ()  # every team, least connected first

    @property
    def team_count(self) -> int:
        """All teams, shown on the heatmap or not."""
        return len(self.reach)

    @property
    def least_connected(self) -> tuple[TeamReach, ...]:
        """The teams most in need of cross-team coffees."""
        return self.reach[:LEAST_CONNECTED_SHOWN]


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
    headcount = dict(
        session.execute(
            select(Team.name, func.count(User.id))
            .join(User, User.team_id == Team.id)
            .where(User.deleted_at.is_(None))
            .group_by(Team.id, Team.name)
        ).all()
    )
    reach, pair_counts = team_connections(seen, team_of, headcount)
    names = sorted((r.name for r in reach), key=str.casefold)
    shown = sorted(
        sorted(names, key=lambda n: -headcount.get(n, 0))[:HEATMAP_TEAMS], key=str.casefold
    )
    matrix = tuple(
        tuple(pair_counts.get(_team_pair(a, b), 0) for b in shown) for a in shown
    )  # fmt: skip
    return Insights(
        rounds=tuple(stats[-ROUNDS_SHOWN:]),
        teams=tuple(shown),
        matrix=matrix,
        unconnected=tuple(r.name for r in reach if r.teams_met == 0),
        team_pairs_connected=sum(1 for a, b in pair_counts if a != b),
        team_pairs_possible=len(names) * (len(names) - 1) // 2,
        people_pairs=len(seen),
        reach=reach,
    )


def _team_pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def team_connections(
    pairs: set[tuple[int, int]], team_of: dict[int, str], headcount: dict[str, int]
) -> tuple[tuple[TeamReach, ...], Counter[tuple[str, str]]]:
    """Per-team reach (least connected first) and people pairs per team pair, from user pairs."""
    pair_counts: Counter[tuple[str, str]] = Counter()
    for a, b in pairs:
        ta, tb = team_of.get(a), team_of.get(b)
        if ta is not None and tb is not None:
            pair_counts[_team_pair(ta, tb)] += 1
    met: dict[str, set[str]] = defaultdict(set)
    across: Counter[str] = Counter()
    for (ta, tb), count in pair_counts.items():
        if ta != tb:
            met[ta].add(tb)
            met[tb].add(ta)
            across[ta] += count
            across[tb] += count
    names = set(headcount) | {t for pair in pair_counts for t in pair}
    reach = sorted(
        (TeamReach(n, headcount.get(n, 0), len(met[n]), across[n]) for n in names),
        key=lambda r: (r.teams_met, r.cross_team_pairs, -r.people, r.name.casefold()),
    )
    return tuple(reach), pair_counts
