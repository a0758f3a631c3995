"""`flask export` / `flask import`: a whole database round-trips, on and across backends."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import JSON, func, select

from matcher import PROJECT_ROOT, backup
from matcher.audit import record as audit
from matcher.auth.service import register_user
from matcher.extensions import db
from matcher.feedback.service import Answer
from matcher.feedback.service import record as record_feedback
from matcher.models import (
    Membership,
    OutboxMessage,
    PendingErasure,
    ScimToken,
    SsoIdentity,
    User,
)
from matcher.profile.service import ProfileData, Slot, add_do_not_pair
from matcher.programmes.settings import save_settings, settings_values
from matcher.rounds import publishing
from tests.support import PG_ADMIN_URL, coffee, make_app, make_six_people

WEEK = "2026-W49"


def populate(app: Flask, make_user) -> dict[str, int]:
    """A lived-in organisation: people, a block, a published round, feedback, settings, audit."""
    ids = make_six_people(make_user)
    # What Root can help with and wants help with fill the mentoring vocabularies' tables.
    ids["root"] = make_user(
        email="root@example.com",
        name="Root",
        team="Ops",
        is_admin=True,
        can_help=("Postgres",),
        wants_help=("Rust",),
    )
    with app.app_context():
        session = db.session
        add_do_not_pair(session, session.get(User, ids["ada"]), "bob@example.com")
        # An address nobody has signed up with yet: a pending entry.
        add_do_not_pair(session, session.get(User, ids["cy"]), "newcomer@example.com")
        values = settings_values(coffee(session))
        values["round_minute"] = 10 * 60 + 30
        values["round_timezone"] = "Europe/Berlin"
        assert save_settings(session, coffee(session), values, ids["root"])
        audit(session, ids["root"], "person.pause", "fay@example.com", before=None, after=[1, 2])
        outcome = publishing.run_round(session, coffee(session), WEEK, publish=True)
        assert outcome.published
        session.flush()
        membership = session.scalars(select(Membership).order_by(Membership.id)).first()
        record_feedback(
            session,
            membership,
            Answer(status="met", rating=5, would_meet_again=True, kudos="Great chat"),
            # The fixed week's coffee is over a week after its Monday, whatever today is.
            now=datetime.combine(membership.round.starts_on + timedelta(days=7), time()),
        )
        # An account deleted moments ago, its snapshots not erased yet.
        session.add(PendingErasure(user_id=ids["fay"], done_through_round_id=0))
        # Identity: a reporting line (a reference within users), a single sign-on identity
        # and a SCIM token.
        session.get(User, ids["bob"]).manager_id = ids["ada"]
        session.get(User, ids["ada"]).manager_id = ids["root"]
        session.add(SsoIdentity(user_id=ids["ada"], issuer="https://id.example.com", subject="a1"))
        session.add(ScimToken(name="okta", token_hash="0" * 64))
        session.commit()
    return ids


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in key order, plus for each JSON column whether it is SQL NULL."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with app.app_context():
        for table in backup.tables():
            nulls = [c.is_(None) for c in table.columns if isinstance(c.type, JSON)]
            rows = db.session.execute(
                select(*table.columns, *nulls).order_by(*table.primary_key.columns)
            ).all()
            tables[table.name] = [tuple(row) for row in rows]
        db.session.remove()
    return tables


@contextmanager
def empty_database(backend: str, tmp_path: Path) -> Iterator[Flask]:
    """A migrated, empty database of that backend, just for this test, dropped after it."""
    name = f"matcher_backup_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / f'{name}.sqlite'}"
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{PG_ADMIN_URL.rpartition('/')[0]}/{name}"
    try:
        app = make_app(url, tmp_path / f"instance-{name}")
        with app.app_context():
            upgrade()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        if backend == "postgresql":
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrations_head() -> str:
    """The newest migration's revision, read from migrations/versions."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def export_to(app: Flask, path: Path) -> dict[str, Any]:
    result = app.test_cli_runner().invoke(args=["export", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return json.loads(path.read_text())


def import_from(app: Flask, path: Path):
    return app.test_cli_runner().invoke(args=["import", str(path)])


def row_count(app: Flask) -> int:
    with app.app_context():
        return sum(db.session.scalar(select(func.count()).select_from(t)) for t in backup.tables())


def sign_up(app: Flask, email: str) -> int:
    with app.app_context():
        data = ProfileData(
            team="Payments", projects=("Checkout",), availability=(Slot(0, 600, 960),)
        )
        user = register_user(db.session, "New Person", email, "long enough password", data)
        db.session.commit()
        return user.id


def test_round_trip_restores_every_row_and_new_rows_get_fresh_ids(
    app, make_user, backend, tmp_path
):
    ids = populate(app, make_user)
    before = snapshot(app)
    assert all(before.values()), {t: len(rows) for t, rows in before.items()}
    document = export_to(app, tmp_path / "backup.json")
    assert document["format"] == "matcher-backup" and document["version"] == 1
    assert document["alembic_revision"] == migrations_head()
    # Every table but the page cache's data versions (they change with every write).
    assert [t.name for t in backup.tables()] == list(document["tables"])
    assert len(document["tables"]["outbox"]) == len(document["tables"]["memberships"]) == 7

    with empty_database(backend, tmp_path) as restored:
        result = import_from(restored, tmp_path / "backup.json")
        assert result.exit_code == 0, result.output
        assert snapshot(restored) == before
        # Sequences moved past the imported ids: a sign-up and a new round do not collide.
        new_id = sign_up(restored, "newcomer@example.com")
        assert new_id == max(ids.values()) + 1
        with restored.app_context():
            outcome = publishing.run_round(db.session, coffee(db.session), "2026-W50", publish=True)
            db.session.commit()
            old_rounds = {row[0] for row in before["rounds"]}
            assert outcome.round.id not in old_rounds
            queued = db.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.round_id == outcome.round.id)
            )
            assert queued == outcome.round.participant_count > 0


def test_export_streams_only_the_document_to_stdout(app, make_user):
    populate(app, make_user)
    result = app.test_cli_runner().invoke(args=["export"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout_bytes)
    assert len(document["tables"]["users"]) == 7
    # Dates and datetimes are ISO strings, JSON columns stay structured, booleans stay booleans.
    round_row = document["tables"]["rounds"][0]
    assert round_row["starts_on"] == "2026-11-30" and "T" in round_row["published_at"]
    assert isinstance(round_row["rules"], dict) and isinstance(round_row["problem"], dict)
    assert {u["is_admin"] for u in document["tables"]["users"]} == {True, False}


def test_import_into_a_database_with_rows_is_refused_and_changes_nothing(app, make_user, tmp_path):
    populate(app, make_user)
    export_to(app, tmp_path / "backup.json")
    sign_up(app, "later@example.com")
    before = snapshot(app)
    result = import_from(app, tmp_path / "backup.json")
    assert result.exit_code == 2
    assert "not empty" in result.output and len(result.output.strip().splitlines()) == 1
    assert snapshot(app) == before


def _backup_of(app: Flask, make_user, path: Path) -> dict[str, Any]:
    """Export a populated database, then empty it again (keeping the migrations)."""
    populate(app, make_user)
    document = export_to(app, path)
    with app.app_context():
        for table in reversed(backup.tables()):
            db.session.execute(table.delete())
        db.session.commit()
    assert row_count(app) == 0
    return document


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda doc: doc.update(alembic_revision="0002_rounds"), "revision"),
        (lambda doc: doc.update(format="something-else"), "not a matcher backup"),
        (lambda doc: doc["tables"].pop("feedback"), "tables do not match"),
    ],
)
def test_import_refuses_a_backup_it_cannot_trust(app, make_user, tmp_path, spoil, message):
    document = _backup_of(app, make_user, tmp_path / "backup.json")
    spoil(document)
    bad = tmp_path / "spoiled.json"
    bad.write_text(json.dumps(document))
    result = import_from(app, bad)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert row_count(app) == 0


def test_import_refuses_bad_json(app, tmp_path):
    bad = tmp_path / "torn.json"
    bad.write_text('{"format": "matcher-backup", "tables": {')
    result = import_from(app, bad)
    assert result.exit_code == 2 and "not valid JSON" in result.output


@pytest.mark.parametrize("where", ["bad date", "check constraint"])
def test_import_is_all_or_nothing(app, make_user, tmp_path, where):
    document = _backup_of(app, make_user, tmp_path / "backup.json")
    # Spoil a table inserted late, after users, teams and rounds went in.
    if where == "bad date":
        document["tables"]["audit_log"][0]["created_at"] = "yesterday"
    else:
        document["tables"]["feedback"][0]["status"] = "maybe"
    bad = tmp_path / "spoiled.json"
    bad.write_text(json.dumps(document))
    result = import_from(app, bad)
    assert result.exit_code in (1, 2) and result.exit_code != 0, result.output
    assert row_count(app) == 0


def test_cross_backend_round_trip_sqlite_to_postgresql(
    app, make_user, backend, database_urls, tmp_path
):
    if backend != "sqlite":
        pytest.skip("exports from SQLite; runs once")
    if "postgresql" not in database_urls:
        pytest.skip("PostgreSQL not reachable")
    ids = populate(app, make_user)
    before = snapshot(app)
    export_to(app, tmp_path / "backup.json")
    with empty_database("postgresql", tmp_path) as restored:
        result = import_from(restored, tmp_path / "backup.json")
        assert result.exit_code == 0, result.output
        assert snapshot(restored) == before
        assert sign_up(restored, "newcomer@example.com") == max(ids.values()) + 1
