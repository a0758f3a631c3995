"""The pairing email repeats the time for a partner only when their clock reads otherwise."""

from __future__ import annotations

from tests.notify.support import body_text, queue_round, send, smtp_server


def test_a_partner_line_only_where_the_clock_differs(app, make_user, make_round):
    ada = make_user(email="ada@example.com", timezone="Europe/Berlin", team="Payments")
    # Warsaw keeps Berlin's clock: the same time, another zone name. New York does not.
    bo = make_user(email="bo@example.com", name="Bo", timezone="Europe/Warsaw", team="Search")
    cy = make_user(email="cy@example.com", name="Cy", timezone="America/New_York", team="Data")
    round_id, _ = make_round([[ada, bo, cy]])
    queue_round(app, round_id)
    with smtp_server() as smtp:
        send(app, **smtp.config)
        (to_ada,) = [m for m in smtp.messages if "ada@example.com" in str(m["To"])]
    for part in ("plain", "html"):
        text = body_text(to_ada, part)
        assert "Europe/Warsaw" not in text  # Bo's 15:00 is Ada's 15:00
        assert "For Cy: " in text or "(for Cy: " in text
        assert "09:00" in text and "America/New_York" in text


def test_a_zone_whose_abbreviation_is_its_name_is_named_once():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from matcher.rounds.emails import local_time

    at = datetime(2026, 12, 7, 10, 0)
    assert local_time(at, ZoneInfo("UTC")).endswith("10:00\u201310:30 (UTC)")
    assert local_time(at, ZoneInfo("Europe/Berlin")).endswith("(CET, Europe/Berlin)")
