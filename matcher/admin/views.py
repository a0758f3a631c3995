"""Admin pages. Every route here answers 403 to anyone but an admin (see blueprint.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

# The other view modules add their routes to the same blueprint when imported.
from matcher.admin import (  # noqa: F401
    views_insights,
    views_rounds,
    views_rules,
    views_vocabulary,
)
from matcher.admin.audit import changed_keys, page_of_entries, record
from matcher.admin.blueprint import bp
from matcher.admin.forms import PeopleSearchForm, UserActionForm
from matcher.admin.views_rounds import current_delivery
from matcher.extensions import db
from matcher.models import Profile, Round, Team, User
from matcher.notify.status import outbox_counts
from matcher.rounds import service

__all__ = ["bp"]

PAGE_SIZE = 50


@bp.route("/")
def index() -> str:
    """Programme overview: who takes part, the latest rounds and the next scheduled run."""
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
        "drafts": db.session.scalar(
            select(func.count()).select_from(Round).where(Round.status == "draft")
        ),
    }
    settings = service.programme_settings(db.session)
    next_run, next_week = service.next_round(db.session, datetime.now(UTC))
    rounds = db.session.scalars(select(Round).order_by(Round.starts_on.desc()).limit(5)).all()
    return render_template(
        "admin/index.html",
        outbox=outbox_counts(db.session),
        delivery=current_delivery(),
        counts=counts,
        rounds=rounds,
        next_run=next_run,
        next_week=next_week,
        settings=settings,
    )


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
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return render_template(
        "admin/people.html", form=form, users=users, total=total, action=UserActionForm()
    )


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
        return redirect(url_for("admin.people", q=request.args.get("q", "")[:100] or None))
    changes = {
        "make-admin": ("is_admin", True, "is now an admin"),
        "revoke-admin": ("is_admin", False, "is no longer an admin"),
        "deactivate": ("active", False, "is deactivated"),
        "reactivate": ("active", True, "is active again"),
    }
    if action not in changes:
        abort(404)
    attribute, value, said = changes[action]
    before = getattr(user, attribute)
    setattr(user, attribute, value)
    if before != value:
        record(
            db.session,
            current_user.id,
            f"person.{action}",
            f"{user.display_name} <{user.email}>",
            before={attribute: before},
            after={attribute: value},
        )
    db.session.commit()
    flash(f"{user.display_name} {said}.", "ok")
    return redirect(url_for("admin.people", q=request.args.get("q", "")[:100]))


@bp.route("/audit")
def audit_log() -> str:
    """Every admin change, newest first."""
    page = request.args.get("page", 1, type=int)
    entries, pages = page_of_entries(db.session, page)
    page = min(max(page, 1), pages)
    return render_template(
        "admin/audit.html", entries=entries, page=page, pages=pages, changed_keys=changed_keys
    )
