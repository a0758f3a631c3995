"""`flask --app wsgi feedback maintain`: reminders, closing rounds, nudges and pauses."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from matcher.extensions import db
from matcher.feedback.service import maintain

feedback_cli = AppGroup("feedback", help="Feedback reminders and follow-up.")


@feedback_cli.command("maintain")
def maintain_command() -> None:
    """Queue due reminders, close rounds past their window, nudge and pause no-shows."""
    report = maintain(db.session, current_app.config)
    db.session.commit()
    click.echo(
        f"{report.reminders} reminders queued, {report.closed} rounds closed, "
        f"{report.nudged} nudged, {report.paused} paused."
    )
