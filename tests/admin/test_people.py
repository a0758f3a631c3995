"""Admin pages: 403 for everyone but admins; people search and actions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from matcher.extensions import db
from matcher.models import User
from tests.conftest import login


def admin_routes(app) -> list[tuple[str, str]]:
    """Every admin URL, with placeholder values filled in, and its methods."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        # Fill every placeholder: ids with 1, <action> with a real action, others with a word.
        url = rule.rule.replace("<action>", "make-admin").replace("<kind>", "teams")
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
    from matcher.rounds import service

    with app.app_context():
        service.run_round(db.session, "2026-W49")
        db.session.commit()
        round_id = db.session.scalar(select(Round.id))
        team_id = db.session.scalar(select(Team.id))
    for method, url in admin_routes(app):
        if method != "GET":
            continue
        url = url.replace("/rounds/1", f"/rounds/{round_id}").replace(
            "/teams/1", f"/teams/{team_id}"
        )
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if url.endswith(".csv"):
            assert response.headers["Content-Disposition"].startswith("attachment;")
        else:
            assert 'aria-label="Admin"' in response.get_data(as_text=True), url  # the admin nav


def test_people_page_says_how_many_match_beyond_the_first_page(client, make_user, monkeypatch):
    from matcher.admin import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    make_user(email="root@example.com", name="Root", is_admin=True, team="Ops")
    for k in range(3):
        make_user(email=f"p{k}@example.com", name=f"Person {k}", team="Search")
    login(client, "root@example.com")
    page = client.get("/admin/people").get_data(as_text=True)
    assert "Showing the first 2 of 4 people" in page
    narrowed = client.get("/admin/people", query_string={"q": "Person 1"})
    assert "Showing the first" not in narrowed.get_data(as_text=True)
    # Refusing to demote yourself keeps the search you were in.
    with client.application.app_context():
        root = db.session.scalar(select(User.id).where(User.email == "root@example.com"))
    response = client.post(f"/admin/people/{root}/revoke-admin?q=Root")
    assert response.status_code == 302 and response.headers["Location"].endswith("?q=Root")
