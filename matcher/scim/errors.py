"""SCIM error responses (RFC 7644 §3.12): application/scim+json, the Error schema, the status
as a string and a scimType where one applies. Every failure under /scim/v2 answers one."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request
from pydantic import ValidationError
from scim2_models import Error, SCIMException
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from matcher.extensions import db
from matcher.roster.service import RosterError
from matcher.scim.resources import MEDIA_TYPE

MESSAGES = {
    404: "There is no such resource or endpoint.",
    405: "That method is not allowed on this endpoint.",
    413: "The request body is too large.",
    500: "Something went wrong on our side; nothing was changed.",
    501: "matcher does not support this operation.",
    503: "matcher is briefly unavailable; try again in a moment.",
}


def scim_json(payload: dict[str, Any], status: int = 200) -> Response:
    """A SCIM JSON response."""
    return Response(json.dumps(payload), status=status, mimetype=MEDIA_TYPE)


def error_response(
    status: int,
    detail: str,
    scim_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An Error message with that HTTP status."""
    error = Error(status=status, scim_type=scim_type, detail=detail)
    response = scim_json(error.model_dump(), status)
    response.headers.update(headers or {})
    return response


def from_exception(error: SCIMException) -> Response:
    """The response for a SCIM exception (its status, scimType and detail)."""
    found = error.to_error()
    return error_response(found.status or 400, found.detail or error.detail, found.scim_type)


def from_validation(error: ValidationError) -> Response:
    """The response for a payload the models refused: the first problem, named by path."""
    found = Error.from_validation_errors(error)[0]
    return error_response(found.status or 400, found.detail or "Invalid value.", found.scim_type)


def init_blueprint(bp: Blueprint) -> None:
    """Answer every error raised in the blueprint's views as a SCIM Error."""

    @bp.errorhandler(SCIMException)
    def scim_exception(error: SCIMException) -> Response:
        db.session.rollback()
        return from_exception(error)

    @bp.errorhandler(ValidationError)
    def validation_error(error: ValidationError) -> Response:
        db.session.rollback()
        return from_validation(error)

    @bp.errorhandler(RosterError)
    def roster_error(error: RosterError) -> Response:
        db.session.rollback()
        return error_response(400, str(error), "invalidValue")

    @bp.errorhandler(IntegrityError)
    def integrity_error(error: IntegrityError) -> Response:
        # Two requests writing the same address or team at once: the second one loses.
        db.session.rollback()
        return error_response(409, "This conflicts with another resource.", "uniqueness")

    @bp.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> Response:
        db.session.rollback()
        current_app.logger.warning("SCIM: database unavailable: %s", error)
        return error_response(503, MESSAGES[503], headers={"Retry-After": "5"})

    @bp.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = error.code or 500
        return error_response(code, MESSAGES.get(code, error.description or "Error."))

    @bp.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response:
        db.session.rollback()
        current_app.logger.exception("SCIM: unhandled error on %s %s", request.method, request.path)
        return error_response(500, MESSAGES[500])
