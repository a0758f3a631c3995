"""Single sign-on through a real OpenID Connect provider, through the real redirects."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import Profile, ProgrammeMember, SsoIdentity, User
from matcher.models.people import utcnow
from matcher.programmes.catalogue import default_programme
from matcher.rounds.participants import select_participants
from matcher.weeks import week_start
from tests.auth_sso.conftest import (
    CLIENT_ID,
    PROVIDER_NAME,
    Provider,
    callback_path,
    running_provider,
    sign_in,
    sso_settings,
    start,
)
from tests.notify.support import free_port
from tests.support import MEMBER_PASSWORD, login


def new_sub() -> str:
    return f"sub-{uuid.uuid4().hex[:12]}"


def count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def user_by_email(app: Flask, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def identities_of(app: Flask, user_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(SsoIdentity.issuer, SsoIdentity.subject).where(SsoIdentity.user_id == user_id)
        )
        return [tuple(row) for row in rows]


def logged_in_as(client: FlaskClient) -> str | None:
    """The email of whoever the client's session belongs to (None: nobody)."""
    page = client.get("/me/")
    if page.status_code != 200:
        return None
    return page.get_data(as_text=True)


def complete_form(coffee_id: int, team: str = "Payments") -> dict[str, object]:
    """A filled "complete your profile" form: a team, interests, two free days, the coffee."""
    return {
        "team": team,
        "projects": "Checkout",
        "interests": "Rust, chess",
        "location": "Berlin",
        "timezone": "Europe/Berlin",
        "meeting_mode": "either",
        "availability-day0-start": "10:00",
        "availability-day0-end": "16:00",
        "availability-day2-start": "09:00",
        "availability-day2-end": "12:00",
        "programmes": str(coffee_id),
        "programmes_shown": "1",
        "cadence_weeks": "1",
    }


def coffee_id(app: Flask) -> int:
    with app.app_context():
        programme = default_programme(db.session)
        db.session.commit()
        return programme.id


def is_pairable(app: Flask, user_id: int) -> bool:
    """Whether the next coffee round would consider this person (the rounds' own rule)."""
    with app.app_context():
        programme = default_programme(db.session)
        chosen, _ = select_participants(db.session, programme, week_start(utcnow().date()))
        return user_id in {person.id for person in chosen}


def test_login_and_signup_pages_offer_the_provider(client: FlaskClient):
    for path in ("/auth/login", "/auth/signup"):
        page = client.get(path).get_data(as_text=True)
        assert f"Sign in with {PROVIDER_NAME}" in page
        assert 'href="/auth/sso/start' in page
    # With password log-in on, the password form is still there.
    assert 'name="password"' in client.get("/auth/login").get_data(as_text=True)


def test_first_sign_in_opens_one_account_and_completing_it_makes_the_person_pairable(
    app: Flask, client: FlaskClient, provider: Provider
):
    sub = new_sub()
    users_before = count(app, User)
    response = sign_in(
        client,
        provider,
        sub,
        email="Grace.Hopper@Example.com",
        email_verified=True,
        name="Grace Hopper",
        department="Compilers",
        zoneinfo="America/New_York",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/complete"
    # The provider was asked with a state, a nonce and an S256 code challenge.
    query = provider.guard.authorize_queries[-1]
    assert query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] and query["nonce"]
    assert query["redirect_uri"] == ["http://127.0.0.1:5000/auth/sso/callback"]

    assert count(app, User) == users_before + 1
    user = user_by_email(app, "grace.hopper@example.com")
    assert user is not None
    assert user.display_name == "Grace Hopper"
    assert user.password_hash is None
    assert user.email_verified_at is not None
    assert identities_of(app, user.id) == [(provider.issuer, sub)]
    # Until the profile is completed: an empty profile, no programme, not pairable.
    with app.app_context():
        assert db.session.get(Profile, user.id) is not None
        assert (
            db.session.scalar(select(func.count()).where(ProgrammeMember.user_id == user.id)) == 0
        )
    assert not is_pairable(app, user.id)

    page = client.get("/auth/complete")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Complete your profile" in text
    assert 'value="Compilers"' in text  # the team, from the department claim
    assert '<option selected value="America/New_York">' in text

    programme = coffee_id(app)
    saved = client.post("/auth/complete", data=complete_form(programme, team="Compilers"))
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    assert saved.headers["Location"] == "/dashboard/"
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert stored.team.name == "Compilers"
        assert {i.name for i in stored.interests} == {"Rust", "chess"}
        assert stored.profile.timezone == "Europe/Berlin"
        assert len(stored.availability) == 2
        assert db.session.get(ProgrammeMember, (programme, user.id)) is not None
    assert is_pairable(app, user.id)
    # Completed: the form is not offered again.
    assert client.get("/auth/complete").headers["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_second_sign_in_logs_into_the_same_account(
    app: Flask, client: FlaskClient, provider: Provider
):
    sub = new_sub()
    sign_in(client, provider, sub, email="lin@example.com", email_verified=True, name="Lin")
    client.post("/auth/complete", data=complete_form(coffee_id(app)))
    client.post("/auth/logout")
    assert client.get("/me/").status_code == 302  # logged out
    users = count(app, User)

    again = sign_in(client, provider, sub, next_path="/me/")
    assert again.status_code == 302
    assert again.headers["Location"] == "/me/"  # the profile is complete: straight on
    assert count(app, User) == users
    assert count(app, SsoIdentity) == 1
    assert "lin@example.com" in client.get("/me/").get_data(as_text=True)
    with app.app_context():
        identity = db.session.scalar(select(SsoIdentity))
        assert identity.last_login_at is not None


def test_an_existing_password_account_is_linked_by_verified_email_not_duplicated(
    app: Flask, client: FlaskClient, provider: Provider, make_user
):
    user_id = make_user(email="ada@example.com", name="Ada Lovelace")
    users = count(app, User)
    response = sign_in(
        client, provider, new_sub(), email="ADA@example.com", email_verified=True, name="Ada L."
    )
    # Her profile is complete: no detour through the form.
    assert response.headers["Location"] == "/dashboard/"
    assert count(app, User) == users
    assert [sub for _, sub in identities_of(app, user_id)]
    with app.app_context():
        ada = db.session.get(User, user_id)
        assert ada.display_name == "Ada Lovelace"  # what she chose stays
    assert "ada@example.com" in client.get("/me/").get_data(as_text=True)
    # The password still works too.
    client.post("/auth/logout")
    login(client, "ada@example.com", MEMBER_PASSWORD)


def test_an_invited_account_is_accepted_by_signing_in(
    app: Flask, client: FlaskClient, provider: Provider
):
    from matcher.models import Team

    with app.app_context():
        invited = User(
            email="ivy@example.com",
            display_name="Ivy Invited",
            invited_at=utcnow() - timedelta(days=1),
            team=Team.get_or_create(db.session, "Platform"),
        )
        db.session.add_all([invited, Profile(user=invited, location="Lisbon")])
        db.session.commit()
        invited_id = invited.id
    response = sign_in(client, provider, new_sub(), email="ivy@example.com", email_verified=True)
    assert response.headers["Location"] == "/auth/complete"
    ivy = user_by_email(app, "ivy@example.com")
    assert ivy.id == invited_id and ivy.email_verified_at is not None
    page = client.get("/auth/complete").get_data(as_text=True)
    assert 'value="Platform"' in page and 'value="Lisbon"' in page  # what the roster said


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "mallory@example.com", "email_verified": False},
        {"email": "mallory@example.com"},  # no email_verified claim at all
        {"email": "mallory@example.com", "email_verified": "no"},
        {"email_verified": True},  # no email
        {"email": "not an address", "email_verified": True},
    ],
    ids=["unverified", "unstated", "not-true", "no-email", "bad-email"],
)
def test_no_account_without_a_verified_email(
    app: Flask, client: FlaskClient, provider: Provider, claims: dict
):
    users = count(app, User)
    response = sign_in(client, provider, new_sub(), name="Mallory", **claims)
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "No account opened" in text
    assert "email" in text
    assert count(app, User) == users
    assert count(app, SsoIdentity) == 0
    assert logged_in_as(client) is None


def test_an_unverified_email_never_links_an_existing_account(
    app: Flask, client: FlaskClient, provider: Provider, make_user
):
    user_id = make_user(email="ada@example.com")
    response = sign_in(client, provider, new_sub(), email="ada@example.com", email_verified=False)
    assert response.status_code == 403
    assert identities_of(app, user_id) == []
    assert logged_in_as(client) is None


def test_entra_domain_owner_verified_claim_counts_as_verified(
    app: Flask, client: FlaskClient, provider: Provider
):
    # Microsoft Entra ID sends no email_verified; xms_edov says the tenant owns the domain.
    response = sign_in(client, provider, new_sub(), email="kim@example.com", xms_edov=True)
    assert response.headers["Location"] == "/auth/complete"
    assert user_by_email(app, "kim@example.com") is not None


def test_a_disallowed_domain_opens_no_account(app_factory, client: FlaskClient, provider: Provider):
    app = app_factory(**sso_settings(provider, ALLOWED_EMAIL_DOMAINS="example.com, acme.test"))
    client = app.test_client()
    response = sign_in(client, provider, new_sub(), email="eve@elsewhere.org", email_verified=True)
    assert response.status_code == 403
    assert "not one of them" in response.get_data(as_text=True)
    assert count(app, User) == 0
    # An allowed one does.
    ok = sign_in(client, provider, new_sub(), email="eve@example.com", email_verified=True)
    assert ok.headers["Location"] == "/auth/complete"


def test_a_provider_whose_issuer_differs_from_the_setting_is_refused(
    app_factory, provider: Provider
):
    # The same provider reached under another name: its discovery document names its own
    # issuer (127.0.0.1), not the configured one (localhost).
    app = app_factory(**sso_settings(provider, OIDC_ISSUER=f"http://localhost:{provider.port}"))
    client = app.test_client()
    response = client.get("/auth/sso/start")
    assert response.status_code == 502
    text = response.get_data(as_text=True)
    assert "not set up correctly" in text and "issuer" in text
    assert count(app, User) == 0


def test_an_id_token_from_another_issuer_is_refused(
    app: Flask, client: FlaskClient, provider: Provider
):
    sub = new_sub()
    provider.add_user(sub, email="oscar@example.com", email_verified=True)
    location = provider.authorize(start(client), sub)
    # The token endpoint now signs ID tokens as another issuer.
    provider.guard.token_host = f"127.0.0.2:{provider.port}"
    response = client.get(callback_path(location))
    assert response.status_code == 502
    assert "could not be verified" in response.get_data(as_text=True)
    assert count(app, User) == 0
    assert logged_in_as(client) is None


def _state_key(client: FlaskClient) -> str:
    with client.session_transaction() as session:
        keys = [key for key in session if key.startswith("_state_idp_")]
    assert len(keys) == 1
    return keys[0]


def test_a_wrong_code_verifier_is_refused_by_the_provider(
    app: Flask, client: FlaskClient, provider: Provider
):
    sub = new_sub()
    provider.add_user(sub, email="pk@example.com", email_verified=True)
    location = provider.authorize(start(client), sub)
    key = _state_key(client)
    with client.session_transaction() as session:
        state = session[key]
        state["data"]["code_verifier"] = "x" * 64
        session[key] = state
    response = client.get(callback_path(location))
    assert response.status_code == 502
    assert "refused to finish the sign-in" in response.get_data(as_text=True)
    assert count(app, User) == 0


def test_a_wrong_nonce_is_refused(app: Flask, client: FlaskClient, provider: Provider):
    sub = new_sub()
    provider.add_user(sub, email="nonce@example.com", email_verified=True)
    location = provider.authorize(start(client), sub)
    key = _state_key(client)
    with client.session_transaction() as session:
        state = session[key]
        state["data"]["nonce"] = "a-nonce-this-browser-never-sent"
        session[key] = state
    response = client.get(callback_path(location))
    assert response.status_code == 502
    assert "could not be verified" in response.get_data(as_text=True)
    assert count(app, User) == 0


# SQLite only: the state is checked against the session before any query.
@pytest.mark.sqlite_only("tampered sign-in state: refused before any query")
@pytest.mark.parametrize(
    "query",
    [
        "code=abc&state=forged",
        "code=abc",
        "state=" + "s" * 5000,
        "error=server_error",
        "code=%00&state=%00",
    ],
    ids=["forged-state", "no-state", "long-state", "error-no-state", "nul"],
)
def test_a_tampered_or_missing_state_gets_a_clear_400(
    app: Flask, client: FlaskClient, provider: Provider, query: str
):
    start(client)  # a real sign-in is pending in this browser
    response = client.get(f"/auth/sso/callback?{query}")
    assert response.status_code == 400
    if "%00" not in query:  # a NUL is refused before any page, with the generic 400
        assert "Start the sign-in again" in response.get_data(as_text=True)
    assert count(app, User) == 0
    assert logged_in_as(client) is None


def test_a_callback_cannot_be_replayed(app: Flask, client: FlaskClient, provider: Provider):
    sub = new_sub()
    provider.add_user(sub, email="rita@example.com", email_verified=True)
    location = provider.authorize(start(client), sub)
    assert client.get(callback_path(location)).status_code == 302
    client.post("/auth/logout")
    replay = client.get(callback_path(location))
    assert replay.status_code == 400
    assert "Start the sign-in again" in replay.get_data(as_text=True)
    assert logged_in_as(client) is None


def test_a_callback_from_another_browser_is_refused(
    app: Flask, client: FlaskClient, provider: Provider
):
    # Login CSRF: the attacker's own code and state, pushed into a victim's browser.
    sub = new_sub()
    provider.add_user(sub, email="attacker@example.com", email_verified=True)
    location = provider.authorize(start(client), sub)
    victim = app.test_client()
    response = victim.get(callback_path(location))
    assert response.status_code == 400
    assert count(app, User) == 0


def test_cancelling_at_the_provider_is_a_clear_page(
    app: Flask, client: FlaskClient, provider: Provider
):
    import requests

    url = start(client)
    denied = requests.post(url, data={"action": "deny"}, allow_redirects=False, timeout=10)
    assert denied.status_code == 302
    response = client.get(callback_path(denied.headers["Location"]))
    assert response.status_code == 403
    assert "cancelled or refused" in response.get_data(as_text=True)
    assert count(app, User) == 0


def test_a_provider_that_is_down_gets_a_clear_page_and_the_app_still_starts(app_factory):
    port = free_port()  # nothing listens there
    app = app_factory(
        OIDC_ISSUER=f"http://127.0.0.1:{port}",
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET="x",
        OIDC_NAME="Acme SSO",
    )
    client = app.test_client()
    assert "Sign in with Acme SSO" in client.get("/auth/login").get_data(as_text=True)
    response = client.get("/auth/sso/start")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "Acme SSO cannot be reached" in text
    assert "log in with your email and password" in text
    assert count(app, User) == 0


def test_a_provider_that_goes_down_during_the_sign_in_gets_a_clear_page(app_factory):
    with running_provider() as provider:
        app = app_factory(**sso_settings(provider))
        client = app.test_client()
        sub = new_sub()
        provider.add_user(sub, email="late@example.com", email_verified=True)
        location = provider.authorize(start(client), sub)
    # Stopped between the authorize page and the callback's token request.
    response = client.get(callback_path(location))
    assert response.status_code == 503
    assert "cannot be reached" in response.get_data(as_text=True)
    assert count(app, User) == 0


def test_next_is_followed_only_on_this_site(
    app: Flask, client: FlaskClient, provider: Provider, make_user
):
    make_user(email="ned@example.com")
    sub = new_sub()
    provider.add_user(sub, email="ned@example.com", email_verified=True)
    for target, expected in [
        ("/me/do-not-pair", "/me/do-not-pair"),
        ("//evil.example/", "/dashboard/"),
        ("https://evil.example/", "/dashboard/"),
    ]:
        client.post("/auth/logout")
        location = provider.authorize(start(client, target), sub)
        response = client.get(callback_path(location))
        assert response.headers["Location"] == expected


def test_a_first_sign_in_keeps_next_for_after_the_profile(
    app: Flask, client: FlaskClient, provider: Provider
):
    response = sign_in(
        client,
        provider,
        new_sub(),
        next_path="/me/",
        email="nia@example.com",
        email_verified=True,
    )
    assert response.headers["Location"] == "/auth/complete"
    saved = client.post("/auth/complete", data=complete_form(coffee_id(app)))
    assert saved.headers["Location"] == "/me/"


def test_the_session_is_new_after_signing_in(app: Flask, client: FlaskClient, provider: Provider):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client, provider, new_sub(), email="sid@example.com", email_verified=True)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert not any(key.startswith("_state_") for key in session)


def test_a_deactivated_account_cannot_sign_in(
    app: Flask, client: FlaskClient, provider: Provider, make_user
):
    user_id = make_user(email="dee@example.com")
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    sub = new_sub()
    response = sign_in(client, provider, sub, email="dee@example.com", email_verified=True)
    assert response.status_code == 403
    assert "deactivated" in response.get_data(as_text=True)
    assert identities_of(app, user_id) == []
    assert logged_in_as(client) is None


def test_a_deleted_account_cannot_sign_in(app: Flask, client: FlaskClient, provider: Provider):
    sub = new_sub()
    sign_in(client, provider, sub, email="del@example.com", email_verified=True, name="Del")
    old = user_by_email(app, "del@example.com")
    page = client.get("/me/delete").get_data(as_text=True)
    assert 'name="email"' in page and 'name="password"' not in page  # no password to ask
    wrong = client.post("/me/delete", data={"email": "other@example.com", "confirm": "y"})
    assert wrong.status_code == 422
    assert "not the address of this account" in wrong.get_data(as_text=True)
    deleted = client.post("/me/delete", data={"email": "DEL@example.com", "confirm": "y"})
    assert deleted.status_code == 302
    with app.app_context():
        assert db.session.get(User, old.id).is_deleted
    assert identities_of(app, old.id) == []

    # Signing in again never reopens the deleted account: it is a new person now.
    again = sign_in(client, provider, sub)
    assert again.headers["Location"] == "/auth/complete"
    fresh = user_by_email(app, "del@example.com")
    assert fresh.id != old.id
    with app.app_context():
        assert db.session.get(User, old.id).is_deleted
        assert db.session.get(User, old.id).email != "del@example.com"


def test_an_identity_pointing_at_a_deleted_account_is_refused(
    app: Flask, client: FlaskClient, provider: Provider
):
    sub = new_sub()
    sign_in(client, provider, sub, email="zed@example.com", email_verified=True)
    client.post("/auth/logout")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "zed@example.com"))
        user.deleted_at = utcnow()  # closed some other way, the identity left behind
        db.session.commit()
    response = sign_in(client, provider, sub)
    assert response.status_code == 403
    assert logged_in_as(client) is None


def test_an_address_already_linked_to_another_subject_is_not_handed_over(
    app: Flask, client: FlaskClient, provider: Provider
):
    first = new_sub()
    sign_in(client, provider, first, email="sam@example.com", email_verified=True)
    client.post("/auth/logout")
    # The provider gave the address to someone else (a recycled mailbox).
    response = sign_in(client, provider, new_sub(), email="sam@example.com", email_verified=True)
    assert response.status_code == 409
    assert count(app, User) == 1
    assert count(app, SsoIdentity) == 1
    assert logged_in_as(client) is None


def test_hostile_claims_are_cleaned_and_escaped(
    app: Flask, client: FlaskClient, provider: Provider
):
    response = sign_in(
        client,
        provider,
        new_sub(),
        email="hx@example.com",
        email_verified=True,
        name="<script>alert(1)</script>\x00\n" + "N" * 500,
        department='"><img src=x onerror=alert(1)>',
        zoneinfo="Mars/Olympus_Mons",
    )
    assert response.headers["Location"] == "/auth/complete"
    user = user_by_email(app, "hx@example.com")
    assert len(user.display_name) <= 80 and "\x00" not in user.display_name
    page = client.get("/auth/complete").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page
    assert '<option selected value="UTC">' in page  # an unknown zone is not kept


def test_a_name_falls_back_to_given_and_family_then_the_address(
    app: Flask, client: FlaskClient, provider: Provider
):
    sign_in(
        client,
        provider,
        new_sub(),
        email="gf@example.com",
        email_verified=True,
        given_name="Grace",
        family_name="Field",
    )
    client.post("/auth/logout")
    sign_in(client, provider, new_sub(), email="bare.name@example.com", email_verified=True)
    assert user_by_email(app, "gf@example.com").display_name == "Grace Field"
    assert user_by_email(app, "bare.name@example.com").display_name == "bare.name"


def test_complete_profile_shows_errors_next_to_fields_and_saves_nothing(
    app: Flask, client: FlaskClient, provider: Provider
):
    sign_in(client, provider, new_sub(), email="err@example.com", email_verified=True)
    data = complete_form(coffee_id(app))
    data["team"] = ""
    data["programmes"] = "999999"
    response = client.post("/auth/complete", data=data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Which team are you in?" in text
    assert "not open to join" in text
    user = user_by_email(app, "err@example.com")
    assert user.team_id is None
    assert not is_pairable(app, user.id)


def test_complete_profile_needs_a_login(client: FlaskClient):
    response = client.get("/auth/complete")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_sso_routes_are_absent_without_configuration(app_factory):
    app = app_factory()
    client = app.test_client()
    assert client.get("/auth/sso/start").status_code == 404
    assert client.get("/auth/sso/callback?code=a&state=b").status_code == 404
    assert "Sign in with" not in client.get("/auth/login").get_data(as_text=True)
    assert "Sign in with" not in client.get("/auth/signup").get_data(as_text=True)


def test_an_admin_without_a_profile_is_asked_once_then_left_alone(
    app: Flask, client: FlaskClient, provider: Provider
):
    # As `flask users create-admin` makes them: outside the pairings, no profile.
    from matcher.auth.service import register_user

    with app.app_context():
        register_user(db.session, "Root", "root@example.com", "root password 1", None, True)
        db.session.commit()
    sub = new_sub()
    first = sign_in(client, provider, sub, email="root@example.com", email_verified=True)
    assert first.headers["Location"] == "/auth/complete"  # linked now: offered once
    client.post("/auth/logout")
    again = sign_in(client, provider, sub)
    assert again.headers["Location"] == "/dashboard/"
    client.post("/auth/logout")
    # Someone else who never completed it is asked again.
    other = new_sub()
    sign_in(client, provider, other, email="later@example.com", email_verified=True)
    client.post("/auth/logout")
    assert sign_in(client, provider, other).headers["Location"] == "/auth/complete"
