"""Helpers for fault tests: a big organisation in a few bulk inserts, CLI subprocesses."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import func, insert, select

from matcher.extensions import db
from matcher.models import (
    AvailabilityWindow,
    Interest,
    MatchGroup,
    Membership,
    OutboxMessage,
    Profile,
    ProgrammeMember,
    Project,
    Round,
    Team,
    User,
)
from matcher.models.people import user_interests, user_projects
from matcher.programmes.catalogue import default_programme

ROOT = Path(__file__).resolve().parents[2]
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Asia/Kolkata", "UTC")


def load_organisation(app: Flask, people: int, seed: int = 1) -> list[int]:
    """Bulk-insert `people` matchable engineers (teams of about 8, all in the cross-team
    coffee); returns their user ids."""
    rng = random.Random(seed)
    with app.app_context():
        session = db.session

        def vocabulary(model: type, prefix: str, count: int) -> list[int]:
            rows = [{"name": f"{prefix} {k}", "key": f"{prefix} {k}"} for k in range(count)]
            return list(
                session.scalars(
                    insert(model).returning(model.id, sort_by_parameter_order=True), rows
                )
            )

        teams = vocabulary(Team, "team", max(2, people // 8))
        projects = vocabulary(Project, "project", max(2, people // 20))
        interests = vocabulary(Interest, "interest", 150)
        user_ids = list(
            session.scalars(
                insert(User).returning(User.id, sort_by_parameter_order=True),
                [
                    {
                        "email": f"p{k}@example.com",
                        "display_name": f"Person {k}",
                        "password_hash": "!",
                        "email_verified_at": datetime(2026, 1, 1),  # only confirmed are paired
                        "team_id": teams[k * len(teams) // people],
                        "session_token": f"t{k}",
                    }
                    for k in range(people)
                ],
            )
        )
        session.execute(
            insert(Profile),
            [
                {"user_id": uid, "location": f"Office {uid % 7}", "timezone": rng.choice(ZONES)}
                for uid in user_ids
            ],
        )
        coffee_id = default_programme(session).id
        session.execute(
            insert(ProgrammeMember),
            [{"programme_id": coffee_id, "user_id": uid} for uid in user_ids],
        )
        session.execute(
            insert(user_projects),
            [
                {"user_id": uid, "project_id": pid}
                for uid in user_ids
                for pid in rng.sample(projects, rng.randint(1, 3))
            ],
        )
        session.execute(
            insert(user_interests),
            [
                {"user_id": uid, "interest_id": iid}
                for uid in user_ids
                for iid in rng.sample(interests, rng.randint(3, 6))
            ],
        )
        session.execute(
            insert(AvailabilityWindow),
            [
                {"user_id": uid, "weekday": day, "start_minute": 540, "end_minute": 1020}
                for uid in user_ids
                for day in rng.sample(range(5), 2)
            ],
        )
        session.commit()
        db.session.remove()
    return user_ids


def flask_process(app: Flask, *args: str, **env_overrides: str) -> subprocess.Popen[str]:
    """Start `python -m flask --app wsgi ARGS` against the test app's database."""
    env = dict(os.environ)
    env["MATCHER_DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"]
    env["MATCHER_SECRET_KEY"] = "test"
    env.update(env_overrides)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def count(app: Flask, model: type, *where: object) -> int:
    """Rows of a model, optionally filtered."""
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(model).where(*where))
        db.session.remove()
        return int(total or 0)


def assert_no_half_round(app: Flask) -> int:
    """0 rounds, or one complete published round (members = participants, a message each)."""
    with app.app_context():
        rounds = db.session.scalars(select(Round)).all()
        assert len(rounds) <= 1, [r.week for r in rounds]
        if not rounds:
            for model in (MatchGroup, Membership, OutboxMessage):
                assert db.session.scalar(select(func.count()).select_from(model)) == 0
            db.session.remove()
            return 0
        round_ = rounds[0]
        assert round_.status == "published"
        members = db.session.scalar(select(func.count()).where(Membership.round_id == round_.id))
        unmatched = len(round_.unmatched)
        assert members + unmatched == round_.participant_count > 0
        pairing = db.session.execute(
            select(OutboxMessage.user_id, func.count())
            .where(OutboxMessage.round_id == round_.id, OutboxMessage.kind == "pairing")
            .group_by(OutboxMessage.user_id)
        ).all()
        member_ids = set(
            db.session.scalars(select(Membership.user_id).where(Membership.round_id == round_.id))
        )
        # Exactly one pairing message per member, and none for anyone else.
        assert {uid for uid, _ in pairing} == member_ids
        assert all(n == 1 for _, n in pairing)
        db.session.remove()
        return 1
