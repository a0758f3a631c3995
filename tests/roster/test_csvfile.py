"""Reading roster files without the database: encodings, headers, every cell's format,
duplicates, limits and hostile files (a problem named for each, never an exception)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from matcher.roster import csvfile
from matcher.roster.csvfile import parse
from tests.roster.support import roster


def problems(data: bytes) -> list[str]:
    parsed = parse(data)
    return [str(p) for p in parsed.problems + [p for row in parsed.rows for p in row.problems]]


def test_a_good_file_becomes_records_with_or_without_a_byte_order_mark():
    rows = (
        ("Ada Lovelace", "Ada@Example.com", " Payments ", "", "London", "Europe/London",
         "2024-01-15", "coffee; buddies"),
        ("Grace", "grace@example.com", "", "ada@example.com", "", "", "", ""),
    )  # fmt: skip
    for bom in (False, True):
        parsed = parse(roster(*rows, bom=bom))
        assert parsed.ok, problems(roster(*rows, bom=bom))
        ada, grace = (row.record for row in parsed.rows)
        assert ada.email == "ada@example.com" and ada.team == "Payments"
        assert ada.manager_email == "" and ada.join_date == date(2024, 1, 15)
        assert ada.programmes == ("buddies", "coffee") and ada.time_zone == "Europe/London"
        # Empty cells leave values as they are, except the manager: empty means none.
        assert grace.team is None and grace.office is None and grace.programmes is None
        assert grace.manager_email == "ada@example.com"
        assert [row.number for row in parsed.rows] == [2, 3]


def test_headers_ignore_case_spaces_and_common_names_and_columns_may_be_left_out():
    data = b"  EMAIL , Name,Manager Email,Time-Zone,Location\r\nbo@example.com,Bo,,UTC,Berlin\r\n"
    parsed = parse(data)
    assert parsed.ok
    record = parsed.rows[0].record
    assert (record.email, record.name, record.time_zone, record.office) == (
        "bo@example.com", "Bo", "UTC", "Berlin",
    )  # fmt: skip
    # No team column: the team is left as it is.
    assert record.team is None and record.join_date is None and record.programmes is None


def test_unknown_repeated_and_missing_columns_are_named():
    assert problems(b"name,email,shoe_size,Favourite colour\r\n") == [
        "Unknown columns: shoe_size, Favourite colour. The columns are: "
        + ", ".join(csvfile.COLUMNS)
        + "."
    ]
    assert problems(b"name,email,Email\r\n") == ["These columns appear twice: email."]
    assert problems(b"team,office\r\nA,B\r\n") == ["Required columns missing: name, email."]
    assert problems(b"name;email;team\r\nA;a@example.com;T\r\n")[0].startswith(
        "The columns are separated by semicolons or tabs"
    )


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (("", "a@example.com"), "row 2, name: A name is required."),
        (("A", ""), "row 2, email: An email is required."),
        (("A", "not-an-email"), "row 2, email: “not-an-email” is not an email address"),
        (("A", "a@example.com", "", "boss@"), "row 2, manager_email: “boss@” is not an email"),
        (("A", "a@example.com", "", "A@EXAMPLE.com"), "cannot be their own manager"),
        (("A", "a@example.com", "", "", "", "Mars/Olympus"), "“Mars/Olympus” is not a time zone"),
        (("A", "a@example.com", "", "", "", "", "2024-02-30"), "“2024-02-30” is not a date"),
        (("A", "a@example.com", "", "", "", "", "15/01/2024"), "“15/01/2024” is not a date"),
        (("A", "a@example.com", "", "", "", "", "20240115"), "“20240115” is not a date"),
        (("A", "a@example.com", "x" * 81), "row 2, team: Too long: at most 80 characters."),
    ],
)
def test_each_bad_cell_is_named_with_its_row_and_column(row, expected):
    found = problems(roster(row))
    assert any(expected in p for p in found), found


def test_a_row_with_more_cells_than_columns_is_named():
    found = problems(b"name,email,team\r\nA,a@example.com,T,surprise\r\nB,b@example.com,T,\r\n")
    assert found == ["row 2: 4 cells, but the header names 3 columns."]


def test_active_takes_true_false_and_nothing_else():
    header = ("name", "email", "active")
    parsed = parse(
        roster(("A", "a@example.com", "FALSE"), ("B", "b@example.com", "yes"),
               ("C", "c@example.com", ""), ("D", "d@example.com", "maybe"), header=header)
    )  # fmt: skip
    assert [row.record.active if row.record else "bad" for row in parsed.rows] == [
        False, True, None, "bad",
    ]  # fmt: skip
    assert (
        str(parsed.rows[3].problems[0]) == "row 5, active: “maybe” is not true or false (or empty)."
    )


def test_every_row_sharing_an_email_is_named_in_any_letter_case():
    found = problems(
        roster(("A", "same@example.com"), ("B", "other@example.com"), ("C", "SAME@example.com"))
    )
    assert found == [
        "row 2, email: same@example.com is also on row 4.",
        "row 4, email: same@example.com is also on row 2.",
    ]


def test_blank_lines_are_skipped_and_rows_keep_their_spreadsheet_numbers():
    parsed = parse(b"name,email\r\n\r\nA,a@example.com\r\n,\r\nB,b@example.com\r\n")
    assert [row.number for row in parsed.rows] == [3, 5]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty."),
        (b"   \r\n", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a CSV file: it contains binary data"),
        (b"PK\x03\x04\x14\x00\x06\x00", "This is not a CSV file"),
        ("name,email\r\nRené,r@example.com\r\n".encode("latin-1"), "not UTF-8 text (line 2"),
        ("name,email\r\n".encode("utf-16"), "The file is UTF-16 text"),
        (b"name,email\r\n" + b"x" * 100_000 + b",a@example.com\r\n", "Line 2 cannot be read"),
        (b'name,email\r\n"open quote,a@example.com\r\n', "cannot be read as CSV"),
    ],
)
def test_hostile_files_get_one_clear_problem(data, expected):
    found = problems(data)
    assert len(found) == 1 and expected in found[0], found


def test_more_rows_than_the_limit_is_refused():
    data = roster(*[(f"P{i}", f"p{i}@example.com") for i in range(11)])
    assert problems(data) == []
    assert (
        parse(data, max_rows=10).problems[0].message.startswith("The file has more than 10 people")
    )


def test_the_template_is_a_valid_file_with_every_column():
    text = csvfile.template_csv()
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert tuple(header) == csvfile.COLUMNS and len(rows) == 2
    assert parse(text.encode()).ok


def test_cells_that_look_like_formulas_are_only_text():
    parsed = parse(roster(('=HYPERLINK("x")', "a@example.com", "+cmd|' /C calc'!A0")))
    assert parsed.ok
    assert parsed.rows[0].record.name == '=HYPERLINK("x")'


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.com", "Ada.Lovelace+roster@Mail.Example.co.uk", "a_b-c@ex-ample.io",
        "a..b@example.com", ".a@example.com", "a.@example.com", "a@-example.com",
        "a@example-.com", "a@example", "a@example.c0m", "a@example.test", "a@localhost",
        "a@foo.local", "a@x.onion", "a@example.invalid", "a@1.2.3.4", "a@[127.0.0.1]",
        "\"quoted\"@example.com", "a b@example.com", "ä@example.com", "a@exämple.com",
        "a@" + "x" * 64 + ".com", "x" * 65 + "@example.com", "a@" + ("x" * 60 + ".") * 4 + "com",
        "a@example.com.", "a@@example.com", "a@example..com",
    ],
)  # fmt: skip
def test_the_quick_address_check_agrees_with_email_validator(address):
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(address, check_deliverability=False)
        valid = True
    except EmailNotValidError:
        valid = False
    assert (csvfile._invalid_email(address) is None) == valid
