"""The "skip next round" link from the pairing email: GET shows, only the button snoozes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from matcher.extensions import db
from matcher.links import FEEDBACK, SKIP, link_url, make_token
from matcher.models import User
from matcher.profile.service import delete_account, set_opted_out
from matcher.rounds import cadence
from tests.support import coffee, coffee_member, login


@pytest.fixture
def people(app, make_user) -> dict[str, int]:
    """Ada and her twin Tom (same cadence, no history): their next round is the same one."""
    return {
        "ada": make_user(email="ada@example.com", timezone="Europe/Berlin"),
        "tom": make_user(email="tom@example.com", name="Tom Twin", timezone="Europe/Berlin"),
    }


def link(app, user_id: int) -> str:
    return "/skip/" + make_token(app.config, SKIP, user_id)


def snoozed_until(app, user_id: int):
    with app.app_context():
        return coffee_member(db.session, user_id).snoozed_until


def next_round(app, user_id: int) -> cadence.NextRound:
    with app.app_context():
        member = coffee_member(db.session, user_id)
        return cadence.next_round_for(db.session, member, coffee(db.session), datetime.now(UTC))


def test_opening_the_link_changes_nothing_and_asks_to_confirm(app, client, people):
    url = link(app, people["ada"])
    for _ in range(3):  # a mail scanner, a link preview, the person
        page = client.get(url)
        assert page.status_code == 200
        assert client.head(url).status_code == 200
    assert snoozed_until(app, people["ada"]) is None
    text = page.get_data(as_text=True)
    start = next_round(app, people["ada"]).start.astimezone(ZoneInfo("Europe/Berlin"))
    assert "Skip your next round?" in text and "Skip my next round</button>" in text
    assert f"{start:%A} {start.day} {start:%B}, {start:%H:%M}" in text
    assert "(Europe/Berlin)" in text


def test_the_button_skips_exactly_as_the_dashboard_does(app, client, people):
    response = client.post(link(app, people["ada"]))
    assert response.status_code == 302
    # Tom skips from his dashboard: the same service, the same snooze.
    twin = app.test_client()
    login(twin, "tom@example.com")
    assert twin.post("/dashboard/skip", data={"programme": "coffee"}).status_code == 302
    ada, tom = snoozed_until(app, people["ada"]), snoozed_until(app, people["tom"])
    assert ada is not None and ada == tom
    assert ada >= next_round(app, people["ada"]).monday
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are skipping your next round" in page and "<form" not in page.split("<main>")[1]
    # Pressing again (a reload, a second click) changes nothing.
    assert client.post(link(app, people["ada"])).status_code == 302
    assert snoozed_until(app, people["ada"]) == ada


def test_the_button_needs_its_csrf_token(app_factory, people):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    url = link(app, people["ada"])
    assert client.post(url, data={}).status_code == 400
    assert snoozed_until(app, people["ada"]) is None
    page = client.get(url).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    assert snoozed_until(app, people["ada"]) is not None


def test_expired_tampered_and_foreign_links_get_a_clear_page(app, app_factory, client, people):
    url = link(app, people["ada"])
    expired = app_factory(SKIP_LINK_MAX_AGE=-1).test_client()
    for method in (expired.get, expired.post):
        response = method(url)
        assert response.status_code == 410
        assert "This link has expired." in response.get_data(as_text=True)
    tampered = url[:-3] + ("xyz" if not url.endswith("xyz") else "abc")
    feedback_token = "/skip/" + make_token(app.config, FEEDBACK, 1, people["ada"])  # another salt
    for bad in (tampered, feedback_token, "/skip/not-a-token"):
        response = client.post(bad)
        assert response.status_code == 400, bad
        assert "This link is not valid." in response.get_data(as_text=True)
    assert snoozed_until(app, people["ada"]) is None


def test_a_deleted_account_or_someone_who_left_has_nothing_to_skip(app, client, people):
    with app.app_context():
        set_opted_out(db.session, db.session.get(User, people["tom"]), coffee(db.session), True)
        db.session.commit()
    page = client.get(link(app, people["tom"])).get_data(as_text=True)
    assert "There is no round to skip" in page and "<form" not in page.split("<main>")[1]
    assert client.post(link(app, people["tom"])).status_code == 200
    assert snoozed_until(app, people["tom"]) is None
    url = link(app, people["ada"])
    with app.app_context():
        delete_account(db.session, db.session.get(User, people["ada"]))
        db.session.commit()
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 410
        assert "no longer takes part" in response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "allowed"), [("GET", 60), ("HEAD", 60), ("POST", 30)])
def test_the_link_is_rate_limited_like_the_feedback_link(app_factory, method, allowed):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    codes = [client.open("/skip/not-a-token", method=method).status_code for _ in range(allowed)]
    assert 429 not in codes
    assert client.open("/skip/not-a-token", method=method).status_code == 429
    other = client.open(
        "/skip/not-a-token", method=method, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code != 429


def test_links_are_absolute_on_base_url(app_factory, people):
    app = app_factory(BASE_URL="https://coffee.example.com/")
    url = link_url(app.config, SKIP, people["ada"])
    assert url.startswith("https://coffee.example.com/skip/")
    assert app.test_client().get(url.removeprefix("https://coffee.example.com")).status_code == 200
