"""The admin overview: who takes part, messages, the next round, the latest rounds."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, render_template

from matcher.admin import bp, directory, summaries
from matcher.admin.scope import programme_for
from matcher.extensions import db
from matcher.notify.status import delivery_here, outbox_counts
from matcher.programmes import schedule


@bp.route("/")
@bp.route("/p/<slug>")
def index(slug: str | None = None) -> str:
    """Programme overview: who takes part, the latest rounds and the next scheduled run."""
    programme = programme_for(slug)
    statuses = directory.status_counts(db.session, datetime.now(UTC).date(), programme.id)
    counts = {
        "people": sum(statuses.values()),
        # Snoozed people are in the programme, only skipping rounds for now.
        "participating": statuses["active"] + statuses["snoozed"],
        **summaries.round_counts(db.session, programme.id),
    }
    settings = programme
    next_run, next_week = schedule.next_round(db.session, programme, datetime.now(UTC))
    rounds = summaries.latest_rounds(db.session, 5, programme.id)
    return render_template(
        "admin/index.html",
        outbox=outbox_counts(db.session),
        delivery=delivery_here(current_app._get_current_object()),
        counts=counts,
        statuses=statuses,
        labels=directory.STATUSES,
        rounds=rounds,
        next_run=next_run,
        next_week=next_week,
        settings=settings,
    )
