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
from matcher.models import Programme, Round
from matcher.programmes import catalogue, schedule
from matcher.rounds import erasure, publishing
from matcher.transaction import commit_steps
from matcher.weeks import WeekError, parse_week, week_label

rounds_cli = AppGroup("rounds", help="Compute and publish weekly rounds.")


def _checked_week(week: str) -> str:
    try:
        return week_label(parse_week(week))
    except WeekError as bad:
        raise click.BadParameter(str(bad), param_hint="--week") from None


def _checked_programme(slug: str) -> Programme:
    found = catalogue.by_slug(db.session, slug)
    if found is None:
        known = ", ".join(p.slug for p in catalogue.all_programmes(db.session)) or "none"
        raise click.BadParameter(
            f"no programme {slug!r} (known: {known})", param_hint="--programme"
        )
    if found.archived:
        raise click.BadParameter(f"{found.name} is archived", param_hint="--programme")
    return found


def run_and_commit(
    programme_id: int, week: str, publish: bool, dry_run: bool
) -> publishing.RunOutcome | None:
    """Run one programme-week's round in its own transaction; a lost race reports the
    winner's round."""
    programme = db.session.get(Programme, programme_id)
    assert programme is not None
    try:
        outcome = publishing.run_round(
            db.session, programme, week, publish=publish, dry_run=dry_run
        )
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
        programme = db.session.get(Programme, programme_id)
        assert programme is not None
        existing = publishing.find_round(db.session, programme, week)
        if existing is None:
            raise click.ClickException(f"could not store the round: {lost.orig}") from None
        click.echo(f"A round for {week} was created by another run ({existing.status}).")
        return None


@rounds_cli.command("run")
@click.option("--programme", "slug", help="The programme's slug (default: every active one).")
@click.option(
    "--week",
    help="ISO week such as 2026-W49 (default: the current week; without --programme, each "
    "programme's week once its scheduled time has passed).",
)
@click.option("--dry-run", is_flag=True, help="Compute and report; store nothing.")
@click.option("--publish", is_flag=True, help="Publish at once: queue the emails.")
def run_command(slug: str | None, week: str | None, dry_run: bool, publish: bool) -> None:
    """Compute a programme's round of a week (a draft, or published with --publish); safe to
    repeat. Without --programme: every active programme whose schedule is due."""
    label = _checked_week(week) if week is not None else None
    if slug is not None:
        chosen = [(_checked_programme(slug), label or schedule.current_week())]
    else:
        now = datetime.now(UTC)
        chosen = []
        for programme in catalogue.all_programmes(db.session, include_archived=False):
            due = label or schedule.due_week(programme, now)
            if due is None:
                click.echo(f"{programme.name}: not due yet this week.")
            else:
                chosen.append((programme, due))
    for programme, programme_week in chosen:
        _run_one(programme.id, programme_week, dry_run=dry_run, publish=publish)


def _run_one(programme_id: int, week: str, dry_run: bool, publish: bool) -> None:
    outcome = run_and_commit(programme_id, week, publish=publish, dry_run=dry_run)
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
    """The latest rounds of every programme with their status and size."""
    rounds = db.session.scalars(
        select(Round).order_by(Round.starts_on.desc(), Round.programme_id).limit(limit)
    )
    for round_ in rounds:
        click.echo(
            f"{round_.week}  {round_.programme.slug:12}  {round_.status:9}  "
            f"{len(round_.groups):5} groups  "
            f"{round_.participant_count:6} people  score {round_.total_score:.1f}"
        )


def scheduler_tick(now: datetime) -> str | None:
    """Publish each active programme's round of this week once its scheduled time has passed;
    returns what happened (None when nothing did)."""
    done = []
    for programme in catalogue.all_programmes(db.session, include_archived=False):
        week = schedule.due_week(programme, now)
        if week is None:
            continue
        existing = publishing.find_round(db.session, programme, week)
        if existing is not None and existing.status != "draft":
            continue
        outcome = run_and_commit(programme.id, week, publish=True, dry_run=False)
        if outcome:
            done.append(outcome.message)
    return " ".join(done) or None


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
