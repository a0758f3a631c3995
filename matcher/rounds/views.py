"""The participant's dashboard: this week's pairing, past pairings, the next round."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from matcher.extensions import db
from matcher.feedback.service import kudos_for
from matcher.notify.render import pairing_invitation, zone_of
from matcher.rounds import dashboard
from matcher.rounds.forms import SkipForm

bp = Blueprint("rounds", __name__, url_prefix="/dashboard")


@bp.before_request
@login_required
def require_login() -> None:
    """The dashboard is always about the logged-in user."""


@bp.route("/")
def index() -> str:
    """Current pairing with partner cards, past pairings and the next round."""
    now = datetime.now(UTC)
    zone = zone_of(current_user)
    pairings = dashboard.pairings_of(db.session, current_user)
    today = now.astimezone(zone).date()
    current = pairings[0] if pairings and dashboard.is_current(pairings[0], today) else None
    past = [p for p in pairings if p is not current][: dashboard.PAST_LIMIT]
    next_start, next_monday = dashboard.next_round_monday(db.session, now)
    profile = current_user.profile
    return render_template(
        "rounds/dashboard.html",
        current=current,
        past=past,
        next_round=next_start.astimezone(zone),
        skipping=bool(profile and profile.snoozed_until and profile.snoozed_until >= next_monday),
        zone=zone.key,
        skip_form=SkipForm(),
        kudos=kudos_for(db.session, current_user),
    )


@bp.route("/skip", methods=["POST"])
def skip() -> Response:
    """Leave the next round out (a snooze until that round's Monday)."""
    if SkipForm().validate_on_submit() and current_user.profile is not None:
        _, monday = dashboard.next_round_monday(db.session, datetime.now(UTC))
        profile = current_user.profile
        if profile.snoozed_until is None or profile.snoozed_until < monday:
            profile.snoozed_until = monday
        db.session.commit()
        flash("You will skip the next round. See you the week after!", "ok")
    return redirect(url_for("rounds.index"))


@bp.route("/pairings/<int:group_id>.ics")
def invitation(group_id: int) -> Response:
    """The calendar invitation for one of the user's pairings."""
    group = dashboard.group_for(db.session, current_user, group_id)
    if group is None or group.meeting_at is None:
        abort(404)
    body = pairing_invitation(group, current_user, current_app.config)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="coffee-{group.round.week}.ics"'},
    )
