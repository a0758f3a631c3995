"""One walk in a real browser through the real provider: sign in with SSO, complete the
profile, see the dashboard; at 1280 and 390 px wide, with screenshots in
artifacts/screenshots/sso-*.png (git-ignored)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from matcher.extensions import db
from matcher.models import ProgrammeMember, User
from tests.auth_sso.conftest import PROVIDER_NAME, Provider, sso_settings
from tests.e2e.support import CHROMIUM, shot
from tests.notify.support import free_port
from tests.support import make_app, migrate


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser at {CHROMIUM} (scripts/test-services installs it)")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def live(tmp_path, shared_provider: Provider) -> Iterator[tuple[str, Flask]]:
    """matcher served on a free port (SQLite, CSRF on), signing in with the test provider."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(
        f"sqlite:///{tmp_path / 'sso.sqlite'}",
        tmp_path / "instance",
        BASE_URL=base,
        WTF_CSRF_ENABLED=True,
        **sso_settings(shared_provider),
    )
    migrate(app)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield base, app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize("width", [1280, 390])
def test_sign_in_with_sso_complete_the_profile_and_see_the_dashboard(
    browser, live, shared_provider: Provider, width: int
):
    base, app = live
    sub = f"browser-{uuid.uuid4().hex[:8]}"
    shared_provider.add_user(
        sub,
        email=f"{sub}@example.com",
        email_verified=True,
        name="Bea Browser",
        department="Data Platform",
        zoneinfo="Europe/Lisbon",
    )
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    # The provider's page links a stylesheet on a CDN: no network here, fail it at once.
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(base + "/auth/login")
    shot(page, f"sso-login-{width}")
    page.click(f"text=Sign in with {PROVIDER_NAME}")
    # At the provider: choose who signs in.
    page.wait_for_url("**/oauth2/authorize**")
    page.fill("input[name=sub]", sub)
    page.click("button:has-text('Authorize')")

    page.wait_for_url(base + "/auth/complete")
    assert page.input_value("#team") == "Data Platform"
    assert page.input_value("#timezone") == "Europe/Lisbon"
    shot(page, f"sso-complete-{width}")
    page.fill("#interests", "Rust, climbing")
    page.fill("#location", "Lisbon")
    page.click("input[type=submit][value='Save and join']")

    page.wait_for_url(base + "/dashboard/")
    assert "Profile saved" in page.content()
    assert "Bea Browser" in page.content()
    shot(page, f"sso-dashboard-{width}")
    # Nothing on these pages broke the content security policy.
    assert not [e for e in errors if "Content Security Policy" in e]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == f"{sub}@example.com"))
        assert user.team.name == "Data Platform"
        assert (
            db.session.scalar(select(ProgrammeMember).where(ProgrammeMember.user_id == user.id))
            is not None
        )

    # The page someone sees when the provider does not vouch for their address.
    refused = f"refused-{uuid.uuid4().hex[:8]}"
    shared_provider.add_user(refused, email=f"{refused}@example.com", email_verified=False)
    fresh = browser.new_context(viewport={"width": width, "height": 900})
    other = fresh.new_page()
    other.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    other.goto(base + "/auth/sso/start")
    other.wait_for_url("**/oauth2/authorize**")
    other.fill("input[name=sub]", refused)
    other.click("button:has-text('Authorize')")
    other.wait_for_url("**/auth/sso/callback**")
    assert "No account opened" in other.content()
    shot(other, f"sso-refused-{width}")
    fresh.close()
    context.close()
