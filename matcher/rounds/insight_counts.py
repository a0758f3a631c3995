"""The insights aggregates: kept current by each event that changes them, or rebuilt whole.

Six tables (matcher/models/insights.py): per round its counts (groups, answers, ratings, new
pairs, cross-team pairs) and the summary its page shows; per group of a round what its page
says of it (shared interests, repeats); per scope (a programme, or EVERY_PROGRAMME) and people
pair the round it was first matched and first met; per scope and team pair the people pairs
matched and met; per scope and team its reach (other teams and people pairs matched and met),
kept with the team pairs; per team its size (people not erased; a size may stay at zero).
Team pairs and a round's cross-team pairs count people under their *current* team: a person
whose team changes (profile, erasure, a team merge) has their pairs moved from the old team's
rows to the new team's, and their rounds' cross-team pairs recounted, by `team_changed`. A team
is deleted only once its people have moved (SCIM, a merge), and its rows go with it; deleting
a team with people would clear their teams behind the flush events' back (a rebuild repairs).

Rounds are in order of (week, programme): a pair is new in the first round of that order.
Closing a round changes nothing here (the status is read from the round itself), and drafts
are never counted.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from itertools import combinations
from typing import Any

from sqlalchemy import delete, event, func, insert, inspect, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from matcher.histograms import bin_counts, upper_of
from matcher.matching import Participant, Problem, ProblemError, problem_from_json
from matcher.models import (
    EVERY_PROGRAMME,
    Feedback,
    InsightGroup,
    InsightPair,
    InsightRound,
    InsightTeam,
    InsightTeamPair,
    InsightTeamSize,
    MatchGroup,
    Membership,
    Round,
    User,
)

Pair = tuple[int, int]
Key = tuple[date, int]  # a round's place in time: (Monday, programme id)
CHUNK = 400  # pairs per IN list (SQLite allows 32,766 bound values)


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _team_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)


def _round_keys(session: Session, ids: Iterable[int]) -> dict[int, Key]:
    wanted = sorted({i for i in ids if i is not None})
    keys: dict[int, Key] = {}
    for chunk in _chunks(wanted):
        rows = session.execute(
            select(Round.id, Round.starts_on, Round.programme_id).where(Round.id.in_(chunk))
        )
        keys.update({rid: (monday, pid) for rid, monday, pid in rows})
    return keys


def _teams_of(session: Session, user_ids: Iterable[int]) -> dict[int, int | None]:
    teams: dict[int, int | None] = {}
    for chunk in _chunks(sorted(set(user_ids))):
        teams.update(session.execute(select(User.id, User.team_id).where(User.id.in_(chunk))).all())
    return teams


def _add_counts(session: Session, model: type, keys: tuple[str, ...], deltas: dict) -> dict:
    """Add deltas ({key tuple: {column: delta}}) to counter rows of model, creating rows and
    dropping the ones left all zero; returns each touched row's counts before."""
    deltas = {k: d for k, d in deltas.items() if any(d.values())}
    if not deltas:
        return {}
    columns = sorted({c for d in deltas.values() for c in d})
    counters = [c.name for c in model.__table__.columns if c.name not in keys]
    key_cols = [getattr(model, k) for k in keys]
    before: dict[tuple, dict[str, int]] = {}
    for chunk in _chunks(list(deltas)):
        rows = session.execute(
            select(*key_cols, *(getattr(model, c) for c in counters)).where(
                tuple_(*key_cols).in_(chunk)
            )
        )
        for row in rows:
            before[tuple(row[: len(keys)])] = dict(zip(counters, row[len(keys) :], strict=True))
    fresh = []
    for key, delta in deltas.items():
        where = [col == value for col, value in zip(key_cols, key, strict=True)]
        old = before.get(key)
        if old is None:
            fresh.append({**dict(zip(keys, key, strict=True)), **{c: 0 for c in counters},
                          **delta})  # fmt: skip
        elif all(old[c] + delta.get(c, 0) == 0 for c in counters):
            session.execute(delete(model).where(*where))
        else:
            session.execute(
                update(model)
                .where(*where)
                .values({c: getattr(model, c) + delta[c] for c in columns if delta.get(c)})
            )
    if fresh:
        session.execute(insert(model), fresh)
    return before


def _bump_teams(session: Session, deltas: dict[tuple[int, int, int], list[int]]) -> None:
    """Add (matched, met) deltas to team-pair rows, and keep each team's reach with them."""
    pair_deltas = {k: {"matched": m, "met": t} for k, (m, t) in deltas.items()}
    before = _add_counts(session, InsightTeamPair, ("scope", "team_a", "team_b"), pair_deltas)
    reach: dict[tuple[int, int], dict[str, int]] = defaultdict(
        lambda: {"teams_matched": 0, "teams_met": 0, "pairs_matched": 0, "pairs_met": 0}
    )
    for (scope, a, b), delta in pair_deltas.items():
        if a == b:  # a team's reach is about the other teams
            continue
        old = before.get((scope, a, b), {"matched": 0, "met": 0})
        for team in (a, b):
            row = reach[(scope, team)]
            row["pairs_matched"] += delta["matched"]
            row["pairs_met"] += delta["met"]
            row["teams_matched"] += (old["matched"] + delta["matched"] > 0) - (old["matched"] > 0)
            row["teams_met"] += (old["met"] + delta["met"] > 0) - (old["met"] > 0)
    _add_counts(session, InsightTeam, ("scope", "team_id"), reach)


def _bump_rounds(session: Session, deltas: dict[tuple[int, str], int]) -> None:
    """Add to the new-pair counters of rounds: {(round id, column name): delta}."""
    for (round_id, column), delta in deltas.items():
        if delta:
            session.execute(
                update(InsightRound)
                .where(InsightRound.round_id == round_id)
                .values({column: getattr(InsightRound, column) + delta})
            )


def _round_feedback(session: Session, round_id: int) -> dict[str, int]:
    """The round's answers, "we met" answers and ratings, counted from the feedback."""
    n, met, total, rated = session.execute(
        select(
            func.count(Feedback.id),
            func.count(Feedback.id).filter(Feedback.status == "met"),
            func.coalesce(func.sum(Feedback.rating), 0),
            func.count(Feedback.rating),
        )
        .join(MatchGroup, MatchGroup.id == Feedback.group_id)
        .where(MatchGroup.round_id == round_id)
    ).one()
    return {"answers": n, "met_answers": met, "rating_sum": int(total), "rating_count": rated}


def _columns(scope: int) -> tuple[str, str]:
    if scope == EVERY_PROGRAMME:
        return ("new_pairs_all", "new_met_all")
    return ("new_pairs", "new_met")


def _apply(
    session: Session,
    scope: int,
    wanted: dict[Pair, tuple[int | None, int | None]],
    stored: dict[Pair, tuple[int, int | None]],
) -> None:
    """Write pairs' first matched / first met rounds where they changed, moving the rounds'
    new-pair counters and the team-pair counts to match."""
    pairs_col, met_col = _columns(scope)
    round_deltas: dict[tuple[int, str], int] = defaultdict(int)
    team_deltas: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
    changed = [p for p in wanted if wanted[p] != stored.get(p, (None, None))]
    teams = _teams_of(session, {u for p in changed for u in p}) if changed else {}
    fresh = []
    for pair in changed:
        first, met = wanted[pair]
        old_first, old_met = stored.get(pair, (None, None))
        for old, new, column in ((old_first, first, pairs_col), (old_met, met, met_col)):
            if old is not None:
                round_deltas[(old, column)] -= 1
            if new is not None:
                round_deltas[(new, column)] += 1
        ta, tb = teams.get(pair[0]), teams.get(pair[1])
        if ta is not None and tb is not None:
            delta = team_deltas[(scope, *_team_key(ta, tb))]
            delta[0] += (first is not None) - (old_first is not None)
            delta[1] += (met is not None) - (old_met is not None)
        where = (
            InsightPair.scope == scope,
            InsightPair.user_a == pair[0],
            InsightPair.user_b == pair[1],
        )
        if first is None:
            session.execute(delete(InsightPair).where(*where))
        elif old_first is None:
            fresh.append(
                {"scope": scope, "user_a": pair[0], "user_b": pair[1], "first_matched": first,
                 "first_met": met}
            )  # fmt: skip
        else:
            session.execute(
                update(InsightPair).where(*where).values(first_matched=first, first_met=met)
            )
    if fresh:
        session.execute(insert(InsightPair), fresh)
    _bump_rounds(session, round_deltas)
    _bump_teams(session, team_deltas)


def _stored(session: Session, scope: int, pairs: list[Pair]) -> dict[Pair, tuple[int, int | None]]:
    stored: dict[Pair, tuple[int, int | None]] = {}
    for chunk in _chunks(pairs):
        rows = session.execute(
            select(
                InsightPair.user_a,
                InsightPair.user_b,
                InsightPair.first_matched,
                InsightPair.first_met,
            ).where(
                InsightPair.scope == scope,
                tuple_(InsightPair.user_a, InsightPair.user_b).in_(chunk),
            )
        )
        stored.update({(a, b): (first, met) for a, b, first, met in rows})
    return stored


def _group_count(session: Session, round_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(MatchGroup).where(MatchGroup.round_id == round_id)
        )
        or 0
    )


def _groups_of_round(session: Session, round_id: int) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = defaultdict(list)
    for group_id, user_id in session.execute(
        select(Membership.group_id, Membership.user_id)
        .where(Membership.round_id == round_id)
        .order_by(Membership.id)
    ):
        groups[group_id].append(user_id)
    return groups


def _shares(a: Participant, b: Participant) -> bool:
    mine = {x.casefold() for x in (*a.projects, *a.interests)}
    return any(x.casefold() in mine for x in (*b.projects, *b.interests))


def snapshot(
    session: Session,
    round_id: int,
    groups: dict[int, list[int]],
    teams: dict[int, int | None] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A round's page figures: its insight_rounds columns and its insight_groups rows."""
    # What the round page reads instead of every group and the stored problem, as
    # admin.summaries.summarise reads it (an unreadable problem is an empty one); per group
    # in membership order; teams are the members' current ones (read when not given).
    stored = session.scalar(select(Round.problem).where(Round.id == round_id))
    try:
        problem = problem_from_json(stored) if stored else Problem(())
    except ProblemError:
        problem = Problem(())
    if teams is None:
        teams = _teams_of(session, {u for members in groups.values() for u in members})
    scores = session.scalars(
        select(MatchGroup.score).where(MatchGroup.round_id == round_id).order_by(MatchGroup.id)
    ).all()
    by_id = {p.id: p for p in problem.participants}
    met: dict[frozenset, int] = {}
    for h in problem.history:
        key = frozenset((h.a, h.b))
        met[key] = min(h.weeks_ago, met.get(key, h.weeks_ago))
    pairs = common_pairs = repeat_pairs = cross_pairs = 0
    rows: list[dict[str, Any]] = []
    for group_id in sorted(groups):
        shared = False
        repeats: list[list[int]] = []
        for x, y in combinations(groups[group_id], 2):
            pairs += 1
            cross_pairs += (teams.get(x) or 0) != (teams.get(y) or 0)
            px, py = by_id.get(x), by_id.get(y)
            if px is not None and py is not None and _shares(px, py):
                common_pairs += 1
                shared = True
            weeks = met.get(frozenset((x, y)))
            if weeks is not None:
                repeat_pairs += 1
                repeats.append([x, y, weeks])
        if shared or repeats:
            rows.append(
                {"round_id": round_id, "group_id": group_id, "common": shared,
                 "repeats": repeats}
            )  # fmt: skip
    upper = upper_of(scores)
    summary = {
        "participants": len(problem.participants), "pairs": pairs,
        "common_pairs": common_pairs, "repeat_pairs": repeat_pairs,
        "scores": {"upper": upper, "bins": bin_counts(scores, upper),
                   "total": sum(v for v in scores if math.isfinite(v))},
    }  # fmt: skip
    return {"summary": summary, "cross_pairs": cross_pairs}, rows


def _store_groups(session: Session, round_id: int, rows: list[dict[str, Any]]) -> None:
    """Replace the round's group rows."""
    session.execute(delete(InsightGroup).where(InsightGroup.round_id == round_id))
    for chunk in _chunks(rows, 5000):
        session.execute(insert(InsightGroup), chunk)


def _cross_deltas(
    rows: Iterable[tuple[int, int, int | None]],
    old: int | None,
    new: int | None,
    counted: dict[int, int | None],
) -> dict[int, int]:
    """Each round's change in cross-team pairs when one person moves from team old to new,
    from (round, partner, partner's team) rows; counted overrides partners' teams."""
    deltas: dict[int, int] = defaultdict(int)
    for round_id, partner, theirs in rows:
        theirs = counted.get(partner, theirs) or 0
        deltas[round_id] += ((new or 0) != theirs) - ((old or 0) != theirs)
    return deltas


def _bump_cross(session: Session, deltas: dict[int, int]) -> None:
    for round_id, delta in deltas.items():
        if delta:
            session.execute(
                update(InsightRound)
                .where(InsightRound.round_id == round_id)
                .values(cross_pairs=InsightRound.cross_pairs + delta)
            )


def _said_met(session: Session, group_ids: list[int]) -> dict[int, set[int]]:
    said: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(group_ids):
        rows = session.execute(
            select(Feedback.group_id, Feedback.user_id).where(
                Feedback.group_id.in_(chunk), Feedback.status == "met"
            )
        )
        for group_id, user_id in rows:
            said[group_id].add(user_id)
    return said


def round_published(session: Session, round_id: int) -> None:
    """Count a round that stopped being a draft, or groups added to a counted one (flushed)."""
    round_ = session.execute(
        select(Round.id, Round.starts_on, Round.programme_id).where(Round.id == round_id)
    ).one()
    groups = _groups_of_round(session, round_.id)
    said = _said_met(session, list(groups))
    in_round: dict[Pair, bool] = {}
    for group_id, members in groups.items():
        for a, b in combinations(sorted(members), 2):
            met = a in said[group_id] or b in said[group_id]
            in_round[(a, b)] = in_round.get((a, b), False) or met
    columns, group_rows = snapshot(session, round_.id, groups)
    counts = {
        "groups": _group_count(session, round_.id), **_round_feedback(session, round_.id),
        **columns,
    }  # fmt: skip
    done = session.execute(
        update(InsightRound).where(InsightRound.round_id == round_.id).values(**counts)
    )
    if not done.rowcount:
        session.execute(insert(InsightRound), [{"round_id": round_.id, **counts}])
    _store_groups(session, round_.id, group_rows)
    here: Key = (round_.starts_on, round_.programme_id)
    pairs = sorted(in_round)
    for scope in (round_.programme_id, EVERY_PROGRAMME):
        stored = _stored(session, scope, pairs)
        keys = _round_keys(session, {r for row in stored.values() for r in row})
        keys[round_.id] = here

        def earlier(new: int | None, old: int | None, keys: dict[int, Key] = keys) -> int | None:
            if new is None:
                return old
            return new if old is None or keys[new] < keys[old] else old

        wanted = {
            pair: (
                earlier(round_.id, stored.get(pair, (None, None))[0]),
                earlier(round_.id if met else None, stored.get(pair, (None, None))[1]),
            )
            for pair, met in in_round.items()
        }
        _apply(session, scope, wanted, stored)


def answer_changed(session: Session, group_id: int, me: int) -> None:
    """Recount what one person's feedback answer in a group touches (after it is flushed)."""
    found = session.execute(
        select(Round.id, Round.programme_id, Round.status)
        .join(MatchGroup, MatchGroup.round_id == Round.id)
        .where(MatchGroup.id == group_id)
    ).first()
    if found is None or found.status == "draft":
        return
    session.execute(
        update(InsightRound)
        .where(InsightRound.round_id == found.id)
        .values(**_round_feedback(session, found.id))
    )
    partners = set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.group_id == group_id, Membership.user_id != me
            )
        )
    )
    if not partners:
        return
    # Every group (of a counted round) the person shared with one of these partners.
    other = Membership.__table__.alias("other")
    rows = session.execute(
        select(Membership.group_id, other.c.user_id, Round.id, Round.starts_on, Round.programme_id)
        .join(other, other.c.group_id == Membership.group_id)
        .join(Round, Round.id == Membership.round_id)
        .where(Membership.user_id == me, other.c.user_id.in_(partners), Round.status != "draft")
    ).all()
    said = _said_met(session, sorted({row[0] for row in rows}))
    pairs = sorted(_team_key(me, v) for v in partners)
    for scope in (found.programme_id, EVERY_PROGRAMME):
        keys: dict[int, Key] = {}
        firsts: dict[Pair, list[int | None]] = {}
        for shared, partner, rid, monday, pid in rows:
            if scope != EVERY_PROGRAMME and pid != scope:
                continue
            keys[rid] = (monday, pid)
            pair = _team_key(me, partner)
            met = me in said[shared] or partner in said[shared]
            first = firsts.setdefault(pair, [None, None])
            if first[0] is None or keys[rid] < keys[first[0]]:
                first[0] = rid
            if met and (first[1] is None or keys[rid] < keys[first[1]]):
                first[1] = rid
        stored = _stored(session, scope, pairs)
        wanted = {p: tuple(firsts.get(p, [None, None])) for p in set(pairs) | set(stored)}
        _apply(session, scope, wanted, stored)  # type: ignore[arg-type]


def team_changed(
    session: Session,
    user_id: int,
    old: int | None,
    new: int | None,
    counted: dict[int, int | None] | None = None,
) -> None:
    """Move a person's pairs from their old team's counts to their new team's (counted: the
    teams still counted for partners who moved too and are not moved yet)."""
    if old == new:
        return
    counted = counted or {}
    mine = (
        select(InsightPair.scope, InsightPair.user_b.label("other"), InsightPair.first_met)
        .where(InsightPair.user_a == user_id)
        .union_all(
            select(InsightPair.scope, InsightPair.user_a, InsightPair.first_met).where(
                InsightPair.user_b == user_id
            )
        )
        .subquery()
    )
    rows = session.execute(
        select(mine.c.scope, mine.c.other, User.team_id, mine.c.first_met).join(
            User, User.id == mine.c.other
        )
    )
    deltas: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
    # The person's group mates in counted rounds (a round has insights once it is counted).
    mate = aliased(Membership)
    mates = session.execute(
        select(Membership.round_id, mate.user_id, User.team_id)
        .join(InsightRound, InsightRound.round_id == Membership.round_id)
        .join(mate, (mate.group_id == Membership.group_id) & (mate.user_id != user_id))
        .join(User, User.id == mate.user_id)
        .where(Membership.user_id == user_id)
    )
    _bump_cross(session, _cross_deltas(mates, old, new, counted))
    for scope, other, theirs, first_met in rows:
        theirs = counted.get(other, theirs)
        if theirs is None:
            continue
        for team, sign in ((old, -1), (new, 1)):
            if team is not None:
                delta = deltas[(scope, *_team_key(team, theirs))]
                delta[0] += sign
                delta[1] += sign if first_met is not None else 0
    _bump_teams(session, deltas)


def teams_merged(session: Session, source: int, target: int) -> None:
    """Everyone of team source moves to target (call before the move, with both teams there)."""
    serialise(session)
    # Pairs of a source and a target member in a group stop being cross-team.
    mine, mate = aliased(Membership), aliased(Membership)
    me, them = aliased(User), aliased(User)
    together = session.execute(
        select(mine.round_id, func.count())
        .join(InsightRound, InsightRound.round_id == mine.round_id)
        .join(mate, mate.group_id == mine.group_id)
        .join(me, me.id == mine.user_id)
        .join(them, them.id == mate.user_id)
        .where(me.team_id == source, them.team_id == target)
        .group_by(mine.round_id)
    )
    _bump_cross(session, {round_id: -n for round_id, n in together})
    people = session.scalar(select(InsightTeamSize.people).where(InsightTeamSize.team_id == source))
    if people:
        _bump_sizes(session, {source: -people, target: people})
    rows = session.execute(
        select(
            InsightTeamPair.scope,
            InsightTeamPair.team_a,
            InsightTeamPair.team_b,
            InsightTeamPair.matched,
            InsightTeamPair.met,
        ).where(or_(InsightTeamPair.team_a == source, InsightTeamPair.team_b == source))
    ).all()
    deltas: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for scope, a, b, matched, met in rows:
        moved = _team_key(target if a == source else a, target if b == source else b)
        deltas[(scope, a, b)][0] -= matched
        deltas[(scope, a, b)][1] -= met
        deltas[(scope, *moved)][0] += matched
        deltas[(scope, *moved)][1] += met
    _bump_teams(session, deltas)


def people_joined(session: Session, team_ids: Iterable[int | None]) -> None:
    """Count people bulk-inserted (one team id or None each) in their teams' sizes."""
    # A roster's Core insert passes no flush event.
    serialise(session)
    joined: dict[int, int] = defaultdict(int)
    for team_id in team_ids:
        if team_id is not None:
            joined[team_id] += 1
    _bump_sizes(session, joined)


def _bump_sizes(session: Session, deltas: dict[int, int]) -> None:
    """Add to teams' sizes in one statement that cannot race: sign-ups to one team at the
    same moment each add theirs (an insert that finds the row adds to it instead). A row
    left at zero stays (deleting it could lose a concurrent addition)."""
    rows = [{"team_id": team, "people": n} for team, n in sorted(deltas.items()) if n]
    if not rows:
        return
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = upsert(InsightTeamSize)
    statement = statement.on_conflict_do_update(
        index_elements=[InsightTeamSize.team_id],
        set_={"people": InsightTeamSize.people + statement.excluded.people},
    )
    session.execute(statement, rows)


# Keeping them current ----------------------------------------------------------------------
#
# Flush events rather than calls in each service: a round published by the CLI, the scheduler
# or the admin, an answer from the web form or a test's fixture, a team changed by the profile
# or an erasure all pass through a flush. Bulk UPDATEs do not: a team merge calls
# `teams_merged` itself.

_MOVES = "insight_team_moves"
_SIZES = "insight_team_sizes"
_BUSY = "insight_counting"


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    """Take the aggregates' lock before a flush that writes what they count; note the team
    each new, moved, erased or deleted person counted under."""
    moves: dict[int, int | None] = session.info.setdefault(_MOVES, {})
    sizes: list[tuple[User, int | None]] = session.info.setdefault(_SIZES, [])
    joined = [obj for obj in session.new if isinstance(obj, User)]
    changed: list[tuple[User, bool]] = []
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, User):
            attrs = inspect(obj).attrs
            moved = attrs.team.history.has_changes() or attrs.team_id.history.has_changes()
            if obj in session.deleted or moved or attrs.deleted_at.history.has_changes():
                changed.append((obj, moved))
    if not (joined or changed or _counted_change(session)):
        return
    # Before this flush's first statement: waiting for the lock while holding rows another
    # holder of the lock goes on to write (a merge's users) would deadlock.
    serialise(session)
    sizes.extend((obj, None) for obj in joined)
    if not changed:
        return
    # The team and erasure as they are now, read under the lock: another transaction may
    # have changed them since this one loaded the person.
    stored: dict[int, tuple[int | None, Any]] = {}
    with session.no_autoflush:
        for chunk in _chunks(sorted(obj.id for obj, _ in changed)):
            rows = session.execute(
                select(User.id, User.team_id, User.deleted_at).where(User.id.in_(chunk))
            )
            stored.update({user_id: (team, gone) for user_id, team, gone in rows})
    for obj, moved in changed:
        old, gone = stored.get(obj.id, (None, None))
        sizes.append((obj, old if gone is None else None))
        if moved and obj not in session.deleted:
            moves.setdefault(obj.id, old)


def _round_change(session: Session, obj: object) -> str | None:
    """What a flushed round means to the counts: "published" (new or out of draft),
    "anonymised" (an erasure rewrote its problem) or None (closing counts nothing)."""
    if not isinstance(obj, Round) or obj.status == "draft":
        return None
    attrs = inspect(obj).attrs
    if obj in session.new or "draft" in (attrs.status.history.deleted or ()):
        return "published"
    return "anonymised" if attrs.problem.history.has_changes() else None


def _counted_change(session: Session) -> bool:
    """Whether a flush publishes or anonymises a round, adds to one or changes an answer."""
    return any(
        isinstance(obj, Feedback)
        or (isinstance(obj, Membership) and obj in session.new)
        or _round_change(session, obj) is not None
        for obj in (*session.new, *session.dirty, *session.deleted)
    )


def _count_sizes(session: Session, noted: list[tuple[User, int | None]]) -> None:
    """Move each noted person from the team size they counted in to the one they count in
    now (none once erased or deleted)."""
    before: dict[int, int | None] = {}
    for obj, old in noted:
        if obj.id is not None:
            before.setdefault(obj.id, old)
    if not before:
        return
    now: dict[int, int | None] = {}
    for chunk in _chunks(sorted(before)):
        now.update(
            session.execute(
                select(User.id, User.team_id).where(User.id.in_(chunk), User.deleted_at.is_(None))
            ).all()
        )
    deltas: dict[int, int] = defaultdict(int)
    for user_id, old in before.items():
        new = now.get(user_id)
        if old != new:
            if old is not None:
                deltas[old] -= 1
            if new is not None:
                deltas[new] += 1
    _bump_sizes(session, deltas)


# One application-wide PostgreSQL advisory lock ("mtch") for the aggregates' upkeep.
_LOCK = 0x6D746368


def serialise(session: Session) -> None:
    """Hold the aggregates' lock until this transaction ends (PostgreSQL only)."""
    # Their upkeep reads counts and writes them back: two transactions at once (both
    # partners answering "we met" in the same second) would count a pair twice or insert
    # the same row twice. SQLite lets one writer in at a time already, but takes that lock
    # at a transaction's first write, so what it reads before can be a moment old: it is
    # for a single process, and PostgreSQL for more.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_LOCK)))


def _after_flush(session: Session, _context: object) -> None:
    """Count what the flush changed: team moves first (new pairs then go to new teams)."""
    if session.info.get(_BUSY):
        return
    session.info[_BUSY] = True
    try:
        _count_sizes(session, session.info.pop(_SIZES, []))
        moves = session.info.pop(_MOVES, {})
        if moves:
            now = _teams_of(session, moves)
            pending = dict(moves)
            for user_id, old in moves.items():
                pending.pop(user_id)
                team_changed(session, user_id, old, now.get(user_id), pending)
        touched: set[int] = set()
        for obj in (*session.new, *session.dirty):
            change = _round_change(session, obj)
            if change == "published":
                touched.add(obj.id)
            elif change == "anonymised":
                columns, rows = snapshot(session, obj.id, _groups_of_round(session, obj.id))
                session.execute(
                    update(InsightRound).where(InsightRound.round_id == obj.id).values(**columns)
                )
                _store_groups(session, obj.id, rows)
            elif isinstance(obj, Membership) and obj in session.new:
                touched.add(obj.round_id)  # a counted round only: checked below
        counted = (
            session.execute(
                select(Round.id)
                .where(Round.id.in_(touched), Round.status != "draft")
                .order_by(Round.starts_on, Round.programme_id)
            ).scalars()
            if touched
            else []
        )
        for round_id in list(counted):
            round_published(session, round_id)
        answers = {
            (obj.group_id, obj.user_id)
            for obj in (*session.new, *session.dirty, *session.deleted)
            if isinstance(obj, Feedback)
        }
        for group_id, user_id in sorted(answers):
            answer_changed(session, group_id, user_id)
    finally:
        session.info[_BUSY] = False


def _forget(session: Session, _previous: object) -> None:
    """A flush that failed leaves no team moves behind for the next one."""
    session.info.pop(_MOVES, None)
    session.info.pop(_SIZES, None)


def install(session_class: type[Session] | Session) -> None:
    """Keep the aggregates current in every flush of these sessions."""
    if not event.contains(session_class, "after_flush", _after_flush):
        event.listen(session_class, "before_flush", _before_flush)
        event.listen(session_class, "after_flush", _after_flush)
        event.listen(session_class, "after_soft_rollback", _forget)


# Rebuilding from scratch -------------------------------------------------------------------


def recount_tables(
    session: Session,
) -> tuple[list[dict], list[dict], list[dict], list[dict], list[dict], list[dict]]:
    """The six tables' rows (rounds, pairs, team pairs, reach, groups, sizes), recounted."""
    # From rounds, groups, feedback and current teams.
    rounds = session.execute(
        select(Round.id, Round.programme_id)
        .where(Round.status != "draft")
        .order_by(Round.starts_on, Round.programme_id)
    ).all()
    members: dict[int, list[int]] = defaultdict(list)
    group_round: dict[int, int] = {}
    for round_id, group_id, user_id in session.execute(
        select(Membership.round_id, Membership.group_id, Membership.user_id)
        .join(Round, Round.id == Membership.round_id)
        .where(Round.status != "draft")
        .order_by(Membership.id)
    ):
        members[group_id].append(user_id)
        group_round[group_id] = round_id
    by_round: dict[int, list[int]] = defaultdict(list)
    for group_id, round_id in group_round.items():
        by_round[round_id].append(group_id)
    said: dict[int, set[int]] = defaultdict(set)
    for group_id, user_id in session.execute(
        select(Feedback.group_id, Feedback.user_id).where(Feedback.status == "met")
    ):
        said[group_id].add(user_id)
    team_of = dict(session.execute(select(User.id, User.team_id)).all())
    counts: dict[int, dict] = {}
    group_rows: list[dict] = []
    for round_id, _ in rounds:
        columns, rows = snapshot(
            session, round_id, {g: members[g] for g in by_round.get(round_id, [])}, team_of
        )
        group_rows += rows
        counts[round_id] = {
            **columns,
            "round_id": round_id, "groups": 0, "answers": 0, "met_answers": 0, "rating_sum": 0,
            "rating_count": 0, "new_pairs": 0, "new_met": 0, "new_pairs_all": 0, "new_met_all": 0,
        }  # fmt: skip
    for round_id, n in session.execute(
        select(MatchGroup.round_id, func.count()).group_by(MatchGroup.round_id)
    ):
        if round_id in counts:
            counts[round_id]["groups"] = n
    for round_id, n, met, total, rated in session.execute(
        select(
            MatchGroup.round_id,
            func.count(Feedback.id),
            func.count(Feedback.id).filter(Feedback.status == "met"),
            func.coalesce(func.sum(Feedback.rating), 0),
            func.count(Feedback.rating),
        )
        .join(MatchGroup, MatchGroup.id == Feedback.group_id)
        .group_by(MatchGroup.round_id)
    ):
        if round_id in counts:
            counts[round_id].update(
                answers=n, met_answers=met, rating_sum=int(total), rating_count=rated
            )
    firsts: dict[tuple[int, int, int], list[int | None]] = {}
    for round_id, programme_id in rounds:
        for group_id in by_round.get(round_id, []):
            for a, b in combinations(sorted(members[group_id]), 2):
                met = a in said[group_id] or b in said[group_id]
                for scope in (programme_id, EVERY_PROGRAMME):
                    pairs_col, met_col = _columns(scope)
                    first = firsts.get((scope, a, b))
                    if first is None:
                        first = firsts[(scope, a, b)] = [round_id, None]
                        counts[round_id][pairs_col] += 1
                    if met and first[1] is None:
                        first[1] = round_id
                        counts[round_id][met_col] += 1
    teams: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for (scope, a, b), (_, met_round) in firsts.items():
        ta, tb = team_of.get(a), team_of.get(b)
        if ta is not None and tb is not None:
            row = teams[(scope, *_team_key(ta, tb))]
            row[0] += 1
            row[1] += met_round is not None
    pair_rows = [
        {"scope": s, "user_a": a, "user_b": b, "first_matched": f, "first_met": m}
        for (s, a, b), (f, m) in firsts.items()
    ]
    team_rows = [
        {"scope": s, "team_a": a, "team_b": b, "matched": m, "met": t}
        for (s, a, b), (m, t) in teams.items()
    ]
    reach: dict[tuple[int, int], dict[str, int]] = defaultdict(
        lambda: {"teams_matched": 0, "teams_met": 0, "pairs_matched": 0, "pairs_met": 0}
    )
    for (scope, a, b), (matched, met) in teams.items():
        if a != b:
            for team in (a, b):
                row = reach[(scope, team)]
                row["teams_matched"] += 1
                row["teams_met"] += met > 0
                row["pairs_matched"] += matched
                row["pairs_met"] += met
    reach_rows = [{"scope": s, "team_id": t, **row} for (s, t), row in reach.items()]
    size_rows = [
        {"team_id": team_id, "people": n}
        for team_id, n in session.execute(
            select(User.team_id, func.count())
            .where(User.team_id.is_not(None), User.deleted_at.is_(None))
            .group_by(User.team_id)
        )
    ]
    return list(counts.values()), pair_rows, team_rows, reach_rows, group_rows, size_rows


def rebuild(session: Session) -> dict[str, int]:
    """Replace the six tables with a recount (after the migration, or to repair them)."""
    serialise(session)
    round_rows, pair_rows, team_rows, reach_rows, group_rows, size_rows = recount_tables(session)
    for model in (
        InsightTeamSize,
        InsightGroup,
        InsightTeam,
        InsightTeamPair,
        InsightPair,
        InsightRound,
    ):
        session.execute(delete(model))
    for model, rows in (
        (InsightRound, round_rows),
        (InsightPair, pair_rows),
        (InsightTeamPair, team_rows),
        (InsightTeam, reach_rows),
        (InsightGroup, group_rows),
        (InsightTeamSize, size_rows),
    ):
        for chunk in _chunks(rows, 5000):
            session.execute(insert(model), chunk)
    return {
        "rounds": len(round_rows), "pairs": len(pair_rows), "team_pairs": len(team_rows),
        "teams": len(reach_rows), "groups": len(group_rows),
        "team_sizes": len(size_rows),
    }  # fmt: skip
