"""Plain helpers shared by test modules (the fixtures that use them are in conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from matcher import create_app

PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]
MEMBER_PASSWORD = "correct horse battery"
# The small organisation of several tests: six people, two in each of three teams.
SIX_PEOPLE = {
    "ada": "Payments",
    "bob": "Payments",
    "cy": "Search",
    "dee": "Search",
    "eve": "Platform",
    "fay": "Platform",
}


def pg_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


def make_app(database_url: str, instance: Path, **overrides: object) -> Flask:
    """An app for tests: a real database, fast password hashing, CSRF off unless asked."""
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        # Tests log in many times from one address; the rate-limit test turns this on.
        "RATELIMIT_ENABLED": False,
        # Weaker scrypt parameters only to keep the suite fast.
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "PASSWORD_MIN_LENGTH": 10,
    }
    config.update(overrides)
    return create_app(config)


_migrated: set[str] = set()


def migrate(app: Flask) -> None:
    """Bring the schema to head once per database with the real migrations."""
    from flask_migrate import upgrade

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url not in _migrated:
        with app.app_context():
            upgrade()
        _migrated.add(url)


def empty_tables(app: Flask) -> None:
    """Delete every row of every table, keeping the schema."""
    from sqlalchemy import text

    from matcher.extensions import db

    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            # Children first. DELETE, not TRUNCATE, on PostgreSQL too: on tables this small
            # it is four times faster (about 50 ms a test instead of 200).
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
            if db.engine.dialect.name == "postgresql":
                # Ids start at 1 again, as on a new database (SQLite reuses them by itself).
                conn.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))
        db.engine.dispose()


def login(client: FlaskClient, email: str, password: str = MEMBER_PASSWORD) -> None:
    """Log in through the real form and check it worked."""
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def outbox_link(app: Flask, kind: str, email: str, key: str = "url") -> str:
    """The path of the link in the latest `kind` message queued for that address."""
    from sqlalchemy import select

    from matcher.extensions import db
    from matcher.models import OutboxMessage, User

    with app.app_context():
        payload = db.session.scalars(
            select(OutboxMessage.payload)
            .join(User, User.id == OutboxMessage.user_id)
            .where(OutboxMessage.kind == kind, User.email == email.strip().lower())
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        ).first()
        assert payload is not None, f"no {kind} message queued for {email}"
        base = app.config["BASE_URL"].rstrip("/")
        assert payload[key].startswith(base + "/"), payload[key]
        return payload[key].removeprefix(base)


def verify_from_outbox(app: Flask, email: str, client: FlaskClient | None = None) -> None:
    """Confirm an address signed up through the web form by following the link it was sent;
    with `client`, in that browser (whose first use of the link logs it in, as sign-up used
    to), else in a fresh one."""
    from sqlalchemy import select

    from matcher.extensions import db
    from matcher.models import User

    browser = client or app.test_client()
    response = browser.get(outbox_link(app, "verify_email", email))
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:500]
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email.strip().lower())).one()
        assert user.email_verified_at is not None


def make_six_people(make_user: Callable[..., int]) -> dict[str, int]:
    """SIX_PEOPLE made with the make_user fixture (named Ada, Bob...); {first name: id}."""
    return {
        name: make_user(email=f"{name}@example.com", name=name.title(), team=team)
        for name, team in SIX_PEOPLE.items()
    }


def signup_data(**changes: str) -> dict[str, str]:
    """A valid sign-up form submission, with changes applied."""
    data = {
        "display_name": "Grace Hopper",
        "email": "grace@example.com",
        "password": MEMBER_PASSWORD,
        "confirm": MEMBER_PASSWORD,
        "team": "Compilers",
        "projects": "COBOL, Checkout",
        "interests": "Rust,  rust , RUST, Sailing",
        "location": "Berlin",
        "timezone": "Europe/Berlin",
        "cadence_weeks": "2",
        "meeting_mode": "video",
        "availability-day0-start": "10:00",
        "availability-day0-end": "12:30",
        "availability-day3-start": "14:00",
        "availability-day3-end": "16:00",
    }
    data.update(changes)
    return data


def meetings_over(app: Flask) -> None:
    """Let time pass for every round: its week began a week ago and its suggested slot an hour
    ago, so "we met" can be answered (the week labels stay as they were)."""
    from sqlalchemy import update

    from matcher.extensions import db
    from matcher.models import MatchGroup, Round

    now = datetime.now(UTC).replace(tzinfo=None)
    last_monday = (now - timedelta(days=7 + now.weekday())).date()
    with app.app_context():
        db.session.execute(
            update(MatchGroup)
            .where(MatchGroup.meeting_at.is_not(None))
            .values(meeting_at=now - timedelta(hours=1))
        )
        db.session.execute(
            update(Round).where(Round.starts_on > last_monday).values(starts_on=last_monday)
        )
        db.session.commit()


def coffee(session):
    """The cross-team coffee, the default programme (made on demand: tables are emptied after
    each test, the migration's row with them)."""
    from matcher.programmes.catalogue import default_programme

    return default_programme(session)


def coffee_member(session, user_id: int):
    """The user's membership of the cross-team coffee (cadence, snooze, left or paused)."""
    from matcher.programmes.members import membership

    return membership(session, coffee(session), user_id)


def published_round(session, monday, *groups, meeting_at=None, programme=None) -> list:
    """A published round of the programme (default: the cross-team coffee) for the week of
    `monday` with these groups of user ids (added and flushed, not committed); its MatchGroup
    rows, in order."""
    from matcher.models import MatchGroup, Membership, Round
    from matcher.programmes.catalogue import default_programme
    from matcher.weeks import week_label

    round_ = Round(
        programme_id=(programme or default_programme(session)).id,
        week=week_label(monday),
        starts_on=monday,
        status="published",
        rules={},
        published_at=datetime.now(UTC).replace(tzinfo=None),
    )
    made = []
    for members in groups:
        group = MatchGroup(round=round_, reasons=[], meeting_at=meeting_at)
        for user_id in members:
            group.memberships.append(Membership(round=round_, user_id=user_id))
        made.append(group)
    session.add(round_)
    session.flush()
    return made


@contextmanager
def recorded(app: Flask) -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    from sqlalchemy import event

    from matcher.extensions import db

    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
