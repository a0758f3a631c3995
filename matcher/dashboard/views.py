"""Dashboard pages: the pairings, skipping the next round, calendar downloads."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from matcher.dashboard import bp, timeline
from matcher.dashboard.forms import ProgrammeSkipForm
from matcher.extensions import db
from matcher.feedback.service import kudos_for
from matcher.models import FEEDBACK_STATUSES, ROLE_LABELS
from matcher.pagecache import cached_page
from matcher.programmes.catalogue import by_slug
from matcher.programmes.members import membership
from matcher.rounds import cadence
from matcher.rounds.emails import pairing_invitation
from matcher.timezones import zone_of
from matcher.weeks import long_day


@bp.before_request
@login_required
def require_login() -> None:
    """The dashboard is always about the logged-in user."""


@bp.route("/")
@cached_page
def index() -> str:
    """A card per programme (its pairing, partners, time, next round), then past pairings."""
    now = datetime.now(UTC)
    zone = zone_of(current_user)
    page = timeline.dashboard(db.session, current_user, now)
    cards = [(card, ProgrammeSkipForm(programme=card.programme.slug)) for card in page.cards]
    return render_template(
        "dashboard/index.html",
        cards=cards,
        past=page.past,
        zone=zone,
        kudos=kudos_for(db.session, current_user),
        statuses=FEEDBACK_STATUSES,
        role_labels=ROLE_LABELS,
        today=now.astimezone(zone).date(),
    )


@bp.route("/skip", methods=["POST"])
def skip() -> Response:
    """Leave the user out of their next round of one programme (a snooze until it runs)."""
    form = ProgrammeSkipForm()
    if not form.validate_on_submit():
        flash("That did not work: reload the page and try again.", "error")
        return redirect(url_for("dashboard.index"))
    programme = by_slug(db.session, form.programme.data)
    member = membership(db.session, programme, current_user.id) if programme else None
    if programme is None or member is None or member.opted_out or programme.archived:
        name = programme.name if programme else "that programme"
        flash(f"You are not taking part in {name}: there is no round to skip.", "error")
        return redirect(url_for("dashboard.index"))
    next_round = cadence.skip_next_round(db.session, member, programme, datetime.now(UTC))
    db.session.commit()
    when = next_round.start.astimezone(zone_of(current_user))
    flash(
        f"You will skip your next round ({long_day(when)}) in {programme.name}. "
        "See you the week after!",
        "ok",
    )
    return redirect(url_for("dashboard.index"))


@bp.route("/pairings/<int:group_id>.ics")
def invitation(group_id: int) -> Response:
    """The calendar invitation for one of the user's pairings."""
    group = timeline.group_for(db.session, current_user, group_id)
    if group is None or group.meeting_at is None:
        abort(404)
    body = pairing_invitation(group, current_user, current_app.config)
    name = f"{group.round.programme.slug}-{group.round.week}.ics"
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
