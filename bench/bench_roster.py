"""Benchmark: import a roster of 10,000 people through the admin pages, SQLite and PostgreSQL.

Each case times what an admin waits for: the upload (the file kept on the server), the
preview page (every row checked and rehearsed, then rolled back) and the apply (the whole
file in one transaction, invitations queued, committed), through the real app with the
Flask test client. Three files in a row on the same database: everyone new (managers in a
tree, many after their reports in the file), the same file again (nothing may change), and
an update where 1,000 people moved team and 500 of those had changed their own office.
Prints a table and exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import re
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_outbox import drop_postgres, postgres_database  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from matcher import create_app  # noqa: E402
from matcher.extensions import db  # noqa: E402
from matcher.models import OutboxMessage, Profile, Team, User  # noqa: E402
from matcher.programmes.catalogue import default_programme  # noqa: E402

TARGET_SECONDS = 30.0
PASSWORD = "bench password 1"
OFFICES = (
    ("Berlin", "Europe/Berlin"),
    ("London", "Europe/London"),
    ("New York", "America/New_York"),
    ("Bangalore", "Asia/Kolkata"),
    ("Sydney", "Australia/Sydney"),
)


def roster(people: int, seed: int, moved: set[int] | None = None) -> bytes:
    """A roster file: teams of about 8, each person's manager the first of their team (team
    leads report to one of 40 directors, directors to the head), shuffled so that many
    managers come after their reports; `moved` people are in another team."""
    rng = random.Random(seed)
    teams = max(1, people // 8)
    rows = []
    for i in range(people):
        team = i % teams
        lead = team  # person `team` leads team `team`
        if i == 0:
            manager = ""
        elif i < 40:
            manager = "p0@example.com"  # directors
        elif i == lead:
            manager = f"p{1 + team % 39}@example.com"
        else:
            manager = f"p{lead}@example.com"
        office, zone = OFFICES[i % len(OFFICES)]
        joined = date(2020, 1, 1) + timedelta(days=(i * 7) % 2200)
        name = f"Moved team {team}" if moved and i in moved else f"Team {team}"
        rows.append(
            [f"Person {i}", f"p{i}@example.com", name, manager, office, zone,
             joined.isoformat(), "coffee"]
        )  # fmt: skip
    rng.shuffle(rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["name", "email", "team", "manager_email", "office", "time_zone", "join_date",
         "programmes"]
    )  # fmt: skip
    writer.writerows(rows)
    return out.getvalue().encode()


def import_file(client, data: bytes) -> tuple[float, float, float, str]:
    """Upload, preview and apply one file through the pages; seconds for each, and the
    preview page's counts."""
    started = time.perf_counter()
    response = client.post(
        "/admin/roster",
        data={"file": (io.BytesIO(data), "roster.csv"), "invite": "y"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    uploaded = time.perf_counter() - started
    started = time.perf_counter()
    page = client.get(location)
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    html = page.get_data(as_text=True)
    previewed = time.perf_counter() - started
    counts = ", ".join(
        f"{number} {label.strip()}"
        for number, label in re.findall(
            r'<strong class="count">([\d,]+)</strong>\s*([^<]+?)\s*</span>', html
        )
    )
    started = time.perf_counter()
    applied = client.post(location + "/apply")
    assert applied.status_code == 302, applied.get_data(as_text=True)[:3000]
    apply_seconds = time.perf_counter() - started
    return uploaded, previewed, apply_seconds, counts


def dump(people: int) -> list[tuple]:
    """Every imported person's row and profile, to compare before and after a re-import."""
    rows = db.session.execute(
        select(User, Profile.updated_at).join(Profile).order_by(User.id)
    ).all()
    return [
        (u.id, u.email, u.display_name, u.team_id, u.manager_id, u.joined_on, u.roster_values,
         stamp)
        for u, stamp in rows
    ]  # fmt: skip


def run_case(label: str, url: str, people: int, instance: Path) -> list[tuple]:
    """Three imports on one database; the table's rows."""
    from flask_migrate import upgrade

    from matcher.auth.service import register_user

    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        }
    )
    rows = []
    with app.app_context():
        upgrade()
        default_programme(db.session)
        register_user(db.session, "Bench Admin", "admin@example.org", PASSWORD, None, True)
        db.session.commit()
    client = app.test_client()
    response = client.post("/auth/login", data={"email": "admin@example.org", "password": PASSWORD})
    assert response.status_code == 302
    first = roster(people, seed=1)
    moved = set(random.Random(2).sample(range(1, people), people // 10))
    cases = [("first import, everyone new", first), ("same file again", first)]
    for name, data in cases:
        up, pre, apply, counts = import_file(client, data)
        total = up + pre + apply
        with app.app_context():
            queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
            users = db.session.scalar(select(func.count()).select_from(User))
            snapshot = dump(people)
        if name.startswith("first"):
            ok = users == people + 1 and queued == people
            before = snapshot
        else:
            ok = snapshot == before and queued == people
        detail = (
            f"upload {up:.1f} s, preview {pre:.1f} s, apply {apply:.1f} s; {counts}; "
            f"{queued:,} invitations queued in all"
            + ("" if name.startswith("first") else f"; rows identical: {snapshot == before}")
        )
        rows.append((f"{name}, {label}", total, ok and total <= TARGET_SECONDS, detail))
    # 500 of the movers changed their own office since: kept without overwrite.
    with app.app_context():
        edited = sorted(moved)[: len(moved) // 2]
        db.session.execute(
            update(Profile)
            .where(Profile.user_id.in_(select(User.id).where(
                User.email.in_([f"p{i}@example.com" for i in edited]))))
            .values(location="Home office")
        )  # fmt: skip
        db.session.commit()
    up, pre, apply, counts = import_file(client, roster(people, seed=1, moved=moved))
    total = up + pre + apply
    with app.app_context():
        home = db.session.scalar(
            select(func.count()).select_from(Profile).where(Profile.location == "Home office")
        )
        moved_now = db.session.scalar(
            select(func.count()).select_from(User).join(Team).where(Team.name.like("Moved%"))
        )
    ok = home == len(moved) // 2 and moved_now == len(moved)
    rows.append(
        (
            f"{len(moved):,} moved team, {len(moved) // 2:,} kept their office, {label}",
            total,
            ok and total <= TARGET_SECONDS,
            f"upload {up:.1f} s, preview {pre:.1f} s, apply {apply:.1f} s; {counts}; "
            f"{moved_now:,} in their new team, {home} offices kept",
        )
    )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work_path = Path(work)
        rows += run_case(
            "SQLite", f"sqlite:///{work_path / 'bench.sqlite'}", args.people, work_path / "i1"
        )
        created = postgres_database()
        if created:
            url, name = created
            try:
                rows += run_case("PostgreSQL", url, args.people, work_path / "i2")
            finally:
                drop_postgres(name)
    print(
        f"\n| roster of {args.people:,} people: upload + preview + apply | target | measured "
        "| pass | detail |\n| --- | --- | --- | --- | --- |"
    )
    for label, seconds, ok, detail in rows:
        print(
            f"| {label} | {TARGET_SECONDS:.0f} s | {seconds:.1f} s | {'yes' if ok else 'NO'} "
            f"| {detail} |"
        )
    if len(rows) < 6:
        print("| PostgreSQL | | skipped: not reachable | no | |")
    return 0 if all(ok for _, _, ok, _ in rows) and len(rows) == 6 else 1


if __name__ == "__main__":
    sys.exit(main())
