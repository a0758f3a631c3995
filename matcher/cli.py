"""Command-line tools: `flask --app wsgi users ...` and `flask --app wsgi demo ...`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from matcher.extensions import db

users_cli = AppGroup("users", help="Manage accounts.")
demo_cli = AppGroup("demo", help="Demo data for trying matcher out.")
insights_cli = AppGroup("insights", help="The aggregates the insights pages read.")


@insights_cli.command("rebuild")
def insights_rebuild() -> None:
    """Recount the insights aggregates from every round and answer (repairs drift)."""
    from matcher.rounds.insight_counts import rebuild

    counts = rebuild(db.session)
    db.session.commit()
    click.echo(
        f"Rebuilt: {counts['rounds']} rounds, {counts['pairs']} people pairs, "
        f"{counts['team_pairs']} team pairs, {counts['groups']} group notes, "
        f"{counts['team_sizes']} team sizes."
    )


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--name", default=None, help="Display name (default: the part before the @).")
@click.password_option(help="Password (asked for when not given).")
def create_admin(email: str, name: str | None, password: str) -> None:
    """Create an admin account, or make an existing account an admin."""
    from email_validator import EmailNotValidError, validate_email
    from flask import current_app

    from matcher.auth.service import find_user_by_email, register_user, set_password

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as invalid:
        raise click.UsageError(f"not a valid email: {invalid}") from None
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise click.UsageError(f"the password needs at least {minimum} characters")
    user = find_user_by_email(db.session, email)
    if user is not None and user.is_deleted:
        raise click.UsageError("that email belongs to a deleted account")
    if user is None:
        user = register_user(db.session, name or email.split("@")[0], email, password, None, True)
        verb = "Created admin"
    else:
        user.is_admin = True
        user.active = True
        set_password(user, password)
        verb = "Made admin (password changed):"
    db.session.commit()
    click.echo(f"{verb} {user.email}")


@demo_cli.command("seed")
@click.option("--people", default=64, show_default=True, help="How many engineers.")
@click.option("--seed", default=7, show_default=True, help="Random seed.")
def seed_demo(people: int, seed: int) -> None:
    """Fill the database with a realistic demo organisation and an admin account."""
    from matcher.demo import seed_organisation

    if people < 2 or people > 5000:
        raise click.UsageError("--people must be between 2 and 5000")
    summary = seed_organisation(db.session, people=people, seed=seed)
    db.session.commit()
    click.echo(
        f"Demo organisation: {summary.created} new engineers "
        f"({summary.total} in all) in {summary.teams} teams."
    )
    click.echo(f"Every demo engineer's password: {summary.member_password}")
    click.echo(f"Admin: {summary.admin_email}  password: {summary.admin_password}")
    click.echo("Programmes: " + ", ".join(summary.programmes) + ".")


def init_app(app: Flask) -> None:
    """Register the command groups."""
    from matcher.backup import export_command, import_command
    from matcher.feedback.cli import feedback_cli
    from matcher.notify.cli import outbox_cli
    from matcher.programmes.cli import programmes_cli
    from matcher.roster.cli import import_roster
    from matcher.rounds.cli import rounds_cli
    from matcher.scim.cli import scim_cli

    users_cli.add_command(import_roster)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(insights_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(rounds_cli)
    app.cli.add_command(programmes_cli)
    app.cli.add_command(feedback_cli)
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)
    app.cli.add_command(scim_cli)
