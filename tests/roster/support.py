"""Helpers for the roster tests: files, uploads through the admin pages, table dumps."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from matcher.extensions import db
from matcher.models import OutboxMessage, Profile, ProgrammeMember, Team, User

HEADER = ("name", "email", "team", "manager_email", "office", "time_zone", "join_date",
          "programmes")  # fmt: skip


def roster(*rows: Sequence[str], header: Sequence[str] = HEADER, bom: bool = False) -> bytes:
    """A CSV file with that header and rows (UTF-8, optionally with a byte-order mark)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode()
    return b"\xef\xbb\xbf" + data if bom else data


def upload(
    client: FlaskClient,
    data: bytes,
    overwrite: bool = False,
    invite: bool = True,
    filename: str = "people.csv",
):
    """POST a file to the upload form; the response (a redirect to its preview when good)."""
    form: dict = {"file": (io.BytesIO(data), filename)}
    if overwrite:
        form["overwrite"] = "y"
    if invite:
        form["invite"] = "y"
    return client.post("/admin/roster", data=form, content_type="multipart/form-data")


def preview(client: FlaskClient, data: bytes, **options) -> tuple[str, str]:
    """Upload and open the preview; (its path, its page)."""
    response = upload(client, data, **options)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    path = response.headers["Location"]
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:3000]
    return path, page.get_data(as_text=True)


def import_file(client: FlaskClient, data: bytes, **options) -> str:
    """Upload, preview and apply; the result page."""
    path, _ = preview(client, data, **options)
    applied = client.post(path + "/apply")
    assert applied.status_code == 302, applied.get_data(as_text=True)[:3000]
    return client.get(applied.headers["Location"]).get_data(as_text=True)


def counts_on(page: str) -> dict[str, int]:
    """The summary cards of a preview or result page: {label: number}."""
    found = re.findall(r'<strong class="count">([\d,]+)</strong>\s*([^<]+?)\s*</span>', page)
    return {label.strip(): int(number.replace(",", "")) for number, label in found}


def dump(app: Flask) -> dict[str, list[tuple]]:
    """Every row (every column) of the tables an import writes, to compare before/after."""
    tables = {}
    with app.app_context():
        for model in (User, Profile, Team, ProgrammeMember, OutboxMessage):
            table = model.__table__
            order = list(table.primary_key.columns)
            tables[table.name] = [
                tuple(row) for row in db.session.execute(select(table).order_by(*order))
            ]
        db.session.rollback()
    return tables


def user_by_email(app: Flask, email: str) -> User | None:
    """The account (detached, with its profile and team loaded) or None."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            _ = user.profile, user.team, user.manager
            db.session.expunge_all()
        return user
