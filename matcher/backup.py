"""Whole-database backup as one JSON document: `flask --app wsgi export` and `... import`.

The document is backend-neutral (export from SQLite, import into PostgreSQL and back): every
table of the models in dependency order, dates and datetimes as ISO strings, JSON columns as
they are. Import only fills an empty database at the same migration revision, in one
transaction, so a failed import leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import IO, Any

import click
from flask.cli import with_appcontext
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Table,
    Time,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from matcher.extensions import db
from matcher.pagecache import VERSIONS_TABLE

FORMAT = "matcher-backup"
VERSION = 1


class BackupError(Exception):
    """The backup cannot be imported here; the message says why in one line."""


def tables() -> list[Table]:
    """Every table of the models, parents before children (not the page cache's versions)."""
    return [table for table in db.metadata.sorted_tables if table.name != VERSIONS_TABLE]


def current_revision(session: Session) -> str | None:
    """The Alembic revision the database is at, or None when it was never migrated."""
    # Asked first: on PostgreSQL a failed SELECT would abort the whole transaction.
    if not inspect(session.connection()).has_table("alembic_version"):
        return None
    return session.scalar(text("SELECT version_num FROM alembic_version"))


def _json_default(value: Any) -> str:
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to a backup")


def _begin_snapshot(session: Session) -> None:
    """Make every following read of this transaction see one consistent state."""
    if db.engine.dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        # pysqlite opens no transaction for reads, so each SELECT would see a newer state;
        # an explicit BEGIN makes SQLite (in WAL mode) keep one snapshot for all of them.
        session.connection().exec_driver_sql("BEGIN")


def export_chunks(session: Session) -> Iterator[str]:
    """The backup document in pieces, one row per piece, read in one snapshot."""
    _begin_snapshot(session)
    revision = current_revision(session)
    if revision is None:
        raise BackupError("the database has no alembic_version: run `flask db upgrade` first")
    header = json.dumps(
        {
            "format": FORMAT,
            "version": VERSION,
            "alembic_revision": revision,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    # Rows are streamed, so the header is written without its closing brace.
    yield header[:-1] + ', "tables": {'
    for index, table in enumerate(tables()):
        yield ("," if index else "") + f"\n{json.dumps(table.name)}: ["
        names = [column.name for column in table.columns]
        rows = session.execute(select(table).order_by(*table.primary_key.columns))
        for number, row in enumerate(rows):
            record = dict(zip(names, row, strict=True))
            yield ("," if number else "") + "\n" + json.dumps(record, default=_json_default)
        yield "]"
    yield "\n}}\n"


def _convert(table: Table, number: int, row: Any) -> dict[str, Any]:
    """A row of the document as insert parameters: ISO strings back to dates and datetimes."""
    names = [column.name for column in table.columns]
    if not isinstance(row, dict) or set(row) != set(names):
        raise BackupError(f"{table.name} row {number}: its columns do not match this database's")
    values = {}
    for column in table.columns:
        value = row[column.name]
        try:
            if value is not None and isinstance(column.type, DateTime):
                value = datetime.fromisoformat(value)
            elif value is not None and isinstance(column.type, Date):
                value = date.fromisoformat(value)
            elif value is not None and isinstance(column.type, Time):
                value = time.fromisoformat(value)
        except (TypeError, ValueError):
            raise BackupError(
                f"{table.name} row {number}: {column.name} is not an ISO date: {value!r}"
            ) from None
        values[column.name] = value
    return values


def parse_backup(raw: bytes) -> dict[str, Any]:
    """The parsed document, checked to be a matcher backup of this format version."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as bad:
        raise BackupError(f"not valid JSON: {bad}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError('not a matcher backup (no "format": "matcher-backup")')
    if document.get("version") != VERSION:
        raise BackupError(f"unsupported backup version {document.get('version')!r}")
    if not isinstance(document.get("tables"), dict):
        raise BackupError("not a matcher backup (no tables)")
    expected = {table.name for table in tables()}
    found = set(document["tables"])
    if found != expected:
        missing, extra = sorted(expected - found), sorted(found - expected)
        raise BackupError(f"tables do not match this database: missing {missing}, extra {extra}")
    for name, rows in document["tables"].items():
        if not isinstance(rows, list):
            raise BackupError(f"table {name} is not a list of rows")
    return document


def _lock_for_import(session: Session) -> None:
    """Keep other writers out between the emptiness check and the inserts."""
    if db.engine.dialect.name == "postgresql":
        preparer = db.engine.dialect.identifier_preparer
        names = ", ".join(preparer.format_table(table) for table in tables())
        session.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
    else:
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def _insert_statement(table: Table) -> Any:
    """A bulk insert that stores None as SQL NULL in nullable JSON columns, as the app does."""
    # A plain JSON column writes None as the JSON text 'null'; NOT NULL JSON columns need that.
    overrides = {
        column.name: bindparam(column.name, type_=JSON(none_as_null=True))
        for column in table.columns
        if isinstance(column.type, JSON) and column.nullable
    }
    statement = insert(table)
    return statement.values(overrides) if overrides else statement


def reset_sequences(session: Session) -> None:
    """PostgreSQL: move every serial sequence past the imported ids, so new rows get new ids."""
    if db.engine.dialect.name != "postgresql":
        return  # SQLite hands out max(rowid) + 1 by itself
    preparer = db.engine.dialect.identifier_preparer
    for table in tables():
        column = table.autoincrement_column
        if column is None:
            continue
        quoted_table, quoted_column = preparer.format_table(table), preparer.quote(column.name)
        # is_called false with max + 1: the next nextval() returns max + 1 (1 on an empty table).
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"coalesce(max({quoted_column}), 0) + 1, false) FROM {quoted_table}"
            ),
            {"table": quoted_table, "column": column.name},
        )


def _only_the_first_programme(session: Session, filled: list[Table]) -> bool:
    """True when the one row in the database is the programme a fresh migration makes."""
    if [table.name for table in filled] != ["programmes"]:
        return False
    return session.scalar(select(func.count()).select_from(filled[0])) == 1


def import_backup(session: Session, document: dict[str, Any]) -> dict[str, int]:
    """Insert a parsed backup into this empty database (not committed); rows per table."""
    _lock_for_import(session)
    revision = current_revision(session)
    if revision is None:
        raise BackupError("the database has no alembic_version: run `flask db upgrade` first")
    if revision != document.get("alembic_revision"):
        raise BackupError(
            f"the backup is at revision {document.get('alembic_revision')!r} but this "
            f"database is at {revision!r}: migrate to the same revision first"
        )
    filled = [
        table
        for table in tables()
        if session.execute(select(1).select_from(table).limit(1)).first() is not None
    ]
    if _only_the_first_programme(session, filled):
        # `db upgrade` made the programme every database has; the backup brings its own.
        session.execute(delete(filled[0]))
    elif filled:
        raise BackupError(f"the database is not empty (table {filled[0].name} has rows)")
    counts = {}
    for table in tables():
        rows = [
            _convert(table, number, row)
            for number, row in enumerate(document["tables"][table.name], 1)
        ]
        # A table that refers to itself (users.manager_id): rows go in without those
        # references, which are set once every row exists.
        later = _self_references(table, rows)
        if rows:
            session.execute(_insert_statement(table), rows)
        for column, params in later.items():
            (key,) = table.primary_key.columns
            statement = (
                update(table).where(key == bindparam("_key")).values({column: bindparam("_value")})
            )
            session.execute(statement, params)
        counts[table.name] = len(rows)
    reset_sequences(session)
    return counts


def _self_references(table: Table, rows: list[dict[str, Any]]) -> dict[str, list[dict]]:
    """Take the values of columns that refer to the table itself out of rows (in place);
    returns, per column, the (key, value) parameters to set them after the insert."""
    columns = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    if not columns:
        return {}
    (key,) = table.primary_key.columns
    later: dict[str, list[dict]] = {}
    for row in rows:
        for name in columns:
            if row.get(name) is not None:
                later.setdefault(name, []).append({"_key": row[key.name], "_value": row[name]})
                row[name] = None
    return later


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(2)


@click.command("export")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write."
)
@with_appcontext
def export_command(output: Path | None) -> None:
    """Write the whole database as one JSON document (to stdout without -o)."""
    try:
        if output is None:
            stream = sys.stdout.buffer
            for chunk in export_chunks(db.session):
                stream.write(chunk.encode())
            stream.flush()
            return
        # Written beside the target and renamed at the end: a failed export leaves no torn file.
        handle, partial = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
        try:
            with os.fdopen(handle, "wb") as file:
                _write(file, export_chunks(db.session))
            os.replace(partial, output)
        except BaseException:
            os.unlink(partial)
            raise
    except BackupError as error:
        _fail(str(error))
    finally:
        db.session.rollback()
    click.echo(f"Exported {len(tables())} tables to {output}")


def _write(file: IO[bytes], chunks: Iterator[str]) -> None:
    for chunk in chunks:
        file.write(chunk.encode())


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_command(file: Path) -> None:
    """Load a backup from `export` into an empty, migrated database (all or nothing)."""
    try:
        counts = import_backup(db.session, parse_backup(file.read_bytes()))
        db.session.commit()
    except BackupError as error:
        db.session.rollback()
        _fail(str(error))
        return
    except DBAPIError as error:
        db.session.rollback()
        first_line = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise click.ClickException(f"the database refused the backup: {first_line}") from None
    click.echo(f"Imported {sum(counts.values())} rows into {len(counts)} tables from {file}")
