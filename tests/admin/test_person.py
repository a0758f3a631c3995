"""The page for one person: profile, pairing history, the feedback they gave, the audit log."""

from __future__ import annotations

import re

from sqlalchemy import select

from matcher.extensions import db
from matcher.models import Feedback, Membership, Profile, Round, User
from matcher.rounds import publishing
from tests.admin.support import WEEK, groups_of, place_of, save_draft
from tests.support import MEMBER_PASSWORD, coffee, coffee_member, login


def answer(app, membership: Membership, status: str, **values: object) -> None:
    with app.app_context():
        db.session.add(
            Feedback(
                membership_id=membership.id,
                group_id=membership.group_id,
                user_id=membership.user_id,
                status=status,
                **values,
            )
        )
        db.session.commit()


def section(page: str, heading: str) -> str:
    """The HTML of one card, from its heading to the end of the card."""
    start = page.index(f">{heading}</h2>")
    return page[start : page.index("</section>", start)]


def test_a_person_page_shows_profile_history_own_feedback_and_audit(app, client, org, admin):
    with app.app_context():
        round_ = publishing.run_round(db.session, coffee(db.session), WEEK, publish=True).round
        group = round_.groups[0]
        mine, theirs = group.memberships[0], group.memberships[1]
        db.session.expunge_all()
        me, partner = db.session.get(User, mine.user_id), db.session.get(User, theirs.user_id)
        me_id, partner_id = me.id, partner.id
        me_name, partner_name = me.display_name, partner.display_name
        profile = db.session.get(Profile, me_id)
        profile.location, profile.timezone = "Berlin Mitte", "Europe/Berlin"
        profile.meeting_mode = "video"
        coffee_member(db.session, me_id).cadence_weeks = 2
        db.session.commit()
    answer(
        app, mine, "met", rating=5, would_meet_again=True,
        private_note="My own note for the organisers", kudos="Thanks for the tips!",
    )  # fmt: skip
    # The partner's private note, rating and would-meet-again are about the person: not shown.
    answer(
        app, theirs, "met", rating=1, would_meet_again=False,
        private_note="SECRET partner note", kudos="partner kudos",
    )  # fmt: skip
    client.post(f"/admin/people/{me_id}/deactivate")
    client.post(f"/admin/people/{me_id}/reactivate")

    response = client.get(f"/admin/people/{me_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    profile_card = section(page, "Profile")
    for text in ("Berlin Mitte", "Europe/Berlin", "every 2 weeks", "Video call", "Checkout"):
        assert text in profile_card, text
    assert "Active: in the pairings." in profile_card
    history = section(page, "Pairing history")
    assert f'<a href="/admin/people/{partner_id}">{partner_name}</a>' in history
    assert "30 November 2026" in history and "2026-W49" in history  # the week, as people say it
    assert "answered 1; met" in history
    feedback = section(page, "Feedback they gave")
    assert "My own note for the organisers" in feedback and "Thanks for the tips!" in feedback
    assert ">5<" in feedback and ">yes<" in feedback
    assert "SECRET partner note" not in page and "partner kudos" not in page
    assert ">1<" not in feedback and ">no<" not in feedback  # the partner's rating and answer
    log = section(page, "In the audit log")
    assert f"Deactivated the account of {me_name} (" in log
    assert f"Reactivated the account of {me_name} (" in log
    # The partner's own page shows their answers and none of the person's.
    other = client.get(f"/admin/people/{partner_id}").get_data(as_text=True)
    assert "SECRET partner note" in other and "My own note" not in other
    assert "Nothing about them in the audit log." in other


def test_the_audit_section_finds_swaps_and_take_outs_but_not_namesakes(
    app, client, make_user, admin
):
    ada = make_user(email="ada@example.com", name="Ada", team="Payments")
    make_user(email="mada@example.com", name="Mada", team="Search")
    make_user(email="bo@example.com", name="Bo", team="Search")
    make_user(email="cy@example.com", name="Cy", team="Payments")
    with app.app_context():
        coffee_member(db.session, admin).opted_out = True
        db.session.commit()
    with app.app_context():
        mada = db.session.scalar(select(User.id).where(User.email == "mada@example.com"))
        cy = db.session.scalar(select(User.id).where(User.email == "cy@example.com"))
    client.post(f"/admin/people/{mada}/make-admin")  # "Mada <mada@example.com>"
    round_id = save_draft(client)
    assert not any({ada, cy} <= set(g) for g in groups_of(app, round_id))  # cross-team pairs
    # Ada and Cy are both in Payments, so swapping them keeps every pair cross-team.
    response = client.post(
        f"/admin/rounds/{round_id}/swap",
        data={
            "swap-first": place_of(app, round_id, ada),
            "swap-second": place_of(app, round_id, cy),
        },
    )
    assert response.status_code == 302
    client.post(
        f"/admin/rounds/{round_id}/take-out", data={"out-person": place_of(app, round_id, ada)}
    )
    log = section(client.get(f"/admin/people/{ada}").get_data(as_text=True), "In the audit log")
    assert "Swapped Ada and Cy between their groups in the draft for the week of" in log
    assert "Took Ada out of the draft for the week of" in log
    assert "Mada" not in log and "an admin" not in log


def test_missing_deleted_and_junk_people_get_a_404(app, client, make_user, admin):
    gone = make_user(email="gone@example.com", name="Gone")
    own = app.test_client()
    login(own, "gone@example.com")
    own.post("/me/delete", data={"password": MEMBER_PASSWORD, "confirm": "y"})
    with app.app_context():
        assert db.session.get(User, gone).is_deleted
    for url in (f"/admin/people/{gone}", "/admin/people/999999", "/admin/people/0"):
        assert client.get(url).status_code == 404, url
    assert client.get("/admin/people/abc").status_code in (404, 405)


def test_a_person_never_paired_has_empty_sections_not_errors(app, client, make_user, admin):
    from matcher.auth.service import register_user

    with app.app_context():
        cli = register_user(db.session, "Cli Admin", "cli@example.com", "x" * 12, None, True)
        db.session.commit()
        cli_id = cli.id
        assert db.session.scalar(select(Round)) is None
    page = client.get(f"/admin/people/{cli_id}").get_data(as_text=True)
    assert "Never joined: never filled in a profile" in page
    assert "Not in any published round yet." in page and "No feedback given yet." in page
    assert re.search(r"<dt>Team</dt><dd>—</dd>", page)
