"""The "skip my next round" link from the pairing email: no log-in, a confirm button.

Opening the link (GET) only shows the page: mail scanners and link previews fetch links, so
only the button (a POST with its CSRF token) snoozes, with the dashboard's own service.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, redirect, render_template, url_for

from matcher.extensions import db
from matcher.links import SKIP, LinkError, read_token
from matcher.models import Programme, User
from matcher.programmes.catalogue import default_programme
from matcher.programmes.members import membership
from matcher.rounds import cadence
from matcher.rounds.forms import SkipForm
from matcher.timezones import zone_of

bp = Blueprint("skip", __name__, url_prefix="/skip")

LATER = "You can still skip your next round from your dashboard once you are logged in."


def _error(message: str, status: int, hint: str) -> tuple[str, int]:
    page = render_template("skip/link_error.html", message=message, hint=hint, status=status)
    return page, status


@bp.route("/<token>", methods=["GET", "POST"])
def by_link(token: str) -> str | Response | tuple[str, int]:
    """Confirm skipping the next round of the person the signed link names."""
    try:
        user_id, programme_id = read_token(current_app.config, SKIP, token)
    except LinkError as bad:
        if bad.expired:
            days = int(current_app.config.get("SKIP_LINK_MAX_AGE") or 0) // 86400
            return _error(
                str(bad), 410, f"Links in the pairing email work for {days} days. {LATER}"
            )
        return _error(
            str(bad), 400, f"Check that you opened the whole link from the email. {LATER}"
        )
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        message = "This account no longer takes part in the pairings."
        return _error(message, 410, "Nothing was changed.")
    programme = db.session.get(Programme, programme_id) if programme_id else None
    programme = programme or default_programme(db.session)
    member = membership(db.session, programme, user.id)
    if user.profile is None or user.team is None or member is None or member.opted_out:
        return render_template(
            "skip/by_link.html", user=user, taking_part=False, programme=programme
        )
    form = SkipForm()
    if form.validate_on_submit():
        cadence.skip_next_round(db.session, member, programme, now())
        db.session.commit()
        # Back to the same page, which now says the round is skipped (and a reload resends
        # nothing).
        return redirect(url_for("skip.by_link", token=token))
    next_round = cadence.next_round_for(db.session, member, programme, now())
    return render_template(
        "skip/by_link.html",
        user=user,
        taking_part=True,
        programme=programme,
        form=form,
        skipping=cadence.is_skipping(member, next_round),
        next_round=next_round.start.astimezone(zone_of(user)),
        zone=zone_of(user).key,
    )


def now() -> datetime:
    """The current time (aware UTC)."""
    return datetime.now(UTC)
