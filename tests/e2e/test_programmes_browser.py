"""In a real browser: someone joins a second programme on /me/, an admin publishes both
programmes' rounds, and the dashboard shows a card for each with its pairing."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from matcher.auth.service import register_user
from matcher.extensions import db
from matcher.profile.service import ProfileData, Slot
from matcher.programmes.catalogue import ProgrammeValues, create_programme
from matcher.programmes.members import Choice, join
from tests.e2e.support import ADMIN_PASSWORD, PASSWORD, LiveServer, live_server, log_in, shot

pytestmark = pytest.mark.real_clock("the app runs under its own flask run process")

PEOPLE = [
    ("Ada Lovelace", "Payments"),
    ("Cy Young", "Search"),
    ("Eve Moss", "Platform"),
    ("Dan Brown", "Infra"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory, smtp) -> Iterator[LiveServer]:
    """The app under `flask run`: four colleagues in the coffee, three of them in Lunch
    roulette too (Ada joins it in the browser)."""

    def fill(_app) -> None:
        lunch = create_programme(
            db.session, ProgrammeValues(name="Lunch roulette", slug="lunch"), actor_id=None
        )
        for name, team in PEOPLE:
            profile = ProfileData(
                team=team,
                projects=("Checkout",),
                interests=("Rust",),
                availability=tuple(Slot(d, 9 * 60, 17 * 60) for d in range(5)),
            )
            email = name.split()[0].lower() + "@example.com"
            user = register_user(db.session, name, email, PASSWORD, profile)
            if not name.startswith("Ada"):
                db.session.flush()
                join(db.session, lunch, user, Choice(lunch.id), user.joined_on)

    with live_server(tmp_path_factory.mktemp("e2e-programmes"), smtp.port, fill) as live:
        yield live


def publish(admin, base: str, slug: str) -> None:
    """Preview the programme's next round, save it as a draft and publish it (saying yes)."""
    admin.goto(f"{base}/admin/p/{slug}/preview")
    admin.click("button:has-text('Save as draft')")
    admin.wait_for_url(re.compile(r"/admin/rounds/\d+$"))
    admin.once("dialog", lambda dialog: dialog.accept())
    with admin.expect_navigation():
        admin.click("button:has-text('Publish')")
    assert admin.locator("h1 .status").inner_text() == "published"


def test_a_person_in_two_programmes_sees_both_cards(server, browser, smtp):
    base = server.base
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    log_in(page, base, "ada@example.com", PASSWORD)

    # Ada joins Lunch roulette on her profile page.
    page.goto(base + "/me/")
    page.locator("#programme-lunch button:has-text('Join')").click()
    page.wait_for_load_state()
    assert "Leave Lunch roulette" in page.content()

    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(admin, base, "admin@example.com", ADMIN_PASSWORD)
    publish(admin, base, "coffee")
    publish(admin, base, "lunch")

    for width in (1100, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(base + "/dashboard/")
        shot(page, f"programmes-dashboard-{width}")
    others = ("Cy Young", "Eve Moss", "Dan Brown")
    for slug, name in (("coffee", "Cross-team coffee"), ("lunch", "Lunch roulette")):
        card = page.locator(f"#programme-{slug}")
        text = card.inner_text()
        assert name in text and "No pairing yet" not in text
        assert any(other in text for other in others), text
        assert card.locator("button:has-text('Skip this round')").count() == 1
    # Her two pairing emails name their programmes.
    subjects = set()
    deadline = time.monotonic() + 30
    while len(subjects) < 2 and time.monotonic() < deadline:
        subjects = {
            str(m["Subject"]).split(":")[0] for m in smtp.messages if "ada@" in str(m["To"])
        }
        time.sleep(0.2)
    assert subjects == {"Cross-team coffee", "Lunch roulette"}
