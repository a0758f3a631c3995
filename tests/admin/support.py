"""Plain helpers for admin console tests: the week, table counts, form data, drafts."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.matching import Weights
from matcher.models import Round

WEEK = "2026-W49"


def table_counts(app: Flask) -> dict[str, int]:
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


def valid_form(**changes: str | None) -> dict[str, str]:
    """A valid rules-page submission, with changes applied (None leaves a field out)."""
    data = {
        "cross_team_only": "y",
        "avoid_managers": "y",
        "repeat_cooldown_weeks": "4",
        "group_size": "2",
        "round_weekday": "0",
        "round_time": "09:00",
        "round_timezone": "UTC",
        "feedback_reminder_days": "5",
        "pause_after_missed": "3",
    }
    data.update({f"weight_{name}": "1" for name in Weights.names()})
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def rules_args(**changes: str) -> dict[str, str]:
    """Preview arguments: the week and the default rules, with changes applied."""
    args = {
        "week": WEEK,
        "cross_team_only": "y",
        "avoid_managers": "y",
        "repeat_cooldown_weeks": "4",
        "group_size": "2",
    }
    args.update({f"weight_{name}": "1" for name in Weights.names()})
    args.update(changes)
    return args


def save_draft(client: FlaskClient, **changes: str) -> int:
    """Save the previewed round as a draft through the admin page; returns its id."""
    response = client.post("/admin/preview/save", data={**rules_args(**changes), "use": "proposed"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def groups_of(app: Flask, round_id: int) -> list[list[int]]:
    """Each group of a stored round as its members' user ids."""
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        return [[m.user_id for m in g.memberships] for g in round_.groups]


def place_of(app: Flask, round_id: int, user_id: int) -> int:
    """The membership id (a person's place in one group) of the user in the round: what the
    swap and take-out lists send."""
    from matcher.models import Membership

    with app.app_context():
        return db.session.scalar(
            select(Membership.id).where(
                Membership.round_id == round_id, Membership.user_id == user_id
            )
        )
