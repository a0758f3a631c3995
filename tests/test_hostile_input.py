"""Input a hostile user would send: never a 500, never half-stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import User
from tests.support import MEMBER_PASSWORD, login, signup_data


@pytest.mark.sqlite_only("NUL is refused by an app-wide hook before any form")
@pytest.mark.parametrize("field", ["display_name", "email", "team", "interests", "password"])
def test_nul_characters_are_refused_cleanly(app, client, field):
    response = client.post("/auth/signup", data=signup_data(**{field: "abc\x00def"}))
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.sqlite_only("NUL is refused by an app-wide hook before any query")
def test_nul_in_login_and_search(client, make_user):
    make_user(email="admin@example.com", is_admin=True)
    assert client.post("/auth/login", data={"email": "a\x00@x", "password": "p"}).status_code == 400
    login(client, "admin@example.com")
    assert client.get("/admin/people?q=%00").status_code == 400


def test_repeated_and_unicode_values(app, client):
    data = signup_data(display_name="Zoë 🚀 Ñandú", team="Ω-team")
    data["interests"] = ["Rust, Go", "rust", "Ünïcode"]  # the field sent three times
    response = client.post("/auth/signup", data=data)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.display_name == "Zoë 🚀 Ñandú"
        assert sorted(i.name for i in user.interests) == ["Go", "Rust", "Ünïcode"]


@pytest.mark.sqlite_only("the size limit answers before any form")
def test_huge_body_gets_413_page(client):
    response = client.post("/auth/signup", data={"interests": "x" * 2_000_000})
    assert response.status_code == 413
    assert "too much data" in response.get_data(as_text=True)


@pytest.mark.sqlite_only("403 and 404 pages: nothing is read or written")
def test_json_clients_get_json_errors(client):
    response = client.get("/admin/", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.get_json() == {"error": "You do not have access to this page.", "status": 403}
    assert client.get("/nowhere", headers={"Accept": "application/json"}).status_code == 404


@pytest.mark.sqlite_only("refused by the forms' length checks")
def test_extremely_long_email_and_password(app, client):
    response = client.post(
        "/auth/signup",
        data=signup_data(email="a" * 300 + "@example.com", password="p" * 5000, confirm="p" * 5000),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "too long" in page and "at most 128 characters" in page
    long_login = client.post("/auth/login", data={"email": "x@y.z", "password": "p" * 5000})
    assert long_login.status_code == 422
    assert MEMBER_PASSWORD not in page


def test_database_down_gives_a_clean_503(tmp_path):
    from matcher import create_app

    # Nothing listens on port 1: every query fails to connect.
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "x",
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    response = app.test_client().post(
        "/auth/login", data={"email": "a@example.com", "password": "whatever"}
    )
    assert response.status_code == 503
    assert "briefly unavailable" in response.get_data(as_text=True)


@pytest.mark.sqlite_only("refused before any form reads them")
def test_json_bodies_sent_to_web_forms_get_415_not_500(app, client, make_user):
    # Numbers, lists and objects where a form expects text: refused before any form reads them.
    make_user(email="ada@example.com", is_admin=True)
    login(client, "ada@example.com")
    app.config["WTF_CSRF_ENABLED"] = False  # a client that sends the token header gets as far
    for path in ("/auth/login", "/auth/signup", "/me/edit", "/admin/rules", "/auth/password"):
        response = client.post(path, json={"email": 5, "password": [1], "team": {"a": 1}})
        assert response.status_code == 415, (path, response.status_code)
        assert "not as JSON" in response.get_data(as_text=True)
