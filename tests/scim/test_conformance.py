"""scim2-tester's checks against the running app: a real HTTP server on a free port, the
client discovering the service from /Schemas and /ResourceTypes as any SCIM client would."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from flask import Flask
from scim2_client import BaseSyncSCIMClient
from scim2_tester import Status, check_server
from werkzeug.serving import make_server

# Checks scim2-tester skips against matcher, and why (anything else skipped fails the test).
EXPECTED_SKIPS = {
    # matcher answers POST /.search (every resource type at once) with 501, which the
    # tester accepts as "not supported"; per-type listing and filters are checked instead.
    ("User", "search_with_attributes"),
    ("Group", "search_with_attributes"),
}


class RequestsSCIMClient(BaseSyncSCIMClient):
    """scim2-client over the network with `requests` (its own network engine needs httpx2)."""

    def __init__(self, base_url: str, token: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/") + "/"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _url(self, url: str) -> str:
        return urljoin(self.base_url, url.lstrip("/"))

    def _stays_under_base_url(self, endpoint: str) -> bool:
        target, base = urlsplit(self._url(endpoint)), urlsplit(self.base_url)
        return target.netloc == base.netloc and target.path.startswith(base.path)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self._url(url), timeout=30, **kwargs)


@pytest.fixture
def app(app_factory) -> Flask:
    """No outbox sender in the served app: the test's database goes away after it."""
    return app_factory(OUTBOX_SEND_IN_APP=False)


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app served over HTTP on a free port; its SCIM base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/scim/v2"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_scim2_tester_finds_nothing_wrong(served: str, token: str, make_user):
    make_user(email="existing@example.com", name="Existing Person", team="Payments")
    results = check_server(RequestsSCIMClient(served, token))
    statuses = Counter(result.status for result in results)
    failed = [
        f"{r.resource_type} {r.title}: {r.reason}"
        for r in results
        if r.status in (Status.ERROR, Status.CRITICAL, Status.DEVIATION)
    ]
    assert failed == []
    skipped = {(r.resource_type, r.title) for r in results if r.status == Status.SKIPPED}
    assert skipped == EXPECTED_SKIPS
    # Discovery, both resource types' CRUD and PATCH checks all ran.
    checked = {r.resource_type for r in results if r.status == Status.SUCCESS}
    assert {"User", "Group"} <= checked
    assert statuses[Status.SUCCESS] >= 60
