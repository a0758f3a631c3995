"""Programmes: the list, creating and editing one, archiving and reopening."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from matcher.admin import bp
from matcher.admin.forms.programmes import ProgrammeForm
from matcher.admin.forms.rounds import ConfirmForm
from matcher.admin.scope import programme_for, show_programme
from matcher.extensions import db
from matcher.models import OPEN_TO, PROGRAMME_KINDS, Programme, ProgrammeMember
from matcher.programmes import schedule
from matcher.programmes.catalogue import (
    KIND_DEFAULTS,
    ProgrammeError,
    ProgrammeValues,
    all_programmes,
    check_values,
    create_programme,
    set_archived,
    update_programme,
)
from matcher.timezones import zone
from matcher.transaction import commit_retrying


def member_counts() -> dict[int, int]:
    """Members who have not left, per programme id."""
    rows = db.session.execute(
        select(ProgrammeMember.programme_id, func.count())
        .where(ProgrammeMember.opted_out.is_(False))
        .group_by(ProgrammeMember.programme_id)
    )
    return {programme_id: int(n) for programme_id, n in rows}


@bp.route("/programmes")
def programmes_list() -> str:
    """Every programme: kind, members, active or archived, and its next run."""
    now = datetime.now(UTC)
    programmes = all_programmes(db.session)
    show_programme(None)
    return render_template(
        "admin/programmes.html",
        rows=[
            # The next run in the programme's own zone, as its schedule is set.
            (
                p,
                None
                if p.archived
                else schedule.next_round(db.session, p, now)[0].astimezone(zone(p.round_timezone)),
            )
            for p in programmes
        ],
        members=member_counts(),
        kinds=PROGRAMME_KINDS,
        open_to=OPEN_TO,
        confirm=ConfirmForm(),
    )


def _render_form(form: ProgrammeForm, programme: Programme | None, code: int) -> tuple[str, int]:
    page = render_template(
        "admin/programme_form.html", form=form, editing=programme, kinds=PROGRAMME_KINDS
    )
    return page, code


def _submitted(form: ProgrammeForm, kind: str) -> dict[str, list[str]] | None:
    """Check a POSTed form; the fields that did not parse, or None when it was not sent."""
    if not form.is_submitted():
        return None
    form.validate()
    if kind != "mentoring":  # not used, so not worth a message
        form.mentor_capacity.errors = []
    return form.parse_errors(kind)


def _show_errors(form: ProgrammeForm, errors: dict[str, str]) -> None:
    if not (form.slug.data or "").strip() and "slug" in errors:
        # The address was to be made from the name: say so next to the name the admin typed.
        slug_error = errors.pop("slug")
        if "name" not in errors:
            errors["name"] = f"{slug_error} (the address is made from the name: change either)"
    form.show(errors)


@bp.route("/programmes/new", methods=["GET", "POST"])
def programme_new() -> tuple[str, int] | Response:
    """Create a programme: a clear message next to each field that cannot be saved."""
    show_programme(None)
    form = ProgrammeForm()
    if not form.is_submitted():
        form.kind.data = request.args.get("kind", "coffee")
        defaults = KIND_DEFAULTS.get(form.kind.data, KIND_DEFAULTS["coffee"])
        form.pairing_weeks.data = defaults["pairing_weeks"]
        form.auto_enrol.data = defaults["auto_enrol"]
        form.joined_within_weeks.data = 8
        form.mentor_capacity.data = 1
        form.open_to.data = "everyone"
        return _render_form(form, None, 200)
    kind = (form.kind.data or "").strip()
    unparsed = _submitted(form, kind) or {}
    values = form.values(kind)
    if unparsed:
        # Junk in a number: nothing is saved; the service still checks the other fields.
        _show_errors(form, _other_errors(values, None, unparsed))
        return _render_form(form, None, 422)
    try:
        programme = commit_retrying(lambda: create_programme(db.session, values, current_user.id))
    except ProgrammeError as error:
        db.session.rollback()
        _show_errors(form, error.errors)
        return _render_form(form, None, 422)
    flash(f"{programme.name} created. Set its rules and schedule next.", "ok")
    return redirect(url_for("admin.rules", slug=programme.slug))


@bp.route("/p/<slug>/edit", methods=["GET", "POST"])
def programme_edit(slug: str) -> tuple[str, int] | Response:
    """Edit a programme's name, address, description, who may join and its pairings."""
    programme = programme_for(slug)
    form = ProgrammeForm()
    if not form.is_submitted():
        form.fill(programme)
        return _render_form(form, programme, 200)
    unparsed = _submitted(form, programme.kind) or {}
    values = form.values(programme.kind)
    if unparsed:
        _show_errors(form, _other_errors(values, programme, unparsed))
        return _render_form(form, programme, 422)
    programme_id = programme.id
    try:
        before = commit_retrying(
            lambda: update_programme(
                db.session, db.session.get(Programme, programme_id), values, current_user.id
            )
        )
    except ProgrammeError as error:
        db.session.rollback()
        _show_errors(form, error.errors)
        return _render_form(form, programme, 422)
    programme = db.session.get(Programme, programme_id)
    flash(f"{programme.name} saved." if before else "Nothing changed.", "ok" if before else "info")
    return redirect(url_for("admin.programmes_list"))


def _other_errors(
    values: ProgrammeValues,
    programme: Programme | None,
    unparsed: dict[str, list[str]],
) -> dict[str, str]:
    """The service's messages for the fields that parsed (numbers that did not have theirs)."""
    errors = check_values(db.session, values, editing=programme)
    return {k: v for k, v in errors.items() if k not in unparsed}


def _set_archived(slug: str, archived: bool) -> Response:
    programme = programme_for(slug)
    if not ConfirmForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("admin.programmes_list"))
    programme_id = programme.id
    changed = commit_retrying(
        lambda: set_archived(
            db.session, db.session.get(Programme, programme_id), archived, current_user.id
        )
    )
    programme = db.session.get(Programme, programme_id)
    if not changed:
        flash(f"{programme.name} was already {'archived' if archived else 'open'}.", "info")
    elif archived:
        flash(f"{programme.name} archived: no more rounds, and nobody can join.", "ok")
    else:
        flash(f"{programme.name} reopened.", "ok")
    return redirect(url_for("admin.programmes_list"))


@bp.route("/p/<slug>/archive", methods=["POST"])
def programme_archive(slug: str) -> Response:
    """Archive a programme: its rounds stop and nobody can join; its history stays."""
    return _set_archived(slug, True)


@bp.route("/p/<slug>/reopen", methods=["POST"])
def programme_reopen(slug: str) -> Response:
    """Reopen an archived programme."""
    return _set_archived(slug, False)
