"""The page cache: a person's pages are served again only while nothing they read has changed,
whoever changed it (this process or another, a form, a service, raw SQL), and each session
gets its own CSRF token in a cached page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from matcher import pagecache
from matcher.extensions import db
from matcher.models import DataVersion, User
from tests.programme_pairings import meeting_this_week, publish, this_monday
from tests.support import coffee, login, recorded

CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*(")')


def same_page(html: str) -> str:
    """The page without its CSRF tokens (they differ per session and per second) and with its
    white space collapsed."""
    return re.sub(r"\s+", " ", CSRF_VALUE.sub(r"\1\2", html))


def statements_of(app: Flask, client: FlaskClient, path: str) -> tuple[list[str], str]:
    """The SQL statements one GET runs, and the page."""
    with recorded(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return statements, response.get_data(as_text=True)


@pytest.fixture
def paired(app, make_user) -> dict[str, int]:
    """Ada and Bob meet this week in the cross-team coffee (published)."""
    ids = {
        "ada": make_user(email="ada@example.com", name="Ada Lovelace", team="Payments"),
        "bob": make_user(email="bob@example.com", name="Bob Builder", team="Growth"),
        "cy": make_user(email="cy@example.com", name="Cy Young", team="Search"),
    }
    with app.app_context():
        publish(
            db.session,
            coffee(db.session),
            this_monday(),
            (ids["ada"], ids["bob"]),
            meeting_at=meeting_this_week(),
        )
        db.session.commit()
    return ids


def client_of(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    login(client, f"{name}@example.com")
    return client


def cache_of(app: Flask) -> pagecache.PageCache:
    return app.extensions["page_cache"]


@pytest.mark.parametrize("path", ["/dashboard/", "/me/"])
def test_a_second_visit_reads_only_the_versions(app, paired, path):
    ada = client_of(app, "ada")
    first, page = statements_of(app, ada, path)
    again, cached = statements_of(app, ada, path)
    assert "Bob Builder" in page or path == "/me/"
    assert same_page(cached) == same_page(page)
    # Not even the logged-in user: `users` unchanged vouches for the session (next tests).
    assert len(again) == 1 and "data_versions" in again[0], again
    assert len(first) > len(again)
    assert cache_of(app).hits == 1


def test_a_partners_new_name_shows_at_once(app, paired):
    ada, bob = client_of(app, "ada"), client_of(app, "bob")
    assert "Bob Builder" in ada.get("/dashboard/").get_data(as_text=True)
    form = bob.get("/me/edit")
    assert form.status_code == 200
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == paired["bob"]).values(display_name="Robert Builder")
        )
        db.session.commit()
    page = ada.get("/dashboard/").get_data(as_text=True)
    assert "Robert Builder" in page and "Bob Builder" not in page


def test_a_write_from_another_process_is_seen(app, app_factory, paired):
    """A second app (another gunicorn worker, the CLI) writes: this one's cache follows."""
    ada = client_of(app, "ada")
    assert "Bob Builder" in ada.get("/dashboard/").get_data(as_text=True)
    other = app_factory()
    with other.app_context():
        db.session.get(User, paired["bob"]).display_name = "Bobby Tables"
        db.session.commit()
    assert "Bobby Tables" in ada.get("/dashboard/").get_data(as_text=True)


def test_raw_sql_writes_are_seen_and_rolled_back_ones_change_nothing(app, paired):
    ada = client_of(app, "ada")
    ada.get("/dashboard/")
    with app.app_context():
        before = dict(db.session.execute(select(DataVersion.name, DataVersion.version)).all())
        db.session.execute(
            text("UPDATE users SET display_name = 'Nobody' WHERE id = :id"), {"id": paired["bob"]}
        )
        db.session.rollback()
        after_rollback = dict(
            db.session.execute(select(DataVersion.name, DataVersion.version)).all()
        )
        assert after_rollback == before
        db.session.execute(
            text("UPDATE users SET display_name = 'Raw Bob' WHERE id = :id"), {"id": paired["bob"]}
        )
        db.session.commit()
        after = dict(db.session.execute(select(DataVersion.name, DataVersion.version)).all())
    assert after["users"] != before["users"]
    assert {name for name in after if after[name] != before.get(name)} == {"users"}
    assert "Raw Bob" in ada.get("/dashboard/").get_data(as_text=True)


def test_a_page_with_a_message_is_not_kept(app, paired):
    ada = client_of(app, "ada")
    ada.get("/dashboard/")
    response = ada.post("/dashboard/skip", data={"programme": "coffee"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "You will skip your next round" in page
    again = ada.get("/dashboard/").get_data(as_text=True)
    assert "You will skip your next round" not in again
    assert same_page(again) == same_page(page.replace(_flash(page), ""))


def _flash(page: str) -> str:
    found = re.search(r'\s*<p class="flash[^"]*" role="status">.*?</p>', page, re.S)
    assert found
    return found.group(0)


def test_the_clock_ends_a_cached_page(app, paired, monkeypatch):
    """At most PAGE_CACHE_SECONDS old: "today" and "next round" follow the clock."""
    now = [1_000_000.0 * app.config["PAGE_CACHE_SECONDS"]]

    class Clock:
        @staticmethod
        def time() -> float:
            return now[0]

    monkeypatch.setattr(pagecache, "time", Clock)
    ada = client_of(app, "ada")
    cache = cache_of(app)
    ada.get("/dashboard/")
    now[0] += app.config["PAGE_CACHE_SECONDS"] - 1
    ada.get("/dashboard/")
    assert (cache.hits, cache.misses) == (1, 1)
    now[0] += 1
    ada.get("/dashboard/")
    assert (cache.hits, cache.misses) == (1, 2)


def test_each_session_gets_its_own_csrf_token(app_factory, paired):
    app = app_factory(WTF_CSRF_ENABLED=True)
    tokens = []
    for _ in range(2):
        client = app.test_client()
        page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        form = {
            "csrf_token": token,
            "email": "ada@example.com",
            "password": "correct horse battery",
        }
        assert client.post("/auth/login", data=form).status_code == 302
        dashboard = client.get("/dashboard/").get_data(as_text=True)
        tokens.append((client, re.search(r'name="csrf_token"[^>]*value="([^"]+)"', dashboard)))
    assert cache_of(app).hits == 1  # the second session's page came from the cache
    (first, one), (second, two) = tokens
    assert one.group(1) != two.group(1)
    assert app.extensions["page_cache_marker"] not in second.get("/dashboard/").get_data()
    # The cached page's token is the second session's own: the form it sits in works.
    response = second.post(
        "/dashboard/skip", data={"csrf_token": two.group(1), "programme": "coffee"}
    )
    assert response.status_code == 302
    with second.session_transaction() as session:
        assert ("ok",) == tuple(c for c, _ in session["_flashes"])


def test_the_admin_pages_follow_feedback_and_publishing(app, paired, make_user, client):
    make_user(email="root@example.com", name="Root Admin", team="Admins", is_admin=True)
    login(client, "root@example.com")
    first = client.get("/admin/insights").get_data(as_text=True)
    with app.app_context():
        publish(
            db.session,
            coffee(db.session),
            this_monday() - timedelta(days=7),
            (paired["ada"], paired["cy"]),
        )
        db.session.commit()
    second = client.get("/admin/insights").get_data(as_text=True)
    assert same_page(second) != same_page(first)
    fresh = app.test_client()
    login(fresh, "root@example.com")
    app.extensions["page_cache"] = pagecache.PageCache(10**6)  # an empty cache: a fresh render
    assert same_page(fresh.get("/admin/insights").get_data(as_text=True)) == same_page(second)


def test_the_cache_can_be_turned_off(app_factory, paired):
    app = app_factory(PAGE_CACHE_SECONDS=0)
    assert "page_cache" not in app.extensions
    ada = client_of(app, "ada")
    first, _ = statements_of(app, ada, "/dashboard/")
    again, _ = statements_of(app, ada, "/dashboard/")
    assert len(again) == len(first) > 2


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("SELECT * FROM users", None),
        ("  select 1", None),
        ("INSERT INTO users (email) VALUES (?)", "users"),
        ('INSERT INTO "users" (email) VALUES (%s) RETURNING id', "users"),
        ("INSERT OR IGNORE INTO teams (name) VALUES (?)", "teams"),
        ("UPDATE profiles SET timezone=? WHERE id = ?", "profiles"),
        ("DELETE FROM feedback WHERE id = ?", "feedback"),
        ("WITH gone AS (SELECT id FROM users) DELETE FROM profiles", "*"),
        ("WITH recent AS (SELECT id FROM rounds) SELECT * FROM recent", None),
        ("TRUNCATE teams, users", "*"),
        ("CREATE TABLE x (id integer)", None),
        ("SAVEPOINT sa_savepoint_1", None),
        ('DELETE FROM "users"', "users"),
        ("INSERT INTO teams(name) VALUES (?)", "teams"),
        ("UPDATE OR IGNORE teams SET name = ?", "*"),
        ("INSERT INTO public.teams (name) VALUES (%s)", "*"),
        ("UPDATE ONLY teams SET name = %s", "*"),
        ("SELECT 1; DELETE FROM teams", "*"),
        ("EXPLAIN ANALYZE UPDATE teams SET name = 'x'", "*"),
        ("EXPLAIN SELECT * FROM teams", None),
    ],
)
def test_the_table_a_statement_writes(statement, table):
    assert pagecache.written_table(statement) == table


def test_the_cache_keeps_the_most_recent_pages_within_its_size():
    cache = pagecache.PageCache(max_bytes=10)
    for key in "abc":
        cache.put((key,), pagecache.Entry((), b"x" * 4, as_tuple=False))
    assert cache.get(("a",)) is None and len(cache) == 2
    cache.get(("b",))
    cache.put(("d",), pagecache.Entry((), b"y" * 4, as_tuple=False))
    assert cache.get(("b",)) is not None and cache.get(("c",)) is None
    cache.put(("big",), pagecache.Entry((), b"z" * 11, as_tuple=False))
    assert cache.get(("big",)) is None


def test_a_page_that_flashes_while_rendering_is_not_kept(app, paired):
    from flask import flash, render_template_string

    @app.get("/test-only/notice")
    @pagecache.cached_page
    def notice() -> str:
        flash("Only this once.", "ok")
        return render_template_string(
            "{% for c, m in get_flashed_messages(with_categories=true) %}{{ m }}{% endfor %}"
        )

    ada = client_of(app, "ada")
    assert ada.get("/test-only/notice").get_data(as_text=True) == "Only this once."
    assert ada.get("/test-only/notice").get_data(as_text=True) == "Only this once."
    assert cache_of(app).hits == 0 and len(cache_of(app)) == 0


def test_a_session_ended_elsewhere_gets_no_kept_page(app, paired):
    """Log-out everywhere rotates the session token: the old session's cached page is gone."""
    from matcher.models import User

    ada, other = client_of(app, "ada"), client_of(app, "ada")
    assert ada.get("/dashboard/").status_code == 200
    assert other.get("/dashboard/").status_code == 200  # from the cache
    with app.app_context():
        db.session.get(User, paired["ada"]).session_token = "rotated"
        db.session.commit()
    for client in (ada, other):
        response = client.get("/dashboard/")
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_an_admin_no_more_gets_no_kept_admin_page(app, paired, make_user, client):
    root = make_user(email="root@example.com", name="Root Admin", team="Admins", is_admin=True)
    login(client, "root@example.com")
    assert client.get("/admin/insights").status_code == 200
    assert client.get("/admin/insights").status_code == 200
    assert cache_of(app).hits == 1
    with app.app_context():
        db.session.get(User, root).is_admin = False
        db.session.commit()
    assert client.get("/admin/insights").status_code == 403


def test_a_deleted_parent_versions_the_rows_the_database_cascades_into():
    """Deleting a team nulls users.team_id in the database itself: users is versioned too."""
    tables = pagecache.with_cascades({"teams"})
    assert {"teams", "users"} <= tables
    assert "outbox" not in pagecache.with_cascades({"feedback"})
    assert pagecache.with_cascades({"*"}) >= {"users", "teams", "feedback"}


def test_made_up_query_arguments_are_not_kept(app, paired):
    ada = client_of(app, "ada")
    for k in range(3):
        assert ada.get(f"/dashboard/?junk={k}").status_code == 200
    assert ada.get("/dashboard/?page=999999999999").status_code == 200
    assert len(cache_of(app)) == 0
    ada.get("/dashboard/")
    assert len(cache_of(app)) == 1


def test_writes_on_an_autocommit_connection_are_versioned(app, paired):
    from sqlalchemy import update as update_

    with app.app_context():
        before = dict(db.session.execute(select(DataVersion.name, DataVersion.version)).all())
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(update_(User).where(User.id == paired["bob"]).values(display_name="Auto"))
        after = dict(db.session.execute(select(DataVersion.name, DataVersion.version)).all())
    assert after["users"] != before["users"]


def test_a_database_before_the_versions_table_is_served_uncached(app_factory, paired):
    """A process that met the database before migration 0010 keeps asking (no stale no)."""
    app = app_factory()
    with app.app_context():
        db.session.execute(text("ALTER TABLE data_versions RENAME TO data_versions_away"))
        db.session.commit()
    try:
        ada = client_of(app, "ada")
        assert ada.get("/dashboard/").status_code == 200
        assert ada.get("/dashboard/").status_code == 200
        assert cache_of(app).hits == 0
    finally:
        with app.app_context():
            db.session.execute(text("ALTER TABLE data_versions_away RENAME TO data_versions"))
            db.session.commit()
    assert ada.get("/dashboard/").status_code == 200
    assert ada.get("/dashboard/").status_code == 200
    assert cache_of(app).hits == 1
