"""End to end in a real browser against a real server: sign up, admin publishes, feedback.

Chromium is Debian's (installed by scripts/test-services); the app runs under its own
`flask run` process on SQLite, mail goes to a real aiosmtpd server. Screenshots of the main
pages land in artifacts/screenshots/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from matcher import create_app
from matcher.auth.service import register_user
from matcher.extensions import db
from matcher.profile.service import ProfileData, Slot
from tests.e2e.support import (
    ADMIN_PASSWORD,
    PASSWORD,
    LiveServer,
    live_server,
    log_in,
    shot,
    wait_for_mail,
)
from tests.notify.support import body_text

pytestmark = pytest.mark.real_clock("the app runs under its own flask run process")


@pytest.fixture(scope="module")
def server(tmp_path_factory, smtp) -> Iterator[LiveServer]:
    """The app under `flask run` on a free port, with an admin and three colleagues."""

    def fill(_app) -> None:
        for name, team, interests in [
            ("Ada Lovelace", "Payments", ("Rust", "Chess")),
            ("Cy Young", "Search", ("Rust", "Climbing")),
            ("Eve Moss", "Platform", ("Chess",)),
        ]:
            profile = ProfileData(
                team=team,
                projects=("Checkout",),
                interests=interests,
                availability=tuple(Slot(d, 9 * 60, 17 * 60) for d in range(5)),
            )
            email = name.split()[0].lower() + "@example.com"
            register_user(db.session, name, email, PASSWORD, profile)

    with live_server(tmp_path_factory.mktemp("e2e"), smtp.port, fill) as live:
        yield live


def test_the_whole_loop_in_a_browser(server, browser, smtp, tmp_path):
    base = server.base

    # 1. A newcomer signs up through the form, confirms her address from the email and lands
    # on the dashboard.
    context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(base + "/auth/signup")
    shot(page, "01-signup")
    page.fill("#display_name", "Grace Hopper")
    page.fill("#email", "grace@example.com")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.fill("#team", "Compilers")
    page.fill("#projects", "Checkout")
    page.fill("#interests", "Rust, sailing")
    page.select_option("#timezone", "Europe/Berlin")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/auth/signup/check-email$"))
    assert "Check your email" in page.content()
    shot(page, "02-check-email")
    confirm = body_text(wait_for_mail(smtp, "grace@example.com", subject="Confirm"), "plain")
    page.goto(re.search(re.escape(base) + r"/auth/verify/\S+", confirm).group(0))
    page.wait_for_url(re.compile(r"/dashboard/$"))
    assert "No pairing yet" in page.content()
    shot(page, "02-dashboard-empty")

    # 2. She edits her profile. The interests list suggests what two or more colleagues
    # wrote, for the entry after the last comma (app.js rewrites the datalist as she types).
    page.goto(base + "/me/edit")
    page.fill("#interests", "")
    page.type("#interests", "Rust, ")
    options = page.eval_on_selector_all("#interest-names option", "os => os.map(o => o.value)")
    # Chess is two colleagues'; Climbing is Cy's alone, so it is not offered.
    assert "Rust, Chess" in options and "Rust, Climbing" not in options
    assert "Rust, Rust" not in options  # what she already has is not offered again
    page.fill("#interests", "Rust, sailing, compilers")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/me/$"))
    assert "compilers" in page.content()
    shot(page, "03-profile")
    context.close()

    # 3. The admin changes a rule, previews next week and publishes it.
    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(admin, base, "admin@example.com", ADMIN_PASSWORD)
    admin.goto(base + "/admin/rules")
    admin.fill("#weight_interests", "3")
    admin.click("button:has-text('Save rules')")
    assert "saved" in admin.content().lower()
    shot(admin, "04-admin-rules")
    admin.goto(base + "/admin/preview")
    shot(admin, "05-admin-preview")
    admin.click("button:has-text('Save as draft')")
    admin.wait_for_url(re.compile(r"/admin/rounds/\d+$"))
    # Publishing emails everyone, so app.js asks first: refusing sends nothing...
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    admin.once("dialog", lambda dialog: answer(dialog, False))
    admin.click("button:has-text('Publish')")
    assert asked and asked[0].startswith("Publish ") and "pairing email" in asked[0]
    assert admin.locator("h1 .status").inner_text() == "draft"
    # ...and agreeing publishes.
    admin.once("dialog", lambda dialog: answer(dialog, True))
    with admin.expect_navigation():
        admin.click("button:has-text('Publish')")
    assert len(asked) == 2
    assert admin.locator("h1 .status").inner_text() == "published"
    shot(admin, "06-admin-round")

    # 4. The mail goes out without a second command; Grace reads hers, sees the pairing and
    # downloads the invitation.
    grace_mail = wait_for_mail(smtp, "grace@example.com", subject="your pairing")
    text = body_text(grace_mail, "plain")
    assert "Why you were matched" in text
    feedback_path = re.search(re.escape(base) + r"(/feedback/\S+)", text).group(1)

    grace = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    page = grace.new_page()
    log_in(page, base, "grace@example.com", PASSWORD)
    page.wait_for_url(re.compile(r"/dashboard/$"))
    assert "Your coffee for" in page.content()
    shot(page, "07-dashboard-pairing")
    # Everyone is free on weekdays during office hours, so a time was found.
    with page.expect_download() as download:
        page.click("text=Add to my calendar")
    ics = Path(download.value.path()).read_text()
    assert "BEGIN:VCALENDAR" in ics and "grace@example.com" in ics
    assert "TZID=Europe/Berlin" in ics

    # 5. She opens the feedback link from the email (logged out: the link is enough). The
    # previewed round is the next one not published yet: usually next week's, but this week's
    # on its scheduled day before the scheduled time. Before the round's week begins where
    # Grace lives, only "not yet" is accepted and the form says so; once it began, "we met"
    # is. "Why not?" and the rating show only for the answers they belong to.
    starts_on = published_week_start(server, tmp_path)
    before_the_week = datetime.now(ZoneInfo("Europe/Berlin")).date() < starts_on
    grace.clear_cookies()
    page.goto(base + feedback_path)
    assert ("until then you can answer “Not yet”" in page.content()) is before_the_week
    assert not page.is_visible("#reason") and not page.is_visible("input[name=rating]")
    page.check("input[name=status][value=will_not_meet]")
    assert page.is_visible("#reason") and not page.is_visible("input[name=rating]")
    page.check("input[name=status][value=met]")
    assert not page.is_visible("#reason") and page.is_visible("input[name=rating]")
    page.check("input[name=rating][value='5']")
    page.fill("#kudos", "Thanks for the great chat!")
    shot(page, "08-feedback")
    page.click("input[type=submit]")
    if before_the_week:
        error = page.locator("#status-error").inner_text()
        assert "until then you can answer “Not yet”" in error
        page.check("input[name=status][value=not_yet]")
        assert not page.is_visible("input[name=rating]")  # hidden, and not sent
        page.click("input[type=submit]")
    assert "Your answer is saved" in page.content()
    grace.close()
    expected = (
        ("not_yet", None, None) if before_the_week else ("met", 5, "Thanks for the great chat!")
    )
    assert grace_answer(server, tmp_path) == expected


def published_week_start(server: LiveServer, instance: Path) -> date:
    """The Monday of the one published round, read from the server's database."""
    from matcher.models import Round

    app = create_app(
        {
            "DATABASE_URL": server.env["MATCHER_DATABASE_URL"],
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "x",
        }  # fmt: skip
    )
    with app.app_context():
        (starts_on,) = db.session.scalars(
            db.select(Round.starts_on).where(Round.status == "published")
        ).all()
        db.session.remove()
        db.engine.dispose()
    return starts_on


def grace_answer(server: LiveServer, instance: Path) -> tuple[str, int | None, str | None]:
    """Grace's stored answer: (status, rating, kudos)."""
    from matcher.models import Feedback, User

    app = create_app(
        {
            "DATABASE_URL": server.env["MATCHER_DATABASE_URL"],
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "x",
        }  # fmt: skip
    )
    with app.app_context():
        answer = db.session.scalars(
            db.select(Feedback).join(User, User.id == Feedback.user_id)
            .where(User.email == "grace@example.com")
        ).one()  # fmt: skip
        stored = (answer.status, answer.rating, answer.kudos)
        db.session.remove()
        db.engine.dispose()
    return stored
