"""Web sign-up proves the address: the same answer for a new and a taken address, a signed,
expiring confirmation link, and nobody unconfirmed in a round. On every backend."""

from __future__ import annotations

import email
import email.policy
import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from matcher.auth.verification import make_verify_token
from matcher.extensions import db
from matcher.models import OutboxMessage, Profile, User
from matcher.notify import send_pending
from matcher.rounds import planning, publishing
from matcher.weeks import week_label
from tests.programme_pairings import new_programme
from tests.support import (
    MEMBER_PASSWORD,
    coffee,
    login,
    make_six_people,
    outbox_link,
    signup_data,
    verify_from_outbox,
)

WEEK = week_label(datetime.now(UTC).date() + timedelta(days=7))


def user_row(app, email: str = "grace@example.com") -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def kinds(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def visible(page: str) -> str:
    """A page without its per-request parts (CSRF tokens)."""
    return re.sub(r'name="csrf_token" (type="hidden" )?value="[^"]*"', "", page)


# The same answer ---------------------------------------------------------------------------


def test_new_and_taken_addresses_get_the_same_answer(app):
    first, second = app.test_client(), app.test_client()
    new = first.post("/auth/signup", data=signup_data())
    taken = second.post("/auth/signup", data=signup_data())  # the same address, taken now
    assert new.status_code == taken.status_code == 302
    assert new.headers["Location"] == taken.headers["Location"] == "/auth/signup/check-email"
    assert new.get_data() == taken.get_data()
    pages = [c.get("/auth/signup/check-email") for c in (first, second)]
    assert [p.status_code for p in pages] == [200, 200]
    assert visible(pages[0].get_data(as_text=True)) == visible(pages[1].get_data(as_text=True))
    assert "Check your email" in pages[0].get_data(as_text=True)
    assert "grace@example.com" in pages[0].get_data(as_text=True)
    # Neither is logged in: being logged in would tell the two apart.
    assert first.get("/me/").status_code == second.get("/me/").status_code == 302
    assert kinds(app) == ["verify_email", "signup_exists"]


def test_a_programmes_refusal_is_the_same_for_a_taken_address(app, make_user):
    with app.app_context():
        coffee(db.session)  # the default programme, which make_user joins
        lunch = new_programme(
            db.session, "Payments lunch", "payments", open_to="teams", open_values=("Payments",)
        )
        db.session.commit()
        lunch_id = lunch.id
    make_user(email="ada@example.com", team="Search")
    answers = []
    for address in ("grace@example.com", "ada@example.com"):
        data = signup_data(email=address, programmes_shown="1", team="Compilers")
        data["programmes"] = [str(lunch_id)]
        response = app.test_client().post("/auth/signup", data=data)
        page = visible(response.get_data(as_text=True)).replace(address, "ADDRESS")
        answers.append((response.status_code, page))
    assert answers[0][0] == 422 and "Payments lunch is only for some teams" in answers[0][1]
    assert answers[0] == answers[1]
    assert count(app, User) == 1 and kinds(app) == []


def test_a_taken_address_changes_nothing_and_tells_its_owner(app, make_user):
    ada_id = make_user(email="ada@example.com", name="Ada Lovelace", team="Payments")
    before = user_row(app, "ada@example.com")
    response = app.test_client().post(
        "/auth/signup",
        data=signup_data(
            email="ADA@example.com", display_name="Mallory", password="m" * 12, confirm="m" * 12
        ),
    )
    assert response.status_code == 302
    after = user_row(app, "ada@example.com")
    assert (after.display_name, after.password_hash, after.session_token) == (
        before.display_name,
        before.password_hash,
        before.session_token,
    )
    assert count(app, User) == 1 and count(app, Profile) == 1
    with app.app_context():
        (message,) = db.session.scalars(select(OutboxMessage)).all()
        assert (message.kind, message.user_id) == ("signup_exists", ada_id)
        assert message.payload["confirmed"] is True
    # Mallory's password does not log in; Ada's still does; the emailed reset link works.
    assert (
        app.test_client()
        .post("/auth/login", data={"email": "ada@example.com", "password": "m" * 12})
        .status_code
        == 422
    )
    login(app.test_client(), "ada@example.com")
    reset = outbox_link(app, "signup_exists", "ada@example.com", "reset_url")
    assert reset.startswith("/auth/reset/")
    assert app.test_client().get(reset).status_code == 200


def test_the_owners_email_is_throttled_like_password_resets(app, make_user):
    make_user(email="ada@example.com")
    for _ in range(8):
        app.test_client().post("/auth/signup", data=signup_data(email="ada@example.com"))
    assert kinds(app) == ["signup_exists"] * 5


@pytest.mark.parametrize("taken", [False, True])
def test_the_email_the_visitor_gets_reads_well(app, make_user, taken):
    if taken:
        make_user(email="grace@example.com", name="Grace Hopper")
    app.test_client().post("/auth/signup", data=signup_data())
    with app.app_context():
        assert send_pending(db.session, app.config).sent == 1
    (path,) = Path(app.instance_path, "outbox").glob("*.eml")
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert mail["To"].addresses[0].addr_spec == "grace@example.com"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    if taken:
        assert mail["Subject"] == "You already have a matcher account"
        assert "nothing was created" in text
        for url in ("http://127.0.0.1:5000/auth/login", "http://127.0.0.1:5000/auth/reset/"):
            assert url in text and url in html
    else:
        assert mail["Subject"] == "Confirm your email address for matcher"
        (url,) = re.findall(r"http://127\.0\.0\.1:5000/auth/verify/\S+", text)
        assert url in html and "3 days" in text


def test_sign_up_takes_about_as_long_for_a_taken_address(app_factory):
    # The real hash cost, as the log-in timing test: both answers hash a password.
    app = app_factory(PASSWORD_HASH_METHOD="scrypt")
    app.test_client().post("/auth/signup", data=signup_data(email="taken@example.com"))

    def attempt(email: str) -> float:
        start = time.perf_counter()
        response = app.test_client().post("/auth/signup", data=signup_data(email=email))
        elapsed = time.perf_counter() - start
        assert response.status_code == 302
        return elapsed

    attempt("warm-up@example.com")
    new, taken = [], []
    for k in range(8):  # interleaved, so a slower moment of the machine hits both alike
        new.append(attempt(f"new{k}@example.com"))
        taken.append(attempt("taken@example.com"))
    fast, slow = sorted([statistics.median(new), statistics.median(taken)])
    assert slow / fast < 1.5, (statistics.median(new), statistics.median(taken))


# The link ------------------------------------------------------------------------------------


def test_the_link_confirms_logs_in_once_and_then_says_confirmed(app):
    client = app.test_client()
    client.post("/auth/signup", data=signup_data())
    assert user_row(app).email_verified_at is None
    link = outbox_link(app, "verify_email", "grace@example.com")
    assert link.startswith("/auth/verify/")
    browser = app.test_client()
    first = browser.get(link)
    assert first.status_code == 302 and first.headers["Location"] == "/dashboard/"
    assert first.headers["Referrer-Policy"] == "no-referrer"
    assert user_row(app).email_verified_at is not None
    page = browser.get("/dashboard/").get_data(as_text=True)
    assert "Your address is confirmed" in page and "Confirm your address" not in page
    # Clicked again (in another browser): confirmed already, and nobody is logged in by it.
    other = app.test_client()
    again = other.get(link)
    assert again.status_code == 200
    assert "confirmed already" in again.get_data(as_text=True)
    assert other.get("/me/").status_code == 302


def test_the_link_is_built_on_base_url_not_the_host_header(app_factory):
    app = app_factory(BASE_URL="https://matcher.example.org")
    app.test_client().post("/auth/signup", data=signup_data(), headers={"Host": "evil.example"})
    with app.app_context():
        (url,) = db.session.scalars(
            select(OutboxMessage.payload["url"].as_string()).where(
                OutboxMessage.kind == "verify_email"
            )
        )
    assert url.startswith("https://matcher.example.org/auth/verify/")


def test_an_expired_link_is_410_and_offers_a_new_one(app):
    app.test_client().post("/auth/signup", data=signup_data())
    link = outbox_link(app, "verify_email", "grace@example.com")
    client = app.test_client()
    with time_machine.travel(datetime.now(UTC) + timedelta(days=3, minutes=1), tick=False):
        response = client.get(link)
        assert response.status_code == 410
        page = response.get_data(as_text=True)
        assert "expired" in page and 'action="/auth/verify/resend"' in page
        token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
        resent = client.post("/auth/verify/resend", data={"token": token})
        assert resent.status_code == 200 and "Check your email" in resent.get_data(as_text=True)
        assert kinds(app) == ["verify_email", "verify_email"]
        fresh = outbox_link(app, "verify_email", "grace@example.com")
        assert client.get(fresh).status_code == 302
    assert user_row(app).email_verified_at is not None


def test_a_link_just_before_it_expires_works(app):
    app.test_client().post("/auth/signup", data=signup_data())
    link = outbox_link(app, "verify_email", "grace@example.com")
    with time_machine.travel(datetime.now(UTC) + timedelta(days=3, minutes=-1), tick=False):
        assert app.test_client().get(link).status_code == 302


# SQLite only: a bad signature is refused before the token is looked up.
@pytest.mark.sqlite_only("tampered tokens: refused before any query")
@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.replace(".", "", 1),
        lambda t: "x" * 5000,
        lambda t: "%00%27%3Cscript%3E",
        lambda t: "resend",
    ],
)
def test_a_tampered_link_is_400(app, mangle):
    app.test_client().post("/auth/signup", data=signup_data())
    token = outbox_link(app, "verify_email", "grace@example.com").removeprefix("/auth/verify/")
    response = app.test_client().get("/auth/verify/" + mangle(token))
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)
    assert user_row(app).email_verified_at is None


def test_a_link_for_an_address_the_account_no_longer_has_is_410(app):
    app.test_client().post("/auth/signup", data=signup_data())
    link = outbox_link(app, "verify_email", "grace@example.com")
    with app.app_context():
        db.session.scalar(select(User)).email = "grace@example.org"
        db.session.commit()
    response = app.test_client().get(link)
    assert response.status_code == 410
    assert "no longer uses" in response.get_data(as_text=True)
    assert user_row(app, "grace@example.org").email_verified_at is None


def test_a_link_of_another_kind_or_key_is_400(app, make_user):
    from itsdangerous import URLSafeTimedSerializer

    app.test_client().post("/auth/signup", data=signup_data())
    user_id = user_row(app).id
    forged = URLSafeTimedSerializer("not the key", salt="verify-email").dumps({"u": user_id})
    reset_kind = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="password-reset").dumps(
        {"u": user_id, "e": "x"}
    )
    for token in (forged, reset_kind):
        assert app.test_client().get("/auth/verify/" + token).status_code == 400
    with app.app_context():
        user = db.session.get(User, user_id)
        good = make_verify_token(user)
    assert app.test_client().get("/auth/verify/" + good).status_code == 302


# Logged in but unconfirmed -----------------------------------------------------------------


def test_an_unconfirmed_person_who_logs_in_sees_the_notice_and_can_resend(app):
    app.test_client().post("/auth/signup", data=signup_data())
    client = app.test_client()
    login(client, "grace@example.com")
    for path in ("/dashboard/", "/me/"):
        page = client.get(path).get_data(as_text=True)
        assert "Confirm your address to be paired" in page
        assert 'action="/auth/verify/resend"' in page
    # The programme card does not contradict the notice.
    assert "You are in the pairings" not in page
    assert "you are paired once your address is confirmed" in page
    response = client.post("/auth/verify/resend")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "We sent a new link to grace@example.com" in page
    for _ in range(5):
        client.post("/auth/verify/resend")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "several links in the last hour" in page
    assert kinds(app) == ["verify_email"] * 5  # the sign-up's and four more, then no more
    verify_from_outbox(app, "grace@example.com", client)
    page = client.get("/me/").get_data(as_text=True)
    assert "Confirm your address" not in page and "You are in the pairings" in page


def test_resend_without_a_session_or_a_good_token_sends_nothing(app):
    app.test_client().post("/auth/signup", data=signup_data())
    client = app.test_client()
    assert client.post("/auth/verify/resend").status_code == 302  # to log in
    for token in ("garbage", "x" * 3000, ""):
        response = client.post("/auth/verify/resend", data={"token": token})
        assert response.status_code in (200, 302)
    response = client.post("/auth/verify/resend", data={"token": ["a", "b"]})
    assert response.status_code < 500
    response = client.post("/auth/verify/resend", json={"token": 5})
    assert response.status_code < 500
    assert kinds(app) == ["verify_email"]


def test_a_password_reset_confirms_the_address(app):
    app.test_client().post("/auth/signup", data=signup_data())
    client = app.test_client()
    client.post("/auth/reset", data={"email": "grace@example.com"})
    path = outbox_link(app, "password_reset", "grace@example.com")
    response = client.post(
        path, data={"password": "a new passphrase", "confirm": "a new passphrase"}
    )
    assert response.status_code == 302
    assert user_row(app).email_verified_at is not None


# Rounds ------------------------------------------------------------------------------------


def plan(app):
    with app.app_context():
        return planning.plan_round(db.session, coffee(db.session), WEEK)


def test_nobody_unconfirmed_is_paired_until_they_confirm(app, make_user):
    org = make_six_people(make_user)  # made by the service: confirmed, as migrated accounts
    app.test_client().post("/auth/signup", data=signup_data(team="Compilers"))
    grace = user_row(app).id
    first = plan(app)
    paired = {uid for g in first.groups for uid in g.user_ids}
    assert paired == set(org.values())
    assert first.excluded == {"address not confirmed": 1}
    verify_from_outbox(app, "grace@example.com")
    second = plan(app)
    assert grace in {uid for g in second.groups for uid in g.user_ids} | set(second.unmatched)
    assert "address not confirmed" not in second.excluded
    # The round service itself (what the scheduler runs) agrees.
    with app.app_context():
        outcome = publishing.run_round(db.session, coffee(db.session), WEEK)
        db.session.commit()
        assert outcome.created


def test_the_admin_sees_why_an_unconfirmed_person_is_left_out(app, client, admin, make_user):
    make_six_people(make_user)
    app.test_client().post("/auth/signup", data=signup_data())
    people = client.get("/admin/people").get_data(as_text=True)
    assert "address not confirmed" in people
    preview = client.get("/admin/preview").get_data(as_text=True)
    assert "1 address not confirmed" in preview
    grace = user_row(app).id
    person = client.get(f"/admin/people/{grace}").get_data(as_text=True)
    assert "has not confirmed the email address yet" in person
    only = client.get("/admin/people?status=unverified").get_data(as_text=True)
    assert "Grace Hopper" in only and "Ada" not in only


# Hostile input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"password": "p" * 100_000, "confirm": "p" * 100_000},
        {"email": "a@" + "b" * 300 + ".com"},
        {"email": "grace@example.com\r\nBcc: x@evil.example"},
        {"email": "' OR 1=1 --@example.com"},
    ],
)
def test_hostile_sign_ups_are_refused_next_to_the_field_and_send_nothing(app, changes):
    response = app.test_client().post("/auth/signup", data=signup_data(**changes))
    assert response.status_code in (413, 422)
    assert count(app, User) == 0 and kinds(app) == []


def test_wrong_types_never_500(app):
    client = app.test_client()
    assert client.post("/auth/signup", json={"email": ["x"], "password": 5}).status_code < 500
    data = signup_data()
    data["email"] = ["a@example.com", "b@example.com"]
    assert client.post("/auth/signup", data=data).status_code < 500
    assert client.get("/auth/verify/" + "%FF" * 10).status_code == 400
    assert client.head("/auth/verify/abc").status_code == 400


def test_members_made_by_the_service_and_migrated_accounts_stay_paired(app, make_user):
    org = make_six_people(make_user)
    with app.app_context():
        assert all(db.session.get(User, uid).is_verified for uid in org.values())
    assert plan(app).excluded == {}


def test_the_password_change_page_is_linked_from_the_profile(app, make_user):
    make_user(email="ada@example.com")
    client = app.test_client()
    login(client, "ada@example.com", MEMBER_PASSWORD)
    assert 'href="/auth/password"' in client.get("/me/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/auth/verify/resend", 5),
        ("GET", "/auth/verify/not-a-token", 60),
        ("HEAD", "/auth/verify/not-a-token", 60),
        ("POST", "/auth/invitation/resend", 5),
        ("POST", "/auth/invitation/not-a-token", 10),
        ("GET", "/auth/invitation/not-a-token", 60),
    ],
)
def test_links_and_asking_for_new_ones_are_rate_limited(app_factory, method, path, allowed):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    codes = [client.open(path, method=method, data={}).status_code for _ in range(allowed + 1)]
    assert 429 not in codes[:allowed] and 500 not in codes
    assert codes[allowed] == 429
    other = client.open(path, method=method, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code != 429
