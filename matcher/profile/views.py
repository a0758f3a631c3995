"""Profile pages: view and edit, snooze, leave and rejoin, do-not-pair list, export, delete."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from flask import (
    Blueprint,
    Response,
    abort,
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
from matcher.models import ROLE_LABELS, Programme, Team, User, normalise_name
from matcher.models.people import normalise_email
from matcher.pagecache import cached_page
from matcher.profile import service
from matcher.profile.forms import (
    CADENCE_CHOICES,
    CadenceForm,
    ConfirmForm,
    DeleteAccountForm,
    DeleteByEmailForm,
    DoNotPairForm,
    JoinForm,
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


@dataclass(frozen=True)
class JoinRefusal:
    """Why joining a programme from its card failed: shown next to the field it is about."""

    slug: str
    field: str
    message: str


def render_show(refusal: JoinRefusal | None = None) -> tuple[str, int]:
    """The profile page; with a refusal, it is shown on its programme's card (422)."""
    today = date.today()
    return render_template(
        "profile/show.html",
        user=current_user,
        profile=current_user.profile,
        cards=service.programme_cards(db.session, current_user, today),
        lists=service.profile_lists(db.session, current_user.id),
        role_labels=ROLE_LABELS,
        cadences={choice.value: choice.label for choice in CADENCE_CHOICES},
        snooze_form=SnoozeForm(),
        confirm_form=ConfirmForm(),
        join_form=JoinForm(),
        refusal=refusal,
        today=today,
        do_not_pair_count=service.do_not_pair_count(db.session, current_user),
    ), (422 if refusal else 200)


@bp.route("/")
@cached_page
def show() -> tuple[str, int]:
    """The profile at a glance, with one card per programme: where one stands and actions."""
    return render_show()


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
    form.can_help.data = list(data.can_help)
    form.wants_help.data = list(data.wants_help)
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
    the cross-team coffee; 404 for a slug that names none."""
    slug = request.form.get("programme", "")
    if not slug:
        return default_programme(db.session)
    return by_slug(db.session, slug) or abort(404)


def _programme_of(slug: str) -> Programme:
    """The programme a URL names, or 404."""
    return by_slug(db.session, slug) or abort(404)


def _back(programme: Programme) -> str:
    """The profile page at the programme's card."""
    return url_for("profile.show", _anchor=f"programme-{programme.slug}")


@bp.route("/snooze", methods=["POST"])
def snooze() -> Response:
    """Pause pairings in a programme until a date."""
    form = SnoozeForm()
    programme = _programme()
    if form.validate_on_submit():
        if service.snooze(db.session, current_user, programme, form.until.data):
            db.session.commit()
            flash(f"Snoozed: no pairings until {long_day(form.until.data, year=True)}.", "ok")
        else:
            flash(f"Snooze not changed: you are not in {programme.name}.", "error")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(f"Snooze not changed: {error}", "error")
    return redirect(_back(programme))


@bp.route("/unsnooze", methods=["POST"])
def unsnooze() -> Response:
    """End a snooze now."""
    programme = _programme()
    if ConfirmForm().validate_on_submit() and service.snooze(
        db.session, current_user, programme, None
    ):
        db.session.commit()
        flash(welcome_back(programme), "ok")
    return redirect(_back(programme))


@bp.route("/leave", methods=["POST"])
def leave() -> Response:
    """Stop taking part in a programme; the profile stays so rejoining is one click."""
    programme = _programme()
    if ConfirmForm().validate_on_submit():
        service.set_opted_out(db.session, current_user, programme, True)
        db.session.commit()
        flash(f"You have left {programme.name}. Rejoin any time.", "ok")
    return redirect(_back(programme))


@bp.route("/rejoin", methods=["POST"])
def rejoin() -> Response:
    """Take part again, with the role and cadence one had."""
    programme = _programme()
    if ConfirmForm().validate_on_submit():
        try:
            service.set_opted_out(db.session, current_user, programme, False)
        except JoinError as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return redirect(_back(programme))
        db.session.commit()
        flash(welcome_back(programme), "ok")
    return redirect(_back(programme))


@bp.route("/programmes/<slug>/join", methods=["POST"])
def join(slug: str) -> Response | tuple[str, int]:
    """Join a programme from its card, with a role where it has roles."""
    programme = _programme_of(slug)
    form = JoinForm()
    if not form.validate_on_submit():
        field, errors = next(iter(form.errors.items()), ("programmes", ["Try again."]))
        message = " ".join(str(error) for error in errors)
        return render_show(JoinRefusal(programme.slug, field, message))
    try:
        service.join_programme(
            db.session, current_user, programme, form.role.data or None, form.cadence_weeks.data
        )
    except JoinError as refused:
        db.session.rollback()
        return render_show(JoinRefusal(programme.slug, refused.field, str(refused)))
    db.session.commit()
    member = membership(db.session, programme, current_user.id)
    start = next_round_for(db.session, member, programme, datetime.now(UTC)).start
    when = long_day(start.astimezone(zone_of(current_user)))
    flash(f"You joined {programme.name}: you are in its next round, {when}.", "ok")
    return redirect(_back(programme))


@bp.route("/programmes/<slug>/cadence", methods=["POST"])
def cadence(slug: str) -> Response:
    """How often to meet in one programme."""
    programme = _programme_of(slug)
    form = CadenceForm()
    if form.validate_on_submit():
        try:
            service.set_cadence(db.session, current_user, programme, form.cadence_weeks.data)
        except JoinError as refused:
            db.session.rollback()
            flash(f"How often not changed: {refused}", "error")
        else:
            db.session.commit()
            label = {choice.value: choice.label for choice in CADENCE_CHOICES}[
                form.cadence_weeks.data
            ]
            flash(f"{programme.name}: {label.lower()} from now on.", "ok")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(f"How often not changed: {error}", "error")
    return redirect(_back(programme))


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


def welcome_back(programme: Programme) -> str:
    """What to say when someone ends a snooze or rejoins: the round of the programme they
    are in next."""
    member = membership(db.session, programme, current_user.id)
    if member is None:
        return "Welcome back."
    start = next_round_for(db.session, member, programme, datetime.now(UTC)).start
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
    """Erase the account after the password is confirmed (or, for an account that signs in
    without one, its email address typed)."""
    stored = current_user.password_hash
    by_email = stored is None or not current_app.config.get("PASSWORD_LOGIN", True)
    form = DeleteByEmailForm() if by_email else DeleteAccountForm()
    if form.validate_on_submit():
        if by_email:
            confirmed = normalise_email(form.email.data) == current_user.email
        else:
            confirmed = check_password_hash(stored, form.password.data)
        if confirmed:
            service.delete_account(db.session, current_user)
            db.session.commit()
            logout_user()
            session.clear()
            erase_snapshots_now()
            flash("Your account and personal data are deleted. Thank you for taking part.", "ok")
            return redirect(url_for("web.index"))
        if by_email:
            form.email.errors.append("That is not the address of this account.")
        else:
            form.password.errors.append("That is not your password.")
    return render_template("profile/delete.html", form=form, by_email=by_email), (
        422 if form.errors else 200
    )
