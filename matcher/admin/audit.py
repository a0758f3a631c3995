"""The audit log page: every admin change, newest first, in words."""

from __future__ import annotations

from flask import render_template, request

from matcher.admin import bp
from matcher.admin.audit_text import describe
from matcher.audit import page_of_entries
from matcher.extensions import db
from matcher.programmes.catalogue import all_programmes


@bp.route("/audit")
def audit_log() -> str:
    """Every admin change, newest first."""
    page = request.args.get("page", 1, type=int)
    entries, pages = page_of_entries(db.session, page)
    page = min(max(page, 1), pages)
    # Programme entries record the address; the sentence says the programme's name.
    names = {p.slug: p.name for p in all_programmes(db.session)}
    return render_template(
        "admin/audit.html",
        entries=entries,
        page=page,
        pages=pages,
        describe=lambda entry: describe(entry, names),
    )
