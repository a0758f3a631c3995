"""Password reset by email through the real pages, with the mail read from a real SMTP server."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import OutboxMessage, User
from matcher.notify import send_pending
from tests.notify.support import body_text, smtp_server
from tests.support import MEMBER_PASSWORD, login

NEW_PASSWORD = "a brand new passphrase"
SAME_PAGE = "If an account exists for that email, we sent a link"


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


def deliver(app, smtp) -> list:
    """Run the sender once and return every message the SMTP server has received."""
    with app.app_context():
        send_pending(db.session, {**app.config, **smtp.config})
    return smtp.messages


def reset_path(message) -> str:
    text = body_text(message, "plain")
    (url,) = re.findall(r"https?://\S+/auth/reset/\S+", text)
    assert url.startswith("http://127.0.0.1:5000/auth/reset/")
    assert url in body_text(message, "html")
    return url.removeprefix("http://127.0.0.1:5000")


def ask(client, email: str) -> str:
    response = client.post("/auth/reset", data={"email": email})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def choose(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(path, data={"password": password, "confirm": confirm or password})


def outbox_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_login_page_links_to_reset(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'href="/auth/reset"' in page and "Forgot your password?" in page
    assert client.get("/auth/reset").status_code == 200


def test_full_reset_flow(app, client, make_user, smtp):
    make_user(email="ada@example.com")
    other_device = app.test_client()
    login(other_device, "ada@example.com")
    assert SAME_PAGE in ask(client, "ADA@example.com")
    (message,) = deliver(app, smtp)
    assert message["To"].addresses[0].addr_spec == "ada@example.com"
    assert "60 minutes" in body_text(message, "plain")
    path = reset_path(message)

    form = client.get(path)
    assert form.status_code == 200 and "Choose a new password" in form.get_data(as_text=True)
    assert form.headers["Referrer-Policy"] == "no-referrer"
    done = choose(client, path)
    assert done.status_code == 302 and done.headers["Location"].endswith("/me/")
    assert "Ada Lovelace" in client.get("/me/").get_data(as_text=True)  # logged in

    # The old password and every older session are gone; the new password works.
    assert other_device.get("/me/").status_code == 302
    fresh = app.test_client()
    bad = fresh.post("/auth/login", data={"email": "ada@example.com", "password": MEMBER_PASSWORD})
    assert bad.status_code == 422
    login(fresh, "ada@example.com", NEW_PASSWORD)

    # The same link again: refused with a clear page.
    reused = app.test_client().get(path)
    assert reused.status_code == 410
    assert "used already" in reused.get_data(as_text=True)
    assert choose(app.test_client(), path, "yet another passphrase").status_code == 410
    login(app.test_client(), "ada@example.com", NEW_PASSWORD)


def test_unknown_email_gets_the_same_page_and_no_mail(app, client, make_user, smtp):
    make_user(email="ada@example.com")
    known = ask(client, "ada@example.com")
    unknown = ask(client, "nobody@example.com")
    assert SAME_PAGE in unknown and known == unknown
    assert outbox_count(app) == 1
    assert len(deliver(app, smtp)) == 1


def test_asking_twice_sends_two_links_both_valid_until_one_is_used(app, client, make_user, smtp):
    make_user(email="ada@example.com")
    ask(client, "ada@example.com")
    ask(client, "ada@example.com")
    first, second = deliver(app, smtp)
    first_path, second_path = reset_path(first), reset_path(second)
    assert first["Message-ID"] != second["Message-ID"]
    assert choose(client, second_path).status_code == 302
    assert app.test_client().get(first_path).status_code == 410


def test_requests_are_throttled_per_account(app, client, make_user):
    make_user(email="ada@example.com")
    for _ in range(7):
        assert SAME_PAGE in ask(client, "ada@example.com")
    assert outbox_count(app) == 5


def test_deleted_or_disabled_accounts_get_no_mail_and_links_stop_working(
    app, client, make_user, smtp
):
    ada = make_user(email="ada@example.com")
    ask(client, "ada@example.com")
    path = reset_path(deliver(app, smtp)[0])
    with app.app_context():
        db.session.get(User, ada).deleted_at = datetime(2026, 11, 30)
        db.session.commit()
    refused = client.get(path)
    assert refused.status_code == 410
    assert "account is closed" in refused.get_data(as_text=True)
    assert SAME_PAGE in ask(client, "ada@example.com")
    assert outbox_count(app) == 1


def test_tampered_link_is_refused(app, client, make_user, smtp):
    make_user(email="ada@example.com")
    ask(client, "ada@example.com")
    path = reset_path(deliver(app, smtp)[0])
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    for bad in (tampered, "/auth/reset/not-a-token", "/auth/reset/" + "x" * 5000):
        response = client.get(bad)
        assert response.status_code == 400, bad
        assert "This link is not valid" in response.get_data(as_text=True)
        assert choose(client, bad).status_code == 400
    # A token signed with another purpose (salt) or key is not a reset token.
    with app.app_context():
        forged = URLSafeTimedSerializer("test-secret-key", salt="other").dumps({"u": 1, "t": "x"})
        wrong_key = URLSafeTimedSerializer("guess", salt="password-reset").dumps({"u": 1, "t": "x"})
    assert client.get(f"/auth/reset/{forged}").status_code == 400
    assert client.get(f"/auth/reset/{wrong_key}").status_code == 400
    login(client, "ada@example.com")  # nothing changed


def test_expired_link_is_refused(app_factory, make_user, smtp):
    app = app_factory(PASSWORD_RESET_MAX_AGE=-1)
    make_user(email="ada@example.com")
    client = app.test_client()
    ask(client, "ada@example.com")
    path = reset_path(deliver(app, smtp)[0])
    response = client.get(path)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert choose(client, path).status_code == 410


# SQLite only: the new password is refused by the form before any write.
@pytest.mark.sqlite_only("reset-password refusals: nothing is written")
@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", "short", "Use at least 10 characters."),
        ("x" * 129, "x" * 129, "Use at most 128 characters."),
        (NEW_PASSWORD, "something else entirely", "The two passwords differ."),
        ("", "", "Choose a password."),
    ],
)
def test_bad_new_password_shows_message(app, client, make_user, smtp, password, confirm, message):
    make_user(email="ada@example.com")
    ask(client, "ada@example.com")
    path = reset_path(deliver(app, smtp)[0])
    response = choose(client, path, password, confirm)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert choose(client, path).status_code == 302  # the link still works after a typo


def test_bad_email_in_request_form(client):
    response = client.post("/auth/reset", data={"email": "not an email"})
    assert response.status_code == 422
    assert "does not look like an email" in response.get_data(as_text=True)


def test_reset_link_ignores_a_forged_host_header(app, client, make_user, smtp):
    make_user(email="ada@example.com")
    client.post("/auth/reset", data={"email": "ada@example.com"}, headers={"Host": "evil.example"})
    text = body_text(deliver(app, smtp)[0], "plain")
    assert "evil.example" not in text and "http://127.0.0.1:5000/auth/reset/" in text
