"""The profile with programmes: a card per programme, joining with a role, leaving, snoozing,
rejoining and cadence per programme, the mentoring vocabularies, and the export."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import ProgrammeMember, User
from matcher.programmes.catalogue import by_slug, set_archived
from matcher.programmes.members import membership
from tests.programme_pairings import new_programme
from tests.support import coffee, login


@pytest.fixture
def ada(client, make_user) -> int:
    """Ada, in the cross-team coffee every 2 weeks, logged in."""
    user_id = make_user(cadence_weeks=2)
    login(client, "ada@example.com")
    return user_id


@pytest.fixture
def programmes(app, ada) -> None:
    """A second weekly coffee (Lunch), a 12-week mentoring term, buddies, an archived one."""
    with app.app_context():
        session = db.session
        new_programme(session, "Lunch roulette", "lunch")
        new_programme(session, "Mentoring", "mentoring", kind="mentoring", pairing_weeks=12)
        new_programme(session, "New-joiner buddies", "buddies", kind="buddies", pairing_weeks=8)
        old = new_programme(session, "Old coffee", "old")
        set_archived(session, old, True, None)
        session.commit()


def card(page: str, slug: str) -> str:
    """The HTML of one programme's card on the profile page."""
    found = re.search(
        rf'<article class="card programme-card" id="programme-{slug}".*?</article>', page, re.S
    )
    assert found, f"no card for {slug}"
    return found.group(0)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def member(app, user_id: int, slug: str) -> tuple | None:
    """(role, cadence, snoozed_until, opted_out) of the user in that programme, or None."""
    with app.app_context():
        programme = coffee(db.session) if slug == "coffee" else by_slug(db.session, slug)
        found = membership(db.session, programme, user_id)
        if found is None:
            return None
        return (found.role, found.cadence_weeks, found.snoozed_until, found.opted_out)


def test_the_page_has_a_card_per_programme(app, client, ada, programmes):
    page = client.get("/me/").get_data(as_text=True)
    coffee_card = text(card(page, "coffee"))
    assert "You are in the pairings, every 2 weeks." in coffee_card
    assert "Leave Cross-team coffee" in coffee_card and "Snooze" in coffee_card
    lunch = text(card(page, "lunch"))
    assert "Join" in lunch and "Pairings every 1, 2 or 4 weeks" in lunch
    mentoring = text(card(page, "mentoring"))
    assert "I would like a mentor" in mentoring and "I volunteer as a mentor" in mentoring
    assert "A pairing lasts 12 weeks." in mentoring
    # Ada signed up today: she may join the buddies as a new joiner.
    assert "I am new here" in card(page, "buddies")
    assert 'id="programme-old"' not in page


def test_only_new_joiners_are_offered_the_newcomer_role(app, client, ada, programmes):
    with app.app_context():
        db.session.get(User, ada).joined_on = date.today() - timedelta(weeks=30)
        db.session.commit()
    buddies = card(client.get("/me/").get_data(as_text=True), "buddies")
    assert "I volunteer as a buddy" in buddies and "I am new here" not in buddies
    response = client.post("/me/programmes/buddies/join", data={"role": "newcomer"})
    assert response.status_code == 422
    assert "you can volunteer as a buddy" in text(card(response.get_data(as_text=True), "buddies"))
    assert member(app, ada, "buddies") is None


def test_join_leave_snooze_and_rejoin_a_second_programme_leave_the_first_alone(
    app, client, ada, programmes
):
    before = member(app, ada, "coffee")
    response = client.post("/me/programmes/lunch/join", data={"cadence_weeks": "4"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/me/#programme-lunch")
    assert member(app, ada, "lunch") == (None, 4, None, False)
    page = client.get("/me/").get_data(as_text=True)
    assert "You joined Lunch roulette" in page
    assert "You are in the pairings, every 4 weeks." in text(card(page, "lunch"))

    until = date.today() + timedelta(days=10)
    client.post("/me/snooze", data={"programme": "lunch", "until": until.isoformat()})
    assert member(app, ada, "lunch")[2] == until
    page = client.get("/me/").get_data(as_text=True)
    assert "Snoozed until" in card(page, "lunch") and "Snoozed until" not in card(page, "coffee")
    client.post("/me/unsnooze", data={"programme": "lunch"})
    assert member(app, ada, "lunch")[2] is None

    client.post("/me/leave", data={"programme": "lunch"})
    assert member(app, ada, "lunch")[3] is True
    page = client.get("/me/").get_data(as_text=True)
    assert "You are not in Lunch roulette: you left it." in text(card(page, "lunch"))
    assert "Rejoin the pairings" in card(page, "lunch")
    client.post("/me/rejoin", data={"programme": "lunch"})
    assert member(app, ada, "lunch") == (None, 4, None, False)

    assert member(app, ada, "coffee") == before


def test_cadence_is_changed_per_programme(app, client, ada, programmes):
    client.post("/me/programmes/lunch/join", data={"cadence_weeks": "1"})
    response = client.post("/me/programmes/lunch/cadence", data={"cadence_weeks": "4"})
    assert response.status_code == 302
    assert member(app, ada, "lunch")[1] == 4
    assert member(app, ada, "coffee")[1] == 2
    client.post("/me/programmes/coffee/cadence", data={"cadence_weeks": "1"})
    assert member(app, ada, "coffee")[1] == 1 and member(app, ada, "lunch")[1] == 4
    page = client.get("/me/").get_data(as_text=True)
    assert re.search(r'<option value="4" selected>Every 4 weeks', card(page, "lunch"))


# SQLite only: the value is refused by the form before any write.
@pytest.mark.sqlite_only("cadence refusals: nothing is written")
@pytest.mark.parametrize("value", ["3", "0", "weekly", ""])
def test_a_bad_cadence_changes_nothing(app, client, ada, value):
    page = client.post(
        "/me/programmes/coffee/cadence", data={"cadence_weeks": value}, follow_redirects=True
    ).get_data(as_text=True)
    assert "How often not changed" in page
    assert member(app, ada, "coffee")[1] == 2


def test_a_term_programme_has_no_cadence(app, client, ada, programmes):
    with app.app_context():
        user = db.session.get(User, ada)
        from matcher.models import Skill

        user.can_help.append(Skill.get_or_create(db.session, "Go"))
        db.session.commit()
    client.post("/me/programmes/mentoring/join", data={"role": "mentor", "cadence_weeks": "4"})
    assert member(app, ada, "mentoring") == ("mentor", 1, None, False)
    mentoring = text(card(client.get("/me/").get_data(as_text=True), "mentoring"))
    assert "A pairing lasts 12 weeks" in mentoring and "How often" not in mentoring
    page = client.post(
        "/me/programmes/mentoring/cadence", data={"cadence_weeks": "2"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "there is no cadence to choose" in page
    assert member(app, ada, "mentoring")[1] == 1


def test_joining_mentoring_needs_the_vocabulary_of_the_role(app, client, ada, programmes):
    response = client.post("/me/programmes/mentoring/join", data={"role": "mentee"})
    assert response.status_code == 422
    mentoring = card(response.get_data(as_text=True), "mentoring")
    assert "Say what you want help with" in mentoring and "/me/edit#wants_help" in mentoring
    assert member(app, ada, "mentoring") is None

    response = client.post("/me/programmes/mentoring/join", data={})
    assert response.status_code == 422
    assert "Choose how you take part in Mentoring." in card(
        response.get_data(as_text=True), "mentoring"
    )
    response = client.post("/me/programmes/mentoring/join", data={"role": "buddy"})
    assert response.status_code == 422
    assert member(app, ada, "mentoring") is None


def test_an_archived_or_unknown_programme_cannot_be_joined(app, client, ada, programmes):
    response = client.post("/me/programmes/old/join", data={"cadence_weeks": "1"})
    assert response.status_code == 422
    assert "Old coffee is closed." in response.get_data(as_text=True)
    assert member(app, ada, "old") is None
    assert client.post("/me/programmes/nope/join", data={}).status_code == 404
    assert client.post("/me/leave", data={"programme": "nope"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProgrammeMember)) == 1


def test_edit_saves_the_mentoring_vocabularies_and_has_no_cadence(app, client, ada):
    page = client.get("/me/edit").get_data(as_text=True)
    assert 'name="cadence_weeks"' not in page
    response = client.post(
        "/me/edit",
        data={
            "display_name": "Ada",
            "team": "Payments",
            "timezone": "UTC",
            "meeting_mode": "either",
            "can_help": "Go, go, SQL",
            "wants_help": "Public speaking",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, ada)
        assert sorted(s.name for s in user.can_help) == ["Go", "SQL"]
        assert [s.name for s in user.wants_help] == ["Public speaking"]
    assert member(app, ada, "coffee")[1] == 2  # the coffee's cadence is not the edit form's
    page = client.get("/me/edit").get_data(as_text=True)
    assert re.search(r'name="wants_help"[^>]*value="Public speaking"', page)


def test_export_lists_the_memberships(app, client, ada, programmes):
    with app.app_context():
        from matcher.models import Skill

        user = db.session.get(User, ada)
        user.wants_help.append(Skill.get_or_create(db.session, "Go"))
        db.session.commit()
    client.post("/me/programmes/mentoring/join", data={"role": "mentee"})
    client.post("/me/programmes/lunch/join", data={"cadence_weeks": "4"})
    client.post("/me/leave", data={"programme": "lunch"})
    data = json.loads(client.get("/me/export").get_data(as_text=True))
    assert data["joined_on"] == datetime.now(UTC).date().isoformat()
    assert data["wants_help_with"] == ["Go"]
    got = {m["slug"]: (m["role"], m["cadence_weeks"], m["left"]) for m in data["programmes"]}
    assert got == {
        "coffee": (None, 2, False),
        "mentoring": ("mentee", 1, False),
        "lunch": (None, 4, True),
    }
    assert all(m["joined_at"].endswith("Z") for m in data["programmes"])
