"""Discovery: what the service announces, read with scim2-client's models, and SCIM errors
for endpoints and methods it does not serve."""

from __future__ import annotations

from scim2_models import ListResponse, ResourceType, Schema, ServiceProviderConfig

from tests.scim.support import ENTERPRISE, GROUP, USER, assert_scim_error, send


def test_service_provider_config(scim):
    config = scim.query(ServiceProviderConfig)
    assert config.patch.supported is True
    assert config.filter.supported is True and config.filter.max_results == 200
    assert config.bulk.supported is False
    assert config.sort.supported is False and config.etag.supported is False
    assert config.change_password.supported is False
    assert [s.type for s in config.authentication_schemes] == ["oauthbearertoken"]
    assert config.meta.location == "http://localhost/scim/v2/ServiceProviderConfig"


def test_resource_types(scim):
    listing = scim.query(ResourceType)
    assert isinstance(listing, ListResponse)
    kinds = {kind.id: kind for kind in listing.resources}
    assert set(kinds) == {"User", "Group"}
    assert kinds["User"].endpoint == "/Users"
    assert [str(e.schema_) for e in kinds["User"].schema_extensions] == [ENTERPRISE]
    assert scim.query(ResourceType, "Group").endpoint == "/Groups"


def test_schemas_publish_what_matcher_keeps(scim):
    listing = scim.query(Schema)
    schemas = {str(schema.id): schema for schema in listing.resources}
    assert set(schemas) == {USER, ENTERPRISE, GROUP}
    user = {a.name: a for a in schemas[USER].attributes}
    assert set(user) == {
        "userName",
        "name",
        "displayName",
        "timezone",
        "active",
        "emails",
        "addresses",
        "groups",
    }
    assert user["userName"].required and str(user["userName"].uniqueness) == "server"
    assert str(user["timezone"].mutability) == "writeOnly"
    assert str(user["timezone"].returned) == "never"
    assert "Europe/Berlin" in user["timezone"].canonical_values
    assert str(user["groups"].mutability) == "readOnly"
    enterprise = {a.name for a in schemas[ENTERPRISE].attributes}
    assert enterprise == {"department", "manager"}
    one = scim.query(Schema, GROUP)
    assert {a.name for a in one.attributes} == {"externalId", "displayName", "members"}


def test_unknown_schema_and_resource_type_are_scim_404s(client, headers):
    assert_scim_error(send(client, "GET", "/Schemas/urn:nothing:here", headers), 404)
    assert_scim_error(send(client, "GET", "/ResourceTypes/Pet", headers), 404)


def test_unknown_endpoints_and_methods(client, headers):
    assert_scim_error(send(client, "GET", "/Pets", headers), 404)
    assert_scim_error(send(client, "GET", "/", headers), 404)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in ("/ServiceProviderConfig", "/Schemas", "/ResourceTypes"):
            response = send(client, method, path, headers, {})
            assert_scim_error(response, 405)
            assert response.headers["Allow"] == "GET"
    assert send(client, "POST", "/Users/1", headers, {}).headers["Allow"] == (
        "DELETE, GET, PATCH, PUT"
    )
    for method, path in (("POST", "/Bulk"), ("POST", "/.search"), ("GET", "/Me")):
        assert_scim_error(send(client, method, path, headers, {}), 501)
