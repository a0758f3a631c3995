"""Fixtures for the admin console: an admin, a small org in four teams, table counts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from matcher.extensions import db

WEEK = "2026-W49"
TEAMS = ("Payments", "Search", "Platform", "Mobile")
# Each team shares a project with the next one, and interests overlap across teams.
PROJECTS = {
    "Payments": ("Checkout",),
    "Search": ("Checkout", "Relevance"),
    "Platform": ("Relevance", "Kubernetes migration"),
    "Mobile": ("Kubernetes migration",),
}
INTERESTS = (("Rust", "Chess"), ("Climbing",), ("Rust", "Baking"), ("Jazz",))


@pytest.fixture
def org(app, make_user, admin):
    """Twelve people, three in each of four teams; returns {name: id}. The admin opts out."""
    from matcher.models import Profile

    people = {}
    for k in range(12):
        team = TEAMS[k % 4]
        name = f"Person{k:02d}"
        people[name] = make_user(
            email=f"p{k}@example.com",
            name=name,
            team=team,
            projects=PROJECTS[team],
            interests=INTERESTS[k % len(INTERESTS)],
        )
    with app.app_context():
        db.session.get(Profile, admin).opted_out = True
        db.session.commit()
    return people


def table_counts(app) -> dict[str, int]:
    """Rows in every table."""
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def field_error(page: str, field_id: str) -> str:
    """The error text shown next to one field ('' when none)."""
    match = re.search(
        rf'<p class="error" id="{re.escape(field_id)}-error"[^>]*>(.*?)</p>', page, re.S
    )
    return match.group(1).strip() if match else ""
