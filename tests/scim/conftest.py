"""Fixtures for the SCIM tests: an app whose BASE_URL is the clients' host, a live token,
and a scim2-client talking to the app in process (WSGI), as an identity provider would."""

from __future__ import annotations

import pytest
from flask import Flask
from scim2_client.engines.wsgi import WSGISCIMClient

from matcher.extensions import db
from matcher.scim.resources import PROVIDER
from matcher.scim.tokens import create_token
from tests.scim.support import BASE


@pytest.fixture
def app(app_factory) -> Flask:
    """Locations in answers point where the clients send their requests."""
    return app_factory(BASE_URL=BASE.removesuffix("/scim/v2"))


@pytest.fixture
def token(app: Flask) -> str:
    """The secret of a live token named "okta"."""
    with app.app_context():
        _, secret = create_token(db.session, "okta")
        db.session.commit()
    return secret


@pytest.fixture
def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}


@pytest.fixture
def scim(app: Flask, token: str) -> WSGISCIMClient:
    """A SCIM client describing the server with matcher's own models."""
    return WSGISCIMClient(
        app, base_url=BASE, headers={"Authorization": f"Bearer {token}"}, provider=PROVIDER
    )
