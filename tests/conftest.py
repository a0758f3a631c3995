"""Shared fixtures: a real database per backend (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support import (
    BACKENDS,
    MEMBER_PASSWORD,
    PG_ADMIN_URL,
    empty_tables,
    login,
    make_app,
    migrate,
    pg_reachable,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-offset-days",
        type=int,
        default=0,
        help="run with this process's clock moved this many days ahead (time-machine); "
        "tests marked real_clock start other processes, which keep the real clock",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_clock(why): starts other processes, which keep the real clock"
    )
    config.addinivalue_line("markers", "postgresql: runs on the PostgreSQL backend")
    config.addinivalue_line(
        "markers",
        "sqlite_only(why): input handling that stores nothing (a refusal, a 400/404, a redirect): "
        "its PostgreSQL run is left out",
    )
    config.addinivalue_line(
        "markers", "clock_free(why): reads no wall clock: left out of the year-ahead pass"
    )
    days = config.getoption("--clock-offset-days")
    if days:
        import time_machine

        # Started before collection, so module-level "now"s are already in the future;
        # tick=True lets time pass as it does for real.
        traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


# The pure matching engine (matcher/matching) reads no wall clock: only time.perf_counter, for
# its time budget, which time-machine does not move. Its tests (numbers in, numbers out, with
# fixed dates) would run the same a year ahead, so that pass leaves them out.
CLOCK_FREE_DIRS = {Path(__file__).parent / "matching"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    left_out = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        if item.get_closest_marker("sqlite_only") and "backend" not in getattr(
            callspec, "params", {}
        ):
            # A mark that changed nothing would only mislead its reader.
            raise pytest.UsageError(f"{item.nodeid}: sqlite_only, but it runs on no backend")
        if callspec is not None and callspec.params.get("backend") == "postgresql":
            item.add_marker(pytest.mark.postgresql)
            # Refusals and other input handling that stores nothing behave the same on both
            # backends: SQLite alone runs them (the marks say why, test by test).
            if item.get_closest_marker("sqlite_only"):
                left_out.append(item)
        if CLOCK_FREE_DIRS.intersection(item.path.parents):
            item.add_marker(pytest.mark.clock_free("the pure matching engine"))
    if config.getoption("--clock-offset-days"):
        # Other processes keep the real clock; clock-free tests would run the same.
        left_out += [
            item
            for item in items
            if item.get_closest_marker("real_clock") or item.get_closest_marker("clock_free")
        ]
    if left_out:
        dropped = set(left_out)
        config.hook.pytest_deselected(items=[item for item in items if item in dropped])
        items[:] = [item for item in items if item not in dropped]


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [f"matcher: PostgreSQL tests use {PG_ADMIN_URL} (set TEST_DATABASE_URL to change)"]
    days = config.getoption("--clock-offset-days")
    if days:
        lines.append(
            f"matcher: the clock runs {days} days ahead ({datetime.now(UTC):%Y-%m-%d}); "
            "real_clock tests (other processes) and clock_free ones are deselected"
        )
    return lines


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A throwaway database per backend for this test run, dropped at the end."""
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"}
    created: str | None = None
    if pg_reachable() is None:
        import psycopg

        created = f"matcher_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{created}"')
        base, _, _ = PG_ADMIN_URL.rpartition("/")
        urls["postgresql"] = f"{base}/{created}"
    yield urls
    if created:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    """The database backend under test; PostgreSQL is skipped, saying why, when unreachable."""
    if request.param not in database_urls:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {pg_reachable()}")
    return request.param


@pytest.fixture
def app_factory(backend: str, database_urls: dict[str, str], tmp_path: Path):
    """Build apps on the backend under test; tables are emptied after the test."""
    made: list[Flask] = []

    def build(**overrides: object) -> Flask:
        app = make_app(database_urls[backend], tmp_path / "instance", **overrides)
        migrate(app)
        made.append(app)
        return app

    yield build
    if made:
        empty_tables(made[0])


@pytest.fixture
def app(app_factory) -> Flask:
    """The app on the backend under test."""
    return app_factory()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask):
    """Create a participant (committed) and return its id."""
    from matcher.auth.service import register_user
    from matcher.extensions import db
    from matcher.profile.service import ProfileData, Slot

    def create(
        email: str = "ada@example.com",
        name: str = "Ada Lovelace",
        team: str = "Payments",
        password: str = MEMBER_PASSWORD,
        is_admin: bool = False,
        **profile: object,
    ) -> int:
        data = ProfileData(
            team=team,
            projects=tuple(profile.pop("projects", ("Checkout",))),
            interests=tuple(profile.pop("interests", ("Rust", "Climbing"))),
            availability=(Slot(0, 600, 960),),
            **profile,
        )
        with app.app_context():
            user = register_user(db.session, name, email, password, data, is_admin=is_admin)
            db.session.commit()
            return user.id

    return create


@pytest.fixture
def admin(make_user, client: FlaskClient) -> int:
    """An admin in their own team ("Admins"), logged in on `client`; returns the id."""
    user_id = make_user(email="root@example.com", name="Root Admin", team="Admins", is_admin=True)
    login(client, "root@example.com")
    return user_id
