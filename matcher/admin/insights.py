"""Insights and the CSV exports."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from flask import Response, abort, render_template

from matcher.admin import bp, charts, exports, metrics
from matcher.admin.scope import programme_for, show_programme
from matcher.extensions import db
from matcher.models import Programme
from matcher.pagecache import cached_page

# The charts are pure functions of small inputs that change only when the aggregates do:
# drawing two 25 x 25 heatmaps costs more than reading everything else the page shows.
_bar_chart = lru_cache(maxsize=256)(charts.bar_chart)
_heatmap = lru_cache(maxsize=64)(charts.heatmap)


def _scope(slug: str | None) -> Programme | None:
    """The programme of a slug address; None (every programme) for the org-wide address."""
    if slug is None:
        show_programme(None)
        return None
    return programme_for(slug)


@bp.route("/insights")
@bp.route("/p/<slug>/insights")
@cached_page
def insights_page(slug: str | None = None) -> str:
    """Participation, meeting rate, ratings, new connections and the team x team maps, of one
    programme or (at /admin/insights) across every programme."""
    programme = _scope(slug)
    data = metrics.compute(db.session, programme.id if programme else None)
    weeks = tuple(r.week.split("-")[1] for r in data.rounds)  # "W49": the year is in the table
    figures = {
        "participation": _bar_chart(
            weeks, tuple(r.participants for r in data.rounds), "People taking part per round",
            "round (ISO week)", "people",
        ),
        "meeting_rate": _bar_chart(
            weeks,
            tuple(100 * (r.meeting_rate or 0.0) for r in data.rounds),
            "Share of answers saying “we met”", "round (ISO week)", "% of answers",
            max_value=100, value_format="{:.0f}",
        ),
        "new_pairs": _bar_chart(
            weeks, tuple(r.new_pairs for r in data.rounds),
            "New pairs matched (first time together)", "round (ISO week)", "pairs",
        ),
        "new_met": _bar_chart(
            weeks, tuple(r.new_met for r in data.rounds), "New pairs who met (first “we met”)",
            "round (ISO week)", "pairs",
        ),
    }  # fmt: skip
    cell = 34 if len(data.teams) <= 16 else 22
    heatmaps = {
        "met": _heatmap(
            data.teams, data.matrix, "People pairs who met (“we met”), team × team",
            "pairs met", cell=cell,
        ),
        "matched": _heatmap(
            data.teams, data.matched_matrix, "People pairs matched, team × team",
            "pairs matched", cell=cell, verb="have been matched at least once",
            alone_words="Not matched with any other team shown yet",
        ),
    }  # fmt: skip
    return render_template(
        "admin/insights.html", data=data, figures=figures, heatmaps=heatmaps, org_wide=not slug
    )


@bp.route("/export/<what>.csv")
@bp.route("/p/<slug>/export/<what>.csv")
def export(what: str, slug: str | None = None) -> Response:
    """Download rounds, pairs, feedback or teams as CSV (formula-safe), of one programme or
    of every programme."""
    programme = _scope(slug)
    if what not in exports.EXPORTS:
        abort(404)
    text = exports.export(db.session, what, programme.id if programme else None)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    if programme is not None:
        stamp = f"{programme.slug}-{stamp}"
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="matcher-{what}-{stamp}.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )
