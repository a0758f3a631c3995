"""Benchmark: each page's throughput at saturation, and its latency at a fixed rate, served by
gunicorn on PostgreSQL.

Creates a throwaway PostgreSQL database, migrates it, bulk-loads a generated organisation with
12 weeks of history in every programme of the demo seed (cross-team coffee: a round a week;
new-joiner buddies: a round a week for every eighth person; mentoring: a 12-week term, mentors
with up to three mentees) and feedback on most past pairings, rebuilds the insights
aggregates (`flask insights rebuild` does the same), then publishes this week's coffee and
mentoring rounds the way the app does. It starts `gunicorn -w 4` on a free loopback port with
rate limits OFF, logs in members and an admin (CSRF token from the form, like a browser), and:

1. Saturation (wrk, 2 threads, --connections connections, traffic to 127.0.0.1 only): per page
   a warm-up (not counted), then --seconds of measurement; /healthz is measured first and last
   on the same server, and each page's req/s is reported as a share of /healthz's mean. Member
   pages rotate over --users logged-in members; any status but 200 is an error.
2. Fixed rate (open loop, stdlib threads + http.client): --rate requests a second per page for
   --rate-seconds, each timed from the moment it was due (a late send counts as latency).
   Then the dashboard at saturation while a thread of this script renames a person once a
   second through the app (each write invalidates every cached page: the cache's worst case).
   Then every page again at saturation on a second server with the page cache off
   (MATCHER_PAGE_CACHE_SECONDS=0): what each page costs when it is rendered every time.
3. 1,000 concurrent sign-ups, each with a unique email, then the rows are counted; then 50 of
   the same emails are submitted again at once and must get the same answer as a new address
   (302: the owner is emailed instead), still stored once.

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
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_outbox import drop_postgres, postgres_database  # noqa: E402
from bench_rounds import WEEK_MONDAY, load_mentoring, load_organisation  # noqa: E402
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


@dataclass(frozen=True)
class Prepared:
    """What the pages are measured with."""

    members: list[str]  # emails of members paired this week
    admin: str
    round_id: int  # this week's published coffee round
    notes: list[str]


def _history(session, programme_id: int, weeks: dict[int, list[list[int]]], ids: dict) -> int:
    """Bulk-insert closed rounds ({weeks ago: groups of user ids}); returns groups stored."""
    from sqlalchemy import insert

    from matcher.models import MatchGroup, Membership, Round
    from matcher.weeks import week_label

    stored = 0
    for weeks_ago, groups in sorted(weeks.items()):
        monday = WEEK_MONDAY - timedelta(weeks=weeks_ago)
        round_id = session.execute(
            insert(Round).returning(Round.id),
            [{"programme_id": programme_id, "week": week_label(monday), "starts_on": monday,
              "status": "closed", "rules": {}, "stats": {}, "unmatched": [],
              "participant_count": sum(len(g) for g in groups)}],
        ).scalar_one()  # fmt: skip
        rows, members = [], []
        for group in groups:
            ids["group"] += 1
            rows.append({"id": ids["group"], "round_id": round_id, "reasons": []})
            for user_id in group:
                ids["membership"] += 1
                members.append({"id": ids["membership"], "group_id": ids["group"],
                                "round_id": round_id, "user_id": user_id})  # fmt: skip
        session.execute(insert(MatchGroup), rows)
        session.execute(insert(Membership), members)
        stored += len(groups)
    return stored


def prepare_database(url: str, instance: Path, people: int, users: int) -> Prepared:
    """Migrate, load 12 weeks of every programme with feedback, rebuild the insights, publish
    this week's rounds; members paired this week (up to `users`), an admin, the round."""
    from flask_migrate import upgrade
    from sqlalchemy import func, insert, select, update
    from werkzeug.security import generate_password_hash

    from matcher import create_app
    from matcher.demo import DEMO_PROGRAMMES
    from matcher.extensions import db
    from matcher.models import Feedback, MatchGroup, Membership, ProgrammeMember, Round, User
    from matcher.programmes import catalogue
    from matcher.programmes.catalogue import default_programme
    from matcher.rounds import insight_counts, publishing
    from matcher.weeks import week_label

    notes = []
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench"})
    with app.app_context():
        session = db.session
        upgrade()
        load_organisation(people)  # the coffee and its 12 weeks of rounds
        mentoring = load_mentoring(people)  # mentors: every fourth person
        buddies = catalogue.create_programme(session, DEMO_PROGRAMMES[0], None)
        rng = random.Random(15)
        ids = {
            "group": session.scalar(select(func.max(MatchGroup.id))) or 0,
            "membership": session.scalar(select(func.max(Membership.id))) or 0,
        }
        # Buddies: every eighth person joined lately and meets a buddy from the rest weekly.
        newcomers = list(range(8, people + 1, 8))
        others = [u for u in range(1, people + 1) if u % 8]
        session.execute(
            insert(ProgrammeMember),
            [{"programme_id": buddies.id, "user_id": u, "cadence_weeks": 1,
              "role": "newcomer" if u % 8 == 0 else "buddy"}
             for u in range(1, people + 1)],
        )  # fmt: skip
        buddy_weeks = {w: [[n, rng.choice(others)] for n in newcomers] for w in range(1, 13)}
        groups = _history(session, buddies.id, buddy_weeks, ids)
        # Mentoring: a 12-week term begun 12 weeks ago, a mentor with up to three mentees.
        mentors = [u for u in range(4, people + 1, 4)]
        mentees = [u for u in range(1, people + 1) if u % 4]
        rng.shuffle(mentees)
        term = [[mentors[k % len(mentors)], m] for k, m in enumerate(mentees[: 3 * len(mentors)])]
        groups += _history(session, mentoring.id, {12: term}, ids)
        # Feedback on most past pairings: 60% "met" (rated), 15% "will not meet", the rest none.
        answers = []
        for membership_id, group_id, user_id in session.execute(
            select(Membership.id, Membership.group_id, Membership.user_id)
        ):
            roll = rng.random()
            if roll < 0.6:
                answers.append({"membership_id": membership_id, "group_id": group_id,
                                "user_id": user_id, "status": "met",
                                "rating": rng.randint(3, 5), "reason": None})  # fmt: skip
            elif roll < 0.75:
                answers.append({"membership_id": membership_id, "group_id": group_id,
                                "user_id": user_id, "status": "will_not_meet",
                                "reason": "no_time", "rating": None})  # fmt: skip
        for start in range(0, len(answers), 20_000):
            session.execute(insert(Feedback.__table__), answers[start : start + 20_000])
        if db.engine.dialect.name == "postgresql":
            for table in ("match_groups", "memberships"):
                session.execute(
                    db.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        session.execute(
            update(User).values(password_hash=generate_password_hash(PASSWORD, method=FAST_HASH))
        )
        session.execute(update(User).where(User.id == 1).values(is_admin=True))
        session.commit()
        # Bulk inserts pass no flush events: count them as the migration does.
        started = time.perf_counter()
        counted = insight_counts.rebuild(session)
        session.commit()
        notes.append(
            f"history: coffee, buddies ({groups} buddy and mentoring groups besides the "
            f"coffee's) and mentoring, {len(answers)} answers; insights rebuilt in "
            f"{time.perf_counter() - started:.1f} s ({counted['pairs']} pair rows, "
            f"{counted['team_pairs']} team-pair rows)"
        )
        # bench_rounds' generated history ends the week before WEEK_MONDAY: publish that week,
        # through the app (its flush events keep the insights current).
        week = week_label(WEEK_MONDAY)
        for programme in (default_programme(session), mentoring):
            started = time.perf_counter()
            outcome = publishing.run_round(session, programme, week, publish=True)
            session.commit()
            if not outcome.published:
                raise RuntimeError(f"{programme.slug} {week} not published: {outcome.message}")
            notes.append(
                f"{programme.slug} round {week} planned and published in "
                f"{time.perf_counter() - started:.1f} s"
            )
        round_id = session.scalar(
            select(Round.id).where(
                Round.week == week, Round.programme_id == default_programme(session).id
            )
        )
        # The group ids come from the database: whether the dashboard shows this round as the
        # current coffee or as upcoming depends on today's date, and the bench must not.
        members = session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.round_id == round_id, User.id != 1)
            .order_by(User.id)
            .limit(users)
        ).all()
        admin = session.scalar(select(User.email).where(User.id == 1))
        session.remove()
        # Planner statistics and visibility maps, as autovacuum would have them on a database
        # that grew over months: straight after a bulk load PostgreSQL still thinks the tables
        # are tiny and picks plans (hash joins over every user) that take 70 ms at 20,000
        # people, and autovacuum would vacuum the new rows while the pages are measured.
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        notes.append("VACUUM ANALYZE after loading (what autovacuum keeps)")
        db.engine.dispose()
    return Prepared(list(members), admin, round_id, notes)


# --------------------------------------------------------------------------- measuring


def login(client: Client, email: str) -> None:
    """Log in like a browser; raises RuntimeError when refused."""
    status, html, _ = client.request("GET", "/auth/login")
    token = csrf_token(html)
    if status != 200 or not token:
        raise RuntimeError(f"login form for {email}: {status}")
    form = {"csrf_token": token, "email": email, "password": PASSWORD, "next": ""}
    status, _, _ = client.request("POST", "/auth/login", form)
    if status != 302:
        raise RuntimeError(f"login of {email} refused: {status}")


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


WRK_SCRIPT = """
local cookies = {%s}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; n = math.random(#cookies) end
function request()
  n = n %% #cookies + 1
  return wrk.format("GET", "%s", {["Cookie"] = cookies[n]})
end
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("BAD %%d\\n", total))
  io.write(string.format("P95 %%.3f\\n", latency:percentile(95) / 1000))
end
"""


@dataclass
class Saturation:
    """One wrk run: requests a second, p95 under saturation, errors."""

    rps: float
    p95_ms: float
    errors: int
    requests: int


def wrk(
    port: int, path: str, cookies: list[str], seconds: float, connections: int, work: Path
) -> Saturation:
    """Run wrk against one page (rotating over cookies) and read its summary."""
    import subprocess

    quoted = ", ".join('"' + c.replace('"', "") + '"' for c in cookies or [""])
    script = work / "page.lua"
    script.write_text(WRK_SCRIPT % (quoted, path))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "10s",
         "-s", str(script), f"http://{HOST}:{port}{path}"],
        capture_output=True, text=True, timeout=seconds + 60, check=False,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = int(re.search(r"BAD (\d+)", out).group(1))
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    p95 = float(re.search(r"P95 ([\d.]+)", out).group(1))
    return Saturation(rps, p95, bad + socket_errors, total)


def fixed_rate(
    port: int, path: str, cookies: list[str], rate: float, seconds: float
) -> tuple[list[float], int]:
    """Open loop: `rate` requests a second for `seconds`, each timed from when it was due;
    (sorted latencies in seconds, errors)."""
    from concurrent.futures import ThreadPoolExecutor

    local = threading.local()
    errors = 0
    lock = threading.Lock()
    latencies: list[float] = []

    def one(k: int, due: float) -> None:
        nonlocal errors
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = Client(port)
        headers = {"Host": f"{HOST}:{port}"}
        if cookies:
            headers["Cookie"] = cookies[k % len(cookies)]
        try:
            client.conn.request("GET", path, headers=headers)
            response = client.conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            client.conn.close()
            status = 0
        took = time.perf_counter() - due
        with lock:
            latencies.append(took)
            if status != 200:
                errors += 1

    count = int(rate * seconds)
    start = time.perf_counter() + 0.2
    with ThreadPoolExecutor(max_workers=32) as pool:
        for k in range(count):
            due = start + k / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, k, due)
    return sorted(latencies), errors


PAGES = (
    ("/dashboard/", "member", 20.0),
    ("/me/", "member", 20.0),
    ("/admin/insights", "admin", 10.0),
    ("round", "admin", 10.0),
)
P95_AT_RATE_MS = 50.0


class Writer:
    """Through the app (so the data versions follow, as for any write), rename a person
    `rate` times a second in a thread, until the block ends."""

    def __init__(self, url: str, rate: float) -> None:
        self.url, self.rate, self.done = url, rate, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from sqlalchemy import select, update

        from matcher import create_app
        from matcher.extensions import db
        from matcher.models import User

        with tempfile.TemporaryDirectory() as work:
            app = create_app({"DATABASE_URL": self.url, "INSTANCE_PATH": work})
            with app.app_context():
                user_id = db.session.scalar(select(User.id).order_by(User.id.desc()).limit(1))
                while not self._stop.wait(1 / self.rate):
                    db.session.execute(
                        update(User)
                        .where(User.id == user_id)
                        .values(display_name=f"Renamed {self.done}")
                    )
                    db.session.commit()
                    self.done += 1

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


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
    parser.add_argument("--users", type=int, default=50, help="members the pages rotate over")
    parser.add_argument("--seconds", type=float, default=15.0, help="wrk run per page")
    parser.add_argument("--warmup", type=float, default=4.0, help="wrk warm-up per page")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=50.0, help="fixed-rate requests/s")
    parser.add_argument("--rate-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--write-rate", type=float, default=1.0, help="writes/s while the dashboard is measured"
    )
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
            prepared = prepare_database(url, work_path / "instance", args.people, args.users)
            notes.append(
                f"{args.people} people loaded with 12 weeks of history, round {WEEK_MONDAY} "
                f"published ({time.perf_counter() - started:.1f} s)"
            )
            notes += prepared.notes
            settings = {
                "MATCHER_DATABASE_URL": url,
                "MATCHER_SECRET_KEY": "bench",
                "MATCHER_RATELIMIT_ENABLED": "false",
            }
            server = GunicornServer(settings, args.workers, work_path / "gunicorn.log")
            server.wait_ready(lambda port: Client(port).request("GET", "/healthz")[0] == 200, 60)
            notes.append(
                f"gunicorn -w {args.workers} on {HOST}:{server.port}, rate limits OFF, "
                f"{os.cpu_count()} CPU(s), load average before measuring "
                f"{os.getloadavg()[0]:.2f}"
            )
            members = []
            for email in prepared.members:
                client = Client(server.port)
                login(client, email)
                members.append(cookie_header(client.cookies))
                client.close()
            client = Client(server.port)
            login(client, prepared.admin)
            admin = [cookie_header(client.cookies)]
            # Each page must be the page (not a redirect to the login form) before it is timed.
            for path, who, _ in PAGES:
                path = f"/admin/rounds/{prepared.round_id}" if path == "round" else path
                client.cookies = {}
                for part in (admin if who == "admin" else members[:1])[0].split("; "):
                    key, _, value = part.partition("=")
                    client.cookies[key] = value
                status, _, _ = client.request("GET", path)
                if status != 200:
                    raise RuntimeError(f"GET {path} as {who}: {status}")
            client.close()

            def saturate(path: str, cookies: list[str]) -> Saturation:
                wrk(server.port, path, cookies, args.warmup, args.connections, work_path)
                return wrk(server.port, path, cookies, args.seconds, args.connections, work_path)

            health_first = saturate("/healthz", [])
            measured: dict[str, tuple[Saturation, str, float, str]] = {}
            for path, who, share in PAGES:
                label = "published round (admin)" if path == "round" else path
                path = f"/admin/rounds/{prepared.round_id}" if path == "round" else path
                cookies = admin if who == "admin" else members
                measured[path] = (saturate(path, cookies), label, share, who)
            health_last = saturate("/healthz", [])
            health = (health_first.rps + health_last.rps) / 2
            notes.append(
                f"wrk -t2 -c{args.connections}, {args.warmup:g} s warm-up (not counted) then "
                f"{args.seconds:g} s per page; /healthz {health_first.rps:,.0f} req/s first, "
                f"{health_last.rps:,.0f} req/s last (mean {health:,.0f}); member pages rotate "
                f"over {len(members)} members"
            )
            rows.append(
                ("/healthz at saturation", "reference", f"{health:,.0f} req/s",
                 health_first.errors + health_last.errors == 0)
            )  # fmt: skip
            for sat, label, share, _ in measured.values():
                got = sat.rps / health
                rows.append(
                    (f"{label}: req/s as a share of /healthz", f">= {share:.0f}%",
                     f"{sat.rps:,.0f} req/s = {100 * got:.1f}% (p95 {sat.p95_ms:.0f} ms)",
                     got >= share / 100)
                )  # fmt: skip
                rows.append(
                    (f"{label}: errors at saturation", "0", f"{sat.errors} of {sat.requests}",
                     sat.errors == 0)
                )  # fmt: skip
            for path, (_, label, _, who) in measured.items():
                latencies, errors = fixed_rate(
                    server.port, path, admin if who == "admin" else members, args.rate,
                    args.rate_seconds,
                )  # fmt: skip
                p95 = percentile(latencies, 95)
                rows.append(
                    (f"{label}: p50 / p95 at {args.rate:g} req/s ({len(latencies)} req)",
                     f"p95 < {P95_AT_RATE_MS:.0f} ms",
                     f"{fmt(percentile(latencies, 50))} / {fmt(p95)}", p95 < P95_AT_RATE_MS)
                )  # fmt: skip
                rows.append(
                    (f"{label}: errors at {args.rate:g} req/s", "0", str(errors), errors == 0)
                )

            # The cache's worst case: a write a second to a table every page reads.
            with Writer(url, args.write_rate) as writer:
                busy = saturate("/dashboard/", members)
            rows.append(
                (f"/dashboard/ with {args.write_rate:g} writes/s to users (every cached page "
                 "invalidated each time): req/s as a share of /healthz", "reported",
                 f"{busy.rps:,.0f} req/s = {100 * busy.rps / health:.1f}% "
                 f"(p95 {busy.p95_ms:.0f} ms, {writer.done} writes)", busy.errors == 0)
            )  # fmt: skip
            # Every request rendered: what a page costs when the cache cannot help.
            server.stop()
            server = GunicornServer(
                settings | {"MATCHER_PAGE_CACHE_SECONDS": "0"},
                args.workers,
                work_path / "gunicorn-uncached.log",
            )
            server.wait_ready(lambda port: Client(port).request("GET", "/healthz")[0] == 200, 60)
            for path, (_, label, _, who) in measured.items():
                cold = saturate(path, admin if who == "admin" else members)
                rows.append(
                    (f"{label}, page cache off: req/s as a share of /healthz", "reported",
                     f"{cold.rps:,.0f} req/s = {100 * cold.rps / health:.1f}% "
                     f"(p95 {cold.p95_ms:.0f} ms)", cold.errors == 0)
                )  # fmt: skip

            if args.signups <= 0:
                notes.append("sign-ups not measured (--signups 0)")
            else:
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
                    f"{args.signups} sign-ups from {args.signup_threads} threads in "
                    f"{elapsed:.1f} s "
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
                signup_errors = (
                    len(refused) + len(sign_stats.errors) + (args.signups - len(results))
                )
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
                # A taken address gets the same answer as a new one (no account oracle): the
                # owner is emailed instead; nothing is stored twice.
                same_answer = sum(1 for e in dupes if dup_results.get(e) == 302)
                stored = count_emails(url, prefix)
                still_once = sum(1 for e in dupes if stored.get(e) == 1)
                rows.append(
                    (
                        "duplicate sign-ups answered as new ones (302)",
                        str(len(dupes)),
                        str(same_answer),
                        same_answer == len(dupes),
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
                other = sorted({s for s in dup_results.values() if s != 302})
                if other:
                    notes.append(f"duplicate sign-ups answered with statuses {other}")
                if any("500" in m or " -> 0 " in m for m in sign_stats.errors):
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
