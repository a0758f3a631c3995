"""Whatever a client sends, the answer is a SCIM error (400, 404, 409, 413), never a 500, and
nothing is stored."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import Team, User
from tests.scim.support import ENTERPRISE, GROUP, assert_scim_error, send, user_body


def people(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


# SQLite only: the body is refused while it is parsed, before any query.
@pytest.mark.sqlite_only("unparsable SCIM bodies: refused before any query")
@pytest.mark.parametrize(
    ("raw", "content_type", "scim_type"),
    [
        ("{not json", "application/scim+json", "invalidSyntax"),
        ("[1, 2]", "application/scim+json", "invalidSyntax"),
        ('"a string"', "application/json", "invalidSyntax"),
        ("", "application/scim+json", "invalidSyntax"),
        ("[" * 100_000 + "]" * 100_000, "application/scim+json", "invalidSyntax"),
        (json.dumps(user_body("a@b.example")), "text/plain", "invalidSyntax"),
        (json.dumps(user_body("a@b.example", displayName="A\x00B")), None, "invalidValue"),
        (b"\xff\xfe\x00garbage", "application/scim+json", "invalidSyntax"),
    ],
)
def test_bodies_that_are_not_a_json_object(app, client, headers, raw, content_type, scim_type):
    request_headers = {**headers}
    if content_type is None:
        request_headers.pop("Content-Type")
    else:
        request_headers["Content-Type"] = content_type
    response = send(client, "POST", "/Users", request_headers, raw=raw)
    assert_scim_error(response, 400, scim_type)
    assert people(app) == 0


def test_a_huge_body_is_413(app, client, headers):
    body = user_body("a@b.example", displayName="x" * 2_000_000)
    response = send(client, "POST", "/Users", headers, body)
    assert_scim_error(response, 413)
    assert people(app) == 0


# SQLite only for values the SCIM schema refuses before any query; the manager ids (a huge
# number, an injection string) are looked up in the database and run on both backends.
REFUSED_BY_THE_SCHEMA = pytest.mark.sqlite_only("refused by the schema: no query")


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"userName": ["a@b.example"]}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param({"userName": 42}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param({"userName": "x" * 300 + "@b.example"}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param(
            {"userName": "a@b.example", "emails": [{"value": "not an address"}]},
            marks=REFUSED_BY_THE_SCHEMA,
        ),
        pytest.param({"emails": "a@b.example"}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param(
            {"emails": [{"value": "a" * 250 + "@b.example"}]}, marks=REFUSED_BY_THE_SCHEMA
        ),
        pytest.param({"displayName": 5}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param({"displayName": "x" * 81}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param({"active": "maybe"}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param({"active": [True]}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param({"externalId": "x" * 256}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param({"externalId": {"a": 1}}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param({"timezone": "Not/AZone"}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param({"timezone": "x" * 500}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param(
            {"addresses": [{"type": "work", "locality": "x" * 81}]}, marks=REFUSED_BY_THE_SCHEMA
        ),
        pytest.param({"name": "Ada"}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param({ENTERPRISE: {"department": "x" * 81}}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param({ENTERPRISE: {"department": 7}}, marks=REFUSED_BY_THE_SCHEMA),
        {ENTERPRISE: {"manager": {"value": "99999999999999999999"}}},
        {ENTERPRISE: {"manager": {"value": "'; DROP TABLE users; --"}}},
        pytest.param({ENTERPRISE: "Payments"}, marks=REFUSED_BY_THE_SCHEMA),
        pytest.param(
            {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]},
            marks=REFUSED_BY_THE_SCHEMA,
        ),
    ],
)
def test_wrong_values_are_400(app, client, headers, changes):
    body = {**user_body("a@b.example"), **changes}
    response = send(client, "POST", "/Users", headers, body)
    assert_scim_error(response, 400)
    assert people(app) == 0
    with app.app_context():
        assert db.session.scalar(select(Team.id)) is None


def test_put_and_patch_refuse_the_same(app, client, headers):
    created = send(client, "POST", "/Users", headers, user_body("a@b.example"))
    user_id = created.get_json()["id"]
    wrong = {**user_body("a@b.example"), "displayName": "x" * 81}
    assert_scim_error(send(client, "PUT", f"/Users/{user_id}", headers, wrong), 400)
    for body in (
        [],
        {"Operations": [{"op": "add"}]},
        {"Operations": [{"op": "add", "path": "displayName"}]},
        {"Operations": [{"op": "replace", "path": "a." * 2000 + "b", "value": 1}]},
        {"Operations": [None]},
        {"Operations": [{"op": "replace", "value": "not an object"}]},
    ):
        response = send(client, "PATCH", f"/Users/{user_id}", headers, body)
        assert_scim_error(response, 400)
    assert send(client, "GET", f"/Users/{user_id}", headers).get_json()["displayName"] == (
        "Ada Lovelace"
    )


def test_groups_refuse_wrong_bodies(app, client, headers):
    for body in (
        {"schemas": [GROUP], "displayName": 5},
        {"schemas": [GROUP], "displayName": "T", "members": "everyone"},
        {"schemas": [GROUP], "displayName": "T", "members": [{"value": "1' OR '1'='1"}]},
        {"schemas": [GROUP], "displayName": "T\x00"},
    ):
        assert_scim_error(send(client, "POST", "/Groups", headers, body), 400)
    with app.app_context():
        assert db.session.scalar(select(Team.id)) is None


@pytest.mark.parametrize(
    "query",
    [
        {"filter": 'userName eq "x\' OR 1=1 --"'},
        {"filter": 'userName co "%"'},
        {"filter": 'userName sw "_"'},
        {"startIndex": "-5", "count": "1000000"},
        {"startIndex": "99999999999", "count": "0"},
        {"attributes": "nothing,at.all"},
    ],
)
def test_odd_queries_answer_normally(app, client, headers, query):
    send(client, "POST", "/Users", headers, user_body("a@b.example"))
    response = client.get("/scim/v2/Users", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    payload = response.get_json()
    assert payload["totalResults"] in (0, 1)
    assert len(payload.get("Resources", [])) <= 200


# SQLite only: the filter or paging is refused while it is parsed, before any query (the odd
# queries that do reach the database, LIKE wildcards included, run on both backends above).
@pytest.mark.sqlite_only("unparsable SCIM queries: refused before any query")
@pytest.mark.parametrize(
    "query",
    [
        {"startIndex": "one"},
        {"count": "1.5"},
        {"filter": 'userName eq "a" and'},
        {"filter": "(((((((((((((((((((((((((((((((((((((((((((((((((((userName pr"},
        {"attributes": "userName", "excludedAttributes": "emails"},
        {"attributes": 'emails[type eq "work"]'},
    ],
)
def test_bad_queries_are_400(client, headers, query):
    response = client.get("/scim/v2/Users", headers=headers, query_string=query)
    assert_scim_error(response, 400)
