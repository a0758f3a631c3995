"""Feedback pages: from the signed email link (no log-in) or from the dashboard."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from matcher.extensions import db
from matcher.feedback import service
from matcher.feedback.forms import FeedbackForm
from matcher.links import FEEDBACK, LinkError, read_token
from matcher.models import Membership
from matcher.models.people import utcnow
from matcher.transaction import commit_retrying

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

SAVED_MESSAGE = "Thanks, your answer is saved."


@bp.route("/<token>", methods=["GET", "POST"])
def by_link(token: str) -> str | Response | tuple[str, int]:
    """The form for the one pairing the signed link names."""
    try:
        membership_id, user_id = read_token(current_app.config, FEEDBACK, token)
    except LinkError as bad:
        status = 410 if bad.expired else 400
        return render_template("feedback/link_error.html", message=str(bad), status=status), status
    membership = service.membership_for(db.session, membership_id, user_id)
    if membership is None or membership.user.is_deleted:
        message = "This pairing or account no longer exists."
        return render_template("feedback/link_error.html", message=message, status=410), 410
    # Back to the form, which thanks the person itself (whoever opens a link is not logged in).
    return _form_page(membership, done_url=url_for("feedback.by_link", token=token, saved=1))


@bp.route("/pairing/<int:group_id>", methods=["GET", "POST"])
@login_required
def for_group(group_id: int) -> str | Response | tuple[str, int]:
    """The form for one of the logged-in user's pairings."""
    membership = service.membership_in_group(db.session, group_id, current_user.id)
    if membership is None:
        abort(404)
    return _form_page(membership, done_url=url_for("dashboard.index"), thanks=SAVED_MESSAGE)


def _form_page(
    membership: Membership, done_url: str, thanks: str | None = None
) -> str | Response | tuple[str, int]:
    """Show and save the form; after saving, flash `thanks` (if any) and go to done_url."""
    existing = service.feedback_of(db.session, membership)
    # Prefill from the earlier answer only on GET: on POST an absent field means "cleared".
    form = FeedbackForm() if request.method == "POST" else FeedbackForm(obj=existing)
    closed = membership.round.status == "closed"
    partners = [m.user for m in membership.group.memberships if m.user_id != membership.user_id]
    now = utcnow()
    if not closed and form.validate_on_submit() and _answer_in_time(form, membership, now):
        answer = service.Answer(
            status=form.status.data,
            reason=form.reason.data or None,
            rating=form.rating.data,
            would_meet_again=form.would_meet_again.data,
            private_note=form.private_note.data,
            kudos=form.kudos.data,
        )
        membership_id = membership.id

        def save() -> None:
            service.record(db.session, db.session.get(Membership, membership_id), answer, now)

        commit_retrying(save)
        if thanks:
            flash(thanks, "ok")
        return redirect(done_url)
    status = 422 if form.errors else 200
    return render_template(
        "feedback/form.html",
        form=form,
        membership=membership,
        partners=partners,
        closed=closed,
        existing=existing,
        too_early=service.too_early(membership, now),
    ), status


def _answer_in_time(form: FeedbackForm, membership: Membership, now: datetime) -> bool:
    """False, with the reason next to "Did you meet?", for an answer given too early."""
    try:
        service.check_answer(membership, form.status.data, now)
    except service.TooEarly as early:
        form.status.errors.append(str(early))
        return False
    return True
