"""Short human reasons for each group, built from the score components that made it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .encode import Encoded, pair_keys
from .hours import overlap_hours
from .model import Participant
from .scoring import COMPONENTS, SCORE_DECIMALS, Scorer

MAX_REASONS = 3
MAX_INTEREST_NAMES = 2
FAIRNESS_MENTION_WEEKS = 2
_C = {name: k for k, name in enumerate(COMPONENTS)}


# Score, reasons and per-component contributions of one group.
GroupDescription = tuple[float, tuple[str, ...], tuple[tuple[str, float], ...]]


def _join(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _internal_pairs(groups: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b, owner = [], [], []
    for g, members in enumerate(groups):
        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                a.append(members[i])
                b.append(members[j])
                owner.append(g)
    return (
        np.asarray(a, dtype=np.int64),
        np.asarray(b, dtype=np.int64),
        np.asarray(owner, dtype=np.int64),
    )


class _Writer:
    """Builds reason texts from Python lists (numpy scalars are too slow per group)."""

    def __init__(self, people: Sequence[Participant], enc: Encoded) -> None:
        self.people = people
        names = enc.interests.names
        rarity = enc.interest_rarity.tolist()
        self.rarity = dict(zip(names, rarity, strict=True))

    def _names(self, x: int, y: int) -> str:
        return f"{self.people[x].label} and {self.people[y].label}"

    def projects(self, x: int, y: int, pair_group: bool) -> str | None:
        px, py = self.people[x], self.people[y]
        shared = sorted(set(px.projects) & set(py.projects))
        if not shared or px.team == py.team:
            return None
        who = "you" if pair_group else self._names(x, y)
        return f"{who} both work on {_join(shared[:2])}, from {px.team} and {py.team}"

    def interests(self, members: Sequence[int], x: int, y: int) -> str | None:
        common = set(self.people[members[0]].interests)
        for m in members[1:]:
            common &= set(self.people[m].interests)
        prefix = "both" if len(members) == 2 else "all"
        if not common:
            common = set(self.people[x].interests) & set(self.people[y].interests)
            prefix = f"{self._names(x, y)} are both"
        if not common:
            return None
        names = sorted(common, key=lambda t: (-self.rarity.get(t, 0.0), t))
        return f"{prefix} into {_join(names[:MAX_INTEREST_NAMES])}"

    def place(self, members: Sequence[int], x: int, y: int) -> str:
        places = {self.people[m].location for m in members}
        if len(places) == 1:
            return f"in the same office ({places.pop()})"
        return f"{self._names(x, y)} share the {self.people[x].location} office"

    def hours(self, x: int, y: int, hours: float, pair_group: bool) -> str:
        if pair_group:
            return f"your working hours overlap {hours:g} h a week"
        return f"{self._names(x, y)} overlap {hours:g} working hours a week"

    def fairness(self, members: Sequence[int]) -> str | None:
        waited = max(members, key=lambda m: self.people[m].weeks_waiting)
        weeks = self.people[waited].weeks_waiting
        if weeks < FAIRNESS_MENTION_WEEKS:
            return None
        return f"{self.people[waited].label} has waited {weeks} weeks for a match"

    def teams(self, members: Sequence[int]) -> str | None:
        teams = list(dict.fromkeys(self.people[m].team for m in members))
        if len(teams) < 2:
            return None
        return f"from different teams: {_join(teams)}"

    def novelty(self, pairs: Sequence[tuple[int, int, int]], pair_group: bool) -> str:
        met = [(w, x, y) for w, x, y in pairs if w >= 0]
        if not met:
            return "first time you meet" if pair_group else "none of you have met before"
        w, x, y = min(met)
        when = f"{w} week{'s' if w != 1 else ''} ago"
        return f"last met {when}" if pair_group else f"{self._names(x, y)} last met {when}"


def describe_groups(
    groups: Sequence[Sequence[int]], people: Sequence[Participant], scorer: Scorer
) -> list[GroupDescription]:
    """Score (sum of pair scores), up to three reasons and component totals for each group."""
    enc = scorer.enc
    a, b, owner = _internal_pairs(groups)
    raw = scorer.components(a, b)
    pair_score = np.round(raw @ scorer.weights, SCORE_DECIMALS).tolist()
    weighted_arr = raw * scorer.weights
    weighted = weighted_arr.tolist()
    weighted_rounded = np.round(weighted_arr, SCORE_DECIMALS).tolist()
    weeks = enc.met.lookup(pair_keys(a, b, enc.n)).tolist()
    hours = overlap_hours(enc.hours_words, a, b).tolist()
    a_l, b_l = a.tolist(), b.tolist()
    starts = np.searchsorted(owner, np.arange(len(groups) + 1)).tolist()
    writer = _Writer(people, enc)
    c_proj, c_int, c_loc, c_hours = _C["projects"], _C["interests"], _C["location"], _C["hours"]
    c_fair, c_org = _C["fairness"], _C["org_distance"]
    width = len(COMPONENTS)
    out: list[GroupDescription] = []
    for g, members in enumerate(groups):
        lo, hi = starts[g], starts[g + 1]
        pair_group = hi - lo == 1
        if pair_group:
            totals = weighted[lo]
            score = pair_score[lo]
            rounded = weighted_rounded[lo]
        else:
            totals = [sum(weighted[r][k] for r in range(lo, hi)) for k in range(width)]
            score = round(sum(pair_score[lo:hi]), SCORE_DECIMALS)
            rounded = [round(t, SCORE_DECIMALS) for t in totals]

        def best(k: int, lo=lo, hi=hi) -> int:
            return max(range(lo, hi), key=lambda row, k=k: weighted[row][k])

        ranked: list[tuple[float, str | None]] = []
        if totals[c_proj] > 0:
            r = best(c_proj)
            ranked.append((totals[c_proj], writer.projects(a_l[r], b_l[r], pair_group)))
        if totals[c_int] > 0:
            r = best(c_int)
            ranked.append((totals[c_int], writer.interests(members, a_l[r], b_l[r])))
        if totals[c_loc] > 0:
            r = best(c_loc)
            ranked.append((totals[c_loc], writer.place(members, a_l[r], b_l[r])))
        if totals[c_hours] > 0:
            r = best(c_hours)
            ranked.append((totals[c_hours], writer.hours(a_l[r], b_l[r], hours[r], pair_group)))
        if totals[c_fair] > 0:
            ranked.append((totals[c_fair], writer.fairness(members)))
        if totals[c_proj] == 0 and totals[c_org] > 0:
            ranked.append((totals[c_org], writer.teams(members)))
        ranked.sort(key=lambda item: -item[0])
        texts = [text for _, text in ranked if text][: MAX_REASONS - 1]
        met = [(weeks[r], a_l[r], b_l[r]) for r in range(lo, hi)]
        texts.append(writer.novelty(met, pair_group))
        out.append((score, tuple(texts), tuple(zip(COMPONENTS, rounded, strict=True))))
    return out
