"""Frozen value types going into and coming out of the matching engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ProblemError
from .rules import Rules

PersonId = int | str

MEETING_MODES = ("either", "in_person", "video")
MINUTES_PER_DAY = 24 * 60
# How many groups one person (a mentor, a buddy) may be in per round.
MAX_CAPACITY = 50
# Longest chain of managers one person may list (direct manager first, up to the top).
MAX_MANAGERS = 64


def capacity_error(value: object, where: str = "capacity") -> str | None:
    """The message for a bad capacity, or None when it is an integer from 1 to MAX_CAPACITY."""
    if not isinstance(value, int) or isinstance(value, bool):
        return f"{where}: must be an integer, got {value!r}"
    if not 1 <= value <= MAX_CAPACITY:
        return f"{where}: must be from 1 to {MAX_CAPACITY}, got {value}"
    return None


def managers_error(value: object, pid: object, where: str = "managers") -> str | None:
    """The message for a bad chain of managers, or None when it is a list or tuple of at most
    MAX_MANAGERS distinct string or integer ids, none of them the person's own `pid`."""
    if not isinstance(value, tuple | list):
        kind = "null" if value is None else type(value).__name__
        return f"{where}: must be a list of person ids, got {kind}"
    if len(value) > MAX_MANAGERS:
        return f"{where}: at most {MAX_MANAGERS} managers, got {len(value)}"
    seen: set[object] = set()
    for k, manager in enumerate(value):
        if type(manager) is not str and type(manager) is not int:
            return f"{where}[{k}]: must be a string or integer id, got {manager!r}"
        if manager == pid and type(manager) is type(pid):
            return f"{where}[{k}]: a person cannot be their own manager ({manager!r})"
        if manager in seen:
            return f"{where}[{k}]: {manager!r} appears twice in the chain of managers"
        seen.add(manager)
    return None


@dataclass(frozen=True, slots=True)
class Window:
    """A weekly availability slot in the person's local time (weekday 0 = Monday)."""

    weekday: int
    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        for name in ("weekday", "start_minute", "end_minute"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ProblemError(f"availability.{name}: must be an integer, got {value!r}")
        if not 0 <= self.weekday <= 6:
            raise ProblemError(f"availability.weekday: must be from 0 to 6, got {self.weekday}")
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise ProblemError(
                "availability: need 0 <= start_minute < end_minute <= 1440, "
                f"got {self.start_minute}..{self.end_minute}"
            )


@dataclass(frozen=True, slots=True)
class Participant:
    """Somebody taking part this week, with what the score looks at."""

    id: PersonId
    team: str
    projects: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    location: str | None = None
    timezone: str | None = None
    availability: tuple[Window, ...] = ()
    weeks_waiting: int = 0
    meeting_mode: str = "either"
    name: str | None = None
    # Programmes with roles (mentor/mentee, buddy/newcomer): see Rules.distinct_roles.
    role: str | None = None
    # Groups this person may be in this round, each with other people (a mentor's mentees).
    capacity: int = 1
    # Topics this person can help with, and wants help with (the "help" score component).
    offers: tuple[str, ...] = ()
    wants: tuple[str, ...] = ()
    # The reporting line: direct manager first, up to the top (they need not take part).
    # See Rules.avoid_managers and the org_distance component.
    managers: tuple[PersonId, ...] = ()

    def __post_init__(self) -> None:
        message = capacity_error(self.capacity)
        if message:
            raise ProblemError(message)

    @property
    def label(self) -> str:
        """How reasons name this person."""
        return self.name if self.name else str(self.id)


@dataclass(frozen=True, slots=True)
class PastPairing:
    """Two people who met `weeks_ago` weeks ago; `would_meet_again=False` blocks them for good."""

    a: PersonId
    b: PersonId
    weeks_ago: int
    would_meet_again: bool | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Everything one weekly round needs: people, history, blocks, rules and the tie seed."""

    participants: tuple[Participant, ...]
    history: tuple[PastPairing, ...] = ()
    blocked: tuple[tuple[PersonId, PersonId], ...] = ()
    rules: Rules = field(default_factory=Rules)
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Group:
    """People meeting this week, the sum of their pair scores and why they fit."""

    members: tuple[PersonId, ...]
    score: float
    reasons: tuple[str, ...] = ()
    components: tuple[tuple[str, float], ...] = ()
    # What the members share (facts.Fact); reasons are these written for an onlooker.
    facts: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Unmatched:
    """Somebody left without a group, and why."""

    id: PersonId
    reason: str


@dataclass(frozen=True, slots=True)
class Result:
    """The groups of one round, who is left out, the total score and run statistics."""

    groups: tuple[Group, ...]
    unmatched: tuple[Unmatched, ...]
    total_score: float
    stats: dict[str, Any] = field(default_factory=dict)


# A frozen dataclass __init__ costs microseconds per object through object.__setattr__; the
# JSON reader builds millions of these from values it already validated, so it fills the
# slots directly instead. Only for trusted, validated values.
_new = object.__new__
_past_slots = tuple(PastPairing.__dict__[f].__set__ for f in PastPairing.__slots__)
_person_slots = tuple(Participant.__dict__[f].__set__ for f in Participant.__slots__)
_window_slots = tuple(Window.__dict__[f].__set__ for f in Window.__slots__)
_group_slots = tuple(Group.__dict__[f].__set__ for f in Group.__slots__)


def trusted_past_pairing(
    a: PersonId, b: PersonId, weeks_ago: int, again: bool | None
) -> PastPairing:
    """PastPairing without re-validation (see comment above)."""
    obj = _new(PastPairing)
    set_a, set_b, set_weeks, set_again = _past_slots
    set_a(obj, a)
    set_b(obj, b)
    set_weeks(obj, weeks_ago)
    set_again(obj, again)
    return obj


def trusted_group(
    members: tuple[PersonId, ...],
    score: float,
    reasons: tuple[str, ...],
    components: tuple[tuple[str, float], ...],
    facts: tuple[Any, ...],
) -> Group:
    """Group built by the solver from values it computed, without re-validation."""
    obj = _new(Group)
    set_members, set_score, set_reasons, set_components, set_facts = _group_slots
    set_members(obj, members)
    set_score(obj, score)
    set_reasons(obj, reasons)
    set_components(obj, components)
    set_facts(obj, facts)
    return obj


def trusted_window(weekday: int, start_minute: int, end_minute: int) -> Window:
    """Window without re-validation."""
    obj = _new(Window)
    set_day, set_start, set_end = _window_slots
    set_day(obj, weekday)
    set_start(obj, start_minute)
    set_end(obj, end_minute)
    return obj


def trusted_participant(*values: Any) -> Participant:
    """Participant from all fifteen field values in declaration order, without re-validation."""
    obj = _new(Participant)
    for setter, value in zip(_person_slots, values, strict=True):
        setter(obj, value)
    return obj
