"""Fixtures for the admin console: a small org in four teams (helpers are in support.py)."""

from __future__ import annotations

import pytest

from matcher.extensions import db

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
    from tests.support import coffee_member

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
        coffee_member(db.session, admin).opted_out = True
        db.session.commit()
    return people
