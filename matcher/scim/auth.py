"""Every SCIM request carries `Authorization: Bearer TOKEN` with a live token, or gets 401."""

from __future__ import annotations

from flask import Response, g, request

from matcher.extensions import db
from matcher.scim.errors import error_response
from matcher.scim.tokens import authenticate

REALM = 'Bearer realm="matcher SCIM"'


def require_token() -> Response | None:
    """Before each SCIM request: None when the bearer token is live, else the 401 answer."""
    scheme, _, presented = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return error_response(
            401,
            "Send Authorization: Bearer TOKEN (made with `flask scim token create NAME`).",
            headers={"WWW-Authenticate": REALM},
        )
    token = authenticate(db.session, presented.strip())
    if token is None:
        return error_response(
            401,
            "This token is not valid or was revoked.",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    g.scim_token = token.name
    if db.session.dirty:
        db.session.commit()  # last_used_at, on its own: reads commit nothing else
    return None
