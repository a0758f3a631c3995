"""The admin blueprint and its guard; the view modules add their routes to it."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_admin() -> None:
    """403 for everybody who is not a logged-in admin."""
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(403)
