"""Pages behind the emailed links: "check your email", confirming an address, asking for a
fresh link, and accepting an invitation."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from matcher.auth.complete import profile_incomplete
from matcher.auth.service import set_password
from matcher.auth.verification import (
    TokenInvalid,
    mark_verified,
    password_login,
    queue_invitation_email,
    queue_verification,
    sso_name,
    user_for_invitation_token,
    user_for_resend,
    user_for_verify_token,
)
from matcher.auth.verify_forms import AcceptInvitationForm, ResendForm
from matcher.auth.views import bp
from matcher.extensions import db
from matcher.models import User
from matcher.transaction import commit_retrying


def _days(setting: str) -> int:
    return max(1, int(current_app.config[setting]) // 86400)


def _no_referrer(response: Response) -> Response:
    # The token is in the URL: never leak it to other sites through the Referer header.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/signup/check-email")
def check_email() -> str:
    """After sign-up, for a new address and a taken one alike: look in your inbox."""
    return render_template(
        "auth/check_email.html",
        email=session.get("signup_email"),
        days=_days("EMAIL_VERIFY_MAX_AGE"),
        resent=False,
    )


@bp.route("/verify/<token>")
def verify_email(token: str) -> Response:
    """Confirm an address through the emailed link; clicking again says it is confirmed."""
    try:
        user = user_for_verify_token(db.session, token)
    except TokenInvalid as invalid:
        form = ResendForm(token=token) if invalid.user is not None else None
        page = render_template(
            "auth/verify_invalid.html", message=str(invalid), form=form, status=invalid.status
        )
        return _no_referrer(make_response(page, invalid.status))
    if user.is_verified:
        page = render_template("auth/verify_done.html", user=user)
        return _no_referrer(make_response(page, 200))
    mark_verified(user)
    db.session.commit()
    if current_user.is_authenticated and current_user.id != user.id:
        # Someone else's link opened in this browser: confirmed, but nobody switches accounts.
        return _no_referrer(make_response(render_template("auth/verify_done.html", user=user)))
    if not current_user.is_authenticated:
        # The first use of the link proves the address, as a reset link does: log in.
        session.clear()
        login_user(user)
    flash("Your address is confirmed: you are in the next round of your programmes.", "ok")
    return _no_referrer(redirect(url_for("dashboard.index")))


@bp.route("/verify/resend", methods=["POST"])
def verify_resend() -> str | Response:
    """A fresh confirmation link: for the logged-in person, or for the account an expired link
    names (it goes to that account's own address, whoever asks)."""
    form = ResendForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.login"))
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        if user.is_verified:
            flash("Your address is confirmed already.", "ok")
        elif commit_retrying(lambda: queue_verification(db.session, user)):
            flash(
                f"We sent a new link to {user.email}. "
                f"It works for {_days('EMAIL_VERIFY_MAX_AGE')} days.",
                "ok",
            )
        else:
            flash(
                "We sent you several links in the last hour: look in your inbox and spam "
                "folder, or try again later.",
                "error",
            )
        return redirect(url_for("dashboard.index"))
    if not form.token.data:
        flash("Log in to ask for a new link.", "info")
        return redirect(url_for("auth.login"))
    found = user_for_resend(db.session, form.token.data)
    if found is not None:
        commit_retrying(lambda: queue_verification(db.session, found))
    # The same page whether or not a link went out: the token holder learns nothing new.
    return render_template(
        "auth/check_email.html", email=None, days=_days("EMAIL_VERIFY_MAX_AGE"), resent=True
    )


def after_acceptance(user: User) -> str:
    """Where an accepted invitation leads: completing the profile if it lacks what matching
    needs, else the dashboard."""
    if profile_incomplete(user):
        return url_for("auth.complete_profile")
    return url_for("dashboard.index")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Response:
    """Accept an invitation: choose a password, or sign in with single sign-on."""
    try:
        user = user_for_invitation_token(db.session, token)
    except TokenInvalid as invalid:
        form = ResendForm(token=token) if invalid.user is not None else None
        page = render_template("auth/invitation_invalid.html", message=str(invalid), form=form)
        return _no_referrer(make_response(page, invalid.status))
    if user.is_verified:
        page = render_template(
            "auth/invitation_accepted.html", user=user, sso=sso_name(current_app.config)
        )
        return _no_referrer(make_response(page, 200))
    passwords = password_login(current_app.config)
    if request.method == "POST" and not passwords:
        abort(403, "Passwords are turned off here: accept with single sign-on.")
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        # Rotates the session token: this link stops working; the address is proved.
        set_password(user, form.password.data)
        mark_verified(user)
        db.session.commit()
        session.clear()
        login_user(user)
        flash("Welcome to matcher! Your invitation is accepted.", "ok")
        return _no_referrer(redirect(after_acceptance(user)))
    page = render_template(
        "auth/invitation.html",
        form=form,
        user=user,
        sso=sso_name(current_app.config),
        passwords=passwords,
        days=_days("INVITATION_MAX_AGE"),
    )
    return _no_referrer(make_response(page, 422 if form.errors else 200))


@bp.route("/invitation/resend", methods=["POST"])
def invitation_resend() -> str | Response:
    """A fresh invitation for the account an expired invitation names, to its own address."""
    form = ResendForm()
    if not form.validate_on_submit() or not form.token.data:
        return redirect(url_for("auth.login"))
    found = user_for_resend(db.session, form.token.data, invitation=True)
    if found is not None:
        commit_retrying(lambda: queue_invitation_email(db.session, found, None))
    return render_template("auth/invitation_sent.html", days=_days("INVITATION_MAX_AGE"))
