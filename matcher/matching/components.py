"""What each score component offers the candidate search: an index of tokens and a bound.

A component that rewards sharing something (a project, an interest, an office) lists
postings: (person, token, value), where value is the most that sharing this one token can
add to the weighted score. The candidate search needs nothing else from a component, so a new
token-based component (say, a directed mentoring score) plugs in by adding a source here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .encode import Encoded, TokenIndex
from .rules import Weights


@dataclass(frozen=True, slots=True)
class TokenSource:
    """Postings of one component: person, token code (local to the source) and value."""

    component: str
    owner: np.ndarray  # int64 person index
    token: np.ndarray  # int64 token code, 0 .. vocabulary - 1
    value: np.ndarray  # float64 weighted contribution of sharing this token alone
    vocabulary: int


def _index_postings(index: TokenIndex, n: int) -> tuple[np.ndarray, np.ndarray]:
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(index.indptr))
    return owner, index.tokens.astype(np.int64)


def _projects(enc: Encoded, weight: float) -> TokenSource:
    owner, token = _index_postings(enc.projects, enc.n)
    value = np.full(len(owner), weight)
    return TokenSource("projects", owner, token, value, len(enc.projects.names))


def _interests(enc: Encoded, weight: float) -> TokenSource:
    owner, token = _index_postings(enc.interests, enc.n)
    # The component is 1 - exp(-sum of rarities): one shared token alone gives this much.
    value = weight * (1.0 - np.exp(-enc.interest_rarity[token]))
    return TokenSource("interests", owner, token, value, len(enc.interests.names))


def _location(enc: Encoded, weight: float) -> TokenSource:
    # Only people who may meet in person get the location component.
    owner = np.flatnonzero((enc.location >= 0) & enc.can_in_person).astype(np.int64)
    token = enc.location[owner].astype(np.int64)
    value = np.full(len(owner), weight)
    return TokenSource("location", owner, token, value, len(enc.location_names))


def _hours(enc: Encoded, weight: float) -> TokenSource:
    # Working hours overlap most within a time zone: video-capable people with windows.
    has_hours = enc.hours_words.any(axis=1)
    owner = np.flatnonzero((enc.timezone >= 0) & enc.can_video & has_hours).astype(np.int64)
    token = enc.timezone[owner].astype(np.int64)
    value = np.full(len(owner), weight)
    vocabulary = int(enc.timezone.max(initial=-1)) + 1
    return TokenSource("hours", owner, token, value, vocabulary)


# Components with an index, by name. Components without one (org distance, novelty,
# fairness) add about the same to every allowed pair, so they never decide who is a candidate.
# Nothing here bounds them or takes org distance for "different teams": in a reporting tree
# it is hops / ORG_FULL_HOPS, capped at 1, so it adds at most its weight to any pair, and
# pooled pairs are always scored with the real Scorer.
SOURCES: dict[str, Callable[[Encoded, float], TokenSource]] = {
    "projects": _projects,
    "interests": _interests,
    "location": _location,
    "hours": _hours,
}


def token_sources(enc: Encoded, weights: Weights) -> list[TokenSource]:
    """The postings of every indexed component with a positive weight."""
    out = []
    for name, build in SOURCES.items():
        weight = float(getattr(weights, name))
        if weight > 0:
            source = build(enc, weight)
            if len(source.owner):
                out.append(source)
    return out
