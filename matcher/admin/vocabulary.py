"""Vocabulary pages: rename teams, projects and interests; merge duplicates, offices too."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from matcher.admin import bp, duplicates, merging
from matcher.admin.forms.vocabulary import MergeForm, OfficeMergeForm, RenameForm
from matcher.audit import record
from matcher.extensions import db


def _model(kind: str) -> merging.VocabularyModel:
    model = merging.KINDS.get(kind)
    if model is None:
        abort(404)
    return model


@bp.route("/vocabulary/")
@bp.route("/vocabulary/<kind>")
def vocabulary_list(kind: str = "teams") -> str:
    """Every team, project, interest or office with how many people use it, and look-alikes."""
    return _render_list(kind)[0]


def _render_list(kind: str, office_form: OfficeMergeForm | None = None) -> tuple[str, int]:
    if kind == "offices":
        entries = merging.office_counts(db.session)
    else:
        entries = merging.entries_with_counts(db.session, _model(kind))
    office_form = office_form or OfficeMergeForm()
    if kind == "offices":
        names = [SelectChoice("", "— pick an office —")] + [
            SelectChoice(e.name, f"{e.name} ({e.people} people)") for e in entries
        ]
        office_form.source.choices = office_form.target.choices = names
    page = render_template(
        "admin/vocabulary.html",
        kind=kind,
        kinds=merging.TABS,
        label=merging.LABELS[kind],
        entries=entries,
        suggestions=duplicates.near_duplicates(entries, contained=kind != "teams"),
        shown=duplicates.SHOWN,
        office_form=office_form,
        merge_form=MergeForm(prefix="merge"),
    )
    return page, (422 if office_form.errors else 200)


@bp.route("/vocabulary/offices/merge", methods=["POST"])
def office_merge() -> tuple[str, int] | Response:
    """Write one office's name on every profile that has another one: they are one place."""
    form = OfficeMergeForm()
    if form.validate_on_submit():
        source, target = form.source.data or "", form.target.data or ""
        try:
            moved = merging.merge_offices(db.session, source, target)
        except merging.VocabularyError as error:
            form.source.errors = [str(error)]
        else:
            record(
                db.session, current_user.id, "offices.merge", "offices",
                before={"name": source}, after={"merged_into": target, "moved": moved},
            )  # fmt: skip
            db.session.commit()
            flash(f"Merged “{source}” into “{target}”; {_people(moved)} moved.", "ok")
            return redirect(url_for("admin.vocabulary_list", kind="offices"))
    return _render_list("offices", form)


def _forms(kind: str, entry_id: int) -> tuple[object, RenameForm, MergeForm]:
    model = _model(kind)
    entry = db.session.get(model, entry_id)
    if entry is None:
        abort(404)
    rename_form, merge_form = RenameForm(prefix="rename"), MergeForm(prefix="merge")
    # A blank first choice, so a stray click never merges into whatever is listed first.
    merge_form.target.choices = [SelectChoice("", "— pick an entry —")] + [
        SelectChoice(e.id, f"{e.name} ({e.people} people)")
        for e in merging.entries_with_counts(db.session, model)
        if e.id != entry.id
    ]
    return entry, rename_form, merge_form


def _render(kind: str, entry: object, rename_form: RenameForm, merge_form: MergeForm):
    page = render_template(
        "admin/vocabulary_entry.html",
        kind=kind,
        label=merging.LABELS[kind],
        entry=entry,
        people=next(
            (
                e.people
                for e in merging.entries_with_counts(db.session, _model(kind))
                if e.id == entry.id
            ),
            0,
        ),  # fmt: skip
        rename_form=rename_form,
        merge_form=merge_form,
    )
    return page, (422 if rename_form.errors or merge_form.errors else 200)


@bp.route("/vocabulary/<kind>/<int:entry_id>")
def vocabulary_entry(kind: str, entry_id: int) -> tuple[str, int]:
    """One entry: rename it or merge it into another."""
    entry, rename_form, merge_form = _forms(kind, entry_id)
    rename_form.name.data = entry.name
    return _render(kind, entry, rename_form, merge_form)


@bp.route("/vocabulary/<kind>/<int:entry_id>/rename", methods=["POST"])
def vocabulary_rename(kind: str, entry_id: int) -> tuple[str, int] | Response:
    """Rename an entry; a name that exists already asks for a merge instead."""
    entry, rename_form, merge_form = _forms(kind, entry_id)
    if rename_form.validate_on_submit():
        try:
            old, new = merging.rename(
                db.session, _model(kind), entry.id, rename_form.name.data or ""
            )
        except merging.VocabularyError as error:
            rename_form.name.errors = [str(error)]
        else:
            record(
                db.session, current_user.id, f"{kind}.rename", f"{kind} #{entry.id}",
                before={"name": old}, after={"name": new},
            )  # fmt: skip
            try:
                db.session.commit()
            except IntegrityError:  # another admin took that name a moment ago
                db.session.rollback()
                rename_form.name.errors = ["That name exists already: use merge instead."]
                return _render(kind, entry, rename_form, merge_form)
            flash(f"Renamed “{old}” to “{new}”.", "ok")
            return redirect(url_for("admin.vocabulary_list", kind=kind))
    return _render(kind, entry, rename_form, merge_form)


@bp.route("/vocabulary/<kind>/<int:entry_id>/merge", methods=["POST"])
def vocabulary_merge(kind: str, entry_id: int) -> tuple[str, int] | Response:
    """Merge an entry into another: its people move over, then it is deleted."""
    entry, rename_form, merge_form = _forms(kind, entry_id)
    rename_form.name.data = entry.name
    if merge_form.validate_on_submit():
        target = db.session.get(_model(kind), merge_form.target.data)
        source_name, target_name = entry.name, target.name if target else ""
        try:
            moved = merging.merge(db.session, _model(kind), entry.id, merge_form.target.data)
        except merging.VocabularyError as error:
            merge_form.target.errors = [str(error)]
        else:
            record(
                db.session, current_user.id, f"{kind}.merge", f"{kind} #{entry_id}",
                before={"name": source_name}, after={"merged_into": target_name, "moved": moved},
            )  # fmt: skip
            db.session.commit()
            flash(f"Merged “{source_name}” into “{target_name}”; {_people(moved)} moved.", "ok")
            return redirect(url_for("admin.vocabulary_list", kind=kind))
    return _render(kind, entry, rename_form, merge_form)


def _people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"
