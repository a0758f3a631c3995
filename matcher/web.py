"""The landing page and what every template needs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from matcher.rounds.weeks import week_of
from matcher.video_links import safe_video_link

bp = Blueprint("web", __name__)


@bp.route("/")
def index() -> str | Response:
    """Logged-in people go to their profile; everyone else sees what matcher is."""
    if current_user.is_authenticated:
        return redirect(url_for("rounds.index"))
    return render_template("index.html")


@bp.route("/healthz")
def healthz() -> dict[str, str]:
    """Liveness probe for load balancers."""
    return {"status": "ok"}


def init_app(app: Flask) -> None:
    """Register the landing page and template globals."""
    app.register_blueprint(bp)
    app.add_template_filter(week_of)
    app.add_template_filter(safe_video_link)

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        return {"org_name": current_app.config["ORG_NAME"]}
