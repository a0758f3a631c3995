"""From the published round to the answer: emails read from a real SMTP server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from matcher.extensions import db
from matcher.feedback import service
from matcher.models import Feedback, Round
from matcher.notify import send_pending
from matcher.rounds import publishing
from matcher.weeks import week_label
from tests.notify.support import body_text, smtp_server
from tests.support import coffee, meetings_over

WEEK = week_label(datetime.now(UTC).date())


def deliver(app, server, now=None) -> None:
    with app.app_context():
        send_pending(db.session, {**app.config, **server.config}, now=now)


def test_link_in_the_pairing_email_answers_and_reminders_skip_those_who_did(app, make_user):
    for name, team in [("ada", "Payments"), ("cy", "Search")]:
        make_user(email=f"{name}@example.com", name=name.title(), team=team)
    with app.app_context():
        publishing.run_round(db.session, coffee(db.session), WEEK, publish=True)
        db.session.commit()
    meetings_over(app)  # on a Monday morning this week's slot may still be ahead
    with smtp_server() as server:
        deliver(app, server)
        pairing = {str(m["To"]): m for m in server.messages}
        assert set(pairing) == {"Ada <ada@example.com>", "Cy <cy@example.com>"}
        text = body_text(pairing["Ada <ada@example.com>"], "plain")
        link = re.search(r"http://127\.0\.0\.1:5000(/feedback/\S+)", text).group(1)
        assert "Cy <cy@example.com>" in text and "Search" in text
        html = body_text(pairing["Ada <ada@example.com>"], "html")
        assert link in html

        client = app.test_client()
        assert client.post(link, data={"status": "met", "rating": "4"}).status_code == 302

        with app.app_context():
            published = db.session.scalars(select(Round)).one().published_at
            report = service.maintain(db.session, app.config, now=published + timedelta(days=6))
            db.session.commit()
        assert report.reminders == 1  # Cy only: Ada answered
        deliver(app, server, now=datetime.now(UTC).replace(tzinfo=None) + timedelta(days=6))
        reminders = [m for m in server.messages if "did you meet" in str(m["Subject"])]
        assert [str(m["To"]) for m in reminders] == ["Cy <cy@example.com>"]
        reminder_link = re.search(
            r"http://127\.0\.0\.1:5000(/feedback/\S+)", body_text(reminders[0], "plain")
        ).group(1)
        assert client.post(reminder_link, data={"status": "not_yet"}).status_code == 302
    with app.app_context():
        answers = {f.user.display_name: f.status for f in db.session.scalars(select(Feedback))}
        assert answers == {"Ada": "met", "Cy": "not_yet"}


def test_paused_email_says_how_to_resume(app, make_user):
    for name, team in [("ada", "Payments"), ("cy", "Search")]:
        make_user(email=f"{name}@example.com", name=name.title(), team=team)
    with app.app_context():
        publishing.run_round(db.session, coffee(db.session), WEEK, publish=True)
        coffee(db.session).pause_after_missed = 1
        db.session.commit()
        published = db.session.scalars(select(Round)).one().published_at
        service.maintain(db.session, app.config, now=published + timedelta(days=15))
        db.session.commit()
    with smtp_server() as server:
        deliver(app, server, now=datetime.now(UTC).replace(tzinfo=None) + timedelta(days=15))
        paused = [m for m in server.messages if "paused" in str(m["Subject"])]
        assert len(paused) == 2
        text = body_text(paused[0], "plain")
        assert "Rejoin Cross-team coffee: http://127.0.0.1:5000/me/" in text
