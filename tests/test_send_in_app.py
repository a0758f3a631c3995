"""OUTBOX_SEND_IN_APP: which processes send the outbox themselves."""

from __future__ import annotations

import pytest

from matcher.devserver import send_in_app
from matcher.notify.background import background_sender_running, stop_background_sender


@pytest.mark.parametrize(
    ("value", "mode"),
    [("auto", "auto"), (True, "always"), ("true", "always"), (False, "never"), ("0", "never")],
)
def test_the_setting_reads_the_words_people_write(value, mode):
    assert send_in_app(value) == mode


@pytest.mark.parametrize("value", ["yes", "", "sometimes", 2, None])
def test_anything_else_stops_the_app_with_the_setting_named(value, app_factory):
    with pytest.raises(ValueError, match="MATCHER_OUTBOX_SEND_IN_APP"):
        app_factory(OUTBOX_SEND_IN_APP=value)


def test_always_starts_on_the_first_request_never_in_a_command(app_factory):
    app = app_factory(OUTBOX_SEND_IN_APP=True)
    try:
        # A CLI command builds the app and serves no request: no thread to die mid-send.
        result = app.test_cli_runner().invoke(args=["outbox", "status"])
        assert result.exit_code == 0 and not background_sender_running(app)
        assert app.test_client().get("/healthz").status_code == 200
        assert background_sender_running(app)
    finally:
        stop_background_sender(app)
