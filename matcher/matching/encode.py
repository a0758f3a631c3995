"""Turn a Problem into integer-indexed numpy arrays that scoring and matching work on."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import attrgetter, is_

import numpy as np

from .errors import ProblemError
from .hours import availability_mask, masks_to_words, zone
from .model import (
    MEETING_MODES,
    Participant,
    PersonId,
    Problem,
    capacity_error,
    managers_error,
)


@dataclass(frozen=True, slots=True)
class TokenIndex:
    """Each person's sorted distinct tokens (projects or interests) in CSR form."""

    indptr: np.ndarray  # int64, n + 1
    tokens: np.ndarray  # int32, token codes sorted within each person
    names: tuple[str, ...]
    df: np.ndarray  # int64, how many people hold each token

    def of(self, person: int) -> np.ndarray:
        """Token codes held by one person."""
        return self.tokens[self.indptr[person] : self.indptr[person + 1]]


@dataclass(frozen=True, slots=True)
class PairSet:
    """A sorted set of unordered pairs, as int64 keys lo * n + hi, with one int per pair."""

    keys: np.ndarray
    values: np.ndarray

    def lookup(self, keys: np.ndarray, missing: int = -1) -> np.ndarray:
        """Value stored for each key, `missing` where the pair is absent."""
        if len(self.keys) == 0 or len(keys) == 0:
            return np.full(len(keys), missing, dtype=np.int64)
        # Search only the stretch of the set between the smallest and largest key: queries
        # come in blocks of nearby pairs, so this is a few thousand cached keys, not millions.
        lo, hi = np.searchsorted(self.keys, (keys.min(), keys.max()))
        lo, hi = int(lo), min(int(hi) + 1, len(self.keys))
        stretch = self.keys[lo:hi]
        if not len(stretch):
            return np.full(len(keys), missing, dtype=np.int64)
        pos = np.minimum(np.searchsorted(stretch, keys), len(stretch) - 1)
        hit = stretch[pos] == keys
        return np.where(hit, self.values[lo:hi][pos], missing)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Whether each key is in the set."""
        return self.lookup(keys) >= 0


@dataclass(frozen=True, slots=True)
class Encoded:
    """Integer arrays for n participants; person i is problem.participants[i]."""

    n: int
    ids: tuple[PersonId, ...]
    team: np.ndarray  # int32 team code
    team_names: tuple[str, ...]
    projects: TokenIndex
    interests: TokenIndex
    interest_rarity: np.ndarray  # float64 per interest token, in [0, 1]
    location: np.ndarray  # int32 location code, -1 when unknown
    location_names: tuple[str, ...]
    timezone: np.ndarray  # int32 time zone code, -1 when unknown
    can_in_person: np.ndarray  # bool
    can_video: np.ndarray  # bool
    hours_words: np.ndarray  # (n, 6) uint64 UTC half-hour masks
    waiting: np.ndarray  # int64 weeks waiting
    met: PairSet  # pairs met before: fewest weeks ago
    blocked: PairSet  # hard blocks: value 0 admin block, 1 cooldown, 2 "would not meet again"
    cross_team_only: bool
    role: np.ndarray  # int32 role code, -1 when none
    role_names: tuple[str, ...]
    distinct_roles: bool
    # What each person wants help with / offers, over one shared topic vocabulary.
    wants: TokenIndex
    offers: TokenIndex
    help_rarity: np.ndarray  # float64 per topic, in [0, 1]: fewer wanters and offerers, higher
    # Row -> person when capacity.py expanded people into several slot rows; None: row = person.
    owner: np.ndarray | None = None
    # The reporting tree (see _reporting_tree); all None when nobody lists managers, so
    # problems without managers cost nothing. Codes are person numbers (the row, or the owner
    # of a slot row), then one code per manager who is not taking part.
    manager: np.ndarray | None = None  # int64 per row: code of the direct manager, -1 none
    org_path: np.ndarray | None = None  # (rows, depth) int32 codes from the top, padded
    org_depth: np.ndarray | None = None  # int64 per row: path length, 0 = in no known tree
    avoid_managers: bool = False


BLOCK_ADMIN, BLOCK_COOLDOWN, BLOCK_REFUSED = 0, 1, 2


def pair_keys(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Order-independent int64 key of each pair (a[i], b[i])."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    return np.minimum(a, b) * n + np.maximum(a, b)


def _codes(values: Sequence[str | None]) -> tuple[np.ndarray, tuple[str, ...]]:
    vocab: dict[str, int] = {}
    codes = [-1 if v is None or v == "" else vocab.setdefault(v, len(vocab)) for v in values]
    return np.asarray(codes, dtype=np.int32), tuple(vocab)


def _token_index(rows: Sequence[Sequence[str]], vocab: dict[str, int] | None = None) -> TokenIndex:
    """Sorted token sets per row; pass one `vocab` to give several indexes the same codes."""
    n = len(rows)
    if vocab is None:
        vocab = {}
    flat = [vocab.setdefault(t, len(vocab)) for t in chain.from_iterable(rows)]
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=n)
    owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
    tokens = np.asarray(flat, dtype=np.int64)
    # Sort by (owner, token) and drop repeats so each row is a sorted set.
    order = np.lexsort((tokens, owner))
    owner, tokens = owner[order], tokens[order]
    if len(tokens):
        keep = np.ones(len(tokens), dtype=bool)
        keep[1:] = (owner[1:] != owner[:-1]) | (tokens[1:] != tokens[:-1])
        owner, tokens = owner[keep], tokens[keep]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=indptr[1:])
    df = np.bincount(tokens, minlength=len(vocab)).astype(np.int64)
    return TokenIndex(indptr, tokens.astype(np.int32), tuple(vocab), df)


def rarity(df: np.ndarray, n: int) -> np.ndarray:
    """ln(1 + n/df) / ln(1 + n/2): 1 for an interest only two people hold, small for common ones."""
    if n < 3:
        return np.ones(len(df), dtype=np.float64)
    safe = np.maximum(df, 2).astype(np.float64)
    return np.clip(np.log1p(n / safe) / math.log1p(n / 2), 0.0, 1.0)


def _index_of(index: dict[PersonId, int], pid: object, where: str) -> int:
    if isinstance(pid, bool) or not isinstance(pid, int | str):
        raise ProblemError(f"{where}: participant id must be a string or integer, got {pid!r}")
    try:
        return index[pid]
    except KeyError:
        raise ProblemError(f"{where}: unknown participant {pid!r}") from None


def _pair_set(a: np.ndarray, b: np.ndarray, values: np.ndarray, n: int) -> PairSet:
    """Sorted unique pair keys, keeping the smallest value of repeated pairs."""
    if len(a) == 0:
        return PairSet(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    keys = pair_keys(a, b, n)
    vals = np.asarray(values, dtype=np.int64)
    order = np.lexsort((vals, keys))
    keys, vals = keys[order], vals[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return PairSet(keys[first], vals[first])


def _history_sets(problem: Problem, index: dict[PersonId, int]) -> tuple[PairSet, PairSet]:
    """Pairs met before (fewest weeks ago) and hard-blocked pairs (with the kind of block)."""
    history = problem.history
    n = len(problem.participants)
    count = len(history)
    lookup = index.__getitem__
    try:
        # map + attrgetter run in C: this is millions of entries at scale. Gathering the ids
        # first and looking them up in a second pass is ~3x faster than one chained pass.
        a_ids = list(map(attrgetter("a"), history))
        a = np.fromiter(map(lookup, a_ids), dtype=np.int64, count=count)
        del a_ids
        b_ids = list(map(attrgetter("b"), history))
        b = np.fromiter(map(lookup, b_ids), dtype=np.int64, count=count)
        del b_ids
    except (KeyError, TypeError):
        for k, h in enumerate(history):  # find and name the bad entry
            _index_of(index, h.a, f"history[{k}].a")
            _index_of(index, h.b, f"history[{k}].b")
        raise
    if (a == b).any():
        k = int(np.flatnonzero(a == b)[0])
        raise ProblemError(f"history[{k}]: a participant cannot meet themselves ({history[k].a!r})")
    weeks = np.fromiter(map(attrgetter("weeks_ago"), history), dtype=np.int64, count=count)
    again = map(attrgetter("would_meet_again"), history)
    refused = np.fromiter(map(is_, again, repeat(False)), dtype=bool, count=count)
    recent = ~refused & (weeks < problem.rules.repeat_cooldown_weeks)
    admin = [
        (_index_of(index, x, f"blocked[{k}][0]"), _index_of(index, y, f"blocked[{k}][1]"))
        for k, (x, y) in enumerate(problem.blocked)
    ]
    admin_arr = np.asarray(admin, dtype=np.int64).reshape(-1, 2)
    admin_arr = admin_arr[admin_arr[:, 0] != admin_arr[:, 1]]
    block_a = np.concatenate([admin_arr[:, 0], a[refused], a[recent]])
    block_b = np.concatenate([admin_arr[:, 1], b[refused], b[recent]])
    kinds = np.concatenate(
        [
            np.full(len(admin_arr), BLOCK_ADMIN),
            np.full(int(refused.sum()), BLOCK_REFUSED),
            np.full(int(recent.sum()), BLOCK_COOLDOWN),
        ]
    )
    # An admin block outranks the others when reasons name why a pair is excluded.
    return _pair_set(a, b, weeks, n), _pair_set(block_a, block_b, kinds, n)


def _people_df(index: TokenIndex, first: np.ndarray | None) -> np.ndarray:
    """How many people hold each token, counting a person's slot rows once."""
    if first is None:
        return index.df
    owners = np.repeat(first, np.diff(index.indptr))
    return np.bincount(index.tokens[owners], minlength=len(index.names)).astype(np.int64)


def _first_slots(owner: np.ndarray | None) -> np.ndarray | None:
    """Mask of the first row of each person (None when every row is its own person)."""
    if owner is None:
        return None
    first = np.zeros(len(owner), dtype=bool)
    first[np.unique(owner, return_index=True)[1]] = True
    return first


def _check_participants(
    people: Sequence[Participant], check_managers: bool = True
) -> tuple[dict[PersonId, int], bool]:
    """Id of each participant -> index, and whether anybody lists managers."""
    index: dict[PersonId, int] = {}
    any_managers = False
    modes = frozenset(MEETING_MODES)
    for i, p in enumerate(people):
        pid = p.id
        if type(pid) is not str and type(pid) is not int:
            raise ProblemError(f"participants[{i}].id: must be a string or integer, got {pid!r}")
        if index.setdefault(pid, i) != i:
            raise ProblemError(f"participants[{i}].id: duplicate participant id {pid!r}")
        if p.meeting_mode not in modes:
            raise ProblemError(
                f"participants[{i}].meeting_mode: must be one of {', '.join(MEETING_MODES)}, "
                f"got {p.meeting_mode!r}"
            )
        if p.capacity != 1:
            message = capacity_error(p.capacity, f"participants[{i}].capacity")
            if message:
                raise ProblemError(message)
        if p.role is not None and type(p.role) is not str:
            raise ProblemError(f"participants[{i}].role: must be a string or null, got {p.role!r}")
        if p.managers:
            any_managers = True
            if check_managers:
                message = managers_error(p.managers, pid, f"participants[{i}].managers")
                if message:
                    raise ProblemError(message)
        elif type(p.managers) is not tuple and type(p.managers) is not list:
            raise ProblemError(
                f"participants[{i}].managers: must be a list of person ids, got {p.managers!r}"
            )
    return index, any_managers


def _reporting_tree(
    ids: Sequence[PersonId], chains: Sequence[Sequence[PersonId]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per person: the code of their direct manager (-1 when none), their path in the
    reporting tree as codes from the top down to themselves ((people, depth) int32, padded
    with -1 - person so pads never match anybody's), and the path's length (0: in no tree).

    Person i has code i; managers who take no part get codes from len(ids) on. A person's
    path is their own chain reversed, or, without one, the part above them of the first
    chain (in participant order) that names them; otherwise they are in no known tree.
    """
    n = len(ids)
    code: dict[PersonId, int] = {pid: i for i, pid in enumerate(ids)}
    paths: list[list[int] | None] = [None] * n
    for i, line in enumerate(chains):
        if line:
            paths[i] = [code.setdefault(m, len(code)) for m in reversed(line)]
            paths[i].append(i)
    for line in chains:
        for k, m in enumerate(line):
            j = code[m]
            if j < n and paths[j] is None:  # a manager taking part without a chain of their own
                paths[j] = [code[x] for x in reversed(line[k + 1 :])]
                paths[j].append(j)
    depth = np.fromiter((len(p) if p else 0 for p in paths), dtype=np.int64, count=n)
    width = int(depth.max(initial=1))
    path = np.repeat(-1 - np.arange(n, dtype=np.int32), width).reshape(n, width)
    flat = np.fromiter(chain.from_iterable(p for p in paths if p), dtype=np.int32)
    rows = np.repeat(np.arange(n, dtype=np.int64), depth)
    starts = np.cumsum(depth) - depth
    path[rows, np.arange(len(rows), dtype=np.int64) - np.repeat(starts, depth)] = flat
    # The direct manager is the next one up the path (the first of one's own chain).
    manager = np.where(depth >= 2, path[np.arange(n), np.maximum(depth - 2, 0)], -1)
    return manager.astype(np.int64), path, depth


def encode(problem: Problem) -> Encoded:
    """Validate references and build the arrays; raises ProblemError on inconsistent input."""
    people = problem.participants
    n = len(people)
    rules = problem.rules
    # Set by capacity.py on its expanded problem: rarity counts each person once.
    owner_tuple = getattr(problem, "slot_owner", None)
    # Slot rows carry their person's managers, already checked on the people's own problem.
    index, any_managers = _check_participants(people, check_managers=not owner_tuple)

    team, team_names = _codes([p.team for p in people])
    location, location_names = _codes([p.location for p in people])
    timezone, _ = _codes([p.timezone for p in people])
    projects = _token_index([p.projects for p in people])
    interests = _token_index([p.interests for p in people])
    owner = np.asarray(owner_tuple, dtype=np.int64) if owner_tuple else None
    first = _first_slots(owner)
    people_n = n if owner is None else int(first.sum())
    # `either` first, so it fills the shared vocabulary and all three have the same names.
    topics: dict[str, int] = {}
    either = _token_index([(*p.wants, *p.offers) for p in people], topics)
    wants = _token_index([p.wants for p in people], topics)
    offers = _token_index([p.offers for p in people], topics)
    role, role_names = _codes([p.role for p in people])
    modes = [p.meeting_mode for p in people]
    can_in_person = np.fromiter((m != "video" for m in modes), dtype=bool, count=n)
    can_video = np.fromiter((m != "in_person" for m in modes), dtype=bool, count=n)
    for p in people:
        if p.timezone is not None:
            zone(p.timezone)  # fail early on unknown names, cached per name
    hours_words = masks_to_words(
        [availability_mask(p.timezone, p.availability) if p.availability else 0 for p in people]
    )
    waiting = np.fromiter((p.weeks_waiting for p in people), dtype=np.int64, count=n)

    met, blocked = _history_sets(problem, index)
    manager = org_path = org_depth = None
    if any_managers:
        if owner is None:
            manager, org_path, org_depth = _reporting_tree(
                [p.id for p in people], [p.managers for p in people]
            )
        else:  # per person (ids as the people's own problem gave them), then per slot row
            rows = np.flatnonzero(first)
            manager, org_path, org_depth = _reporting_tree(
                problem.person_ids,  # type: ignore[attr-defined]
                [people[r].managers for r in rows.tolist()],
            )
            manager, org_path, org_depth = manager[owner], org_path[owner], org_depth[owner]
    return Encoded(
        n=n,
        ids=tuple(p.id for p in people),
        team=team,
        team_names=team_names,
        projects=projects,
        interests=interests,
        interest_rarity=rarity(_people_df(interests, first), people_n),
        location=location,
        location_names=location_names,
        timezone=timezone,
        can_in_person=can_in_person,
        can_video=can_video,
        hours_words=hours_words,
        waiting=waiting,
        met=met,
        blocked=blocked,
        cross_team_only=rules.cross_team_only,
        role=role,
        role_names=role_names,
        distinct_roles=rules.distinct_roles,
        wants=wants,
        offers=offers,
        help_rarity=rarity(_people_df(either, first), people_n),
        owner=owner,
        manager=manager,
        org_path=org_path,
        org_depth=org_depth,
        avoid_managers=rules.avoid_managers,
    )
