"""Sign-up, log-in and log-out pages."""

from __future__ import annotations

from datetime import time
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from matcher.auth.forms import LoginForm, SignupForm
from matcher.auth.service import EmailTaken, authenticate, register_user
from matcher.extensions import db
from matcher.models import Team
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


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response:
    """The sign-up form: account and matching profile at once."""
    if current_user.is_authenticated:
        return redirect(url_for("profile.show"))
    form = SignupForm()
    if request.method == "GET":
        for day in form.availability.form.days()[:5]:
            day.start.data, day.end.data = DEFAULT_WINDOW
    if form.validate_on_submit():
        try:
            user = commit_retrying(
                lambda: register_user(
                    db.session,
                    form.display_name.data,
                    form.email.data,
                    form.password.data,
                    form.profile_data(),
                )
            )
        except EmailTaken as taken:
            form.email.errors.append(str(taken))
        else:
            session.clear()
            login_user(user)
            flash("Welcome to matcher! You will get your first pairing with the next round.", "ok")
            return redirect(url_for("profile.show"))
    teams = db.session.scalars(select(Team.name).order_by(Team.name)).all()
    return render_template("auth/signup.html", form=form, teams=teams), (
        422 if form.errors else 200
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Log in with email and password."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if current_user.is_authenticated:
        return redirect(safe_next(form.next.data) or url_for("profile.show"))
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
            return redirect(target or url_for("profile.show"))
    return render_template("auth/login.html", form=form), (422 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Log out (POST only, so a link on another site cannot do it)."""
    logout_user()
    session.clear()
    flash("You are logged out.", "ok")
    return redirect(url_for("auth.login"))
