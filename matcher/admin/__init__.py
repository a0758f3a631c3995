"""Admin console (admins only): one module per page group, the blueprint and its guard here.

Pages: overview, people, vocabulary, rules, rounds (preview, drafts, publish), what-if,
insights (and exports), audit log. Queries and services live in modules named for what they
hold (directory, merging, drafts, summaries, simulation, metrics, exports, charts).
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_admin() -> None:
    """403 for everybody who is not a logged-in admin."""
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(403)


# The page modules add their routes to bp when imported (after bp exists).
from matcher.admin import (  # noqa: E402, F401
    audit,
    insights,
    overview,
    people,
    rounds,
    rules,
    vocabulary,
    whatif,
)
