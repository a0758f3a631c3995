"""The landing page and what every template needs."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from matcher.video_links import safe_video_link
from matcher.weeks import PEOPLE_DATE_FILTERS

bp = Blueprint("web", __name__)


@bp.route("/")
def index() -> str | Response:
    """Logged-in people go to their profile; everyone else sees what matcher is."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return render_template("index.html")


@bp.route("/favicon.ico")
def favicon() -> Response:
    """The icon for clients that ask /favicon.ico rather than reading the page's link."""
    # The same SVG as the pages link to: browsers go by the content type, not the name.
    return send_from_directory(
        current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400
    )


@bp.route("/healthz")
def healthz() -> dict[str, str]:
    """Liveness probe for load balancers."""
    return {"status": "ok"}


def init_app(app: Flask) -> None:
    """Register the landing page and template globals."""
    app.register_blueprint(bp)
    for name, function in PEOPLE_DATE_FILTERS.items():
        app.add_template_filter(function, name)
    app.add_template_filter(safe_video_link)

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        return {"org_name": current_app.config["ORG_NAME"]}
