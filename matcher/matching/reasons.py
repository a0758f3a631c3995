"""The facts (and plain reasons) of each group, from the score components that made it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .encode import Encoded, pair_keys
from .facts import Fact, sentences
from .hours import overlap_hours
from .model import Participant
from .scoring import COMPONENTS, SCORE_DECIMALS, Scorer

MAX_INTEREST_NAMES = 2
MAX_TOPIC_NAMES = 2
FAIRNESS_MENTION_WEEKS = 2
_C = {name: k for k, name in enumerate(COMPONENTS)}


# Score, facts, reasons (for an onlooker) and per-component contributions of one group.
GroupDescription = tuple[float, tuple[Fact, ...], tuple[str, ...], tuple[tuple[str, float], ...]]


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


class _Facts:
    """Builds the facts of groups from Python lists (numpy scalars are too slow per group)."""

    def __init__(self, people: Sequence[Participant], enc: Encoded) -> None:
        self.people = people
        names = enc.interests.names
        rarity = enc.interest_rarity.tolist()
        self.rarity = dict(zip(names, rarity, strict=True))
        self.help_rarity = dict(zip(enc.wants.names, enc.help_rarity.tolist(), strict=True))

    def _ids(self, members: Sequence[int]) -> tuple:
        return tuple(self.people[m].id for m in members)

    def _holders(self, members: Sequence[int], attribute: str) -> dict[tuple[int, ...], list[str]]:
        """Token -> the members who hold it, grouped as holder set -> tokens (2+ holders)."""
        holders: dict[str, list[int]] = {}
        for m in members:
            for token in getattr(self.people[m], attribute):
                holders.setdefault(token, []).append(m)
        by_set: dict[tuple[int, ...], list[str]] = {}
        for token, who in holders.items():
            if len(who) >= 2:
                by_set.setdefault(tuple(who), []).append(token)
        return by_set

    def projects(self, members: Sequence[int]) -> list[Fact]:
        people = self.people
        if len(members) == 2:
            x, y = members
            px, py = people[x], people[y]
            shared = sorted(set(px.projects) & set(py.projects))
            if not shared or px.team == py.team:
                return []
            return [
                Fact(
                    "shared_project",
                    (px.id, py.id),
                    projects=tuple(shared[:2]),
                    teams=(px.team, py.team),
                )
            ]
        facts = []
        for who, tokens in self._holders(members, "projects").items():
            teams = tuple(dict.fromkeys(people[m].team for m in who))
            if len(teams) >= 2:
                facts.append(
                    Fact(
                        "shared_project",
                        self._ids(who),
                        projects=tuple(sorted(tokens)[:2]),
                        teams=teams,
                    )
                )
        facts.sort(key=lambda f: (-len(f.members), f.projects))
        return facts

    def interests(self, members: Sequence[int]) -> list[Fact]:
        facts = []
        for who, tokens in self._holders(members, "interests").items():
            tokens.sort(key=lambda t: (-self.rarity.get(t, 0.0), t))
            facts.append(
                Fact(
                    "shared_interests", self._ids(who), interests=tuple(tokens[:MAX_INTEREST_NAMES])
                )
            )
        facts.sort(key=lambda f: (-len(f.members), -self.rarity.get(f.interests[0], 0.0)))
        return facts

    def helps(self, members: Sequence[int]) -> list[Fact]:
        """Who can help whom with what: one fact per direction that has topics."""
        facts = []
        rarity = self.help_rarity
        for x in members:
            offers = set(self.people[x].offers)
            for y in members:
                if x == y or not offers:
                    continue
                topics = sorted(offers.intersection(self.people[y].wants))
                if topics:
                    topics.sort(key=lambda t: (-rarity.get(t, 0.0), t))
                    weight = sum(rarity.get(t, 0.0) for t in topics)
                    fact = Fact(
                        "can_help", self._ids((x, y)), topics=tuple(topics[:MAX_TOPIC_NAMES])
                    )
                    facts.append((weight, fact))
        facts.sort(key=lambda item: -item[0])
        return [f for _, f in facts]

    def places(self, members: Sequence[int]) -> list[Fact]:
        offices: dict[str, list[int]] = {}
        for m in members:
            location = self.people[m].location
            if location:
                offices.setdefault(location, []).append(m)
        facts = [
            Fact("same_office", self._ids(who), office=office)
            for office, who in offices.items()
            if len(who) >= 2
        ]
        facts.sort(key=lambda f: -len(f.members))
        return facts

    def hours(self, rows: Sequence[tuple[int, int, float]]) -> list[Fact]:
        facts = [Fact("hours_overlap", self._ids((x, y)), hours=h) for x, y, h in rows if h > 0]
        facts.sort(key=lambda f: -(f.hours or 0.0))
        return facts

    def fairness(self, members: Sequence[int]) -> list[Fact]:
        waited = max(members, key=lambda m: self.people[m].weeks_waiting)
        weeks = self.people[waited].weeks_waiting
        if weeks < FAIRNESS_MENTION_WEEKS:
            return []
        return [Fact("waited_weeks", self._ids((waited,)), weeks=weeks)]

    def teams(self, members: Sequence[int]) -> list[Fact]:
        teams = tuple(dict.fromkeys(self.people[m].team for m in members))
        if len(teams) < 2:
            return []
        return [Fact("teams", self._ids(members), teams=teams)]

    def novelty(self, members: Sequence[int], pairs: Sequence[tuple[int, int, int]]) -> list[Fact]:
        met = sorted((w, x, y) for w, x, y in pairs if w >= 0)
        if not met:
            return [Fact("first_meeting", self._ids(members))]
        facts = [Fact("last_met_weeks", self._ids((x, y)), weeks=w) for w, x, y in met]
        known = {m for _, x, y in met for m in (x, y)}
        strangers = [m for m in members if m not in known]
        if strangers:
            facts.append(Fact("first_meeting", self._ids(strangers)))
        return facts


def describe_groups(
    groups: Sequence[Sequence[int]], people: Sequence[Participant], scorer: Scorer
) -> list[GroupDescription]:
    """Score (sum of pair scores), facts, reasons and component totals for each group."""
    enc = scorer.enc
    a, b, owner = _internal_pairs(groups)
    raw = scorer.components(a, b)
    pair_score = scorer.scores(a, b).tolist()  # the very scores the solver used
    weighted_arr = raw * scorer.weights
    weighted = weighted_arr.tolist()
    weighted_rounded = np.round(weighted_arr, SCORE_DECIMALS).tolist()
    weeks = enc.met.lookup(pair_keys(a, b, enc.n)).tolist()
    hours = overlap_hours(enc.hours_words, a, b).tolist()
    a_l, b_l = a.tolist(), b.tolist()
    starts = np.searchsorted(owner, np.arange(len(groups) + 1)).tolist()
    maker = _Facts(people, enc)
    c_proj, c_int, c_loc, c_hours = _C["projects"], _C["interests"], _C["location"], _C["hours"]
    c_fair, c_org, c_help = _C["fairness"], _C["org_distance"], _C["help"]
    width = len(COMPONENTS)

    name = {p.id: p.label for p in people}.__getitem__

    out: list[GroupDescription] = []
    for g, members in enumerate(groups):
        lo, hi = starts[g], starts[g + 1]
        if hi - lo == 1:
            totals = weighted[lo]
            score = pair_score[lo]
            rounded = weighted_rounded[lo]
        else:
            totals = [sum(weighted[r][k] for r in range(lo, hi)) for k in range(width)]
            score = round(sum(pair_score[lo:hi]), SCORE_DECIMALS)
            rounded = [round(t, SCORE_DECIMALS) for t in totals]
        # Each component gives its facts, weighed by what they add to the score.
        found: list[tuple[int, list[Fact]]] = []
        if totals[c_proj] > 0:
            found.append((c_proj, maker.projects(members)))
        if totals[c_int] > 0:
            found.append((c_int, maker.interests(members)))
        if totals[c_loc] > 0:
            found.append((c_loc, maker.places(members)))
        if totals[c_hours] > 0:
            rows = [(a_l[r], b_l[r], hours[r]) for r in range(lo, hi)]
            found.append((c_hours, maker.hours(rows)))
        if totals[c_fair] > 0:
            found.append((c_fair, maker.fairness(members)))
        if totals[c_org] > 0:
            found.append((c_org, maker.teams(members)))
        if totals[c_help] > 0:
            found.append((c_help, maker.helps(members)))
        if hi - lo == 1:
            ranked = [(totals[c], f) for c, facts_c in found for f in facts_c]
        else:
            # In a larger group a fact weighs what its own members' pairs gain from it, so
            # each member's strongest reasons come first for them (see facts.pick).
            index = {people[m].id: m for m in members}
            ranked = []
            for c, facts_c in found:
                for fact in facts_c:
                    inside = {index[i] for i in fact.members}
                    if len(inside) < 2 or c == c_org:
                        ranked.append((totals[c], fact))
                        continue
                    strength = sum(
                        weighted[r][c]
                        for r in range(lo, hi)
                        if a_l[r] in inside and b_l[r] in inside
                    )
                    ranked.append((strength, fact))
        ranked.sort(key=lambda item: -item[0])
        met = [(weeks[r], a_l[r], b_l[r]) for r in range(lo, hi)]
        facts = [f for _, f in ranked]
        facts += maker.novelty(members, met)
        ids = tuple(people[m].id for m in members)
        reasons = tuple(sentences(facts, ids, name))
        out.append((score, tuple(facts), reasons, tuple(zip(COMPONENTS, rounded, strict=True))))
    return out
