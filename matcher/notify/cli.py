"""`flask --app wsgi outbox send|status`: deliver queued messages, see how the outbox does."""

from __future__ import annotations

import subprocess
import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo
from sqlalchemy.exc import SQLAlchemyError

from matcher.extensions import db
from matcher.models.people import utcnow
from matcher.notify.sender import send_pending
from matcher.notify.status import delivery, outbox_counts

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
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Senders to run side by side; the number of CPU cores is the fast setting.",
)
def send_command(loop: bool, interval: float, processes: int) -> None:
    """Send every message that is due and print what happened.

    With --processes N, N-1 more `flask outbox send` processes run beside this one; the
    claiming UPDATE gives each message to exactly one of them.
    """
    workers = _start_workers(processes - 1, loop, interval)
    try:
        _send(loop, interval)
    finally:
        failed = _wait(workers)
    if failed:
        raise click.ClickException(f"{failed} of {len(workers)} extra sender(s) failed")


def _start_workers(count: int, loop: bool, interval: float) -> list[subprocess.Popen[bytes]]:
    if count < 1:
        return []
    app_path = click.get_current_context().ensure_object(ScriptInfo).app_import_path
    if not app_path:
        raise click.UsageError("--processes above 1 needs the app given with --app")
    command = [sys.executable, "-m", "flask", "--app", app_path, "outbox", "send"]
    if loop:
        command += ["--loop", "--interval", str(interval)]
    # Same interpreter, same environment (MATCHER_* settings included), same output.
    return [subprocess.Popen(command) for _ in range(count)]


def _wait(workers: list[subprocess.Popen[bytes]]) -> int:
    failed = 0
    for worker in workers:
        try:
            code = worker.wait()
        except KeyboardInterrupt:
            # Ctrl-C reaches the workers too; wait for them to stop rather than orphan them.
            code = worker.wait()
        failed += code != 0
    return failed


def _send(loop: bool, interval: float) -> None:
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
    counts = outbox_counts(db.session)
    click.echo(f"pending: {counts.pending} ({counts.retrying} after a failed attempt)")
    click.echo(f"sent: {counts.sent}")
    click.echo(f"failed (gave up): {counts.failed}")
    if counts.oldest_pending is None:
        click.echo("oldest pending: none")
    else:
        oldest = counts.oldest_pending
        minutes = int((utcnow() - oldest).total_seconds() // 60)
        click.echo(f"oldest pending: queued {oldest:%Y-%m-%d %H:%M} UTC ({minutes} min ago)")
    route = delivery(current_app.config, current_app.instance_path, in_app=False)
    click.echo(route.where)
