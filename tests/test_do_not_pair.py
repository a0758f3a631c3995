"""The do-not-pair list: by address, the same answer whether or not it has an account."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import DoNotPair, PendingDoNotPair, User
from matcher.rounds import participants, planning
from matcher.weeks import week_label
from tests.support import MEMBER_PASSWORD, coffee, login, signup_data, verify_from_outbox


@pytest.fixture
def ada(client, make_user) -> int:
    user_id = make_user(email="ada@example.com", name="Ada Lovelace")
    login(client, "ada@example.com")
    return user_id


def rows(app) -> tuple[list[tuple[int, int]], list[tuple[int, str]]]:
    """(DoNotPair (owner, blocked) pairs, PendingDoNotPair (owner, email) pairs)."""
    with app.app_context():
        blocked = db.session.execute(select(DoNotPair.user_id, DoNotPair.blocked_user_id)).all()
        pending = db.session.execute(select(PendingDoNotPair.user_id, PendingDoNotPair.email)).all()
        return [tuple(r) for r in blocked], [tuple(r) for r in pending]


def add(client, email: str):
    return client.post("/me/do-not-pair", data={"email": email}, follow_redirects=True)


def without(page: str, *addresses: str) -> str:
    """The page with each address (in any letter case) replaced by ADDRESS, CSRF tokens out."""
    # The log-out form's token is signed with a timestamp: it differs from second to second.
    page = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', page)
    for address in addresses:
        page = re.sub(re.escape(address), "ADDRESS", page, flags=re.IGNORECASE)
    return page


def test_an_address_with_an_account_is_listed_by_address_and_removed(app, client, ada, make_user):
    bob = make_user(email="bob@example.com", name="Bob Builder", team="Search")
    page = add(client, " BOB@example.com ").get_data(as_text=True)
    assert "We’ll never pair you with BOB@example.com." in page
    # Listed by the address typed, never by the other person's name.
    assert "bob@example.com" in page and "Bob Builder" not in page
    assert rows(app) == ([(ada, bob)], [])
    add(client, "bob@example.com")  # the same address twice is one entry
    assert rows(app) == ([(ada, bob)], [])
    assert "(1)" in client.get("/me/").get_data(as_text=True)
    response = client.post("/me/do-not-pair/remove", data={"email": "bob@example.com"})
    assert response.status_code == 302
    assert rows(app) == ([], [])


def test_an_address_without_an_account_is_kept_and_removed_the_same_way(app, client, ada):
    page = add(client, "Ghost@Example.com").get_data(as_text=True)
    assert "We’ll never pair you with Ghost@Example.com." in page
    assert "ghost@example.com" in page and "Nobody" not in page
    add(client, "ghost@example.com")
    assert rows(app) == ([], [(ada, "ghost@example.com")])
    client.post("/me/do-not-pair/remove", data={"email": "GHOST@example.com"})
    assert rows(app) == ([], [])


def test_the_answer_does_not_tell_whether_an_address_has_an_account(app, client, ada, make_user):
    make_user(email="bob@example.com", name="Bob Builder", team="Search")
    pages = {}
    for address in ("bob@example.com", "eve@example.com"):
        response = add(client, address)
        assert response.status_code == 200
        pages[address] = without(response.get_data(as_text=True), address)
        removed = client.post(
            "/me/do-not-pair/remove", data={"email": address}, follow_redirects=True
        )
        assert f"Removed {address}" in removed.get_data(as_text=True)
    # Word for word the same page (answer, list, remove form), but for the address itself.
    assert pages["bob@example.com"] == pages["eve@example.com"]
    assert "never pair you with ADDRESS" in pages["bob@example.com"]
    assert rows(app) == ([], [])


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("ada@example.com", "That is your own address"),
        (" ADA@example.com", "That is your own address"),
        ("not an email", "Not a valid email"),
        ("", "Whose email?"),
    ],
)
def test_refusals_say_why_next_to_the_field(app, client, ada, email, message):
    response = client.post("/me/do-not-pair", data={"email": email})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="email-error" role="alert">[^<]*' + re.escape(message), page)
    assert rows(app) == ([], [])


def test_signing_up_later_turns_the_entry_into_a_block_the_rounds_see(app, client, ada):
    add(client, "Grace@example.com")
    newcomer = app.test_client()
    response = newcomer.post("/auth/signup", data=signup_data(email="GRACE@example.com"))
    assert response.status_code == 302
    verify_from_outbox(app, "grace@example.com", newcomer)
    with app.app_context():
        grace = db.session.scalar(select(User.id).where(User.email == "grace@example.com"))
    assert rows(app) == ([(ada, grace)], [])
    # Still one entry, by address, on Ada's list.
    page = client.get("/me/do-not-pair").get_data(as_text=True)
    assert page.count('name="email" value="grace@example.com"') == 1  # one remove form
    with app.app_context():
        ids = {ada, grace}
        assert participants.load_blocked(db.session, ids) == [(ada, grace)]
        plan = planning.plan_round(
            db.session, coffee(db.session), week_label(datetime.now(UTC).date())
        )
        assert all(set(g.user_ids) != ids for g in plan.groups)
        assert (ada, grace) in {tuple(sorted(pair)) for pair in plan.problem.blocked}


def test_every_way_of_creating_an_account_claims_the_entries(app, client, ada, make_user):
    """The registration service does it, so the CLI and other callers get it too."""
    add(client, "root@example.com")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create-admin", "root@example.com"],
        input="admin password 1\nadmin password 1\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        root = db.session.scalar(select(User.id).where(User.email == "root@example.com"))
    assert rows(app) == ([(ada, root)], [])


def test_export_lists_both_kinds_by_address(app, client, ada, make_user):
    make_user(email="bob@example.com", name="Bob Builder", team="Search")
    add(client, "bob@example.com")
    add(client, "zed@example.com")
    data = json.loads(client.get("/me/export").get_data(as_text=True))
    assert [e["email"] for e in data["do_not_pair"]] == ["bob@example.com", "zed@example.com"]
    assert all(set(e) == {"email", "added_at"} for e in data["do_not_pair"])


def test_deleting_the_account_erases_its_entries_of_both_kinds(app, client, ada, make_user):
    make_user(email="bob@example.com", name="Bob Builder", team="Search")
    add(client, "bob@example.com")
    add(client, "zed@example.com")
    response = client.post("/me/delete", data={"password": MEMBER_PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    assert rows(app) == ([], [])


def test_an_entry_naming_a_deleted_account_stays_on_the_owners_list(app, client, ada, make_user):
    make_user(email="bob@example.com", name="Bob Builder", team="Search")
    add(client, "bob@example.com")
    bob_client = app.test_client()
    login(bob_client, "bob@example.com")
    bob_client.post("/me/delete", data={"password": MEMBER_PASSWORD, "confirm": "y"})
    # Ada's list looks the same, and the address is still kept apart if it signs up again.
    assert rows(app) == ([], [(ada, "bob@example.com")])
    assert "bob@example.com" in client.get("/me/do-not-pair").get_data(as_text=True)
    again = make_user(email="bob@example.com", name="Bob Again", team="Search")
    assert rows(app) == ([(ada, again)], [])


def test_the_list_is_bounded(app, client, ada, monkeypatch):
    from matcher.profile import service

    monkeypatch.setattr(service, "DO_NOT_PAIR_MAX", 2)
    add(client, "one@example.com")
    add(client, "two@example.com")
    response = client.post("/me/do-not-pair", data={"email": "three@example.com"})
    assert response.status_code == 422 and "Your list is full" in response.get_data(as_text=True)
    assert add(client, "two@example.com").status_code == 200  # already there: still fine
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PendingDoNotPair)) == 2


def test_adding_is_rate_limited_like_log_in(app_factory, make_user):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    make_user(email="ada@example.com")
    client = app.test_client()
    login(client, "ada@example.com")
    codes = [
        client.post("/me/do-not-pair", data={"email": f"p{n}@example.com"}).status_code
        for n in range(11)
    ]
    assert codes[:10] == [302] * 10 and codes[10] == 429
    # From other addresses too, one account gets 20 an hour: guessing does not scale.
    more = [
        client.post(
            "/me/do-not-pair",
            data={"email": f"q{n}@example.com"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},
        ).status_code
        for n in range(11)
    ]
    assert more[:10] == [302] * 10 and more[10] == 429
    assert client.get("/me/do-not-pair").status_code == 200  # reading the list still works
