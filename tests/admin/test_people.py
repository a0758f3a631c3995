"""Admin pages: 403 for everyone but admins; people search and actions."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from matcher.extensions import db
from matcher.models import User
from tests.support import coffee, coffee_member, login


def admin_routes(app) -> list[tuple[str, str]]:
    """Every admin URL, with placeholder values filled in, and its methods."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        # Fill every placeholder: ids with 1, <action> with a real action, others with a word.
        url = rule.rule.replace("<action>", "make-admin").replace("<kind>", "teams")
        url = url.replace("<slug>", "coffee")  # the default programme's address
        url = re.sub(r"<int:\w+>", "1", url)
        url = re.sub(r"<(?:\w+:)?\w+>", "rounds", url)  # <what>.csv
        assert "<" not in url, url
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, url))
    assert routes, "no admin routes found"
    return routes


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_every_admin_route_is_forbidden_to_non_admins(app, client, make_user, who):
    make_user(email="admin@example.com", is_admin=True)
    if who == "member":
        make_user(email="ada@example.com")
        login(client, "ada@example.com")
    for method, url in admin_routes(app):
        response = client.open(url, method=method)
        assert response.status_code == 403, (method, url)
    with app.app_context():
        assert db.session.get(User, 1).is_admin  # the POST changed nothing


def test_admin_sees_overview_and_searches_people(client, make_user):
    make_user(email="admin@example.com", name="Root Admin", is_admin=True)
    make_user(email="ada@example.com", name="Ada Lovelace", team="Payments")
    make_user(email="bob@example.com", name="Bob 100% Builder", team="Search")
    login(client, "admin@example.com")
    assert "people signed up" in client.get("/admin/").get_data(as_text=True)
    page = client.get("/admin/people?q=payments").get_data(as_text=True)
    assert "Ada Lovelace" in page and "Bob" not in page
    page = client.get("/admin/people?q=100%25").get_data(as_text=True)
    assert "Bob 100% Builder" in page and "Ada" not in page
    assert client.get("/admin/people?q=" + "x" * 500).status_code == 200


def test_admin_actions(app, client, make_user):
    admin = make_user(email="admin@example.com", is_admin=True)
    ada = make_user(email="ada@example.com")
    login(client, "admin@example.com")
    client.post(f"/admin/people/{ada}/make-admin")
    client.post(f"/admin/people/{ada}/deactivate")
    with app.app_context():
        user = db.session.get(User, ada)
        assert user.is_admin and not user.active
    # An admin cannot lock themselves out.
    response = client.post(f"/admin/people/{admin}/revoke-admin", follow_redirects=True)
    assert "cannot remove your own admin rights" in response.get_data(as_text=True)
    assert client.post(f"/admin/people/{ada}/explode").status_code == 404
    assert client.post("/admin/people/9999/make-admin").status_code == 404


def test_every_admin_page_answers_an_admin_without_error(app, client, org):
    from matcher.models import Round, Team
    from matcher.rounds import publishing

    with app.app_context():
        publishing.run_round(db.session, coffee(db.session), "2026-W49")
        db.session.commit()
        round_id = db.session.scalar(select(Round.id))
        team_id = db.session.scalar(select(Team.id))
    # A roster upload's preview page is named by the upload's random id.
    uploaded = client.post(
        "/admin/roster",
        data={"file": (io.BytesIO(b"name,email\r\nAda,new-ada@example.com\r\n"), "a.csv")},
        content_type="multipart/form-data",
    )
    roster_preview = uploaded.headers["Location"]
    for method, url in admin_routes(app):
        if method != "GET":
            continue
        url = url.replace("/rounds/1", f"/rounds/{round_id}").replace(
            "/teams/1", f"/teams/{team_id}"
        )
        url = url.replace("/admin/roster/rounds", roster_preview)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if url.endswith(".csv"):
            assert response.headers["Content-Disposition"].startswith("attachment;")
        else:
            assert 'aria-label="Admin"' in response.get_data(as_text=True), url  # the admin nav


def people_on(page: str) -> list[str]:
    """Names in the People table, in order."""
    return re.findall(r'<td><a href="/admin/people/\d+">([^<]+)</a>', page)


def test_people_come_50_a_page_with_links_that_keep_the_search(client, make_user, monkeypatch):
    from matcher.admin import directory

    monkeypatch.setattr(directory, "PAGE_SIZE", 2)
    make_user(email="root@example.com", name="Root", is_admin=True, team="Ops")
    for k in range(4):
        make_user(email=f"p{k}@example.com", name=f"Person {k}", team="Search")
    login(client, "root@example.com")
    page = client.get("/admin/people").get_data(as_text=True)
    assert people_on(page) == ["Person 0", "Person 1"]
    assert "People 1–2 of 5, by name (page 1 of 3)" in page
    assert 'href="/admin/people?page=2"' in page and 'href="/admin/people?page=3"' in page
    last = client.get("/admin/people?page=3").get_data(as_text=True)
    assert people_on(last) == ["Root"] and "People 5–5 of 5" in last
    # The search is kept in every page link, and a page of it holds only matches.
    found = client.get("/admin/people", query_string={"q": "person", "page": "2"})
    text = found.get_data(as_text=True)
    assert people_on(text) == ["Person 2", "Person 3"]
    links = re.findall(r'href="/admin/people\?page=([^"]*)"', text)
    assert links == ["1&amp;q=person", "1&amp;q=person"]  # "Previous" and "1"
    # Refusing to demote yourself keeps the search you were in.
    with client.application.app_context():
        root = db.session.scalar(select(User.id).where(User.email == "root@example.com"))
    response = client.post(f"/admin/people/{root}/revoke-admin?q=Root")
    assert response.status_code == 302 and response.headers["Location"].endswith("?q=Root")
    ada = make_user(email="ada@example.com", name="Ada", team="Search")
    response = client.post(f"/admin/people/{ada}/deactivate?q=a&status=active&page=2")
    assert response.headers["Location"].endswith("/admin/people?q=a&status=active&page=2")
    response = client.post(f"/admin/people/{ada}/reactivate?from=person")
    assert response.headers["Location"].endswith(f"/admin/people/{ada}")


# SQLite only for what is not a page number: refused before any query. A number past the
# last page (huge ones too) still runs on PostgreSQL, whose OFFSET would overflow.
NOT_A_NUMBER = pytest.mark.sqlite_only("not a page number: refused before any query")


@pytest.mark.parametrize(
    ("raw", "status", "says"),
    [
        ("4", 404, "There is no page 4: 5 people fit on 3 pages."),
        ("99999999999999999999999", 404, "There is no page 99999999999999999999:"),
        pytest.param("0", 400, "“0” is not a page number", marks=NOT_A_NUMBER),
        pytest.param("-1", 400, "“-1” is not a page number", marks=NOT_A_NUMBER),
        pytest.param("abc", 400, "“abc” is not a page number", marks=NOT_A_NUMBER),
        pytest.param("1.5", 400, "“1.5” is not a page number", marks=NOT_A_NUMBER),
        pytest.param(
            "٣", 400, "“٣” is not a page number", marks=NOT_A_NUMBER
        ),  # an Arabic-Indic 3: a digit, not a page
        pytest.param("' OR 1=1 --", 400, "is not a page number", marks=NOT_A_NUMBER),
    ],
)
def test_a_page_that_does_not_exist_says_so(client, make_user, monkeypatch, raw, status, says):
    from matcher.admin import directory

    monkeypatch.setattr(directory, "PAGE_SIZE", 2)
    make_user(email="root@example.com", name="Root", is_admin=True, team="Ops")
    for k in range(4):
        make_user(email=f"p{k}@example.com", name=f"Person {k}", team="Search")
    login(client, "root@example.com")
    response = client.get("/admin/people", query_string={"page": raw})
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert says in page and people_on(page) == []
    assert 'href="/admin/people?page=3"' in page  # a way on: links to the pages that exist


def test_status_tells_never_joined_from_left_paused_and_snoozed(app, client, make_user):
    from datetime import UTC, datetime, timedelta

    from matcher.auth.service import register_user

    today = datetime.now(UTC).date()
    with app.app_context():
        # As `users create-admin` makes one: no profile filled in, so outside the pairings.
        register_user(db.session, "Cli Admin", "cli@example.com", "x" * 12, None, True)
        db.session.commit()
    ids = {
        name: make_user(email=f"{name}@example.com", name=name.capitalize(), team=team)
        for name, team in [
            ("active", "A"), ("leaver", "B"), ("paused", "A"), ("snoozed", "B"), ("gone", "A")
        ]
    }  # fmt: skip
    with app.app_context():
        coffee_member(db.session, ids["leaver"]).opted_out = True
        paused = coffee_member(db.session, ids["paused"])
        paused.opted_out, paused.pause_reason = True, "3 coffees in a row without a meeting"
        coffee_member(db.session, ids["snoozed"]).snoozed_until = today + timedelta(days=20)
        db.session.get(User, ids["gone"]).active = False
        db.session.commit()
    login(client, "active@example.com")  # not an admin yet
    with app.app_context():
        db.session.get(User, ids["active"]).is_admin = True
        db.session.commit()
    page = client.get("/admin/people").get_data(as_text=True)
    statuses = dict(
        re.findall(
            r'<a href="/admin/people/\d+">([^<]+)</a>.*?<span class="status status-person-\w+">'
            r"([^<]+)</span>",
            page,
            re.S,
        )
    )
    assert statuses == {
        "Active": "active",
        "Cli Admin": "never joined",
        "Gone": "deactivated",
        "Leaver": "left",
        "Paused": "paused",
        "Snoozed": "snoozed",
    }
    overview = client.get("/admin/").get_data(as_text=True)
    assert re.search(r"<span class=\"big\">6</span> people signed up", overview)
    assert re.search(r"<span class=\"big\">2</span> taking part", overview)  # active, snoozed
    for count, label in [(1, "active"), (1, "paused"), (1, "left"), (1, "never joined")]:
        assert f"{count} {label}</a>" in overview
    left = client.get("/admin/people?status=left").get_data(as_text=True)
    assert people_on(left) == ["Leaver"]
    never = client.get("/admin/people?status=never_joined").get_data(as_text=True)
    assert people_on(never) == ["Cli Admin"]
    bad = client.get("/admin/people?status=%27%3B--").get_data(as_text=True)
    assert "Pick a status from the list." in bad and len(people_on(bad)) == 6
    # The round's "not taking part" counts say the same thing.
    preview = client.get("/admin/preview").get_data(as_text=True)
    assert "1 never joined (no profile)" in preview
    assert "1 left the programme" in preview and "1 paused after missed coffees" in preview
