"""Benchmark of the outbox: queue a 10,000-person round's emails and deliver them over SMTP.

    .venv/bin/python bench/bench_outbox.py [--people N] [--processes P]

Builds a throwaway database (SQLite in a temporary folder, and PostgreSQL when reachable at
BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres, in a database
created and dropped here) with N people in N/2 groups, times queueing one pairing email per
person (target 10 s), then times the real command `flask --app wsgi outbox send --processes P`
(default 2, the cores of the reference machine; start-up included) delivering them all to an
aiosmtpd server on loopback (target 60 s), and checks each arrived exactly once. Prints a
markdown table with the load average; exits 1 on any miss.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from matcher import create_app  # noqa: E402
from matcher.extensions import db  # noqa: E402
from matcher.models import (  # noqa: E402
    Interest,  # noqa: E402
    MatchGroup,
    Membership,
    OutboxMessage,
    Profile,
    Project,
    Round,
    Team,
    User,
)
from matcher.models.people import user_interests, user_projects  # noqa: E402
from matcher.notify import queue_messages  # noqa: E402
from matcher.rounds.emails import round_messages  # noqa: E402

PG_ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
QUEUE_TARGET = 10.0
SEND_TARGET = 60.0
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Europe/London", "Asia/Tokyo")


@dataclass
class Row:
    case: str
    target: str
    measured: str
    ok: bool


class CountingHandler:
    """Accepts every message and counts them (and their distinct Message-IDs)."""

    def __init__(self) -> None:
        self.count = 0
        self.message_ids: set[bytes] = set()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        message_id = next(
            (line for line in head.split(b"\r\n") if line.lower().startswith(b"message-id:")), b""
        )
        with self.lock:
            self.count += 1
            self.message_ids.add(message_id)
        return "250 OK"


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(port: int) -> None:
    """Run the counting SMTP server until stdin closes, then print what it received as JSON."""
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    print(json.dumps({"count": handler.count, "distinct": len(handler.message_ids)}), flush=True)


class SMTPProcess:
    """The SMTP server in its own process, as a real mail server would be: it gets its own CPU."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP server did not start")

    def finish(self) -> dict[str, int]:
        """Stop the server; return {"count": received, "distinct": distinct Message-IDs}."""
        out, _ = self.process.communicate("", timeout=60)
        return json.loads(out.strip().splitlines()[-1])


def populate(people: int) -> int:
    """Bulk-insert people, profiles, a round and its groups; return the round id."""
    teams = [{"id": i + 1, "name": f"Team {i}", "key": f"team {i}"} for i in range(40)]
    db.session.execute(insert(Team), teams)
    db.session.execute(
        insert(Project),
        [{"id": i + 1, "name": f"Project {i}", "key": f"project {i}"} for i in range(60)],
    )
    db.session.execute(
        insert(Interest),
        [{"id": i + 1, "name": f"Topic {i}", "key": f"topic {i}"} for i in range(90)],
    )
    users = [
        {
            "id": i + 1,
            "email": f"person{i}@example.com",
            "display_name": f"Person {i}",
            "password_hash": "scrypt:bench",
            "email_verified_at": datetime(2026, 1, 1),  # only confirmed people are paired
            "team_id": i % len(teams) + 1,
        }
        for i in range(people)
    ]
    db.session.execute(insert(User), users)
    db.session.execute(
        insert(Profile),
        [
            {"user_id": u["id"], "timezone": ZONES[u["id"] % len(ZONES)], "location": "Office"}
            for u in users
        ],
    )
    db.session.execute(
        insert(user_projects), [{"user_id": u["id"], "project_id": u["id"] % 60 + 1} for u in users]
    )
    db.session.execute(
        insert(user_interests),
        [
            {"user_id": u["id"], "interest_id": (u["id"] + k) % 90 + 1}
            for u in users
            for k in (0, 7, 31)
        ],
    )
    db.session.execute(
        insert(Round),
        [
            {
                "id": 1,
                "week": "2026-W49",
                "starts_on": date(2026, 11, 30),
                "status": "published",
                "rules": {},
            }
        ],
    )
    monday = datetime(2026, 11, 30, 8, 0)
    groups = [
        {
            "id": g + 1,
            "round_id": 1,
            "reasons": ["You both work on Project 3", "You both like Topic 7"],
            # Every 25th group found no common time: no invitation for them.
            "meeting_at": None if g % 25 == 0 else monday + timedelta(minutes=30 * (g % 40)),
        }
        for g in range(people // 2)
    ]
    db.session.execute(insert(MatchGroup), groups)
    db.session.execute(
        insert(Membership),
        [{"group_id": i // 2 + 1, "round_id": 1, "user_id": i + 1} for i in range(people)],
    )
    db.session.commit()
    return 1


def send_with_cli(url: str, port: int, processes: int) -> tuple[int, str, float]:
    """Run `flask outbox send --processes N` as an operator would: (sent, report, seconds)."""
    env = {
        **os.environ,
        "MATCHER_DATABASE_URL": url,
        "MATCHER_SECRET_KEY": "bench",
        "MATCHER_MAIL_SERVER": "127.0.0.1",
        "MATCHER_MAIL_PORT": str(port),
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "send"]
    started = time.perf_counter()
    result = subprocess.run(
        [*command, "--processes", str(processes)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"outbox send failed:\n{result.stdout}{result.stderr}")
    # One "outbox: sent N, retried later N, ..." line per process: add them up.
    totals = [0, 0, 0, 0]
    for line in result.stdout.splitlines():
        numbers = [int(n) for n in re.findall(r"\d+", line)] if "outbox: sent" in line else []
        totals = [a + b for a, b in zip(totals, numbers, strict=False)] if numbers else totals
    report = (
        f"{processes} process{'es' if processes != 1 else ''}: sent {totals[0]}, "
        f"retried later {totals[1]}, gave up {totals[2]}, skipped {totals[3]}"
    )
    return totals[0], report, seconds


def run_case(label: str, url: str, workdir: Path, people: int, processes: int) -> list[Row]:
    """Queue and send one round's emails on one database; return the table rows."""
    app = create_app(
        {"DATABASE_URL": url, "INSTANCE_PATH": str(workdir / label), "SECRET_KEY": "bench"}
    )
    server = SMTPProcess()
    try:
        with app.app_context():
            upgrade()
            round_id = populate(people)

            started = time.perf_counter()
            round_ = db.session.get(Round, round_id)
            queued = queue_messages(db.session, round_messages(db.session, round_, app.config))
            db.session.commit()
            queue_seconds = time.perf_counter() - started

            db.session.remove()
            db.engine.dispose()  # the senders get the database to themselves
            sent, report, send_seconds = send_with_cli(url, server.port, processes)
            unsent = db.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None))
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        received = server.finish()
    once = received["count"] == people == received["distinct"] == sent and unsent == 0
    return [
        Row(
            f"{label}: queue {queued:,} pairing emails",
            f"< {QUEUE_TARGET:.0f} s",
            f"{queue_seconds:.2f} s",
            queued == people and queue_seconds < QUEUE_TARGET,
        ),
        Row(
            f"{label}: send {people:,} over SMTP ({report})",
            f"< {SEND_TARGET:.0f} s, each once",
            f"{send_seconds:.2f} s ({people / send_seconds:,.0f}/s), "
            f"received {received['count']:,} ({received['distinct']:,} distinct)",
            once and send_seconds < SEND_TARGET,
        ),
    ]


def postgres_database() -> tuple[str, str] | None:
    """Create a throwaway database; return (its URL, its name), or None when unreachable."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True) as conn:
            name = f"matcher_bench_{uuid.uuid4().hex[:12]}"
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        print(f"PostgreSQL skipped: {str(error).strip().splitlines()[0]}", file=sys.stderr)
        return None
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{name}", name


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2, help="senders (default 2)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the SMTP child process
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    load_before = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sqlite_url = f"sqlite:///{workdir / 'bench.sqlite'}"
        rows += run_case("SQLite", sqlite_url, workdir, args.people, args.processes)
        pg = postgres_database()
        if pg is not None:
            try:
                rows += run_case("PostgreSQL", pg[0], workdir, args.people, args.processes)
            finally:
                drop_postgres(pg[1])
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"{os.cpu_count()} CPUs; load average (1, 5, 15 min) {load_before} before, {load} after")
    print()
    print("| case | target | measured | pass |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row.case} | {row.target} | {row.measured} | {'yes' if row.ok else 'NO'} |")
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
