"""Roster import: upload a CSV file of people, preview what each row does and its problems,
apply it in one transaction; the template to download; a person's manager."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from matcher.admin import bp
from matcher.admin.forms.roster import RosterApplyForm, RosterUploadForm
from matcher.extensions import db
from matcher.models import AuditEntry
from matcher.roster import csvfile, imports, uploads
from matcher.roster.service import FIELDS

# Rows a preview or result page lists (those with problems first); the counts cover all.
ROWS_SHOWN = 200
# Room for the form's other fields and the multipart framing around the file.
_FORM_OVERHEAD = 64 * 1024
FIELD_LABELS = {
    "name": "name",
    "team": "team",
    "manager_email": "manager",
    "office": "office",
    "time_zone": "time zone",
    "join_date": "join date",
    "programmes": "programmes",
    "external_id": "external id",
    "active": "active",
}
assert set(FIELDS) <= set(FIELD_LABELS)


def _today() -> Any:
    return datetime.now(UTC).date()


@bp.url_value_preprocessor
def roster_upload_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Let an admin's roster upload be larger than other forms. This runs before the
    app-wide hooks that read the form (CSRF, NUL check), which would refuse it at
    MAX_CONTENT_LENGTH; a file over the roster limit gets the upload page saying so."""
    if endpoint != "admin.roster_upload" or request.method != "POST":
        return
    if not (current_user.is_authenticated and current_user.is_admin):
        return  # the blueprint's guard answers 403 under the ordinary limit
    limit = csvfile.MAX_BYTES + _FORM_OVERHEAD
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        form = RosterUploadForm(formdata=None)
        form.file.errors = [_too_big()]
        abort(make_response(_upload_page(form), 413))


def _too_big() -> str:
    return (
        f"The file is larger than {csvfile.MAX_BYTES // (1024 * 1024)} MB: "
        "split it into several files."
    )


def _upload_page(form: RosterUploadForm) -> str:
    recent = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "roster.import")
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(5)
    ).all()
    return render_template(
        "admin/roster.html",
        form=form,
        columns=csvfile.COLUMNS,
        max_rows=csvfile.MAX_ROWS,
        recent=recent,
    )


@bp.route("/roster")
def roster_page() -> str:
    """The upload form, what the file holds, the template and the latest imports."""
    return _upload_page(RosterUploadForm(formdata=None))


@bp.route("/roster/template.csv")
def roster_template() -> Response:
    """A CSV file with every column and two example rows."""
    response = make_response(csvfile.template_csv())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="roster-template.csv"'
    return response


@bp.route("/roster", methods=["POST"])
def roster_upload() -> tuple[str, int] | Response:
    """Keep the uploaded file on the server and show its preview; a file that is not a
    roster at all (binary, not UTF-8, no header) is refused next to the field."""
    form = RosterUploadForm()
    if not form.validate_on_submit():
        return _upload_page(form), 422
    upload = form.file.data
    data = upload.read(csvfile.MAX_BYTES + 1)
    if len(data) > csvfile.MAX_BYTES:
        form.file.errors = [_too_big()]
        return _upload_page(form), 413
    parsed = csvfile.parse(data)
    if parsed.problems:
        form.file.errors = [str(problem) for problem in parsed.problems]
        return _upload_page(form), 422
    token = uploads.store(
        data,
        current_user.id,
        upload.filename or "roster.csv",
        overwrite=bool(form.overwrite.data),
        invite=bool(form.invite.data),
    )
    return redirect(url_for("admin.roster_preview", token=token))


def _load(token: str) -> uploads.Upload:
    upload = uploads.load(token, current_user.id)
    if upload is None:
        abort(
            make_response(
                render_template(
                    "error.html",
                    code=404,
                    message="This upload has expired (uploads are kept an hour) or is not "
                    "yours. Upload the file again.",
                ),
                404,
            )
        )
    return upload


@bp.route("/roster/<token>")
def roster_preview(token: str) -> tuple[str, int]:
    """What the uploaded file would do, row by row, and its problems (nothing is saved);
    after applying, what it did."""
    upload = _load(token)
    if upload.result is not None:
        return render_template(
            "admin/roster_result.html",
            upload=upload,
            result=upload.result,
            labels=FIELD_LABELS,
            statuses=imports.STATUSES,
        ), 200
    assert upload.data is not None
    report = imports.run(
        db.session,
        upload.data,
        today=_today(),
        overwrite=upload.overwrite,
        invite=upload.invite,
        apply=False,
        actor=current_user,
    )
    return _preview_page(upload, report), 200


def _preview_page(upload: uploads.Upload, report: imports.Report) -> str:
    return render_template(
        "admin/roster_preview.html",
        upload=upload,
        report=report,
        counts=report.counts(),
        statuses=imports.STATUSES,
        rows=report.shown(ROWS_SHOWN),
        shown=ROWS_SHOWN,
        labels=FIELD_LABELS,
        apply_form=RosterApplyForm(),
    )


@bp.route("/roster/<token>/apply", methods=["POST"])
def roster_apply(token: str) -> tuple[str, int] | Response:
    """Apply the previewed file in one transaction, or change nothing when any row has a
    problem (the database may have changed since the preview)."""
    upload = _load(token)
    if not RosterApplyForm().validate_on_submit():
        abort(400)
    if upload.result is not None:  # applied already (a second click, another tab)
        return redirect(url_for("admin.roster_preview", token=token))
    assert upload.data is not None
    try:
        report = imports.run(
            db.session,
            upload.data,
            today=_today(),
            overwrite=upload.overwrite,
            invite=upload.invite,
            apply=True,
            actor=current_user,
        )
        if report.applied:
            db.session.commit()
    except IntegrityError:  # another import or sign-up added one of these people just now
        db.session.rollback()
        flash(
            "Someone added some of these people at the same moment; nothing was saved. "
            "Check the preview again and apply.",
            "error",
        )
        return redirect(url_for("admin.roster_preview", token=token))
    if not report.applied:
        return _preview_page(upload, report), 409
    counts = report.counts()
    changed = [row for row in report.rows if row.status != "unchanged"]
    uploads.mark_applied(
        token,
        {
            "rows": len(report.rows),
            "counts": counts,
            "invitations": report.invitations,
            "applied_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
            "changed": [
                {
                    "number": row.number,
                    "name": row.name,
                    "email": row.email,
                    "status": row.status,
                    "changed": list(row.changed),
                    "kept": list(row.kept),
                }
                for row in changed[:ROWS_SHOWN]
            ],
            "more": max(0, len(changed) - ROWS_SHOWN),
        },
    )
    flash(
        f"Imported {len(report.rows):,} rows: {counts['new']:,} new, {counts['updated']:,} "
        f"updated, {counts['kept']:,} with edits kept, {counts['unchanged']:,} unchanged; "
        f"{report.invitations:,} invitations queued.",
        "ok",
    )
    return redirect(url_for("admin.roster_preview", token=token))
