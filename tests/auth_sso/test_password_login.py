"""PASSWORD_LOGIN=false makes single sign-on the only way in; the settings are checked at start."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from matcher import create_app
from matcher.auth.service import make_reset_token
from matcher.extensions import db
from matcher.models import User
from tests.auth_sso.conftest import PROVIDER_NAME, Provider, sign_in, sso_settings
from tests.support import MEMBER_PASSWORD, login


@pytest.fixture
def app(app_factory, provider: Provider) -> Flask:
    """Single sign-on only."""
    return app_factory(**sso_settings(provider, PASSWORD_LOGIN=False))


def test_the_login_page_shows_only_the_sso_button(client: FlaskClient):
    page = client.get("/auth/login")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"Sign in with {PROVIDER_NAME}" in text
    assert 'name="password"' not in text
    assert "Forgot your password" not in text


def test_a_password_is_refused_even_when_right(app: Flask, client: FlaskClient, make_user):
    make_user(email="ada@example.com")
    response = client.post(
        "/auth/login", data={"email": "ada@example.com", "password": MEMBER_PASSWORD}
    )
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "Passwords are turned off" in text
    assert f"Sign in with {PROVIDER_NAME}" in text
    assert client.get("/me/").status_code == 302  # not logged in


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", ["/auth/signup", "/auth/reset"])
def test_password_sign_up_and_reset_are_closed(
    app: Flask, client: FlaskClient, path: str, method: str
):
    users = _users(app)
    data = {
        "display_name": "Eve",
        "email": "eve@example.com",
        "password": "x" * 12,
        "confirm": "x" * 12,
        "team": "Payments",
    }
    response = client.open(path, method=method, data=data if method == "POST" else None)
    assert response.status_code == 403
    assert "Passwords are turned off" in response.get_data(as_text=True)
    assert _users(app) == users


def test_a_reset_link_is_closed(app: Flask, client: FlaskClient, make_user):
    user_id = make_user(email="ada@example.com")
    with app.test_request_context():
        token = make_reset_token(db.session.get(User, user_id))
    for method in ("GET", "POST"):
        response = client.open(
            f"/auth/reset/{token}",
            method=method,
            data={"password": "a new password 1", "confirm": "a new password 1"},
        )
        assert response.status_code == 403


def test_the_change_password_page_is_not_offered(
    app: Flask, client: FlaskClient, provider: Provider, make_user
):
    make_user(email="ada@example.com")
    sign_in(client, provider, f"s-{uuid.uuid4().hex}", email="ada@example.com", email_verified=True)
    profile = client.get("/me/").get_data(as_text=True)
    assert "Change password" not in profile
    assert client.get("/auth/password").status_code == 403
    # Deleting asks for the address, not a password nobody can use here.
    page = client.get("/me/delete").get_data(as_text=True)
    assert 'name="email"' in page and 'name="password"' not in page
    deleted = client.post("/me/delete", data={"email": "ada@example.com", "confirm": "y"})
    assert deleted.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "ada@example.com")) is None


def test_sso_still_opens_accounts(app: Flask, client: FlaskClient, provider: Provider):
    response = sign_in(
        client, provider, f"s-{uuid.uuid4().hex}", email="new@example.com", email_verified=True
    )
    assert response.headers["Location"] == "/auth/complete"
    assert _users(app) == 1


def test_with_passwords_on_an_sso_only_account_has_no_change_password_link(
    app_factory, provider: Provider
):
    app = app_factory(**sso_settings(provider))
    client = app.test_client()
    sign_in(client, provider, f"s-{uuid.uuid4().hex}", email="so@example.com", email_verified=True)
    assert "Change password" not in client.get("/me/").get_data(as_text=True)
    # A password account keeps its link, and deletes with its password.
    other = app.test_client()
    from matcher.auth.service import register_user

    with app.app_context():
        register_user(db.session, "Pat", "pat@example.com", MEMBER_PASSWORD, None)
        db.session.commit()
    login(other, "pat@example.com")
    assert "Change password" in other.get("/me/").get_data(as_text=True)
    assert 'name="password"' in other.get("/me/delete").get_data(as_text=True)


def _users(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


# --- the settings, checked when the app is created ------------------------------------


def _create(tmp_path, **settings: object) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "x",
            **settings,
        }
    )


SSO = {
    "OIDC_ISSUER": "https://login.example.com/realms/staff",
    "OIDC_CLIENT_ID": "matcher",
    "OIDC_CLIENT_SECRET": "secret",
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("false", False), ("0", False), ("no", False), ("true", True), ("1", True), ("On", True)],
)
def test_password_login_is_read_from_the_environment(tmp_path, monkeypatch, raw, expected):
    monkeypatch.setenv("MATCHER_PASSWORD_LOGIN", raw)
    monkeypatch.setenv("MATCHER_OIDC_CLIENT_ID", "12345")  # JSON: arrives as a number
    app = _create(tmp_path, OIDC_ISSUER=SSO["OIDC_ISSUER"], OIDC_CLIENT_SECRET="s")
    assert app.config["PASSWORD_LOGIN"] is expected
    assert app.extensions["matcher.sso"].client_id == "12345"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"PASSWORD_LOGIN": False}, "single sign-on is not configured"),
        ({**SSO, "PASSWORD_LOGIN": "maybe"}, "must be true or false"),
        ({**SSO, "OIDC_ISSUER": "http://login.example.com"}, "must use https"),
        ({**SSO, "OIDC_ISSUER": "login.example.com"}, "issuer URL"),
        ({**SSO, "OIDC_ISSUER": "https://x.example/?a=b"}, "issuer URL"),
        ({**SSO, "OIDC_CLIENT_ID": None}, "OIDC_CLIENT_ID"),
        ({**SSO, "OIDC_CLIENT_SECRET": ""}, "OIDC_CLIENT_SECRET"),
    ],
)
def test_settings_that_cannot_work_stop_the_app_with_a_message(tmp_path, settings, message):
    with pytest.raises(ValueError, match=message):
        _create(tmp_path, **settings)


def test_an_sso_app_starts_without_asking_the_provider_anything(tmp_path):
    # login.example.com does not exist here: creating the app must not need it.
    app = _create(tmp_path, **SSO, OIDC_SCOPES="email profile")
    provider = app.extensions["matcher.sso"]
    assert provider.name == "your identity provider"
    assert provider.client.client_kwargs["scope"] == "openid email profile"
    assert "_loaded_at" not in provider.client.server_metadata


def test_choosing_a_password_to_accept_an_invitation_is_closed(client: FlaskClient):
    response = client.post(
        "/auth/invitation/any-token",
        data={"password": "a long password 1", "confirm": "a long password 1"},
    )
    assert response.status_code == 403
    assert "Passwords are turned off" in response.get_data(as_text=True)
