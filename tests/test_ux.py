"""Usability and accessibility details found in a browser review, kept from coming back."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from matcher.extensions import db
from matcher.links import FEEDBACK, make_token
from matcher.models import Membership, ProgrammeMember, User
from matcher.rounds import participants, publishing
from matcher.weeks import week_label
from tests.support import coffee, coffee_member, login

WEEK = week_label(datetime.now(UTC).date())


def signup_data(**changes: str) -> dict[str, str]:
    data = {
        "display_name": "Grace Hopper",
        "email": "grace@example.com",
        "password": "a long enough password",
        "confirm": "a long enough password",
        "team": "Compilers",
        "projects": "Cobol, Flow-matic",
        "interests": "Sailing",
        "cadence_weeks": "1",
        "meeting_mode": "either",
        "location": "Arlington",
        "timezone": "UTC",
    }
    data.update(changes)
    return data


def describedby_targets_exist(page: str) -> None:
    """Every id named by an aria-describedby is on the page."""
    ids = set(re.findall(r'\sid="([^"]+)"', page))
    for value in re.findall(r'aria-describedby="([^"]*)"', page):
        for target in value.split():
            assert target in ids, f"aria-describedby names a missing id: {target}"


def member_of(app, user_id: int) -> ProgrammeMember:
    """The user's place in the cross-team coffee, detached."""
    with app.app_context():
        member = coffee_member(db.session, user_id)
        db.session.expunge(member)
        return member


def set_snooze(app, user_id: int, until: date | None) -> None:
    with app.app_context():
        coffee_member(db.session, user_id).snoozed_until = until
        db.session.commit()


def long_date(d: date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def week_of(monday: date) -> str:
    return f"the week of {monday.day} {monday:%B %Y}"


@pytest.fixture
def colleagues(app, make_user, admin):
    """Four people in four teams (the admin opts out); returns {name: id}."""
    people = {
        name: make_user(email=f"{name.split()[0].lower()}@example.com", name=name, team=team)
        for name, team in [
            ("Ada Lovelace", "Payments"),
            ("Cy Young", "Search"),
            ("Eve Moss", "Platform"),
            ("Fay Wray", "Mobile"),
        ]
    }
    with app.app_context():
        coffee_member(db.session, admin).opted_out = True
        db.session.commit()
    return people


# --- 1, 2: layout classes --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/auth/login", "/auth/reset"])
def test_narrow_auth_pages_do_not_use_the_small_text_utility(client, path):
    page = client.get(path).get_data(as_text=True)
    assert 'class="narrow-sm"' in page
    assert "narrow small" not in page


def test_profile_status_is_a_banner_not_a_status_pill(client, make_user):
    make_user()
    login(client, "ada@example.com")
    page = client.get("/me/").get_data(as_text=True)
    assert 'class="profile-status profile-status-ok"' in page
    assert 'class="status"' not in page
    assert '<dl class="facts">' in page


def test_delete_page_spaces_its_cancel_link_and_is_narrow(client, make_user):
    make_user()
    login(client, "ada@example.com")
    page = client.get("/me/delete").get_data(as_text=True)
    assert 'class="narrow-sm"' in page
    assert re.search(r'<p class="form-actions">\s*<input[^>]*type="submit"[^>]*>\s*<a ', page)


def test_stylesheet_keeps_wide_content_inside_a_phone_screen(client):
    css = client.get("/static/style.css").get_data(as_text=True)
    assert re.search(r"fieldset \{[^}]*min-width: 0", css)
    assert "grid-template-columns: 8rem minmax(0, 1fr)" in css
    assert "overflow-wrap: anywhere" in css
    assert "minmax(min(420px, 100%), 1fr)" in css
    assert re.search(r"svg\.chart\.heatmap \{ max-width: none; \}", css)
    assert ".visually-hidden {" in css and ".narrow-sm {" in css


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/people", "/admin/rounds", "/admin/audit", "/admin/vocabulary/"]
)
def test_admin_tables_scroll_sideways_instead_of_widening_the_page(app, client, colleagues, path):
    with app.app_context():
        publishing.run_round(
            db.session, coffee(db.session), WEEK
        )  # a draft: the overview and rounds list show it
        db.session.commit()
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    tables = len(re.findall(r"<table[ >]", page))
    wrapped = len(re.findall(r'<div class="table-scroll">\s*<table[ >]', page))
    assert tables >= 1 and tables == wrapped


def test_what_if_table_scrolls(client, colleagues):
    response = client.get("/admin/whatif", query_string={"group_size": "2"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<table" in page
    assert len(re.findall(r"<table[ >]", page)) == len(
        re.findall(r'<div class="table-scroll">\s*<table[ >]', page)
    )


# --- 3: insights heatmap ----------------------------------------------------------------


def test_heatmap_keeps_its_size_and_describes_itself(app, client, colleagues):
    from matcher.models import Feedback

    with app.app_context():
        round_ = publishing.run_round(db.session, coffee(db.session), WEEK, publish=True).round
        # Everyone says "we met": the first map counts meetings, not matches.
        for m in db.session.scalars(select(Membership).where(Membership.round_id == round_.id)):
            db.session.add(
                Feedback(membership_id=m.id, group_id=m.group_id, user_id=m.user_id, status="met")
            )
        db.session.commit()
    page = client.get("/admin/insights").get_data(as_text=True)
    heatmap = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart heatmap"') :]
    heatmap = heatmap[: heatmap.index("</svg>")]
    desc = re.search(r"<desc>(.*?)</desc>", heatmap, re.S)
    assert desc, "the heatmap has a text alternative"
    assert "team pairs have met at least once" in desc.group(1)
    assert "Most connected:" in desc.group(1)
    assert "same team, none" in heatmap  # the greyed diagonal is in the legend
    # Its box scrolls, and a keyboard can reach it to scroll.
    assert re.search(r'<div class="chart-box" tabindex="0"[^>]*aria-label="[^"]+">\s*<svg', page)


def test_heatmap_summary_escapes_and_names_the_loners():
    from matcher.admin import charts

    svg = charts.heatmap(["A", "B", "<C>"], [[0, 2, 0], [2, 1, 0], [0, 0, 0]], "t", "l")
    assert "<desc>3 teams; 1 of 3 team pairs have met at least once." in svg
    assert "A and B (2 pairs of people)" in svg
    assert "Not met any other team shown yet: &lt;C&gt;." in svg


# --- 4: confirmation before destructive admin actions ------------------------------------


def test_publish_and_discard_ask_first(app, client, colleagues):
    with app.app_context():
        round_id = publishing.run_round(db.session, coffee(db.session), WEEK).round.id
        db.session.commit()
    page = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    publish = re.search(r'<form[^>]*action="[^"]*/publish"[^>]*>', page).group(0)
    discard = re.search(r'<form[^>]*action="[^"]*/discard"[^>]*>', page).group(0)
    assert re.search(r'data-confirm="Publish [^"]*pairing email', publish)
    assert re.search(r'data-confirm="Discard the draft', discard)


def test_people_actions_ask_first_and_name_the_person(client, colleagues):
    page = client.get("/admin/people").get_data(as_text=True)
    assert 'aria-label="Search people by name, email or team"' in page
    assert 'data-confirm="Make Ada Lovelace an admin?' in page
    assert 'data-confirm="Deactivate Ada Lovelace?' in page
    assert 'data-confirm="Revoke the admin rights of Root Admin?' in page
    assert 'Make admin<span class="visually-hidden">: Ada Lovelace</span></button>' in page
    assert 'Deactivate<span class="visually-hidden">: Cy Young</span></button>' in page


def test_people_confirmations_escape_names(app, client, admin, make_user):
    make_user(email="q@example.com", name='Bo "Quote" <b>')
    page = client.get("/admin/people").get_data(as_text=True)
    assert 'data-confirm="Make Bo &#34;Quote&#34; &lt;b&gt; an admin?' in page


def test_the_confirm_handler_is_in_app_js_and_no_page_needs_inline_script(client):
    script = client.get("/static/app.js").get_data(as_text=True)
    assert "data-confirm" in script and "window.confirm(" in script
    assert "preventDefault()" in script


def test_without_javascript_a_confirmed_action_simply_happens(app, client, colleagues):
    # The attribute changes nothing on the server: a plain POST still works.
    ada = colleagues["Ada Lovelace"]
    response = client.post(f"/admin/people/{ada}/deactivate")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, ada).active is False


# --- 5: accessibility ----------------------------------------------------------------------


def test_aria_describedby_only_names_rendered_help_and_errors(client, make_user):
    pages = [client.get(p).get_data(as_text=True) for p in ("/auth/login", "/auth/signup")]
    pages.append(client.post("/auth/signup", data=signup_data(email="x")).get_data(as_text=True))
    pages.append(client.post("/auth/login", data={}).get_data(as_text=True))
    make_user()
    login(client, "ada@example.com")
    pages += [client.get(p).get_data(as_text=True) for p in ("/me/", "/me/edit", "/me/delete")]
    for page in pages:
        describedby_targets_exist(page)
    login_page = pages[0]
    # A field with neither help nor error gets no aria-describedby at all.
    email = re.search(r"<input[^>]*id=\"email\"[^>]*>", login_page).group(0)
    assert "aria-describedby" not in email
    bad = re.search(r"<input[^>]*id=\"email\"[^>]*>", pages[2]).group(0)
    assert 'aria-describedby="email-error"' in bad and 'aria-invalid="true"' in bad


def test_do_not_pair_remove_buttons_name_the_address(client, make_user):
    make_user()
    make_user(email="bob@example.com", name="Bob Builder")
    login(client, "ada@example.com")
    client.post("/me/do-not-pair", data={"email": "bob@example.com"})
    page = client.get("/me/do-not-pair").get_data(as_text=True)
    # By the address typed: the person's name would tell that the address has an account.
    assert 'Remove<span class="visually-hidden">: bob@example.com</span></button>' in page
    assert "Bob Builder" not in page


def test_feedback_form_groups_every_radio_set_in_a_fieldset(app, client, colleagues):
    with app.app_context():
        publishing.run_round(db.session, coffee(db.session), WEEK, publish=True)
        db.session.commit()
        m = db.session.scalars(select(Membership).order_by(Membership.id)).first()
        link = "/feedback/" + make_token(app.config, FEEDBACK, m.id, m.user_id)
    page = client.get(link).get_data(as_text=True)
    legends = re.findall(r"<legend>(.*?)</legend>", page)
    assert "Would you meet again?" in legends
    assert "Did you meet?" in legends
    block = page[page.index('<fieldset class="meet-again"') :]
    block = block[: block.index("</fieldset>")]
    assert 'name="would_meet_again"' in block
    assert (
        'aria-describedby="would_meet_again-help"' in block
        and 'id="would_meet_again-help"' in block
    )
    describedby_targets_exist(page)


# --- 6: password rule up front; values kept ------------------------------------------------


def test_signup_says_the_password_rule_before_any_mistake(app_factory):
    client = app_factory(PASSWORD_MIN_LENGTH=14).test_client()
    page = client.get("/auth/signup").get_data(as_text=True)
    assert '<p class="help" id="password-help">At least 14 characters.</p>' in page
    password = re.search(r'<input[^>]*id="password"[^>]*>', page).group(0)
    assert 'aria-describedby="password-help"' in password


def test_reset_form_says_the_same_rule_read_per_app(app_factory):
    from matcher.auth.forms import ResetPasswordForm, SignupForm

    for minimum in (12, 16):
        app = app_factory(PASSWORD_MIN_LENGTH=minimum)
        with app.test_request_context():
            for form in (ResetPasswordForm(), SignupForm()):
                assert form.password.description == f"At least {minimum} characters."
                assert not form.confirm.description


def test_signup_keeps_what_was_typed_except_passwords(client):
    data = signup_data(password="short", confirm="short")
    response = client.post("/auth/signup", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Use at least 10 characters." in page
    for name in ("display_name", "email", "team", "projects", "interests", "location"):
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(data[name])}"', page), name
    assert 'value="short"' not in page
    assert '<option selected value="either">' in page or 'selected value="either"' in page


# --- 7: snooze wording ---------------------------------------------------------------------


def status_text(client) -> str:
    page = client.get("/me/").get_data(as_text=True)
    block = page[page.index('<section class="profile-status') :]
    block = re.sub(r"<[^>]+>", " ", block[: block.index("</section>")])
    return " ".join(block.split())


def test_skipping_a_round_says_that_week_is_skipped_and_when_you_are_back(app, client, make_user):
    # The dashboard's "Skip the next round" snoozes until that round's Monday, inclusive.
    ada = make_user()
    login(client, "ada@example.com")
    today = date.today()
    monday = today + timedelta(days=7 - today.weekday())  # the coming Monday
    set_snooze(app, ada, monday)
    text = status_text(client)
    assert text.startswith(
        f"Snoozed until {long_date(monday)}: no pairings up to and including that week’s round. "
        f"You are back in the pairings from {week_of(monday + timedelta(days=7))}."
    )
    assert "until then" not in text
    assert member_of(app, ada).is_snoozed(today)


def test_a_snooze_ending_mid_week_names_the_monday_of_the_last_week_left_out(
    app, client, make_user
):
    ada = make_user()
    login(client, "ada@example.com")
    until = date.today() + timedelta(days=30)
    until += timedelta(days=2 if until.weekday() == 0 else 0)  # not a Monday
    set_snooze(app, ada, until)
    last_monday = until - timedelta(days=until.weekday())
    text = status_text(client)
    assert text.startswith(
        f"Snoozed until {long_date(until)}: no pairings up to and including the round for "
        f"{week_of(last_monday)}. You are back in the pairings from "
        f"{week_of(last_monday + timedelta(days=7))}."
    )


def test_the_snooze_text_matches_who_the_round_leaves_out(app, client, make_user):
    """The week named as the last one skipped really is skipped, and the next is not."""
    ada = make_user()
    make_user(email="cy@example.com", name="Cy Young", team="Search")
    until = date.today() + timedelta(days=20)
    set_snooze(app, ada, until)
    last_monday = until - timedelta(days=until.weekday())
    with app.app_context():
        inside, _ = participants.select_participants(db.session, coffee(db.session), last_monday)
        after, _ = participants.select_participants(
            db.session, coffee(db.session), last_monday + timedelta(days=7)
        )
    assert ada not in {p.id for p in inside}
    assert ada in {p.id for p in after}


# --- 8: email taken ------------------------------------------------------------------------


def test_email_taken_answers_as_a_new_address_does(client, make_user):
    # "Already exists, log in?" told anyone who had an account: now the page is the same for
    # both and the owner gets an email (tests/test_verification.py).
    make_user(email="grace@example.com")
    evil = '<a href="//evil">x</a>'
    response = client.post(
        "/auth/signup", data=signup_data(email="Grace@example.com", display_name=evil)
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Check your email" in page and "already exists" not in page
    assert evil not in page


def test_other_email_errors_stay_escaped(client):
    page = client.post("/auth/signup", data=signup_data(email="<b>x")).get_data(as_text=True)
    assert "<b>x" not in page
    assert "That does not look like an email address." in page


# --- favicon ---------------------------------------------------------------------------------


def test_every_page_links_an_icon_and_favicon_ico_answers(client):
    page = client.get("/auth/login").get_data(as_text=True)
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert link, "no icon link"
    icon = client.get(link.group(1))
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.get_data(as_text=True).lstrip().startswith("<svg")
    # Browsers and tools still ask for /favicon.ico: the same icon, not a 404.
    legacy = client.get("/favicon.ico")
    assert legacy.status_code == 200 and legacy.mimetype == "image/svg+xml"
    assert legacy.get_data() == icon.get_data()
