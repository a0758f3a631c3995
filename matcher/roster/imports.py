"""A roster file from preview to apply: the database's problems (programmes, managers,
loops), what each row would do, and applying the whole file in one transaction."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from matcher.audit import record
from matcher.models import Programme, User
from matcher.roster.csvfile import ParsedFile, Problem, Row, parse
from matcher.roster.service import MAX_MANAGER_DEPTH, PersonRecord, upsert_people

# The statuses of a row, in the order the summary names them.
STATUSES = {
    "new": "new",
    "updated": "updated",
    "unchanged": "unchanged",
    "kept": "kept as the person edited it",
    "problem": "with problems",
}
_CHUNK = 500


@dataclass
class RowReport:
    """One row's result: what it does (or would do) and its problems."""

    number: int
    email: str
    name: str
    status: str
    changed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Report:
    """A whole file's result: per row, problems with the file, and whether it was applied."""

    rows: list[RowReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    applied: bool = False
    invitations: int = 0
    sha256: str = ""

    @property
    def ok(self) -> bool:
        """True when neither the file nor any row has a problem (it may be applied)."""
        return not self.problems and not any(row.problems for row in self.rows)

    def counts(self) -> dict[str, int]:
        """How many rows have each status."""
        counts = dict.fromkeys(STATUSES, 0)
        for row in self.rows:
            counts[row.status] += 1
        return counts

    def every_problem(self) -> list[Problem]:
        """The file's problems, then every row's, in row order."""
        return self.problems + [p for row in self.rows for p in row.problems]

    def shown(self, limit: int) -> list[RowReport]:
        """Rows for a page: those with problems first, then the rest, at most `limit`."""
        bad = [row for row in self.rows if row.problems]
        good = [row for row in self.rows if not row.problems]
        return (bad + good)[:limit]


def run(
    session: Session,
    data: bytes,
    *,
    today: date,
    overwrite: bool = False,
    invite: bool = True,
    apply: bool = False,
    actor: User | None = None,
) -> Report:
    """Preview (apply=False) or apply a roster file. A preview, or a file with any problem,
    changes nothing: the session is rolled back. An applied file is left for the caller
    to commit, with its audit entry."""
    parsed = parse(data)
    check(session, parsed)
    report = Report(sha256=hashlib.sha256(data).hexdigest(), problems=list(parsed.problems))
    good = [row for row in parsed.rows if row.record is not None and not row.problems]
    bad_emails = {row.email for row in parsed.rows if row.record is None or row.problems}
    records: list[PersonRecord] = []
    for row in good:
        assert row.record is not None
        manager = row.record.manager_email
        # A manager whose own row is wrong is not applied: leave the reference out of the
        # rehearsal rather than report it twice.
        records.append(
            dataclasses.replace(row.record, manager_email=None)
            if manager and manager in bad_emails
            else row.record
        )
    invited_by = actor.display_name if actor is not None else None
    # A rehearsal queues no invitations (it would only roll them back): it counts them.
    batch = upsert_people(
        session,
        records,
        today=today,
        overwrite=overwrite,
        invite=invite and apply,
        invited_by=invited_by,
    )
    for index, error in batch.errors.items():
        good[index].problem(error.field, str(error))
    by_row = {good[index].number: result for index, result in batch.results.items()}
    for row in parsed.rows:
        result = by_row.get(row.number)
        report.rows.append(
            RowReport(
                number=row.number,
                email=row.email,
                name=row.cells.get("name", "")[:80],
                status="problem" if row.problems or result is None else result.status,
                changed=result.changed if result else (),
                kept=result.kept if result else (),
                problems=list(row.problems),
            )
        )
    report.invitations = batch.invitations if apply else (report.counts()["new"] if invite else 0)
    if not (apply and report.ok):
        session.rollback()
        return report
    report.applied = True
    counts = report.counts()
    record(
        session,
        actor.id if actor is not None else None,
        "roster.import",
        f"{len(report.rows)} rows: {counts['new']} new, {counts['updated']} updated, "
        f"{counts['kept']} kept edits, {counts['unchanged']} unchanged",
        after={
            "sha256": report.sha256,
            "rows": len(report.rows),
            **counts,
            "invitations": report.invitations,
            "overwrite": overwrite,
            "invite": invite,
        },
    )
    return report


def check(session: Session, parsed: ParsedFile) -> None:
    """Add the problems only the database shows: unknown or closed programmes, managers
    neither in the file nor in matcher, and loops in the reporting line."""
    if parsed.problems:
        return
    programmes = {p.slug: p for p in session.scalars(select(Programme))}
    for row in parsed.rows:
        for slug in row.programmes:
            programme = programmes.get(slug)
            if programme is None:
                known = ", ".join(sorted(programmes)) or "none yet"
                row.problem("programmes", f"There is no programme “{slug}” (there are: {known}).")
            elif programme.archived:
                row.problem("programmes", f"{programme.name} ({slug}) is archived.")
    in_file = {row.email for row in parsed.rows if row.email}
    wanted = sorted({row.manager for row in parsed.rows if row.manager} - in_file)
    known: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        known.update(
            session.scalars(
                select(User.email).where(
                    User.email.in_(wanted[start : start + _CHUNK]), User.deleted_at.is_(None)
                )
            )
        )
    for row in parsed.rows:
        if row.manager and row.manager not in in_file and row.manager not in known:
            row.problem(
                "manager_email",
                f"The manager {row.manager} is neither in the file nor in matcher "
                "(add a row for them, or fix the address).",
            )
    _check_loops(session, [row for row in parsed.rows if row.record is not None])


def _check_loops(session: Session, rows: list[Row]) -> None:
    """A problem on every row whose reporting line comes back to them, the file's managers
    replacing those in the database."""
    boss = aliased(User)
    manager_of: dict[str, str] = {
        email: manager
        for email, manager in session.execute(
            select(User.email, boss.email)
            .join(boss, boss.id == User.manager_id)
            .where(User.deleted_at.is_(None))
        )
    }
    for row in rows:
        assert row.record is not None
        if row.record.manager_email is not None:
            if row.record.manager_email:
                manager_of[row.email] = row.record.manager_email
            else:
                manager_of.pop(row.email, None)
    for row in rows:
        if any(p.column == "manager_email" for p in row.problems):
            continue
        chain = [row.email]
        current = manager_of.get(row.email)
        seen = {row.email}
        while current is not None and current not in seen and len(chain) <= MAX_MANAGER_DEPTH:
            chain.append(current)
            seen.add(current)
            current = manager_of.get(current)
        if current == row.email:
            shown = chain if len(chain) <= 6 else [*chain[:5], "…"]
            row.problem(
                "manager_email",
                "The reporting line loops back to this person: "
                + " → ".join([*shown, row.email])
                + ".",
            )
