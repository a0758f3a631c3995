"""Sign-up, log-in, log-out and password-reset pages."""

from __future__ import annotations

from datetime import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from matcher.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignupForm,
    role_field_name,
    signup_form,
)
from matcher.auth.service import (
    ResetLinkInvalid,
    SignupRefused,
    WrongPassword,
    authenticate,
    request_password_reset,
    set_password,
    user_for_reset_token,
)
from matcher.auth.service import change_password as change_password_of
from matcher.auth.verification import (
    domains_message,
    email_domain_allowed,
    mark_verified,
    sign_up,
)
from matcher.extensions import db
from matcher.links import public_url
from matcher.models import Programme, Team
from matcher.models.people import new_session_token, normalise_email
from matcher.profile.service import suggestions
from matcher.programmes.catalogue import default_programme
from matcher.transaction import commit_retrying

bp = Blueprint("auth", __name__, url_prefix="/auth")

# A new sign-up starts with Monday to Friday, 10:00-16:00 filled in: easy to adjust.
DEFAULT_WINDOW = (time(10, 0), time(16, 0))


def safe_next(target: str | None) -> str | None:
    """target when it is a path on this site, else None (no open redirects)."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def signup_programmes() -> tuple[list[Programme], Programme]:
    """The programmes a new person may join (not archived; those for some teams or offices
    too, checked against what they type when they submit) and the cross-team coffee."""
    coffee = default_programme(db.session)
    db.session.commit()  # made on demand in an empty database: its id must last
    offered = db.session.scalars(
        select(Programme).where(Programme.archived.is_(False)).order_by(Programme.id)
    ).all()
    return list(offered), coffee


def show_refusal(form: SignupForm, refused: SignupRefused) -> None:
    """Put a programme's refusal next to the field it is about."""
    name = refused.field
    if name == "role" and refused.programme_id is not None:
        name = f"role_{refused.programme_id}"
    field = form._fields.get(name) or form.programmes
    field.errors = [*field.errors, str(refused)]


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response:
    """The sign-up form: account, matching profile and the programmes to join at once."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    offered, coffee = signup_programmes()
    form = signup_form(offered)
    if request.method == "GET":
        for day in form.availability.form.days()[:5]:
            day.start.data, day.end.data = DEFAULT_WINDOW
        form.programmes.data = [] if coffee.archived else [coffee.id]
    if form.validate_on_submit():
        if not email_domain_allowed(current_app.config, form.email.data):
            form.email.errors.append(domains_message(current_app.config))
        else:
            try:
                # A new address gets an unverified account; one that has an account gets an
                # email instead. The visitor sees the same page either way (no oracle).
                commit_retrying(
                    lambda: sign_up(
                        db.session,
                        form.display_name.data,
                        form.email.data,
                        form.password.data,
                        form.profile_data(),
                        programmes=form.chosen(None if coffee.archived else coffee.id),
                    )
                )
            except SignupRefused as refused:
                # One transaction: the account, profile and every programme, or nothing.
                db.session.rollback()
                show_refusal(form, refused)
            else:
                # Not logged in: for a taken address that would be the only difference.
                session.clear()
                session["signup_email"] = normalise_email(form.email.data)
                return redirect(url_for("auth.check_email"))
    teams = db.session.scalars(select(Team.name).order_by(Team.name)).all()
    suggest = suggestions(db.session)
    roles = {p.id: form[role_field_name(p)] for p in offered if p.roles}
    return render_template(
        "auth/signup.html",
        form=form,
        teams=teams,
        suggest=suggest,
        offered={p.id: p for p in offered},
        roles=roles,
    ), (422 if form.errors else 200)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Log in with email and password."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if current_user.is_authenticated:
        return redirect(safe_next(form.next.data) or url_for("dashboard.index"))
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data, form.password.data)
        if user is None:
            # Same message whether the email exists or not.
            form.password.errors.append("Wrong email or password.")
        else:
            target = safe_next(form.next.data)
            # A fresh session at log-in: nothing from before carries over.
            session.clear()
            login_user(user, remember=form.remember.data)
            return redirect(target or url_for("dashboard.index"))
    return render_template("auth/login.html", form=form), (422 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Log out (POST only, so a link on another site cannot do it)."""
    # Rotating the token makes every copy of this session cookie (and remember-me) worthless.
    current_user.session_token = new_session_token()
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "ok")
    return redirect(url_for("auth.login"))


def reset_link(token: str) -> str:
    """The absolute reset URL, built on BASE_URL and never on the request's Host header."""
    path = url_for("auth.reset_password", token=token)
    return public_url(current_app.config, path)


@bp.route("/reset", methods=["GET", "POST"])
def reset_request() -> str | Response | tuple[str, int]:
    """Ask for a reset link; the answer never tells whether the email has an account."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        commit_retrying(lambda: request_password_reset(db.session, form.email.data, reset_link))
        minutes = max(1, int(current_app.config["PASSWORD_RESET_MAX_AGE"]) // 60)
        return render_template("auth/reset_sent.html", minutes=minutes)
    return render_template("auth/reset_request.html", form=form), (422 if form.errors else 200)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response:
    """Choose a new password through a link from a reset email (works once)."""
    try:
        user = user_for_reset_token(db.session, token)
    except ResetLinkInvalid as invalid:
        response = make_response(
            render_template("auth/reset_invalid.html", message=str(invalid)), invalid.status
        )
    else:
        form = ResetPasswordForm()
        if form.validate_on_submit():
            # Rotates the session token: this link and every other session stop working.
            set_password(user, form.password.data)
            # The link reached the address: it is theirs (an unconfirmed account someone else
            # made with it becomes theirs, with only their password).
            mark_verified(user)
            db.session.commit()
            session.clear()
            login_user(user)
            flash("Your password is changed and you are logged in.", "ok")
            return redirect(url_for("profile.show"))
        response = make_response(
            render_template("auth/reset_password.html", form=form), 422 if form.errors else 200
        )
    # The token is in the URL: never leak it to other sites through the Referer header.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response:
    """Change the password (the current one is asked first); other sessions end, this one stays."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password_of(user, form.current_password.data, form.password.data)
        except WrongPassword as wrong:
            form.current_password.errors.append(str(wrong))
        else:
            db.session.commit()
            # The session token rotated: log this browser in again under the new one, keeping
            # "remember me" if it was on (the old cookie names the old token).
            cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            remember = cookie in request.cookies
            session.clear()
            login_user(user, remember=remember)
            flash("Password changed. Your other sessions are logged out.", "ok")
            return redirect(url_for("profile.show"))
    return render_template("auth/password.html", form=form), (422 if form.errors else 200)
