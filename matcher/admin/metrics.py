"""Insights: participation, whether people met, and which teams are getting connected."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from sqlalchemy import Integer, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from matcher.models import (
    EVERY_PROGRAMME,
    Feedback,
    InsightRound,
    InsightTeam,
    InsightTeamPair,
    InsightTeamSize,
    MatchGroup,
    Membership,
    Programme,
    Round,
    Team,
    User,
)

ROUNDS_SHOWN = 52
# The heatmap draws the largest teams only: a 1,000-team grid is a million cells nobody reads
# (and a 150 MB page); every team's numbers are in the table and teams.csv.
HEATMAP_TEAMS = 25
LEAST_CONNECTED_SHOWN = 15
# Teams nobody from another team has met (or matched) are named up to this many; teams.csv
# lists every team.
TEAMS_NAMED = 40


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
    new_pairs: int  # pairs in a group together for the first time
    new_met: int = 0  # pairs whose first "we met" is in this round
    programme: str = ""  # the programme's name

    @property
    def meeting_rate(self) -> float | None:
        """Share of feedback answers saying 'met', None without answers."""
        return self.met / self.answers if self.answers else None


@dataclass(frozen=True)
class TeamReach:
    """How connected one team is: other teams its people were matched with and met."""

    name: str
    people: int  # current members
    teams_matched: int
    teams_met: int
    pairs_matched: int  # distinct cross-team people pairs ever in a group together
    pairs_met: int  # ... of which at least one of the two answered "we met"


@dataclass(frozen=True)
class Insights:
    """Everything the insights page shows."""

    rounds: tuple[RoundStats, ...]
    teams: tuple[str, ...]  # the heatmaps' teams: the largest HEATMAP_TEAMS, by name
    matrix: tuple[tuple[int, ...], ...]  # distinct people pairs who met, team x team
    matched_matrix: tuple[tuple[int, ...], ...]  # distinct people pairs matched, team x team
    # The first TEAMS_NAMED teams nobody from another team has met yet, least connected
    # first, and how many there are; ... of which nobody from another team was even matched.
    unconnected: tuple[str, ...]
    unconnected_count: int
    never_matched: tuple[str, ...]
    never_matched_count: int
    team_pairs_met: int
    team_pairs_matched: int
    team_pairs_possible: int
    people_pairs_met: int
    people_pairs_matched: int
    team_count: int  # every team, shown on the heatmap or not
    least_connected: tuple[TeamReach, ...]  # the teams most in need of cross-team coffees


def _insights(reach: tuple[TeamReach, ...], **figures: Any) -> Insights:
    """The page's figures with the team lists cut from every team's reach (least connected
    first), as `recount` has them."""
    unconnected = [r.name for r in reach if r.teams_met == 0]
    never_matched = [r.name for r in reach if r.teams_matched == 0]
    return Insights(
        unconnected=tuple(unconnected[:TEAMS_NAMED]),
        unconnected_count=len(unconnected),
        never_matched=tuple(never_matched[:TEAMS_NAMED]),
        never_matched_count=len(never_matched),
        team_pairs_met=sum(r.teams_met for r in reach) // 2,
        team_pairs_matched=sum(r.teams_matched for r in reach) // 2,
        team_pairs_possible=len(reach) * (len(reach) - 1) // 2,
        team_count=len(reach),
        least_connected=reach[:LEAST_CONNECTED_SHOWN],
        **figures,
    )


def _in_programme(query: Any, programme_id: int | None) -> Any:
    """The query (which joins Round) limited to one programme; all programmes for None."""
    return query if programme_id is None else query.where(Round.programme_id == programme_id)


def _feedback_by_round(
    session: Session, programme_id: int | None = None
) -> dict[int, tuple[int, int, float | None]]:
    query = (
        select(
            MatchGroup.round_id,
            func.count(Feedback.id),
            func.sum(case((Feedback.status == "met", 1), else_=0)),
            func.avg(Feedback.rating),
        )
        .join(MatchGroup, MatchGroup.id == Feedback.group_id)
        .join(Round, Round.id == MatchGroup.round_id)
        .group_by(MatchGroup.round_id)
    )
    rows = session.execute(_in_programme(query, programme_id))
    return {
        rid: (int(n), int(met or 0), float(avg) if avg is not None else None)
        for rid, n, met, avg in rows
    }


def _said_met(session: Session, programme_id: int | None = None) -> dict[int, set[int]]:
    """For each group of a published or closed round, who answered "we met"."""
    said: dict[int, set[int]] = defaultdict(set)
    rows = session.execute(
        _in_programme(
            select(Feedback.group_id, Feedback.user_id)
            .join(MatchGroup, MatchGroup.id == Feedback.group_id)
            .join(Round, Round.id == MatchGroup.round_id)
            .where(Round.status != "draft", Feedback.status == "met"),
            programme_id,
        )
    )
    for group_id, user_id in rows:
        said[group_id].add(user_id)
    return said


def pairs_of(members: list[int], said_met: set[int]) -> list[tuple[tuple[int, int], bool]]:
    """Each pair in a group and whether it met: one of the two answered "we met".

    In a trio, A's "we met" counts for A with each partner; B and C met only if one of them
    says so (an answer is per person, not per pair).
    """
    return [((a, b), a in said_met or b in said_met) for a, b in combinations(sorted(members), 2)]


def recount(session: Session, programme_id: int | None = None) -> Insights:
    """Count from published and closed rounds, their groups and feedback: of one programme, or
    of every programme (None: a pair matched in two programmes counts once). The page reads
    `compute` instead; this from-scratch count is what the aggregates are checked against."""
    rounds = session.execute(
        _in_programme(
            select(Round, Programme.name)
            .join(Programme, Programme.id == Round.programme_id)
            .where(Round.status != "draft"),
            programme_id,
        ).order_by(Round.starts_on, Round.programme_id)
    ).all()
    group_counts = dict(
        session.execute(
            _in_programme(
                select(MatchGroup.round_id, func.count())
                .join(Round, Round.id == MatchGroup.round_id)
                .group_by(MatchGroup.round_id),
                programme_id,
            )
        ).all()
    )
    feedback = _feedback_by_round(session, programme_id)
    said_met = _said_met(session, programme_id)
    rows = session.execute(
        _in_programme(
            select(Membership.round_id, Membership.group_id, Membership.user_id)
            .join(Round, Round.id == Membership.round_id)
            .where(Round.status != "draft"),
            programme_id,
        )
    )
    groups: dict[int, tuple[int, list[int]]] = {}
    for round_id, group_id, user_id in rows:
        groups.setdefault(group_id, (round_id, []))[1].append(user_id)
    by_round: dict[int, list[tuple[int, list[int]]]] = defaultdict(list)
    for group_id, (round_id, members) in groups.items():
        by_round[round_id].append((group_id, members))
    matched: set[tuple[int, int]] = set()
    met: set[tuple[int, int]] = set()
    stats = []
    for (
        r,
        programme_name,
    ) in rounds:  # oldest first: a pair is new the first week it is matched (or met)
        new = new_met = 0
        for group_id, members in by_round.get(r.id, []):
            for pair, they_met in pairs_of(members, said_met.get(group_id, set())):
                if pair not in matched:
                    matched.add(pair)
                    new += 1
                if they_met and pair not in met:
                    met.add(pair)
                    new_met += 1
        answers, met_answers, rating = feedback.get(r.id, (0, 0, None))
        stats.append(
            RoundStats(
                r.week,
                r.status,
                r.participant_count,
                group_counts.get(r.id, 0),
                answers,
                met_answers,
                rating,
                new,
                new_met,
                programme_name,
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
    reach, matched_counts, met_counts = team_connections(matched, met, team_of, headcount)
    names = sorted((r.name for r in reach), key=str.casefold)
    shown = sorted(
        sorted(names, key=lambda n: -headcount.get(n, 0))[:HEATMAP_TEAMS], key=str.casefold
    )

    def grid(counts: Counter[tuple[str, str]]) -> tuple[tuple[int, ...], ...]:
        return tuple(tuple(counts.get(_team_pair(a, b), 0) for b in shown) for a in shown)

    return _insights(
        reach,
        rounds=tuple(stats[-ROUNDS_SHOWN:]),
        teams=tuple(shown),
        matrix=grid(met_counts),
        matched_matrix=grid(matched_counts),
        people_pairs_met=len(met),
        people_pairs_matched=len(matched),
    )


def _zero(column: Any) -> Any:
    """The column, or 0 where the outer join found no row."""
    return func.coalesce(column, 0)


def _compute_statements(every: bool, dialect: str) -> dict[str, Any]:
    """compute's statements, built once per scope kind and database (bound: programme_id,
    scope, team_ids): building them cost more Python than running them."""
    new_pairs = InsightRound.new_pairs_all if every else InsightRound.new_pairs
    new_met = InsightRound.new_met_all if every else InsightRound.new_met
    programme_id = None if every else bindparam("programme_id")
    rounds = (
        _in_programme(
            select(
                Round.week, Round.status, Round.participant_count, InsightRound.groups,
                InsightRound.answers, InsightRound.met_answers, InsightRound.rating_sum,
                InsightRound.rating_count, new_pairs, new_met, Programme.name,
            )
            .join(InsightRound, InsightRound.round_id == Round.id)
            .join(Programme, Programme.id == Round.programme_id)
            .where(Round.status != "draft"),
            programme_id,
        )
        .order_by(Round.starts_on.desc(), Round.programme_id.desc())
        .limit(ROUNDS_SHOWN)
    )  # fmt: skip
    totals = _in_programme(
        select(func.coalesce(func.sum(new_pairs), 0), func.coalesce(func.sum(new_met), 0))
        .select_from(InsightRound)
        .join(Round, Round.id == InsightRound.round_id),
        programme_id,
    )
    # Every team with people or with people paired across teams, with its size and reach.
    teams = (
        select(
            Team.id, Team.name, Team.key, _zero(InsightTeamSize.people).label("people"),
            _zero(InsightTeam.teams_matched).label("teams_matched"),
            _zero(InsightTeam.teams_met).label("teams_met"),
            _zero(InsightTeam.pairs_matched).label("pairs_matched"),
            _zero(InsightTeam.pairs_met).label("pairs_met"),
        )
        .outerjoin(InsightTeamSize, InsightTeamSize.team_id == Team.id)
        .outerjoin(
            InsightTeam,
            (InsightTeam.team_id == Team.id) & (InsightTeam.scope == bindparam("scope")),
        )
        .where(or_(InsightTeamSize.people > 0, InsightTeam.team_id.is_not(None)))
        .subquery()
    )  # fmt: skip
    t = teams.c
    # Names in code point order of their case-folded key, as Python sorts str.casefold.
    key = t.key.collate("C") if dialect == "postgresql" else t.key
    reach = (t.name, t.people, t.teams_matched, t.teams_met, t.pairs_matched, t.pairs_met)
    team_totals = select(
        func.count(), func.coalesce(func.sum(t.teams_met), 0),
        func.coalesce(func.sum(t.teams_matched), 0),
        func.count().filter(t.teams_met == 0), func.count().filter(t.teams_matched == 0),
    ).select_from(teams)  # fmt: skip
    # Least connected first: the teams nobody from another team met (never even matched
    # first) lead this order, so its first TEAMS_NAMED rows name them too.
    least = (
        select(*reach)
        .order_by(t.teams_met, t.pairs_met, t.teams_matched, t.pairs_matched, t.people.desc(), key)
        .limit(bindparam("limit", type_=Integer))
    )
    largest = (
        select(t.id, t.name).order_by(t.people.desc(), key).limit(bindparam("limit", type_=Integer))
    )
    team_ids = bindparam("team_ids", expanding=True)
    team_pairs = select(
        InsightTeamPair.team_a, InsightTeamPair.team_b, InsightTeamPair.matched,
        InsightTeamPair.met,
    ).where(
        InsightTeamPair.scope == bindparam("scope"), InsightTeamPair.team_a.in_(team_ids),
        InsightTeamPair.team_b.in_(team_ids),
    )  # fmt: skip
    return {
        "rounds": rounds,
        "totals": totals,
        "team_totals": team_totals,
        "least": least,
        "largest": largest,
        "team_pairs": team_pairs,
        "every_team": select(*reach),
    }


_COMPUTE = {
    (every, dialect): _compute_statements(every, dialect)
    for every in (True, False)
    for dialect in ("postgresql", "sqlite")
}


def _statements(session: Session, programme_id: int | None) -> dict[str, Any]:
    return _COMPUTE[(programme_id is None, session.get_bind().dialect.name)]


def compute(session: Session, programme_id: int | None = None) -> Insights:
    """What `recount` says, read from the maintained aggregates (matcher/rounds/insight_counts):
    a few queries whose cost does not grow with the rounds or the people (the teams are
    ordered and counted in the database, and only the ones shown are read)."""
    scope = EVERY_PROGRAMME if programme_id is None else programme_id
    statements = _statements(session, programme_id)
    bound = {} if programme_id is None else {"programme_id": programme_id}
    rows = session.execute(statements["rounds"], bound).all()
    stats = tuple(
        RoundStats(
            week, status, people, groups, answers, met, rated_sum / rated if rated else None,
            new, new_m, name,
        )
        for week, status, people, groups, answers, met, rated_sum, rated, new, new_m, name in (
            reversed(rows)
        )
    )  # fmt: skip
    totals = session.execute(statements["totals"], bound).one()
    count, teams_met, teams_matched, unconnected, never_matched = session.execute(
        statements["team_totals"], {"scope": scope}
    ).one()
    least = [
        TeamReach(*row)
        for row in session.execute(statements["least"], {"scope": scope, "limit": TEAMS_NAMED})
    ]
    largest = {
        name: team_id
        for team_id, name in session.execute(
            statements["largest"], {"scope": scope, "limit": HEATMAP_TEAMS}
        )
    }
    shown = sorted(largest, key=str.casefold)
    # The heatmaps need the pairs between the teams they show only.
    matched_counts: Counter[tuple[str, str]] = Counter()
    met_counts: Counter[tuple[str, str]] = Counter()
    name_of = {team_id: name for name, team_id in largest.items()}
    for a, b, matched, met in session.execute(
        statements["team_pairs"], {"scope": scope, "team_ids": list(name_of)}
    ):
        pair = _team_pair(name_of[a], name_of[b])
        matched_counts[pair] += matched
        met_counts[pair] += met

    def grid(counts: Counter[tuple[str, str]]) -> tuple[tuple[int, ...], ...]:
        return tuple(tuple(counts.get(_team_pair(a, b), 0) for b in shown) for a in shown)

    return Insights(
        rounds=stats,
        teams=tuple(shown),
        matrix=grid(met_counts),
        matched_matrix=grid(matched_counts),
        unconnected=tuple(r.name for r in least if r.teams_met == 0),
        unconnected_count=unconnected,
        never_matched=tuple(r.name for r in least if r.teams_matched == 0),
        never_matched_count=never_matched,
        team_pairs_met=int(teams_met) // 2,
        team_pairs_matched=int(teams_matched) // 2,
        team_pairs_possible=count * (count - 1) // 2,
        people_pairs_met=int(totals[1]),
        people_pairs_matched=int(totals[0]),
        team_count=count,
        least_connected=tuple(least[:LEAST_CONNECTED_SHOWN]),
    )


def every_team(session: Session, programme_id: int | None = None) -> list[TeamReach]:
    """Every team's reach, from the maintained aggregates, by name (for teams.csv)."""
    scope = EVERY_PROGRAMME if programme_id is None else programme_id
    rows = session.execute(_statements(session, programme_id)["every_team"], {"scope": scope})
    return sorted((TeamReach(*row) for row in rows), key=lambda r: r.name.casefold())


def _heatmap_teams(names: set[str], headcount: dict[str, int]) -> list[str]:
    """The largest HEATMAP_TEAMS teams (ties by name), by name."""
    ordered = sorted(names, key=str.casefold)
    return sorted(
        sorted(ordered, key=lambda n: -headcount.get(n, 0))[:HEATMAP_TEAMS], key=str.casefold
    )


def _least_connected(r: TeamReach) -> tuple:
    return (
        r.teams_met, r.pairs_met, r.teams_matched, r.pairs_matched, -r.people, r.name.casefold(),
    )  # fmt: skip


def _team_pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _team_counts(
    pairs: set[tuple[int, int]], team_of: dict[int, str]
) -> tuple[Counter[tuple[str, str]], dict[str, set[str]], Counter[str]]:
    """People pairs per team pair, the other teams each team reached, its cross-team pairs."""
    pair_counts: Counter[tuple[str, str]] = Counter()
    for a, b in pairs:
        ta, tb = team_of.get(a), team_of.get(b)
        if ta is not None and tb is not None:
            pair_counts[_team_pair(ta, tb)] += 1
    others, across = _across(pair_counts)
    return pair_counts, others, across


def _across(
    pair_counts: Counter[tuple[str, str]],
) -> tuple[dict[str, set[str]], Counter[str]]:
    """The other teams each team reached, and its cross-team people pairs."""
    others: dict[str, set[str]] = defaultdict(set)
    across: Counter[str] = Counter()
    for (ta, tb), count in pair_counts.items():
        if ta != tb:
            others[ta].add(tb)
            others[tb].add(ta)
            across[ta] += count
            across[tb] += count
    return others, across


def team_connections(
    matched: set[tuple[int, int]],
    met: set[tuple[int, int]],
    team_of: dict[int, str],
    headcount: dict[str, int],
) -> tuple[tuple[TeamReach, ...], Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """Per-team reach (least connected first), and people pairs per team pair matched and met."""
    matched_counts = _team_counts(matched, team_of)[0]
    met_counts = _team_counts(met, team_of)[0]
    return _reach(matched_counts, met_counts, headcount), matched_counts, met_counts


def _reach(
    matched_counts: Counter[tuple[str, str]],
    met_counts: Counter[tuple[str, str]],
    headcount: dict[str, int],
) -> tuple[TeamReach, ...]:
    """Every team's reach, least connected first, from people pairs per team pair."""
    matched_teams, matched_across = _across(matched_counts)
    met_teams, met_across = _across(met_counts)
    names = set(headcount) | {t for pair in matched_counts for t in pair}
    reach = sorted(
        (
            TeamReach(
                n,
                headcount.get(n, 0),
                len(matched_teams[n]),
                len(met_teams[n]),
                matched_across[n],
                met_across[n],
            )
            for n in names
        ),
        key=lambda r: (
            r.teams_met, r.pairs_met, r.teams_matched, r.pairs_matched, -r.people,
            r.name.casefold(),
        ),
    )  # fmt: skip
    return tuple(reach)
