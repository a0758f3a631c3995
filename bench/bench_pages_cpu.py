"""Benchmark: each page's CPU time per request, measured in-process (Flask test client) on
PostgreSQL loaded like bench_load.py (2,000 people, 12 weeks of every demo programme, this
week's rounds published). Independent of how busy the machine is: time.process_time() counts
this process's CPU only (the database's work runs in another process and is not counted).

    python bench/bench_pages_cpu.py                  # load a throwaway database, measure, drop it
    python bench/bench_pages_cpu.py --keep           # ...and keep it (prints its URL)
    python bench/bench_pages_cpu.py --url URL        # measure a kept database again
    python bench/bench_pages_cpu.py --url URL --profile /admin/insights   # cProfile one page

Prints a markdown table: page, page cache off (every request renders: the cost of a miss) or
on (the steady state while nothing is written), CPU ms per request (mean over --requests after
--warmup), SQL statements per request, response bytes.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import PASSWORD, csrf_token, prepare_database  # noqa: E402
from bench_outbox import drop_postgres, postgres_database  # noqa: E402


def measure(args: argparse.Namespace, url: str, cache_seconds: int) -> None:
    from sqlalchemy import event, select

    from matcher import create_app
    from matcher.extensions import db
    from matcher.models import Membership, Programme, Round, User

    with tempfile.TemporaryDirectory() as work:
        app = create_app(
            {
                "DATABASE_URL": url,
                "INSTANCE_PATH": work,
                "SECRET_KEY": "bench",
                "RATELIMIT_ENABLED": args.rate_limits,
                "PAGE_CACHE_SECONDS": cache_seconds,
            }
        )
        with app.app_context():
            session = db.session
            round_id = session.scalar(
                select(Round.id)
                .join(Programme, Programme.id == Round.programme_id)
                .where(Round.status == "published", Programme.kind == "coffee")
                .order_by(Round.id.desc())
            )
            members = session.scalars(
                select(User.email)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.round_id == round_id, User.id != 1)
                .order_by(User.id)
                .limit(args.users)
            ).all()
            admin = session.scalar(select(User.email).where(User.id == 1))
            engine = db.engine
            session.remove()

        def client_for(email: str):
            client = app.test_client()
            token = csrf_token(client.get("/auth/login").get_data(as_text=True))
            form = {"csrf_token": token, "email": email, "password": PASSWORD, "next": ""}
            response = client.post("/auth/login", data=form)
            assert response.status_code == 302, (email, response.status_code)
            return client

        member_clients = [client_for(e) for e in members]
        admin_client = client_for(admin)
        pages = [
            ("/healthz", None),
            ("/dashboard/", member_clients),
            ("/me/", member_clients),
            ("/admin/insights", [admin_client]),
            (f"/admin/rounds/{round_id}", [admin_client]),
        ]
        if args.page:
            wanted = set(args.page)
            pages = [
                p for p in pages if p[0] in wanted or ("round" in wanted and "/rounds/" in p[0])
            ]
        anonymous = app.test_client()
        counter = {"n": 0}

        def count(*_a) -> None:
            counter["n"] += 1

        if args.dump:
            # Every page as each client sees it, tokens and nonces blanked: before/after diffs.
            out = Path(args.dump)
            out.mkdir(parents=True, exist_ok=True)
            volatile = re.compile(r'(nonce|value|content)="[A-Za-z0-9_.\-+/=]{20,}"')
            more = [("/admin/p/coffee/insights", [admin_client])]
            more += [("/admin/p/mentoring/insights", [admin_client])]
            for path, clients in pages + more:
                for k, client in enumerate(clients or [anonymous]):
                    body = volatile.sub(r'\1="-"', client.get(path).get_data(as_text=True))
                    name = path.strip("/").replace("/", "_") or "root"
                    (out / f"{name}-{k}.html").write_text(body)
                    for page in (2, 3) if "/rounds/" in path else ():
                        body = client.get(f"{path}?page={page}").get_data(as_text=True)
                        (out / f"{name}-{k}-p{page}.html").write_text(volatile.sub(r'\1="-"', body))
            return
        event.listen(engine, "before_cursor_execute", count)
        cache = f"on ({cache_seconds} s)" if cache_seconds else "off"
        for path, clients in pages:
            clients = clients or [anonymous]

            def get(k: int, clients: list = clients, path: str = path) -> int:
                response = clients[k % len(clients)].get(path)
                assert response.status_code == 200, (path, response.status_code)
                return len(response.data)

            for k in range(args.warmup):
                get(k)
            counter["n"] = 0
            size = 0
            profiler = cProfile.Profile(time.process_time) if args.profile else None
            started = time.process_time()
            if profiler:
                profiler.enable()
            for k in range(args.requests):
                size = get(k)
            if profiler:
                profiler.disable()
            cpu = (time.process_time() - started) / args.requests * 1000
            statements = counter["n"] / args.requests
            print(f"| {path} | {cache} | {cpu:.2f} | {statements:g} | {size:,} |")
            if profiler:
                stats = pstats.Stats(profiler).sort_stats(args.sort)
                stats.print_stats(args.lines)
        event.remove(engine, "before_cursor_execute", count)


def measure_all(args: argparse.Namespace, url: str) -> None:
    """The table: every page, with each page cache setting asked for."""
    print("| page | page cache | CPU ms / request | SQL statements | bytes |")
    print("| --- | --- | --- | --- | --- |")
    for seconds in args.cache:
        measure(args, url, seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a database loaded by an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    # Twice --users: every member's page is rendered (and cached) before measuring.
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--page", action="append", help="only this page (repeatable; 'round')")
    parser.add_argument("--profile", action="store_true", help="cProfile the measured requests")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument(
        "--rate-limits", action="store_true", help="with rate limits on (memory storage)"
    )
    parser.add_argument("--dump", help="write every page body here instead of measuring")
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument(
        "--cache",
        type=int,
        action="append",
        help="PAGE_CACHE_SECONDS to measure with (repeatable; default: 0, then 60)",
    )
    args = parser.parse_args()
    args.cache = args.cache or [0, 60]
    if args.url:
        measure_all(args, args.url)
        return 0
    created = postgres_database()
    if not created:
        print("PostgreSQL is not reachable: nothing measured.", file=sys.stderr)
        return 1
    url, name = created
    try:
        with tempfile.TemporaryDirectory() as work:
            prepared = prepare_database(url, Path(work) / "instance", args.people, args.users)
            for note in prepared.notes:
                print(f"- {note}")
        measure_all(args, url)
    finally:
        if args.keep:
            print(f"kept: --url {url}")
        else:
            drop_postgres(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
