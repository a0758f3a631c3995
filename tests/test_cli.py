"""The flask commands: create an admin, seed the demo organisation."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import Interest, Project, Team, User
from tests.support import login


def test_create_admin_asks_for_the_password(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create-admin", "Boss@Example.com"],
        input="a long admin password\na long admin password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.com" in result.output
    client = app.test_client()
    login(client, "boss@example.com", "a long admin password")
    assert client.get("/admin/").status_code == 200


def test_create_admin_promotes_an_existing_account(app, make_user):
    make_user(email="ada@example.com")
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "ada@example.com", "--password", "new admin password"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "ada@example.com")).is_admin


def test_create_admin_refuses_bad_input(app):
    runner = app.test_cli_runner()
    bad_email = runner.invoke(args=["users", "create-admin", "nope", "--password", "x" * 12])
    assert bad_email.exit_code == 2 and "not a valid email" in bad_email.output
    short = runner.invoke(args=["users", "create-admin", "a@example.com", "--password", "short"])
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_demo_seed_builds_a_living_organisation(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    password = re.search(r"Admin: admin@example.com\s+password: (\S+)", result.output).group(1)
    member_password = re.search(r"Every demo engineer's password: (\S+)", result.output).group(1)
    with app.app_context():
        engineers = db.session.scalars(select(User).where(User.is_admin.is_(False))).all()
        assert len(engineers) >= 60
        assert db.session.scalar(select(func.count()).select_from(Team)) >= 8
        assert all(u.team and u.interests and u.projects for u in engineers)
        # Projects cross team lines, which is what matching looks for.
        shared = [
            p
            for p in db.session.scalars(select(Project)).all()
            if len({u.team_id for u in engineers if p in u.projects}) >= 2
        ]
        assert len(shared) >= 5
        assert db.session.scalar(select(func.count()).select_from(Interest)) >= 20
        some_engineer = engineers[0].email
    client = app.test_client()
    login(client, "admin@example.com", password)
    assert "Ada" in client.get("/admin/people").get_data(as_text=True)
    login(app.test_client(), some_engineer, member_password)
    # Seeding again adds nobody twice.
    again = runner.invoke(args=["demo", "seed"])
    assert "0 new engineers" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == len(engineers) + 1
