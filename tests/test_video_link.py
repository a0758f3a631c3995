"""The optional video-call link: profile edit and sign-up, partner card, export, deletion."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from markupsafe import escape
from sqlalchemy import select

from matcher.extensions import db
from matcher.models import Profile
from matcher.rounds import publishing
from matcher.video_links import safe_video_link, video_link_problem
from matcher.weeks import week_label
from tests.support import MEMBER_PASSWORD, coffee, login, signup_data

LINK = "https://meet.example.com/ada-lovelace?pwd=a1&lang=en"


def edit_data(**changes: str) -> dict[str, str]:
    """A valid profile edit submission, with changes applied."""
    data = {
        "display_name": "Ada Lovelace",
        "team": "Payments",
        "projects": "Checkout",
        "interests": "Rust",
        "timezone": "Europe/Berlin",
        "cadence_weeks": "1",
        "meeting_mode": "video",
        "availability-day0-start": "10:00",
        "availability-day0-end": "16:00",
    }
    data.update(changes)
    return data


@pytest.fixture
def ada(client, make_user) -> int:
    user_id = make_user(email="ada@example.com")
    login(client, "ada@example.com")
    return user_id


def stored_link(app, user_id: int) -> str | None:
    with app.app_context():
        return db.session.get(Profile, user_id).video_link


def test_edit_saves_shows_and_prefills_the_link_and_an_empty_field_clears_it(app, client, ada):
    assert client.post("/me/edit", data=edit_data(video_link=f"  {LINK} ")).status_code == 302
    assert stored_link(app, ada) == LINK
    assert str(escape(LINK)) in client.get("/me/").get_data(as_text=True)
    page = client.get("/me/edit").get_data(as_text=True)
    assert f'type="url" value="{escape(LINK)}"' in page
    assert client.post("/me/edit", data=edit_data(video_link="")).status_code == 302
    assert stored_link(app, ada) is None


REFUSED = {
    "javascript:alert(1)": "https://",
    "JavaScript:alert(document.cookie)//https://x.example": "https://",
    "http://meet.example.com/room": "https://",
    "data:text/html,<script>alert(1)</script>": "https://",
    "https://": "complete link",
    "https://localhost/room": "complete link",
    "https://meet.example.com@evil.example/room": "user name or password",
    'https://meet.example.com/"><script>alert(1)</script>': "no spaces, quotes",
    "https://meet.example.com/my room": "no spaces, quotes",
    "https://meet.example.com/\r\nBcc:x": "no spaces, quotes",
    "https://meet.example.com/" + "a" * 276: "at most 300 characters",
}


# SQLite only: the link is refused by the form; storing a link is tested on both backends.
@pytest.mark.sqlite_only("video-link refusals: nothing is written")
@pytest.mark.parametrize(("value", "message"), REFUSED.items(), ids=range(len(REFUSED)))
def test_edit_refuses_a_bad_link_next_to_the_field(app, client, ada, value, message):
    client.post("/me/edit", data=edit_data(video_link=LINK))
    response = client.post("/me/edit", data=edit_data(video_link=value))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    field = page.split('id="video_link"')[1]
    error = field.split('<p class="error" id="video_link-error" role="alert">')[1].split("</p>")[0]
    assert message in error
    assert stored_link(app, ada) == LINK  # the saved link is kept
    assert not safe_video_link(value)


def test_the_longest_link_accepted_is_300_characters():
    longest = "https://meet.example.com/" + "a" * 275
    assert len(longest) == 300 and video_link_problem(longest) is None
    assert video_link_problem(longest + "a") == "Use at most 300 characters."


def test_sign_up_takes_the_link_and_refuses_a_bad_one(app, client):
    page = client.get("/auth/signup").get_data(as_text=True)
    assert 'name="video_link"' in page and "Your video-call link" in page
    refused = client.post("/auth/signup", data=signup_data(video_link="javascript:alert(1)"))
    assert refused.status_code == 422
    assert 'id="video_link-error"' in refused.get_data(as_text=True)
    assert client.post("/auth/signup", data=signup_data(video_link=LINK)).status_code == 302
    with app.app_context():
        (profile,) = db.session.scalars(select(Profile)).all()
        assert profile.video_link == LINK


def test_partner_card_links_to_the_partners_room_and_never_to_an_unsafe_one(app, client, make_user):
    ada = make_user(email="ada@example.com", team="Payments", video_link=LINK)
    make_user(email="bob@example.com", name="Bob", team="Search")
    with app.app_context():
        publishing.run_round(
            db.session, coffee(db.session), week_label(datetime.now(UTC).date()), publish=True
        )
        db.session.commit()
    login(client, "bob@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert f'href="{escape(LINK)}"' in page and "Ada Lovelace’s video call" in page
    with app.app_context():
        # Stored some other way than the form (an old import): not a link, not shown.
        db.session.get(Profile, ada).video_link = "javascript:alert(1)"
        db.session.commit()
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "javascript:" not in page and "video call" not in page


def test_export_has_the_link_and_deletion_erases_it(app, client, ada):
    client.post("/me/edit", data=edit_data(video_link=LINK))
    data = json.loads(client.get("/me/export").get_data(as_text=True))
    assert data["profile"]["video_link"] == LINK
    response = client.post("/me/delete", data={"password": MEMBER_PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Profile, ada) is None
        assert db.session.scalars(select(Profile).where(Profile.video_link == LINK)).all() == []
