"""Admin programme pages: create, edit, archive; every per-programme page, per programme."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from matcher.extensions import db
from matcher.models import AuditEntry, MatchGroup, Membership, Programme, Round, User
from matcher.programmes.catalogue import ProgrammeValues, by_slug, create_programme
from matcher.programmes.members import Choice, join
from tests.admin.support import WEEK, field_error, rules_args, table_counts, valid_form


def form(**changes: str | None) -> dict[str, str]:
    """A valid new-programme submission, with changes applied (None leaves a field out)."""
    data = {
        "name": "Mentoring circle",
        "slug": "",
        "kind": "mentoring",
        "description": "Learn from someone who knows.",
        "open_to": "everyone",
        "open_values": "",
        "joined_within_weeks": "8",
        "pairing_weeks": "12",
        "mentor_capacity": "3",
        "chat_webhook_url": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def error(page: str, field_id: str) -> str:
    return html.unescape(field_error(page, field_id))


def programme(app, slug: str) -> Programme | None:
    with app.app_context():
        found = by_slug(db.session, slug)
        if found is not None:
            db.session.expunge(found)
        return found


def add_programme(app, name: str, slug: str, kind: str = "coffee", members=()) -> int:
    """A programme made by the service (committed), these user ids joined to it; its id."""
    with app.app_context():
        made = create_programme(db.session, ProgrammeValues(name=name, slug=slug, kind=kind), None)
        for user_id in members:
            user = db.session.get(User, user_id)
            join(db.session, made, user, Choice(made.id), datetime.now(UTC).date())
        db.session.commit()
        return made.id


def audit_log(client) -> str:
    return html.unescape(client.get("/admin/audit").get_data(as_text=True))


@pytest.fixture
def coffee(app, admin):
    """The default programme (tables are emptied between tests: made again here)."""
    from matcher.programmes.catalogue import default_programme

    with app.app_context():
        made = default_programme(db.session)
        db.session.commit()
        return made.id


def test_create_edit_archive_and_reopen_through_the_forms(app, client, coffee):
    assert client.get("/admin/programmes/new").status_code == 200
    response = client.post("/admin/programmes/new", data=form())
    # The address is made from the name; the rules page of the new programme comes next.
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/p/mentoring-circle/rules")
    made = programme(app, "mentoring-circle")
    assert (made.name, made.kind, made.pairing_weeks, made.mentor_capacity) == (
        "Mentoring circle", "mentoring", 12, 3,
    )  # fmt: skip
    listing = client.get("/admin/programmes").get_data(as_text=True)
    assert "Mentoring circle" in listing and "Cross-team coffee" in listing
    assert 'href="/admin/programmes/new"' in listing

    edit = client.get("/admin/p/mentoring-circle/edit").get_data(as_text=True)
    assert 'value="Mentoring circle"' in edit and 'name="kind"' not in edit  # kind is fixed
    response = client.post(
        "/admin/p/mentoring-circle/edit",
        data=form(name="Mentors", slug="mentors", pairing_weeks="10", kind="coffee"),
    )
    assert response.status_code == 302
    edited = programme(app, "mentors")
    assert (edited.id, edited.name, edited.pairing_weeks, edited.kind) == (
        made.id, "Mentors", 10, "mentoring",
    )  # fmt: skip
    assert programme(app, "mentoring-circle") is None

    assert client.post("/admin/p/mentors/archive").status_code == 302
    assert programme(app, "mentors").archived is True
    assert "archived" in client.get("/admin/programmes").get_data(as_text=True)
    assert client.post("/admin/p/mentors/reopen").status_code == 302
    assert programme(app, "mentors").archived is False

    log = audit_log(client)
    assert "Created the programme “Mentoring circle” (mentoring)." in log
    assert "Edited the programme “Mentors” (renamed from “Mentoring circle”)" in log
    assert "Archived the programme “Mentors”." in log
    assert "Reopened the programme “Mentors”." in log
    assert "programme.create" not in log.split("Recorded values")[0]


# SQLite only for values the form refuses by itself, before any write; the two clashes with
# an existing address are looked up in the database and run on both backends.
REFUSED_BY_THE_FORM = pytest.mark.sqlite_only("refused by the form: nothing is written")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        pytest.param({"name": ""}, "name", "Give the programme a name.", marks=REFUSED_BY_THE_FORM),
        pytest.param(
            {"name": "   "}, "name", "Give the programme a name.", marks=REFUSED_BY_THE_FORM
        ),
        ({"slug": "coffee"}, "slug", "Another programme (Cross-team coffee) uses 'coffee'."),
        # The address is made from the name: its clash is named next to the name.
        ({"name": "Coffee!"}, "name", "Another programme (Cross-team coffee) uses 'coffee'."),
        pytest.param(
            {"mentor_capacity": "0"},
            "mentor_capacity",
            "A mentor takes from 1 to 10 mentees.",
            marks=REFUSED_BY_THE_FORM,
        ),
        pytest.param(
            {"mentor_capacity": "10000"},
            "mentor_capacity",
            "A mentor takes from 1 to 10 mentees.",
            marks=REFUSED_BY_THE_FORM,
        ),
        pytest.param(
            {"mentor_capacity": "lots"},
            "mentor_capacity",
            "“lots” is not a whole number",
            marks=REFUSED_BY_THE_FORM,
        ),
        pytest.param(
            {"pairing_weeks": "1e3"},
            "pairing_weeks",
            "“1e3” is not a whole number",
            marks=REFUSED_BY_THE_FORM,
        ),
        pytest.param(
            {"pairing_weeks": "99"},
            "pairing_weeks",
            "From 1 to 52 weeks.",
            marks=REFUSED_BY_THE_FORM,
        ),
        pytest.param(
            {"joined_within_weeks": ""},
            "joined_within_weeks",
            "Enter a whole number.",
            marks=REFUSED_BY_THE_FORM,
        ),
        pytest.param(
            {"slug": "../../admin"},
            "slug",
            "Lower-case letters, digits and single hyphens",
            marks=REFUSED_BY_THE_FORM,
        ),
        pytest.param(
            {"slug": "<script>alert(1)</script>"},
            "slug",
            "Lower-case letters, digits",
            marks=REFUSED_BY_THE_FORM,
        ),
        pytest.param(
            {"slug": "Coffee Club"}, "slug", "Lower-case letters, digits", marks=REFUSED_BY_THE_FORM
        ),
        pytest.param(
            {"slug": "new"}, "slug", "'new' is reserved; choose another.", marks=REFUSED_BY_THE_FORM
        ),
        pytest.param(
            {"kind": "poker"}, "kind", "Choose one of the kinds.", marks=REFUSED_BY_THE_FORM
        ),
        pytest.param(
            {"open_to": "teams"},
            "open_values",
            "Name at least one of the teams that may join.",
            marks=REFUSED_BY_THE_FORM,
        ),
        pytest.param(
            {"chat_webhook_url": "javascript:alert(1)"},
            "chat_webhook_url",
            "An https:// address",
            marks=REFUSED_BY_THE_FORM,
        ),
    ],
)
def test_bad_input_gets_a_message_next_to_its_field_and_nothing_is_stored(
    app, client, coffee, changes, field, message
):
    before = table_counts(app)
    response = client.post("/admin/programmes/new", data=form(**changes))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in error(page, field), (field, error(page, field))
    assert "Nothing was saved" in page and "<script>alert" not in page
    assert table_counts(app) == before


def test_junk_numbers_and_a_missing_name_are_all_reported_at_once(app, client, coffee):
    response = client.post("/admin/programmes/new", data=form(name="", pairing_weeks="x"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error(page, "name") == "Give the programme a name."
    assert "is not a whole number" in error(page, "pairing_weeks")
    assert error(page, "slug") == ""  # made from the name: the name's message says it all


def test_editing_into_another_programmes_slug_stores_nothing(app, client, coffee):
    add_programme(app, "Lunch", "lunch")
    before = table_counts(app)
    response = client.post(
        "/admin/p/lunch/edit", data=form(name="Lunch roulette", slug="coffee", kind=None)
    )
    assert response.status_code == 422
    assert error(response.get_data(as_text=True), "slug").startswith("Another programme")
    assert programme(app, "lunch").name == "Lunch"
    assert table_counts(app) == before
    # A coffee programme's form has no mentor field: its absence is not an error.
    ok = client.post(
        "/admin/p/lunch/edit",
        data=form(name="Lunch roulette", slug="lunch", kind=None, mentor_capacity=None),
    )
    assert ok.status_code == 302 and programme(app, "lunch").name == "Lunch roulette"


def test_the_rules_page_of_a_programme_saves_only_its_rules(app, client, coffee):
    add_programme(app, "Lunch", "lunch")
    page = client.get("/admin/p/lunch/rules").get_data(as_text=True)
    assert "Programme: <strong>Lunch</strong>" in page
    response = client.post("/admin/p/lunch/rules", data=valid_form(group_size="3"))
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/admin/p/lunch/rules"
    )
    assert programme(app, "lunch").rules["group_size"] == 3
    assert programme(app, "coffee").rules == {}
    assert "Changed the rules of “Lunch”: Group size 2 → 3" in audit_log(client)
    # The old address is the default programme's page, as before.
    old = client.get("/admin/rules").get_data(as_text=True)
    assert "Programme: <strong>Cross-team coffee</strong>" in old


def test_kinds_with_roles_pair_two_at_a_time_whatever_is_sent(app, client, coffee):
    add_programme(app, "Buddies", "buddies", kind="buddies")
    page = client.get("/admin/p/buddies/rules").get_data(as_text=True)
    assert "Always 2 in Buddies: one new joiner with one buddy." in page
    assert "cross_team_only" in page  # "only different teams" stays available
    response = client.post("/admin/p/buddies/rules", data=valid_form(group_size="4"))
    assert response.status_code == 302
    assert programme(app, "buddies").rules["group_size"] == 2


def test_a_draft_of_a_second_programme_belongs_to_it(app, client, org, coffee):
    lunch = add_programme(app, "Lunch", "lunch", members=list(org.values())[:6])
    page = client.get("/admin/p/lunch/preview", query_string={"week": WEEK})
    assert page.status_code == 200
    assert f"Current rules · {WEEK}" in page.get_data(as_text=True)
    response = client.post("/admin/p/lunch/preview/save", data={**rules_args(), "use": "current"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    round_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        assert round_.programme_id == lunch and round_.participant_count == 6
    detail = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    assert "Programme: <strong>Lunch</strong>" in detail
    assert f'href="/admin/rounds/{round_id}"' in client.get("/admin/p/lunch/rounds").get_data(
        as_text=True
    )
    # Not among the default programme's rounds, at the old address or the new one.
    for address in ("/admin/rounds", "/admin/p/coffee/rounds"):
        assert f'/admin/rounds/{round_id}"' not in client.get(address).get_data(as_text=True)
    assert "Saved a draft round of “Lunch” for the week of" in audit_log(client)
    # The same week of the default programme is still free to save.
    again = client.post("/admin/preview/save", data={**rules_args(), "use": "current"})
    assert again.status_code == 302
    with app.app_context():
        other = db.session.get(Round, int(again.headers["Location"].rsplit("/", 1)[1]))
        assert other.programme_id == coffee and other.week == WEEK


# SQLite only: a slug lookup that finds nothing; the pages of real programmes run on both.
@pytest.mark.sqlite_only("404 for an unknown slug: nothing stored")
@pytest.mark.parametrize(
    "address",
    [
        "/admin/p/nope", "/admin/p/nope/rules", "/admin/p/nope/preview", "/admin/p/nope/rounds",
        "/admin/p/nope/whatif", "/admin/p/nope/insights", "/admin/p/nope/people",
        "/admin/p/nope/edit", "/admin/p/nope/export/rounds.csv", "/admin/p/%3Cscript%3E/rules",
    ],
)  # fmt: skip
def test_an_unknown_programme_is_not_found(client, coffee, address):
    assert client.get(address).status_code == 404


def test_every_page_of_a_programme_answers_at_both_addresses(app, client, org, coffee):
    add_programme(app, "Lunch", "lunch", members=list(org.values())[:4])
    for page in ("", "/rules", "/preview", "/rounds", "/whatif", "/insights", "/people"):
        for base, name in (("/admin/p/lunch", "Lunch"), ("/admin/p/coffee", "Cross-team coffee")):
            response = client.get(base + page)
            assert response.status_code == 200, base + page
            assert f"Programme: <strong>{name}</strong>" in response.get_data(as_text=True)
        old = client.get("/admin" + (page or "/"))
        assert old.status_code == 200, page
    # People's status is their status in the programme shown.
    outsider = org["Person11"]
    lunch_people = client.get("/admin/p/lunch/people", query_string={"status": "not_member"})
    assert f'href="/admin/people/{outsider}"' in lunch_people.get_data(as_text=True)
    coffee_people = client.get("/admin/people", query_string={"status": "not_member"})
    assert f'href="/admin/people/{outsider}"' not in coffee_people.get_data(as_text=True)


def _published(session, programme_id: int, monday: date, *groups: tuple[int, ...]) -> None:
    from matcher.weeks import week_label

    round_ = Round(
        programme_id=programme_id, week=week_label(monday), starts_on=monday,
        status="published", rules={}, participant_count=sum(len(g) for g in groups),
        published_at=datetime.now(UTC).replace(tzinfo=None),
    )  # fmt: skip
    for members in groups:
        group = MatchGroup(round=round_, reasons=[])
        for user_id in members:
            group.memberships.append(Membership(round=round_, user_id=user_id))
    session.add(round_)


def test_org_wide_insights_count_the_rounds_of_every_programme(app, client, org, coffee):
    from matcher.admin import metrics

    ids = list(org.values())
    lunch = add_programme(app, "Lunch", "lunch", members=ids)
    monday = datetime.now(UTC).date() - timedelta(days=datetime.now(UTC).weekday() + 14)
    with app.app_context():
        _published(db.session, coffee, monday, (ids[0], ids[1]), (ids[2], ids[3]))
        _published(db.session, lunch, monday, (ids[0], ids[1]), (ids[4], ids[5]))
        _published(db.session, lunch, monday + timedelta(days=7), (ids[6], ids[7]))
        db.session.commit()
        everything = metrics.compute(db.session)
        only_lunch = metrics.compute(db.session, lunch)
        only_coffee = metrics.compute(db.session, coffee)
    assert [r.programme for r in everything.rounds] == ["Cross-team coffee", "Lunch", "Lunch"]
    # A pair matched in both programmes is one people pair across the organisation.
    assert everything.people_pairs_matched == 4
    assert (only_lunch.people_pairs_matched, only_coffee.people_pairs_matched) == (3, 2)
    assert len(only_lunch.rounds) == 2 and len(only_coffee.rounds) == 1

    page = client.get("/admin/insights").get_data(as_text=True)
    assert "Insights across all programmes" in page
    table = page[page.index("Per round") :]
    assert table.count("<td>Lunch</td>") == 2 and table.count("<td>Cross-team coffee</td>") == 1
    lunch_page = client.get("/admin/p/lunch/insights").get_data(as_text=True)
    assert "across all programmes" not in lunch_page and "Programme: <strong>Lunch" in lunch_page

    rows = list(
        csv.reader(io.StringIO(client.get("/admin/export/rounds.csv").get_data(as_text=True)))
    )
    assert rows[0][-1] == "programme" and sorted(r[-1] for r in rows[1:]) == [
        "Cross-team coffee", "Lunch", "Lunch",
    ]  # fmt: skip
    lunch_csv = client.get("/admin/p/lunch/export/pairs.csv")
    assert "lunch" in lunch_csv.headers["Content-Disposition"]
    pairs = list(csv.reader(io.StringIO(lunch_csv.get_data(as_text=True))))
    assert len(pairs) == 4 and {r[-1] for r in pairs[1:]} == {"Lunch"}


def test_the_person_page_lists_programmes_and_corrects_the_join_date(app, client, org, coffee):
    ada = org["Person00"]
    add_programme(app, "Lunch", "lunch", members=[ada])
    page = client.get(f"/admin/people/{ada}").get_data(as_text=True)
    programmes = page[page.index('id="programmes-h"') : page.index('id="history-h"')]
    assert "Cross-team coffee" in programmes and "Lunch" in programmes
    assert programmes.count("status-person-active") == 2 and "every week" in programmes

    earlier = datetime.now(UTC).date() - timedelta(days=30)
    response = client.post(f"/admin/people/{ada}/joined-on", data={"joined_on": str(earlier)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, ada).joined_on == earlier
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "person.joined_on"))
        assert entry is not None and entry.after == {"joined_on": earlier.isoformat()}
    assert "Changed the join date of Person00 (p0@example.com)" in audit_log(client)

    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    for sent, message in (
        (str(tomorrow), "The join date cannot be in the future."),
        ("yesterday", "“yesterday” is not a date"),
        ("2026-02-30", "is not a date"),
        ("x" * 500, "is not a date"),
    ):
        before = table_counts(app)
        response = client.post(f"/admin/people/{ada}/joined-on", data={"joined_on": sent})
        assert response.status_code == 422
        assert message in error(response.get_data(as_text=True), "joined_on")
        assert table_counts(app) == before
        with app.app_context():
            assert db.session.get(User, ada).joined_on == earlier
