"""The rules page of a programme: every engine rule and weight, the schedule and feedback."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from matcher.admin import bp
from matcher.admin.audit_text import setting_changes
from matcher.admin.forms.rules import SettingsForm
from matcher.admin.scope import programme_for
from matcher.extensions import db
from matcher.models import Programme
from matcher.programmes.settings import save_settings
from matcher.timezones import timezone_names
from matcher.transaction import commit_retrying


@bp.route("/rules", methods=["GET", "POST"])
@bp.route("/p/<slug>/rules", methods=["GET", "POST"])
def rules(slug: str | None = None) -> tuple[str, int] | Response:
    """Show a programme's rules; on POST validate them with the engine's checks and save."""
    programme = programme_for(slug)
    form = SettingsForm()
    if request.method == "GET":
        form.fill(programme)
    form.fit_to(programme)
    programme_id = programme.id
    if request.method == "POST" and form.validate_on_submit():
        values = form.settings_values()

        def save() -> dict | None:
            return save_settings(
                db.session, db.session.get(Programme, programme_id), values, current_user.id
            )

        before = commit_retrying(save)
        if before is not None:
            changed = "; ".join(setting_changes(before, values))
            flash(f"Rules saved ({changed}). The next round uses them.", "ok")
        else:
            flash("Nothing changed.", "info")
        return redirect(url_for("admin.rules", slug=slug))
    if request.method == "POST":
        flash("Some values need fixing; see the messages next to them.", "error")
    page = render_template("admin/rules.html", form=form, zones=("UTC", *timezone_names()))
    return page, (422 if form.errors else 200)
