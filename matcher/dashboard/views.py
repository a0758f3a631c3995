"""Dashboard pages: the pairings, skipping the next round, calendar downloads."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from matcher.dashboard import bp, timeline
from matcher.extensions import db
from matcher.feedback.service import kudos_for
from matcher.models import FEEDBACK_STATUSES, Programme
from matcher.programmes.catalogue import default_programme
from matcher.programmes.members import membership
from matcher.programmes.schedule import next_round
from matcher.rounds import cadence
from matcher.rounds.emails import pairing_invitation
from matcher.rounds.forms import SkipForm
from matcher.rounds.place import meeting_place
from matcher.timezones import zone_of
from matcher.weeks import long_day, parse_week


@bp.before_request
@login_required
def require_login() -> None:
    """The dashboard is always about the logged-in user."""


@bp.route("/")
def index() -> str:
    """Current pairing with partner cards, upcoming and past pairings, the user's next round."""
    now = datetime.now(UTC)
    zone = zone_of(current_user)
    today = now.astimezone(zone).date()
    pairings = timeline.timeline(timeline.pairings_of(db.session, current_user), today)
    programme = default_programme(db.session)
    member = membership(db.session, programme, current_user.id)
    next_round = (
        cadence.next_round_for(db.session, member, programme, now)
        if member is not None
        else cadence.NextRound(*_programme_next(programme, now))
    )
    return render_template(
        "dashboard/index.html",
        current=pairings.current,
        place=meeting_place(pairings.current.group.members) if pairings.current else None,
        upcoming=pairings.upcoming,
        past=pairings.past,
        next_round=next_round.start.astimezone(zone),
        not_due_round=(
            next_round.not_due_start.astimezone(zone) if next_round.not_due_start else None
        ),
        cadence_weeks=member.cadence_weeks if member else 1,
        member=member,
        programme=programme,
        skipping=cadence.is_skipping(member, next_round) if member else False,
        zone=zone.key,
        skip_form=SkipForm(),
        kudos=kudos_for(db.session, current_user),
        statuses=FEEDBACK_STATUSES,
        today=today,
    )


def _programme_next(programme: Programme, now: datetime) -> tuple[datetime, date, str]:
    start, week = next_round(db.session, programme, now)
    return start, parse_week(week), week


@bp.route("/skip", methods=["POST"])
def skip() -> Response:
    """Leave the user's next round out (a snooze until the day it runs)."""
    programme = default_programme(db.session)
    member = membership(db.session, programme, current_user.id)
    if SkipForm().validate_on_submit() and member is not None:
        next_round = cadence.skip_next_round(db.session, member, programme, datetime.now(UTC))
        db.session.commit()
        when = next_round.start.astimezone(zone_of(current_user))
        flash(f"You will skip your next round ({long_day(when)}). See you the week after!", "ok")
    return redirect(url_for("dashboard.index"))


@bp.route("/pairings/<int:group_id>.ics")
def invitation(group_id: int) -> Response:
    """The calendar invitation for one of the user's pairings."""
    group = timeline.group_for(db.session, current_user, group_id)
    if group is None or group.meeting_at is None:
        abort(404)
    body = pairing_invitation(group, current_user, current_app.config)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="coffee-{group.round.week}.ics"'},
    )
