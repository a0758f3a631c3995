"""`flask --app wsgi programmes ...`: the programmes of the organisation."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import ProgrammeMember
from matcher.programmes.catalogue import all_programmes

programmes_cli = AppGroup("programmes", help="Pairing programmes.")


@programmes_cli.command("list")
def list_command() -> None:
    """One line per programme: slug, name, kind, members (those who have not left)."""
    counts = dict(
        db.session.execute(
            select(ProgrammeMember.programme_id, func.count())
            .where(ProgrammeMember.opted_out.is_(False))
            .group_by(ProgrammeMember.programme_id)
        ).all()
    )
    for programme in all_programmes(db.session):
        state = "  (archived)" if programme.archived else ""
        click.echo(
            f"{programme.slug:20}  {programme.name:30}  {programme.kind:9}  "
            f"{counts.get(programme.id, 0):6} members{state}"
        )
