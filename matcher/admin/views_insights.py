"""Insights, the what-if simulator and the CSV exports."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, render_template, request

from matcher.admin import charts, csv_export, insights
from matcher.admin.blueprint import bp
from matcher.admin.forms import WhatIfForm
from matcher.admin.views_rounds import next_week
from matcher.extensions import db
from matcher.rounds import whatif
from matcher.rounds.programme import current_rules_or_default


@bp.route("/insights")
def insights_page() -> str:
    """Participation, meeting rate, ratings, new connections and the team x team maps."""
    data = insights.compute(db.session)
    weeks = [r.week.split("-")[1] for r in data.rounds]  # "W49": the year is in the table
    figures = {
        "participation": charts.bar_chart(
            weeks, [r.participants for r in data.rounds], "People taking part per round",
            "round (ISO week)", "people",
        ),
        "meeting_rate": charts.bar_chart(
            weeks,
            [100 * (r.meeting_rate or 0.0) for r in data.rounds],
            "Share of answers saying “we met”", "round (ISO week)", "% of answers",
            max_value=100, value_format="{:.0f}",
        ),
        "new_pairs": charts.bar_chart(
            weeks, [r.new_pairs for r in data.rounds], "New pairs matched (first time together)",
            "round (ISO week)", "pairs",
        ),
        "new_met": charts.bar_chart(
            weeks, [r.new_met for r in data.rounds], "New pairs who met (first “we met”)",
            "round (ISO week)", "pairs",
        ),
    }  # fmt: skip
    cell = 34 if len(data.teams) <= 16 else 22
    heatmaps = {
        "met": charts.heatmap(
            data.teams, data.matrix, "People pairs who met (“we met”), team × team",
            "pairs met", cell=cell,
        ),
        "matched": charts.heatmap(
            data.teams, data.matched_matrix, "People pairs matched, team × team",
            "pairs matched", cell=cell, verb="have been matched at least once",
            alone_words="Not matched with any other team shown yet",
        ),
    }  # fmt: skip
    return render_template("admin/insights.html", data=data, figures=figures, heatmaps=heatmaps)


@bp.route("/whatif")
def whatif_page() -> tuple[str, int]:
    """Simulate the next 12 rounds with proposed rules; nothing is written."""
    form = WhatIfForm(request.args or None)
    form.fill_missing_rules(current_rules_or_default(db.session), request.args)
    result = None
    start = next_week()
    # Only on request: twelve engine runs are too heavy to start on every visit.
    if request.args and form.validate() and form.rules is not None:
        result = whatif.simulate(db.session, form.rules, start)
    chart = None
    if result is not None and result.weeks:
        chart = charts.bar_chart(
            [w.week.split("-")[1] for w in result.weeks],
            [w.team_pairs_connected for w in result.weeks],
            "Team pairs connected so far (simulated)", "simulated week", "team pairs",
            max_value=charts.nice_ceiling(max(result.team_pairs_possible, 1)),
        )  # fmt: skip
    page = render_template("admin/whatif.html", form=form, result=result, start=start, chart=chart)
    return page, (422 if form.errors else 200)


@bp.route("/export/<what>.csv")
def export(what: str) -> Response:
    """Download rounds, pairs, feedback or teams as CSV (formula-safe)."""
    if what not in csv_export.EXPORTS:
        abort(404)
    text = csv_export.export(db.session, what)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="matcher-{what}-{stamp}.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )
