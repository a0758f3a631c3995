"""The participant's dashboard: this week's pairing, upcoming and past ones, the next round."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

from matcher.dashboard import views  # noqa: E402, F401 - registers the routes on bp
