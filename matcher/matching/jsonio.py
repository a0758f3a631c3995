"""Strict conversion between the JSON problem/result formats and the engine's dataclasses."""

from __future__ import annotations

import csv
from itertools import chain
from operator import eq
from typing import IO, Any

from .errors import ProblemError
from .graph import CandidateGraph
from .hours import zone
from .model import (
    MEETING_MODES,
    MINUTES_PER_DAY,
    Participant,
    PastPairing,
    PersonId,
    Problem,
    Result,
    Window,
    capacity_error,
    managers_error,
    trusted_participant,
    trusted_past_pairing,
    trusted_window,
)
from .rules import Rules

PROBLEM_KEYS = ("participants", "history", "blocked", "rules", "seed")
PARTICIPANT_KEYS = (
    "id",
    "team",
    "projects",
    "interests",
    "location",
    "timezone",
    "availability",
    "weeks_waiting",
    "meeting_mode",
    "name",
    "role",
    "capacity",
    "offers",
    "wants",
    "managers",
)
HISTORY_KEYS = ("a", "b", "weeks_ago", "would_meet_again")
WINDOW_KEYS = ("weekday", "start_minute", "end_minute")
_KEY_SETS = {
    keys: frozenset(keys) for keys in (PROBLEM_KEYS, PARTICIPANT_KEYS, HISTORY_KEYS, WINDOW_KEYS)
}
_HISTORY_KEY_SET = _KEY_SETS[HISTORY_KEYS]


_ID_TYPES = (int, str)
_ID_TYPE_SET = frozenset(_ID_TYPES)
_DICT_TYPE_SET = frozenset((dict,))
_INT_TYPE_SET = frozenset((int,))
_FEEDBACK_TYPES = frozenset((type(None), bool))
_STR_TYPE_SET = frozenset((str,))
_OPTIONAL_STR_TYPES = frozenset((str, type(None)))
_SEQ_TYPES = frozenset((list,))
_NONE: list[Any] = []  # shared default for absent lists; never mutated
_PARTICIPANT_KEY_SET = frozenset(PARTICIPANT_KEYS)
MODE_SET = frozenset(MEETING_MODES)


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _object(value: object, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProblemError(f"{where}: must be an object, got {_type_name(value)}")
    if not value.keys() <= _KEY_SETS[allowed]:
        unknown = sorted(set(value) - set(allowed), key=str)[0]
        raise ProblemError(f"{where}: unknown key {unknown!r} (known: {', '.join(allowed)})")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProblemError(f"{where}: must be a list, got {_type_name(value)}")
    return value


def _strings(value: object, where: str) -> tuple[str, ...]:
    if type(value) is list and all(type(item) is str for item in value):
        return tuple(value)
    items = _list(value, where)
    for k, item in enumerate(items):
        if not isinstance(item, str):
            raise ProblemError(f"{where}[{k}]: must be a string, got {_type_name(item)}")
    return tuple(items)


def _optional_str(data: dict[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ProblemError(f"{where}.{key}: must be a string or null, got {_type_name(value)}")
    return value


def _person_id(value: object, where: str) -> PersonId:
    if not (_is_int(value) or isinstance(value, str)):
        raise ProblemError(f"{where}: must be a string or integer id, got {_type_name(value)}")
    return value  # type: ignore[return-value]


def _window(value: object, where: str) -> Window:
    if type(value) is dict and value.keys() == _KEY_SETS[WINDOW_KEYS]:
        day, start, end = value["weekday"], value["start_minute"], value["end_minute"]
        if (
            type(day) is int
            and type(start) is int
            and type(end) is int
            and 0 <= day <= 6
            and 0 <= start < end <= MINUTES_PER_DAY
        ):
            return trusted_window(day, start, end)
    data = _object(value, where, WINDOW_KEYS)
    for key in WINDOW_KEYS:
        if key not in data:
            raise ProblemError(f"{where}: missing {key!r}")
    try:
        return Window(data["weekday"], data["start_minute"], data["end_minute"])
    except ProblemError as exc:
        raise ProblemError(f"{where}: {exc}") from None


def _participant_fast(data: Any) -> Participant | None:
    """The common, well-formed participant without building any message; None: check slowly."""
    if type(data) is not dict or not data.keys() <= _PARTICIPANT_KEY_SET:
        return None
    get = data.get
    pid, team = get("id"), get("team")
    if (type(pid) is not str and type(pid) is not int) or type(team) is not str or not team:
        return None
    projects, interests = get("projects", _NONE), get("interests", _NONE)
    if type(projects) not in _SEQ_TYPES or type(interests) not in _SEQ_TYPES:
        return None
    if (
        not set(map(type, projects)) <= _STR_TYPE_SET
        or not set(map(type, interests)) <= _STR_TYPE_SET
    ):
        return None
    location, timezone, name = get("location"), get("timezone"), get("name")
    if not {type(location), type(timezone), type(name)} <= _OPTIONAL_STR_TYPES:
        return None
    waiting, mode = get("weeks_waiting", 0), get("meeting_mode", "either")
    if type(waiting) is not int or waiting < 0 or type(mode) is not str or mode not in MODE_SET:
        return None
    role, capacity = get("role"), get("capacity", 1)
    offers, wants = get("offers", _NONE), get("wants", _NONE)
    if type(role) not in _OPTIONAL_STR_TYPES or capacity_error(capacity) is not None:
        return None
    if type(offers) not in _SEQ_TYPES or type(wants) not in _SEQ_TYPES:
        return None
    if not set(map(type, offers)) <= _STR_TYPE_SET or not set(map(type, wants)) <= _STR_TYPE_SET:
        return None
    managers = get("managers", _NONE)
    if type(managers) is not list or (managers and managers_error(managers, pid) is not None):
        return None
    if timezone is not None:
        try:
            zone(timezone)  # cached per name
        except ProblemError:
            return None
    windows = get("availability", ())
    if windows:
        if type(windows) is not list:
            return None
        try:
            windows = tuple(_window(w, "availability") for w in windows)  # fast path inside
        except ProblemError:
            return None
    return trusted_participant(
        pid,
        team,
        tuple(projects),
        tuple(interests),
        location,
        timezone,
        tuple(windows),
        waiting,
        mode,
        name,
        role,
        capacity,
        tuple(offers),
        tuple(wants),
        tuple(managers),
    )


def _participant(value: object, where: str) -> Participant:
    data = _object(value, where, PARTICIPANT_KEYS)
    if "id" not in data:
        raise ProblemError(f"{where}: missing 'id'")
    pid = _person_id(data["id"], f"{where}.id")
    team = data.get("team")
    if not isinstance(team, str) or not team:
        raise ProblemError(f"{where}.team: must be a non-empty string, got {_type_name(team)}")
    timezone = _optional_str(data, "timezone", where)
    if timezone is not None:
        try:
            zone(timezone)
        except ProblemError as exc:
            raise ProblemError(f"{where}.timezone: {exc}") from None
    waiting = data.get("weeks_waiting", 0)
    if not _is_int(waiting) or waiting < 0:
        raise ProblemError(
            f"{where}.weeks_waiting: must be a non-negative integer, got {waiting!r}"
        )
    mode = data.get("meeting_mode", "either")
    if mode not in MEETING_MODES:
        raise ProblemError(
            f"{where}.meeting_mode: must be one of {', '.join(MEETING_MODES)}, got {mode!r}"
        )
    windows = data.get("availability", ())
    if windows:
        windows = tuple(
            _window(w, f"{where}.availability[{k}]")
            for k, w in enumerate(_list(windows, f"{where}.availability"))
        )
    capacity = data.get("capacity", 1)
    message = capacity_error(capacity, f"{where}.capacity")
    if message:
        raise ProblemError(message)
    managers = data.get("managers", [])
    if type(managers) is not list:
        raise ProblemError(
            f"{where}.managers: must be a list of person ids, got {_type_name(managers)}"
        )
    message = managers_error(managers, pid, f"{where}.managers")
    if message:
        raise ProblemError(message)
    # Every field is validated above, so skip the (slow) frozen __init__.
    return trusted_participant(
        pid,
        team,
        _strings(data.get("projects", []), f"{where}.projects"),
        _strings(data.get("interests", []), f"{where}.interests"),
        _optional_str(data, "location", where),
        timezone,
        tuple(windows),
        waiting,
        mode,
        _optional_str(data, "name", where),
        _optional_str(data, "role", where),
        capacity,
        _strings(data.get("offers", []), f"{where}.offers"),
        _strings(data.get("wants", []), f"{where}.wants"),
        tuple(managers),
    )


def _past(value: object, where: str, known: set[PersonId]) -> PastPairing:
    data = _object(value, where, HISTORY_KEYS)
    for key in ("a", "b", "weeks_ago"):
        if key not in data:
            raise ProblemError(f"{where}: missing {key!r}")
    a = _person_id(data["a"], f"{where}.a")
    b = _person_id(data["b"], f"{where}.b")
    for key, pid in (("a", a), ("b", b)):
        if pid not in known:
            raise ProblemError(f"{where}.{key}: unknown participant {pid!r}")
    if a == b:
        raise ProblemError(f"{where}: a participant cannot meet themselves ({a!r})")
    weeks = data["weeks_ago"]
    if not _is_int(weeks) or weeks < 0:
        raise ProblemError(f"{where}.weeks_ago: must be a non-negative integer, got {weeks!r}")
    again = data.get("would_meet_again")
    if again is not None and not isinstance(again, bool):
        raise ProblemError(
            f"{where}.would_meet_again: must be true, false or null, got {_type_name(again)}"
        )
    return PastPairing(a, b, weeks, again)


def _history(items: list[Any], known: set[PersonId]) -> tuple[PastPairing, ...]:
    """History entries: checked column by column with C-level set and map operations
    (millions of entries at scale); any doubt falls back to the entry-by-entry check, which
    names the first bad entry."""
    try:
        # JSON object keys are shared strings, so checking them all in one C loop is cheap.
        if set(map(type, items)) <= _DICT_TYPE_SET and _HISTORY_KEY_SET.issuperset(
            chain.from_iterable(items)
        ):
            a = [h["a"] for h in items]
            b = [h["b"] for h in items]
            weeks = [h["weeks_ago"] for h in items]
            again = [h.get("would_meet_again") for h in items]
            if (
                set(map(type, a)) <= _ID_TYPE_SET
                and set(map(type, b)) <= _ID_TYPE_SET
                and known.issuperset(a)
                and known.issuperset(b)
                and not any(map(eq, a, b))
                and set(map(type, weeks)) <= _INT_TYPE_SET
                and (not weeks or min(weeks) >= 0)
                and set(map(type, again)) <= _FEEDBACK_TYPES
            ):
                return tuple(map(trusted_past_pairing, a, b, weeks, again))
    except (KeyError, TypeError):
        pass
    return tuple(_past(h, f"history[{k}]", known) for k, h in enumerate(items))


def _consume_history(items: list[Any], known: set[PersonId]) -> tuple[PastPairing, ...]:
    """Like _history, but frees the JSON entries block by block as they are converted."""
    block = 1 << 16
    parts: list[tuple[PastPairing, ...]] = []
    end = len(items)
    # Work from the end so each `del` is a cheap truncation; entries keep their indexes.
    while end > 0:
        start = max(0, end - block)
        try:
            parts.append(_history(items[start:end], known))
        except ProblemError:
            _history(items[:end], known)  # re-run from the start to name the first bad entry
            raise
        del items[start:end]
        end = start
    return tuple(p for part in reversed(parts) for p in part)


def _blocked(value: object, where: str, known: set[PersonId]) -> tuple[PersonId, PersonId]:
    pair = _list(value, where)
    if len(pair) != 2:
        raise ProblemError(f"{where}: must be a list of two participant ids")
    a = _person_id(pair[0], f"{where}[0]")
    b = _person_id(pair[1], f"{where}[1]")
    for k, pid in enumerate((a, b)):
        if pid not in known:
            raise ProblemError(f"{where}[{k}]: unknown participant {pid!r}")
    return a, b


def problem_from_json(obj: Any, *, consume: bool = False) -> Problem:
    """Parse a decoded problem JSON object; raises ProblemError with a one-line message.

    With consume=True the big lists of `obj` are emptied as they are converted, which keeps
    peak memory down on millions of entries (the command line uses it).
    """
    data = _object(obj, "problem", PROBLEM_KEYS)
    if "participants" not in data:
        raise ProblemError("problem: missing 'participants'")
    raw_people = _list(data["participants"], "participants")
    people = tuple(
        _participant_fast(p) or _participant(p, f"participants[{k}]")
        for k, p in enumerate(raw_people)
    )
    if consume:
        raw_people.clear()
    known: set[PersonId] = set()
    for k, p in enumerate(people):
        if p.id in known:
            raise ProblemError(f"participants[{k}].id: duplicate participant id {p.id!r}")
        known.add(p.id)
    raw_history = _list(data.get("history", []), "history")
    if consume:
        history = _consume_history(raw_history, known)
    else:
        history = _history(raw_history, known)
    blocked = tuple(
        _blocked(pair, f"blocked[{k}]", known)
        for k, pair in enumerate(_list(data.get("blocked", []), "blocked"))
    )
    rules = Rules.from_dict(data.get("rules", {}))
    seed = data.get("seed", 0)
    if not _is_int(seed) or seed < 0:
        raise ProblemError(f"seed: must be a non-negative integer, got {seed!r}")
    return Problem(people, history, blocked, rules, seed)


def _participant_to_json(p: Participant) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.id,
        "team": p.team,
        "projects": list(p.projects),
        "interests": list(p.interests),
    }
    for key in ("location", "timezone", "name", "role"):
        if getattr(p, key) is not None:
            out[key] = getattr(p, key)
    if p.availability:
        out["availability"] = [
            {"weekday": w.weekday, "start_minute": w.start_minute, "end_minute": w.end_minute}
            for w in p.availability
        ]
    if p.weeks_waiting:
        out["weeks_waiting"] = p.weeks_waiting
    if p.meeting_mode != "either":
        out["meeting_mode"] = p.meeting_mode
    if p.capacity != 1:
        out["capacity"] = p.capacity
    for key in ("offers", "wants", "managers"):
        if getattr(p, key):
            out[key] = list(getattr(p, key))
    return out


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """The JSON object that problem_from_json reads back into an equal Problem."""
    history = []
    for h in problem.history:
        entry: dict[str, Any] = {"a": h.a, "b": h.b, "weeks_ago": h.weeks_ago}
        if h.would_meet_again is not None:
            entry["would_meet_again"] = h.would_meet_again
        history.append(entry)
    return {
        "participants": [_participant_to_json(p) for p in problem.participants],
        "history": history,
        "blocked": [[a, b] for a, b in problem.blocked],
        "rules": problem.rules.to_dict(),
        "seed": problem.seed,
    }


def result_to_json(result: Result) -> dict[str, Any]:
    """The RESULT JSON object: groups, unmatched, total_score and stats."""
    return {
        "groups": [
            {
                "members": list(g.members),
                "score": g.score,
                "reasons": list(g.reasons),
                "facts": [f.to_dict() for f in g.facts],
                "components": dict(g.components),
            }
            for g in result.groups
        ],
        "unmatched": [{"id": u.id, "reason": u.reason} for u in result.unmatched],
        "total_score": result.total_score,
        "stats": result.stats,
    }


def write_edges(stream: IO[str], graph: CandidateGraph, ids: tuple[PersonId, ...]) -> int:
    """Write every candidate (allowed) pair as `a,b,score` lines; returns the line count."""
    return write_edge_block(stream, graph.a, graph.b, graph.score, ids)


def write_edge_block(stream: IO[str], a: Any, b: Any, score: Any, ids: tuple[PersonId, ...]) -> int:
    """Write pairs (index arrays a, b and their scores) as `a,b,score` lines with people's ids."""
    writer = csv.writer(stream, lineterminator="\n")
    a, b, s = a.tolist(), b.tolist(), score.tolist()
    writer.writerows((ids[x], ids[y], repr(z)) for x, y, z in zip(a, b, s, strict=True))
    return len(a)
