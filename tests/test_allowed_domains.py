"""ALLOWED_EMAIL_DOMAINS: sign-up only for addresses at the organisation's domains, said next to
the email field; exact domains (no subdomains), any letter case, spaces in the setting."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from matcher.auth.verification import allowed_domains, email_domain_allowed
from matcher.extensions import db
from matcher.models import OutboxMessage, User
from tests.support import signup_data

SETTING = " Example.com ,example.org,, "
MESSAGE = "Sign-up is open to addresses at example.com, example.org."


@pytest.mark.parametrize(
    ("setting", "email", "allowed"),
    [
        ("", "anyone@anywhere.test", True),
        (None, "anyone@anywhere.test", True),
        (" , ", "anyone@anywhere.test", True),
        (SETTING, "ada@example.com", True),
        (SETTING, "Ada@EXAMPLE.COM", True),
        (SETTING, "ada@example.org", True),
        (SETTING, " ada@example.com ", True),
        (SETTING, "ada@example.com.", True),
        (SETTING, "ada@mail.example.com", False),  # subdomains are not implied
        (SETTING, "ada@example.com.evil.test", False),
        (SETTING, "ada@notexample.com", False),
        (SETTING, "ada@example.net", False),
        (SETTING, "example.com", False),
        (SETTING, "@example.com", False),
        (SETTING, "", False),
        (["example.com", " EXAMPLE.org "], "ada@example.org", True),  # a JSON list from the env
        (["example.com"], "ada@example.org", False),
        ("@example.com", "ada@example.com", True),
    ],
)
def test_email_domain_allowed(setting, email, allowed):
    assert email_domain_allowed({"ALLOWED_EMAIL_DOMAINS": setting}, email) is allowed


def test_the_list_is_cleaned_once():
    assert allowed_domains({"ALLOWED_EMAIL_DOMAINS": SETTING}) == ["example.com", "example.org"]
    assert allowed_domains({}) == []


def stored(app) -> tuple[int, int]:
    with app.app_context():
        users = db.session.scalar(select(func.count()).select_from(User))
        messages = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        return users, messages


@pytest.mark.parametrize("email", ["grace@elsewhere.net", "grace@sub.example.com"])
def test_sign_up_refuses_another_domain_next_to_the_email_field(app_factory, email):
    app = app_factory(ALLOWED_EMAIL_DOMAINS=SETTING)
    response = app.test_client().post("/auth/signup", data=signup_data(email=email))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="email-error" role="alert">' + re.escape(MESSAGE), page)
    assert f'value="{email}"' in page  # what was typed stays, to correct it
    assert stored(app) == (0, 0)


def test_sign_up_accepts_a_listed_domain_in_any_case(app_factory):
    app = app_factory(ALLOWED_EMAIL_DOMAINS=SETTING)
    response = app.test_client().post("/auth/signup", data=signup_data(email="Grace@EXAMPLE.org"))
    assert response.status_code == 302
    assert stored(app) == (1, 1)
    with app.app_context():
        assert db.session.scalar(select(User.email)) == "grace@example.org"


def test_the_environment_variable_is_read(app_factory, monkeypatch):
    monkeypatch.setenv("MATCHER_ALLOWED_EMAIL_DOMAINS", "example.com")
    app = app_factory()
    assert app.config["ALLOWED_EMAIL_DOMAINS"] == "example.com"
    refused = app.test_client().post("/auth/signup", data=signup_data(email="g@example.org"))
    assert refused.status_code == 422
    assert "Sign-up is open to addresses at example.com." in refused.get_data(as_text=True)


def test_an_existing_account_at_another_domain_gets_the_same_refusal(app_factory, make_user):
    # Only what was typed decides: no hint whether the address has an account.
    app = app_factory(ALLOWED_EMAIL_DOMAINS="example.org")
    make_user(email="ada@example.com")
    taken = app.test_client().post("/auth/signup", data=signup_data(email="ada@example.com"))
    new = app.test_client().post("/auth/signup", data=signup_data(email="bob@example.com"))
    assert taken.status_code == new.status_code == 422
    assert MESSAGE.split(" at ")[0] in taken.get_data(as_text=True)
    assert stored(app) == (1, 0)


def test_no_setting_lets_anyone_sign_up(app):
    assert app.config["ALLOWED_EMAIL_DOMAINS"] == ""
    response = app.test_client().post("/auth/signup", data=signup_data(email="g@anywhere.net"))
    assert response.status_code == 302
