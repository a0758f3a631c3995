"""SCIM bearer tokens: `flask scim token create|list|revoke`, and the 401s without one."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select

from matcher.extensions import db
from matcher.models import ScimToken
from matcher.models.people import utcnow
from matcher.scim.tokens import authenticate
from tests.scim.support import assert_scim_error, send


def secret_from(output: str) -> str:
    found = re.findall(r"mscim_[A-Za-z0-9_-]+", output)
    assert len(found) == 1, output
    return found[0]


def test_create_shows_the_token_once_and_stores_only_its_hash(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["scim", "token", "create", "Okta production"])
    assert result.exit_code == 0, result.output
    secret = secret_from(result.output)
    assert len(secret) > 40
    assert "http://localhost/scim/v2" in result.output
    with app.app_context():
        token = db.session.scalar(select(ScimToken))
        assert token.name == "Okta production"
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in repr([getattr(token, c.name) for c in ScimToken.__table__.columns])
    listing = runner.invoke(args=["scim", "token", "list"])
    assert listing.exit_code == 0
    assert "Okta production" in listing.output
    assert "last used never" in listing.output and "active" in listing.output
    assert "mscim_" not in listing.output


def test_a_created_token_authenticates_and_is_noted_as_used(app, client):
    runner = app.test_cli_runner()
    secret = secret_from(runner.invoke(args=["scim", "token", "create", "entra"]).output)
    response = client.get(
        "/scim/v2/ServiceProviderConfig", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(ScimToken.last_used_at)) is not None
    assert "last used never" not in runner.invoke(args=["scim", "token", "list"]).output


def test_last_used_is_written_at_most_once_a_minute(app, token):
    with app.app_context():
        first = utcnow()
        found = authenticate(db.session, token, now=first)
        assert found is not None and found.last_used_at == first
        authenticate(db.session, token, now=first + timedelta(seconds=30))
        assert found.last_used_at == first
        later = first + timedelta(seconds=61)
        authenticate(db.session, token, now=later)
        assert found.last_used_at == later


def test_revoked_tokens_are_refused(app, client, token):
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/scim/v2/Users", headers=headers).status_code == 200
    runner = app.test_cli_runner()
    result = runner.invoke(args=["scim", "token", "revoke", "okta"])
    assert result.exit_code == 0 and "revoked" in result.output
    response = client.get("/scim/v2/Users", headers=headers)
    assert_scim_error(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "revoked" in runner.invoke(args=["scim", "token", "list"]).output


def test_token_names_are_checked(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["scim", "token", "create", "okta"]).exit_code == 0
    for name in ("okta", "  ", "x" * 81, "bad\x07name"):
        result = runner.invoke(args=["scim", "token", "create", name])
        assert result.exit_code == 2, (name, result.output)
        assert "mscim_" not in result.output
    unknown = runner.invoke(args=["scim", "token", "revoke", "nobody"])
    assert unknown.exit_code == 2 and "There is no token named 'nobody'" in unknown.output
    with app.app_context():
        assert db.session.scalar(select(ScimToken.name)) == "okta"


def test_every_endpoint_needs_a_bearer_token(client, token):
    for path in ("/Users", "/Users/1", "/Groups", "/ServiceProviderConfig", "/Schemas", "/x"):
        missing = send(client, "GET", path, {})
        assert_scim_error(missing, 401)
        assert missing.headers["WWW-Authenticate"] == 'Bearer realm="matcher SCIM"'
    for value in (f"Basic {token}", "Bearer", "Bearer mscim_wrong", f"Bearer {token}x", token):
        response = send(client, "GET", "/Users", {"Authorization": value})
        assert_scim_error(response, 401)
    # The scheme is case-insensitive.
    assert send(client, "GET", "/Users", {"Authorization": f"bearer {token}"}).status_code == 200


def test_writes_without_a_token_change_nothing(app, client):
    response = send(
        client, "POST", "/Users", {"Content-Type": "application/scim+json"}, {"userName": "a@b.c"}
    )
    assert_scim_error(response, 401)
    with app.app_context():
        from matcher.models import User

        assert db.session.scalar(select(User.id)) is None
