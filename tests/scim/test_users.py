"""/Users through scim2-client as an identity provider uses it: create, read, filter, page,
replace, patch (Okta's and Entra's forms), pause and resume, erase; managers and teams."""

from __future__ import annotations

import pytest
from scim2_models import (
    ListResponse,
    NotFoundException,
    PatchOp,
    PatchOperation,
    ResponseParameters,
    SearchRequest,
)
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import OutboxMessage, PendingErasure, ProgrammeMember, User
from matcher.roster.service import PAUSED_BY_DIRECTORY
from matcher.scim.resources import Email, EnterpriseUser, Manager, UserResource
from tests.scim.support import ENTERPRISE, assert_scim_error, operations, person, send, user_body


def new_user(email: str, name: str = "Ada Lovelace", **fields) -> UserResource:
    return UserResource(
        user_name=email,
        display_name=name,
        active=fields.pop("active", True),
        emails=[Email(value=email, type="work")],
        **fields,
    )


def invitations(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .join(User, User.id == OutboxMessage.user_id)
            .where(OutboxMessage.kind == "invitation", User.email == email)
        )


def patch(scim, user_id: str, *ops: PatchOperation) -> UserResource:
    return scim.modify(UserResource, user_id, PatchOp[UserResource](operations=list(ops)))


def op(kind: str, path: str | None, value=None) -> PatchOperation:
    return PatchOperation[UserResource](op=kind, path=path, value=value)


def test_create_invites_and_reads_back(app, scim):
    created = scim.create(new_user("Ada@Example.com", external_id="00u1", timezone="Europe/London"))
    assert created.id and created.user_name == "Ada@Example.com"
    assert created.display_name == "Ada Lovelace" and created.active is True
    assert created.external_id == "00u1"
    assert [(e.value, e.type) for e in created.emails] == [("ada@example.com", "work")]
    assert created.timezone is None  # write-only: taken, never returned
    assert created.meta.location == f"http://localhost/scim/v2/Users/{created.id}"
    assert created.meta.resource_type == "User" and created.meta.created is not None
    stored = person(app, "ada@example.com")
    assert stored.password_hash is None and not stored.is_verified
    assert stored.invited_at is not None and stored.profile.timezone == "Europe/London"
    assert invitations(app, "ada@example.com") == 1
    fetched = scim.query(UserResource, created.id)
    assert fetched.user_name == "Ada@Example.com" and fetched.id == created.id


def test_user_name_that_is_not_an_address_needs_emails(app, scim, client, headers):
    created = scim.create(
        UserResource(
            user_name="ada.lovelace",
            display_name="Ada",
            active=True,
            emails=[Email(value="ada@corp.example", type="work")],
        )
    )
    assert created.user_name == "ada.lovelace"
    assert person(app, "ada@corp.example") is not None
    body = {"schemas": [user_body("x@y.z")["schemas"][0]], "userName": "bob", "active": True}
    refused = send(client, "POST", "/Users", headers, body)
    assert "emails" in assert_scim_error(refused, 400)["detail"]
    assert person(app, "bob") is None


def test_okta_style_minimal_body_fills_in_the_rest(app, client, headers):
    body = {
        "schemas": [user_body("x@y.z")["schemas"][0]],
        "userName": "grace@example.com",
        "name": {"givenName": "Grace", "familyName": "Hopper"},
        "password": "not kept",
        "locale": "en-US",
    }
    response = send(client, "POST", "/Users", headers, body)
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith(f"/Users/{response.get_json()['id']}")
    payload = response.get_json()
    assert payload["displayName"] == "Grace Hopper" and payload["active"] is True
    assert payload["emails"] == [{"value": "grace@example.com", "type": "work"}]
    assert "password" not in payload and "name" not in payload


def test_inactive_creation_sends_no_invitation_until_reactivated(app, scim):
    created = scim.create(new_user("cy@example.com", active=False))
    assert created.active is False
    assert invitations(app, "cy@example.com") == 0
    assert patch(scim, created.id, op("replace", "active", True)).active is True
    assert invitations(app, "cy@example.com") == 1


def test_duplicate_user_name_is_a_uniqueness_conflict(app, scim, client, headers):
    scim.create(new_user("ada@example.com"))
    again = send(client, "POST", "/Users", headers, user_body("ADA@example.com"))
    assert_scim_error(again, 409, "uniqueness")
    other_name = user_body("ada@example.com", userName="ada2")
    assert_scim_error(send(client, "POST", "/Users", headers, other_name), 409, "uniqueness")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_existing_account_is_taken_over_by_email(app, scim, make_user):
    user_id = make_user(email="bob@example.com", name="Bob", team="Search")
    created = scim.create(new_user("bob@example.com", "Robert Smith"))
    assert created.id == str(user_id)
    stored = person(app, "bob@example.com")
    assert stored.display_name == "Robert Smith" and stored.is_verified
    assert stored.team.name == "Search"  # no enterprise extension: the team stays
    assert invitations(app, "bob@example.com") == 0


def test_filters(scim, make_user, client, headers):
    make_user(email="dee@example.com", name="Dee", team="Search")
    ada = scim.create(new_user("ada@example.com", external_id="E-1"))
    scim.create(new_user("bob@example.com", "Bob Builder", external_id="E-2"))

    def found(text: str) -> list[str]:
        listing = scim.query(UserResource, query_parameters=SearchRequest(filter=text))
        return sorted(u.user_name for u in listing.resources or [])

    assert found('userName eq "ADA@EXAMPLE.COM"') == ["ada@example.com"]
    assert found('userName eq "dee@example.com"') == ["dee@example.com"]
    assert found('externalId eq "E-2"') == ["bob@example.com"]
    assert found('externalId eq "e-2"') == []  # externalId is case-exact
    assert found(f'id eq "{ada.id}"') == ["ada@example.com"]
    assert found('id eq "not-a-number"') == []
    assert found('emails.value co "example"') == [
        "ada@example.com",
        "bob@example.com",
        "dee@example.com",
    ]
    assert found('displayName sw "bob" or userName eq "dee@example.com"') == [
        "bob@example.com",
        "dee@example.com",
    ]
    assert found("active eq true and not (externalId pr)") == ["dee@example.com"]
    assert found(f'{ENTERPRISE}:department eq "search"') == ["dee@example.com"]
    assert found('userName eq "100%_"') == []
    for text in (
        'userName gt "a"',
        'title eq "x"',
        'emails[type eq "work"]',
        "userName eq",
        'urn:example:other:nick eq "x"',
        "active eq 1",
        "x" * 2500,
    ):
        response = client.get("/scim/v2/Users", headers=headers, query_string={"filter": text})
        assert_scim_error(response, 400, "invalidFilter")


def test_pages(scim):
    for number in range(5):
        scim.create(new_user(f"p{number}@example.com", f"Person {number}"))
    page = scim.query(UserResource, query_parameters=SearchRequest(start_index=2, count=2))
    assert isinstance(page, ListResponse)
    assert page.total_results == 5 and page.start_index == 2 and page.items_per_page == 2
    assert [u.user_name for u in page.resources] == ["p1@example.com", "p2@example.com"]
    counted = scim.query(UserResource, query_parameters=SearchRequest(count=0))
    assert counted.total_results == 5 and not counted.resources
    last = scim.query(UserResource, query_parameters=SearchRequest(start_index=5, count=10))
    assert [u.user_name for u in last.resources] == ["p4@example.com"]


def test_attributes_and_excluded_attributes(scim, client, headers):
    ada = scim.create(new_user("ada@example.com", external_id="E-1"))
    only = client.get(
        f"/scim/v2/Users/{ada.id}", headers=headers, query_string={"attributes": "externalId"}
    ).get_json()
    assert only["externalId"] == "E-1" and "displayName" not in only and only["id"] == ada.id
    without = client.get(
        "/scim/v2/Users", headers=headers, query_string={"excludedAttributes": "emails,groups"}
    ).get_json()["Resources"][0]
    assert "emails" not in without and without["userName"] == "ada@example.com"
    picked = scim.query(
        UserResource,
        ada.id,
        query_parameters=ResponseParameters(attributes=["userName"]),
    )
    assert picked.user_name == "ada@example.com" and picked.display_name is None


def test_replace(app, scim):
    created = scim.create(new_user("ada@example.com", external_id="E-1"))
    wanted = new_user("ada.lovelace@example.com", "Ada King", external_id=None)
    wanted.id = created.id
    replaced = scim.replace(wanted)
    assert replaced.user_name == "ada.lovelace@example.com"
    assert replaced.display_name == "Ada King"
    assert replaced.external_id is None  # PUT replaces: left out means cleared
    assert person(app, "ada@example.com") is None
    stored = person(app, "ada.lovelace@example.com")
    assert stored.id == int(created.id) and stored.external_id is None


def test_patch_entra_style(app, scim, client, headers):
    ada = scim.create(new_user("ada@example.com"))
    body = operations(
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "ada@corp.example"},
        {"op": "Add", "path": 'addresses[type eq "work"].locality', "value": "Lisbon"},
        {"op": "Replace", "path": "timezone", "value": "Europe/Lisbon"},
        {"op": "Replace", "path": "title", "value": "Countess"},
        {"op": "Add", "path": "externalId", "value": "aad-1"},
    )
    response = send(client, "PATCH", f"/Users/{ada.id}", headers, body)
    assert response.status_code == 200, response.get_json()
    payload = response.get_json()
    assert payload["active"] is False and payload["externalId"] == "aad-1"
    assert payload["emails"] == [{"value": "ada@corp.example", "type": "work"}]
    stored = person(app, "ada@corp.example")
    assert stored.profile.location == "Lisbon" and stored.profile.timezone == "Europe/Lisbon"
    resumed = send(
        client,
        "PATCH",
        f"/Users/{ada.id}",
        headers,
        operations({"op": "replace", "value": {"active": "True", "displayName": "Ada L."}}),
    ).get_json()
    assert resumed["active"] is True and resumed["displayName"] == "Ada L."
    whole = send(
        client,
        "PATCH",
        f"/Users/{ada.id}",
        headers,
        operations(
            {"op": "Replace", "path": "name.givenName", "value": "Augusta"},
            {"op": "Replace", "path": "name.familyName", "value": "King"},
        ),
    ).get_json()
    assert whole["displayName"] == "Augusta King"
    partial = send(
        client,
        "PATCH",
        f"/Users/{ada.id}",
        headers,
        operations({"op": "Replace", "path": "name.givenName", "value": "Ada"}),
    ).get_json()
    assert partial["displayName"] == "Augusta King"  # half a name makes no display name


def test_patch_refusals_change_nothing(app, scim, client, headers):
    ada = scim.create(new_user("ada@example.com"))
    scim.create(new_user("bob@example.com", "Bob"))
    cases = [
        ({"op": "replace", "path": "timezone", "value": "Mars/Olympus"}, "invalidValue"),
        ({"op": "replace", "path": "userName", "value": "BOB@example.com"}, "uniqueness"),
        (
            {"op": "replace", "path": "emails", "value": [{"value": "bob@example.com"}]},
            "uniqueness",
        ),
        ({"op": "remove", "path": "userName"}, None),
        ({"op": "replace", "path": "id", "value": "7"}, None),
        ({"op": "frobnicate", "path": "active", "value": True}, "invalidValue"),
        ({"op": "replace", "path": "displayName", "value": 42}, "invalidValue"),
        ({"op": "replace", "path": "displayName", "value": "x" * 81}, "invalidValue"),
        ({"op": "replace", "path": "emails[[", "value": "x"}, "invalidPath"),
        ({"op": "replace", "path": "active", "value": "maybe"}, "invalidValue"),
    ]
    for operation, scim_type in cases:
        response = send(client, "PATCH", f"/Users/{ada.id}", headers, operations(operation))
        status = 409 if scim_type == "uniqueness" else 400
        assert_scim_error(response, status, scim_type)
    for body in ({}, {"Operations": []}, {"Operations": "x"}, operations()):
        assert_scim_error(send(client, "PATCH", f"/Users/{ada.id}", headers, body), 400)
    stored = person(app, "ada@example.com")
    assert stored.display_name == "Ada Lovelace" and stored.roster_values["active"] is True


def test_manager_and_department(app, scim, client, headers):
    boss = scim.create(new_user("boss@example.com", "Bea Boss"))
    ada = scim.create(new_user("ada@example.com"))
    ada_full = scim.replace(
        UserResource(
            id=ada.id,
            user_name="ada@example.com",
            display_name="Ada Lovelace",
            active=True,
            emails=[Email(value="ada@example.com", type="work")],
            EnterpriseUser=EnterpriseUser(department="Payments", manager=Manager(value=boss.id)),
        )
    )
    extension = ada_full[EnterpriseUser]
    assert extension.department == "Payments"
    assert extension.manager.value == boss.id
    assert str(extension.manager.ref) == f"http://localhost/scim/v2/Users/{boss.id}"
    stored = person(app, "ada@example.com")
    assert stored.team.name == "Payments" and stored.manager_id == int(boss.id)
    assert [g.display for g in ada_full.groups] == ["Payments"]
    # Entra sends the manager as a bare id.
    other = scim.create(new_user("carl@example.com", "Carl"))
    entra = send(
        client,
        "PATCH",
        f"/Users/{ada.id}",
        headers,
        operations({"op": "Add", "path": f"{ENTERPRISE}:manager", "value": other.id}),
    )
    assert entra.get_json()[ENTERPRISE]["manager"]["value"] == other.id
    unknown = send(
        client,
        "PATCH",
        f"/Users/{ada.id}",
        headers,
        operations({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": "999"}}),
    )
    assert "not a User" in assert_scim_error(unknown, 400, "invalidValue")["detail"]
    themselves = send(
        client,
        "PATCH",
        f"/Users/{ada.id}",
        headers,
        operations({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": ada.id}}),
    )
    assert_scim_error(themselves, 400, "invalidValue")
    loop = send(
        client,
        "PATCH",
        f"/Users/{other.id}",
        headers,
        operations({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": ada.id}}),
    )
    assert "report" in assert_scim_error(loop, 400, "invalidValue")["detail"]
    removed = patch(scim, ada.id, op("remove", ENTERPRISE))
    assert removed[EnterpriseUser] is None
    stored = person(app, "ada@example.com")
    assert stored.team is None and stored.manager_id is None


def test_put_without_the_extension_keeps_team_and_manager(app, scim):
    boss = scim.create(new_user("boss@example.com", "Bea Boss"))
    ada = scim.create(
        new_user(
            "ada@example.com",
            EnterpriseUser=EnterpriseUser(department="Payments", manager=Manager(value=boss.id)),
        )
    )
    again = new_user("ada@example.com", "Ada King")
    again.id = ada.id
    replaced = scim.replace(again)
    assert replaced[EnterpriseUser].department == "Payments"
    assert replaced[EnterpriseUser].manager.value == boss.id


def test_deactivating_pauses_every_programme_and_keeps_history(app, scim, make_user):
    user_id = make_user(email="dee@example.com", name="Dee")
    found = scim.query(
        UserResource, query_parameters=SearchRequest(filter='userName eq "dee@example.com"')
    ).resources[0]
    assert found.id == str(user_id) and found.active is True
    assert patch(scim, found.id, op("replace", "active", False)).active is False
    with app.app_context():
        members = db.session.scalars(
            select(ProgrammeMember).where(ProgrammeMember.user_id == user_id)
        ).all()
        assert members and all(
            m.opted_out and m.pause_reason == PAUSED_BY_DIRECTORY for m in members
        )
        user = db.session.get(User, user_id)
        assert user.deleted_at is None and user.email == "dee@example.com"
    assert scim.query(UserResource, found.id).active is False
    assert patch(scim, found.id, op("replace", "active", True)).active is True
    with app.app_context():
        members = db.session.scalars(
            select(ProgrammeMember).where(ProgrammeMember.user_id == user_id)
        ).all()
        assert members and not any(m.opted_out for m in members)


def test_delete_erases_like_account_deletion(app, scim, make_user):
    boss = make_user(email="boss@example.com", name="Boss")
    ada = scim.create(new_user("ada@example.com", external_id="E-1"))
    patch(scim, ada.id, op("add", f"{ENTERPRISE}:manager", {"value": str(boss)}))
    scim.delete(UserResource, ada.id)
    with app.app_context():
        erased = db.session.get(User, int(ada.id))
        assert erased.is_deleted and erased.email == f"deleted-{ada.id}@deleted.invalid"
        assert erased.display_name == "Deleted user"
        assert erased.external_id is None and erased.roster_values is None
        assert erased.manager_id is None
        pending = db.session.get(PendingErasure, int(ada.id))
        assert pending is None or pending.user_id == int(ada.id)
    with pytest.raises(NotFoundException):
        scim.query(UserResource, ada.id)
    with pytest.raises(NotFoundException):
        scim.delete(UserResource, ada.id)
    listing = scim.query(UserResource, query_parameters=SearchRequest(filter=f'id eq "{ada.id}"'))
    assert listing.total_results == 0
    # The address is free again: provisioning it makes a new person.
    again = scim.create(new_user("ada@example.com"))
    assert again.id != ada.id


def test_unknown_ids_are_404(client, headers):
    for raw in ("0", "abc", "99999999999999999999", "-1", "1.5", "%00"):
        assert_scim_error(send(client, "GET", f"/Users/{raw}", headers), 404)
        assert_scim_error(send(client, "DELETE", f"/Users/{raw}", headers), 404)
