"""`flask users import` (dry run, exit codes, the same counts and problems as the page) and
the admin person page's manager field (set, clear, refused: self, unknown, erased, loop).
Every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from matcher.extensions import db
from matcher.models import AuditEntry, User
from matcher.profile.service import delete_account
from tests.admin.support import field_error
from tests.roster.support import dump, roster
from tests.support import coffee

TODAY = datetime.now(UTC).date()
ROWS = (
    ("Ada", "ada@example.com", "Payments", "bo@example.com", "London", "Europe/London",
     (TODAY - timedelta(days=300)).isoformat(), "coffee"),
    ("Bo", "bo@example.com", "Search", "", "", "", "", ""),
)  # fmt: skip


@pytest.fixture
def csv_file(tmp_path):
    def write(data: bytes, name: str = "people.csv"):
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return write


def run_import(app, *args: str):
    with app.app_context():
        coffee(db.session)
        db.session.commit()
    return app.test_cli_runner().invoke(args=["users", "import", *args])


def test_a_dry_run_prints_the_counts_and_changes_nothing(app, csv_file):
    before = dump(app)
    result = run_import(app, csv_file(roster(*ROWS)), "--dry-run")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Would import 2 rows: 2 new, 0 updated, 0 unchanged" in result.stdout
    assert dump(app) == before


def test_an_import_applies_and_running_it_again_changes_nothing(app, csv_file):
    path = csv_file(roster(*ROWS))
    result = run_import(app, path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Imported 2 rows: 2 new" in result.stdout and "2 invitations queued" in result.stdout
    with app.app_context():
        ada = db.session.scalar(select(User).where(User.email == "ada@example.com"))
        assert ada.manager.email == "bo@example.com" and ada.password_hash is None
        entry = db.session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.actor_id) == ("roster.import", None)
    before = dump(app)
    again = run_import(app, path)
    assert again.exit_code == 0 and "0 new, 0 updated, 2 unchanged" in again.stdout
    assert "0 invitations queued" in again.stdout
    assert dump(app) == before


def test_no_invite_and_overwrite_options(app, csv_file):
    result = run_import(app, csv_file(roster(*ROWS)), "--no-invite")
    assert result.exit_code == 0 and "0 invitations queued" in result.stdout
    with app.app_context():
        ada = db.session.scalar(select(User).where(User.email == "ada@example.com"))
        ada.profile.location = "Remote"
        db.session.commit()
    moved = [list(ROWS[0]), list(ROWS[1])]
    moved[0][4] = "Paris"
    path = csv_file(roster(*moved), "moved.csv")
    kept = run_import(app, path)
    assert "1 kept as the person edited it" in kept.stdout
    overwritten = run_import(app, path, "--overwrite")
    assert "1 updated" in overwritten.stdout
    with app.app_context():
        ada = db.session.scalar(select(User).where(User.email == "ada@example.com"))
        assert ada.profile.location == "Paris"


def test_problems_are_printed_exit_1_and_nothing_is_saved(app, csv_file):
    before = dump(app)
    bad = roster(*ROWS, ("Eve", "eve@example", "", "nobody@example.com", "", "Nowhere", "", ""))
    for extra in ((), ("--dry-run",)):
        result = run_import(app, csv_file(bad), *extra)
        assert result.exit_code == 1
        assert "people.csv: row 4, email: “eve@example” is not an email address" in result.stderr
        assert "people.csv: row 4, time_zone: “Nowhere” is not a time zone" in result.stderr
        assert "Nothing imported: 3 rows: 2 new" in result.stdout
    assert dump(app) == before
    binary = run_import(app, csv_file(b"\x00\x01\x02\x03", "photo.csv"))
    assert binary.exit_code == 1 and "contains binary data" in binary.stderr


def test_a_missing_file_is_a_usage_error(app, tmp_path):
    result = run_import(app, str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


# The person page's manager ---------------------------------------------------------------------


def post_manager(client, user_id: int, email: str):
    return client.post(f"/admin/people/{user_id}/manager", data={"manager_email": email})


def test_an_admin_sets_and_clears_a_manager_on_the_person_page(app, client, admin, make_user):
    ada = make_user(email="ada@example.com", name="Ada")
    bo = make_user(email="bo@example.com", name="Bo")
    page = client.get(f"/admin/people/{ada}").get_data(as_text=True)
    assert 'name="manager_email"' in page and "Save manager" in page
    response = post_manager(client, ada, " BO@example.com ")
    assert response.status_code == 302
    page = client.get(f"/admin/people/{ada}").get_data(as_text=True)
    assert "Bo is now Ada’s manager." in page
    assert f'<a href="/admin/people/{bo}">Bo</a>' in page and 'value="bo@example.com"' in page
    with app.app_context():
        assert db.session.get(User, ada).manager_id == bo
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "person.manager")
        ).one()
        assert entry.before == {"manager": None} and entry.after == {"manager": "bo@example.com"}
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "Changed the manager of Ada (ada@example.com) from — to bo@example.com" in audit
    assert post_manager(client, ada, "bo@example.com").status_code == 302  # unchanged
    assert post_manager(client, ada, "").status_code == 302
    with app.app_context():
        assert db.session.get(User, ada).manager_id is None


@pytest.mark.parametrize(
    ("whose", "email", "message"),
    [
        ("ada", "ada@example.com", "A person cannot be their own manager."),
        ("ada", "nobody@example.com", "Nobody in matcher has the address nobody@example.com."),
        ("ada", "gone@example.com", "Nobody in matcher has the address gone@example.com."),
        ("bo", "ada@example.com", "Ada reports to Bo (directly or through others)"),
        ("ada", "x" * 250 + "@example.com", "An email is at most 254 characters."),
        ("ada", "' OR 1=1 --", "Nobody in matcher has the address"),
    ],
)
def test_a_bad_manager_is_refused_next_to_the_field(
    app, client, admin, make_user, whose, email, message
):
    people = {
        "ada": make_user(email="ada@example.com", name="Ada"),
        "bo": make_user(email="bo@example.com", name="Bo"),
    }
    gone = make_user(email="gone@example.com", name="Gone")
    with app.app_context():
        delete_account(db.session, db.session.get(User, gone))
        db.session.get(User, people["ada"]).manager_id = people["bo"]
        db.session.commit()
    before = dump(app)
    response = post_manager(client, people[whose], email)
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), "manager_email")
    assert dump(app) == before


def test_the_manager_of_someone_missing_or_erased_is_404(app, client, admin, make_user):
    gone = make_user(email="gone@example.com", name="Gone")
    with app.app_context():
        delete_account(db.session, db.session.get(User, gone))
        db.session.commit()
    assert post_manager(client, gone, "root@example.com").status_code == 404
    assert post_manager(client, 99999, "root@example.com").status_code == 404
    assert client.post(
        "/admin/people/1/manager", data={"manager_email": ["a", "b"]}
    ).status_code in (
        302,
        422,
    )
