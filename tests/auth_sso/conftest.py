"""A real OpenID Connect provider for the single sign-on tests: oidc-provider-mock on loopback.

The provider runs in a thread of the test process on a free port. A thin WSGI layer in front
of it does what a production provider does and the mock does not: it keeps one fixed issuer
(whatever host name a client used) and it enforces PKCE (S256 at the authorize page, the
matching code_verifier at the token endpoint). A test can make it issue ID tokens under
another issuer, to see matcher refuse them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import oidc_provider_mock
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

CLIENT_ID = "matcher-tests"
CLIENT_SECRET = "matcher-tests-secret"
PROVIDER_NAME = "Acme SSO"


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Guard:
    """The provider's behaviour that tests may change: its fixed host (hence its issuer), the
    host its token endpoint signs ID tokens for, and what it saw."""

    host: str
    token_host: str | None = None
    challenges: dict[str, str] = field(default_factory=dict)
    authorize_queries: list[dict[str, list[str]]] = field(default_factory=list)
    token_requests: int = 0

    def wrap(self, app: Any) -> Any:
        def guarded(environ: dict[str, Any], start_response: Any) -> Any:
            path = environ.get("PATH_INFO", "")
            environ["HTTP_HOST"] = self.host
            if path == "/oauth2/token" and environ["REQUEST_METHOD"] == "POST":
                return self._token(app, environ, start_response)
            if path == "/oauth2/authorize":
                query = parse_qs(environ.get("QUERY_STRING", ""))
                if query.get("code_challenge_method") != ["S256"] or not query.get(
                    "code_challenge"
                ):
                    return _json(start_response, 400, {"error": "invalid_request"})
                if environ["REQUEST_METHOD"] == "GET":
                    self.authorize_queries.append(query)
                return self._authorize(app, environ, start_response, query["code_challenge"][0])
            return app(environ, start_response)

        return guarded

    def _authorize(self, app: Any, environ: dict, start_response: Any, challenge: str) -> Any:
        def remember_code(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            for name, value in headers:
                if name.lower() == "location":
                    code = parse_qs(urlsplit(value).query).get("code")
                    if code:
                        self.challenges[code[0]] = challenge
            return start_response(status, headers, *rest)

        return app(environ, remember_code)

    def _token(self, app: Any, environ: dict, start_response: Any) -> Any:
        self.token_requests += 1
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        form = parse_qs(body.decode())
        code = (form.get("code") or [""])[0]
        verifier = (form.get("code_verifier") or [""])[0]
        challenge = self.challenges.pop(code, None)
        if form.get("grant_type") == ["authorization_code"] and (
            challenge is None or s256(verifier) != challenge
        ):
            return _json(
                start_response,
                400,
                {"error": "invalid_grant", "error_description": "PKCE verification failed"},
            )
        if self.token_host:
            environ["HTTP_HOST"] = self.token_host
        return app(environ, start_response)


def _json(start_response: Any, status: int, body: dict[str, str]) -> list[bytes]:
    import json

    data = json.dumps(body).encode()
    reason = {400: "Bad Request"}.get(status, "Error")
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


@dataclass
class Provider:
    """A running provider: where it is, its issuer, and how to sign a person in there."""

    port: int
    guard: Guard

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_user(self, sub: str, **claims: object) -> None:
        """Store a person at the provider with exactly these claims."""
        response = requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=10)
        assert response.status_code == 204, response.text

    def authorize(self, url: str, sub: str) -> str:
        """Open the provider's authorize page as a browser would, choose `sub` there, and
        return where the provider sends the browser back to (the callback URL)."""
        with requests.Session() as browser:
            page = browser.get(url, timeout=10)
            assert page.status_code == 200, page.text[:500]
            assert 'name="sub"' in page.text
            answer = browser.post(url, data={"sub": sub}, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text[:500]
        return answer.headers["Location"]


@contextmanager
def running_provider(host: str | None = None) -> Iterator[Provider]:
    """A fresh provider (its own users and keys) on a free loopback port, stopped after."""
    guard = Guard(host="")
    server = make_server("127.0.0.1", 0, guard.wrap(oidc_provider_mock.app()), threaded=True)
    guard.host = host or f"127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Provider(server.server_port, guard)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def shared_provider() -> Iterator[Provider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture
def provider(shared_provider: Provider) -> Iterator[Provider]:
    """The session's provider, its behaviour reset after each test."""
    yield shared_provider
    shared_provider.guard.token_host = None
    shared_provider.guard.authorize_queries.clear()


def sso_settings(provider: Provider, **overrides: object) -> dict[str, object]:
    """The app settings that point matcher at the provider."""
    settings: dict[str, object] = {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_NAME": PROVIDER_NAME,
    }
    settings.update(overrides)
    return settings


@pytest.fixture
def app(app_factory, provider: Provider) -> Flask:
    """The app on the backend under test, signing in with the test provider."""
    return app_factory(**sso_settings(provider))


def start(client: FlaskClient, next_path: str | None = None) -> str:
    """Press "Sign in with ..." and return the provider URL matcher redirects to."""
    query = {"next": next_path} if next_path else None
    response = client.get("/auth/sso/start", query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def callback_path(location: str) -> str:
    """The path and query of the provider's redirect back to matcher."""
    parts = urlsplit(location)
    assert parts.path == "/auth/sso/callback", location
    return f"{parts.path}?{parts.query}"


def sign_in(
    client: FlaskClient,
    provider: Provider,
    sub: str,
    next_path: str | None = None,
    **claims: object,
):
    """The whole redirect dance: matcher -> provider's authorize page -> matcher's callback.
    With claims, the person is (re)stored at the provider first. Returns the callback's
    response."""
    if claims:
        provider.add_user(sub, **claims)
    location = provider.authorize(start(client, next_path), sub)
    return client.get(callback_path(location))
