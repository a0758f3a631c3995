"""An admin's swap and take-out on a mentoring draft, where a mentor is in several groups."""

from __future__ import annotations

from sqlalchemy import select

from matcher.extensions import db
from matcher.models import Membership, Round, Skill, User
from matcher.programmes import members
from matcher.rounds import publishing
from tests.programmes.support import THIS_MONDAY, make_programme, week


def mentoring_draft(app, make_user) -> tuple[int, int, list[int]]:
    """A draft where one mentor has two mentees and the other one: (round, that mentor,
    mentees). Which mentor takes two depends on the week's seed, so it is read back."""
    ana = make_user(email="ana@example.com", name="Ana", team="Search")
    cy = make_user(email="cy@example.com", name="Cy", team="Search")
    mentees = [
        make_user(email=f"{n}@example.com", name=n.title(), team="Data")
        for n in ("ed", "fay", "gus")
    ]
    with app.app_context():
        mentoring = make_programme("mentoring", "mentoring", mentor_capacity=2)
        topic = Skill.get_or_create(db.session, "Kube")
        db.session.flush()
        for uid, role in [(ana, "mentor"), (cy, "mentor")] + [(m, "mentee") for m in mentees]:
            user = db.session.get(User, uid)
            (user.can_help if role == "mentor" else user.wants_help).append(topic)
            db.session.flush()
            members.join(
                db.session, mentoring, user, members.Choice(mentoring.id, role), THIS_MONDAY
            )
        round_ = publishing.run_round(db.session, mentoring, week(1)).round
        db.session.commit()
        groups = [[m.user_id for m in g.memberships] for g in round_.groups]
        (busy,) = [uid for uid in (ana, cy) if sum(uid in g for g in groups) == 2]
        return round_.id, busy, mentees


def places(app, round_id: int, user_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Membership.id)
                .where(Membership.round_id == round_id, Membership.user_id == user_id)
                .order_by(Membership.id)
            )
        )


def groups_with(app, round_id: int, user_id: int) -> list[list[int]]:
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        groups = [sorted(m.user_id for m in g.memberships) for g in round_.groups]
        return [g for g in groups if user_id in g]


def test_taking_a_mentor_out_of_one_group_keeps_her_other_mentee(app, client, make_user, admin):
    round_id, ana, _ = mentoring_draft(app, make_user)
    first, second = places(app, round_id, ana)
    kept = groups_with(app, round_id, ana)
    with app.app_context():
        second_group = db.session.get(Membership, second).group_id
        first_group = db.session.get(Membership, first).group_id
    response = client.post(f"/admin/rounds/{round_id}/take-out", data={"out-person": second})
    assert response.status_code == 302
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        remaining = {g.id for g in round_.groups}
        unmatched = {u["user_id"] for u in round_.unmatched}
        # Her group with the second mentee is gone (a lone mentee is unmatched); her first
        # group stays, and she is not listed as unmatched.
        assert second_group not in remaining and first_group in remaining
        assert ana not in unmatched
        (alone,) = [
            uid for g in kept if g != groups_with(app, round_id, ana)[0] for uid in g if uid != ana
        ]
        assert alone in unmatched
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        name = db.session.get(User, ana).display_name
    assert f"Took {name} out of one group" in page


def test_a_swap_cannot_put_a_mentor_twice_into_one_group(app, client, make_user, admin):
    round_id, ana, mentees = mentoring_draft(app, make_user)
    before = groups_with(app, round_id, ana)
    first, second = places(app, round_id, ana)
    # Swapping Ana's place in group 1 with her mentee in group 2 would put Ana in group 2 twice.
    with app.app_context():
        other_group = db.session.get(Membership, second).group
        mentee_place = next(m.id for m in other_group.memberships if m.user_id != ana)
    response = client.post(
        f"/admin/rounds/{round_id}/swap", data={"swap-first": first, "swap-second": mentee_place}
    )
    assert response.status_code == 422
    assert "in the other group already" in response.get_data(as_text=True)
    assert groups_with(app, round_id, ana) == before
