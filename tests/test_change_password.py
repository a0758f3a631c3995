"""Changing the password from the profile: current one first, other sessions end, rate-limited."""

from __future__ import annotations

import re

import pytest
from werkzeug.security import check_password_hash

from matcher.extensions import db
from matcher.models import User
from tests.support import MEMBER_PASSWORD, login

NEW_PASSWORD = "a brand new passphrase"


def change(client, current: str = MEMBER_PASSWORD, new: str = NEW_PASSWORD, confirm=None):
    return client.post(
        "/auth/password",
        data={"current_password": current, "password": new, "confirm": confirm or new},
    )


def password_is(app, user_id: int, password: str) -> bool:
    with app.app_context():
        return check_password_hash(db.session.get(User, user_id).password_hash, password)


def error_next_to(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error" role="alert">([^<]*)</p>', page)
    return found.group(1).strip() if found else ""


@pytest.fixture
def ada(client, make_user) -> int:
    user_id = make_user(email="ada@example.com")
    login(client, "ada@example.com")
    return user_id


def test_the_profile_links_to_the_form(client, ada):
    page = client.get("/me/").get_data(as_text=True)
    assert 'href="/auth/password"' in page and "Change password" in page
    form = client.get("/auth/password").get_data(as_text=True)
    assert "Current password" in form and "At least 10 characters." in form


def test_changing_keeps_this_session_and_ends_the_others(app, client, ada):
    laptop = app.test_client()
    login(laptop, "ada@example.com")
    stolen = client.get_cookie("session").value
    response = change(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/")
    assert "Password changed" in client.get("/me/").get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 200  # this browser stays logged in
    assert laptop.get("/dashboard/").status_code == 302  # the other session is over
    thief = app.test_client()
    thief.set_cookie("session", stolen)  # and so is the old cookie of this one
    assert thief.get("/dashboard/").status_code == 302
    assert password_is(app, ada, NEW_PASSWORD) and not password_is(app, ada, MEMBER_PASSWORD)
    login(app.test_client(), "ada@example.com", NEW_PASSWORD)


def test_remember_me_survives_the_change_with_a_new_cookie(app, make_user):
    make_user(email="ada@example.com")
    client = app.test_client()
    client.post(
        "/auth/login",
        data={"email": "ada@example.com", "password": MEMBER_PASSWORD, "remember": "y"},
    )
    old = client.get_cookie("remember_token").value
    change(client)
    new = client.get_cookie("remember_token")
    assert new is not None and new.value != old
    # The remembered cookie alone (a closed browser) logs in with the new token only.
    later = app.test_client()
    later.set_cookie("remember_token", new.value)
    assert later.get("/dashboard/").status_code == 200
    earlier = app.test_client()
    earlier.set_cookie("remember_token", old)
    assert earlier.get("/dashboard/").status_code == 302


# SQLite only: the form refuses these before any write (the hash it checks is only read).
@pytest.mark.sqlite_only("password-change refusals: nothing is written")
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"current": "not my password"}, "current_password", "That is not your current password."),
        ({"current": ""}, "current_password", "Type your current password."),
        ({"new": "short", "confirm": "short"}, "password", "Use at least 10 characters."),
        ({"confirm": "something else"}, "confirm", "The two passwords differ."),
        ({"new": "x" * 129, "confirm": "x" * 129}, "password", "Use at most 128 characters."),
    ],
)
def test_refusals_are_shown_next_to_the_field(app, client, ada, data, field, message):
    response = change(
        client,
        data.get("current", MEMBER_PASSWORD),
        data.get("new", NEW_PASSWORD),
        data.get("confirm"),
    )
    assert response.status_code == 422
    assert error_next_to(response.get_data(as_text=True), field) == message
    assert password_is(app, ada, MEMBER_PASSWORD)
    assert client.get("/dashboard/").status_code == 200  # nothing ended


def test_needs_log_in(client):
    response = client.get("/auth/password")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_rate_limited_like_log_in(app_factory, make_user):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    make_user(email="ada@example.com")
    client = app.test_client()
    login(client, "ada@example.com")
    codes = [change(client, current=f"guess {n}").status_code for n in range(11)]
    assert codes[:10] == [422] * 10 and codes[10] == 429
    # Changing addresses does not help: 20 guesses an hour per account.
    more = [
        client.post(
            "/auth/password",
            data={"current_password": f"guess {n}", "password": NEW_PASSWORD},
            environ_base={"REMOTE_ADDR": f"10.0.1.{n}"},
        ).status_code
        for n in range(11)
    ]
    assert more[:10] == [422] * 10 and more[10] == 429
    assert client.get("/auth/password").status_code == 200  # the form still opens
