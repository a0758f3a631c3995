"""Sign-up with programmes: the open ones offered (cross-team coffee ticked), a role where the
kind has roles, the mentoring vocabularies, and one transaction that stores all or nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import Programme, ProgrammeMember, User
from matcher.programmes.catalogue import set_archived
from matcher.programmes.members import memberships_of
from tests.programme_pairings import new_programme
from tests.support import coffee, signup_data


@pytest.fixture
def programmes(app) -> dict[str, int]:
    """The coffee, a 12-week mentoring term, new-joiner buddies, a coffee for the Payments
    team only, and an archived one; {slug: id}."""
    with app.app_context():
        session = db.session
        made = {
            "coffee": coffee(session),
            "mentoring": new_programme(
                session, "Mentoring", "mentoring", kind="mentoring", pairing_weeks=12
            ),
            "buddies": new_programme(
                session, "New-joiner buddies", "buddies", kind="buddies", pairing_weeks=8
            ),
            "payments": new_programme(
                session, "Payments lunch", "payments", open_to="teams", open_values=("Payments",)
            ),
            "old": new_programme(session, "Old coffee", "old"),
        }
        set_archived(session, made["old"], True, None)
        session.commit()
        return {slug: programme.id for slug, programme in made.items()}


def signup(client, programme_ids=(), **changes):
    """Post the sign-up form as the page does: with the programme checkboxes."""
    data = signup_data(programmes_shown="1", **changes)
    data["programmes"] = [str(p) for p in programme_ids]
    return client.post("/auth/signup", data=data)


def grace(app) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "grace@example.com"))
        if user is not None:
            db.session.expunge(user)
        return user


def joined(app, user_id: int) -> dict[int, tuple[str | None, int]]:
    """{programme id: (role, cadence)} of the user's memberships."""
    with app.app_context():
        return {
            m.programme_id: (m.role, m.cadence_weeks) for m in memberships_of(db.session, user_id)
        }


def nothing_stored(app) -> None:
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        assert db.session.scalar(select(func.count()).select_from(ProgrammeMember)) == 0


def test_the_form_offers_open_programmes_with_coffee_ticked(app, client, programmes):
    page = client.get("/auth/signup").get_data(as_text=True)
    boxes = {
        int(value): bool(checked)
        for checked, value in re.findall(
            r'<input (checked )?id="programmes-\d+" name="programmes" type="checkbox" '
            r'value="(\d+)"',
            page,
        )
    }
    assert boxes == {
        programmes["coffee"]: True,
        programmes["mentoring"]: False,
        programmes["buddies"]: False,
        programmes["payments"]: False,
    }
    # Roles where the kind has them; a programme for some teams says which (app.js hides it).
    assert "I am new here" in page and "I volunteer as a buddy" in page
    assert "I would like a mentor" in page and "I volunteer as a mentor" in page
    assert 'data-open-to="teams" data-open-values="Payments"' in page
    assert "Old coffee" not in page


def test_signup_joins_coffee_and_mentoring_as_a_mentee(app, client, programmes):
    response = signup(
        client,
        [programmes["coffee"], programmes["mentoring"]],
        **{f"role_{programmes['mentoring']}": "mentee", "wants_help": "Rust, public speaking"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    user = grace(app)
    assert joined(app, user.id) == {
        programmes["coffee"]: (None, 2),  # signup_data asks for every 2 weeks
        programmes["mentoring"]: ("mentee", 1),  # a term meets at its own pace
    }
    with app.app_context():
        user = db.session.get(User, user.id)
        assert {s.name for s in user.wants_help} == {"Rust", "public speaking"}
        assert user.can_help == []


def test_a_mentee_without_want_help_is_refused_next_to_the_field(app, client, programmes):
    response = signup(
        client,
        [programmes["coffee"], programmes["mentoring"]],
        **{f"role_{programmes['mentoring']}": "mentee", "wants_help": " , "},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    field = page[page.index('<label for="wants_help"') :]
    field = field[: field.index("</div>")]
    assert "Say what you want help with" in field
    nothing_stored(app)


def test_a_mentor_without_can_help_is_refused_next_to_that_field(app, client, programmes):
    response = signup(
        client, [programmes["mentoring"]], **{f"role_{programmes['mentoring']}": "mentor"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    field = page[page.index('<label for="can_help"') :]
    assert "Say what you can help with" in field[: field.index("</div>")]
    nothing_stored(app)


def test_a_programme_with_roles_needs_one(app, client, programmes):
    response = signup(client, [programmes["buddies"]])
    assert response.status_code == 422
    assert "Choose how you take part in New-joiner buddies." in response.get_data(as_text=True)
    nothing_stored(app)


def test_a_new_joiner_may_sign_up_as_newcomer(app, client, programmes):
    response = signup(
        client, [programmes["buddies"]], **{f"role_{programmes['buddies']}": "newcomer"}
    )
    assert response.status_code == 302
    assert joined(app, grace(app).id) == {programmes["buddies"]: ("newcomer", 1)}


@pytest.mark.parametrize("value", ["old", "99999", "abc", "-1", "1e3", ""])
def test_an_archived_unknown_or_tampered_programme_is_a_form_error(app, client, programmes, value):
    posted = {"old": str(programmes["old"])}.get(value, value)
    data = signup_data(programmes_shown="1")
    data["programmes"] = [str(programmes["coffee"]), posted]
    response = client.post("/auth/signup", data=data)
    assert response.status_code == 422
    assert "not open to join" in response.get_data(as_text=True)
    nothing_stored(app)


def test_an_archived_programme_is_refused_even_when_offered_on_a_stale_page(
    app, client, programmes
):
    """Archived after the page was shown: the form no longer offers it, so it is an error."""
    with app.app_context():
        set_archived(db.session, db.session.get(Programme, programmes["mentoring"]), True, None)
        db.session.commit()
    response = signup(
        client, [programmes["mentoring"]], **{f"role_{programmes['mentoring']}": "mentor"}
    )
    assert response.status_code == 422
    assert "not open to join" in response.get_data(as_text=True)
    nothing_stored(app)


def test_a_tampered_role_is_refused(app, client, programmes):
    response = signup(
        client, [programmes["mentoring"]], **{f"role_{programmes['mentoring']}": "admin"}
    )
    assert response.status_code == 422
    nothing_stored(app)


def test_a_team_programme_is_checked_against_the_team_typed(app, client, programmes):
    response = signup(client, [programmes["payments"]], team="Compilers")
    assert response.status_code == 422
    assert "Payments lunch is only for some teams." in response.get_data(as_text=True)
    nothing_stored(app)
    response = signup(client, [programmes["payments"]], team="payments")
    assert response.status_code == 302
    assert set(joined(app, grace(app).id)) == {programmes["payments"]}


def test_no_programme_ticked_joins_none(app, client, programmes):
    assert signup(client, []).status_code == 302
    assert joined(app, grace(app).id) == {}


def test_a_post_without_the_checkboxes_joins_the_coffee(app, client, programmes):
    """Scripts written before programmes existed keep signing people up for the coffee."""
    assert client.post("/auth/signup", data=signup_data()).status_code == 302
    assert joined(app, grace(app).id) == {programmes["coffee"]: (None, 2)}
