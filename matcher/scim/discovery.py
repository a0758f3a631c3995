"""Discovery (RFC 7644 §4): /ServiceProviderConfig, /ResourceTypes and /Schemas, all made
from the models in resources.py; and SCIM answers for what matcher does not serve."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from scim2_models import Context, ListResponse, Meta, NotFoundException, ResourceType, Schema
from werkzeug.exceptions import MethodNotAllowed, NotFound

from matcher.scim import bp
from matcher.scim.errors import error_response, scim_json
from matcher.scim.protocol import resource_response
from matcher.scim.resources import POLICY, PROVIDER, location, service_provider_config


def schemas() -> list[Schema]:
    """The published schemas, each with its own location."""
    return [
        schema.model_copy(
            update={
                "meta": Meta(
                    resource_type="Schema",
                    location=location(current_app.config, f"/Schemas/{schema.id}"),
                )
            }
        )
        for schema in PROVIDER.schemas
    ]


def resource_types() -> list[ResourceType]:
    """The resource types (User with the enterprise extension, Group), with locations."""
    return [
        kind.model_copy(
            update={
                "meta": Meta(
                    resource_type="ResourceType",
                    location=location(current_app.config, f"/ResourceTypes/{kind.id}"),
                )
            }
        )
        for kind in PROVIDER.resource_types
    ]


def _listing(model: type[Any], items: list[Any]) -> Response:
    listing = ListResponse[model](  # type: ignore[valid-type]
        total_results=len(items), start_index=1, items_per_page=len(items), resources=items
    )
    return scim_json(listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE, scim_policy=POLICY))


@bp.get("/ServiceProviderConfig")
def service_provider() -> Response:
    """What this service supports."""
    config = service_provider_config(current_app)  # type: ignore[arg-type]
    return resource_response(config, Context.RESOURCE_QUERY_RESPONSE)


@bp.get("/ResourceTypes")
def resource_types_index() -> Response:
    """Users and Groups."""
    return _listing(ResourceType, resource_types())


@bp.get("/ResourceTypes/<name>")
def resource_types_show(name: str) -> Response:
    """One resource type, by id."""
    for kind in resource_types():
        if kind.id == name:
            return resource_response(kind, Context.RESOURCE_QUERY_RESPONSE)
    raise NotFoundException(detail=f"There is no ResourceType {name[:80]!r}.")


@bp.get("/Schemas")
def schemas_index() -> Response:
    """The User, enterprise User and Group schemas as matcher serves them."""
    return _listing(Schema, schemas())


@bp.get("/Schemas/<path:schema_id>")
def schemas_show(schema_id: str) -> Response:
    """One schema, by its URN."""
    for schema in schemas():
        if schema.id.lower() == schema_id.lower():
            return resource_response(schema, Context.RESOURCE_QUERY_RESPONSE)
    raise NotFoundException(detail=f"There is no Schema {schema_id[:120]!r}.")


@bp.route("/Bulk", methods=["POST"])
@bp.route("/.search", methods=["POST"])
@bp.route("/Me", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_implemented() -> Response:
    """Bulk requests, searching every resource type at once and /Me are not served."""
    return error_response(501, "matcher does not support this operation.")


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    """Anything else: 405 where another method would do, else 404 (as SCIM errors)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = sorted(
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if _endpoint(adapter, method) not in (None, request.endpoint)
    )
    if allowed:
        return error_response(
            405, "That method is not allowed here.", headers={"Allow": ", ".join(allowed)}
        )
    return error_response(404, "There is no such resource or endpoint.")


def _endpoint(adapter: Any, method: str) -> str | None:
    try:
        endpoint, _ = adapter.match(method=method)
    except (NotFound, MethodNotAllowed):
        return None
    except Exception:  # a redirect or another routing answer: not a SCIM endpoint
        return None
    return str(endpoint)
