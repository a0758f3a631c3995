"""Migration 0007 turns a one-programme database into the programme "Cross-team coffee"."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from matcher.extensions import db
from matcher.models import Programme, ProgrammeMember, Round, User


def _insert(sql: str, **values: object) -> None:
    db.session.execute(text(sql), values)


def test_settings_members_and_rounds_move_into_the_coffee_programme(app):
    with app.app_context():
        downgrade(revision="0006_facts")
        try:
            _fill_and_upgrade()
        finally:
            upgrade()  # leave the schema at head for the tests after this one


def _fill_and_upgrade() -> None:
    if True:
        # The downgrade wrote the settings row back from the programme: start without it.
        _insert("DELETE FROM programme_settings")
        _insert(
            "INSERT INTO programme_settings (id, rules, round_weekday, round_minute, "
            "round_timezone, feedback_reminder_days, pause_after_missed, updated_at) VALUES "
            "(1, :rules, 3, 600, 'Europe/Berlin', 4, 2, '2026-01-05 10:00:00')",
            rules='{"group_size": 3}',
        )
        _insert("INSERT INTO teams (id, name, key) VALUES (1, 'Search', 'search')")
        for uid, team in ((1, 1), (2, 1), (3, None)):
            _insert(
                "INSERT INTO users (id, email, display_name, password_hash, is_admin, active, "
                "created_at, session_token, team_id) VALUES (:id, :email, 'N', 'x', false, "
                "true, '2025-03-04 08:00:00', 't', :team)",
                id=uid,
                email=f"u{uid}@example.com",
                team=team,
            )
        _insert(
            "INSERT INTO profiles (user_id, timezone, cadence_weeks, meeting_mode, "
            "snoozed_until, opted_out, pause_reason, updated_at) VALUES "
            "(1, 'UTC', 2, 'either', '2026-02-01', false, NULL, '2026-01-01 00:00:00'), "
            "(2, 'UTC', 1, 'either', NULL, true, 'missed 3', '2026-01-01 00:00:00'), "
            "(3, 'UTC', 1, 'either', NULL, true, NULL, '2026-01-01 00:00:00')"
        )
        _insert(
            "INSERT INTO rounds (id, week, starts_on, status, seed, rules, stats, unmatched, "
            "total_score, participant_count, created_at) VALUES (1, '2026-W02', '2026-01-05', "
            "'published', 1, '{}', '{}', '[]', 0, 2, '2026-01-05 09:00:00')"
        )
        db.session.commit()
        upgrade()

        coffee = db.session.get(Programme, 1)
        assert (coffee.slug, coffee.kind, coffee.name) == ("coffee", "coffee", "Cross-team coffee")
        assert coffee.rules == {"group_size": 3}
        assert (coffee.round_weekday, coffee.round_minute, coffee.round_timezone) == (
            3,
            600,
            "Europe/Berlin",
        )
        assert (coffee.feedback_reminder_days, coffee.pause_after_missed) == (4, 2)
        members = {m.user_id: m for m in db.session.query(ProgrammeMember).all()}
        # The account without a team (an admin who never filled a profile) joins nothing.
        assert set(members) == {1, 2}
        assert members[1].cadence_weeks == 2 and str(members[1].snoozed_until) == "2026-02-01"
        assert members[2].opted_out and members[2].pause_reason == "missed 3"
        assert db.session.get(Round, 1).programme_id == 1
        assert str(db.session.get(User, 1).joined_on) == "2025-03-04"
        # A new programme gets the next id (PostgreSQL's sequence moved past the explicit 1).
        db.session.add(Programme(slug="buddies", name="Buddies", kind="buddies"))
        db.session.commit()
        assert db.session.query(Programme).filter_by(slug="buddies").one().id == 2
