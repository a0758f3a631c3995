"""Profile pages: edit, snooze, leave and rejoin, do-not-pair list, export and delete."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import DoNotPair, MatchGroup, ProgrammeMember, User
from matcher.models.people import user_interests
from matcher.rounds import erasure, publishing
from matcher.transaction import commit_steps
from matcher.weeks import week_label
from tests.support import MEMBER_PASSWORD, coffee, coffee_member, login


@pytest.fixture
def ada(client, make_user) -> int:
    user_id = make_user(email="ada@example.com", name="Ada Lovelace")
    login(client, "ada@example.com")
    return user_id


def member_of(app, user_id: int) -> ProgrammeMember:
    """The user's place in the cross-team coffee (cadence, snooze, left), detached."""
    with app.app_context():
        member = coffee_member(db.session, user_id)
        db.session.expunge(member)
        return member


def test_pages_need_login(client):
    for path in ["/me/", "/me/edit", "/me/do-not-pair", "/me/export", "/me/delete"]:
        response = client.get(path)
        assert response.status_code == 302
        assert "/auth/login?next=" in response.headers["Location"]


def test_edit_prefills_and_saves(app, client, ada):
    page = client.get("/me/edit").get_data(as_text=True)
    assert 'value="Payments"' in page and "Climbing, Rust" in page
    assert 'name="availability-day0-start" type="time" value="10:00"' in page
    response = client.post(
        "/me/edit",
        data={
            "display_name": "Ada King",
            "team": "Analytical Engines",
            "projects": "Difference engine",
            "interests": "Poetry",
            "location": "",
            "timezone": "Europe/London",
            "meeting_mode": "in_person",
            "availability-day4-start": "09:00",
            "availability-day4-end": "11:00",
        },
    )
    assert response.status_code == 302
    # How often to meet is the programme's: saved from its card on the profile page.
    response = client.post("/me/programmes/coffee/cadence", data={"cadence_weeks": "4"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, ada)
        assert user.display_name == "Ada King"
        assert user.team.name == "Analytical Engines"
        assert [i.name for i in user.interests] == ["Poetry"]
        assert [(w.weekday, w.start_minute) for w in user.availability] == [(4, 540)]
        assert user.profile.location is None
        assert coffee_member(db.session, ada).cadence_weeks == 4


def test_edit_with_bad_input_changes_nothing(app, client, ada):
    response = client.post(
        "/me/edit",
        data={"display_name": "Ada", "team": "X", "timezone": "Nowhere/Land", "cadence_weeks": "1"},
    )
    assert response.status_code == 422
    assert "Unknown time zone" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, ada).team.name == "Payments"


def test_snooze_and_unsnooze(app, client, ada):
    until = date.today() + timedelta(days=14)
    client.post("/me/snooze", data={"until": until.isoformat()})
    assert member_of(app, ada).snoozed_until == until
    assert "Snoozed until" in client.get("/me/").get_data(as_text=True)
    client.post("/me/unsnooze")
    assert member_of(app, ada).snoozed_until is None


# SQLite only: the date is refused by the form before any write.
@pytest.mark.sqlite_only("snooze refusals: nothing is written")
@pytest.mark.parametrize(
    ("until", "message"),
    [
        (date.today().isoformat(), "after today"),
        ((date.today() + timedelta(days=400)).isoformat(), "at most a year"),
        ("not-a-date", "Not a valid date"),
        ("", "Pick a date"),
    ],
)
def test_bad_snooze_is_refused_with_a_message(app, client, ada, until, message):
    response = client.post("/me/snooze", data={"until": until}, follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert member_of(app, ada).snoozed_until is None


def test_leave_and_rejoin(app, client, ada):
    client.post("/me/leave")
    assert member_of(app, ada).opted_out is True
    assert "You have left" in client.get("/me/").get_data(as_text=True)
    client.post("/me/rejoin")
    assert member_of(app, ada).opted_out is False


def test_do_not_pair_list_is_private(app, client, ada, make_user):
    make_user(email="bob@example.com", name="Bob Builder")
    client.post("/me/do-not-pair", data={"email": "bob@example.com"})
    bob_client = app.test_client()
    login(bob_client, "bob@example.com")
    for path in ["/me/", "/me/do-not-pair", "/me/export"]:
        assert "Ada" not in bob_client.get(path).get_data(as_text=True)


def test_export_has_everything_about_me(client, ada, make_user):
    make_user(email="bob@example.com", name="Bob Builder")
    client.post("/me/do-not-pair", data={"email": "bob@example.com"})
    response = client.get("/me/export")
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "ada@example.com"
    assert data["team"] == "Payments"
    assert data["interests"] == ["Climbing", "Rust"]
    assert data["availability"] == [{"weekday": 0, "start_minute": 600, "end_minute": 960}]
    assert [e["email"] for e in data["do_not_pair"]] == ["bob@example.com"]
    assert "Bob Builder" not in json.dumps(data["do_not_pair"])
    assert "password" not in json.dumps(data)


def test_delete_needs_the_password(app, client, ada):
    response = client.post("/me/delete", data={"password": "wrong password", "confirm": "y"})
    assert response.status_code == 422
    assert "not your password" in response.get_data(as_text=True)
    response = client.post("/me/delete", data={"password": MEMBER_PASSWORD})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(User, ada).deleted_at is None


def test_delete_erases_personal_data_and_keeps_a_placeholder(app, client, ada, make_user):
    bob = make_user(email="bob@example.com", name="Bob Builder")
    client.post("/me/do-not-pair", data={"email": "bob@example.com"})
    response = client.post("/me/delete", data={"password": MEMBER_PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    assert client.get("/me/").status_code == 302  # logged out
    with app.app_context():
        user = db.session.get(User, ada)
        assert user is not None and user.display_name == "Deleted user"
        assert "ada" not in user.email and user.team is None and user.profile is None
        assert user.interests == [] and user.availability == []
        assert db.session.scalar(select(func.count()).select_from(DoNotPair)) == 0
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(user_interests)
                .where(user_interests.c.user_id == ada)
            )
            == 0
        )
        assert db.session.get(User, bob).display_name == "Bob Builder"
    # The old password and email no longer log anyone in; the email can sign up again.
    response = client.post(
        "/auth/login", data={"email": "ada@example.com", "password": MEMBER_PASSWORD}
    )
    assert response.status_code == 422


def test_delete_takes_the_person_out_of_reporting_lines_in_stored_rounds(
    app, client, ada, make_user
):
    from matcher.models import Round

    bob = make_user(email="bob@example.com", name="Bob Builder", team="Search")
    make_user(email="cy@example.com", name="Cy Twombly", team="Infra")
    with app.app_context():
        db.session.get(User, bob).manager_id = ada
        db.session.commit()
        publishing.run_round(db.session, coffee(db.session), "2026-W49", publish=True)
        db.session.commit()
        people = {p["id"]: p for p in db.session.scalar(select(Round.problem))["participants"]}
        assert people[bob]["managers"] == [ada]
    response = client.post("/me/delete", data={"password": MEMBER_PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    with app.app_context():
        people = {p["id"]: p for p in db.session.scalar(select(Round.problem))["participants"]}
        assert people[bob].get("managers", []) == []
        assert db.session.get(User, bob).manager_id is None


def test_delete_erases_the_profile_from_stored_round_snapshots(app, client, ada, make_user):
    from matcher.models import Feedback, MatchGroup, Membership, PendingErasure, Round

    bob = make_user(email="bob@example.com", name="Bob Builder", team="Search")
    make_user(email="cy@example.com", name="Cy Twombly", team="Infra")  # odd one: a trio
    with app.app_context():
        publishing.run_round(db.session, coffee(db.session), "2026-W49", publish=True)
        membership = db.session.scalar(select(Membership).where(Membership.user_id == ada))
        db.session.add(
            Feedback(
                membership_id=membership.id,
                group_id=membership.group_id,
                user_id=ada,
                status="met",
                private_note="Ada's private thoughts",
                kudos="Thanks from Ada",
            )  # fmt: skip
        )
        db.session.commit()
        assert "Ada Lovelace" in json.dumps(db.session.scalar(select(Round.problem)))
        facts = db.session.get(MatchGroup, membership.group_id).facts
        assert any(ada in f["members"] for f in facts)
    response = client.post("/me/delete", data={"password": MEMBER_PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    with app.app_context():
        problem = db.session.scalar(select(Round.problem))
        snapshot = json.dumps(problem)
        assert "Ada Lovelace" not in snapshot and "Payments" not in snapshot
        people = {p["id"]: p for p in problem["participants"]}
        assert people[ada] == {
            "id": ada, "team": f"deleted-{ada}", "projects": [], "interests": []
        }  # fmt: skip
        assert people[bob]["name"] == "Bob Builder"
        # Done within the request: nothing left queued.
        assert db.session.scalar(select(func.count()).select_from(PendingErasure)) == 0
        # The pairing itself stays, pointing at the placeholder row, without its reasons
        # (they named Ada's interests and projects) or what Ada wrote.
        group = db.session.get(MatchGroup, membership.group_id)
        assert group.reasons == [] and not any(ada in f["members"] for f in group.facts)
        answer = db.session.scalar(select(Feedback).where(Feedback.user_id == ada))
        assert answer.status == "met" and answer.private_note is None and answer.kudos is None


def test_erasing_years_of_rounds_is_queued_and_done_a_round_at_a_time(app, make_user):
    from matcher.models import PendingErasure, Round
    from matcher.profile.service import delete_account

    ada = make_user(email="ada@example.com", name="Ada Lovelace", team="Payments")
    make_user(email="bob@example.com", name="Bob Builder", team="Search")
    weeks = ["2026-W45", "2026-W46", "2026-W47"]
    with app.app_context():
        for week in weeks:
            publishing.run_round(db.session, coffee(db.session), week, publish=True)
        db.session.commit()
        delete_account(db.session, db.session.get(User, ada))
        db.session.commit()
        # Queued, not done: every stored problem still has her until the queue is worked.
        assert all(
            "Ada Lovelace" in json.dumps(p) for p in db.session.scalars(select(Round.problem))
        )
        assert erasure.erase_next_snapshot(db.session)
        db.session.commit()
        left = [w for w, p in db.session.execute(select(Round.week, Round.problem))
                if "Ada Lovelace" in json.dumps(p)]  # fmt: skip
        assert left == weeks[1:]  # one round per step, in id order
    result = app.test_cli_runner().invoke(args=["feedback", "maintain"])
    assert result.exit_code == 0, result.output
    assert "2 round snapshots erased" in result.output
    with app.app_context():
        assert not any(
            "Ada Lovelace" in json.dumps(p) for p in db.session.scalars(select(Round.problem))
        )
        assert db.session.scalar(select(func.count()).select_from(PendingErasure)) == 0
        assert commit_steps(db.session, erasure.erase_next_snapshot, seconds=5) == 0


def test_export_has_my_pairings_feedback_and_kudos(app, client, ada, make_user):
    make_user(email="cy@example.com", name="Cy Young", team="Search")
    week = week_label(datetime.now(UTC).date())
    with app.app_context():
        publishing.run_round(db.session, coffee(db.session), week, publish=True)
        group = db.session.scalars(select(MatchGroup)).one()
        # A slot already past: before it, "not yet" is the only answer (derived from now).
        met_at = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
        group.meeting_at = met_at - timedelta(hours=1)
        db.session.commit()
        group_id = group.id
    client.post(
        f"/feedback/pairing/{group_id}",
        data={
            "status": "met",
            "rating": "5",
            "would_meet_again": "yes",
            "private_note": "My own note",
            "kudos": "Thanks Cy!",
        },
    )
    cy_client = app.test_client()
    login(cy_client, "cy@example.com")
    cy_client.post(
        f"/feedback/pairing/{group_id}",
        data={"status": "met", "private_note": "CY-SECRET-NOTE", "kudos": "Ada was great"},
    )
    response = client.get("/me/export")
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["pairings"] == [
        {
            "programme": "Cross-team coffee",
            "week": week,
            "partners": ["Cy Young"],
            "suggested_time": (met_at - timedelta(hours=1)).isoformat() + "Z",
        }
    ]
    [given] = data["feedback_given"]
    assert {k: given[k] for k in ("week", "status", "rating", "would_meet_again")} == {
        "week": week,
        "status": "met",
        "rating": 5,
        "would_meet_again": True,
    }
    assert given["private_note"] == "My own note" and given["kudos"] == "Thanks Cy!"
    assert data["kudos_received"] == [{"week": week, "from": "Cy Young", "text": "Ada was great"}]
    dumped = json.dumps(data)
    # Nothing of the partner's beyond their name and the kudos they addressed to Ada.
    assert "cy@example.com" not in dumped and "CY-SECRET-NOTE" not in dumped


def test_export_leaves_out_draft_rounds(app, client, ada, make_user):
    make_user(email="cy@example.com", name="Cy Young", team="Search")
    with app.app_context():
        publishing.run_round(
            db.session, coffee(db.session), week_label(datetime.now(UTC).date())
        )  # a draft
        db.session.commit()
    data = json.loads(client.get("/me/export").get_data(as_text=True))
    assert data["pairings"] == [] and data["feedback_given"] == []
    assert data["kudos_received"] == []


def test_ending_a_snooze_or_rejoining_names_the_round_you_are_in(app, client, ada):
    from datetime import UTC, datetime

    from matcher.rounds.cadence import next_round_for
    from matcher.timezones import zone_of

    client.post("/me/snooze", data={"until": (date.today() + timedelta(days=30)).isoformat()})
    client.post("/me/leave")
    for path in ("/me/unsnooze", "/me/rejoin"):
        page = client.post(path, follow_redirects=True).get_data(as_text=True)
        with app.app_context():
            user = db.session.get(User, ada)
            member = coffee_member(db.session, ada)
            start = next_round_for(db.session, member, coffee(db.session), datetime.now(UTC)).start
            when = start.astimezone(zone_of(user))
        expected = f"Welcome back: you are in the next round, {when:%A} {when.day} {when:%B}."
        assert expected in page


def test_a_pause_for_missed_coffees_says_why_on_the_profile(app, client, ada):
    with app.app_context():
        member = coffee_member(db.session, ada)
        member.opted_out = True
        member.pause_reason = "3 coffees in a row without a meeting"
        db.session.commit()
    page = client.get("/me/").get_data(as_text=True)
    assert "We paused your pairings after 3 coffees in a row without a meeting" in page
    assert "Rejoin the pairings" in page
    client.post("/me/rejoin")
    with app.app_context():
        member = coffee_member(db.session, ada)
        assert not member.opted_out and member.pause_reason is None
    assert "We paused" not in client.get("/me/").get_data(as_text=True)


def test_profile_lists_reads_free_times_with_their_hours(app, ada):
    from matcher.profile.service import Slot, profile_lists

    with app.app_context():
        found = profile_lists(db.session, ada)
    # make_user's window: Monday 10:00-16:00 (minutes 600-960); every column its own.
    assert found.availability == [Slot(0, 600, 960)]
    assert found.projects == ["Checkout"] and found.interests == ["Climbing", "Rust"]
