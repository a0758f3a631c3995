"""Benchmark: publish a coffee and a mentoring round for 10,000 people, SQLite and PostgreSQL.

Loads a generated organisation (bench/orggen.py: teams, projects, interests, offices,
availability, and 12 weeks of past rounds) into a fresh database with bulk inserts, then
times `rounds.publishing.run_round(..., publish=True)` plus the commit: reading participants and
history, solving, suggesting meeting times, storing groups and queueing one message per
member. Prints a table and exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import orggen  # noqa: E402
from bench_outbox import drop_postgres, postgres_database  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from matcher import create_app  # noqa: E402
from matcher.extensions import db  # noqa: E402
from matcher.models import (  # noqa: E402
    AvailabilityWindow,
    Interest,
    MatchGroup,
    Membership,
    OutboxMessage,
    Profile,
    Programme,
    ProgrammeMember,
    Project,
    Round,
    Skill,
    Team,
    User,
)
from matcher.models.people import (  # noqa: E402
    user_can_help,
    user_interests,
    user_projects,
    user_wants_help,
)
from matcher.programmes import catalogue  # noqa: E402
from matcher.programmes.catalogue import default_programme  # noqa: E402
from matcher.rounds import publishing  # noqa: E402
from matcher.weeks import week_label  # noqa: E402

TARGET_SECONDS = 30.0
WEEK_MONDAY = date(2026, 11, 30)


def load_organisation(people: int) -> None:
    """Bulk-insert a generated organisation, everyone in the cross-team coffee, and its past
    rounds into the bound database."""
    org = orggen.generate(people, seed=1)
    session = db.session
    programme_id = default_programme(session).id

    def vocabulary(model, names: set[str]) -> dict[str, int]:
        rows = [{"name": n, "key": n.casefold()} for n in sorted(names)]
        session.execute(insert(model), rows)
        return dict(session.execute(select(model.name, model.id)).all())

    parts = org["participants"]
    teams = vocabulary(Team, {p["team"] for p in parts})
    projects = vocabulary(Project, {x for p in parts for x in p["projects"]})
    interests = vocabulary(Interest, {x for p in parts for x in p["interests"]})
    session.execute(
        insert(User),
        [
            {
                "id": i + 1,
                "email": f"{p['id']}@example.com",
                "display_name": f"Person {p['id']}",
                "password_hash": "!",
                "email_verified_at": datetime(2026, 1, 1),  # only confirmed people are paired
                "team_id": teams[p["team"]],
                "session_token": f"t{i}",
            }
            for i, p in enumerate(parts)
        ],
    )
    uid = {p["id"]: i + 1 for i, p in enumerate(parts)}
    session.execute(
        insert(Profile),
        [
            {
                "user_id": uid[p["id"]],
                "location": p["location"],
                "timezone": p["timezone"],
                "meeting_mode": p.get("meeting_mode", "either"),
            }
            for p in parts
        ],
    )
    session.execute(
        insert(ProgrammeMember),
        [
            {"programme_id": programme_id, "user_id": uid[p["id"]], "cadence_weeks": 1}
            for p in parts
        ],
    )
    session.execute(
        insert(user_projects),
        [
            {"user_id": uid[p["id"]], "project_id": projects[x]}
            for p in parts
            for x in p["projects"]
        ],
    )
    session.execute(
        insert(user_interests),
        [
            {"user_id": uid[p["id"]], "interest_id": interests[x]}
            for p in parts
            for x in p["interests"]
        ],
    )
    windows = [{"user_id": uid[p["id"]], **w} for p in parts for w in p.get("availability", [])]
    if windows:
        session.execute(insert(AvailabilityWindow), windows)
    # Past rounds: one published round per history week, a group per history pair.
    by_week: dict[int, list[tuple[int, int]]] = {}
    for h in org["history"]:
        by_week.setdefault(h["weeks_ago"], []).append((uid[h["a"]], uid[h["b"]]))
    group_id = membership_id = 0
    for weeks_ago, pairs in sorted(by_week.items()):
        monday = WEEK_MONDAY - timedelta(weeks=weeks_ago)
        round_id = session.execute(
            insert(Round).returning(Round.id),
            [
                {
                    "programme_id": programme_id,
                    "week": week_label(monday),
                    "starts_on": monday,
                    "status": "closed",
                    "rules": {},
                    "stats": {},
                    "unmatched": [],
                }
            ],
        ).scalar_one()
        groups, members = [], []
        for a, b in pairs:
            group_id += 1
            groups.append({"id": group_id, "round_id": round_id, "reasons": []})
            for user in (a, b):
                membership_id += 1
                members.append(
                    {
                        "id": membership_id,
                        "group_id": group_id,
                        "round_id": round_id,
                        "user_id": user,
                    }
                )
        session.execute(insert(MatchGroup), groups)
        session.execute(insert(Membership), members)
    session.commit()
    if db.engine.dialect.name == "postgresql":
        # Explicit ids above: move the sequences past them.
        for table in ("match_groups", "memberships", "users"):
            session.execute(
                db.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        session.commit()


def load_mentoring(people: int) -> Programme:
    """A mentoring programme beside the coffee: every fourth person a mentor (capacity 3) who
    can help with two of their interests, the others mentees who want help with one."""
    session = db.session
    mentoring = catalogue.create_programme(
        session,
        catalogue.ProgrammeValues(
            name="Mentoring", slug="mentoring", kind="mentoring", pairing_weeks=12,
            mentor_capacity=3,
        ),
        None,
    )  # fmt: skip
    interests = session.execute(
        select(user_interests.c.user_id, Interest.name)
        .join(Interest, Interest.id == user_interests.c.interest_id)
        .order_by(user_interests.c.user_id, Interest.name)
    ).all()
    names = sorted({name for _, name in interests})
    session.execute(insert(Skill), [{"name": n, "key": n.casefold()} for n in names])
    skill = dict(session.execute(select(Skill.name, Skill.id)).all())
    by_user: dict[int, list[str]] = {}
    for user_id, name in interests:
        by_user.setdefault(user_id, []).append(name)
    offers, wants, members = [], [], []
    for user_id in range(1, people + 1):
        mine = by_user.get(user_id, [])
        mentor = user_id % 4 == 0
        members.append(
            {"programme_id": mentoring.id, "user_id": user_id, "cadence_weeks": 1,
             "role": "mentor" if mentor else "mentee"}
        )  # fmt: skip
        if mentor:
            offers += [{"user_id": user_id, "skill_id": skill[n]} for n in mine[:2]]
        else:
            wants += [{"user_id": user_id, "skill_id": skill[n]} for n in mine[-1:]]
    session.execute(insert(ProgrammeMember), members)
    session.execute(insert(user_can_help), offers)
    session.execute(insert(user_wants_help), wants)
    session.commit()
    return mentoring


def run_case(
    label: str, url: str, people: int, instance: Path
) -> list[tuple[str, float, bool, str]]:
    """Load, then time publishing a coffee round and a mentoring round of the same week;
    returns two table rows."""
    from flask_migrate import upgrade

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        load_organisation(people)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        outcome = publishing.run_round(
            db.session, default_programme(db.session), week_label(WEEK_MONDAY), publish=True
        )
        db.session.commit()
        seconds = time.perf_counter() - started
        queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        groups = len(outcome.plan.groups) if outcome.plan else 0
        detail = f"{groups} groups, {queued} messages queued (load took {loaded:.1f} s)"
        ok = outcome.published and queued >= people * 0.95
        rows = [(f"coffee, {label}", seconds, ok and seconds <= TARGET_SECONDS, detail)]
        mentoring = load_mentoring(people)
        started = time.perf_counter()
        outcome = publishing.run_round(db.session, mentoring, week_label(WEEK_MONDAY), publish=True)
        db.session.commit()
        seconds = time.perf_counter() - started
        groups = len(outcome.plan.groups) if outcome.plan else 0
        unmatched = len(outcome.plan.unmatched) if outcome.plan else 0
        # Each mentor takes up to 3 mentees: a quarter of the people can place the rest.
        ok = outcome.published and groups >= people * 0.7
        detail = f"{groups} mentor-mentee pairs, {unmatched} unmatched, capacity 3"
        rows.append((f"mentoring, {label}", seconds, ok and seconds <= TARGET_SECONDS, detail))
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
        sqlite_url = f"sqlite:///{work_path / 'bench.sqlite'}"
        rows += run_case("SQLite", sqlite_url, args.people, work_path / "i1")
        created = postgres_database()
        if created:
            url, name = created
            try:
                rows += run_case("PostgreSQL", url, args.people, work_path / "i2")
            finally:
                drop_postgres(name)
    print("\n| case | target | measured | pass | detail |\n| --- | --- | --- | --- | --- |")
    for label, seconds, ok, detail in rows:
        print(
            f"| publish a round, {args.people:,} people, {label} | {TARGET_SECONDS:.0f} s "
            f"| {seconds:.1f} s | {'yes' if ok else 'NO'} | {detail} |"
        )
    if len(rows) < 4:
        print("| PostgreSQL | | skipped: not reachable | no | |")
    return 0 if all(ok for _, _, ok, _ in rows) and len(rows) == 4 else 1


if __name__ == "__main__":
    sys.exit(main())
