"""`flask --app wsgi feedback maintain`: reminders, closing rounds, nudges, pauses, erasures."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from matcher.extensions import db
from matcher.feedback.service import maintain
from matcher.rounds.erasure import erase_next_snapshot
from matcher.transaction import commit_steps

feedback_cli = AppGroup("feedback", help="Feedback reminders and follow-up.")


@feedback_cli.command("maintain")
def maintain_command() -> None:
    """Queue due reminders, close rounds past their window, nudge and pause no-shows."""
    report = maintain(db.session, current_app.config)
    db.session.commit()
    # Daily housekeeping: deleted accounts still to be erased from stored round problems.
    erased = commit_steps(db.session, erase_next_snapshot, seconds=600)
    click.echo(
        f"{report.reminders} reminders queued, {report.closed} rounds closed, "
        f"{report.nudged} nudged, {report.paused} paused, {erased} round snapshots erased."
    )
