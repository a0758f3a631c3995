"""Reading a roster CSV file: columns, formats and every row's problems (without the
database), into PersonRecords; and the template offered for download."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from matcher.models.people import normalise_email, normalise_name
from matcher.roster.service import PersonRecord
from matcher.timezones import is_timezone

# Every column a roster file may have, in the template's order; name and email are required.
COLUMNS = (
    "name",
    "email",
    "team",
    "manager_email",
    "office",
    "time_zone",
    "join_date",
    "programmes",
    "active",
    "external_id",
)
REQUIRED = ("name", "email")
# The longest value each column takes (the database's column sizes).
MAX_LENGTH = {
    "name": 80,
    "email": 254,
    "team": 80,
    "manager_email": 254,
    "office": 80,
    "time_zone": 64,
    "join_date": 10,
    "programmes": 1000,
    "active": 5,
    "external_id": 255,
}
MAX_ROWS = 50_000
# The largest file the upload page takes (the app's MAX_CONTENT_LENGTH is for forms).
MAX_BYTES = 10 * 1024 * 1024
# A cell longer than this is not a roster: csv stops there rather than reading megabytes.
_FIELD_LIMIT = 4096
TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0"}
# Headers people write for the same column ("Manager email", "time-zone", "Location").
_ALIASES = {
    "manager": "manager_email",
    "timezone": "time_zone",
    "tz": "time_zone",
    "location": "office",
    "joined_on": "join_date",
    "start_date": "join_date",
    "programs": "programmes",
    "display_name": "name",
    "e_mail": "email",
}
TEMPLATE_ROWS = (
    (
        "Ada Lovelace",
        "ada@example.com",
        "Payments",
        "",
        "London",
        "Europe/London",
        "2024-01-15",
        "coffee",
        "true",
        "",
    ),
    (
        "Grace Hopper",
        "grace@example.com",
        "Compilers",
        "ada@example.com",
        "Berlin",
        "Europe/Berlin",
        "2026-02-02",
        "coffee;buddies",
        "",
        "",
    ),
)


@dataclass(frozen=True)
class Problem:
    """Something wrong with the file (row None) or with one row's cell (column)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(self.column)
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class Row:
    """One row of the file: its number as a spreadsheet shows it (the header is row 1), its
    cells, the record it describes (None when a required cell is unusable) and problems."""

    number: int
    cells: dict[str, str]
    record: PersonRecord | None = None
    problems: list[Problem] = field(default_factory=list)
    # What the row says even when other cells are wrong, so every problem is named at once.
    programmes: tuple[str, ...] = ()
    manager: str | None = None

    def problem(self, column: str | None, message: str) -> None:
        """Add a problem with this row (column None for the row as a whole)."""
        self.problems.append(Problem(self.number, column, message))

    @property
    def email(self) -> str:
        """The row's email as stored (lower-cased), or what it says when that is not one."""
        return normalise_email(self.cells.get("email", ""))[:254]


@dataclass
class ParsedFile:
    """The columns found, the rows, and problems with the file as a whole."""

    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when neither the file nor any row has a problem."""
        return not self.problems and not any(row.problems for row in self.rows)


def template_csv() -> str:
    """The downloadable template: the header and two example rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(TEMPLATE_ROWS)
    return out.getvalue()


def decode(data: bytes) -> tuple[str | None, str | None]:
    """The file's text (UTF-8, with or without a byte-order mark), or why it is not text."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return None, "The file is UTF-16 text: save it as “CSV UTF-8” instead."
    if b"\x00" in data:
        return None, (
            "This is not a CSV file: it contains binary data. Save the spreadsheet as "
            "“CSV UTF-8” and upload that."
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return None, (
            f"The file is not UTF-8 text (line {line} has the byte 0x{data[error.start]:02x}): "
            "save it as “CSV UTF-8” from your spreadsheet and upload it again."
        )


def _header_name(raw: str) -> str:
    """A header cell as a column name: case, spaces and hyphens do not matter."""
    name = "_".join(raw.strip().casefold().replace("-", " ").split())
    return _ALIASES.get(name, name)


def parse(data: bytes, max_rows: int = MAX_ROWS) -> ParsedFile:
    """Read a roster file into rows and records, naming every problem found without the
    database (formats, required cells, duplicate emails, self-managers)."""
    parsed = ParsedFile()
    text, why = decode(data)
    if text is None:
        parsed.problems.append(Problem(None, None, why or "The file cannot be read."))
        return parsed
    if not text.strip():
        parsed.problems.append(Problem(None, None, "The file is empty."))
        return parsed
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(_FIELD_LIMIT)
    try:
        _read(parsed, text, max_rows)
    finally:
        csv.field_size_limit(previous_limit)
    if not parsed.problems:
        _check_duplicates(parsed)
    return parsed


def _read(parsed: ParsedFile, text: str, max_rows: int) -> None:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            parsed.problems.append(Problem(None, None, "The file is empty."))
            return
        if not _read_header(parsed, header):
            return
        number = 1
        for cells in reader:
            number += 1
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(parsed.rows) >= max_rows:
                parsed.problems.append(
                    Problem(
                        None,
                        None,
                        f"The file has more than {max_rows:,} people: split it into several files.",
                    )
                )
                return
            parsed.rows.append(_read_row(parsed.columns, number, cells))
    except csv.Error as error:
        parsed.problems.append(
            Problem(
                None,
                None,
                f"Line {reader.line_num} cannot be read as CSV ({error}); a cell is at most "
                f"{_FIELD_LIMIT:,} characters and quotes must be closed.",
            )
        )


def _read_header(parsed: ParsedFile, header: list[str]) -> bool:
    """Check the header row; whether rows can be read with it."""
    names = [_header_name(cell) for cell in header]
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        parsed.problems.append(
            Problem(
                None,
                None,
                "The columns are separated by semicolons or tabs; matcher reads commas. "
                "Save the spreadsheet as “CSV UTF-8 (comma delimited)”.",
            )
        )
        return False
    unknown = [
        raw.strip()[:40] or "(empty)"
        for raw, name in zip(header, names, strict=True)
        if name not in COLUMNS
    ]
    if unknown:
        parsed.problems.append(
            Problem(
                None,
                None,
                f"Unknown {'column' if len(unknown) == 1 else 'columns'}: "
                f"{', '.join(unknown[:10])}. The columns are: {', '.join(COLUMNS)}.",
            )
        )
    twice = sorted({name for name in names if name in COLUMNS and names.count(name) > 1})
    if twice:
        parsed.problems.append(
            Problem(None, None, f"These columns appear twice: {', '.join(twice)}.")
        )
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        parsed.problems.append(
            Problem(
                None,
                None,
                f"Required {'column' if len(missing) == 1 else 'columns'} "
                f"missing: {', '.join(missing)}.",
            )
        )
    parsed.columns = names
    return not parsed.problems


def _read_row(columns: list[str], number: int, cells: list[str]) -> Row:
    """One row's cells checked and turned into a record."""
    values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(columns)}
    row = Row(number=number, cells={name: value.strip() for name, value in values.items()})
    if len(cells) > len(columns):
        extra = [cell for cell in cells[len(columns) :] if cell.strip()]
        if extra:
            row.problem(None, f"{len(cells)} cells, but the header names {len(columns)} columns.")
    for name, value in row.cells.items():
        if len(value) > MAX_LENGTH[name]:
            row.problem(name, f"Too long: at most {MAX_LENGTH[name]} characters.")
    if row.problems:
        return row
    row.record = _record(row, columns)
    return row


def _record(row: Row, columns: list[str]) -> PersonRecord | None:
    """The row's record, adding a problem for each cell that is wrong."""
    cells = row.cells
    name = normalise_name(cells.get("name", ""))
    if not name:
        row.problem("name", "A name is required.")
    email = _email(row, "email", cells.get("email", ""), required=True)
    manager: str | None = None
    if "manager_email" in columns:
        raw = cells["manager_email"]
        manager = _email(row, "manager_email", raw, required=False) if raw else ""
        if manager and email and manager == email:
            row.problem("manager_email", "A person cannot be their own manager.")
        row.manager = manager
    time_zone = cells.get("time_zone") or None
    if time_zone is not None and not is_timezone(time_zone):
        row.problem(
            "time_zone",
            f"“{time_zone}” is not a time zone: write one like Europe/Berlin or America/New_York.",
        )
    join_date = None
    if cells.get("join_date"):
        try:
            join_date = date.fromisoformat(cells["join_date"])
            if len(cells["join_date"]) != 10 or join_date.year < 1900:
                raise ValueError
        except ValueError:
            join_date = None
            row.problem(
                "join_date", f"“{cells['join_date']}” is not a date: write it as 2026-03-01."
            )
    programmes = None
    if cells.get("programmes"):
        programmes = tuple(
            sorted({slug.strip().casefold() for slug in cells["programmes"].split(";")} - {""})
        )
        row.programmes = programmes
    active = None
    if cells.get("active"):
        word = cells["active"].casefold()
        if word in TRUE_WORDS:
            active = True
        elif word in FALSE_WORDS:
            active = False
        else:
            row.problem("active", f"“{cells['active']}” is not true or false (or empty).")
    if row.problems or email is None:
        return None
    return PersonRecord(
        email=email,
        name=name,
        team=normalise_name(cells["team"]) if cells.get("team") else None,
        manager_email=manager,
        office=normalise_name(cells["office"]) if cells.get("office") else None,
        time_zone=time_zone,
        join_date=join_date,
        programmes=programmes,
        external_id=cells.get("external_id") or None,
        active=active,
    )


def _email(row: Row, column: str, raw: str, required: bool) -> str | None:
    """The cell's email as stored, or None with a problem."""
    if not raw:
        if required:
            row.problem(column, "An email is required.")
        return None
    why = _invalid_email(raw)
    if why is not None:
        row.problem(column, f"“{raw}” is not an email address: {why}")
        return None
    return normalise_email(raw)


# Plain ASCII addresses that email-validator always accepts (dot-atoms, letter top-level
# domains that are not special-use): checked here without it, a third of a big file's time.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def _invalid_email(raw: str) -> str | None:
    """Why the address is not valid (no deliverability check), or None; managers' addresses
    repeat down a file, so the answers are kept."""
    if (
        len(raw) <= 254
        and len(raw.partition("@")[0]) <= 64
        and _PLAIN_EMAIL.fullmatch(raw)
        and not any(
            raw.casefold().endswith("." + name) or raw.casefold().endswith("@" + name)
            for name in SPECIAL_USE_DOMAIN_NAMES
        )
    ):
        return None
    try:
        validate_email(raw, check_deliverability=False)
    except EmailNotValidError as invalid:
        return str(invalid)
    return None


def _check_duplicates(parsed: ParsedFile) -> None:
    """Every row whose email another row also has (in any letter case)."""
    rows_of: dict[str, list[int]] = {}
    for row in parsed.rows:
        if row.email:
            rows_of.setdefault(row.email, []).append(row.number)
    for row in parsed.rows:
        numbers = rows_of.get(row.email, [])
        if len(numbers) > 1:
            others = [str(n) for n in numbers if n != row.number]
            row.problem(
                "email",
                f"{row.email} is also on row{'s' if len(others) > 1 else ''} "
                f"{', '.join(others[:5])}{'…' if len(others) > 5 else ''}.",
            )
