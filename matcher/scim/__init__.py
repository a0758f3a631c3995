"""SCIM 2.0 provisioning (RFC 7643/7644) at /scim/v2: identity providers (Okta, Entra ID)
create, update, pause and erase people and their teams with a bearer token.

Modules: resources (the schemas, from scim2-models), users, groups, discovery, auth (the
bearer token check), tokens (the token service), cli (`flask scim token ...`), errors (SCIM
error responses), protocol (bodies, paging, responses) and filters (SCIM filters as SQL).
"""

from __future__ import annotations

from flask import Blueprint

from matcher.extensions import csrf
from matcher.scim.resources import PREFIX

bp = Blueprint("scim", __name__, url_prefix=PREFIX)
# Clients authenticate with a bearer token, not a session cookie: no CSRF to guard against.
csrf.exempt(bp)

from matcher.scim import auth, errors  # noqa: E402

bp.before_request(auth.require_token)
errors.init_blueprint(bp)

# The resource modules add their routes to bp when imported (after bp exists).
from matcher.scim import discovery, groups, users  # noqa: E402, F401
