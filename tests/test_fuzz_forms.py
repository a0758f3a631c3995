"""Hypothesis throws unicode, huge, empty and wrong-typed values at every form: never a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import login

# Text a browser could send: any unicode except lone surrogates (not encodable at all).
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "1e309",
            "nan",
            "NaN",
            "inf",
            "null",
            "[]",
            "{}",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
            "=cmd|'/c calc'!A1",
            "../../etc/passwd",
            "2026-W99",
            "25:99",
            "9999-99-99",
            "x" * 5000,
        ]
    ),
)

FORMS = {
    "/auth/signup": ["display_name", "email", "password", "confirm", "team", "projects",
                     "interests", "location", "timezone", "cadence_weeks", "meeting_mode",
                     "availability-day0-start", "availability-day0-end"],
    "/auth/login": ["email", "password", "remember", "next"],
    "/auth/reset": ["email"],
    "/me/edit": ["display_name", "team", "projects", "interests", "location", "timezone",
                 "cadence_weeks", "meeting_mode", "availability-day2-start",
                 "availability-day2-end"],
    "/me/snooze": ["until"],
    "/me/do-not-pair": ["email"],
    "/me/delete": ["password", "confirm"],
    "/admin/rules": ["cross_team_only", "repeat_cooldown_weeks", "group_size",
                     "weight_interests", "weight_novelty", "round_weekday", "round_time",
                     "round_timezone", "feedback_reminder_days", "pause_after_missed"],
    "/admin/preview/save": ["week", "use", "group_size", "weight_projects"],
}  # fmt: skip
ALLOWED = {200, 302, 400, 404, 405, 413, 422, 429}


@pytest.mark.parametrize("path", sorted(FORMS))
def test_forms_never_fail_with_a_server_error(app, make_user, path):
    make_user(email="admin@example.com", is_admin=True)
    client = app.test_client()
    if not path.startswith("/auth/"):
        login(client, "admin@example.com")

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(values=st.fixed_dictionaries({}, optional={f: TEXT for f in FORMS[path]}))
    def post(values: dict[str, str]) -> None:
        response = client.post(path, data=values)
        assert response.status_code in ALLOWED, (path, values, response.status_code)
        if path == "/me/delete" and response.status_code == 302:
            pytest.fail("an account was deleted by a fuzzed value")

    post()
