"""SQL injection: hostile text in every form is stored literally, matches nothing, drops nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select

from matcher.auth.service import make_reset_token
from matcher.extensions import db
from matcher.models import (
    DoNotPair,
    Feedback,
    Interest,
    Membership,
    OutboxMessage,
    PendingDoNotPair,
    Programme,
    Project,
    Round,
    Team,
    User,
)
from matcher.rounds import publishing
from matcher.weeks import week_label
from tests.admin.support import valid_form
from tests.support import (
    MEMBER_PASSWORD,
    coffee,
    coffee_member,
    login,
    meetings_over,
    signup_data,
)

SQLI = (
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    "1 UNION SELECT password_hash FROM users--",
    "%' --",
    "\\'",
    "$$; DROP TABLE users; $$",
    '" OR ""="',
    "'); DELETE FROM users WHERE ('1'='1",
)
# Addresses that pass the email validator ('%', '_' and quotes are legal in the local part) and
# so reach the database query.
EMAIL_SQLI = (
    "'or'1'='1@example.com",
    "ada'--@example.com",
    "%@example.com",
    "_da@example.com",
)


def assert_nothing_dropped(app: Flask, users: int) -> None:
    """Every table still exists; the users table has exactly the test's rows, none erased."""
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} <= tables
        assert db.session.scalar(select(func.count()).select_from(User)) == users
        erased = select(func.count()).select_from(User).where(User.deleted_at.is_not(None))
        assert db.session.scalar(erased) == 0


def profile_of(app: Flask, email: str) -> dict[str, object]:
    """What the database holds for one user's free-text fields."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        return {
            "name": user.display_name,
            "team": user.team.name,
            "projects": [p.name for p in user.projects],
            "interests": [i.name for i in user.interests],
            "location": user.profile.location,
        }


def text_fields(value: str) -> dict[str, str]:
    """The profile form's free-text fields, all set to value."""
    return {
        "display_name": value,
        "team": value,
        "projects": value,
        "interests": value,
        "location": value,
    }


def expected_profile(value: str) -> dict[str, object]:
    return {
        "name": value,
        "team": value,
        "projects": [value],
        "interests": [value],
        "location": value,
    }


def login_status(client: FlaskClient, email: str, password: str) -> int:
    return client.post("/auth/login", data={"email": email, "password": password}).status_code


def listed_emails(page: str) -> set[str]:
    """The emails in the admin people table."""
    return set(re.findall(r"<td>([^<>\s]+@example\.com)</td>", page))


# Account forms ----------------------------------------------------------------------------


def test_signup_stores_every_text_field_literally(app):
    for k, value in enumerate(SQLI):
        client = app.test_client()
        email = f"user{k}@example.com"
        password = value + " and some more"  # long enough, and still the hostile text
        data = signup_data(email=email, password=password, confirm=password, **text_fields(value))
        response = client.post("/auth/signup", data=data)
        assert response.status_code == 302, (value, response.status_code)
        assert profile_of(app, email) == expected_profile(value)
        # The hostile password works as a password, exactly as typed, and nothing else does.
        fresh = app.test_client()
        assert login_status(fresh, email, "' OR '1'='1") == 422
        login(fresh, email, password)
    assert_nothing_dropped(app, users=len(SQLI))


def test_signup_with_an_email_shaped_injection_stores_it_literally(app):
    for k, email in enumerate(EMAIL_SQLI):
        data = signup_data(email=email, display_name=f"Person {k}")
        response = app.test_client().post("/auth/signup", data=data)
        assert response.status_code == 302, (email, response.get_data(as_text=True)[:300])
        with app.app_context():
            stored = db.session.scalar(select(User.display_name).where(User.email == email))
        assert stored == f"Person {k}", email
    assert_nothing_dropped(app, users=len(EMAIL_SQLI))


def test_login_with_injection_fails(app, client, make_user):
    make_user(email="ada@example.com")
    attempts = [("ada@example.com", value) for value in SQLI]
    attempts += [(value, value) for value in SQLI]
    attempts += [("ada@example.com' --", "x"), ("ada@example.com'; --", MEMBER_PASSWORD + "x")]
    attempts += [("' OR 1=1 LIMIT 1 --", "' OR '1'='1"), ("%", "%"), ("_%", "' OR ''='")]
    for email, password in attempts:
        assert login_status(client, email, password) == 422, (email, password)
    # Still logged out: the dashboard sends us to the login page.
    assert client.get("/dashboard/").status_code == 302
    assert_nothing_dropped(app, users=1)


def test_password_reset_request_matches_nobody_and_new_password_is_literal(app, client, make_user):
    ada = make_user(email="ada@example.com")
    make_user(email="bob@example.com", name="Bob")
    for email in (*SQLI, *EMAIL_SQLI):
        response = client.post("/auth/reset", data={"email": email})
        assert response.status_code in (200, 422), (email, response.status_code)
        # Also as the token in the link: a clean 'invalid link' page.
        response = client.get("/auth/reset/" + quote(email, safe=""))
        assert response.status_code == 400, (email, response.status_code)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        token = make_reset_token(db.session.get(User, ada))
    password = "'; DROP TABLE users; -- and more"
    response = client.post(f"/auth/reset/{token}", data={"password": password, "confirm": password})
    assert response.status_code == 302
    login(app.test_client(), "ada@example.com", password)
    assert_nothing_dropped(app, users=2)


# Member forms -----------------------------------------------------------------------------


def test_profile_edit_reads_back_exactly(app, client, make_user):
    make_user(email="ada@example.com")
    login(client, "ada@example.com")
    for value in SQLI:
        response = client.post("/me/edit", data=signup_data(**text_fields(value)))
        assert response.status_code == 302, (value, response.status_code)
        assert profile_of(app, "ada@example.com") == expected_profile(value)
    assert_nothing_dropped(app, users=1)


def test_do_not_pair_snooze_and_delete_refuse_injection(app, client, make_user):
    ada = make_user(email="ada@example.com")
    make_user(email="bob@example.com", name="Bob")
    login(client, "ada@example.com")
    for value in (*SQLI, *EMAIL_SQLI):
        response = client.post("/me/do-not-pair", data={"email": value})
        # Valid addresses are kept as typed (no account has them); the rest are refused.
        expected = 302 if value in EMAIL_SQLI else 422
        assert response.status_code == expected, (value, response.status_code)
        response = client.post("/me/snooze", data={"until": value})
        assert response.status_code == 302, (value, response.status_code)
        response = client.post("/me/delete", data={"password": value, "confirm": "y"})
        assert response.status_code == 422, (value, response.status_code)
    with app.app_context():
        # "%@..." and "_da@..." matched nobody (no LIKE), "ada'--@..." did not end the query.
        assert db.session.scalar(select(func.count()).select_from(DoNotPair)) == 0
        pending = db.session.scalars(select(PendingDoNotPair.email)).all()
        assert sorted(pending) == sorted(EMAIL_SQLI)
        assert coffee_member(db.session, ada).snoozed_until is None
    assert client.get("/me/").status_code == 200  # still logged in, account still there
    assert_nothing_dropped(app, users=2)


def test_feedback_note_and_kudos_are_stored_literally(app, client, make_user):
    ada = make_user(email="ada@example.com", team="Payments")
    make_user(email="cy@example.com", name="Cy", team="Search")
    with app.app_context():
        publishing.run_round(
            db.session, coffee(db.session), week_label(datetime.now(UTC).date()), publish=True
        )
        db.session.commit()
        group_id = db.session.scalar(select(Membership.group_id).where(Membership.user_id == ada))
    meetings_over(app)  # on a Monday morning this week's slot may still be ahead
    login(client, "ada@example.com")
    for value in SQLI:
        data = {"status": "met", "rating": "4", "private_note": value, "kudos": value}
        response = client.post(f"/feedback/pairing/{group_id}", data=data)
        assert response.status_code == 302, (value, response.status_code)
        with app.app_context():
            answer = db.session.scalar(select(Feedback).where(Feedback.user_id == ada))
            assert (answer.private_note, answer.kudos) == (value, value)
    # The group id in the URL and the feedback token are not query text either.
    for value in SQLI:
        assert client.get("/feedback/pairing/" + quote(value, safe="")).status_code == 404
        assert client.get("/feedback/" + quote(value, safe="")).status_code == 400
    assert_nothing_dropped(app, users=2)


# Admin console ----------------------------------------------------------------------------


@pytest.fixture
def admin_client(app, make_user) -> FlaskClient:
    make_user(email="root@example.com", name="Root Admin", team="Admins", is_admin=True)
    client = app.test_client()
    login(client, "root@example.com")
    return client


def test_people_search_treats_injection_and_wildcards_as_text(app, admin_client, make_user):
    make_user(email="ada@example.com", name="Ada Lovelace", team="Payments")
    make_user(email="bob@example.com", name="Bob 100% Sure", team="Search")
    make_user(email="cy@example.com", name="Cy_Under", team="Platform")
    make_user(email="dee@example.com", name="Dee Back\\slash", team="Mobile")

    def search(q: str) -> set[str]:
        response = admin_client.get("/admin/people?q=" + quote(q, safe=""))
        assert response.status_code == 200, (q, response.status_code)
        return listed_emails(response.get_data(as_text=True))

    assert len(search("")) == 5  # the page lists people at all
    for value in SQLI:
        assert search(value) == set(), value
    # LIKE wildcards are escaped: each finds only the one name holding it literally.
    assert search("%") == {"bob@example.com"}
    assert search("_") == {"cy@example.com"}
    assert search("\\") == {"dee@example.com"}
    assert search("%%") == set()
    assert search("ada%") == set()
    assert search("a_a") == set()
    assert_nothing_dropped(app, users=5)


@pytest.mark.parametrize(
    ("kind", "model", "name"),
    [
        ("teams", Team, "Payments"),
        ("projects", Project, "Checkout"),
        ("interests", Interest, "Rust"),
    ],
)
def test_vocabulary_rename_and_merge_take_injection_literally(
    app, admin_client, make_user, kind, model, name
):
    make_user(email="ada@example.com", team="Payments", projects=("Checkout",))
    with app.app_context():
        entry_id = db.session.scalar(select(model.id).where(model.name == name))
        before = db.session.scalar(select(func.count()).select_from(model))
    for value in SQLI:
        url = f"/admin/vocabulary/{kind}/{entry_id}"
        response = admin_client.post(url + "/rename", data={"rename-name": value})
        assert response.status_code == 302, (value, response.status_code)
        with app.app_context():
            assert db.session.get(model, entry_id).name == value
        response = admin_client.post(url + "/merge", data={"merge-target": value})
        assert response.status_code == 422, (value, response.status_code)
        assert admin_client.get("/admin/vocabulary/" + quote(value, safe="")).status_code == 404
    with app.app_context():
        # Nothing merged away or added: the same entries, the last name kept.
        assert db.session.scalar(select(func.count()).select_from(model)) == before
    assert_nothing_dropped(app, users=2)


def stored_settings(app: Flask) -> dict[str, object]:
    with app.app_context():
        row = coffee(db.session)
        return {c.key: getattr(row, c.key) for c in Programme.__table__.columns}


def test_rules_refuse_injection_in_every_field(app, admin_client):
    # Saved once first, so a stored row exists to compare against.
    assert admin_client.post("/admin/rules", data=valid_form()).status_code == 302
    before = stored_settings(app)
    for field in valid_form():
        for value in SQLI:
            response = admin_client.post("/admin/rules", data=valid_form(**{field: value}))
            # A checkbox takes any value as 'ticked'; every other field refuses the text.
            expected = 302 if field in ("cross_team_only", "avoid_managers") else 422
            assert response.status_code == expected, (field, value, response.status_code)
    assert stored_settings(app) == before
    assert_nothing_dropped(app, users=1)


def test_admin_urls_and_queries_refuse_injection(app, admin_client, make_user):
    bob = make_user(email="bob@example.com", name="Bob", team="Search")
    for value in SQLI:
        q = quote(value, safe="")
        expected = {
            f"/admin/preview?week={q}": 422,
            f"/admin/whatif?group_size={q}&repeat_cooldown_weeks={q}": 422,
            f"/admin/export/{q}.csv": 404,
            f"/admin/rounds/{q}": 404,
            f"/admin/audit?page={q}": 200,  # not a number: the first page
        }
        for url, status in expected.items():
            assert admin_client.get(url).status_code == status, (url, status)
        assert admin_client.post(f"/admin/people/{bob}/{q}").status_code == 404
        response = admin_client.post("/admin/preview/save", data={"week": value, "use": value})
        assert response.status_code == 422, (value, response.status_code)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Round)) == 0
        assert db.session.get(User, bob).active
    assert_nothing_dropped(app, users=2)
