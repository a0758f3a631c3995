"""Helpers for the matching engine tests: small problems and the org generator."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))


def person(pid, team, **fields) -> dict:
    """A participant JSON object with sensible defaults."""
    return {"id": pid, "team": team, "projects": [], "interests": [], **fields}


@pytest.fixture
def small_problem() -> dict:
    """Six people in three teams, some shared projects and interests, a bit of history."""
    return {
        "participants": [
            person("ana", "Payments", projects=["Checkout"], interests=["rust", "climbing"]),
            person("bo", "Search", projects=["Checkout"], interests=["rust", "climbing"]),
            person("cy", "Search", interests=["jazz"], location="Berlin"),
            person("di", "Infra", interests=["jazz"], location="Berlin"),
            person("ed", "Infra", interests=["chess"], weeks_waiting=3),
            person("fa", "Payments", interests=["chess"]),
        ],
        "history": [{"a": "ed", "b": "fa", "weeks_ago": 10}],
        "blocked": [],
        "rules": {"cross_team_only": True, "repeat_cooldown_weeks": 4, "group_size": 2},
        "seed": 0,
    }
