"""Which programme an admin page is about: from the slug in its address, or the default one.

Every per-programme page has two addresses: the old one (`/admin/rules`), which keeps acting
on the default programme, and one with the programme's slug (`/admin/p/<slug>/rules`).
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, url_for

from matcher.extensions import db
from matcher.models import Programme
from matcher.programmes.catalogue import all_programmes, by_slug, default_programme

# The pages that exist once per programme; the programme tabs of the admin nav switch
# between a page's programmes when the page is one of these.
PER_PROGRAMME = frozenset(
    {
        "admin.index",
        "admin.people",
        "admin.rules",
        "admin.rounds",
        "admin.preview",
        "admin.save_draft",
        "admin.whatif_page",
        "admin.insights_page",
    }
)


def programme_for(slug: str | None) -> Programme:
    """The programme a page is about (404 for an unknown slug, the default one without)."""
    if slug is None:
        programme = default_programme(db.session)
    else:
        programme = by_slug(db.session, slug)
        if programme is None:
            abort(404)
    # Links on the page keep the address style it was reached by (see `programme_url`).
    g.admin_programme = programme
    g.admin_slug = slug
    return programme


def show_programme(programme: Programme | None) -> None:
    """Say which programme a page without a slug in its address is about (a round's own)."""
    g.admin_programme = programme
    g.admin_slug = programme.slug if programme is not None else None


def programme_url(endpoint: str, **values: Any) -> str:
    """url_for for a per-programme page, with the slug when this page was reached by one."""
    slug = g.get("admin_slug")
    if slug is not None and "slug" not in values:
        values["slug"] = slug
    return url_for(endpoint, **values)


def template_values() -> dict[str, Any]:
    """What every admin template may use: the page's programme, the tabs, programme_url."""
    return {
        "programme": g.get("admin_programme"),
        "admin_programmes": all_programmes(db.session),
        "per_programme": PER_PROGRAMME,
        "programme_url": programme_url,
    }
