"""Feedback follow-up with programmes: a mentor's streak per round, reminders sent before."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from matcher.extensions import db
from matcher.feedback import service
from matcher.models import OutboxMessage, ProgrammeMember
from matcher.notify.queue import queue_message
from matcher.programmes.catalogue import default_programme
from tests.programmes.support import THIS_MONDAY, join, make_programme
from tests.support import published_round


def test_a_mentor_in_two_groups_of_one_round_missed_one_round_not_two(app, make_user):
    ana = make_user(email="ana@example.com", name="Ana", team="Search")
    bo = make_user(email="bo@example.com", name="Bo", team="Data")
    cy = make_user(email="cy@example.com", name="Cy", team="Data")
    with app.app_context():
        mentoring = make_programme("mentoring", "mentoring", pairing_weeks=1, mentor_capacity=2)
        mentoring.pause_after_missed = 2
        for uid, role in ((ana, "mentor"), (bo, "mentee"), (cy, "mentee")):
            join(mentoring, uid, role, skills=True)
        groups = published_round(
            db.session, THIS_MONDAY - timedelta(weeks=3), (ana, bo), (ana, cy), programme=mentoring
        )
        published = groups[0].round.published_at
        db.session.commit()
        report = service.maintain(db.session, app.config, now=published + timedelta(days=30))
        db.session.commit()
        # One closed round without a meeting: a nudge (one short of the pause), not a pause,
        # and Ana is nudged once although she was in two groups.
        assert report.closed == 1 and report.paused == 0
        ana_member = db.session.get(ProgrammeMember, (mentoring.id, ana))
        assert not ana_member.opted_out
        nudges = db.session.scalars(
            select(OutboxMessage.user_id).where(OutboxMessage.kind == "nudge")
        ).all()
        assert sorted(nudges) == sorted([ana, bo, cy])


def test_reminders_sent_before_programmes_are_not_sent_again(app, make_user):
    ana = make_user(email="ana@example.com", name="Ana", team="Search")
    bo = make_user(email="bo@example.com", name="Bo", team="Data")
    with app.app_context():
        (group,) = published_round(db.session, THIS_MONDAY - timedelta(weeks=1), (ana, bo))
        round_ = group.round
        # What an older version queued for Ana: feedback_reminder:<week>:<user>.
        queue_message(
            db.session,
            "feedback_reminder",
            f"feedback_reminder:{round_.week}:{ana}",
            {"user_id": ana},
            user_id=ana,
            round_id=round_.id,
        )
        db.session.commit()
        days = default_programme(db.session).feedback_reminder_days
        report = service.maintain(
            db.session, app.config, now=round_.published_at + timedelta(days=days, hours=1)
        )
        db.session.commit()
        assert report.reminders == 1
        reminded = db.session.scalars(
            select(OutboxMessage.user_id).where(OutboxMessage.kind == "feedback_reminder")
        ).all()
        assert sorted(reminded) == sorted([ana, bo])  # Ana's old one, Bo's new one
