"""Under the development server (`make run`): links follow its port, the outbox sends itself."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from matcher.auth.service import request_password_reset
from matcher.extensions import db
from matcher.notify.background import background_sender_running, stop_background_sender


@contextmanager
def dev_server(app: Flask) -> Iterator[int]:
    """werkzeug's development server (what `flask run` uses) in a thread; yields its port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        stop_background_sender(app)


def get(port: int, path: str, host: str | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers={"Host": host} if host else {})
    return connection.getresponse().status


def test_links_follow_the_dev_server_port_never_the_host_header(app: Flask):
    assert app.config["BASE_URL"] == "http://127.0.0.1:5000"
    with dev_server(app) as port:
        assert get(port, "/healthz", host="evil.example:80") == 200
        assert app.config["BASE_URL"] == f"http://127.0.0.1:{port}"


def test_a_configured_base_url_is_kept(app_factory):
    app = app_factory(BASE_URL="https://matcher.example.com")
    with dev_server(app) as port:
        assert get(port, "/healthz") == 200
        assert app.config["BASE_URL"] == "https://matcher.example.com"


def test_dev_server_delivers_the_outbox_without_a_second_command(app: Flask, make_user):
    make_user(email="ada@example.com")
    outbox = Path(app.instance_path) / "outbox"
    with dev_server(app) as port:
        assert get(port, "/healthz") == 200
        assert background_sender_running(app)
        with app.app_context():
            link = f"http://127.0.0.1:{port}/auth/reset/"
            assert request_password_reset(db.session, "ada@example.com", lambda t: link + t)
            db.session.commit()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not list(outbox.glob("*.eml")):
            time.sleep(0.1)
        emails = list(outbox.glob("*.eml"))
        assert len(emails) == 1
        assert "ada@example.com" in emails[0].read_text()


def test_sending_in_app_can_be_turned_off(app_factory):
    app = app_factory(OUTBOX_SEND_IN_APP=False)
    with dev_server(app) as port:
        assert get(port, "/healthz") == 200
        assert not background_sender_running(app)


def test_test_client_and_other_servers_start_no_sender(app: Flask):
    # gunicorn (and the test client) are not the development server: cron or the scheduler send.
    response = app.test_client().get("/healthz", environ_base={"SERVER_SOFTWARE": "gunicorn/23"})
    assert response.status_code == 200
    assert not background_sender_running(app)
    assert app.config["BASE_URL"] == "http://127.0.0.1:5000"
