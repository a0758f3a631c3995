"""A stored group's reasons, written from its facts for whoever reads them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from matcher.matching import Fact, ProblemError, sentences
from matcher.models import MatchGroup

SOMEONE = "a colleague"


def read_facts(stored: Iterable[dict[str, Any]] | None) -> list[Fact]:
    """Stored facts as Fact values; one that cannot be read is left out, not a broken page."""
    facts = []
    for data in stored or []:
        try:
            facts.append(Fact.from_dict(data))
        except ProblemError:
            continue
    return facts


def write_reasons(
    facts: Sequence[Fact],
    members: Sequence[int],
    names: Mapping[Any, str] | Callable[[Any], str],
    reader: int | None = None,
) -> list[str]:
    """Sentences for reader (a member's user id), or for an admin when reader is None."""
    name = names if callable(names) else (lambda i: names.get(i, SOMEONE))
    return sentences(facts, members, name, reader)


def reasons_for(group: MatchGroup, reader: int | None = None) -> list[str]:
    """Why the group was matched, addressed to reader (a member) or to an admin (None).

    Rounds stored before facts existed keep their old English sentences.
    """
    if not group.facts:
        return [str(r) for r in group.reasons or []]
    members = [m.user_id for m in group.memberships]
    names = {m.user_id: m.user.display_name for m in group.memberships}
    return write_reasons(read_facts(group.facts), members, names, reader)


def facts_without(facts: Iterable[dict[str, Any]], person_id: int) -> list[dict[str, Any]]:
    """Stored facts minus every one that mentions person_id (their interests, office...)."""
    return [f for f in facts if person_id not in (f.get("members") or [])]
