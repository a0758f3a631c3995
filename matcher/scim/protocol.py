"""The HTTP side of SCIM: reading JSON bodies, paging and attribute parameters, responses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Response, request
from pydantic import ValidationError
from scim2_models import (
    Context,
    InvalidSyntaxException,
    InvalidValueException,
    ListResponse,
    PayloadTooLargeException,
    Resource,
    ResponseParameters,
)
from werkzeug.exceptions import RequestEntityTooLarge

from matcher.scim.errors import scim_json
from matcher.scim.resources import MAX_RESULTS, POLICY

JSON_TYPES = ("application/scim+json", "application/json")
# The page size when a client names none.
DEFAULT_COUNT = 100
# Longest filter, attributes list or other query value read.
QUERY_MAX = 10_000


def read_json() -> dict[str, Any]:
    """The request's JSON object; invalidSyntax (400) for anything else, 413 when too large."""
    kind = request.mimetype
    if kind and kind not in JSON_TYPES:
        raise InvalidSyntaxException(detail="Send the body as application/scim+json.")
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise PayloadTooLargeException(detail="The request body is too large.") from None
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidSyntaxException(detail="The body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise InvalidSyntaxException(detail="The body must be a JSON object.")
    if _has_nul(payload):
        raise InvalidValueException(detail="A value contains a NUL character.")
    return payload


def _has_nul(value: Any) -> bool:
    """True when a string anywhere in a decoded JSON value contains NUL (never valid)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def query_value(name: str) -> str | None:
    """A query parameter (names compared without case, as clients differ); None when absent."""
    for key, value in request.args.items():
        if key.lower() == name.lower():
            if len(value) > QUERY_MAX or "\x00" in value:
                raise InvalidValueException(detail=f"{name} is too long.")
            return value
    return None


def response_parameters(model: type[Resource[Any]]) -> ResponseParameters[Any] | None:
    """The attributes / excludedAttributes a client asked for, resolved on the model."""
    attributes = query_value("attributes")
    excluded = query_value("excludedAttributes")
    if attributes is None and excluded is None:
        return None
    payload = {"attributes": attributes or None, "excludedAttributes": excluded or None}
    try:
        return ResponseParameters[model].model_validate(  # type: ignore[index]
            payload, scim_ctx=Context.RESOURCE_QUERY_REQUEST, scim_policy=POLICY
        )
    except ValidationError as error:
        raise InvalidValueException(detail=_first_problem(error)) from None


def _first_problem(error: ValidationError) -> str:
    problems = error.errors()
    return str(problems[0].get("msg", "Invalid value.")) if problems else "Invalid value."


def _integer(name: str, default: int) -> int:
    raw = query_value(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidValueException(detail=f"{name} must be a whole number.") from None


@dataclass(frozen=True)
class Page:
    """Which results a list answers: from `start` (1-based), at most `count` of them."""

    start: int
    count: int

    @property
    def offset(self) -> int:
        """How many results come before the page."""
        return self.start - 1


def page() -> Page:
    """startIndex (below 1 reads as 1) and count (0 to MAX_RESULTS) from the query."""
    start = max(1, _integer("startIndex", 1))
    count = min(max(0, _integer("count", DEFAULT_COUNT)), MAX_RESULTS)
    return Page(start=start, count=count)


def resource_response(
    resource: Resource[Any],
    context: Context,
    status: int = 200,
    parameters: ResponseParameters[Any] | None = None,
) -> Response:
    """One resource as a response in that context (Location on 201)."""
    payload = resource.model_dump(
        scim_ctx=context, response_parameters=parameters, scim_policy=POLICY
    )
    response = scim_json(payload, status)
    if resource.meta is not None and resource.meta.location:
        response.headers["Content-Location"] = resource.meta.location
        if status == 201:
            response.headers["Location"] = resource.meta.location
    return response


def list_response(
    model: type[Resource[Any]],
    resources: list[Any],
    total: int,
    start: int,
    parameters: ResponseParameters[Any] | None = None,
) -> Response:
    """A ListResponse page of resources."""
    listing = ListResponse[model](  # type: ignore[valid-type]
        total_results=total,
        start_index=start,
        items_per_page=len(resources),
        resources=resources,
    )
    payload = listing.model_dump(
        scim_ctx=Context.SEARCH_RESPONSE, response_parameters=parameters, scim_policy=POLICY
    )
    return scim_json(payload)
