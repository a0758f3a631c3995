"""Browser-test fixtures: one SMTP server and one headless Chromium per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.support import CHROMIUM
from tests.notify.support import smtp_server


@pytest.fixture(scope="module")
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser at {CHROMIUM} (scripts/test-services installs it)")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-gpu",
            ],
        )
        yield chromium
        chromium.close()
