"""The what-if simulator: the same round service with other rules, nothing stored."""

from __future__ import annotations

from flask import render_template, request

from matcher.admin import bp, charts, simulation
from matcher.admin.forms.whatif import WhatIfForm
from matcher.admin.scope import programme_for
from matcher.extensions import db
from matcher.histograms import nice_ceiling
from matcher.programmes import schedule
from matcher.programmes.settings import rules_or_default


@bp.route("/whatif")
@bp.route("/p/<slug>/whatif")
def whatif_page(slug: str | None = None) -> tuple[str, int]:
    """Simulate a programme's next 12 rounds with proposed rules; nothing is written."""
    programme = programme_for(slug)
    form = WhatIfForm(request.args or None)
    form.fill_missing_rules(rules_or_default(programme), request.args)
    form.fit_to(programme)
    result = None
    start = schedule.next_week(db.session, programme)
    # Only on request: twelve engine runs are too heavy to start on every visit.
    if request.args and form.validate() and form.rules is not None:
        result = simulation.simulate(db.session, programme, form.rules, start)
    chart = None
    if result is not None and result.weeks:
        chart = charts.bar_chart(
            [w.week.split("-")[1] for w in result.weeks],
            [w.team_pairs_connected for w in result.weeks],
            "Team pairs connected so far (simulated)", "simulated week", "team pairs",
            max_value=nice_ceiling(max(result.team_pairs_possible, 1)),
        )  # fmt: skip
    page = render_template("admin/whatif.html", form=form, result=result, start=start, chart=chart)
    return page, (422 if form.errors else 200)
