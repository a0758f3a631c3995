"""Feedback: signed links, privacy, editing, reminders, and how answers steer matching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.feedback import service
from matcher.links import FEEDBACK, make_token
from matcher.models import Feedback, Membership, OutboxMessage, Round
from matcher.rounds import planning, publishing
from matcher.weeks import week_label
from tests.support import coffee, coffee_member, login, meetings_over, published_round

WEEK = week_label(datetime.now(UTC).date())


@pytest.fixture
def pairing(app, make_user):
    """Ada and Cy paired in this week's published round; Eve and Fay in another group."""
    ids = {
        name: make_user(email=f"{name}@example.com", name=name.title(), team=team)
        for name, team in [("ada", "Payments"), ("cy", "Search"), ("eve", "Growth"), ("fay", "SRE")]
    }
    with app.app_context():
        # Eve and Fay block each other's other options: only they pair with each other.
        publishing.run_round(db.session, coffee(db.session), WEEK, publish=True)
        db.session.commit()
    meetings_over(app)  # on a Monday morning this week's slot may still be ahead
    with app.app_context():
        memberships = {
            m.user_id: (m.id, m.group_id) for m in db.session.scalars(select(Membership))
        }
    ids["membership"] = {uid: memberships[uid] for uid in memberships}
    return ids


def member_link(app, pairing, name: str) -> str:
    user_id = pairing[name]
    membership_id, _ = pairing["membership"][user_id]
    return "/feedback/" + make_token(app.config, FEEDBACK, membership_id, user_id)


def partner_of(app, pairing, name: str) -> int:
    user_id = pairing[name]
    _, group_id = pairing["membership"][user_id]
    return next(
        uid for uid, (_, gid) in pairing["membership"].items() if gid == group_id and uid != user_id
    )


def test_link_opens_the_form_without_login_and_saves(app, client, pairing):
    link = member_link(app, pairing, "ada")
    page = client.get(link)
    assert page.status_code == 200 and "How was your coffee?" in page.get_data(as_text=True)
    response = client.post(
        link,
        data={"status": "met", "rating": "5", "would_meet_again": "yes", "kudos": "Great chat!"},
    )
    assert response.status_code == 302 and "saved=1" in response.headers["Location"]
    # A second submission edits the first.
    client.post(link, data={"status": "met", "rating": "3", "would_meet_again": "yes"})
    with app.app_context():
        answers = db.session.scalars(select(Feedback)).all()
        assert len(answers) == 1 and answers[0].rating == 3 and answers[0].kudos is None
    # The link only ever opens this one form: it logs nobody in.
    assert client.get("/dashboard/").status_code == 302


# SQLite only: each answer is refused by the form (or the 413 size limit) before any write.
@pytest.mark.sqlite_only("feedback refusals: nothing is written")
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "met", "rating": "0"}, "Pick a rating from 1 to 5"),
        ({"status": "met", "rating": "6"}, "Pick a rating from 1 to 5"),
        ({"status": "met", "rating": "five"}, "Pick a rating from 1 to 5"),
        ({}, "Tell us whether you met"),
        ({"status": "maybe"}, "Not a valid choice"),
        ({"status": "will_not_meet"}, "Tell us why"),
        ({"status": "not_yet", "rating": "4"}, "only once you have met"),
        ({"status": "met", "private_note": "x" * 1_000_000}, "At most 2000 characters"),
        ({"status": "met", "private_note": "x" * 1_100_000}, "too much data"),
        ({"status": "met", "private_note": "x" * 2001}, "At most 2000 characters"),
        ({"status": "met", "kudos": "y" * 501}, "At most 500 characters"),
    ],
)
def test_bad_answers_get_a_message_and_store_nothing(app, client, pairing, data, message):
    response = client.post(member_link(app, pairing, "ada"), data=data)
    assert response.status_code in (413, 422)
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Feedback)) == 0


def test_tampered_expired_and_foreign_links(app, app_factory, client, pairing):
    link = member_link(app, pairing, "ada")
    tampered = client.get(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"))
    assert tampered.status_code == 400 and "not valid" in tampered.get_data(as_text=True)
    # Ada's link with Cy's membership id: refused, as is a link naming someone else's pairing.
    cy_membership, _ = pairing["membership"][pairing["cy"]]
    forged = "/feedback/" + make_token(app.config, FEEDBACK, cy_membership, pairing["ada"])
    assert client.get(forged).status_code == 410
    expired_app = app_factory(FEEDBACK_LINK_MAX_AGE=-1)
    expired = expired_app.test_client().get(link)
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)


def test_logged_in_user_cannot_answer_for_someone_elses_pairing(app, client, pairing):
    login(client, "ada@example.com")
    other_group = next(
        gid
        for uid, (_, gid) in pairing["membership"].items()
        if gid != pairing["membership"][pairing["ada"]][1]
    )
    assert client.get(f"/feedback/pairing/{other_group}").status_code == 404
    assert (
        client.post(f"/feedback/pairing/{other_group}", data={"status": "met"}).status_code == 404
    )
    own_group = pairing["membership"][pairing["ada"]][1]
    assert client.post(f"/feedback/pairing/{own_group}", data={"status": "met"}).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Feedback.user_id)).all() == [pairing["ada"]]


def test_kudos_reach_the_partner_only_and_notes_stay_private(app, client, pairing):
    client.post(
        member_link(app, pairing, "ada"),
        data={
            "status": "met",
            "rating": "2",
            "kudos": "Thanks <b>buddy</b>",
            "private_note": "SECRET-NOTE",
        },
    )
    partner = partner_of(app, pairing, "ada")
    partner_name = {pairing[n]: n for n in ("ada", "cy", "eve", "fay")}[partner]
    partner_client = app.test_client()
    login(partner_client, f"{partner_name}@example.com")
    page = partner_client.get("/dashboard/").get_data(as_text=True)
    assert "Thanks &lt;b&gt;buddy&lt;/b&gt;" in page and "Ada" in page
    assert "SECRET-NOTE" not in page
    partner_form = partner_client.get(
        f"/feedback/pairing/{pairing['membership'][partner][1]}"
    ).get_data(as_text=True)
    assert (
        "SECRET-NOTE" not in partner_form
        and 'value="2"' not in partner_form.split("checked")[0][-20:]
    )
    outsider = next(n for n in ("cy", "eve", "fay") if pairing[n] != partner and n != "ada")
    other = app.test_client()
    login(other, f"{outsider}@example.com")
    assert "Thanks" not in other.get("/dashboard/").get_data(as_text=True)


def test_would_not_meet_again_blocks_the_pair_for_good(app, client, pairing):
    client.post(
        member_link(app, pairing, "ada"),
        data={"status": "met", "rating": "1", "would_meet_again": "no"},
    )
    partner = partner_of(app, pairing, "ada")
    with app.app_context():
        future = week_label(datetime.now(UTC).date() + timedelta(weeks=40))
        plan = planning.plan_round(db.session, coffee(db.session), future)
        never = [h for h in plan.problem.history if h.would_meet_again is False]
        assert [(h.a, h.b) for h in never] == [tuple(sorted((pairing["ada"], partner)))]
        assert all(set(g.user_ids) != {pairing["ada"], partner} for g in plan.groups)


def test_reminder_close_nudge_and_pause(app, pairing):
    with app.app_context():
        round_ = db.session.scalars(select(Round)).one()
        published = round_.published_at
        # Nothing is due right after publishing.
        report = service.maintain(db.session, app.config, now=published + timedelta(hours=1))
        assert report.reminders == 0
        report = service.maintain(db.session, app.config, now=published + timedelta(days=5))
        assert report.reminders == 4
        again = service.maintain(db.session, app.config, now=published + timedelta(days=6))
        assert again.reminders == 0  # one reminder per person per round
        db.session.commit()
        kinds = db.session.scalars(select(OutboxMessage.kind)).all()
        assert kinds.count("feedback_reminder") == 4
        # With pause after 1 missed round, closing the window pauses everyone who never answered.
        coffee(db.session).pause_after_missed = 1
        report = service.maintain(db.session, app.config, now=published + timedelta(days=15))
        assert report.closed == 1 and report.paused == 4
        db.session.commit()
        assert round_.status == "closed"
        member = coffee_member(db.session, pairing["ada"])
        assert member.opted_out and "in a row" in member.pause_reason
        assert db.session.scalars(select(OutboxMessage.kind)).all().count("paused") == 4


def test_closed_round_refuses_answers(app, client, pairing):
    with app.app_context():
        db.session.scalars(select(Round)).one().status = "closed"
        db.session.commit()
    response = client.post(member_link(app, pairing, "ada"), data={"status": "met"})
    assert "feedback window for this round is over" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Feedback)) == 0


def test_link_for_a_deleted_account(app, client, pairing):
    from matcher.models import User
    from matcher.profile.service import delete_account

    link = member_link(app, pairing, "ada")
    with app.app_context():
        delete_account(db.session, db.session.get(User, pairing["ada"]))
        db.session.commit()
    response = client.get(link)
    assert response.status_code == 410 and "no longer exists" in response.get_data(as_text=True)


def test_answer_from_the_dashboard_is_confirmed_and_shown_on_it(app, client, pairing):
    login(client, "ada@example.com")
    group_id = pairing["membership"][pairing["ada"]][1]
    before = client.get("/dashboard/").get_data(as_text=True)
    assert "Tell us how it went" in before and "You answered" not in before
    response = client.post(
        f"/feedback/pairing/{group_id}",
        data={"status": "met", "rating": "4", "would_meet_again": "yes"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard/")  # no ?saved=1 any more
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Thanks, your answer is saved." in page
    assert "You answered: <strong>we met</strong> ✓" in page and "change your answer" in page
    assert f'href="/feedback/pairing/{group_id}"' in page
    assert "Tell us how it went" not in page
    # The thanks is shown once; the answer stays.
    again = client.get("/dashboard/").get_data(as_text=True)
    assert "Thanks, your answer is saved." not in again and "You answered" in again
    # "Not yet" asks for an update rather than looking done.
    client.post(f"/feedback/pairing/{group_id}", data={"status": "not_yet"})
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "You answered: <strong>not yet</strong>" in page and "Update your answer" in page


def test_a_partners_answer_does_not_count_as_mine_on_the_dashboard(app, client, pairing):
    partner = partner_of(app, pairing, "ada")
    partner_name = {pairing[n]: n for n in ("ada", "cy", "eve", "fay")}[partner]
    partner_client = app.test_client()
    login(partner_client, f"{partner_name}@example.com")
    partner_group = pairing["membership"][partner][1]
    partner_client.post(f"/feedback/pairing/{partner_group}", data={"status": "met"})
    login(client, "ada@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Tell us how it went" in page and "You answered" not in page


def test_link_answers_still_return_to_the_thanked_form(app, client, pairing):
    link = member_link(app, pairing, "ada")
    response = client.post(link, data={"status": "met"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == link and "Your answer is saved" in page
    # Nothing is flashed into the (logged-out) session for a later page to show.
    assert "Thanks, your answer is saved." not in page


# Before the coffee can have happened only "not yet" makes sense ---------------------------


def published_pair(app, ada: int, cy: int, monday, meeting_at=None) -> int:
    """A published round for the week of `monday` pairing Ada and Cy; returns the group id."""
    with app.app_context():
        (group,) = published_round(db.session, monday, (ada, cy), meeting_at=meeting_at)
        db.session.commit()
        return group.id


@pytest.fixture
def two(make_user) -> dict[str, int]:
    return {
        "ada": make_user(email="ada@example.com", name="Ada", timezone="Europe/Berlin"),
        "cy": make_user(email="cy@example.com", name="Cy", team="Search"),
    }


def next_monday():
    today = datetime.now(UTC).date()
    return today + timedelta(days=7 - today.weekday())


def status_error(page: str) -> str:
    """The message shown next to "Did you meet?", or ''."""
    import re

    found = re.search(r'<p class="error" id="status-error" role="alert">([^<]*)</p>', page)
    return found.group(1) if found else ""


EARLY = (
    "Your coffee is for {week}: until then you can answer “Not yet”, "
    "or “We will not meet” if you already know."
)


@pytest.mark.parametrize(
    "data",
    [{"status": "met", "rating": "5", "would_meet_again": "yes"}, {"status": "met"}],
)
def test_before_the_week_we_met_is_refused_by_link_and_dashboard(app, client, two, data):
    slot = (datetime.now(UTC) + timedelta(days=9)).replace(tzinfo=None, second=0, microsecond=0)
    monday = next_monday()
    group_id = published_pair(app, two["ada"], two["cy"], monday, meeting_at=slot)
    with app.app_context():
        membership = db.session.scalar(select(Membership).where(Membership.user_id == two["ada"]))
        link = "/feedback/" + make_token(app.config, FEEDBACK, membership.id, two["ada"])
    expected = EARLY.format(week=f"the week of {monday.day} {monday:%B}")
    form = client.get(link).get_data(as_text=True)
    assert expected in form  # said before anyone tries
    by_link = client.post(link, data=data)
    login(client, "ada@example.com")
    by_dashboard = client.post(f"/feedback/pairing/{group_id}", data=data)
    for response in (by_link, by_dashboard):
        assert response.status_code == 422
        assert status_error(response.get_data(as_text=True)) == expected
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Feedback)) == 0
    assert (
        client.post(f"/feedback/pairing/{group_id}", data={"status": "not_yet"}).status_code == 302
    )
    with app.app_context():
        assert db.session.scalars(select(Feedback.status)).all() == ["not_yet"]


def test_before_the_week_will_not_meet_is_accepted_and_not_yet_carries_no_verdict(app, client, two):
    group_id = published_pair(app, two["ada"], two["cy"], next_monday())
    login(client, "ada@example.com")
    # "Not yet" with kudos and "would not meet again": neither is kept (no coffee yet).
    early = {"status": "not_yet", "kudos": "Thanks in advance!", "would_meet_again": "no"}
    assert client.post(f"/feedback/pairing/{group_id}", data=early).status_code == 302
    with app.app_context():
        answer = db.session.scalar(select(Feedback))
        assert (answer.kudos, answer.would_meet_again) == (None, None)
    # A holiday is known ahead: "we will not meet" is fine before the week.
    away = {"status": "will_not_meet", "reason": "no_time", "would_meet_again": "yes"}
    assert client.post(f"/feedback/pairing/{group_id}", data=away).status_code == 302
    with app.app_context():
        answer = db.session.scalar(select(Feedback))
        assert (answer.status, answer.would_meet_again) == ("will_not_meet", True)


def test_once_the_slot_has_passed_we_met_is_accepted(app, client, two):
    slot = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)
    monday = next_monday() - timedelta(days=7)
    group_id = published_pair(app, two["ada"], two["cy"], monday, meeting_at=slot)
    login(client, "ada@example.com")
    page = client.get(f"/feedback/pairing/{group_id}").get_data(as_text=True)
    assert "the only answer" not in page
    response = client.post(f"/feedback/pairing/{group_id}", data={"status": "met", "rating": "4"})
    assert response.status_code == 302


def test_the_service_refuses_early_answers_from_any_caller(app, two):
    """The week starts at Monday 00:00 where the member lives (Ada: Berlin), even with a
    suggested time later in the week (a group may meet earlier than suggested)."""
    from datetime import time

    monday = next_monday()
    slot = datetime.combine(monday, time(15))  # Monday 15:00 UTC
    published_pair(app, two["ada"], two["cy"], monday, meeting_at=slot)
    berlin_midnight = datetime.combine(monday, time(), tzinfo=ZoneInfo("Europe/Berlin"))
    start = berlin_midnight.astimezone(UTC).replace(tzinfo=None)  # Sunday 23:00 UTC
    with app.app_context():
        membership = db.session.scalar(select(Membership).where(Membership.user_id == two["ada"]))
        assert service.answerable_from(membership) == start
        with pytest.raises(service.TooEarly, match="for the week of"):
            service.record(
                db.session,
                membership,
                service.Answer(status="met", rating=5),
                now=start - timedelta(minutes=1),
            )
        service.record(
            db.session, membership, service.Answer("not_yet"), now=start - timedelta(days=3)
        )
        service.record(db.session, membership, service.Answer("met", rating=5), now=start)
        db.session.commit()
        assert db.session.scalars(select(Feedback.rating)).all() == [5]


def test_the_form_marks_the_parts_that_belong_to_some_answers_only(app, client, pairing):
    page = client.get(member_link(app, pairing, "ada")).get_data(as_text=True)
    # app.js shows "Why not?" only for "will not meet" and the rating only for "met".
    reason_at, rating_at = page.index('id="reason"'), page.index('name="rating"')
    assert page.rfind('data-shown-for="will_not_meet"', 0, reason_at) > page.rfind(
        "<fieldset", 0, reason_at
    )
    assert page.rfind('data-shown-for="met"', 0, rating_at) > page.rfind(
        "</fieldset>", 0, rating_at
    )
    assert "Your coffee for the week of" in page and "-W" not in page  # no ISO week code
