"""The roster import pages: upload, preview with every problem named, apply once, limits,
hostile files (never a 500), who may use them; imported people not paired before accepting.
Every backend."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import AuditEntry, OutboxMessage, User
from matcher.profile.service import delete_account
from matcher.programmes import catalogue
from matcher.rounds import planning
from matcher.weeks import week_label
from tests.roster.support import counts_on, dump, import_file, preview, roster, upload
from tests.support import coffee, login, make_six_people, outbox_link

TODAY = datetime.now(UTC).date()
LONG_AGO = (TODAY - timedelta(days=400)).isoformat()
GOOD = (
    # A manager after the people who report to them, as HR exports often are.
    ("Ada Lovelace", "ada@example.com", "Payments", "grace@example.com", "London",
     "Europe/London", LONG_AGO, "coffee"),
    ("Linus", "linus@example.com", "Kernel", "ada@example.com", "Helsinki", "Europe/Helsinki",
     "", "coffee"),
    ("Grace Hopper", "GRACE@example.com", "Compilers", "", "", "America/New_York", LONG_AGO, ""),
)  # fmt: skip


@pytest.fixture
def programme(app):
    with app.app_context():
        coffee(db.session)
        db.session.commit()


def users(app) -> dict[str, User]:
    with app.app_context():
        found = {u.email: u for u in db.session.scalars(select(User))}
        db.session.expunge_all()
        return found


def test_the_page_is_for_admins_only(app, client, make_user):
    assert client.get("/admin/roster").status_code == 403
    make_user(email="member@example.com")
    login(client, "member@example.com")
    assert client.get("/admin/roster").status_code == 403
    assert upload(client, roster(*GOOD)).status_code == 403
    assert client.get("/admin/roster/template.csv").status_code == 403


def test_the_upload_page_explains_the_columns_and_offers_the_template(client, admin):
    page = client.get("/admin/roster").get_data(as_text=True)
    assert 'href="/admin/roster/template.csv"' in page and "manager_email" in page
    (invite,) = re.findall(r'<input[^>]*name="invite"[^>]*>', page)
    (overwrite,) = re.findall(r'<input[^>]*name="overwrite"[^>]*>', page)
    assert "checked" in invite and "checked" not in overwrite
    template = client.get("/admin/roster/template.csv")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    assert "attachment" in template.headers["Content-Disposition"]
    assert template.get_data(as_text=True).startswith("name,email,team,manager_email,")


def test_preview_counts_everything_and_saves_nothing_then_apply_creates_everyone(
    app, client, admin, programme
):
    before = dump(app)
    path, page = preview(client, roster(*GOOD))
    assert counts_on(page)["new"] == 3 and counts_on(page)["with problems"] == 0
    assert dump(app) == before  # a preview rolls everything back, invitations too
    result = client.post(path + "/apply")
    assert result.status_code == 302
    page = client.get(result.headers["Location"]).get_data(as_text=True)
    assert "Import done" in page and counts_on(page)["new"] == 3
    people = users(app)
    ada, linus, grace = (people[f"{n}@example.com"] for n in ("ada", "linus", "grace"))
    assert ada.manager_id == grace.id and linus.manager_id == ada.id and grace.manager_id is None
    assert all(p.password_hash is None and p.invited_at for p in (ada, linus, grace))
    with app.app_context():
        queued = db.session.scalars(
            select(OutboxMessage.user_id).where(OutboxMessage.kind == "invitation")
        ).all()
        assert sorted(queued) == sorted([ada.id, linus.id, grace.id])
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "roster.import")
        ).one()
        assert entry.actor_id == admin and entry.after["new"] == 3
        assert entry.after["invitations"] == 3
    # The audit log says it in words.
    assert "Imported a roster file of 3 rows: 3 new" in client.get("/admin/audit").get_data(
        as_text=True
    )
    # Applying the same upload again (a second click) changes nothing.
    again = client.post(path + "/apply")
    assert again.status_code == 302 and dump(app)["users"] == dump(app)["users"]


def test_the_same_file_twice_changes_nothing_and_invites_nobody_again(
    app, client, admin, programme
):
    import_file(client, roster(*GOOD))
    before = dump(app)
    _, page = preview(client, roster(*GOOD))
    assert counts_on(page)["unchanged"] == 3
    page = import_file(client, roster(*GOOD))
    assert counts_on(page)["unchanged"] == 3 and "Nothing changed" in page
    assert dump(app) == before


def test_a_persons_own_edit_is_kept_unless_the_admin_ticks_overwrite(app, client, admin, programme):
    import_file(client, roster(*GOOD))
    with app.app_context():
        ada = db.session.scalar(select(User).where(User.email == "ada@example.com"))
        ada.profile.location = "Remote"
        db.session.commit()
    moved = [list(row) for row in GOOD]
    moved[0][4] = "Cambridge"
    _, page = preview(client, roster(*moved))
    assert counts_on(page)["kept as the person edited it"] == 1
    assert "Keeps their own office" in page
    import_file(client, roster(*moved))
    assert users(app)["ada@example.com"].roster_values["office"] == "London"
    with app.app_context():
        assert (
            db.session.scalar(select(User).where(User.email == "ada@example.com")).profile.location
            == "Remote"
        )
    _, page = preview(client, roster(*moved), overwrite=True)
    assert counts_on(page)["updated"] == 1 and "Sets office" in page
    import_file(client, roster(*moved), overwrite=True)
    with app.app_context():
        assert (
            db.session.scalar(select(User).where(User.email == "ada@example.com")).profile.location
            == "Cambridge"
        )


def test_without_invitations_nobody_is_mailed(app, client, admin, programme):
    page = import_file(client, roster(*GOOD), invite=False)
    assert "0 invitations queued" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_every_kind_of_bad_row_is_named_and_nothing_can_be_applied(app, client, admin, programme):
    with app.app_context():
        catalogue.create_programme(
            db.session, catalogue.ProgrammeValues(name="Old club", slug="old-club"), None
        )
        catalogue.set_archived(db.session, catalogue.by_slug(db.session, "old-club"), True, None)
        db.session.commit()
    rows = (
        ("Bad Email", "not-an-email", "T", "", "", "", "", ""),
        ("Bad Zone", "zone@example.com", "T", "", "", "Mars/Base", "", ""),
        ("Bad Date", "date@example.com", "T", "", "", "", "2024-31-01", ""),
        ("Dup One", "dup@example.com", "T", "", "", "", "", ""),
        ("Dup Two", "DUP@example.com", "T", "", "", "", "", ""),
        ("Lost", "lost@example.com", "T", "ghost@example.com", "", "", "", ""),
        ("Self", "self@example.com", "T", "self@example.com", "", "", "", ""),
        ("Loop A", "loop-a@example.com", "T", "loop-b@example.com", "", "", "", ""),
        ("Loop B", "loop-b@example.com", "T", "loop-a@example.com", "", "", "", ""),
        ("Nope", "nope@example.com", "T", "", "", "", "", "coffee;chess-club"),
        ("Closed", "closed@example.com", "T", "", "", "", "", "old-club"),
        ("", "noname@example.com", "T", "", "", "", "", ""),
        ("Fine", "fine@example.com", "T", "", "", "", "", "coffee"),
    )
    before = dump(app)
    path, page = preview(client, roster(*rows))
    for expected in (
        "“not-an-email” is not an email address",
        "“Mars/Base” is not a time zone",
        "“2024-31-01” is not a date",
        "dup@example.com is also on row 6",
        "dup@example.com is also on row 5",
        "The manager ghost@example.com is neither in the file nor in matcher",
        "A person cannot be their own manager.",
        "The reporting line loops back to this person: loop-a@example.com → loop-b@example.com",
        "There is no programme “chess-club”",
        "Old club (old-club) is archived.",
        "A name is required.",
    ):
        assert expected in page, expected
    counts = counts_on(page)
    assert counts["with problems"] == 12 and counts["new"] == 1
    assert "nothing can be applied" in page and 'action="' + path + '/apply"' not in page
    assert client.post(path + "/apply").status_code == 409
    assert dump(app) == before


def test_apply_is_refused_when_the_database_changed_since_the_preview(
    app, client, admin, make_user, programme
):
    boss = make_user(email="boss@example.com", name="Boss")
    rows = [("Ada", "ada@example.com", "T", "boss@example.com", "", "", "", "")]
    path, page = preview(client, roster(*rows))
    assert counts_on(page)["new"] == 1
    with app.app_context():  # the manager's account is erased in between
        delete_account(db.session, db.session.get(User, boss))
        db.session.commit()
    before = dump(app)
    response = client.post(path + "/apply")
    assert response.status_code == 409
    assert "The manager boss@example.com is neither in the file" in response.get_data(as_text=True)
    assert dump(app) == before


def test_an_upload_is_the_uploaders_and_expires(app, client, admin, make_user, programme):
    path, _ = preview(client, roster(*GOOD))
    make_user(email="other-admin@example.com", name="Other", is_admin=True)
    other = app.test_client()
    login(other, "other-admin@example.com")
    assert other.get(path).status_code == 404
    assert other.post(path + "/apply").status_code == 404
    assert client.get("/admin/roster/not-a-token").status_code == 404
    assert client.get("/admin/roster/../../etc/passwd").status_code == 404
    from matcher.roster import uploads

    with app.test_request_context():
        token = path.rsplit("/", 1)[1]
        assert uploads.load(token, admin) is not None
        assert uploads.load(token, admin, now=datetime.now(UTC).timestamp() + 3601) is None
    assert client.get(path).status_code == 404  # expired and removed


def test_the_file_kept_between_preview_and_apply_cannot_be_swapped(app, client, admin, programme):
    path, _ = preview(client, roster(*GOOD))
    token = path.rsplit("/", 1)[1]
    stored = Path(app.instance_path) / "roster-uploads" / f"{token}.csv"
    assert stored.exists()
    stored.write_bytes(roster(("Mallory", "mallory@example.com", "T", "", "", "", "", "")))
    assert client.post(path + "/apply").status_code == 404
    assert "mallory@example.com" not in users(app)


# Limits and hostile files ---------------------------------------------------------------------


def test_a_file_above_the_form_limit_but_under_ten_megabytes_is_taken(
    app, client, admin, programme
):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    padding = "x" * 70
    rows = [(f"Person {i} {padding}", f"p{i}@example.com", "Team", "", "", "", "", "")
            for i in range(14_000)]  # fmt: skip
    data = roster(*rows)
    assert 1024 * 1024 < len(data) < 10 * 1024 * 1024
    response = upload(client, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    # Other forms keep the app-wide limit.
    big = client.post("/admin/people/1/joined-on", data={"joined_on": "x" * (1024 * 1024 + 10)})
    assert big.status_code == 413


def test_a_file_over_ten_megabytes_is_refused_with_a_clear_page(client, admin):
    data = b"name,email\r\n" + b"A,a@example.com\r\n" * (11 * 1024 * 1024 // 16)
    response = upload(client, data)
    assert response.status_code == 413
    assert "larger than 10 MB" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x01\x02binary\xff" * 100, "it contains binary data"),
        ("name,email\r\nRené,r@example.com\r\n".encode("cp1252"), "not UTF-8 text"),
        ("name,email\r\nA,a@example.com\r\n".encode("utf-16"), "UTF-16"),
        (b"name,email\r\n" + b"y" * 200_000 + b"\r\n", "cannot be read as CSV"),
        (b"", "Choose a CSV file"),
        (b"shoe,size\r\n1,2\r\n", "Unknown columns: shoe, size"),
    ],
)
def test_hostile_files_get_a_message_next_to_the_field_and_nothing_is_kept(
    app, client, admin, data, message
):
    response = upload(client, data, filename="x.csv" if data else "")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'id="file-error"' in page
    kept = Path(app.instance_path) / "roster-uploads"
    assert not kept.exists() or not any(kept.glob("*.csv"))


def test_wrong_types_and_missing_parts_never_500(client, admin):
    assert client.post("/admin/roster", data={"file": "just text"}).status_code == 422
    assert client.post("/admin/roster", data={}).status_code == 422
    assert client.post("/admin/roster", data="garbage", content_type="text/csv").status_code == 422
    response = client.post(
        "/admin/roster",
        data=b"--x\r\nbroken multipart",
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code in (400, 422)


def test_cells_like_formulas_and_markup_are_shown_as_text(client, admin, programme):
    rows = [("<script>alert(1)</script>", "xss@example.com", "=cmd|'/C calc'!A0",
             "", "", "", "", "")]  # fmt: skip
    _, page = preview(client, roster(*rows))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# Invited people are not paired -----------------------------------------------------------------


def test_imported_people_are_not_paired_before_they_accept(
    app, client, admin, make_user, programme
):
    org = make_six_people(make_user)
    import_file(client, roster(*GOOD))
    week = week_label(TODAY + timedelta(days=7))
    with app.app_context():
        plan = planning.plan_round(db.session, coffee(db.session), week)
        paired = {uid for group in plan.groups for uid in group.user_ids} | set(plan.unmatched)
        assert paired <= set(org.values()) | {admin}
        assert plan.excluded.get("invited, not yet accepted") == 2  # Grace joined nothing
    link = outbox_link(app, "invitation", "linus@example.com")
    accepted = app.test_client().post(
        link, data={"password": "linus passphrase", "confirm": "linus passphrase"}
    )
    assert accepted.status_code == 302
    with app.app_context():
        plan = planning.plan_round(db.session, coffee(db.session), week)
        linus = db.session.scalar(select(User.id).where(User.email == "linus@example.com"))
        assert linus in {uid for g in plan.groups for uid in g.user_ids} | set(plan.unmatched)


def test_the_nav_links_the_import_page(client, admin):
    page = client.get("/admin/people").get_data(as_text=True)
    assert 'href="/admin/roster"' in page


def test_the_upload_form_keeps_a_too_large_body_from_reading(client, admin):
    # Content-Length above the limit is refused before the body is read.
    response = client.post(
        "/admin/roster",
        data=io.BytesIO(b"x" * 100),
        content_type="multipart/form-data; boundary=x",
        environ_overrides={"CONTENT_LENGTH": str(20 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert "larger than 10 MB" in response.get_data(as_text=True)
