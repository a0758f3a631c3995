"""Admin console (admins only): one module per page group, the blueprint and its guard here.

Pages: programmes; per programme (at /admin/p/<slug>/..., old addresses acting on the
default programme) overview, people, rules, rounds (preview, drafts, publish), what-if,
insights (and exports); vocabulary and the audit log. Queries and services live in modules
named for what they hold (directory, merging, drafts, summaries, simulation, metrics,
exports, charts).
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from matcher.admin.scope import template_values

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_admin() -> None:
    """403 for everybody who is not a logged-in admin."""
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(403)


@bp.context_processor
def programme_context() -> dict:
    """The page's programme and the programme tabs, for the admin templates."""
    return template_values()


# The page modules add their routes to bp when imported (after bp exists).
from matcher.admin import (  # noqa: E402, F401
    audit,
    insights,
    overview,
    people,
    programmes,
    roster,
    rounds,
    rules,
    vocabulary,
    whatif,
)
