"""`flask --app wsgi scim token create|list|revoke`: the bearer tokens identity providers
provision with."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from matcher.extensions import db
from matcher.scim.resources import location
from matcher.scim.tokens import TokenError, create_token, list_tokens, revoke_token

scim_cli = AppGroup("scim", help="SCIM provisioning (Okta, Entra ID).")
token_cli = AppGroup("token", help="Bearer tokens for SCIM clients.")
scim_cli.add_command(token_cli)


def _when(moment: object) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "never"


@token_cli.command("create")
@click.argument("name")
def create_command(name: str) -> None:
    """Make a token for one identity provider; it is shown this once."""
    try:
        token, secret = create_token(db.session, name)
    except TokenError as refused:
        raise click.UsageError(str(refused)) from None
    db.session.commit()
    click.echo(f"Token {token.name!r} created. Copy it now: it is not shown again.")
    click.echo("")
    click.echo(f"  {secret}")
    click.echo("")
    click.echo(f"SCIM base URL: {location(current_app.config, '')}")
    click.echo("Send it as: Authorization: Bearer <token>")


@token_cli.command("list")
def list_command() -> None:
    """One line per token: name, created, last used, revoked."""
    tokens = list_tokens(db.session)
    if not tokens:
        click.echo("No SCIM tokens. Make one with `flask --app wsgi scim token create NAME`.")
        return
    for token in tokens:
        state = f"revoked {_when(token.revoked_at)}" if token.revoked_at else "active"
        click.echo(
            f"{token.name:30}  created {_when(token.created_at)}  "
            f"last used {_when(token.last_used_at)}  {state}"
        )


@token_cli.command("revoke")
@click.argument("name")
def revoke_command(name: str) -> None:
    """Revoke a token: requests with it are refused from now on."""
    try:
        token = revoke_token(db.session, name)
    except TokenError as refused:
        raise click.UsageError(str(refused)) from None
    db.session.commit()
    click.echo(f"Token {token.name!r} revoked.")
