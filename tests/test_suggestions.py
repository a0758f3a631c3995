"""Sign-up and profile edit suggest the projects, interests and offices other people use."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from matcher.extensions import db
from matcher.models import Project, User
from matcher.profile import service
from tests.support import login


def datalist(page: str, list_id: str) -> list[str]:
    """The option values of one datalist on a page, in order."""
    found = re.search(rf'<datalist id="{list_id}">(.*?)</datalist>', page, re.S)
    assert found, f"no datalist {list_id}"
    return re.findall(r'<option value="([^"]*)">', found.group(1))


@pytest.fixture
def colleagues(make_user) -> dict[str, int]:
    """Three people: Berlin twice, Rust three times, Checkout twice, Sailing once."""
    return {
        "bo": make_user(
            email="bo@example.com",
            name="Bo",
            projects=("Checkout", "Search API"),
            interests=("Rust", "Sailing"),
            location="Berlin",
        ),
        "cy": make_user(
            email="cy@example.com",
            name="Cy",
            team="Search",
            projects=("Checkout",),
            interests=("Rust",),
            location="berlin",
        ),
        "di": make_user(
            email="di@example.com",
            name="Di",
            team="Infra",
            projects=("Billing",),
            interests=("Rust", "Chess"),
            location="Lisbon",
        ),
    }


def test_sign_up_suggests_what_people_use_most_used_first(client, colleagues):
    page = client.get("/auth/signup").get_data(as_text=True)
    assert datalist(page, "project-names") == ["Checkout", "Billing", "Search API"]
    assert datalist(page, "interest-names") == ["Rust", "Chess", "Sailing"]
    # "Berlin" and "berlin" are one office, offered once (as the most used spelling).
    assert datalist(page, "location-names") == ["Berlin", "Lisbon"]
    for field, list_id in (
        ("projects", "project-names"),
        ("interests", "interest-names"),
        ("location", "location-names"),
    ):
        assert re.search(rf'<input[^>]*id="{field}"[^>]*list="{list_id}"', page) or re.search(
            rf'<input[^>]*list="{list_id}"[^>]*id="{field}"', page
        ), field
    # The comma-separated lists are marked for app.js, which completes the last entry.
    assert re.search(r'<input[^>]*data-tags[^>]*id="projects"', page)


def test_profile_edit_leaves_out_entries_only_i_use(app, client, colleagues):
    login(client, "bo@example.com")
    page = client.get("/me/edit").get_data(as_text=True)
    # Search API and Sailing are Bo's alone; Berlin is Cy's too (as "berlin").
    assert datalist(page, "project-names") == ["Billing", "Checkout"]
    assert datalist(page, "interest-names") == ["Rust", "Chess"]
    assert datalist(page, "location-names") == ["berlin", "Lisbon"]  # ties: alphabetical


def test_deleted_and_deactivated_people_and_unused_entries_are_not_suggested(
    app, client, colleagues
):
    with app.app_context():
        db.session.execute(update(User).where(User.id == colleagues["di"]).values(active=False))
        Project.get_or_create(db.session, "Nobody works on this")
        db.session.commit()
    page = client.get("/auth/signup").get_data(as_text=True)
    assert datalist(page, "project-names") == ["Checkout", "Search API"]
    assert "Lisbon" not in datalist(page, "location-names")
    assert "Chess" not in datalist(page, "interest-names")


def test_suggestions_are_bounded(app, make_user):
    for n in range(5):
        make_user(email=f"p{n}@example.com", projects=(f"Project {n}",), location=f"Office {n}")
    with app.app_context():
        found = service.suggestions(db.session, limit=3)
    assert len(found.projects) == len(found.locations) == 3
    assert len(found.interests) == 2  # Rust and Climbing: fewer than the bound


def test_the_lists_fit_a_phone(client, colleagues):
    """No fixed widths: the inputs keep the stylesheet's 100% width at 390 px."""
    page = client.get("/auth/signup").get_data(as_text=True)
    assert " style=" not in page and 'size="' not in page
