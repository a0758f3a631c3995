"""Helpers for the SCIM tests: raw requests (for what no well-behaved client sends), PATCH
bodies, and reading people back from the database."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from matcher.extensions import db
from matcher.models import User
from matcher.models.people import normalise_email

BASE = "http://localhost/scim/v2"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def send(
    client: FlaskClient,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any = None,
    raw: bytes | str | None = None,
) -> TestResponse:
    """A request to /scim/v2 + path with a JSON body (or raw bytes)."""
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    return client.open("/scim/v2" + path, method=method, headers=headers, data=data)


def operations(*ops: dict[str, Any]) -> dict[str, Any]:
    """A PatchOp body."""
    return {"schemas": [PATCH_OP], "Operations": list(ops)}


def user_body(email: str, name: str = "Ada Lovelace", **extra: Any) -> dict[str, Any]:
    """A POST /Users body as Okta sends it."""
    given, _, family = name.partition(" ")
    body: dict[str, Any] = {
        "schemas": [USER],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": name,
        "active": True,
        "groups": [],
    }
    body.update(extra)
    return body


def assert_scim_error(response: TestResponse, status: int, scim_type: str | None = None) -> dict:
    """The response is a SCIM Error with that status (and scimType); its payload."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/scim+json"
    payload = response.get_json()
    assert payload["schemas"] == [ERROR]
    assert payload["status"] == str(status)
    if scim_type is not None:
        assert payload.get("scimType") == scim_type, payload
    return payload


def person(app: Flask, email: str) -> User | None:
    """The live account with that email, detached (its team, profile and manager loaded)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    with app.app_context():
        user = db.session.scalar(
            select(User)
            .where(User.email == normalise_email(email), User.deleted_at.is_(None))
            .options(selectinload(User.team), selectinload(User.profile))
        )
        if user is not None:
            db.session.expunge(user)
        return user
