"""Benchmark: the web app under concurrent users, served by gunicorn on PostgreSQL.

Creates a throwaway PostgreSQL database, migrates it, bulk-loads a generated organisation
(bench_rounds.load_organisation), gives everyone a (fast) password and publishes a round, then
starts `gunicorn -w 4` on a free loopback port with rate limits OFF and drives it with a
stdlib-only client (threads + http.client, traffic to 127.0.0.1 only):

1. N virtual users log in (CSRF token from the form, like a browser); once all are in, the
   measured window opens and each loops over GET /dashboard/, GET /me/ and, every few
   iterations, GET + POST their feedback form, pausing 1-3 s between pages (--think) as a
   person reading the page does; four threads time GET /healthz under the same load.
   Without pauses 100 threads would measure the server's queue, not its response time.
2. 1,000 concurrent sign-ups, each with a unique email, then the rows are counted; then 50 of
   the same emails are submitted again at once and must be refused (422), still stored once.

Every loop is bounded in count and in time. gunicorn is stopped and the database dropped in a
`finally`. Prints a markdown table and exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_outbox import drop_postgres, postgres_database  # noqa: E402
from bench_rounds import WEEK_MONDAY, load_organisation  # noqa: E402
from gunicorn_server import GunicornServer, encode_request, remember_cookies  # noqa: E402

HOST = "127.0.0.1"  # the only address this script ever talks to
PASSWORD = "load-test-pass"
FAST_HASH = "scrypt:1024:8:1"
P95_TARGET_MS = 200.0
REQUEST_TIMEOUT = 60.0
CSRF_INPUT = re.compile(r"<input[^>]*\bname=\"csrf_token\"[^>]*>")
VALUE_ATTR = re.compile(r"\bvalue=\"([^\"]*)\"")


# --------------------------------------------------------------------------- HTTP client


class Client:
    """One browser: a cookie jar and a loopback connection (reopened when the server closes it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, float]:
        """(status, body, seconds); redirects are not followed. Status 0 means a network error."""
        headers, body = encode_request(self.port, path, self.cookies, form)
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.conn.close()
            return 0, repr(error), time.perf_counter() - started
        seconds = time.perf_counter() - started
        remember_cookies(self.cookies, response)
        if response.will_close:
            self.conn.close()
        return response.status, data.decode("utf-8", "replace"), seconds

    def close(self) -> None:
        self.conn.close()


def csrf_token(html: str) -> str | None:
    tag = CSRF_INPUT.search(html)
    if not tag:
        return None
    value = VALUE_ATTR.search(tag.group(0))
    return value.group(1) if value else None


def ok_status(status: int) -> bool:
    return 200 <= status < 400


@dataclass
class Stats:
    """Thread-safe latencies per request kind, and errors."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, status: int, seconds: float, what: str = "") -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if not ok_status(status):
                self.errors.append(f"{kind} -> {status} {what[:120]}")

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    def values(self, *kinds: str) -> list[float]:
        with self.lock:
            return sorted(x for k in kinds for x in self.latencies.get(k, []))


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values, in milliseconds (nan when empty)."""
    if not values:
        return float("nan")
    rank = max(1, min(len(values), round(p / 100 * len(values) + 0.5)))
    return values[rank - 1] * 1000


# --------------------------------------------------------------------------- setup


def prepare_database(url: str, instance: Path, people: int, users: int) -> list[tuple[str, int]]:
    """Migrate, load, set passwords, publish a round; (email, group id) of `users` paired people."""
    from flask_migrate import upgrade
    from sqlalchemy import select, update
    from werkzeug.security import generate_password_hash

    from matcher import create_app
    from matcher.extensions import db
    from matcher.models import Membership, Round, User
    from matcher.programmes.catalogue import default_programme
    from matcher.rounds import publishing
    from matcher.weeks import week_label

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        load_organisation(people)
        db.session.execute(
            update(User).values(password_hash=generate_password_hash(PASSWORD, method=FAST_HASH))
        )
        db.session.commit()
        # bench_rounds' generated history ends the week before WEEK_MONDAY: publish that week.
        week = week_label(WEEK_MONDAY)
        outcome = publishing.run_round(
            db.session, default_programme(db.session), week, publish=True
        )
        db.session.commit()
        if not outcome.published:
            raise RuntimeError(f"round {week} not published: {outcome.message}")
        # The group ids come from the database: whether the dashboard shows this round as the
        # current coffee or as upcoming depends on today's date, and the bench must not.
        people = db.session.execute(
            select(User.email, Membership.group_id)
            .join(Membership, Membership.user_id == User.id)
            .join(Round, Round.id == Membership.round_id)
            .where(Round.week == week)
            .order_by(User.id)
            .limit(users)
        ).all()
        db.session.remove()
        db.engine.dispose()
    return [(email, group_id) for email, group_id in people]


# --------------------------------------------------------------------------- phase 1: browsing


def login(client: Client, email: str, stats: Stats) -> bool:
    status, html, seconds = client.request("GET", "/auth/login")
    stats.record("login", status, seconds, "GET /auth/login")
    token = csrf_token(html)
    if status != 200 or not token:
        stats.error(f"login form for {email}: {status}, csrf {'found' if token else 'missing'}")
        return False
    form = {"csrf_token": token, "email": email, "password": PASSWORD, "next": ""}
    status, html, seconds = client.request("POST", "/auth/login", form)
    stats.record("login", status, seconds, f"POST /auth/login {email}")
    if status != 302:
        stats.error(f"login of {email} refused: {status}")
        return False
    return True


def virtual_user(
    port: int,
    email: str,
    group_id: int,
    window: Window,
    think: tuple[float, float],
    feedback_every: int,
    stats: Stats,
    seed: int,
) -> None:
    """Log in (before the window), then browse with a person's pauses until the window ends."""
    client = Client(port)
    rng = random.Random(seed)
    try:
        logged_in = login(client, email, stats)
        window.wait()  # everybody starts browsing at once, logged in or not
        if not logged_in:
            return

        def pause() -> bool:
            """Think like a person between two pages; False once the window is over."""
            time.sleep(rng.uniform(*think))
            return time.monotonic() < window.deadline

        # A random first pause spreads the start, as real people do not all click at once.
        time.sleep(rng.uniform(0, think[1]))
        for iteration in range(1_000_000):  # bounded by count, and by the deadline
            if time.monotonic() >= window.deadline:
                break
            status, html, seconds = client.request("GET", "/dashboard/")
            stats.record("dashboard", status, seconds, "GET /dashboard/")
            # Which card shows the pairing depends on today's date; the page must be theirs.
            if status == 200 and "Hello," not in html:
                stats.error(f"{email}'s dashboard is not their dashboard")
            if not pause():
                break
            status, _, seconds = client.request("GET", "/me/")
            stats.record("me", status, seconds, "GET /me/")
            if not pause():
                break
            if iteration % feedback_every == 0:
                path = f"/feedback/pairing/{group_id}"
                status, html, seconds = client.request("GET", path)
                stats.record("feedback_get", status, seconds, f"GET {path}")
                token = csrf_token(html)
                if status == 200 and token and pause():
                    form = {"csrf_token": token, "status": "met", "rating": "4", "reason": ""}
                    status, _, seconds = client.request("POST", path, form)
                    stats.record("feedback_post", status, seconds, f"POST {path}")
                    if status != 302:
                        stats.error(f"feedback POST {path} for {email}: {status} (expected 302)")
                if not pause():
                    break
    finally:
        client.close()


def healthz_probe(port: int, window: Window, stats: Stats) -> None:
    """Time the trivial endpoint under the same load, five times a second."""
    client = Client(port)
    try:
        window.wait()
        for _ in range(1_000_000):
            if time.monotonic() >= window.deadline:
                break
            status, _, seconds = client.request("GET", "/healthz")
            stats.record("healthz", status, seconds, "GET /healthz")
            time.sleep(0.2)
    finally:
        client.close()


class Window:
    """The measured window: opens when every user has logged in, closes `seconds` later."""

    def __init__(self, parties: int, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = float("inf")
        self.opened = 0.0
        self.barrier = threading.Barrier(parties, action=self._open)

    def _open(self) -> None:
        self.opened = time.monotonic()
        self.deadline = self.opened + self.seconds

    def wait(self) -> None:
        try:
            self.barrier.wait(timeout=300)
        except threading.BrokenBarrierError:
            if self.deadline == float("inf"):
                self._open()


def browse(
    port: int,
    people: list[tuple[str, int]],
    seconds: float,
    think: tuple[float, float],
    feedback_every: int,
) -> tuple[Stats, float]:
    """Run the browsing phase; the stats and how long the measured window really lasted."""
    stats = Stats()
    probes = 4
    window = Window(len(people) + probes + 1, seconds)
    threads = [
        threading.Thread(
            target=virtual_user,
            args=(port, email, group_id, window, think, feedback_every, stats, n),
            daemon=True,
        )
        for n, (email, group_id) in enumerate(people)
    ]
    threads += [
        threading.Thread(target=healthz_probe, args=(port, window, stats), daemon=True)
        for _ in range(probes)
    ]
    for t in threads:
        t.start()
    window.wait()
    if window.barrier.broken:
        stats.error("not every virtual user logged in within 300 s")
    for t in threads:
        t.join(timeout=max(1.0, window.deadline - time.monotonic()) + think[1] + REQUEST_TIMEOUT)
        if t.is_alive():
            stats.error("a load thread did not finish in time")
    return stats, time.monotonic() - window.opened


# --------------------------------------------------------------------------- phase 2: sign-ups


def signup_form(token: str, email: str, n: int) -> dict[str, str]:
    return {
        "csrf_token": token,
        "display_name": f"Load Signup {n}",
        "email": email,
        "password": PASSWORD,
        "confirm": PASSWORD,
        "team": f"Load Team {n % 7}",
        "projects": f"Load Project {n % 11}, Shared Project",
        "interests": f"Interest {n % 13}, chess",
        "location": "Berlin",
        "timezone": "UTC",
        "cadence_weeks": "1",
        "meeting_mode": "either",
    }


def sign_up(port: int, email: str, n: int, stats: Stats, kind: str) -> int:
    """One fresh browser signs up; returns the POST status (0 on a failure before it)."""
    client = Client(port)
    try:
        status, html, seconds = client.request("GET", "/auth/signup")
        stats.record(f"{kind}_get", status, seconds, "GET /auth/signup")
        token = csrf_token(html)
        if status != 200 or not token:
            stats.error(f"{kind} form: {status}, csrf {'found' if token else 'missing'}")
            return 0
        status, html, seconds = client.request("POST", "/auth/signup", signup_form(token, email, n))
        with stats.lock:
            stats.latencies.setdefault(f"{kind}_post", []).append(seconds)
        return status
    finally:
        client.close()


def run_signups(
    port: int, emails: list[str], threads: int, kind: str, stats: Stats, budget: float
) -> dict[str, int]:
    """Submit every email once from `threads` threads; {email: POST status}."""
    results: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + budget
    chunks = [list(enumerate(emails))[i::threads] for i in range(threads)]

    def worker(chunk: list[tuple[int, str]], start: threading.Barrier) -> None:
        try:
            start.wait(timeout=60)
        except threading.BrokenBarrierError:
            pass
        for n, email in chunk:  # bounded by the chunk, and by the deadline
            if time.monotonic() >= deadline:
                stats.error(f"{kind}: time budget of {budget:.0f} s exhausted")
                break
            status = sign_up(port, email, n, stats, kind)
            with lock:
                results[email] = status

    start = threading.Barrier(len(chunks))
    workers = [threading.Thread(target=worker, args=(c, start), daemon=True) for c in chunks]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=max(1.0, deadline - time.monotonic()) + REQUEST_TIMEOUT + 10)
    return results


def count_emails(url: str, prefix: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT lower(email), count(*) FROM users WHERE lower(email) LIKE %s GROUP BY 1",
            (prefix + "%",),
        ).fetchall()
    return {email: count for email, count in rows}


# --------------------------------------------------------------------------- main


Row = tuple[str, str, str, bool]


def think_range(text: str) -> tuple[float, float]:
    """'1-3' -> (1.0, 3.0) for --think."""
    low, _, high = text.partition("-")
    try:
        pair = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN-MAX seconds, got {text!r}") from None
    if not 0 <= pair[0] <= pair[1]:
        raise argparse.ArgumentTypeError(f"expected 0 <= MIN <= MAX, got {text!r}")
    return pair


def fmt(ms: float) -> str:
    return f"{ms:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--think",
        type=think_range,
        default=(1.0, 3.0),
        help="seconds a user pauses between two pages, MIN-MAX (default 1-3)",
    )
    parser.add_argument("--feedback-every", type=int, default=3)
    parser.add_argument("--signups", type=int, default=1_000)
    parser.add_argument("--signup-threads", type=int, default=50)
    parser.add_argument("--duplicates", type=int, default=50)
    args = parser.parse_args()

    created = postgres_database()
    if not created:
        print("PostgreSQL is not reachable: nothing measured.", file=sys.stderr)
        return 1
    url, name = created
    rows: list[Row] = []
    notes: list[str] = []
    server: GunicornServer | None = None
    try:
        with tempfile.TemporaryDirectory() as work:
            work_path = Path(work)
            started = time.perf_counter()
            people = prepare_database(url, work_path / "instance", args.people, args.users)
            notes.append(
                f"{args.people} people loaded, round {WEEK_MONDAY} published, "
                f"{len(people)} paired users logged in ({time.perf_counter() - started:.1f} s)"
            )
            if len(people) < args.users:
                notes.append(f"only {len(people)} paired users available for {args.users} VUs")
            settings = {
                "MATCHER_DATABASE_URL": url,
                "MATCHER_SECRET_KEY": "bench",
                "MATCHER_RATELIMIT_ENABLED": "false",
            }
            server = GunicornServer(settings, args.workers, work_path / "gunicorn.log")
            server.wait_ready(lambda port: Client(port).request("GET", "/healthz")[0] == 200, 60)
            notes.append(
                f"gunicorn -w {args.workers} on {HOST}:{server.port}, "
                "MATCHER_RATELIMIT_ENABLED=false (rate limits OFF for this run), "
                f"{os.cpu_count()} CPU(s)"
            )

            # Phase 1: browsing users.
            stats, elapsed = browse(
                server.port, people, args.seconds, args.think, args.feedback_every
            )
            app_kinds = ("dashboard", "feedback_get", "feedback_post")
            app = stats.values(*app_kinds)
            health = stats.values("healthz")
            total = sum(len(stats.values(k)) for k in stats.latencies if k != "login")
            notes.append(
                f"{len(people)} VUs logged in first, then browsed for {args.seconds:.0f} s with "
                f"{args.think[0]:g}-{args.think[1]:g} s pauses: {total} requests in "
                f"{elapsed:.1f} s ({total / elapsed:.0f} req/s)"
            )
            p95_app = percentile(app, 95)
            rows.append(
                (
                    f"p95 dashboard+feedback ({len(app)} req)",
                    f"< {P95_TARGET_MS:.0f} ms",
                    fmt(p95_app),
                    p95_app < P95_TARGET_MS,
                )
            )
            for kind in ("dashboard", "me", "feedback_get", "feedback_post", "login", "healthz"):
                values = stats.values(kind)
                rows.append(
                    (
                        f"{kind} p50 / p95 ({len(values)} req)",
                        "info",
                        f"{fmt(percentile(values, 50))} / {fmt(percentile(values, 95))}",
                        True,
                    )
                )
            ratio = p95_app / percentile(health, 95)
            rows.append(("p95(dashboard+feedback) / p95(healthz)", "info", f"{ratio:.1f}x", True))
            rows.append(("browsing errors", "0", str(len(stats.errors)), not stats.errors))
            for message in stats.errors[:5]:
                notes.append(f"browsing error: {message}")

            # Phase 2: concurrent sign-ups, then duplicates.
            prefix = f"load-signup-{name[-6:]}-"
            fresh = [f"{prefix}{i:05d}@example.com" for i in range(args.signups)]
            sign_stats = Stats()
            started = time.perf_counter()
            results = run_signups(
                server.port, fresh, args.signup_threads, "signup", sign_stats, budget=600
            )
            elapsed = time.perf_counter() - started
            refused = {e: s for e, s in results.items() if s != 302}
            stored = count_emails(url, prefix)
            once = sum(1 for e in fresh if stored.get(e) == 1)
            extra = sum(1 for c in stored.values() if c > 1)
            lost = len(fresh) - len(stored)
            notes.append(
                f"{args.signups} sign-ups from {args.signup_threads} threads in {elapsed:.1f} s "
                f"(POST p50 / p95 {fmt(percentile(sign_stats.values('signup_post'), 50))} / "
                f"{fmt(percentile(sign_stats.values('signup_post'), 95))})"
            )
            rows.append(
                (
                    "sign-ups stored exactly once",
                    str(args.signups),
                    f"{once} (lost {lost}, doubled {extra})",
                    once == args.signups and lost == 0 and extra == 0,
                )
            )
            signup_errors = len(refused) + len(sign_stats.errors) + (args.signups - len(results))
            rows.append(("sign-up errors", "0", str(signup_errors), signup_errors == 0))
            for email, status in list(refused.items())[:5]:
                notes.append(f"sign-up error: {email} -> {status}")
            for message in sign_stats.errors[:5]:
                notes.append(f"sign-up error: {message}")

            dupes = fresh[: args.duplicates]
            dup_stats = Stats()
            dup_results = run_signups(
                server.port, dupes, len(dupes), "duplicate", dup_stats, budget=300
            )
            refused_422 = sum(1 for e in dupes if dup_results.get(e) == 422)
            stored = count_emails(url, prefix)
            still_once = sum(1 for e in dupes if stored.get(e) == 1)
            rows.append(
                (
                    "duplicate sign-ups refused (422)",
                    str(len(dupes)),
                    str(refused_422),
                    refused_422 == len(dupes),
                )
            )
            rows.append(
                (
                    "duplicates still stored once",
                    str(len(dupes)),
                    str(still_once),
                    still_once == len(dupes),
                )
            )
            other = sorted({s for s in dup_results.values() if s != 422})
            if other:
                notes.append(f"duplicate sign-ups answered with statuses {other}")
            if any("500" in m or " -> 0 " in m for m in stats.errors + sign_stats.errors):
                notes.append("gunicorn log tail:\n" + server.tail())
    finally:
        if server is not None:
            server.stop()
        drop_postgres(name)

    print()
    for note in notes:
        print(f"- {note}")
    print("\n| case | target | measured | pass |\n| --- | --- | --- | --- |")
    for case, target, measured, ok in rows:
        print(f"| {case} | {target} | {measured} | {'yes' if ok else 'NO'} |")
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
