"""The member pages read what they show in a fixed, small number of SQL statements: the same
for a person with one pairing as for one with twelve weeks of history in three programmes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login import current_user

from matcher.extensions import db
from matcher.links import FEEDBACK, make_token
from matcher.models import DoNotPair, Feedback, Membership, PendingDoNotPair, Profile, User
from matcher.programmes.members import membership
from matcher.timezones import zone_of
from tests.programme_pairings import (
    add_member,
    meeting_this_week,
    new_programme,
    publish,
    this_monday,
)
from tests.support import coffee, login, recorded

# What the pages need today (at most 6 on the dashboard, issue 15): one more is a regression
# to look at, not noise.
DASHBOARD_MAX = 6
PROFILE_MAX = 4
FEEDBACK_MAX = 4  # logged in; by the emailed link, one fewer (no logged-in user to load)
HISTORY_WEEKS = 12


def statements_of(app: Flask, client: FlaskClient, path: str) -> list[str]:
    """The statements one GET of path runs (after a first GET: one-off work aside)."""
    assert client.get(path).status_code == 200
    with recorded(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return statements


@pytest.fixture
def scenes(app, make_user) -> dict[str, int]:
    """Sam: one coffee this week, in one programme. Ada: twelve weeks of coffee and lunch
    (groups of two and three), a mentor with three mentees, an upcoming coffee published
    early, answers, kudos, do-not-pair entries and a full profile; partners with video links,
    offices and one deleted account. Returns the ids, and Sam's and Ada's groups this week
    (sam_group; ada_group, ada_lunch: a group of three)."""
    people = {
        "sam": make_user(email="sam@example.com", name="Sam Small", team="Solo", timezone="UTC"),
        "ada": make_user(
            email="ada@example.com",
            name="Ada Lovelace",
            team="Payments",
            timezone="UTC",
            projects=("Checkout", "Ledger", "Search"),
            interests=("Rust", "Climbing", "Chess"),
            can_help=("Public speaking", "SQL"),
            location="Berlin",
            video_link="https://meet.example.com/ada",
        ),
    }
    for i in range(8):
        people[f"p{i}"] = make_user(
            email=f"p{i}@example.com",
            name=f"Person {i}",
            team=f"Team {i}",
            timezone="UTC",
            projects=(f"Project {i}", "Ledger"),
            interests=(f"Hobby {i}",),
            location="Berlin" if i % 2 else "Paris",
            video_link=f"https://meet.example.com/p{i}" if i % 3 == 0 else None,
        )
    ada, sam = people["ada"], people["sam"]
    others = [people[f"p{i}"] for i in range(8)]
    with app.app_context():
        session = db.session
        lunch = new_programme(session, "Lunch roulette", "lunch")
        mentoring = new_programme(
            session, "Mentoring", "mentoring", kind="mentoring", pairing_weeks=12, mentor_capacity=3
        )
        add_member(session, lunch, ada)
        add_member(session, mentoring, ada, "mentor")
        for user_id in others:
            add_member(session, lunch, user_id)
        for user_id in others[:3]:
            add_member(session, mentoring, user_id, "mentee")
        monday = this_monday()
        for weeks in range(HISTORY_WEEKS):
            past = monday - timedelta(weeks=weeks)
            at = meeting_this_week() - timedelta(weeks=weeks)
            a, b, c = others[weeks % 8], others[(weeks + 3) % 8], others[(weeks + 5) % 8]
            sams = [(sam, others[7])] if weeks == 0 else []
            groups = publish(session, coffee(session), past, (ada, a), *sams, meeting_at=at)
            lunches = publish(
                session, lunch, past, (ada, b, c), meeting_at=at if weeks % 2 else None
            )
            if weeks == 0:
                people["ada_group"], people["sam_group"] = groups[0].id, groups[1].id
                people["ada_lunch"] = lunches[0].id
            ada_in = session.get(Membership, _membership_id(session, groups[0].id, ada))
            partner = session.get(Membership, _membership_id(session, groups[0].id, a))
            if weeks:
                session.add(
                    Feedback(
                        membership_id=ada_in.id,
                        group_id=groups[0].id,
                        user_id=ada,
                        status="met" if weeks % 2 else "will_not_meet",
                    )
                )
                session.add(
                    Feedback(
                        membership_id=partner.id,
                        group_id=groups[0].id,
                        user_id=a,
                        status="met",
                        kudos=f"Thanks from week {weeks}",
                    )
                )
        publish(
            session,
            mentoring,
            monday - timedelta(weeks=3),
            *[(ada, mentee) for mentee in others[:3]],
            meeting_at=meeting_this_week() - timedelta(weeks=3),
        )
        publish(
            session,
            coffee(session),
            monday + timedelta(weeks=1),
            (ada, others[2]),
            meeting_at=meeting_this_week() + timedelta(weeks=1),
        )
        session.add(DoNotPair(user_id=ada, blocked_user_id=others[6]))
        session.add(PendingDoNotPair(user_id=ada, email="nobody@example.com"))
        membership(session, mentoring, ada).snoozed_until = monday + timedelta(weeks=5)
        # A partner who has since deleted their account, and one without a profile.
        gone = session.get(User, others[5])
        gone.deleted_at = datetime.now(UTC).replace(tzinfo=None)
        session.delete(session.get(Profile, others[4]))
        session.commit()
    return people


def _membership_id(session, group_id: int, user_id: int) -> int:
    return next(
        m.id for m in session.query(Membership).filter_by(group_id=group_id, user_id=user_id).all()
    )


def counts(
    app: Flask, path_of: Callable[[str], str], who: tuple[str, ...]
) -> tuple[dict[str, list[str]], FlaskClient]:
    """The statements of one GET per person, each logged in on a client of their own; and
    the last person's client."""
    found = {}
    for name in who:
        client = app.test_client()
        login(client, f"{name}@example.com")
        found[name] = statements_of(app, client, path_of(name))
    return found, client


def test_the_dashboard_reads_a_fixed_number_of_statements(app, client, scenes):
    found, client = counts(app, lambda name: "/dashboard/", ("sam", "ada"))
    page = client.get("/dashboard/").get_data(as_text=True)  # Ada's: the setup really is big
    assert page.count('class="card programme-card"') == 3
    assert page.count("Person 0") >= 2 and "Thanks from week 1" in page
    small, big = len(found["sam"]), len(found["ada"])
    assert big == small, f"{small} statements for Sam, {big} for Ada:\n" + "\n".join(found["ada"])
    assert big <= DASHBOARD_MAX, "\n---\n".join(found["ada"])


def test_the_profile_reads_a_fixed_number_of_statements(app, client, scenes):
    found, client = counts(app, lambda name: "/me/", ("sam", "ada"))
    page = client.get("/me/").get_data(as_text=True)
    assert "Public speaking" in page and "Lunch roulette" in page and "(2)" in page
    small, big = len(found["sam"]), len(found["ada"])
    assert big == small, f"{small} statements for Sam, {big} for Ada:\n" + "\n".join(found["ada"])
    assert big <= PROFILE_MAX, "\n---\n".join(found["ada"])


def test_the_feedback_pages_read_a_fixed_number_of_statements(app, client, scenes):
    groups = {"sam": scenes["sam_group"], "ada": scenes["ada_lunch"]}
    found, client = counts(app, lambda name: f"/feedback/pairing/{groups[name]}", ("sam", "ada"))
    small, big = len(found["sam"]), len(found["ada"])
    assert big == small, f"{small} statements for Sam, {big} for Ada:\n" + "\n".join(found["ada"])
    assert big <= FEEDBACK_MAX, "\n---\n".join(found["ada"])

    client = app.test_client()
    with app.app_context():
        tokens = {
            name: make_token(
                app.config,
                FEEDBACK,
                _membership_id(db.session, groups[name], scenes[name]),
                scenes[name],
            )
            for name in groups
        }
    by_link = {name: statements_of(app, client, f"/feedback/{tokens[name]}") for name in tokens}
    page = client.get(f"/feedback/{tokens['ada']}").get_data(as_text=True)
    assert "Person 3" in page and "Team 3" in page  # a partner of the three, with their team
    assert len(by_link["ada"]) == len(by_link["sam"]) <= FEEDBACK_MAX - 1, by_link["ada"]


def test_the_logged_in_user_is_loaded_by_one_statement_per_request(app, scenes):
    """flask-login's user_loader reads the user with their profile and team, in one go."""

    @app.get("/test-only/whoami")
    def whoami() -> str:
        return f"{current_user.display_name}, {current_user.team.name}, {zone_of(current_user)}"

    client = app.test_client()
    login(client, "ada@example.com")
    statements = statements_of(app, client, "/test-only/whoami")
    assert client.get("/test-only/whoami").get_data(as_text=True) == "Ada Lovelace, Payments, UTC"
    assert len(statements) == 1, statements
    assert "profiles" in statements[0] and "teams" in statements[0]
