"""`flask users import FILE.csv [--dry-run] [--overwrite] [--no-invite]`: the roster import
from the command line, with the same problems and counts as the admin page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from matcher.extensions import db
from matcher.roster.csvfile import MAX_BYTES
from matcher.roster.imports import STATUSES, run


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; save nothing.")
@click.option(
    "--overwrite", is_flag=True, help="Overwrite what people edited themselves since an import."
)
@click.option("--no-invite", is_flag=True, help="Send no invitation to new people.")
@with_appcontext
def import_roster(path: Path, dry_run: bool, overwrite: bool, no_invite: bool) -> None:
    """Create or update people from a roster CSV file (see docs/roster.md); exit code 1 and
    nothing saved when any row has a problem."""
    with path.open("rb") as source:
        data = source.read(MAX_BYTES * 10 + 1)
    if len(data) > MAX_BYTES * 10:
        raise click.ClickException(f"{path} is larger than {MAX_BYTES * 10 // 2**20} MB.")
    try:
        report = run(
            db.session,
            data,
            today=datetime.now(UTC).date(),
            overwrite=overwrite,
            invite=not no_invite,
            apply=not dry_run,
        )
        if report.applied:
            db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise click.ClickException(
            "someone added some of these people at the same moment; nothing was saved: "
            "run the import again"
        ) from None
    for problem in report.every_problem():
        click.echo(f"{path.name}: {problem}", err=True)
    counts = report.counts()
    summary = ", ".join(f"{counts[key]:,} {label}" for key, label in STATUSES.items())
    if report.applied:
        click.echo(
            f"Imported {len(report.rows):,} rows: {summary}; "
            f"{report.invitations:,} invitations queued."
        )
        return
    verb = "Would import" if report.ok else "Nothing imported:"
    click.echo(f"{verb} {len(report.rows):,} rows: {summary}.")
    if not report.ok:
        raise SystemExit(1)
