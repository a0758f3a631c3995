"""The rules page: every engine rule and weight, the cadence and feedback settings."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from matcher.admin import bp
from matcher.admin.audit_text import setting_changes
from matcher.admin.forms.rules import SettingsForm
from matcher.extensions import db
from matcher.rounds import programme
from matcher.rounds.programme import save_settings
from matcher.timezones import timezone_names
from matcher.transaction import commit_retrying


@bp.route("/rules", methods=["GET", "POST"])
def rules() -> tuple[str, int] | Response:
    """Show the rules; on POST validate them with the engine's checks and save them."""
    form = SettingsForm()
    if request.method == "GET":
        form.fill(programme.programme_settings(db.session))
    elif form.validate_on_submit():
        values = form.settings_values()
        before = commit_retrying(lambda: save_settings(db.session, values, current_user.id))
        if before is not None:
            changed = "; ".join(setting_changes(before, values))
            flash(f"Rules saved ({changed}). The next round uses them.", "ok")
        else:
            flash("Nothing changed.", "info")
        return redirect(url_for("admin.rules"))
    else:
        flash("Some values need fixing; see the messages next to them.", "error")
    page = render_template("admin/rules.html", form=form, zones=("UTC", *timezone_names()))
    return page, (422 if form.errors else 200)
