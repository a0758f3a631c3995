"""What-if: twelve simulated rounds, nothing written, repeats only after the cooldown."""

from __future__ import annotations

from matcher.admin import simulation
from matcher.extensions import db
from matcher.matching import Rules, Weights
from tests.admin.support import WEEK, table_counts
from tests.support import coffee, coffee_member


def test_twelve_weeks_write_nothing_and_respect_the_cooldown(app, client, org):
    before = table_counts(app)
    with app.app_context():
        result = simulation.simulate(
            db.session, coffee(db.session), Rules(repeat_cooldown_weeks=4), WEEK
        )
    assert [w.week for w in result.weeks][:3] == ["2026-W49", "2026-W50", "2026-W51"]
    assert len(result.weeks) == 12 and result.participants == 12
    assert [w.repeats for w in result.weeks[:4]] == [0, 0, 0, 0]
    # Three people per team: each has nine partners, so repeats must come after week 4.
    assert sum(w.repeats for w in result.weeks) > 0
    assert all(w.cross_team_share == 1.0 for w in result.weeks)
    connected = [w.team_pairs_connected for w in result.weeks]
    assert connected == sorted(connected) and 3 <= connected[-1] <= result.team_pairs_possible == 6
    assert table_counts(app) == before
    args = {"cross_team_only": "y", "repeat_cooldown_weeks": "4", "group_size": "2"}
    args.update({f"weight_{name}": "1" for name in Weights.names()})
    response = client.get("/admin/whatif", query_string=args)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "12 simulated rounds" in page and "Team pairs connected" in page
    assert table_counts(app) == before


def test_a_cooldown_that_leaves_nobody_is_warned_about(app, client, make_user, admin):
    with app.app_context():
        coffee_member(db.session, admin).opted_out = True
        db.session.commit()
    make_user(email="a@example.com", name="Ann", team="Payments")
    make_user(email="b@example.com", name="Ben", team="Search")
    with app.app_context():
        cool = simulation.simulate(
            db.session, coffee(db.session), Rules(repeat_cooldown_weeks=4), WEEK, weeks=6
        )
        hot = simulation.simulate(
            db.session, coffee(db.session), Rules(repeat_cooldown_weeks=0), WEEK, weeks=6
        )
    assert [len(w.unmatched) for w in cool.weeks] == [0, 2, 2, 2, 0, 2]
    assert [w.repeats for w in cool.weeks] == [0, 0, 0, 0, 1, 0]
    assert [w.repeats for w in hot.weeks] == [0, 1, 1, 1, 1, 1]
    assert {name for _, uid, _ in cool.cooldown_warnings for name in [cool.names[uid]]} == {
        "Ann",
        "Ben",
    }
    args = {"cross_team_only": "y", "repeat_cooldown_weeks": "4", "group_size": "2"}
    args.update({f"weight_{name}": "1" for name in Weights.names()})
    page = client.get("/admin/whatif", query_string=args).get_data(as_text=True)
    assert "some people have nobody left they may meet" in page and "Ann" in page


def test_bad_rules_are_refused_with_messages(client, admin):
    response = client.get("/admin/whatif", query_string={"group_size": "7", "weight_hours": "inf"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Must be from 2 to 4, got 7." in page and "simulated rounds" not in page


def test_the_simulation_stops_at_its_time_budget_and_says_so(app, org):
    with app.app_context():
        result = simulation.simulate(db.session, coffee(db.session), Rules(), WEEK, budget=0.0)
    assert len(result.weeks) == 1 and "Stopped after 1 week to keep" in result.note
