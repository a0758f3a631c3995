"""Why a group fits, as facts (who shares what), and the sentences written from them.

The engine returns facts, not prose: the app stores them with ids and writes the sentence for
whoever reads it (a member of a trio reads "you, Mira and Sven all work on Checkout", an admin
"Priya, Mira and Sven all work on Checkout"). The command line prints them for nobody in
particular (third person).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ProblemError
from .model import PersonId

MAX_REASONS = 3

# Fact kinds and the score component each one explains; novelty facts always come last.
COMPONENT_OF = {
    "shared_project": "projects",
    "shared_interests": "interests",
    "same_office": "location",
    "hours_overlap": "hours",
    "waited_weeks": "fairness",
    "teams": "org_distance",
    # Directed: members are (helper, helped); topics are what the first can help the second with.
    "can_help": "help",
    "first_meeting": "novelty",
    "last_met_weeks": "novelty",
}
FACT_KINDS = tuple(COMPONENT_OF)
_LIST_FIELDS = ("projects", "interests", "teams", "topics")
_ID_TYPES = (int, str)  # exact types: the fast check in Fact.from_dict (bool is not an id)


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing a group's members share; members are participant ids, in group order."""

    kind: str
    members: tuple[PersonId, ...]
    projects: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    office: str | None = None
    hours: float | None = None
    weeks: int | None = None
    topics: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form: kind, members and only the fields this kind uses."""
        out: dict[str, Any] = {"kind": self.kind, "members": list(self.members)}
        for name in _LIST_FIELDS:
            value = getattr(self, name)
            if value:
                out[name] = list(value)
        for name in ("office", "hours", "weeks"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fact:
        """Read the JSON form back; raises ProblemError on anything malformed."""
        if not isinstance(data, Mapping) or data.get("kind") not in COMPONENT_OF:
            raise ProblemError(f"fact: unknown kind in {data!r}")
        members = data.get("members")
        if type(members) is not list or not all(type(m) in _ID_TYPES for m in members):
            if not isinstance(members, list) or not all(
                isinstance(m, int | str) and not isinstance(m, bool) for m in members
            ):
                raise ProblemError(f"fact.members: must be a list of ids, got {members!r}")
        lists = {}
        for name in _LIST_FIELDS:
            value = data.get(name)
            if value is None:
                if name in data:
                    raise ProblemError(f"fact.{name}: must be a list of strings, got None")
                continue  # absent: the field's default, ()
            if not isinstance(value, list) or not all(type(v) is str for v in value):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ProblemError(f"fact.{name}: must be a list of strings, got {value!r}")
            lists[name] = tuple(value)
        office, hours, weeks = data.get("office"), data.get("hours"), data.get("weeks")
        if office is not None and not isinstance(office, str):
            raise ProblemError(f"fact.office: must be a string, got {office!r}")
        if hours is not None and (not isinstance(hours, int | float) or isinstance(hours, bool)):
            raise ProblemError(f"fact.hours: must be a number, got {hours!r}")
        if weeks is not None and (not isinstance(weeks, int) or isinstance(weeks, bool)):
            raise ProblemError(f"fact.weeks: must be an integer, got {weeks!r}")
        return cls(data["kind"], tuple(members), office=office, hours=hours, weeks=weeks, **lists)


def pick(
    facts: Sequence[Fact], reader: PersonId | None = None, limit: int = MAX_REASONS
) -> list[Fact]:
    """The facts worth saying to reader (None: an onlooker): the strongest of each component
    that includes them, up to limit - 1, then how new the meeting is."""
    chosen: list[Fact] = []
    components: set[str] = set()
    has_project = any(f.kind == "shared_project" for f in facts)
    # What a mentor can help with is why a mentoring pair exists: said first, always.
    facts = sorted(facts, key=lambda f: f.kind != "can_help")
    for fact in facts:
        component = COMPONENT_OF[fact.kind]
        if component == "novelty" or component in components:
            continue
        if reader is not None and reader not in fact.members:
            continue
        if fact.kind == "teams" and has_project:
            continue  # "from different teams" only where no shared project says more
        chosen.append(fact)
        components.add(component)
        if len(chosen) == limit - 1:
            break
    if not chosen and reader is not None:
        # Nothing in the group involves the reader directly: the teams still do.
        chosen = [f for f in facts if f.kind == "teams"][:1]
    for fact in facts:
        if COMPONENT_OF[fact.kind] == "novelty" and (reader is None or reader in fact.members):
            chosen.append(fact)
            break
    return chosen


def _join(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def sentence(
    fact: Fact,
    group: Sequence[PersonId],
    name: Callable[[PersonId], str],
    reader: PersonId | None = None,
) -> str:
    """One reason in plain English, addressed to reader (a member) or to an onlooker (None)."""
    members = list(fact.members)
    mine = reader is not None and reader in members
    # In a pair, "you" is enough: the partner's name is on the card next to it.
    just_us = mine and len(group) == 2 and len(members) == 2
    others = [name(m) for m in members if not (mine and m == reader)]
    who = "you" if just_us else _join((["you"] if mine else []) + others)
    quantity = "both" if len(members) == 2 else "all"
    kind = fact.kind
    if kind == "shared_project":
        return f"{who} {quantity} work on {_join(fact.projects)}, from {_join(fact.teams)}"
    if kind == "shared_interests":
        return f"{who} are {quantity} into {_join(fact.interests)}"
    if kind == "same_office":
        return f"{who} are {quantity} in the {fact.office} office"
    if kind == "hours_overlap":
        if just_us:
            return f"your working hours overlap {fact.hours:g} h a week"
        return f"{who} overlap {fact.hours:g} working hours a week"
    if kind == "waited_weeks":
        if mine:
            return f"you have waited {fact.weeks} weeks for a match"
        return f"{_join(others)} has waited {fact.weeks} weeks for a match"
    if kind == "teams":
        return f"from different teams: {_join(fact.teams)}"
    if kind == "can_help":
        helper, helped = members[0], members[-1]
        topics = _join(fact.topics)
        if reader == helper:
            return f"you can help {name(helped)} with {topics}"
        if reader == helped:
            return f"{name(helper)} can help you with {topics}"
        return f"{name(helper)} can help {name(helped)} with {topics}"
    if kind == "last_met_weeks":
        when = f"{fact.weeks} week{'s' if fact.weeks != 1 else ''} ago"
        return f"last met {when}" if just_us else f"{who} last met {when}"
    # first_meeting
    everyone = len(members) == len(group)
    if everyone:
        if len(group) == 2:
            return "first time you meet" if mine else f"first time {who} meet"
        return "none of you have met before" if mine else f"none of {who} have met before"
    if mine and len(members) == 1:
        return "you meet the others for the first time"
    verb = "meets" if len(members) == 1 and not mine else "meet"
    return f"{who} {verb} the others for the first time"


def sentences(
    facts: Sequence[Fact],
    group: Sequence[PersonId],
    name: Callable[[PersonId], str],
    reader: PersonId | None = None,
) -> list[str]:
    """The picked facts for reader as sentences, in order of strength."""
    return [sentence(f, group, name, reader) for f in pick(facts, reader)]
