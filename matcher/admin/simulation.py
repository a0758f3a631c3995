"""What-if: run the engine over the next weeks with proposed rules, writing nothing.

One read of the database (the problem `plan_round` builds for the first week), then pure
engine runs: each simulated week's groups become history for the next, and whoever stays
unmatched waits a week longer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import combinations

from sqlalchemy.orm import Session

from matcher.matching import Participant, PastPairing, Result, Rules, SolverOptions, solve
from matcher.models import Programme
from matcher.programmes.schedule import seed_for_week
from matcher.rounds.planning import plan_round
from matcher.weeks import parse_week, week_label

DEFAULT_WEEKS = 12
# Above this many participants the simulation would keep a request waiting too long.
MAX_PARTICIPANTS = 3000
# Above this many, simulated weeks skip the engine's slower improvement passes: the trends
# (repeats, cross-team share, unmatched) hold, at a slightly lower score than a real round.
FAST_ABOVE = 200
# Simulated weeks stop once this much time has gone, and the page says so.
BUDGET_SECONDS = 15.0


@dataclass(frozen=True)
class SimulatedWeek:
    """One simulated round and how it went."""

    week: str
    groups: int
    pairs: int
    repeats: int
    cross_team_share: float
    unmatched: tuple[tuple[int, str], ...]
    team_pairs_connected: int  # cumulative distinct team pairs met across, simulation only


@dataclass(frozen=True)
class WhatIf:
    """The simulated weeks, who was left out for lack of a valid partner, and any caveat."""

    weeks: tuple[SimulatedWeek, ...]
    participants: int
    team_pairs_possible: int
    names: dict[int, str]
    seconds: float
    note: str | None = None

    @property
    def cooldown_warnings(self) -> list[tuple[str, int, str]]:
        """(week, person, reason) for everyone left with no valid partner at all."""
        return [
            (w.week, uid, reason)
            for w in self.weeks
            for uid, reason in w.unmatched
            if reason.startswith("no valid partner")
        ]


def _week_after(label: str, weeks: int) -> str:
    return week_label(parse_week(label) + timedelta(weeks=weeks))


def simulate(
    session: Session,
    programme: Programme,
    rules: Rules,
    start_week: str,
    weeks: int = DEFAULT_WEEKS,
    budget: float = BUDGET_SECONDS,
) -> WhatIf:
    """Simulate `weeks` rounds from start_week with these rules; nothing is written."""
    clock = time.perf_counter()
    plan = plan_round(session, programme, start_week, rules=rules)
    base = plan.problem
    names = {p.id: p.label for p in base.participants}
    teams = {p.id: p.team for p in base.participants}
    team_count = len(set(teams.values()))
    possible = team_count * (team_count - 1) // 2
    if len(base.participants) > MAX_PARTICIPANTS:
        return WhatIf(
            (), len(base.participants), possible, names, 0.0,
            f"{len(base.participants)} people take part: more than the {MAX_PARTICIPANTS} a "
            "simulation can handle while the page waits. Preview single weeks instead.",
        )  # fmt: skip
    notes = []
    options = None
    if len(base.participants) > FAST_ABOVE:
        options = SolverOptions(improve=False)
        notes.append(
            f"{len(base.participants)} people take part: simulated weeks use the engine's fast "
            "mode (no improvement passes), so scores run slightly below real rounds."
        )
    # Week index of each pair's latest meeting: real history is before week 0 (negative).
    last_met: dict[frozenset, tuple[int, bool | None]] = {
        frozenset((h.a, h.b)): (-h.weeks_ago, h.would_meet_again) for h in base.history
    }
    waiting = {p.id: p.weeks_waiting for p in base.participants}
    connected: set[frozenset[str]] = set()
    out = []
    result: Result = plan.result
    label = plan.week
    for k in range(weeks):
        if k and time.perf_counter() - clock > budget:
            notes.append(
                f"Stopped after {k} week{'s' if k != 1 else ''} to keep this page responsive."
            )
            break
        if k:
            label = _week_after(plan.week, k)
            problem = replace(
                base,
                participants=tuple(_waiting(p, waiting[p.id]) for p in base.participants),
                history=tuple(
                    PastPairing(*sorted(pair, key=str), k - met, again)
                    for pair, (met, again) in last_met.items()
                ),
                seed=seed_for_week(label),
            )
            result = solve(problem, options)
        pairs = repeats = cross = 0
        for group in result.groups:
            for a, b in combinations(group.members, 2):
                pairs += 1
                repeats += frozenset((a, b)) in last_met
                if teams[a] != teams[b]:
                    cross += 1
                    connected.add(frozenset((teams[a], teams[b])))
        for group in result.groups:
            for a, b in combinations(group.members, 2):
                again = last_met.get(frozenset((a, b)), (0, None))[1]
                last_met[frozenset((a, b))] = (k, again)
            for member in group.members:
                waiting[member] = 0
        for u in result.unmatched:
            waiting[u.id] += 1
        out.append(
            SimulatedWeek(
                week=label,
                groups=len(result.groups),
                pairs=pairs,
                repeats=repeats,
                cross_team_share=cross / pairs if pairs else 0.0,
                unmatched=tuple((u.id, u.reason) for u in result.unmatched),
                team_pairs_connected=len(connected),
            )
        )
    return WhatIf(
        tuple(out), len(base.participants), possible, names, time.perf_counter() - clock,
        " ".join(notes) or None,
    )  # fmt: skip


def _waiting(person: Participant, weeks: int) -> Participant:
    return person if person.weeks_waiting == weeks else replace(person, weeks_waiting=weeks)
