"""The rules page: engine validation next to each field, audited saves the next round uses."""

from __future__ import annotations

import re

from sqlalchemy import select

from matcher.extensions import db
from matcher.matching import Weights
from matcher.models import AuditEntry
from matcher.rounds import planning
from tests.admin.support import WEEK, field_error, table_counts, valid_form
from tests.support import MEMBER_PASSWORD, coffee


def test_rules_page_shows_every_engine_weight(client, admin):
    page = client.get("/admin/rules").get_data(as_text=True)
    for name in Weights.names():
        assert f'name="weight_{name}"' in page
    assert 'name="repeat_cooldown_weeks" type="text" value="4"' in page


def test_impossible_values_get_a_message_next_to_the_field(app, client, admin):
    before = table_counts(app)
    response = client.post(
        "/admin/rules",
        data=valid_form(
            group_size="7",
            repeat_cooldown_weeks="-1",
            weight_interests="nan",
            weight_projects="inf",
            weight_org_distance="abc",
            weight_location="11",
            weight_hours="1e309",
            weight_novelty="9" * 5000,
            round_timezone="Mars/Base",
            round_time="25:00",
            feedback_reminder_days="99",
            pause_after_missed="0",
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "group_size") == "Must be from 2 to 4, got 7."
    assert field_error(page, "repeat_cooldown_weeks") == "Must be from 0 to 52, got -1."
    assert field_error(page, "weight_interests") == "Must be a finite number, got nan."
    assert field_error(page, "weight_projects") == "Must be a finite number, got inf."
    assert "is not a number" in field_error(page, "weight_org_distance")
    assert field_error(page, "weight_location") == "Must be between 0 and 10, got 11.0."
    assert field_error(page, "weight_hours") == "Must be a finite number, got inf."
    assert "too long" in field_error(page, "weight_novelty")
    assert "is not a time zone" in field_error(page, "round_timezone")
    assert "00:00 to 23:59" in field_error(page, "round_time")
    assert "Must be from 1 to 30 days" in field_error(page, "feedback_reminder_days")
    assert "Must be from 1 to 52 rounds" in field_error(page, "pause_after_missed")
    assert field_error(page, "weight_fairness") == ""
    assert table_counts(app) == before  # nothing saved, nothing audited


def test_missing_and_odd_fields_never_crash(client, admin):
    response = client.post("/admin/rules", data={"round_weekday": "x" * 1000})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "group_size") == "Enter a whole number."
    assert field_error(page, "round_weekday") == "Pick a weekday from the list."
    assert "Enter a number" in field_error(page, "weight_interests")
    response = client.post("/admin/rules", data=valid_form(group_size="2.5", round_time="9"))
    page = response.get_data(as_text=True)
    assert "is not a whole number" in field_error(page, "group_size")
    assert "00:00 to 23:59" in field_error(page, "round_time")


def test_saving_rules_is_audited_and_the_next_round_uses_them(app, client, org, admin):
    with app.app_context():  # nothing saved yet: the programme has the engine defaults
        assert coffee(db.session).rules == {}
        db.session.commit()
    response = client.post(
        "/admin/rules",
        data=valid_form(
            group_size="3",
            repeat_cooldown_weeks="6",
            weight_interests="2.5",
            round_weekday="2",
            round_time="14:30",
            round_timezone="Europe/Berlin",
        ),  # fmt: skip
    )
    assert response.status_code == 302
    with app.app_context():
        settings = coffee(db.session)
        assert settings.rules["group_size"] == 3
        assert settings.rules["weights"]["interests"] == 2.5
        assert (settings.round_weekday, settings.round_minute) == (2, 14 * 60 + 30)
        assert settings.round_timezone == "Europe/Berlin"
        entry = db.session.scalars(select(AuditEntry)).one()
        assert entry.action == "rules.update" and entry.actor_id == admin
        assert entry.before["rules"]["group_size"] == 2
        assert entry.after["rules"]["group_size"] == 3
        assert entry.before["round_minute"] == 9 * 60 and entry.after["round_minute"] == 870
        plan = planning.plan_round(db.session, settings, WEEK)
        assert plan.rules.group_size == 3 and plan.rules.repeat_cooldown_weeks == 6
        assert {len(g.user_ids) for g in plan.groups} == {3}
    # Saving the same values again changes nothing and records nothing.
    client.post(
        "/admin/rules",
        data=valid_form(
            group_size="3",
            repeat_cooldown_weeks="6",
            weight_interests="2.5",
            round_weekday="2",
            round_time="14:30",
            round_timezone="Europe/Berlin",
        ),  # fmt: skip
    )
    with app.app_context():
        assert len(db.session.scalars(select(AuditEntry)).all()) == 1
    page = client.get("/admin/audit").get_data(as_text=True)
    assert (
        "Changed the rules of “Cross-team coffee”:" in page
        and "Group size 2 → 3" in page
        and "Root Admin" in page
    )
    assert "rules.update" not in page and "rules.group_size" not in page


def test_rules_need_the_csrf_token(app_factory, make_user):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    make_user(email="root@example.com", team="Admins", is_admin=True)
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/auth/login",
        data={"email": "root@example.com", "password": MEMBER_PASSWORD, "csrf_token": token},
    )
    assert client.get("/admin/rules").status_code == 200
    assert client.post("/admin/rules", data=valid_form()).status_code == 400
