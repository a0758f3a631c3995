"""The rules page: every engine rule and weight, the cadence and feedback settings."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from matcher.admin import bp
from matcher.admin.audit_text import setting_changes
from matcher.admin.forms.rules import SettingsForm
from matcher.extensions import db
from matcher.models import Programme
from matcher.programmes.catalogue import default_programme
from matcher.programmes.settings import save_settings
from matcher.timezones import timezone_names
from matcher.transaction import commit_retrying


@bp.route("/rules", methods=["GET", "POST"])
def rules() -> tuple[str, int] | Response:
    """Show the rules; on POST validate them with the engine's checks and save them."""
    form = SettingsForm()
    programme_id = default_programme(db.session).id
    if request.method == "GET":
        form.fill(default_programme(db.session))
    elif form.validate_on_submit():
        values = form.settings_values()

        def save() -> dict | None:
            programme = db.session.get(Programme, programme_id)
            return save_settings(db.session, programme, values, current_user.id)

        before = commit_retrying(save)
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
