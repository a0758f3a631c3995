"""`flask --app wsgi rounds ...`: run a week's round from cron, or keep a scheduler running."""

from __future__ import annotations

import time as clock
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from matcher.extensions import db
from matcher.models import Round
from matcher.rounds import erasure, programme, publishing
from matcher.transaction import commit_steps
from matcher.weeks import WeekError, parse_week, week_label

rounds_cli = AppGroup("rounds", help="Compute and publish weekly rounds.")


def _checked_week(week: str | None) -> str:
    if week is None:
        return programme.current_week()
    try:
        return week_label(parse_week(week))
    except WeekError as bad:
        raise click.BadParameter(str(bad), param_hint="--week") from None


def run_and_commit(week: str, publish: bool, dry_run: bool) -> publishing.RunOutcome | None:
    """Run one week's round in its own transaction; a lost race reports the winner's round."""
    try:
        outcome = publishing.run_round(db.session, week, publish=publish, dry_run=dry_run)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        return outcome
    except publishing.RoundExists as exists:
        db.session.rollback()
        click.echo(f"A round for {week} was created by another run ({exists.round.status}).")
        return None
    except (IntegrityError, OperationalError) as lost:
        # Another process stored the same week first (unique week) or held the lock:
        # everything of ours is rolled back, nothing half-written remains.
        db.session.rollback()
        existing = publishing.find_round(db.session, week)
        if existing is None:
            raise click.ClickException(f"could not store the round: {lost.orig}") from None
        click.echo(f"A round for {week} was created by another run ({existing.status}).")
        return None


@rounds_cli.command("run")
@click.option("--week", help="ISO week such as 2026-W49 (default: the current week).")
@click.option("--dry-run", is_flag=True, help="Compute and report; store nothing.")
@click.option("--publish", is_flag=True, help="Publish at once: queue the emails.")
def run_command(week: str | None, dry_run: bool, publish: bool) -> None:
    """Compute the round of a week (a draft, or published with --publish); safe to repeat."""
    label = _checked_week(week)
    outcome = run_and_commit(label, publish=publish, dry_run=dry_run)
    if outcome is None:
        return
    click.echo(outcome.message)
    if outcome.plan is not None and outcome.plan.excluded:
        left_out = ", ".join(f"{n} {why}" for why, n in sorted(outcome.plan.excluded.items()))
        click.echo(f"Not in this round: {left_out}.")
    if outcome.plan is not None:
        for user_id, reason in outcome.plan.unmatched:
            click.echo(f"Unmatched: user {user_id}: {reason}")


@rounds_cli.command("list")
@click.option("--limit", default=12, show_default=True)
def list_command(limit: int) -> None:
    """The latest rounds with their status and size."""
    rounds = db.session.scalars(select(Round).order_by(Round.starts_on.desc()).limit(limit))
    for round_ in rounds:
        click.echo(
            f"{round_.week}  {round_.status:9}  {len(round_.groups):5} groups  "
            f"{round_.participant_count:6} people  score {round_.total_score:.1f}"
        )


def scheduler_tick(now: datetime) -> str | None:
    """Publish this week's round once its scheduled time has passed; returns what happened."""
    settings = programme.programme_settings(db.session)
    week = programme.due_week(settings, now)
    if week is None:
        return None
    existing = publishing.find_round(db.session, week)
    if existing is not None and existing.status != "draft":
        return None
    outcome = run_and_commit(week, publish=True, dry_run=False)
    return outcome.message if outcome else None


@rounds_cli.command("scheduler")
@click.option("--interval", default=60, show_default=True, help="Seconds between checks.")
@click.option("--once", is_flag=True, help="Check once and exit (for testing).")
def scheduler_command(interval: int, once: bool) -> None:
    """Run rounds on the schedule from the admin settings, and send the outbox; no cron needed."""
    from matcher.feedback.service import maintain
    from matcher.notify.sender import send_pending

    click.echo("matcher scheduler running; Ctrl-C to stop.")
    while True:
        now = datetime.now(UTC)
        message = scheduler_tick(now)
        if message:
            click.echo(f"{now:%Y-%m-%d %H:%M} {message}")
        follow_up = maintain(db.session, current_app.config)
        db.session.commit()
        if follow_up.reminders or follow_up.closed:
            click.echo(f"{now:%Y-%m-%d %H:%M} feedback: {follow_up}")
        # A slice of each minute for deleted accounts still in stored round problems.
        erased = commit_steps(db.session, erasure.erase_next_snapshot, min(20.0, interval / 3))
        if erased:
            click.echo(f"{now:%Y-%m-%d %H:%M} erasure: {erased} round snapshots")
        report = send_pending(db.session, current_app.config)
        if report.sent or report.retried or report.gave_up:
            click.echo(f"{now:%Y-%m-%d %H:%M} outbox: {report}")
        db.session.remove()
        if once:
            return
        clock.sleep(interval)
