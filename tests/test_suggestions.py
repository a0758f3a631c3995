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
    """Four people: Checkout three times, Billing twice, Search API once; Rust three times,
    Chess twice, Sailing once; Berlin twice (once as "berlin"), Lisbon twice."""
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
        "ed": make_user(
            email="ed@example.com",
            name="Ed",
            team="Data",
            projects=("Billing", "Checkout"),
            interests=("Chess",),
            location="Lisbon",
        ),
    }


def test_sign_up_suggests_what_people_use_most_used_first(client, colleagues):
    page = client.get("/auth/signup").get_data(as_text=True)
    # Most used first; what only one person wrote (Search API, Sailing) is not offered.
    assert datalist(page, "project-names") == ["Checkout", "Billing"]
    assert datalist(page, "interest-names") == ["Rust", "Chess"]
    # "Berlin" and "berlin" are one office of two people, offered once.
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
    # Counted without Bo: Checkout and Billing are two others' each (ties: alphabetical);
    # only Cy is in Berlin besides Bo, so Berlin is not offered.
    assert datalist(page, "project-names") == ["Billing", "Checkout"]
    assert datalist(page, "interest-names") == ["Chess", "Rust"]
    assert datalist(page, "location-names") == ["Lisbon"]


def test_deleted_and_deactivated_people_and_unused_entries_are_not_suggested(
    app, client, colleagues
):
    with app.app_context():
        db.session.execute(update(User).where(User.id == colleagues["di"]).values(active=False))
        Project.get_or_create(db.session, "Nobody works on this")
        db.session.commit()
    page = client.get("/auth/signup").get_data(as_text=True)
    assert datalist(page, "project-names") == ["Checkout"]  # Billing: Ed's alone now
    assert "Lisbon" not in datalist(page, "location-names")
    assert "Chess" not in datalist(page, "interest-names")


def test_suggestions_are_bounded(app, make_user):
    for n in range(10):
        make_user(
            email=f"p{n}@example.com", projects=(f"Project {n // 2}",), location=f"Office {n // 2}"
        )
    with app.app_context():
        found = service.suggestions(db.session, limit=3)
    assert len(found.projects) == len(found.locations) == 3
    assert len(found.interests) == 2  # Rust and Climbing: fewer than the bound


def test_the_lists_fit_a_phone(client, colleagues):
    """No fixed widths: the inputs keep the stylesheet's 100% width at 390 px."""
    page = client.get("/auth/signup").get_data(as_text=True)
    assert " style=" not in page and 'size="' not in page


def test_what_one_person_plants_is_shown_to_no_visitor(client, colleagues, make_user):
    make_user(email="eve@example.com", projects=("Buy crypto at evil.example",), location="Mars")
    page = client.get("/auth/signup").get_data(as_text=True)
    assert "evil.example" not in page and "Mars" not in page


def test_unconfirmed_accounts_cannot_plant_a_suggestion(app, make_user):
    for name in ("Mallory", "Trudy"):
        make_user(email=f"{name.lower()}@example.com", name=name, projects=("Free crypto",))
    with app.app_context():
        assert "Free crypto" in service.suggestions(db.session).projects
        db.session.execute(update(User).values(email_verified_at=None))
        db.session.commit()
        assert "Free crypto" not in service.suggestions(db.session).projects
