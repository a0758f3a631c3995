"""Stored XSS: what one person types is escaped or defused wherever someone else sees it."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from markupsafe import escape
from sqlalchemy import select

from matcher.extensions import db
from matcher.links import FEEDBACK, make_token
from matcher.models import Interest, Membership, Project, Team, User, vocabulary_key
from matcher.notify import queue_message, send_pending
from matcher.rounds import publishing
from matcher.weeks import week_label
from tests.support import (
    BACKENDS,
    PG_ADMIN_URL,
    coffee,
    coffee_member,
    empty_tables,
    login,
    make_app,
    meetings_over,
    migrate,
    signup_data,
    verify_from_outbox,
)

# Each payload starts every hostile field, so CSV cells start with it too. A tuple hands its
# payloads out field by field: one world covers every formula prefix in the exports.
PAYLOADS: dict[str, str | tuple[str, ...]] = {
    "script": "<script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "js-url": "javascript:alert(1)",
    "template": "{{7*7}}",
    "formula": ('=HYPERLINK("http://evil.example")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"),
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A javascript: URL is only dangerous where the browser follows it.
JS_URL = re.compile(
    r"""\b(?:href|src|action|formaction|xlink:href)\s*=\s*["']?\s*javascript:""", re.I
)
CRLF_ATTENDEE = "\r\nATTENDEE:mailto:evil@x"
# Two weeks ahead: every free slot of that week is still in the future, whatever today is, so
# the round always gets a suggested time (and an invitation).
WEEK = week_label(datetime.now(UTC).date() + timedelta(days=14))


def hostile_values(payload: str | tuple[str, ...]) -> dict[str, str]:
    """Bob's fields (and the project and interest he shares with Ada), each led by a payload."""
    payloads = (payload,) if isinstance(payload, str) else payload
    # The fields the CSV exports hold come first, so each gets another formula prefix.
    fields = ("name", "team", "kudos", "note", "project", "interest", "location")
    values = {f: f"{payloads[k % len(payloads)]} {f}" for k, f in enumerate(fields)}
    # The form takes only an https link: the payload rides in its query, with ' and &, which
    # a URI may hold and HTML must escape.
    values["video"] = f"https://meet.example.com/room?q={quote(payloads[0], safe='')}&x='(1)'"
    return values


# Checks -----------------------------------------------------------------------------------


def assert_html_safe(page: str, value: str) -> None:
    """Shown escaped (so it was shown at all), never raw, never evaluated, never a link."""
    assert str(escape(value)) in page, f"{value!r} is not shown (escaped) at all"
    if str(escape(value)) != value:
        assert value not in page, f"{value!r} is in the page unescaped"
    if "{{7*7}}" in value:
        assert value.replace("{{7*7}}", "49") not in page, "a template expression was evaluated"
    assert not JS_URL.search(page), "a javascript: URL became a link"


def assert_text_intact(text: str, value: str) -> None:
    """Plain text (mail text part, subject, calendar text) keeps the value exactly as typed."""
    assert value in text, f"{value!r} is not in the text as typed"
    assert str(escape(value)) == value or str(escape(value)) not in text, "plain text escaped"


def assert_csv_safe(text: str, value: str) -> None:
    """The value is in some cell as typed, and no cell would run as a spreadsheet formula."""
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert any(value in cell for cell in cells), f"{value!r} is not in the export"
    formulas = [cell for cell in cells if cell.startswith(FORMULA_PREFIXES)]
    assert not formulas, f"cells a spreadsheet would run: {formulas}"


CHECKS: dict[str, Callable[[str, str], None]] = {
    "html": assert_html_safe,
    "text": assert_text_intact,
    "csv": assert_csv_safe,
}


# The world: Ada (harmless) paired with Bob (hostile everywhere), seen by Ada and an admin -----


@dataclass
class World:
    app: Flask
    values: dict[str, str]
    anon: FlaskClient
    ada: FlaskClient
    bob: FlaskClient
    admin: FlaskClient
    ids: dict[str, int] = field(default_factory=dict)
    cache: dict[str, str] = field(default_factory=dict)

    def page(self, client: FlaskClient, url: str) -> str:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_data(as_text=True)

    def emails(self) -> dict[tuple[str, str], EmailMessage]:
        """Every email the sender wrote to the outbox folder, by (recipient, kind)."""
        found = {}
        for path in Path(self.app.instance_path, "outbox").glob("*.eml"):
            mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            to = mail["To"].addresses[0].addr_spec
            subject = mail["Subject"]
            kind = "pairing" if "pairing for" in subject else "reminder"
            found[to, "confirm" if subject.startswith("Confirm your email") else kind] = mail
        return found


def signup(client: FlaskClient, **fields: str) -> None:
    response = client.post("/auth/signup", data=signup_data(**fields))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    verify_from_outbox(client.application, fields["email"], client)


def post(client: FlaskClient, url: str, data: dict[str, str] | None = None) -> str:
    """Submit a form that redirects; the page it redirects to (with its flash message)."""
    response = client.post(url, data=data or {})
    assert response.status_code == 302, (url, response.get_data(as_text=True)[:500])
    return client.get(response.headers["Location"]).get_data(as_text=True)


def build_world(app: Flask, values: dict[str, str]) -> World:
    """Sign everyone up through the real forms, pair Ada and Bob, publish, answer, mail."""
    w = World(app, values, *(app.test_client() for _ in range(4)))
    # The admin shares Bob's office: suggestion lists offer only what two people wrote.
    signup(
        w.admin,
        display_name="Root Admin",
        email="root@example.com",
        team="Admins",
        location=values["location"],
    )
    signup(
        w.bob,
        display_name=values["name"],
        email="bob@example.com",
        team=values["team"],
        projects=values["project"],
        interests=values["interest"],
        location=values["location"],
        video_link=values["video"],
    )
    # Ada shares Bob's project and interest (so reasons name them) and has her own entries.
    signup(
        w.ada,
        display_name="Ada Lovelace",
        email="ada@example.com",
        team="Payments",
        projects=f"{values['project']}, Checkout",
        interests=f"{values['interest']}, Chess",
    )
    with app.app_context():
        users = {u.email.split("@")[0]: u for u in db.session.scalars(select(User))}
        users["root"].is_admin = True
        coffee_member(db.session, users["root"].id).opted_out = True  # the admin is no match
        db.session.commit()
        w.ids.update({name: user.id for name, user in users.items()})
        for kind, model, hostile, plain in (
            ("teams", Team, values["team"], "Payments"),
            ("projects", Project, values["project"], "Checkout"),
            ("interests", Interest, values["interest"], "Chess"),
        ):
            for label, name in (("hostile", hostile), ("plain", plain)):
                entry = db.session.scalar(select(model).where(model.key == vocabulary_key(name)))
                w.ids[f"{kind}-{label}"] = entry.id
    # The preview and the draft only exist before publishing: keep those pages now.
    w.cache["admin preview"] = w.page(w.admin, "/admin/preview")
    with app.app_context():
        round_ = publishing.run_round(db.session, coffee(db.session), WEEK).round
        db.session.commit()
        w.ids["round"] = round_.id
        membership = db.session.scalar(select(Membership).where(Membership.user_id == w.ids["ada"]))
        w.ids["group"], w.ids["ada-membership"] = membership.group_id, membership.id
    w.cache["admin draft round"] = w.page(w.admin, f"/admin/rounds/{w.ids['round']}")
    post(w.admin, f"/admin/rounds/{w.ids['round']}/publish")
    meetings_over(app)  # the round is two weeks ahead: before its slot only "not yet" goes
    feedback = {"status": "met", "rating": "5", "would_meet_again": "yes"}
    feedback |= {"kudos": values["kudos"], "private_note": values["note"]}
    post(w.bob, f"/feedback/pairing/{w.ids['group']}", feedback)
    # Deactivating and reactivating Bob puts his name in the audit log and in flash messages.
    post(w.admin, f"/admin/people/{w.ids['bob']}/deactivate")
    w.cache["admin action flash"] = post(w.admin, f"/admin/people/{w.ids['bob']}/reactivate")
    with app.app_context():
        queue_message(
            db.session,
            "feedback_reminder",
            f"feedback_reminder:{w.ids['round']}:{w.ids['ada-membership']}",
            {"membership_id": w.ids["ada-membership"], "user_id": w.ids["ada"]},
            user_id=w.ids["ada"],
            round_id=w.ids["round"],
        )
        db.session.commit()
        report = send_pending(db.session, app.config)
    # A confirmation link each, a pairing email for Ada and Bob, and Ada's reminder.
    assert report.sent == 6
    return w


WORLDS = [(backend, payload) for backend in BACKENDS for payload in PAYLOADS]
# The PostgreSQL worlds carry the postgresql marker, as `backend`'s runs do (conftest.py), so
# the year-ahead pass (-m "not postgresql", in-process SQLite only) leaves them out too.
MARKED_WORLDS = [
    pytest.param(w, marks=[pytest.mark.postgresql] if w[0] == "postgresql" else []) for w in WORLDS
]


@pytest.fixture(scope="class", params=MARKED_WORLDS, ids=["-".join(w) for w in WORLDS])
def world(request, database_urls, tmp_path_factory) -> Iterator[World]:
    """One world per backend and payload, shared by every (surface, field) check of it."""
    backend, payload = request.param
    if backend not in database_urls:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    app = make_app(database_urls[backend], tmp_path_factory.mktemp("instance"))
    migrate(app)
    try:
        yield build_world(app, hostile_values(PAYLOADS[payload]))
    finally:
        empty_tables(app)


# Surfaces: where each field shows, and how to read it --------------------------------------


def _ics(w: World) -> str:
    response = w.ada.get(f"/dashboard/pairings/{w.ids['group']}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    (event,) = Calendar.from_ical(response.data).walk("VEVENT")
    # Ada's own entry: she is the organiser, nobody is invited (or smuggled in).
    assert "attendee" not in event and str(event["organizer"]) == "mailto:ada@example.com"
    # Different offices, both video: Bob's link, the only one, is where they meet.
    texts = [str(event[key]) for key in ("summary", "description", "location", "conference")]
    return "\n".join([*texts, str(event["conference"].params["LABEL"])])


def _reply_to(w: World) -> str:
    # Ada's replies go to Bob: one address, his, under his name exactly as typed.
    (partner,) = w.emails()["ada@example.com", "pairing"]["Reply-To"].addresses
    assert partner.addr_spec == "bob@example.com"
    return partner.display_name


def _mail(w: World, kind: str, part: str, to: str = "ada@example.com") -> str:
    mail = w.emails()[to, kind]
    if part == "subject":
        assert "\n" not in mail["Subject"]
        return mail["Subject"]
    return mail.get_body(preferencelist=(part,)).get_content()


def _csv(w: World, what: str) -> str:
    response = w.admin.get(f"/admin/export/{what}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return response.get_data(as_text=True)


def _search(w: World) -> str:
    # The hostile name is the search term: echoed in the search box, and it finds only Bob.
    page = w.page(w.admin, "/admin/people?q=" + quote(w.values["name"], safe=""))
    assert "bob@example.com" in page and "ada@example.com" not in page
    return page


def _flash(key: str, text: str) -> Callable[[World], str]:
    def read(w: World) -> str:
        assert text in w.cache[key], "the flash message is missing"
        return w.cache[key]

    return read


def _vocabulary_entry(kind: str, which: str) -> Callable[[World], str]:
    return lambda w: w.page(w.admin, f"/admin/vocabulary/{kind}/{w.ids[f'{kind}-{which}']}")


class Surface(NamedTuple):
    kind: str  # which check applies: html, text or csv
    read: Callable[[World], str]
    fields: tuple[str, ...]


PROFILE = ("name", "team", "project", "interest", "location", "video")
SURFACES: dict[str, Surface] = {
    # What Ada sees of Bob.
    "dashboard": Surface("html", lambda w: w.page(w.ada, "/dashboard/"), (*PROFILE, "kudos")),
    "feedback form": Surface(
        "html", lambda w: w.page(w.ada, f"/feedback/pairing/{w.ids['group']}"), ("name", "team")
    ),
    "feedback link (no login)": Surface(
        "html",
        lambda w: w.page(
            w.anon,
            "/feedback/"
            + make_token(w.app.config, FEEDBACK, w.ids["ada-membership"], w.ids["ada"]),
        ),
        ("name", "team"),
    ),
    # The do-not-pair list names addresses only, never the person behind one.
    # Suggestion lists: what other people wrote, offered as one types.
    "sign-up suggestions": Surface(
        "html",
        lambda w: w.page(w.anon, "/auth/signup"),
        ("team", "project", "interest", "location"),
    ),
    "profile edit suggestions": Surface(
        "html", lambda w: w.page(w.ada, "/me/edit"), ("team", "project", "interest", "location")
    ),
    # Bob's own values written back into form fields and textareas (attribute breakout).
    "own profile edit": Surface("html", lambda w: w.page(w.bob, "/me/edit"), PROFILE),
    "own profile": Surface("html", lambda w: w.page(w.bob, "/me/"), PROFILE),
    "own feedback answer": Surface(
        "html", lambda w: w.page(w.bob, f"/feedback/pairing/{w.ids['group']}"), ("kudos", "note")
    ),
    # The admin console.
    "admin people": Surface("html", lambda w: w.page(w.admin, "/admin/people"), ("name", "team")),
    "admin people search": Surface("html", lambda w: _search(w), ("name", "team")),
    "admin person page": Surface(
        "html",
        lambda w: w.page(w.admin, f"/admin/people/{w.ids['bob']}"),
        (*PROFILE, "kudos", "note"),
    ),
    "admin person page of a partner": Surface(
        "html", lambda w: w.page(w.admin, f"/admin/people/{w.ids['ada']}"), ("name",)
    ),
    "admin vocabulary offices": Surface(
        "html", lambda w: w.page(w.admin, "/admin/vocabulary/offices"), ("location",)
    ),
    "admin vocabulary teams": Surface(
        "html", lambda w: w.page(w.admin, "/admin/vocabulary/teams"), ("team",)
    ),
    "admin vocabulary projects": Surface(
        "html", lambda w: w.page(w.admin, "/admin/vocabulary/projects"), ("project",)
    ),
    "admin vocabulary interests": Surface(
        "html", lambda w: w.page(w.admin, "/admin/vocabulary/interests"), ("interest",)
    ),
    **{
        f"admin vocabulary {kind} entry ({which})": Surface(
            "html", _vocabulary_entry(kind, which), (field_name,)
        )
        for kind, field_name in (
            ("teams", "team"),
            ("projects", "project"),
            ("interests", "interest"),
        )
        for which in ("hostile", "plain")  # its own page; another's merge choices
    },
    "admin preview": Surface("html", lambda w: w.cache["admin preview"], ("name", "team")),
    "admin draft round": Surface("html", lambda w: w.cache["admin draft round"], ("name", "team")),
    "admin round": Surface(
        "html", lambda w: w.page(w.admin, f"/admin/rounds/{w.ids['round']}"), ("name", "team")
    ),
    "admin insights": Surface("html", lambda w: w.page(w.admin, "/admin/insights"), ("team",)),
    "admin audit log": Surface("html", lambda w: w.page(w.admin, "/admin/audit"), ("name",)),
    "admin action flash": Surface(
        "html", _flash("admin action flash", "is active again."), ("name",)
    ),
    # Mail to Ada: HTML escaped, plain text and subject exactly as typed.
    "pairing email html": Surface("html", lambda w: _mail(w, "pairing", "html"), PROFILE),
    "pairing email text": Surface("text", lambda w: _mail(w, "pairing", "plain"), PROFILE),
    "pairing email subject": Surface("text", lambda w: _mail(w, "pairing", "subject"), ("name",)),
    "pairing email reply-to": Surface("text", _reply_to, ("name",)),
    "reminder email html": Surface("html", lambda w: _mail(w, "reminder", "html"), ("name",)),
    "reminder email text": Surface("text", lambda w: _mail(w, "reminder", "plain"), ("name",)),
    "calendar invitation": Surface("text", _ics, ("name", "video")),
    # Bob's own "confirm your address" email greets him by the name he typed.
    "confirmation email html": Surface(
        "html", lambda w: _mail(w, "confirm", "html", "bob@example.com"), ("name",)
    ),
    "confirmation email text": Surface(
        "text", lambda w: _mail(w, "confirm", "plain", "bob@example.com"), ("name",)
    ),
    # Exports: formula-safe, value intact.
    "pairs.csv": Surface("csv", lambda w: _csv(w, "pairs"), ("name", "team")),
    "feedback.csv": Surface(
        "csv", lambda w: _csv(w, "feedback"), ("name", "team", "kudos", "note")
    ),
}
CASES = [(surface, f) for surface, spec in SURFACES.items() for f in spec.fields]


class TestStoredValues:
    """One class, so each world is torn down before the tests below use the same database."""

    @pytest.mark.parametrize(("surface", "field_name"), CASES)
    def test_hostile_value_is_safe_where_shown(self, world: World, surface: str, field_name: str):
        spec = SURFACES[surface]
        if surface not in world.cache:
            world.cache[surface] = spec.read(world)
        CHECKS[spec.kind](world.cache[surface], world.values[field_name])


def test_every_hostile_field_is_checked_somewhere():
    # A field added to hostile_values but listed on no surface would go silently unchecked.
    assert {f for spec in SURFACES.values() for f in spec.fields} == set(hostile_values("x"))


def test_line_breaks_in_a_name_add_no_calendar_property(app, client, make_user):
    make_user(email="ada@example.com", team="Payments")
    bob = make_user(email="bob@example.com", name="Bob" + CRLF_ATTENDEE, team="Search")
    evil_name, evil_interest = "Bob" + CRLF_ATTENDEE, "Rust" + CRLF_ATTENDEE
    with app.app_context():
        user = db.session.get(User, bob)
        # Sign-up collapses white space; a stored line break (old data, an import) is the
        # worst case, so write it directly. The shared interest lands in the description.
        assert user.display_name == "Bob ATTENDEE:mailto:evil@x"
        user.display_name = evil_name
        db.session.scalar(select(Interest).where(Interest.key == "rust")).name = evil_interest
        db.session.commit()
        (group,) = publishing.run_round(
            db.session, coffee(db.session), WEEK, publish=True
        ).round.groups
        db.session.commit()
        group_id = group.id
    login(client, "ada@example.com")
    response = client.get(f"/dashboard/pairings/{group_id}.ics")
    assert response.status_code == 200
    # No content line is the smuggled property (a folded continuation starts with a space).
    lines = response.data.split(b"\r\n")
    assert not [line for line in lines if line.upper().startswith(b"ATTENDEE:")]
    (event,) = Calendar.from_ical(response.data).walk("VEVENT")
    assert "attendee" not in event  # a PUBLISH entry invites nobody, and none was smuggled in
    assert str(event["organizer"]) == "mailto:ada@example.com"

    def intact(value: str) -> str:
        # The format keeps a line break as LF (RFC 5545 \\n): CR is dropped.
        return value.replace("\r\n", "\n")

    assert str(event["summary"]) == f"Cross-team coffee: coffee with {intact(evil_name)}"
    assert f"{intact(evil_name)} <bob@example.com>" in str(event["description"])
    assert intact(evil_interest) in str(event["description"])
    # Bob's copy: his name, line break and all, is the organiser's CN (RFC 6868 ^n).
    bob_client = app.test_client()
    login(bob_client, "bob@example.com")
    response = bob_client.get(f"/dashboard/pairings/{group_id}.ics")
    lines = response.data.split(b"\r\n")
    assert not [line for line in lines if line.upper().startswith(b"ATTENDEE:")]
    (event,) = Calendar.from_ical(response.data).walk("VEVENT")
    assert "attendee" not in event
    assert str(event["organizer"].params["CN"]) == intact(evil_name)
