"""Complete your profile: the matching profile and the programmes to join, for an account that
was opened without them (a first single sign-on, an accepted invitation)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import RadioField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from matcher.auth.forms import NewPasswordHint, SignupForm, role_field_name
from matcher.auth.service import SignupRefused
from matcher.auth.views import DEFAULT_WINDOW, bp, safe_next, show_refusal, signup_programmes
from matcher.extensions import db
from matcher.models import Programme, Team, User
from matcher.models.people import utcnow
from matcher.profile.service import (
    JOIN_ROLE_LABELS,
    ProfileData,
    profile_data_of,
    suggestions,
    update_profile,
)
from matcher.programmes.members import Choice, JoinError, join
from matcher.timezones import is_timezone
from matcher.transaction import commit_retrying

# What the identity provider said that the form may start from ({"team": ..., "timezone":
# ...}), kept in the session between the sign-in and the form; and where to go afterwards.
PREFILL_KEY = "profile_prefill"
NEXT_KEY = "complete_next"


def profile_incomplete(user: User) -> bool:
    """True while the person has no team or no free time: nobody can be paired with them."""
    return user.team_id is None or not user.availability


class CompleteProfileForm(SignupForm):
    """Sign-up without the account part: the profile and the programmes to join (make it with
    complete_form, which adds the programmes on offer and their role choices)."""

    display_name = None
    email = None
    password = None
    confirm = None
    submit = SubmitField("Save and join")

    def __init__(self, *args, **kwargs):
        # Past SignupForm and its password hint: this form has no password.
        super(NewPasswordHint, self).__init__(*args, **kwargs)
        self.cadence_weeks.description = (
            "For the weekly programmes you join; you can change it per programme later."
        )


def complete_form(offered: Sequence[Programme]) -> CompleteProfileForm:
    """A CompleteProfileForm offering these programmes, with a role choice for each with roles."""
    roles = {
        role_field_name(programme): RadioField(
            f"How you take part in {programme.name}",
            choices=[SelectChoice(role, JOIN_ROLE_LABELS[role]) for role in programme.roles],
            validators=[Optional()],
        )
        for programme in offered
        if programme.roles
    }
    form_class = (
        type("CompleteProfileFormWithRoles", (CompleteProfileForm,), roles)
        if roles
        else CompleteProfileForm
    )
    form = form_class()
    form.offered = list(offered)
    form.programmes.choices = [SelectChoice(programme.id, programme.name) for programme in offered]
    return form


def complete_account(
    db_session: Session, user: User, profile: ProfileData, programmes: Sequence[Choice]
) -> None:
    """Give user their profile and join the programmes chosen (not committed); raises
    SignupRefused (a JoinError naming the programme) as sign-up does."""
    update_profile(db_session, user, profile)
    db_session.flush()
    today = utcnow().date()
    for choice in programmes:
        programme = db_session.get(Programme, choice.programme_id)
        if programme is None:
            raise SignupRefused("That programme does not exist any more.", "programmes", None)
        try:
            join(db_session, programme, user, choice, today)
        except JoinError as refused:
            raise SignupRefused(str(refused), refused.field, programme.id) from refused


def _prefill(form: CompleteProfileForm, user: User, coffee: Programme) -> None:
    """What the account has already (a roster may have set the team or office), else what the
    identity provider said, else sign-up's defaults."""
    data = profile_data_of(db.session, user)
    hints = session.get(PREFILL_KEY) or {}
    team = hints.get("team") if isinstance(hints.get("team"), str) else None
    zone = hints.get("timezone") if isinstance(hints.get("timezone"), str) else None
    form.team.data = data.team or team or ""
    form.projects.data = list(data.projects)
    form.interests.data = list(data.interests)
    form.can_help.data = list(data.can_help)
    form.wants_help.data = list(data.wants_help)
    form.location.data = data.location
    form.timezone.data = (
        zone if data.timezone == "UTC" and zone and is_timezone(zone) else (data.timezone)
    )
    form.meeting_mode.data = data.meeting_mode
    form.video_link.data = data.video_link
    days = form.availability.form.days()
    if data.availability:
        for slot in data.availability:
            day = days[slot.weekday]
            day.start.data = time(slot.start_minute // 60, slot.start_minute % 60)
            end = min(slot.end_minute, 24 * 60 - 1)
            day.end.data = time(end // 60, end % 60)
    else:
        for day in days[:5]:
            day.start.data, day.end.data = DEFAULT_WINDOW
    form.programmes.data = [] if coffee.archived else [coffee.id]


@bp.route("/complete", methods=["GET", "POST"])
@login_required
def complete_profile() -> str | Response | tuple[str, int]:
    """The short form after a first single sign-on (or an accepted invitation): team, work,
    office, time zone, free time and the programmes to join."""
    user_id = current_user.id
    if not profile_incomplete(current_user):
        target = safe_next(session.pop(NEXT_KEY, None))
        return redirect(target or url_for("dashboard.index"))
    offered, coffee = signup_programmes()
    form = complete_form(offered)
    if request.method == "GET":
        _prefill(form, current_user, coffee)
    if form.validate_on_submit():
        try:
            commit_retrying(
                lambda: complete_account(
                    db.session,
                    db.session.get(User, user_id),
                    form.profile_data(),
                    form.chosen(None if coffee.archived else coffee.id) or [],
                )
            )
        except SignupRefused as refused:
            db.session.rollback()
            show_refusal(form, refused)
        else:
            session.pop(PREFILL_KEY, None)
            target = safe_next(session.pop(NEXT_KEY, None))
            flash("Profile saved: you will get your first pairing with the next round.", "ok")
            return redirect(target or url_for("dashboard.index"))
    teams = db.session.scalars(select(Team.name).order_by(Team.name)).all()
    roles = {p.id: form[role_field_name(p)] for p in offered if p.roles}
    return render_template(
        "auth/complete.html",
        form=form,
        teams=teams,
        suggest=suggestions(db.session, user_id),
        offered={p.id: p for p in offered},
        roles=roles,
    ), (422 if form.errors else 200)
