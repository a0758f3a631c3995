"""Admin pages. Every route here answers 403 to anyone but an admin (see blueprint.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from matcher.admin import people as people_service

# The other view modules add their routes to the same blueprint when imported.
from matcher.admin import (  # noqa: F401
    views_insights,
    views_rounds,
    views_rules,
    views_vocabulary,
)
from matcher.admin.audit_text import describe
from matcher.admin.blueprint import bp
from matcher.admin.forms import PeopleSearchForm, UserActionForm
from matcher.admin.views_rounds import current_delivery
from matcher.audit import page_of_entries, record
from matcher.extensions import db
from matcher.models import MEETING_MODES, NOT_MEETING_REASONS, Round, Team, User
from matcher.notify.status import outbox_counts
from matcher.rounds import programme

__all__ = ["bp"]


@bp.route("/")
def index() -> str:
    """Programme overview: who takes part, the latest rounds and the next scheduled run."""
    statuses = people_service.status_counts(db.session, datetime.now(UTC).date())
    counts = {
        "people": sum(statuses.values()),
        # Snoozed people are in the programme, only skipping rounds for now.
        "participating": statuses["active"] + statuses["snoozed"],
        "teams": db.session.scalar(select(func.count()).select_from(Team)),
        "drafts": db.session.scalar(
            select(func.count()).select_from(Round).where(Round.status == "draft")
        ),
    }
    settings = programme.programme_settings(db.session)
    next_run, next_week = programme.next_round(db.session, datetime.now(UTC))
    rounds = db.session.scalars(select(Round).order_by(Round.starts_on.desc()).limit(5)).all()
    return render_template(
        "admin/index.html",
        outbox=outbox_counts(db.session),
        delivery=current_delivery(),
        counts=counts,
        statuses=statuses,
        labels=people_service.STATUSES,
        rounds=rounds,
        next_run=next_run,
        next_week=next_week,
        settings=settings,
    )


def _people_args() -> dict[str, str]:
    """The search, status filter and page of the People list, to keep them across actions."""
    args = {
        "q": request.args.get("q", "")[:100],
        "status": request.args.get("status", "")[:20],
        "page": request.args.get("page", "")[:10],
    }
    return {key: value for key, value in args.items() if value}


@bp.route("/people")
def people() -> tuple[str, int]:
    """Search people by name, email, team or status, 50 a page."""
    form = PeopleSearchForm(request.args)
    valid = form.validate()
    q = form.q.data if valid else None
    status = (form.status.data or None) if valid else None
    today = datetime.now(UTC).date()
    raw_page = request.args.get("page")
    page = people_service.parse_page(raw_page)
    result, problem, code = None, None, 200
    shown = (raw_page or "").strip()[:20]
    if page is None:
        problem, code = f"“{shown}” is not a page number: pages are numbered 1, 2, 3…", 400
    else:
        result = people_service.people_page(db.session, q, status, page, today)
        if result is None:
            total = people_service.count_people(db.session, q, status, today)
            pages = people_service.pages_for(total)
            problem = (
                f"There is no page {shown}: {total:,} "
                f"{'person fits' if total == 1 else 'people fit'} on "
                f"{pages} {'page' if pages == 1 else 'pages'}."
            )
            code = 404
    if result is None:  # say what went wrong above the first page, rather than an error page
        result = people_service.people_page(db.session, q, status, 1, today)
    page_html = render_template(
        "admin/people.html",
        form=form,
        result=result,
        problem=problem,
        # After a page past the end, link the last pages: that is where the reader was going.
        links=people_service.page_links(result.pages if code == 404 else result.page, result.pages),
        labels=people_service.STATUSES,
        action=UserActionForm(),
        back=_people_args(),
    )
    return page_html, code


@bp.route("/people/<int:user_id>")
def person(user_id: int) -> str:
    """One person: profile, pairing history, the answers they gave, what the audit log says."""
    detail = people_service.person_detail(db.session, user_id, datetime.now(UTC).date())
    if detail is None:
        abort(404)
    return render_template(
        "admin/person.html",
        detail=detail,
        labels=people_service.STATUSES,
        status_help=people_service.STATUS_HELP,
        answer_label=people_service.answer_label,
        week_name=people_service.week_name,
        reasons=NOT_MEETING_REASONS,
        modes=MEETING_MODES,
        action=UserActionForm(),
    )


# url action: (audit action, attribute, new value, what the flash message says)
PERSON_ACTIONS = {
    "make-admin": ("person.make-admin", "is_admin", True, "is now an admin"),
    "revoke-admin": ("person.revoke-admin", "is_admin", False, "is no longer an admin"),
    "deactivate": ("person.deactivate", "active", False, "is deactivated"),
    "reactivate": ("person.reactivate", "active", True, "is active again"),
}


def _back(user_id: int) -> Response:
    if request.args.get("from") == "person":
        return redirect(url_for("admin.person", user_id=user_id))
    return redirect(url_for("admin.people", **_people_args()))


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
        return _back(user.id)
    if action not in PERSON_ACTIONS:
        abort(404)
    audit_action, attribute, value, said = PERSON_ACTIONS[action]
    before = getattr(user, attribute)
    setattr(user, attribute, value)
    if before != value:
        record(
            db.session,
            current_user.id,
            audit_action,
            f"{user.display_name} <{user.email}>",
            before={attribute: before},
            after={attribute: value},
        )
    db.session.commit()
    flash(f"{user.display_name} {said}.", "ok")
    return _back(user.id)


@bp.route("/audit")
def audit_log() -> str:
    """Every admin change, newest first."""
    page = request.args.get("page", 1, type=int)
    entries, pages = page_of_entries(db.session, page)
    page = min(max(page, 1), pages)
    return render_template(
        "admin/audit.html", entries=entries, page=page, pages=pages, describe=describe
    )
