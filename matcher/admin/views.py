"""Admin pages. Every route here answers 403 to anyone but an admin."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from matcher.admin.forms import PeopleSearchForm, UserActionForm
from matcher.extensions import db
from matcher.models import Profile, Team, User

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50


@bp.before_request
def require_admin() -> None:
    """403 for everybody who is not a logged-in admin."""
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(403)


@bp.route("/")
def index() -> str:
    """Programme overview: how many people take part."""
    live = User.deleted_at.is_(None)
    counts = {
        "people": db.session.scalar(select(func.count()).select_from(User).where(live)),
        "participating": db.session.scalar(
            select(func.count())
            .select_from(User)
            .join(Profile)
            .where(live, User.active, Profile.opted_out.is_(False))
        ),
        "teams": db.session.scalar(select(func.count()).select_from(Team)),
    }
    return render_template("admin/index.html", counts=counts)


@bp.route("/people")
def people() -> str:
    """Search people by name, email or team."""
    form = PeopleSearchForm(request.args)
    query = select(User).where(User.deleted_at.is_(None)).outerjoin(Team)
    if form.validate() and form.q.data:
        # Escape LIKE wildcards so a search for '%' matches a literal '%'.
        needle = form.q.data.strip().lower().replace("\\", "\\\\")
        needle = needle.replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{needle}%"
        query = query.where(
            or_(
                func.lower(User.display_name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
                Team.key.like(pattern, escape="\\"),
            )
        )
    users = db.session.scalars(query.order_by(User.display_name).limit(PAGE_SIZE)).all()
    return render_template("admin/people.html", form=form, users=users, action=UserActionForm())


@bp.route("/people/<int:user_id>/<action>", methods=["POST"])
def person_action(user_id: int, action: str) -> Response:
    """Make admin, revoke admin, deactivate or reactivate one person."""
    user = db.session.get(User, user_id)
    if user is None or user.is_deleted:
        abort(404)
    if not UserActionForm().validate_on_submit():
        abort(400)
    if user.id == current_user.id and action in {"revoke-admin", "deactivate"}:
        flash("You cannot remove your own admin rights or deactivate yourself.", "error")
        return redirect(url_for("admin.people"))
    changes = {
        "make-admin": ("is_admin", True, "is now an admin"),
        "revoke-admin": ("is_admin", False, "is no longer an admin"),
        "deactivate": ("active", False, "is deactivated"),
        "reactivate": ("active", True, "is active again"),
    }
    if action not in changes:
        abort(404)
    attribute, value, said = changes[action]
    setattr(user, attribute, value)
    db.session.commit()
    flash(f"{user.display_name} {said}.", "ok")
    return redirect(url_for("admin.people", q=request.args.get("q", "")))
