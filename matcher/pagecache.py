"""Rendered pages kept per person until a table they were read from changes.

Every committed write replaces the version of each table it wrote, in the same transaction
(`data_versions`, one row per table); so do the tables its foreign keys cascade into. A cached
page remembers which tables its statements read and their versions when it was rendered; it
is served again only while all of those versions are unchanged, for at most
PAGE_CACHE_SECONDS (what the clock changes: "today", "next round"). The tables are found in
the SQL itself, so no page declares them and a new query cannot forget to.

The cache lives in each process (a gunicorn worker has its own); the versions live in the
database, so every process sees every other one's writes.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, request, session
from flask.globals import request_ctx
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from matcher.extensions import db

VERSIONS_TABLE = "data_versions"
# The accounts table: its version vouches for a session id of a kept page (see start_recording).
_USERS = "users"
# The first table a statement writes: INSERT [OR ...] INTO t, UPDATE t, DELETE FROM t.
_WRITE = re.compile(
    r'^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)"?(?=[\s(]|$)',
    re.I,
)
_DML = re.compile(r"\b(?:INSERT|UPDATE|DELETE|REPLACE|TRUNCATE|MERGE|COPY)\b", re.I)
_WORD = re.compile(r"\w+")
_READS_OR_SCHEMA = (
    "SELECT", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SHOW", "SET ",
    "CREATE", "DROP", "ALTER", "ANALYZE", "VACUUM", "LOCK", "VALUES",
)  # fmt: skip
_SCHEMA_CHANGES = ("CREATE", "DROP T", "ALTER ")
# conn.info keys: the tables written in this transaction, those rows were deleted from, and
# "do not track" (migrations).
_WRITTEN = "matcher_written_tables"
_DELETED = "matcher_deleted_from_tables"
SKIP_VERSIONS = "matcher_skip_data_versions"
# Every table at once, for a write whose table could not be read from its SQL.
_ALL = "*"
# Query arguments a kept page may have (a page number); any other argument is not kept, so
# made-up addresses cannot fill the cache.
_PAGE_ARG = "page"
_MAX_PAGE = 10_000

# Per engine: its database has the versions table (only a yes is remembered).
_has_versions: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()
# The tables the statements of this request have read (None: not recording).
_reads: ContextVar[set[str] | None] = ContextVar("matcher_page_reads", default=None)


@dataclass(frozen=True)
class Entry:
    """One rendered page: the versions of the tables it read, when, and its UTF-8 body."""

    versions: tuple[tuple[str, int | None], ...]
    body: bytes
    as_tuple: bool
    slice: float = 0.0  # the clock's slice of PAGE_CACHE_SECONDS it was rendered in


class PageCache:
    """A least-recently-used map of pages, bounded by the bytes of their bodies."""

    def __init__(self, max_bytes: int, seconds: int = 60) -> None:
        self.max_bytes = max_bytes
        self.seconds = seconds
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> Entry | None:
        """The entry for key (marked as recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple, entry: Entry) -> None:
        """Store entry, dropping the least recently used pages beyond the size limit."""
        if len(entry.body) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = entry
            self._bytes += len(entry.body)
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)

    def clear(self) -> None:
        """Forget every page."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


def track_writes(engine: Any) -> None:
    """Replace the version of every table a transaction on engine writes, as it commits."""

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, _cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        reads = _reads.get()
        if reads is not None:
            reads.update(_WORD.findall(statement))
        name = written_table(statement)
        if name is not None and name != VERSIONS_TABLE:
            conn.info.setdefault(_WRITTEN, set()).add(name)
            if statement.lstrip()[:6].upper() == "DELETE":
                conn.info.setdefault(_DELETED, set()).add(name)
        elif name is None and statement.lstrip()[:6].upper() in _SCHEMA_CHANGES:
            _has_versions.pop(conn.engine, None)  # the table may have come or gone: ask again

    @event.listens_for(engine, "after_cursor_execute")
    def _autocommitted(conn, _cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        # With AUTOCOMMIT each statement commits by itself and no commit event follows.
        if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            _commit(conn)

    @event.listens_for(engine, "begin")
    @event.listens_for(engine, "rollback")
    def _forget(conn: Connection) -> None:
        # A connection lost mid-transaction (a database restart) is thrown away with its info.
        if not conn.invalidated:
            conn.info.pop(_WRITTEN, None)
            conn.info.pop(_DELETED, None)

    @event.listens_for(engine, "commit")
    def _commit(conn: Connection) -> None:
        written = conn.info.pop(_WRITTEN, None)
        deleted = conn.info.pop(_DELETED, None) or set()
        if not written or conn.info.get(SKIP_VERSIONS):
            return
        if not has_versions_table(conn):
            return  # a database not migrated this far (yet, or any more): nothing to keep
        if _ALL in written:
            written = with_cascades({_ALL})
        bump(conn, written | with_cascades(deleted))


def written_table(statement: str) -> str | None:
    """The table a statement writes ("*" when it cannot tell which), or None for a read."""
    head = statement.lstrip()[:9].upper()
    if head.startswith(_READS_OR_SCHEMA) and ";" not in statement:
        # Schema changes come with a new release (and new processes): they need no versions.
        return None
    match = _WRITE.match(statement)
    if match and ";" not in statement:
        name = match.group(1).lower()
        # Not one of ours ("UPDATE OR IGNORE", a schema name, ONLY): say "every table".
        return name if name in db.metadata.tables else _ALL
    return _ALL if _DML.search(statement) else None


def with_cascades(deleted: set[str]) -> set[str]:
    """Tables rows were deleted from, and every table the database changes when that happens
    (ON DELETE CASCADE / SET NULL, again and again). Keys are never updated here, so ON
    UPDATE never fires."""
    tables = db.metadata.tables
    if _ALL in deleted:
        return set(tables) - {VERSIONS_TABLE}
    found, todo = set(deleted), list(deleted)
    while todo:
        parent = todo.pop()
        for child in _cascading_children().get(parent, ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


_children: dict[str, tuple[str, ...]] = {}


def _cascading_children() -> dict[str, tuple[str, ...]]:
    """Parent table -> the tables whose rows the database changes when a parent row goes."""
    if not _children:
        for table in db.metadata.sorted_tables:
            for key in table.foreign_keys:
                if (key.ondelete or "").upper() in ("CASCADE", "SET NULL", "SET DEFAULT"):
                    parent = key.column.table.name
                    _children[parent] = (*_children.get(parent, ()), table.name)
    return _children


def has_versions_table(conn: Connection) -> bool:
    """Whether the database has the versions table (a yes is remembered per engine)."""
    if _has_versions.get(conn.engine):
        return True
    if conn.dialect.name == "sqlite":
        sql = f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{VERSIONS_TABLE}'"
    else:
        sql = f"SELECT to_regclass('{VERSIONS_TABLE}')"
    row = conn.exec_driver_sql(sql).first()
    # A no is asked again next time: another process may be migrating the database now.
    found = row is not None and row[0] is not None
    if found:
        _has_versions[conn.engine] = True
    return found


def bump(conn: Connection, tables: set[str]) -> None:
    """Give each of tables a new version, in conn's transaction (just before it commits)."""
    token = secrets.randbits(62)
    # Names come from the metadata, so they are safe to write into the SQL; sorted, so two
    # transactions lock the version rows in one order (no deadlock).
    rows = ", ".join(f"('{name}', {token})" for name in sorted(tables))
    # Through the connection (still in its transaction), so a failure is SQLAlchemy's error
    # (a database restarting gets its 503 page, as for any other statement).
    conn.exec_driver_sql(
        f"INSERT INTO {VERSIONS_TABLE} (name, version) VALUES {rows} "
        "ON CONFLICT (name) DO UPDATE SET version = excluded.version"
    )


def read_versions() -> dict[str, int] | None:
    """The current version of every table that has one; None before the versions table."""
    connection = db.session.connection()
    if not has_versions_table(connection):
        return None
    result = connection.exec_driver_sql(f"SELECT name, version FROM {VERSIONS_TABLE}")
    return dict(result.all())


def init_app(app: Flask) -> None:
    """Track writes on the app's database and start recording reads on cached pages."""
    with app.app_context():
        track_writes(db.engine)
    seconds = int(app.config.get("PAGE_CACHE_SECONDS") or 0)
    if seconds <= 0:
        return
    app.extensions["page_cache"] = PageCache(int(app.config["PAGE_CACHE_MAX_BYTES"]), seconds)
    app.extensions["page_cache_marker"] = f"csrf-{secrets.token_hex(16)}".encode()

    @app.before_request
    def start_recording() -> Any:
        # Before anything reads (the user loader included): the versions are read first, so
        # a page is never stored under versions newer than the data it shows.
        view = app.view_functions.get(request.endpoint or "")
        if request.method != "GET" or not getattr(view, "page_cached", False):
            return None
        user_key = session.get("_user_id")
        if not user_key or session.get("_flashes") or not _keepable_address():
            # Nobody logged in (yet: a remember-me cookie), a one-off message to show, or an
            # address with made-up arguments: render it, do not keep it.
            return None
        g.page_versions = versions = read_versions()
        if versions is None:
            return None
        entry = app.extensions["page_cache"].get(_key(user_key))
        if entry is not None and _still_true(entry, versions):
            # Served before the user is loaded: the page was rendered for this session id
            # (user and session token) and `users` has not changed since, so the account is
            # still active, the token still current and the admin flag still the same.
            # (Later request hooks do not run for it: the admin check is one of them.)
            return _serve(entry)
        g.page_reads_token = _reads.set(set())
        return None

    @app.teardown_request
    def stop_recording(_error: BaseException | None) -> None:
        token = g.pop("page_reads_token", None)
        if token is not None:
            _reads.reset(token)


def _keepable_address() -> bool:
    """Whether the query string is at most a sensible page number."""
    extra = set(request.args) - {_PAGE_ARG}
    page = request.args.get(_PAGE_ARG)
    return not extra and (page is None or (page.isdigit() and 0 < int(page) <= _MAX_PAGE))


def _key(user_key: str) -> tuple:
    """A page's cache key: the address and the session id."""
    return (request.endpoint, user_key, request.full_path)


def _slice() -> float:
    """The clock's current slice of PAGE_CACHE_SECONDS."""
    return time.time() // current_app.extensions["page_cache"].seconds


def _still_true(entry: Entry, versions: dict[str, int]) -> bool:
    """Whether the page is of this slice of time and no table it read was written since."""
    return entry.slice == _slice() and all(
        versions.get(name) == version for name, version in entry.versions
    )


def _serve(entry: Entry) -> bytes | tuple[bytes, int]:
    """A kept page, with this session's CSRF token in its forms."""
    cache: PageCache = current_app.extensions["page_cache"]
    cache.hits += 1
    token = generate_csrf().encode()
    body = entry.body.replace(current_app.extensions["page_cache_marker"], token)
    return (body, 200) if entry.as_tuple else body


def cached_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve a logged-in person's GET page from the cache while nothing it read has changed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cache: PageCache | None = current_app.extensions.get("page_cache")
        versions = g.get("page_versions")
        user_key = session.get("_user_id")
        # Kept only for the session id the user loader accepted on this request.
        if (
            cache is None
            or versions is None
            or not current_user.is_authenticated
            or user_key != current_user.get_id()
        ):
            return view(*args, **kwargs)
        now = _slice()
        cache.misses += 1
        result = view(*args, **kwargs)
        if isinstance(result, str):
            body, status, as_tuple = result, 200, False
        elif isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], str):
            (body, status), as_tuple = result, True
        else:
            return result  # a redirect, a response with headers: nothing to keep
        reads = _reads.get()
        # A message flashed while rendering (not before) is in the page too: do not keep it.
        shown = request_ctx.flashes or session.get("_flashes")
        if status == 200 and reads is not None and not shown:
            field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
            token, marker = g.get(field), current_app.extensions["page_cache_marker"]
            stored = body.encode()
            if token:
                stored = stored.replace(token.encode(), marker)
            read = sorted((reads & set(db.metadata.tables)) | {_USERS})
            read_versions_ = tuple((name, versions.get(name)) for name in read)
            cache.put(_key(user_key), Entry(read_versions_, stored, as_tuple, now))
        return result

    wrapper.page_cached = True  # type: ignore[attr-defined]
    return wrapper
