"""Restart PostgreSQL under load: clean 503s while down, full service after, no lost writes."""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask
from sqlalchemy import func, select

from bench.gunicorn_server import GunicornServer, encode_request, remember_cookies
from matcher import create_app
from matcher.extensions import db
from matcher.models import Profile, User
from tests.faults.pg_cluster import HOST, PrivateCluster, private_cluster
from tests.support import MEMBER_PASSWORD

pytestmark = pytest.mark.real_clock("gunicorn and a private PostgreSQL cluster")

FAST_HASH = "scrypt:1024:8:1"
MEMBER = "reader@example.com"
# Seconds of load before the stop, while the server is down, and after it is back.
BEFORE, DOWN, AFTER = 1.0, 2.5, 2.5
# Requests sent this long after the restart finished must all succeed.
RECOVERY_GRACE = 1.0
WRITERS, READERS = 2, 2
MAX_REQUESTS_PER_THREAD = 2_000
# After a 503 a client waits a little, as a browser user would; it also keeps the number of
# refused sign-ups (each retried at the end) small.
BACKOFF = {"POST /auth/signup": 0.1}
REQUEST_TIMEOUT = 10.0
UNAVAILABLE = "briefly unavailable"
TAKEN = "already exists"
# Pages that never touch the database: gunicorn must serve them throughout.
DB_FREE = {"GET /healthz", "GET /auth/login"}
READS = ("GET /healthz", "GET /auth/login", "GET /auth/signup", "GET /me/")
SUCCESS = {"POST /auth/signup": 302}


@dataclass(frozen=True)
class Sample:
    """One request: what, when (monotonic seconds), and the answer (status 0: no answer)."""

    kind: str
    started: float
    ended: float
    status: int
    body: str
    email: str = ""

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS.get(self.kind, 200)

    def __str__(self) -> str:
        return f"{self.kind} {self.email} -> {self.status} {self.body[:160]!r}"


class Client:
    """A loopback HTTP client with an optional cookie jar; redirects are not followed."""

    def __init__(self, port: int, cookies: bool = True) -> None:
        self.port = port
        self.cookies: dict[str, str] | None = {} if cookies else None

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Sample:
        """Send one request on a fresh connection and record it."""
        headers, body = encode_request(self.port, path, self.cookies, form)
        kind, email = f"{method} {path}", (form or {}).get("email", "")
        conn = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as error:
            return Sample(kind, started, time.monotonic(), 0, repr(error), email)
        finally:
            conn.close()
        if self.cookies is not None:
            remember_cookies(self.cookies, response)
        return Sample(kind, started, time.monotonic(), response.status, text, email)


def signup_form(email: str) -> dict[str, str]:
    """A valid sign-up submission."""
    return {
        "display_name": "Load Tester",
        "email": email,
        "password": MEMBER_PASSWORD,
        "confirm": MEMBER_PASSWORD,
        "team": "Reliability",
        "projects": "Failover",
        "interests": "Chaos",
        "location": "Berlin",
        "timezone": "Europe/Berlin",
        "cadence_weeks": "1",
        "meeting_mode": "video",
        "availability-day0-start": "10:00",
        "availability-day0-end": "12:00",
    }


def log_in(client: Client, email: str = MEMBER) -> Sample:
    """POST the log-in form (CSRF is off for this server)."""
    return client.request("POST", "/auth/login", {"email": email, "password": MEMBER_PASSWORD})


@dataclass
class Load:
    """Writer and reader threads against the server, collecting every sample."""

    port: int
    prefix: str
    samples: list[Sample] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def record(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def writer(self, number: int) -> None:
        # No cookie jar: a signed-up (logged-in) client would be redirected, not sign up again.
        client = Client(self.port, cookies=False)
        for k in range(MAX_REQUESTS_PER_THREAD):
            if self.stop.is_set():
                return
            sample = client.request(
                "POST", "/auth/signup", signup_form(f"{self.prefix}{number}-{k}@x.io")
            )
            self.record(sample)
            if sample.status == 503:
                time.sleep(BACKOFF[sample.kind])

    def reader(self, member: Client) -> None:
        # Only /me/ is asked as the member: logged in, /auth/login would redirect.
        anonymous = Client(self.port, cookies=False)
        for _, kind in zip(range(MAX_REQUESTS_PER_THREAD), itertools.cycle(READS), strict=False):
            if self.stop.is_set():
                return
            method, path = kind.split(" ")
            self.record((member if path == "/me/" else anonymous).request(method, path))

    def start(self, readers: list[Client]) -> None:
        targets = [(self.writer, (n,)) for n in range(WRITERS)]
        targets += [(self.reader, (client,)) for client in readers]
        self.threads = [threading.Thread(target=t, args=a, daemon=True) for t, a in targets]
        for thread in self.threads:
            thread.start()

    def finish(self) -> list[Sample]:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)
        assert not any(t.is_alive() for t in self.threads), "a load thread hung"
        with self.lock:
            return sorted(self.samples, key=lambda s: s.started)


# One cluster, app and server for both stop modes: setting them up is most of the run time,
# and one gunicorn surviving two restarts is the stronger check.
@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    """A private PostgreSQL cluster these tests may stop and start."""
    with private_cluster() as running:
        yield running


@pytest.fixture(scope="module")
def pg_app(cluster: PrivateCluster, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The app migrated onto the private cluster, with one member to log in as."""
    from flask_migrate import upgrade

    from matcher.auth.service import register_user
    from matcher.profile.service import ProfileData

    app = create_app(
        {
            "DATABASE_URL": cluster.url,
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
            "SECRET_KEY": "restart-test",
            "PASSWORD_HASH_METHOD": FAST_HASH,
        }
    )
    with app.app_context():
        upgrade()
        register_user(db.session, "Reader", MEMBER, MEMBER_PASSWORD, ProfileData(team="Ops"))
        db.session.commit()
        db.session.remove()
        # Nothing of the test process's own should be connected when the server goes down.
        db.engine.dispose()
    return app


@pytest.fixture(scope="module")
def server(
    pg_app: Flask, cluster: PrivateCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GunicornServer]:
    """`gunicorn -w 2` serving the app, stopped afterwards."""
    settings = {
        "MATCHER_DATABASE_URL": cluster.url,
        "MATCHER_SECRET_KEY": "restart-test",
        "MATCHER_RATELIMIT_ENABLED": "false",
        "MATCHER_WTF_CSRF_ENABLED": "false",
        "MATCHER_PASSWORD_HASH_METHOD": FAST_HASH,
    }
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    gunicorn = GunicornServer(settings, 2, log, "--graceful-timeout", "5")
    try:
        # Ready once the database-backed sign-up page answers.
        gunicorn.wait_ready(
            lambda port: Client(port).request("GET", "/auth/signup").status == 200, 30.0
        )
        yield gunicorn
    finally:
        gunicorn.stop(timeout=15)


def stored_emails(app: Flask, prefix: str) -> dict[str, int]:
    """How often each email starting with prefix is stored, counting only users with a profile."""
    with app.app_context():
        rows = db.session.execute(
            select(User.email, func.count())
            .join(Profile, Profile.user_id == User.id)
            .where(User.email.startswith(prefix, autoescape=True))
            .group_by(User.email)
        ).all()
        db.session.remove()
        db.engine.dispose()
    return {email: n for email, n in rows}


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_under_load(
    mode: str, pg_app: Flask, cluster: PrivateCluster, server: GunicornServer
) -> None:
    """fast is a clean restart; immediate is a crash, recovered from the WAL on start."""
    prefix = f"{mode}-"
    log_start = len(server.text())
    readers = [Client(server.port) for _ in range(READERS)]
    for reader in readers:
        assert log_in(reader).status == 302
    load = Load(server.port, prefix)
    load.start(readers)
    try:
        time.sleep(BEFORE)
        stopping = time.monotonic()
        cluster.stop(mode)
        stopped = time.monotonic()
        time.sleep(DOWN)
        starting = time.monotonic()
        cluster.start()
        started = time.monotonic()
        time.sleep(AFTER)
    finally:
        samples = load.finish()
        # Never leave the cluster down for the next test.
        if not cluster.running():
            cluster.start()
    context = f"\n--- gunicorn log:\n{server.tail()}"

    # Never a crash or a dropped connection: only successes and clean 503s.
    for sample in samples:
        allowed = {200} if sample.kind in DB_FREE else {SUCCESS.get(sample.kind, 200), 503}
        assert sample.status in allowed, f"{sample}{context}"
        if sample.status == 503:
            assert UNAVAILABLE in sample.body, f"{sample}{context}"
    assert all(s.ok for s in samples if s.ended < stopping), "failures before the stop"

    # While the server was down every request that needs it got the 503 page.
    down = [s for s in samples if s.started >= stopped and s.ended <= starting]
    needs_db = [s for s in down if s.kind not in DB_FREE]
    assert all(s.status == 503 for s in needs_db), [str(s) for s in needs_db if s.status != 503]
    assert {s.kind for s in needs_db} >= {"POST /auth/signup", "GET /auth/signup", "GET /me/"}

    # Nothing failed inside gunicorn either (a traceback is logged even when a page is sent).
    log = server.text()[log_start:]
    assert "Traceback" not in log and "WORKER TIMEOUT" not in log, log[-3000:]
    assert server.proc.poll() is None

    # Full service soon after the restart, without restarting gunicorn.
    recovered = [s for s in samples if s.started >= started + RECOVERY_GRACE]
    assert len(recovered) >= 20, len(recovered)
    assert all(s.ok for s in recovered), [str(s) for s in recovered if not s.ok]
    for reader in readers:
        assert [reader.request("GET", "/me/").status for _ in range(10)] == [200] * 10
    fresh = Client(server.port)
    assert log_in(fresh).status == 302
    assert fresh.request("GET", "/me/").status == 200

    # No lost writes: every acknowledged sign-up is stored; each refused one, retried, is too.
    signups = [s for s in samples if s.kind == "POST /auth/signup"]
    acknowledged = {s.email for s in signups if s.status == 302}
    refused = {s.email for s in signups if s.status == 503}
    assert refused, "no sign-up was refused while the database was down"
    before_retry = stored_emails(pg_app, prefix)
    assert acknowledged <= set(before_retry), sorted(acknowledged - set(before_retry))
    for email in sorted(refused):
        retry = Client(server.port, cookies=False).request(
            "POST", "/auth/signup", signup_form(email)
        )
        # A landed first attempt whose answer was lost gets the same 302 as a new address (it
        # emails the owner instead); 422 "already exists" was the answer before that.
        landed = retry.status == 422 and TAKEN in retry.body and email in before_retry
        assert retry.status == 302 or landed, f"{retry}{context}"
    stored = stored_emails(pg_app, prefix)
    assert set(stored) == acknowledged | refused
    assert set(stored.values()) == {1}
    late = [s for s in samples if s.started >= started and not s.ok]
    print(
        f"\n{mode}: {len(samples)} requests, {len(needs_db)} 503s while down, "
        f"{len(acknowledged)} sign-ups acknowledged, {len(refused)} refused and retried, "
        f"{len(before_retry) - len(acknowledged)} landed unacknowledged; "
        f"{len(late)} failures after the restart; stop {stopped - stopping:.2f} s, "
        f"start {started - starting:.2f} s"
    )
