"""Shared by the browser tests: the app under a real `flask run`, screenshots, log-in, mail."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from matcher import create_app
from matcher.auth.service import register_user
from matcher.extensions import db
from tests.notify.support import free_port

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ADMIN_PASSWORD = "admin password 123"
PASSWORD = "coffee time 2026"


@dataclass(frozen=True)
class LiveServer:
    """Where the app answers, and the environment its commands need."""

    base: str
    env: dict[str, str]


@contextmanager
def live_server(work: Path, smtp_port: int, fill: Callable[[Flask], None]) -> Iterator[LiveServer]:
    """A migrated SQLite database in `work` with an admin, filled by `fill(app)` (inside an app
    context, committed after), served by `flask run` on a free port; mail goes to the SMTP
    server on smtp_port (never to .eml files in the repository's instance folder)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MATCHER_DATABASE_URL": f"sqlite:///{work / 'e2e.sqlite'}",
        "MATCHER_SECRET_KEY": "e2e-secret",
        "MATCHER_MAIL_SERVER": "127.0.0.1",
        "MATCHER_MAIL_PORT": str(smtp_port),
        # No MATCHER_BASE_URL: as with `make run`, links follow the port the server is on.
        "MATCHER_PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }
    app = create_app(
        {"DATABASE_URL": env["MATCHER_DATABASE_URL"], "INSTANCE_PATH": str(work), "SECRET_KEY": "x"}
    )
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        register_user(db.session, "Root Admin", "admin@example.com", ADMIN_PASSWORD, None, True)
        fill(app)
        db.session.commit()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        yield LiveServer(base, env)
    finally:
        process.terminate()
        process.wait(timeout=10)


def shot(page, name: str) -> None:
    """A full-page screenshot into artifacts/screenshots/<name>.png (git-ignored)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page, base: str, email: str, password: str) -> None:
    """Log in through the real form."""
    page.goto(base + "/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("input[type=submit]")


def wait_for_mail(smtp, to: str, seconds: float = 30.0, subject: str | None = None):
    """The first message to `to` (whose subject contains `subject`, if given): the server
    sends its outbox itself, as under `make run`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in smtp.messages:
            if to in str(message["To"]) and (subject is None or subject in str(message["Subject"])):
                return message
        time.sleep(0.2)
    raise AssertionError(f"no email to {to} within {seconds} s")
