"""Near-duplicate vocabulary entries ("Berlin" / "Berlin Mitte", "k8s" / "Kubernetes") to merge.

Pure functions over (name, people) entries: no database. Four rules, strongest first:

1. the same letters and digits once case, spaces and punctuation are dropped ("Berlin-Mitte",
   "berlin mitte");
2. a numeronym: "k8s" is k, 8 letters, s, so it stands for "Kubernetes" (also i18n, a11y);
3. one name's words appear, in order, inside the other's ("Rust" in "Rust lang", "Berlin" in
   "Berlin Mitte"), the shorter having at least 3 letters;
4. spelled almost the same: difflib ratio of at least 0.85 between the squashed names, both at
   least 5 characters, starting with the same letter and with the same digits ("Kubernetes" /
   "Kubernets", but not "Checkout v2" / "Checkout v3").

Each suggestion merges the less used entry into the more used one (ties: the shorter name).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Protocol

RATIO = 0.85
MIN_FUZZY_LENGTH = 5
MIN_CONTAINED_LETTERS = 3
# Spelling comparisons grow with the square of the entries: compare the most used ones only.
FUZZY_MAX_ENTRIES = 3000
SHOWN = 50
_NUMERONYM = re.compile(r"^([a-z])(\d{1,2})([a-z])$")
_WORD = re.compile(r"[^\W_]+")


class Named(Protocol):
    """A vocabulary entry: a name and how many people use it."""

    @property
    def name(self) -> str: ...

    @property
    def people(self) -> int: ...


@dataclass(frozen=True)
class Suggestion:
    """Two entries that look like one: merge `merge` into `keep`, because of `why`."""

    keep: Named
    merge: Named
    why: str
    rule: int  # 1 to 4, as in the module docstring


def squash(name: str) -> str:
    """Letters and digits only, case-folded: 'Berlin-Mitte ' -> 'berlinmitte'."""
    return "".join(_WORD.findall(name.casefold()))


def words(name: str) -> tuple[str, ...]:
    """The case-folded words of a name: 'Rust (lang)' -> ('rust', 'lang')."""
    return tuple(_WORD.findall(name.casefold()))


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _order(a: Named, b: Named) -> tuple[Named, Named]:
    """(keep, merge): the more used entry is kept; on a tie the shorter, then the first name."""
    ranked = sorted((a, b), key=lambda e: (-e.people, len(e.name), e.name.casefold(), e.name))
    return ranked[0], ranked[1]


def near_duplicates(
    entries: Sequence[Named], limit: int | None = SHOWN, contained: bool = True
) -> list[Suggestion]:
    """Pairs of entries that are probably one thing, strongest rule and most people first.

    contained=False leaves out "one name is part of the other": right for projects and
    offices ("Berlin Mitte", "Berlin"), wrong for teams ("Data Platform" is not "Platform").
    """
    found: dict[frozenset[int], Suggestion] = {}

    def add(i: int, j: int, why: str, rule: int) -> None:
        key = frozenset((i, j))
        if i != j and key not in found:
            keep, merge = _order(entries[i], entries[j])
            found[key] = Suggestion(keep, merge, why, rule)

    squashed = [squash(e.name) for e in entries]
    by_squash: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(squashed):
        if s:
            by_squash[s].append(i)
    for same in by_squash.values():
        for x, i in enumerate(same):
            for j in same[x + 1 :]:
                add(i, j, "the same apart from case, spaces and punctuation", 1)

    by_shape: dict[tuple[str, int, str], list[int]] = defaultdict(list)
    for i, s in enumerate(squashed):
        if len(s) >= 4 and s.isalpha():
            by_shape[(s[0], len(s) - 2, s[-1])].append(i)
    for i, s in enumerate(squashed):
        match = _NUMERONYM.match(s)
        if match:
            first, count, last = match.group(1), int(match.group(2)), match.group(3)
            for j in by_shape.get((first, count, last), []):
                why = f"“{entries[i].name}” is short for it ({first} + {count} letters + {last})"
                add(i, j, why, 2)

    entry_words = [words(e.name) for e in entries]
    by_words: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, w in enumerate(entry_words):
        if w and len("".join(w)) >= MIN_CONTAINED_LETTERS:
            by_words[w].append(i)
    for i, w in enumerate(entry_words if contained else ()):
        for start in range(len(w)):
            for end in range(start + 1, len(w) + 1):
                part = w[start:end]
                if part == w:
                    continue
                for j in by_words.get(part, []):
                    add(j, i, f"“{entries[j].name}” is part of “{entries[i].name}”", 3)

    _spelling(entries, squashed, add)
    suggestions = sorted(
        found.values(),
        key=lambda s: (s.rule, -(s.keep.people + s.merge.people), s.keep.name.casefold()),
    )
    return suggestions if limit is None else suggestions[:limit]


def _spelling(
    entries: Sequence[Named], squashed: list[str], add: Callable[[int, int, str, int], None]
) -> None:
    """Rule 4, compared within blocks of one first letter and similar length."""
    ranked = sorted(range(len(entries)), key=lambda i: -entries[i].people)[:FUZZY_MAX_ENTRIES]
    blocks: dict[str, list[int]] = defaultdict(list)
    for i in ranked:
        if len(squashed[i]) >= MIN_FUZZY_LENGTH:
            blocks[squashed[i][0]].append(i)
    for block in blocks.values():
        block.sort(key=lambda i: len(squashed[i]))
        for x, i in enumerate(block):
            a = squashed[i]
            # difflib caches its second sequence: keep a there and vary the first.
            matcher = SequenceMatcher(None, "", a, autojunk=False)
            for j in block[x + 1 :]:
                b = squashed[j]
                # ratio <= 2 * shorter / (both lengths): past this length nothing can match.
                if 2 * len(a) / (len(a) + len(b)) < RATIO:
                    break
                if a == b or _digits(a) != _digits(b):
                    continue
                matcher.set_seq1(b)
                if matcher.real_quick_ratio() >= RATIO and matcher.quick_ratio() >= RATIO:
                    ratio = matcher.ratio()
                    if ratio >= RATIO:
                        add(i, j, f"spelled almost the same ({ratio:.0%} alike)", 4)
