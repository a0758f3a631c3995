"""/Groups: one Group per team; members move people between teams; deleting a Group removes
the team and leaves its people without one."""

from __future__ import annotations

import pytest
from scim2_models import NotFoundException, PatchOp, PatchOperation, SearchRequest
from sqlalchemy import select

from matcher.extensions import db
from matcher.models import Team, User
from matcher.scim.resources import Email, Group, Member, UserResource
from tests.scim.support import GROUP, assert_scim_error, operations, person, send


def provision(scim, email: str, name: str) -> str:
    created = scim.create(
        UserResource(user_name=email, display_name=name, active=True, emails=[Email(value=email)])
    )
    return created.id


def member_ids(group: Group) -> list[str]:
    return sorted(m.value for m in group.members or [])


def team_of(app, email: str) -> str | None:
    found = person(app, email)
    return found.team.name if found.team else None


def test_teams_read_as_groups(app, scim, make_user):
    ada = make_user(email="ada@example.com", name="Ada", team="Payments")
    bob = make_user(email="bob@example.com", name="Bob", team="Payments")
    make_user(email="cy@example.com", name="Cy", team="Search")
    listing = scim.query(Group)
    groups = {g.display_name: g for g in listing.resources}
    assert set(groups) == {"Payments", "Search"} and listing.total_results == 2
    assert member_ids(groups["Payments"]) == sorted([str(ada), str(bob)])
    member = groups["Payments"].members[0]
    assert member.type == "User"
    assert str(member.ref) == f"http://localhost/scim/v2/Users/{member.value}"
    one = scim.query(Group, groups["Search"].id)
    assert one.meta.location == f"http://localhost/scim/v2/Groups/{one.id}"
    found = scim.query(Group, query_parameters=SearchRequest(filter='displayName eq "search"'))
    assert [g.display_name for g in found.resources] == ["Search"]
    holding = scim.query(Group, query_parameters=SearchRequest(filter=f'members eq "{ada}"'))
    assert [g.display_name for g in holding.resources] == ["Payments"]
    nobody = scim.query(Group, query_parameters=SearchRequest(filter='externalId eq "x"'))
    assert nobody.total_results == 0


def test_members_can_be_left_out(scim, make_user, client, headers):
    make_user(email="ada@example.com", name="Ada", team="Payments")
    for query in ({"excludedAttributes": "members"}, {"attributes": "displayName"}):
        listing = client.get("/scim/v2/Groups", headers=headers, query_string=query)
        group = listing.get_json()["Resources"][0]
        assert group["displayName"] == "Payments" and "members" not in group


def test_create_a_group_moves_its_members(app, scim, make_user):
    ada = provision(scim, "ada@example.com", "Ada")
    make_user(email="bob@example.com", name="Bob", team="Search")
    created = scim.create(Group(display_name="Platform", members=[Member(value=ada)]))
    assert created.display_name == "Platform" and member_ids(created) == [ada]
    assert team_of(app, "ada@example.com") == "Platform"
    assert team_of(app, "bob@example.com") == "Search"
    with app.app_context():
        assert db.session.get(User, int(ada)).roster_values["team"] == "Platform"


def test_patch_members_entra_and_okta_style(app, scim, client, headers):
    ada = provision(scim, "ada@example.com", "Ada")
    bob = provision(scim, "bob@example.com", "Bob")
    group = scim.create(Group(display_name="Platform"))
    path = f"/Groups/{group.id}"
    added = send(
        client,
        "PATCH",
        path,
        headers,
        operations({"op": "Add", "path": "members", "value": [{"value": ada}, {"value": bob}]}),
    )
    assert added.status_code == 200
    assert sorted(m["value"] for m in added.get_json()["members"]) == sorted([ada, bob])
    # Entra removes by value; Okta by a filter in the path.
    send(
        client,
        "PATCH",
        path,
        headers,
        operations({"op": "Remove", "path": "members", "value": [{"value": ada}]}),
    )
    assert team_of(app, "ada@example.com") is None
    assert team_of(app, "bob@example.com") == "Platform"
    send(
        client,
        "PATCH",
        path,
        headers,
        operations({"op": "remove", "path": f'members[value eq "{bob}"]'}),
    )
    assert team_of(app, "bob@example.com") is None
    renamed = scim.modify(
        Group,
        group.id,
        PatchOp[Group](
            operations=[PatchOperation[Group](op="replace", path="displayName", value="Infra")]
        ),
    )
    assert renamed.display_name == "Infra" and not renamed.members


def test_replace_sets_exactly_the_members(app, scim, make_user):
    ada = provision(scim, "ada@example.com", "Ada")
    bob = provision(scim, "bob@example.com", "Bob")
    group = scim.create(Group(display_name="Platform", members=[Member(value=ada)]))
    replaced = scim.replace(
        Group(id=group.id, display_name="Platform Team", members=[Member(value=bob)])
    )
    assert replaced.display_name == "Platform Team" and member_ids(replaced) == [bob]
    assert team_of(app, "ada@example.com") is None
    assert team_of(app, "bob@example.com") == "Platform Team"


def test_refusals(app, scim, make_user, client, headers):
    make_user(email="cy@example.com", name="Cy", team="Search")
    group = scim.create(Group(display_name="Platform"))
    taken = send(client, "POST", "/Groups", headers, {"schemas": [GROUP], "displayName": "SEARCH"})
    assert_scim_error(taken, 409, "uniqueness")
    rename = operations({"op": "replace", "path": "displayName", "value": " search "})
    assert_scim_error(send(client, "PATCH", f"/Groups/{group.id}", headers, rename), 409)
    for value in ([{"value": "999"}], [{"value": "x"}], [{"value": "1", "type": "Group"}]):
        body = operations({"op": "add", "path": "members", "value": value})
        response = send(client, "PATCH", f"/Groups/{group.id}", headers, body)
        assert_scim_error(response, 400, "invalidValue")
    for name in ("", "   ", "x" * 81):
        body = {"schemas": [GROUP], "displayName": name}
        assert_scim_error(send(client, "POST", "/Groups", headers, body), 400)
    external = operations({"op": "replace", "path": "externalId", "value": "x"})
    assert_scim_error(send(client, "PATCH", f"/Groups/{group.id}", headers, external), 400)
    with app.app_context():
        assert sorted(db.session.scalars(select(Team.name))) == ["Platform", "Search"]


def test_delete_removes_the_team_and_keeps_its_people(app, scim, make_user):
    ada = make_user(email="ada@example.com", name="Ada", team="Payments")
    payments = scim.query(
        Group, query_parameters=SearchRequest(filter='displayName eq "Payments"')
    ).resources[0]
    scim.delete(Group, payments.id)
    with pytest.raises(NotFoundException):
        scim.query(Group, payments.id)
    stored = person(app, "ada@example.com")
    assert stored is not None and stored.id == ada and stored.team is None
    assert stored.roster_values["team"] == ""  # the directory said: no team
    assert scim.query(UserResource, str(ada)).active is True
    with app.app_context():
        assert db.session.scalar(select(Team.id)) is None


def test_unknown_group_ids_are_404(client, headers):
    for raw in ("0", "abc", "99999999999999999999"):
        for method in ("GET", "PUT", "PATCH", "DELETE"):
            response = send(client, method, f"/Groups/{raw}", headers, {"displayName": "x"})
            assert_scim_error(response, 404)


def test_entra_group_create_with_an_external_id(client, headers):
    body = {"schemas": [GROUP], "externalId": "8aa1a0c0", "displayName": "Group One", "members": []}
    response = send(client, "POST", "/Groups", headers, body)
    assert response.status_code == 201, response.get_json()
    assert "externalId" not in response.get_json()  # teams keep none: ignored, as read-only
    found = client.get(
        "/scim/v2/Groups",
        headers=headers,
        query_string={"filter": 'displayName eq "group one"', "excludedAttributes": "members"},
    ).get_json()
    assert [g["displayName"] for g in found["Resources"]] == ["Group One"]
