"""`flask --app wsgi outbox send|status`: deliver queued messages, see how the outbox does."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from matcher.extensions import db
from matcher.models import OutboxMessage
from matcher.models.people import utcnow
from matcher.notify.sender import send_pending

outbox_cli = AppGroup("outbox", help="Deliver queued emails and chat posts.")


@outbox_cli.command("send")
@click.option(
    "--loop", is_flag=True, help="Keep sending until interrupted (for installs without cron)."
)
@click.option(
    "--interval",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between runs with --loop.",
)
def send_command(loop: bool, interval: float) -> None:
    """Send every message that is due and print what happened."""
    while True:
        try:
            report = send_pending(db.session, current_app.config)
        except SQLAlchemyError as error:
            if not loop:
                raise
            # A database restart must not end a long-running sender: try again next round.
            db.session.rollback()
            click.echo(f"outbox: database error ({type(error).__name__}), retrying", err=True)
        else:
            click.echo(f"outbox: {report}")
        if not loop:
            return
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            return


@outbox_cli.command("status")
def status_command() -> None:
    """Count pending, sent and failed messages and show the oldest pending one."""
    pending = (OutboxMessage.sent_at.is_(None), OutboxMessage.gave_up_at.is_(None))
    count = select(func.count()).select_from(OutboxMessage)
    n_pending = db.session.scalar(count.where(*pending))
    n_retrying = db.session.scalar(count.where(*pending, OutboxMessage.attempts > 0))
    n_sent = db.session.scalar(count.where(OutboxMessage.sent_at.is_not(None)))
    n_failed = db.session.scalar(count.where(OutboxMessage.gave_up_at.is_not(None)))
    oldest = db.session.scalar(select(func.min(OutboxMessage.created_at)).where(*pending))
    click.echo(f"pending: {n_pending} ({n_retrying} after a failed attempt)")
    click.echo(f"sent: {n_sent}")
    click.echo(f"failed (gave up): {n_failed}")
    if oldest is None:
        click.echo("oldest pending: none")
    else:
        minutes = int((utcnow() - oldest).total_seconds() // 60)
        click.echo(f"oldest pending: queued {oldest:%Y-%m-%d %H:%M} UTC ({minutes} min ago)")
