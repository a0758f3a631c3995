"""The gunicorn helper used by the load benchmark and the fault tests."""

from __future__ import annotations

import http.client
import json
import sys
from pathlib import Path

import pytest

from bench.gunicorn_server import HOST, GunicornServer

pytestmark = pytest.mark.real_clock("starts gunicorn")


def test_gunicorn_comes_from_the_running_interpreter(tmp_path: Path):
    # Not from ./.venv/bin: the suite may run from any virtualenv (or none).
    settings = {
        "MATCHER_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "MATCHER_SECRET_KEY": "gunicorn-test",
    }
    server = GunicornServer(settings, 1, tmp_path / "gunicorn.log")
    try:
        assert server.proc.args[:3] == [sys.executable, "-m", "gunicorn"]

        def healthy(port: int) -> bool:
            try:
                connection = http.client.HTTPConnection(HOST, port, timeout=2)
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                return response.status == 200 and json.loads(response.read()) == {"status": "ok"}
            except OSError:
                return False

        server.wait_ready(healthy, 30.0)
    finally:
        server.stop(timeout=10)
