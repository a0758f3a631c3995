"""A group of three: each member reads reasons that include them, addressed to them."""

from __future__ import annotations

from datetime import date, timedelta

from icalendar import Calendar
from sqlalchemy import select

from matcher.extensions import db
from matcher.models import MatchGroup, Round, User
from matcher.programmes.settings import save_settings, settings_values
from matcher.rounds import publishing
from matcher.weeks import week_label, week_start
from tests.notify.support import body_text, calendar_part, send, smtp_server
from tests.support import coffee, login


def next_week() -> str:
    """Next week, from the real clock: its Monday office hours are still ahead."""
    return week_label(week_start(date.today()) + timedelta(days=7))


def publish_trio(app, make_user, sven_projects: tuple[str, ...]) -> dict[str, int]:
    people = {
        "ingrid": make_user(
            email="ingrid@example.com",
            name="Ingrid",
            team="Payments",
            projects=("Checkout v2",),
            interests=("Chess", "Rust"),
        ),
        "axel": make_user(
            email="axel@example.com",
            name="Axel",
            team="Search",
            projects=("Checkout v2",),
            interests=("Rust",),
        ),
        "sven": make_user(
            email="sven@example.com",
            name="Sven",
            team="Platform",
            projects=sven_projects,
            interests=("Chess",),
        ),
    }
    with app.app_context():
        values = settings_values(coffee(db.session))
        values["rules"]["group_size"] = 3
        assert save_settings(db.session, coffee(db.session), values, people["ingrid"])
        # Publishing queues the pairing emails in the same transaction.
        assert publishing.run_round(
            db.session, coffee(db.session), next_week(), publish=True
        ).published
        db.session.commit()
        groups = db.session.scalars(select(MatchGroup)).all()
        assert [len(g.memberships) for g in groups] == [3]
    return people


def test_every_trio_member_reads_reasons_about_themselves(app, make_user):
    publish_trio(app, make_user, ("Checkout v2",))
    with smtp_server() as smtp:
        send(app, **smtp.config)
        mail = {str(m["To"]).split("<")[1].split("@")[0]: m for m in smtp.messages}
    assert set(mail) == {"ingrid", "axel", "sven"}
    for name, message in mail.items():
        text = body_text(message, "plain")
        why = text.split("Why you were matched", 1)[1]
        assert "all work on Checkout v2" in why and "you, " in why, why
        assert "none of you have met before" in why
        others = {"Ingrid", "Axel", "Sven"} - {name.title()}
        assert all(other in why for other in others)
        # Nobody reads about themselves in the third person.
        assert f"{name.title()} and" not in why and f"and {name.title()}" not in why
        assert "you, " in body_text(message, "html")
        event = Calendar.from_ical(calendar_part(message).get_content()).walk("VEVENT")[0]
        assert "you, " in str(event["DESCRIPTION"]) and "all work on" in str(event["DESCRIPTION"])


def test_a_member_who_does_not_share_the_project_is_not_told_about_it(app, make_user):
    people = publish_trio(app, make_user, ("Billing",))
    client = app.test_client()
    login(client, "sven@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    why = page.split("Why you were matched", 1)[1].split("</ul>", 1)[0]
    assert "Checkout" not in why and "none of you have met before" in why
    assert "you and Ingrid are both into Chess" in why
    client = app.test_client()
    login(client, "ingrid@example.com")
    page = client.get("/dashboard/").get_data(as_text=True)
    why = page.split("Why you were matched", 1)[1].split("</ul>", 1)[0]
    assert "you and Axel both work on Checkout v2, from Payments and Search" in why
    # An admin reads the same group in the third person, with names.
    with app.app_context():
        round_id = db.session.scalar(select(Round.id))
        db.session.get(User, people["ingrid"]).is_admin = True
        db.session.commit()
    page = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    assert (
        "Ingrid and Axel both work on Checkout v2" in page
        or "Axel and Ingrid both work on Checkout v2" in page
    )
    assert "you " not in page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
