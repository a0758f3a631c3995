"""What a round looks like: pair metrics and each group's people, for plans and stored rounds."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import combinations
from math import ceil
from typing import Any

from sqlalchemy import Integer, Text, bindparam, cast, func, select
from sqlalchemy.orm import Session, selectinload

from matcher.histograms import bin_counts, upper_of
from matcher.matching import Participant, Problem, ProblemError, problem_from_json
from matcher.models import InsightGroup, InsightRound, MatchGroup, Membership, Round, Team, User
from matcher.reasons import read_facts, reasons_for, write_reasons
from matcher.rounds.planning import RoundPlan


@dataclass(frozen=True)
class Person:
    """Who someone is, as the admin pages show them."""

    id: int
    name: str
    team: str


@dataclass(frozen=True)
class GroupInput:
    """One group as stored or planned, before it is described."""

    user_ids: tuple[int, ...]
    score: float
    reasons: tuple[str, ...]
    meeting_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class GroupView:
    """One group with its people and what makes it good or not."""

    id: int | None
    members: tuple[Person, ...]
    score: float
    reasons: tuple[str, ...]
    meeting_at: datetime | None
    cross_team: bool
    common: bool
    repeats: tuple[str, ...]  # "Ada and Bo (3 weeks ago)"


@dataclass(frozen=True)
class Summary:
    """A round's metrics: how cross-team, how much in common, repeats, who is left out."""

    participants: int
    groups: tuple[GroupView, ...]
    unmatched: tuple[tuple[Person, str], ...]
    pairs: int
    cross_team_share: float
    common_share: float
    repeats: int
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def scores(self) -> list[float]:
        """Every group's score."""
        return [g.score for g in self.groups]

    @property
    def group_count(self) -> int:
        """How many groups the round has."""
        return len(self.groups)

    @property
    def total_score(self) -> float:
        """Sum of the group scores."""
        return round(sum(self.scores), 3)

    @property
    def score_upper(self) -> float:
        """The score histogram's axis maximum."""
        return upper_of(self.scores)

    def score_bins(self, upper: float) -> tuple[int, ...]:
        """How many groups' scores fall in each bin from 0 to upper."""
        return tuple(bin_counts(self.scores, upper))


def _shares(a: Participant, b: Participant) -> bool:
    mine = {x.casefold() for x in (*a.projects, *a.interests)}
    return any(x.casefold() in mine for x in (*b.projects, *b.interests))


def summarise(
    problem: Problem,
    groups: Sequence[GroupInput],
    unmatched: Sequence[tuple[int, str]],
    people: dict[int, Person] | None = None,
    excluded: dict[str, int] | None = None,
) -> Summary:
    """Describe groups against the problem they came from (participants and history)."""
    by_id = {p.id: p for p in problem.participants}
    people = dict(people or {})
    for p in problem.participants:
        people.setdefault(p.id, Person(p.id, p.label, p.team))
    met = {}
    for h in problem.history:
        key = frozenset((h.a, h.b))
        met[key] = min(h.weeks_ago, met.get(key, h.weeks_ago))
    views = []
    pairs = cross = common = repeats = 0
    for g in groups:
        members = tuple(people.get(uid, Person(uid, f"#{uid}", "?")) for uid in g.user_ids)
        g_cross, g_common, g_repeats = True, False, []
        for x, y in combinations(members, 2):
            pairs += 1
            is_cross = x.team != y.team
            cross += is_cross
            g_cross &= is_cross
            px, py = by_id.get(x.id), by_id.get(y.id)
            if px is not None and py is not None and _shares(px, py):
                common += 1
                g_common = True
            weeks = met.get(frozenset((x.id, y.id)))
            if weeks is not None:
                repeats += 1
                g_repeats.append(f"{x.name} and {y.name} ({weeks} weeks ago)")
        views.append(
            GroupView(
                g.id,
                members,
                g.score,
                g.reasons,
                g.meeting_at,
                g_cross,
                g_common,
                tuple(g_repeats),
            )  # fmt: skip
        )
    left = tuple(
        (people.get(uid, Person(uid, f"#{uid}", "?")), reason) for uid, reason in unmatched
    )
    return Summary(
        participants=len(problem.participants),
        groups=tuple(views),
        unmatched=left,
        pairs=pairs,
        cross_team_share=cross / pairs if pairs else 0.0,
        common_share=common / pairs if pairs else 0.0,
        repeats=repeats,
        excluded=dict(excluded or {}),
    )


def summarise_plan(plan: RoundPlan) -> Summary:
    """The summary of a plan computed by the round service."""
    names = {p.id: p.label for p in plan.problem.participants}
    groups = [
        GroupInput(
            g.user_ids, g.score, tuple(write_reasons(g.facts, g.user_ids, names)), g.meeting_at
        )
        for g in plan.groups
    ]
    return summarise(plan.problem, groups, plan.unmatched, excluded=plan.excluded)


def _of(query: Any, programme_id: int | None) -> Any:
    """The query limited to one programme's rounds (every programme's for None)."""
    return query if programme_id is None else query.where(Round.programme_id == programme_id)


def round_counts(session: Session, programme_id: int | None = None) -> dict[str, int]:
    """How many teams there are and how many drafts wait (of one programme), for the overview."""
    drafts = _of(
        select(func.count()).select_from(Round).where(Round.status == "draft"), programme_id
    )
    return {
        "teams": session.scalar(select(func.count()).select_from(Team)) or 0,
        "drafts": session.scalar(drafts) or 0,
    }


def latest_rounds(session: Session, limit: int, programme_id: int | None = None) -> list[Round]:
    """The newest rounds (of one programme), by week."""
    query = _of(select(Round), programme_id).order_by(Round.starts_on.desc()).limit(limit)
    return list(session.scalars(query))


def rounds_with_group_counts(
    session: Session, limit: int, programme_id: int | None = None
) -> list[tuple[Round, int]]:
    """The newest rounds (of one programme) with how many groups each has."""
    rows = session.execute(
        _of(select(Round, func.count(MatchGroup.id)), programme_id)
        .outerjoin(MatchGroup, MatchGroup.round_id == Round.id)
        .group_by(Round.id)
        .order_by(Round.starts_on.desc())
        .limit(limit)
    )
    return [(round_, count) for round_, count in rows]


def load_round(session: Session, round_id: int) -> Round | None:
    """A round with its groups, members and their teams loaded."""
    return session.scalar(
        select(Round)
        .where(Round.id == round_id)
        .options(
            selectinload(Round.groups)
            .selectinload(MatchGroup.memberships)
            .selectinload(Membership.user)
            .selectinload(User.team)
        )
    )


def round_problem(round_: Round) -> Problem:
    """The engine input stored with a round, or an empty one when it is missing or unreadable."""
    try:
        return problem_from_json(round_.problem) if round_.problem else Problem(())
    except ProblemError:
        return Problem(())


def people_of(session: Session, user_ids: set[int]) -> dict[int, Person]:
    """Current names and teams of these users."""
    if not user_ids:
        return {}
    users = session.scalars(
        select(User).where(User.id.in_(user_ids)).options(selectinload(User.team))
    ).all()
    return {u.id: Person(u.id, u.display_name, u.team.name if u.team else "no team") for u in users}


def summarise_round(session: Session, round_: Round) -> Summary:
    """The summary of a stored round as it is now (overrides included)."""
    groups = [
        GroupInput(
            tuple(m.user_id for m in g.memberships),
            g.score,
            tuple(reasons_for(g)),
            g.meeting_at,
            g.id,
        )  # fmt: skip
        for g in round_.groups
    ]
    unmatched = [
        (int(item["user_id"]), str(item.get("reason", "")))
        for item in round_.unmatched or []
        if isinstance(item, dict) and isinstance(item.get("user_id"), int)
    ]
    ids = {uid for g in groups for uid in g.user_ids} | {uid for uid, _ in unmatched}
    excluded = (round_.stats or {}).get("excluded") or {}
    return summarise(
        round_problem(round_), groups, unmatched, people_of(session, ids), excluded=excluded
    )


@dataclass(frozen=True)
class StoredSummary:
    """A published round's metrics as `summarise_round` gives them, read from the insights
    aggregates (matcher/rounds/insight_counts) instead of every group and the problem."""

    participants: int
    group_count: int
    unmatched: tuple[tuple[Person, str], ...]
    pairs: int
    cross_team_share: float
    common_share: float
    repeats: int
    score_upper: float
    bins: tuple[int, ...]
    score_sum: float
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def total_score(self) -> float:
        """Sum of the group scores."""
        return round(self.score_sum, 3)

    def score_bins(self, upper: float) -> tuple[int, ...]:
        """The stored histogram, whose bins end at score_upper (the only upper it has)."""
        if upper != self.score_upper:
            raise ValueError("a stored round's scores are binned up to its own upper only")
        return self.bins


def _stored_statements() -> dict[str, Any]:
    """stored_round's statements, built once (bound: round_id, offset, limit, group_ids)."""
    round_id = bindparam("round_id")
    return {
        "summary": select(
            InsightRound.groups, InsightRound.summary, InsightRound.cross_pairs
        ).where(InsightRound.round_id == round_id),
        "groups": select(
            # The facts as their JSON text: the key of the reasons written from them.
            MatchGroup.id, MatchGroup.score, cast(MatchGroup.facts, Text).label("facts"),
            MatchGroup.reasons, MatchGroup.meeting_at, InsightGroup.common,
            InsightGroup.repeats,
        )
        .outerjoin(
            InsightGroup,
            (InsightGroup.round_id == MatchGroup.round_id)
            & (InsightGroup.group_id == MatchGroup.id),
        )
        .where(MatchGroup.round_id == round_id)
        .order_by(MatchGroup.id)
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer)),
        "members": select(Membership.group_id, User.id, User.display_name, Team.name)
        .join(User, User.id == Membership.user_id)
        .outerjoin(Team, Team.id == User.team_id)
        .where(Membership.group_id.in_(bindparam("group_ids", expanding=True)))
        .order_by(Membership.id),
    }  # fmt: skip


_STORED = _stored_statements()


@lru_cache(maxsize=4096)
def _admin_reasons(
    facts: str | None, ids: tuple[int, ...], names: tuple[str, ...]
) -> tuple[str, ...] | None:
    """A stored group's reasons for an admin, from its facts (JSON text) and its members' ids
    and current names, in group order; None when it has no facts (its stored sentences say
    why). A pure function of those, remembered: reading the facts and writing the sentences
    of a page of groups cost a third of the round page."""
    stored = json.loads(facts) if facts else None
    if not stored:
        return None
    return tuple(write_reasons(read_facts(stored), list(ids), dict(zip(ids, names, strict=True))))


def stored_round(
    session: Session, round_: Round, page: int = 1, per_page: int | None = None
) -> tuple[StoredSummary, GroupPage] | None:
    """A published round's summary and one page of its groups, with people's current names
    and teams as `summarise_round` shows them; None when the round has no stored summary."""
    stored = session.execute(_STORED["summary"], {"round_id": round_.id}).first()
    if stored is None or stored.summary is None or "scores" not in stored.summary:
        return None
    snap = stored.summary
    per_page = per_page or GROUPS_PER_PAGE
    pages = max(1, ceil(stored.groups / per_page))
    page = min(max(1, page), pages)
    groups = session.execute(
        _STORED["groups"],
        {"round_id": round_.id, "offset": (page - 1) * per_page, "limit": per_page},
    ).all()
    members: dict[int, list[Person]] = {g.id: [] for g in groups}
    if groups:
        for group_id, user_id, name, team in session.execute(
            _STORED["members"], {"group_ids": list(members)}
        ):
            members[group_id].append(Person(user_id, name, team or "no team"))
    rows = []
    for number, g in enumerate(groups, start=(page - 1) * per_page + 1):
        people = tuple(members[g.id])
        names = {p.id: p for p in people}
        ids, names_in_order = tuple(p.id for p in people), tuple(p.name for p in people)
        reasons = _admin_reasons(g.facts, ids, names_in_order)
        if reasons is None:
            reasons = tuple(str(r) for r in g.reasons or [])
        said = tuple(
            f"{names[x].name if x in names else f'#{x}'} and "
            f"{names[y].name if y in names else f'#{y}'} ({weeks} weeks ago)"
            for x, y, weeks in g.repeats or ()
        )
        view = GroupView(
            g.id, people, g.score, tuple(reasons), g.meeting_at,
            all(x.team != y.team for x, y in combinations(people, 2)), bool(g.common), said,
        )  # fmt: skip
        rows.append((number, view))
    unmatched = [
        (int(item["user_id"]), str(item.get("reason", "")))
        for item in round_.unmatched or []
        if isinstance(item, dict) and isinstance(item.get("user_id"), int)
    ]
    known = people_of(session, {uid for uid, _ in unmatched})
    pairs = snap.get("pairs", 0)
    scores = snap["scores"]
    summary = StoredSummary(
        participants=snap.get("participants", 0),
        group_count=stored.groups,
        unmatched=tuple(
            (known.get(uid, Person(uid, f"#{uid}", "?")), reason) for uid, reason in unmatched
        ),
        pairs=pairs,
        cross_team_share=stored.cross_pairs / pairs if pairs else 0.0,
        common_share=snap.get("common_pairs", 0) / pairs if pairs else 0.0,
        repeats=snap.get("repeat_pairs", 0),
        score_upper=float(scores["upper"]),
        bins=tuple(int(n) for n in scores["bins"]),
        score_sum=float(scores["total"]),
        excluded=dict((round_.stats or {}).get("excluded") or {}),
    )
    return summary, GroupPage(tuple(rows), page, pages, stored.groups, stored.groups, "")


# A round of 10,000 people has 5,000 groups: a page shows this many, with a search (a page
# of 200 cost twice the CPU of the rest of the page).
GROUPS_PER_PAGE = 100


@dataclass(frozen=True)
class GroupPage:
    """One page of a round's groups, each with its number in the whole round."""

    rows: tuple[tuple[int, GroupView], ...]
    page: int
    pages: int
    matching: int  # groups that match the query, on every page
    total: int
    query: str


def page_of_groups(
    groups: Sequence[GroupView], query: str = "", page: int = 1, per_page: int | None = None
) -> GroupPage:
    """The groups with a member whose name or team contains query, one page of them.

    Several terms separated by commas find the groups matching any of them.
    """
    per_page = per_page or GROUPS_PER_PAGE
    needles = [term.strip().casefold() for term in query.split(",") if term.strip()]
    numbered = list(enumerate(groups, start=1))
    if needles:
        numbered = [
            (k, g)
            for k, g in numbered
            if any(
                n in m.name.casefold() or n in m.team.casefold() for n in needles for m in g.members
            )
        ]
    pages = max(1, ceil(len(numbered) / per_page))
    page = min(max(1, page), pages)
    rows = tuple(numbered[(page - 1) * per_page : page * per_page])
    return GroupPage(rows, page, pages, len(numbered), len(groups), query.strip())
