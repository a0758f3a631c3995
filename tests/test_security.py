"""Security headers, rate limits and session handling."""

from __future__ import annotations

import uuid

import pytest

from tests.support import MEMBER_PASSWORD, login


def test_security_headers_on_every_page(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_pages_have_no_inline_script_or_style(client, make_user):
    make_user(email="ada@example.com")
    pages = [client.get(p).get_data(as_text=True) for p in ("/", "/auth/login", "/auth/signup")]
    login(client, "ada@example.com")
    pages += [client.get(p).get_data(as_text=True) for p in ("/dashboard/", "/me/", "/me/edit")]
    for page in pages:
        assert "<script>" not in page and "<style" not in page and " style=" not in page
        assert " onclick=" not in page and "javascript:" not in page


def test_login_is_rate_limited(app_factory, make_user):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    codes = [
        client.post("/auth/login", data={"email": "x@example.com", "password": "wrong"}).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [422] * 10
    assert codes[10] == 429
    page = client.post("/auth/login", data={"email": "x@example.com", "password": "w"})
    assert "Too many attempts" in page.get_data(as_text=True)
    # GET still works: people can read the page while they wait.
    assert client.get("/auth/login").status_code == 200


def test_limits_are_shared_across_workers_through_redis(app_factory):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        pytest.skip(f"Redis not reachable at 127.0.0.1:6379: {error}")
    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"matcher-test-{uuid.uuid4().hex}",
    }
    workers = [app_factory(**settings).test_client(), app_factory(**settings).test_client()]
    codes = [
        workers[i % 2].post("/auth/signup", data={"email": "not valid"}).status_code
        for i in range(11)
    ]
    assert codes.count(429) == 1 and codes[-1] == 429


def test_logout_invalidates_copies_of_the_session(app, client, make_user):
    make_user(email="ada@example.com")
    login(client, "ada@example.com")
    stolen = client.get_cookie("session").value
    assert client.post("/auth/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/dashboard/").status_code == 302  # sent to log in: the copy is dead
    login(client, "ada@example.com", MEMBER_PASSWORD)
    assert client.get("/dashboard/").status_code == 200


def test_log_in_starts_a_fresh_session(app, client, make_user):
    make_user(email="ada@example.com")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, "ada@example.com")
    with client.session_transaction() as session:
        assert "planted" not in session


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/auth/signup", 10),
        ("POST", "/auth/reset", 5),
        ("POST", "/auth/reset/not-a-token", 10),
        ("GET", "/auth/reset/not-a-token", 60),
        ("POST", "/feedback/not-a-token", 30),
        ("GET", "/feedback/not-a-token", 60),
        ("HEAD", "/feedback/not-a-token", 60),
        ("HEAD", "/auth/reset/not-a-token", 60),
    ],
)
def test_sign_up_reset_and_feedback_links_are_rate_limited(app_factory, method, path, allowed):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    codes = [client.open(path, method=method, data={}).status_code for _ in range(allowed + 1)]
    assert 429 not in codes[:allowed]
    assert codes[allowed] == 429
    # Another client (another address) is not affected.
    other = client.open(path, method=method, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code != 429


@pytest.mark.parametrize("hops", [0, 1])
def test_client_address_comes_from_the_proxy_only_when_configured(app_factory, hops):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", PROXY_HOPS=hops)
    client = app.test_client()
    codes = [
        client.post("/auth/reset", data={}, headers={"X-Forwarded-For": f"10.1.0.{n}"}).status_code
        for n in range(6)
    ]
    # Behind a proxy every client has its own count; without one the header is ignored,
    # so changing it does not dodge the limit.
    assert (429 in codes) == (hops == 0)
