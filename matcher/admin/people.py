"""People: search and page through everyone, one person's page, account actions."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from matcher.admin import bp, directory
from matcher.admin.forms.people import JoinedOnForm, PeopleSearchForm, UserActionForm
from matcher.admin.forms.roster import ManagerForm
from matcher.admin.scope import programme_for
from matcher.audit import record
from matcher.extensions import db
from matcher.models import MEETING_MODES, NOT_MEETING_REASONS, ROLE_LABELS, User
from matcher.programmes.catalogue import default_programme
from matcher.roster.service import RosterError, set_manager


def _people_args() -> dict[str, str]:
    """The search, status filter and page of the People list, to keep them across actions."""
    args = {
        "q": request.args.get("q", "")[:100],
        "status": request.args.get("status", "")[:20],
        "page": request.args.get("page", "")[:10],
    }
    return {key: value for key, value in args.items() if value}


@bp.route("/people")
@bp.route("/p/<slug>/people")
def people(slug: str | None = None) -> tuple[str, int]:
    """Search people by name, email, team or status (in the programme), 50 a page."""
    form = PeopleSearchForm(request.args)
    programme_id = programme_for(slug).id
    valid = form.validate()
    q = form.q.data if valid else None
    status = (form.status.data or None) if valid else None
    today = datetime.now(UTC).date()
    raw_page = request.args.get("page")
    page = directory.parse_page(raw_page)
    result, problem, code = None, None, 200
    shown = (raw_page or "").strip()[:20]
    if page is None:
        problem, code = f"“{shown}” is not a page number: pages are numbered 1, 2, 3…", 400
    else:
        result = directory.people_page(db.session, q, status, page, today, programme_id)
        if result is None:
            total = directory.count_people(db.session, q, status, today, programme_id)
            pages = directory.pages_for(total)
            problem = (
                f"There is no page {shown}: {total:,} "
                f"{'person fits' if total == 1 else 'people fit'} on "
                f"{pages} {'page' if pages == 1 else 'pages'}."
            )
            code = 404
    if result is None:  # say what went wrong above the first page, rather than an error page
        result = directory.people_page(db.session, q, status, 1, today, programme_id)
    page_html = render_template(
        "admin/people.html",
        form=form,
        result=result,
        problem=problem,
        # After a page past the end, link the last pages: that is where the reader was going.
        links=directory.page_links(result.pages if code == 404 else result.page, result.pages),
        labels=directory.STATUSES,
        action=UserActionForm(),
        back=_people_args(),
    )
    return page_html, code


@bp.route("/people/<int:user_id>")
def person(user_id: int) -> str:
    """One person: profile, programmes, pairing history, their answers, the audit log."""
    return _render_person(user_id)[0]


def _render_person(
    user_id: int,
    joined_form: JoinedOnForm | None = None,
    manager_form: ManagerForm | None = None,
) -> tuple[str, int]:
    programme_id = default_programme(db.session).id
    detail = directory.person_detail(db.session, user_id, datetime.now(UTC).date(), programme_id)
    if detail is None:
        abort(404)
    if joined_form is None:
        joined_form = JoinedOnForm(formdata=None)
        joined_form.joined_on.data = detail.user.joined_on.isoformat()
    if manager_form is None:
        manager_form = ManagerForm(formdata=None)
        manager = detail.user.manager
        manager_form.manager_email.data = manager.email if manager is not None else ""
    page = render_template(
        "admin/person.html",
        detail=detail,
        labels=directory.STATUSES,
        status_help=directory.STATUS_HELP,
        answer_label=directory.answer_label,
        week_name=directory.week_name,
        reasons=NOT_MEETING_REASONS,
        modes=MEETING_MODES,
        action=UserActionForm(),
        joined_form=joined_form,
        manager_form=manager_form,
        roles=ROLE_LABELS,
    )
    return page, (422 if joined_form.errors or manager_form.errors else 200)


@bp.route("/people/<int:user_id>/joined-on", methods=["POST"])
def person_joined_on(user_id: int) -> tuple[str, int] | Response:
    """Correct the date someone joined the organisation (new-joiner programmes go by it)."""
    user = db.session.get(User, user_id)
    if user is None or user.is_deleted:
        abort(404)
    form = JoinedOnForm()
    if not form.validate_on_submit():
        return _render_person(user_id, form)
    before = user.joined_on
    if before != form.day:
        user.joined_on = form.day
        record(
            db.session,
            current_user.id,
            "person.joined_on",
            f"{user.display_name} <{user.email}>",
            before={"joined_on": before.isoformat()},
            after={"joined_on": form.day.isoformat()},
        )
        db.session.commit()
        flash(f"{user.display_name} joined on {form.day.isoformat()}.", "ok")
    else:
        flash("Nothing changed.", "info")
    return redirect(url_for("admin.person", user_id=user_id))


@bp.route("/people/<int:user_id>/manager", methods=["POST"])
def person_manager(user_id: int) -> tuple[str, int] | Response:
    """Set or clear someone's manager by email (not themselves, a live account, no loop)."""
    user = db.session.get(User, user_id)
    if user is None or user.is_deleted:
        abort(404)
    form = ManagerForm()
    if not form.validate_on_submit():
        return _render_person(user_id, manager_form=form)
    before = user.manager.email if user.manager is not None else None
    try:
        manager = set_manager(db.session, user, form.manager_email.data or "")
    except RosterError as error:
        db.session.rollback()
        form.manager_email.errors = [str(error)]
        return _render_person(user_id, manager_form=form)
    after = manager.email if manager is not None else None
    if before == after:
        flash("Nothing changed.", "info")
        return redirect(url_for("admin.person", user_id=user_id))
    record(
        db.session,
        current_user.id,
        "person.manager",
        f"{user.display_name} <{user.email}>",
        before={"manager": before},
        after={"manager": after},
    )
    db.session.commit()
    if manager is None:
        flash(f"{user.display_name} has no manager now.", "ok")
    else:
        flash(f"{manager.display_name} is now {user.display_name}’s manager.", "ok")
    return redirect(url_for("admin.person", user_id=user_id))


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
