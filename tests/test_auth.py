"""Sign-up, log-in and log-out through the real forms, on every backend."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from sqlalchemy import func, select

from matcher.auth.service import register_user
from matcher.extensions import db
from matcher.models import Interest, OutboxMessage, Team, User
from tests.support import MEMBER_PASSWORD, coffee_member, login, signup_data, verify_from_outbox


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_signup_stores_profile_and_logs_in_from_the_confirmation_link(app, client):
    response = client.post("/auth/signup", data=signup_data())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/signup/check-email")
    assert client.get("/me/").status_code == 302  # not logged in before the address is proved
    verify_from_outbox(app, "grace@example.com", client)
    page = client.get("/me/").get_data(as_text=True)
    assert "Grace Hopper" in page and "Compilers" in page
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "grace@example.com"))
        assert [i.name for i in user.interests] == ["Rust", "Sailing"]
        assert user.profile.timezone == "Europe/Berlin"
        # Signing up joins the cross-team coffee, at the cadence chosen.
        assert coffee_member(db.session, user.id).cadence_weeks == 2
        assert [(w.weekday, w.start_minute, w.end_minute) for w in user.availability] == [
            (0, 600, 750),
            (3, 840, 960),
        ]
        assert user.password_hash.startswith("scrypt:")


def test_vocabulary_is_shared_across_spellings(app, client, make_user):
    make_user(email="a@example.com", team="payments ", interests=("Rust",))
    client.post("/auth/signup", data=signup_data(team="  PAYMENTS", interests="rust, Go"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Team)) == 1
        names = db.session.scalars(select(Interest.name).order_by(Interest.key)).all()
        assert names == ["Go", "Rust"]


# SQLite only: every value is refused by the form before anything is written (the test checks
# no user exists; a missing length check would store the row on SQLite and fail there too).
@pytest.mark.sqlite_only("sign-up refusals: nothing reaches the database")
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "does not look like an email"),
        ("email", "", "Please give your email"),
        ("password", "short", "at least 10 characters"),
        ("confirm", "something else entirely", "The two passwords differ"),
        ("timezone", "Mars/Olympus_Mons", "Unknown time zone"),
        ("availability-day0-end", "09:00", "Ends before it starts"),
        ("availability-day0-end", "", "both a start and an end"),
        ("availability-day0-start", "25:99", "Not a valid time"),
        ("interests", "x" * 10_000, "at most 60 characters"),
        ("interests", ",".join(f"topic {i}" for i in range(500)), "At most 20 interests"),
        ("team", "", "Which team"),
        ("display_name", "n" * 81, "longer than 80"),
        ("cadence_weeks", "3", "Not a valid choice"),
        ("cadence_weeks", "weekly", "Invalid Choice"),
        ("meeting_mode", "teleport", "Not a valid choice"),
    ],
)
def test_bad_signup_shows_message_and_stores_nothing(app, client, field, value, message):
    response = client.post("/auth/signup", data=signup_data(**{field: value}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'role="alert"' in page
    assert count_users(app) == 0


def test_email_taken_in_any_letter_case(app, client, make_user):
    make_user(email="grace@example.com")
    response = client.post("/auth/signup", data=signup_data(email="GRACE@Example.COM"))
    # The same answer as for a new address (see test_verification.py); the owner is told.
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/signup/check-email")
    assert count_users(app) == 1
    with app.app_context():
        kinds = db.session.scalars(select(OutboxMessage.kind)).all()
        assert kinds == ["signup_exists"]


def test_html_in_names_is_escaped(app, client):
    evil = "<script>alert(1)</script>"
    client.post("/auth/signup", data=signup_data(display_name=evil, team=evil, interests=evil))
    verify_from_outbox(app, "grace@example.com", client)
    page = client.get("/me/").get_data(as_text=True)
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_login_does_not_reveal_whether_email_exists(client, make_user):
    make_user(email="ada@example.com")
    wrong_password = client.post(
        "/auth/login", data={"email": "ada@example.com", "password": "wrong password!"}
    )
    unknown_email = client.post(
        "/auth/login", data={"email": "nobody@example.com", "password": "wrong password!"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 422

    def visible(response) -> str:
        text = response.get_data(as_text=True)
        return re.sub(r'value="[^"]*"', "", text)  # echoed email aside, pages are identical

    assert visible(wrong_password) == visible(unknown_email)
    assert "Wrong email or password." in visible(unknown_email)


def test_login_case_insensitive_and_remember_me(client, make_user):
    make_user(email="ada@example.com")
    response = client.post(
        "/auth/login",
        data={"email": "ADA@example.com", "password": MEMBER_PASSWORD, "remember": "y"},
    )
    assert response.status_code == 302
    assert any(c.key == "remember_token" for c in client._cookies.values())


# SQLite only: where "next" may send someone is decided in Python after a plain log-in.
@pytest.mark.sqlite_only("redirect target checks: no database difference")
@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/me/edit", "/me/edit"),
        ("https://evil.example/", "/dashboard/"),
        ("//evil.example/", "/dashboard/"),
        ("/\\evil.example", "/dashboard/"),
        ("javascript:alert(1)", "/dashboard/"),
    ],
)
def test_next_only_redirects_to_local_paths(client, make_user, target, expected):
    make_user(email="ada@example.com")
    response = client.post(
        "/auth/login",
        data={"email": "ada@example.com", "password": MEMBER_PASSWORD, "next": target},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_logout_requires_post_and_ends_session(client, make_user):
    make_user(email="ada@example.com")
    login(client, "ada@example.com")
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/me/").status_code == 200
    assert client.post("/auth/logout").status_code == 302
    assert client.get("/me/").status_code == 302


def test_deactivated_user_cannot_log_in(app, client, make_user):
    user_id = make_user(email="ada@example.com")
    login(client, "ada@example.com")
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert client.get("/me/").status_code == 302  # the live session ends too
    response = client.post(
        "/auth/login", data={"email": "ada@example.com", "password": MEMBER_PASSWORD}
    )
    assert response.status_code == 422


def test_session_cookie_flags(client, make_user):
    make_user(email="ada@example.com")
    response = client.post(
        "/auth/login", data={"email": "ada@example.com", "password": MEMBER_PASSWORD}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_csrf_protects_the_auth_flow(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    # Without a token: refused with a clear page, nothing stored.
    refused = client.post("/auth/signup", data=signup_data())
    assert refused.status_code == 400
    assert "expired" in refused.get_data(as_text=True)
    assert count_users(app) == 0
    # With the token from the form: accepted.
    page = client.get("/auth/signup").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/auth/signup", data=signup_data(csrf_token=token)).status_code == 302
    assert count_users(app) == 1
    verify_from_outbox(app, "grace@example.com", client)
    # Log-out needs a token as well.
    assert client.post("/auth/logout").status_code == 400
    page = client.get("/me/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    # And log-in.
    assert (
        client.post(
            "/auth/login", data={"email": "grace@example.com", "password": MEMBER_PASSWORD}
        ).status_code
        == 400
    )


def test_login_takes_as_long_for_an_unknown_email_as_for_a_wrong_password(app_factory):
    # The real hash cost, so that the hash dominates and the medians can be compared.
    app = app_factory(PASSWORD_HASH_METHOD="scrypt")
    client = app.test_client()
    with app.app_context():
        register_user(db.session, "Ada", "ada@example.com", MEMBER_PASSWORD, None)
        db.session.commit()

    def attempt(email: str) -> float:
        # CPU time of this thread (the test client serves in it): what the server spends,
        # without the other test worker's load on a shared machine.
        start = time.thread_time()
        response = client.post("/auth/login", data={"email": email, "password": "wrong pass 1"})
        elapsed = time.thread_time() - start
        assert response.status_code == 422  # the form again, with the same message
        return elapsed

    attempt("warm-up@example.com")  # the dummy hash is made once, on the first miss
    known, unknown = [], []
    for k in range(20):  # interleaved, so a slower moment of the machine hits both alike
        known.append(attempt("ada@example.com"))
        unknown.append(attempt(f"nobody{k}@example.com"))
    fast, slow = sorted([statistics.median(known), statistics.median(unknown)])
    assert slow / fast < 1.10, (statistics.median(known), statistics.median(unknown))
