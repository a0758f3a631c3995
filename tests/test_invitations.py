"""Invitations for imported or provisioned people: queued by the service roster import and SCIM
call, accepted through the emailed link (a password, or single sign-on when there is one),
and nobody paired before accepting. On every backend."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from matcher.auth.invitations import queue_invitation
from matcher.extensions import db
from matcher.models import AvailabilityWindow, OutboxMessage, Profile, Team, User
from matcher.models.people import utcnow
from matcher.notify import send_pending
from matcher.profile.service import delete_account
from matcher.programmes.members import Choice, join
from matcher.rounds import planning
from matcher.weeks import week_label
from tests.support import coffee, login, make_six_people, outbox_link

WEEK = week_label(datetime.now(UTC).date() + timedelta(days=7))
PASSWORD = "an invited passphrase"


def invite(app, email_address: str = "ines@example.com", full: bool = False, **kw) -> int:
    """An imported person as a roster import makes them (no password, unconfirmed, a team and
    the coffee; `full`: interests and hours too), with the invitation queued; their id."""
    with app.app_context():
        session = db.session
        user = User(
            email=email_address,
            display_name="Ines Invited",
            invited_at=utcnow(),
            team=Team.get_or_create(session, "Imported"),
        )
        session.add(user)
        session.add(Profile(user=user))
        if full:
            user.interests = []
            from matcher.models import Interest

            user.interests.append(Interest.get_or_create(session, "Chess"))
            user.availability.append(
                AvailabilityWindow(weekday=0, start_minute=600, end_minute=900)
            )
        session.flush()
        join(session, coffee(session), user, Choice(coffee(session).id), utcnow().date())
        assert queue_invitation(session, user, **kw) is True
        session.commit()
        return user.id


def the_user(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def invitations(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "invitation")
        )


def accept(client, path: str, password: str = PASSWORD, confirm: str | None = None):
    return client.post(path, data={"password": password, "confirm": confirm or password})


def complete_profile_path(app) -> str:
    """Where an accepted invitation with an incomplete profile goes: the single sign-on
    engineer's profile step when installed, else the profile form."""
    return "/auth/complete" if "auth.complete_profile" in app.view_functions else "/me/edit"


# Queueing ------------------------------------------------------------------------------------


def test_queue_invitation_refuses_who_should_not_get_one(app, make_user):
    invited = invite(app, invited_by="Root Admin")
    inactive = invite(app, "ivan@example.com")
    gone = invite(app, "gone@example.com")
    verified = make_user(email="ada@example.com")
    with app.app_context():
        session = db.session
        session.get(User, inactive).active = False
        delete_account(session, session.get(User, gone))
        session.flush()
        # Once a day at most: a roster imported twice does not mail twice.
        assert queue_invitation(session, session.get(User, invited)) is False
        assert queue_invitation(session, session.get(User, verified)) is False
        assert queue_invitation(session, session.get(User, inactive)) is False
        assert queue_invitation(session, session.get(User, gone)) is False
        session.commit()
    assert invitations(app) == 3
    with time_machine.travel(datetime.now(UTC) + timedelta(days=1, minutes=1), tick=False):
        with app.app_context():
            assert queue_invitation(db.session, db.session.get(User, invited)) is True
            db.session.commit()
    assert invitations(app) == 4


def test_the_invitation_email_says_who_invited_and_links_on_base_url(app_factory):
    app = app_factory(BASE_URL="https://matcher.example.org", ORG_NAME="Acme")
    with app.test_request_context("/scim/v2/Users", base_url="http://evil.example"):
        invite(app, invited_by="Root <b>Admin</b>")
    with app.app_context():
        assert send_pending(db.session, app.config).sent == 1
    (path,) = Path(app.instance_path, "outbox").glob("*.eml")
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert mail["Subject"] == "You are invited to matcher"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    (url,) = re.findall(r"https://matcher\.example\.org/auth/invitation/\S+", text)
    assert url in html and "evil.example" not in text + html
    assert "Root <b>Admin</b> invited you" in text
    assert "Root &lt;b&gt;Admin&lt;/b&gt; invited you" in html
    assert "30 days" in text and "Acme" in text and "single sign-on" not in text


# Not paired before accepting -----------------------------------------------------------------


def test_nobody_invited_is_paired_before_accepting(app, make_user):
    org = make_six_people(make_user)
    ines = invite(app, full=True)
    with app.app_context():
        plan = planning.plan_round(db.session, coffee(db.session), WEEK)
    assert {uid for g in plan.groups for uid in g.user_ids} == set(org.values())
    assert plan.excluded == {"invited, not yet accepted": 1}
    accept(app.test_client(), outbox_link(app, "invitation", "ines@example.com"))
    with app.app_context():
        plan = planning.plan_round(db.session, coffee(db.session), WEEK)
    assert ines in {uid for g in plan.groups for uid in g.user_ids} | set(plan.unmatched)
    assert plan.excluded == {}


def test_the_admin_sees_who_has_not_accepted(app, client, admin):
    ines = invite(app)
    assert "invited" in client.get("/admin/people?status=invited").get_data(as_text=True)
    page = client.get(f"/admin/people/{ines}").get_data(as_text=True)
    assert "has not accepted the invitation yet" in page


# Accepting -----------------------------------------------------------------------------------


def test_accepting_with_a_password_confirms_logs_in_and_asks_for_the_profile(app):
    ines = invite(app)
    path = outbox_link(app, "invitation", "ines@example.com")
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    text = page.get_data(as_text=True)
    assert "ines@example.com" in text and 'name="password"' in text
    assert "/auth/sso/start" not in text  # no single sign-on configured
    response = accept(client, path)
    assert response.status_code == 302
    assert response.headers["Location"] == complete_profile_path(app)
    user = the_user(app, ines)
    assert user.email_verified_at is not None and user.password_hash is not None
    assert client.get("/dashboard/").status_code == 200  # logged in
    login(app.test_client(), "ines@example.com", PASSWORD)


def test_a_complete_profile_goes_to_the_dashboard(app):
    invite(app, full=True)
    response = accept(app.test_client(), outbox_link(app, "invitation", "ines@example.com"))
    assert response.headers["Location"] == "/dashboard/"


def test_after_acceptance_the_link_says_accepted_and_sets_nothing(app):
    ines = invite(app)
    path = outbox_link(app, "invitation", "ines@example.com")
    accept(app.test_client(), path)
    before = the_user(app, ines).password_hash
    other = app.test_client()
    page = other.get(path)
    assert page.status_code == 200
    assert "accepted already" in page.get_data(as_text=True)
    assert 'href="/auth/login"' in page.get_data(as_text=True)
    again = accept(other, path, "someone else's password")
    assert again.status_code == 200 and "accepted already" in again.get_data(as_text=True)
    assert the_user(app, ines).password_hash == before
    assert other.get("/me/").status_code == 302  # not logged in by the old link


def test_an_expired_invitation_is_410_and_a_new_one_can_be_asked_for(app):
    invite(app)
    path = outbox_link(app, "invitation", "ines@example.com")
    client = app.test_client()
    with time_machine.travel(datetime.now(UTC) + timedelta(days=30, minutes=1), tick=False):
        response = client.get(path)
        assert response.status_code == 410
        page = response.get_data(as_text=True)
        assert "expired" in page and 'action="/auth/invitation/resend"' in page
        assert accept(client, path).status_code == 410
        token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
        resent = client.post("/auth/invitation/resend", data={"token": token})
        assert resent.status_code == 200 and "Check your email" in resent.get_data(as_text=True)
        assert invitations(app) == 2
        fresh = outbox_link(app, "invitation", "ines@example.com")
        assert client.get(fresh).status_code == 200


def test_an_invitation_for_a_deleted_account_is_410(app):
    ines = invite(app)
    path = outbox_link(app, "invitation", "ines@example.com")
    with app.app_context():
        delete_account(db.session, db.session.get(User, ines))
        db.session.commit()
    response = app.test_client().get(path)
    assert response.status_code == 410
    assert "closed" in response.get_data(as_text=True)
    assert 'action="/auth/invitation/resend"' not in response.get_data(as_text=True)
    assert accept(app.test_client(), path).status_code == 410


# SQLite only: a bad signature is refused before the token is looked up.
@pytest.mark.sqlite_only("tampered tokens: refused before any query")
@pytest.mark.parametrize(
    "token",
    ["garbage", "x" * 5000, "resend", "%27%3Cscript%3E"],
)
def test_a_tampered_invitation_is_400(app, token):
    invite(app)
    assert app.test_client().get("/auth/invitation/" + token).status_code == 400
    if token != "resend":  # POST /auth/invitation/resend is the form asking for a new one
        assert accept(app.test_client(), "/auth/invitation/" + token).status_code == 400


def test_a_verification_link_is_not_an_invitation(app):
    ines = invite(app)
    with app.app_context():
        from matcher.auth.verification import make_verify_token

        token = make_verify_token(db.session.get(User, ines))
    assert app.test_client().get("/auth/invitation/" + token).status_code == 400


# SQLite only: the password is refused by the form before any write.
@pytest.mark.sqlite_only("invitation password refusals: nothing is written")
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"password": "short", "confirm": "short"}, "at least 10 characters"),
        ({"password": "p" * 200, "confirm": "p" * 200}, "at most 128 characters"),
        ({"password": "long enough 1", "confirm": "long enough 2"}, "The two passwords differ"),
        ({}, "Choose a password"),
    ],
)
def test_a_bad_password_is_refused_next_to_the_field(app, data, message):
    ines = invite(app)
    response = app.test_client().post(outbox_link(app, "invitation", "ines@example.com"), data=data)
    assert response.status_code == 422
    assert re.search(
        r'class="error" id="(password|confirm)-error" role="alert">[^<]*' + message,
        response.get_data(as_text=True),
    )
    assert the_user(app, ines).email_verified_at is None


def test_wrong_types_and_huge_bodies_never_500(app):
    invite(app)
    path = outbox_link(app, "invitation", "ines@example.com")
    client = app.test_client()
    assert client.post(path, json={"password": 5, "confirm": [1]}).status_code == 415
    assert client.post(path, data={"password": ["a" * 20, "b"], "confirm": "x"}).status_code == 422
    assert client.post(path, data={"password": "p" * 2_000_000}).status_code == 413
    assert client.post("/auth/invitation/resend", data={"token": ["a", "b"]}).status_code < 500
    assert client.post("/auth/invitation/resend", json=[1, 2]).status_code == 415
    assert invitations(app) == 1


SSO = {
    "OIDC_ISSUER": "https://idp.example.com",
    "OIDC_CLIENT_ID": "matcher",
    "OIDC_CLIENT_SECRET": "secret",
    "OIDC_NAME": "Okta",
}


def test_single_sign_on_is_offered_when_configured(app_factory):
    app = app_factory(**SSO)  # nothing is fetched from the provider to show the page
    invite(app)
    page = app.test_client().get(outbox_link(app, "invitation", "ines@example.com"))
    text = page.get_data(as_text=True)
    assert 'href="/auth/sso/start"' in text and "Sign in with Okta" in text
    assert 'name="password"' in text  # passwords still allowed
    with app.app_context():
        send_pending(db.session, app.config)
    (mail,) = Path(app.instance_path, "outbox").glob("*.eml")
    assert "sign in with Okta" in mail.read_text()


def test_without_passwords_only_single_sign_on_is_offered(app_factory):
    app = app_factory(PASSWORD_LOGIN=False, **SSO)
    ines = invite(app)
    path = outbox_link(app, "invitation", "ines@example.com")
    text = app.test_client().get(path).get_data(as_text=True)
    assert "Sign in with Okta" in text and 'name="password"' not in text
    assert accept(app.test_client(), path).status_code == 403
    assert the_user(app, ines).password_hash is None


def test_signing_up_with_an_invited_address_mails_the_invitation(app):
    from tests.support import signup_data

    ines = invite(app)
    response = app.test_client().post("/auth/signup", data=signup_data(email="ines@example.com"))
    assert response.status_code == 302
    link = outbox_link(app, "signup_exists", "ines@example.com", "invitation_url")
    assert link.startswith("/auth/invitation/")
    assert the_user(app, ines).password_hash is None  # nothing changed
    assert accept(app.test_client(), link).status_code == 302
