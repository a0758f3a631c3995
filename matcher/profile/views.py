"""Profile pages: view and edit, snooze, leave and rejoin, do-not-pair list, export, delete."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import check_password_hash

from matcher.extensions import db
from matcher.models import Programme, Team, User, normalise_name
from matcher.profile import service
from matcher.profile.forms import (
    ConfirmForm,
    DeleteAccountForm,
    DoNotPairForm,
    ProfileForm,
    RemoveDoNotPairForm,
    SnoozeForm,
)
from matcher.programmes.catalogue import by_slug, default_programme
from matcher.programmes.members import JoinError, membership
from matcher.rounds.cadence import next_round_for
from matcher.rounds.erasure import erase_next_snapshot
from matcher.timezones import zone_of
from matcher.transaction import commit_retrying, commit_steps
from matcher.weeks import long_day

# Seconds a deletion request spends erasing the account from stored round problems.
ERASE_IN_REQUEST_SECONDS = 2.0

bp = Blueprint("profile", __name__, url_prefix="/me")


@bp.before_request
@login_required
def require_login() -> None:
    """Every profile page is about the logged-in user."""


@bp.route("/")
def show() -> str:
    """The profile at a glance, with its status and the actions on it."""
    programme = default_programme(db.session)
    return render_template(
        "profile/show.html",
        user=current_user,
        profile=current_user.profile,
        programme=programme,
        member=membership(db.session, programme, current_user.id),
        snooze_form=SnoozeForm(),
        confirm_form=ConfirmForm(),
        today=date.today(),
        do_not_pair_count=len(service.do_not_pair_entries(db.session, current_user)),
    )


@bp.route("/edit", methods=["GET", "POST"])
def edit() -> str | Response:
    """Edit name and matching profile."""
    form = ProfileForm()
    if request.method == "GET":
        _prefill(form)
    if form.validate_on_submit():
        user_id = current_user.id

        def save() -> None:
            user = db.session.get(User, user_id)
            user.display_name = normalise_name(form.display_name.data)
            service.update_profile(db.session, user, form.profile_data())

        commit_retrying(save)
        flash("Profile saved.", "ok")
        return redirect(url_for("profile.show"))
    teams = db.session.scalars(select(Team.name).order_by(Team.name)).all()
    suggest = service.suggestions(db.session, current_user.id)
    return render_template("profile/edit.html", form=form, teams=teams, suggest=suggest), (
        422 if form.errors else 200
    )


def _prefill(form: ProfileForm) -> None:
    data = service.profile_data_of(db.session, current_user)
    form.display_name.data = current_user.display_name
    form.team.data = data.team
    form.projects.data = list(data.projects)
    form.interests.data = list(data.interests)
    form.location.data = data.location
    form.timezone.data = data.timezone
    form.cadence_weeks.data = data.cadence_weeks
    form.meeting_mode.data = data.meeting_mode
    form.video_link.data = data.video_link
    # The form shows one window a day: the earliest start to the latest end.
    for slot in data.availability:
        day = form.availability.form.days()[slot.weekday]
        start, end = _clock(slot.start_minute), _clock(slot.end_minute)
        if day.start.data is None or start < day.start.data:
            day.start.data = start
        if day.end.data is None or end > day.end.data:
            day.end.data = end


def _clock(minute: int) -> time:
    # 24:00 is not a time of day: show the last minute instead.
    minute = min(minute, 24 * 60 - 1)
    return time(minute // 60, minute % 60)


def _programme() -> Programme:
    """The programme a snooze, leave or rejoin button is about (its slug in the form), else
    the cross-team coffee."""
    slug = request.form.get("programme", "")
    return (slug and by_slug(db.session, slug)) or default_programme(db.session)


@bp.route("/snooze", methods=["POST"])
def snooze() -> Response:
    """Pause pairings until a date."""
    form = SnoozeForm()
    if form.validate_on_submit():
        service.snooze(db.session, current_user, _programme(), form.until.data)
        db.session.commit()
        flash(f"Snoozed: no pairings until {long_day(form.until.data, year=True)}.", "ok")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(f"Snooze not changed: {error}", "error")
    return redirect(url_for("profile.show"))


@bp.route("/unsnooze", methods=["POST"])
def unsnooze() -> Response:
    """End a snooze now."""
    if ConfirmForm().validate_on_submit():
        service.snooze(db.session, current_user, _programme(), None)
        db.session.commit()
        flash(welcome_back(), "ok")
    return redirect(url_for("profile.show"))


@bp.route("/leave", methods=["POST"])
def leave() -> Response:
    """Stop taking part; the profile stays so rejoining is one click."""
    if ConfirmForm().validate_on_submit():
        programme = _programme()
        service.set_opted_out(db.session, current_user, programme, True)
        db.session.commit()
        flash(f"You have left {programme.name}. Rejoin any time.", "ok")
    return redirect(url_for("profile.show"))


@bp.route("/rejoin", methods=["POST"])
def rejoin() -> Response:
    """Take part again."""
    if ConfirmForm().validate_on_submit():
        try:
            service.set_opted_out(db.session, current_user, _programme(), False)
        except JoinError as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return redirect(url_for("profile.show"))
        db.session.commit()
        flash(welcome_back(), "ok")
    return redirect(url_for("profile.show"))


@bp.route("/do-not-pair", methods=["GET", "POST"])
def do_not_pair() -> str | Response:
    """The private list of people never to be paired with, by email address."""
    form = DoNotPairForm()
    if form.validate_on_submit():
        typed = form.email.data
        try:
            service.add_do_not_pair(db.session, current_user, typed)
        except service.DoNotPairError as refused:
            form.email.errors.append(str(refused))
        else:
            db.session.commit()
            # The same words whether or not the address has an account: no oracle.
            flash(f"We\u2019ll never pair you with {typed}.", "ok")
            return redirect(url_for("profile.do_not_pair"))
    return render_template(
        "profile/do_not_pair.html",
        form=form,
        entries=service.do_not_pair_entries(db.session, current_user),
        remove_form=RemoveDoNotPairForm(),
    ), (422 if form.errors else 200)


@bp.route("/do-not-pair/remove", methods=["POST"])
def remove_do_not_pair() -> Response:
    """Take an address off the private list."""
    form = RemoveDoNotPairForm()
    if form.validate_on_submit() and service.remove_do_not_pair(
        db.session, current_user, form.email.data
    ):
        db.session.commit()
        flash(f"Removed {form.email.data} from your list.", "ok")
    return redirect(url_for("profile.do_not_pair"))


@bp.route("/export")
def export() -> Response:
    """Download everything matcher stores about the user, as JSON."""
    body = json.dumps(
        service.export_user_data(db.session, current_user), indent=2, ensure_ascii=False
    )
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="matcher-my-data.json"'},
    )


def welcome_back() -> str:
    """What to say when someone ends a snooze or rejoins: the round they are in next."""
    start = next_round_for(db.session, current_user, datetime.now(UTC)).start
    when = start.astimezone(zone_of(current_user))
    return f"Welcome back: you are in the next round, {long_day(when)}."


def erase_snapshots_now() -> None:
    """Erase queued accounts from stored rounds for a moment; the scheduler does the rest."""
    try:
        commit_steps(db.session, erase_next_snapshot, ERASE_IN_REQUEST_SECONDS)
    except SQLAlchemyError:
        # The deletion is committed and the queue keeps the work: never fail the page here.
        db.session.rollback()
        current_app.logger.warning("Erasing round snapshots deferred", exc_info=True)


@bp.route("/delete", methods=["GET", "POST"])
def delete() -> str | Response:
    """Erase the account after the password is confirmed."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if check_password_hash(current_user.password_hash, form.password.data):
            service.delete_account(db.session, current_user)
            db.session.commit()
            logout_user()
            session.clear()
            erase_snapshots_now()
            flash("Your account and personal data are deleted. Thank you for taking part.", "ok")
            return redirect(url_for("web.index"))
        form.password.errors.append("That is not your password.")
    return render_template("profile/delete.html", form=form), (422 if form.errors else 200)
