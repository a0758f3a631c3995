"""Deterministic generator of realistic organisations as matcher problem JSON objects.

Zipf-sized teams of about 8, 1-3 projects per person shared by a few neighbouring teams,
3-8 interests from a Zipf-popular vocabulary of 300, offices with their time zones, some
availability windows, 12 weeks of history and a few admin blocks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

VOCABULARY = 300
HISTORY_WEEKS = 12
OFFICES = (
    ("Berlin", "Europe/Berlin"),
    ("London", "Europe/London"),
    ("New York", "America/New_York"),
    ("San Francisco", "America/Los_Angeles"),
    ("Bangalore", "Asia/Kolkata"),
    ("Paris", "Europe/Paris"),
    ("Toronto", "America/Toronto"),
    ("Singapore", "Asia/Singapore"),
    ("Sydney", "Australia/Sydney"),
    ("Sao Paulo", "America/Sao_Paulo"),
    ("Warsaw", "Europe/Warsaw"),
    ("Tokyo", "Asia/Tokyo"),
)
_WORDS = (
    "rust go python climbing running chess jazz baking coffee cycling hiking photography "
    "gardening yoga kubernetes postgres typescript poetry vinyl boardgames sailing tennis "
    "football knitting sketching podcasts sci-fi birding ceramics skiing"
).split()


def interest_names() -> list[str]:
    """Vocabulary of interests: real words first (most popular), then numbered ones."""
    extra = [f"topic-{k}" for k in range(VOCABULARY - len(_WORDS))]
    return (_WORDS + extra)[:VOCABULARY]


def _team_sizes(n: int, rng: np.random.Generator) -> np.ndarray:
    sizes: list[int] = []
    total = 0
    while total < n:
        batch = np.clip(rng.zipf(1.7, size=max(16, n // 8)) + 3, 3, 60)
        for s in batch.tolist():
            sizes.append(min(s, n - total))
            total += sizes[-1]
            if total >= n:
                break
    return np.asarray(sizes, dtype=np.int64)


def _interests(n: int, rng: np.random.Generator) -> list[list[int]]:
    """3-8 distinct interests per person, Zipf popularity, via the Gumbel top-k trick."""
    logp = -1.0 * np.log(np.arange(1, VOCABULARY + 1))
    counts = rng.integers(3, 9, size=n)
    out: list[list[int]] = []
    for start in range(0, n, 50_000):
        end = min(n, start + 50_000)
        keys = logp + rng.gumbel(size=(end - start, VOCABULARY))
        top = np.argsort(-keys, axis=1)[:, :8]
        for row, k in zip(top.tolist(), counts[start:end].tolist(), strict=True):
            out.append(row[:k])
    return out


def generate(n: int, seed: int = 0, history_weeks: int = HISTORY_WEEKS) -> dict[str, Any]:
    """A problem JSON object for an organisation of n people (same n and seed, same output)."""
    rng = np.random.default_rng(seed)
    sizes = _team_sizes(n, rng)
    teams = len(sizes)
    team_of = np.repeat(np.arange(teams), sizes)
    # Projects are shared by a few neighbouring teams: team t picks from projects near t/2.
    team_projects = []
    for t in range(teams):
        k = int(rng.integers(1, 4))
        centre = t // 2
        team_projects.append(sorted({int(centre + d) for d in rng.integers(-1, 2, size=k)}))
    office_p = 1.0 / np.arange(1, len(OFFICES) + 1)
    office_p /= office_p.sum()
    team_office = rng.choice(len(OFFICES), size=teams, p=office_p)
    office = np.where(
        rng.random(n) < 0.85, team_office[team_of], rng.choice(len(OFFICES), size=n, p=office_p)
    )
    modes = rng.choice(["either", "in_person", "video"], size=n, p=[0.5, 0.25, 0.25])
    has_hours = rng.random(n) < 0.3
    starts = rng.integers(7, 11, size=n) * 60
    waiting = np.where(rng.random(n) < 0.8, 0, rng.integers(1, 7, size=n))
    words = interest_names()
    interests = _interests(n, rng)
    project_pick = rng.random((n, 3))

    people = []
    for i in range(n):
        t = int(team_of[i])
        projects = team_projects[t]
        mine = [p for p, r in zip(projects, project_pick[i].tolist(), strict=False) if r < 0.7]
        person: dict[str, Any] = {
            "id": f"p{i}",
            "team": f"team-{t}",
            "projects": [f"project-{p}" for p in (mine or projects[:1])],
            "interests": [words[k] for k in interests[i]],
            "location": OFFICES[int(office[i])][0],
            "timezone": OFFICES[int(office[i])][1],
        }
        if modes[i] != "either":
            person["meeting_mode"] = str(modes[i])
        if waiting[i]:
            person["weeks_waiting"] = int(waiting[i])
        if has_hours[i]:
            s = int(starts[i])
            person["availability"] = [
                {"weekday": d, "start_minute": s, "end_minute": s + 8 * 60} for d in range(5)
            ]
        people.append(person)

    history = []
    for week in range(1, history_weeks + 1):
        perm = rng.permutation(n)
        a, b = perm[0 : n - 1 : 2], perm[1:n:2]
        keep = team_of[a] != team_of[b]
        a, b = a[keep], b[keep]
        feedback = rng.random(len(a))
        for x, y, f in zip(a.tolist(), b.tolist(), feedback.tolist(), strict=True):
            entry: dict[str, Any] = {"a": f"p{x}", "b": f"p{y}", "weeks_ago": week}
            if f < 0.03:
                entry["would_meet_again"] = False
            elif f < 0.43:
                entry["would_meet_again"] = True
            history.append(entry)
    blocked_pairs = rng.integers(0, n, size=(max(n // 1000, 1), 2)) if n >= 2 else []
    blocked = [[f"p{x}", f"p{y}"] for x, y in np.asarray(blocked_pairs).tolist() if x != y]
    return {
        "participants": people,
        "history": history,
        "blocked": blocked,
        "rules": {"cross_team_only": True, "repeat_cooldown_weeks": 4, "group_size": 2},
        "seed": seed,
    }


def write(path: Path | str, n: int, seed: int = 0) -> Path:
    """Generate an organisation of n people and write it as problem JSON."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as stream:
        json.dump(generate(n, seed), stream, separators=(",", ":"))
    return path
