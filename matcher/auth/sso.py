"""Single sign-on with an OpenID Connect provider: the client made from the configuration when
the app is created (discovery waits for the first sign-in), the sign-in routes, and what
turning password log-in off closes."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import (
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from matcher.auth.complete import NEXT_KEY as COMPLETE_NEXT_KEY
from matcher.auth.complete import PREFILL_KEY, profile_incomplete
from matcher.auth.sso_service import ISSUER_MAX, SsoRefused, read_claims, sign_in
from matcher.auth.verification import email_domain_allowed
from matcher.auth.views import bp, safe_next
from matcher.extensions import db
from matcher.links import public_url
from matcher.transaction import commit_retrying

EXTENSION = "matcher.sso"
# The Authlib client's name: it also prefixes the state kept in the session.
CLIENT_NAME = "idp"
DEFAULT_NAME = "your identity provider"
# Seconds for each call to the provider (discovery, keys, token).
PROVIDER_TIMEOUT = 10
# The discovery document is read again after a day (a provider may move its endpoints).
METADATA_MAX_AGE = 24 * 3600
# Where to go after signing in, kept in the session between the start and the callback.
NEXT_KEY = "sso_next"
# Pages that exist only for passwords: closed when PASSWORD_LOGIN is false. The log-in page
# stays, showing only the single sign-on button; posting a password to it is refused, as is
# choosing one to accept an invitation (its page stays, to lead to single sign-on).
PASSWORD_ENDPOINTS = frozenset(
    {"auth.signup", "auth.reset_request", "auth.reset_password", "auth.change_password"}
)
PASSWORD_POSTS = frozenset({"auth.login", "auth.invitation"})
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class SsoProvider:
    """The configured provider and the Authlib client that talks to it."""

    issuer: str
    client_id: str
    name: str
    client: Any  # authlib's FlaskOAuth2App

    @property
    def title(self) -> str:
        """The name to start a sentence with."""
        return self.name[:1].upper() + self.name[1:]


class ProviderError(Exception):
    """The provider cannot be used right now: str() for the visitor, `detail` for the log."""

    def __init__(self, message: str, status: int, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


def config_flag(value: object, setting: str) -> bool:
    """A true/false setting: a boolean, 0 or 1, or the words true/false, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{setting} (MATCHER_{setting}) must be true or false, got {value!r}")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def configured_issuer(config: Any) -> str | None:
    """OIDC_ISSUER as an https URL (http only for a provider on this machine), or None when
    single sign-on is not configured; a clear ValueError for anything else."""
    raw = config.get("OIDC_ISSUER")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    issuer = raw.strip() if isinstance(raw, str) else ""
    parts = urlsplit(issuer)
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or len(issuer) > ISSUER_MAX
    ):
        raise ValueError(
            "OIDC_ISSUER (MATCHER_OIDC_ISSUER) must be the provider's issuer URL, e.g. "
            f"https://login.example.com/realms/staff, got {raw!r}"
        )
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValueError(
            f"OIDC_ISSUER (MATCHER_OIDC_ISSUER) must use https (http only for a provider on "
            f"this machine), got {raw!r}"
        )
    return issuer


def _required(config: Any, key: str) -> str:
    value = config.get(key)
    # From the environment a numeric client id arrives as a number: it is still an id.
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} (MATCHER_{key}) is needed when MATCHER_OIDC_ISSUER is set")
    return value.strip()


def metadata_url(issuer: str) -> str:
    """Where the provider publishes its configuration (OpenID Connect discovery)."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def init_app(app: Flask) -> None:
    """Read the single sign-on settings and register the provider's client; nothing is fetched
    from the provider here, so the app starts while it is down. Stops the app with a message
    when the settings cannot work (PASSWORD_LOGIN false without single sign-on, say)."""
    config = app.config
    config["PASSWORD_LOGIN"] = config_flag(config.get("PASSWORD_LOGIN", True), "PASSWORD_LOGIN")
    issuer = configured_issuer(config)
    provider: SsoProvider | None = None
    if issuer is not None:
        client_id = _required(config, "OIDC_CLIENT_ID")
        secret = _required(config, "OIDC_CLIENT_SECRET")
        scopes = str(config.get("OIDC_SCOPES") or "").split()
        if "openid" not in scopes:
            scopes.insert(0, "openid")
        name = " ".join(str(config.get("OIDC_NAME") or "").split())[:60] or DEFAULT_NAME
        oauth = OAuth(app)
        client = oauth.register(
            CLIENT_NAME,
            client_id=client_id,
            client_secret=secret,
            server_metadata_url=metadata_url(issuer),
            client_kwargs={
                "scope": " ".join(dict.fromkeys(scopes)),
                "code_challenge_method": "S256",
                "default_timeout": PROVIDER_TIMEOUT,
            },
        )
        provider = SsoProvider(issuer, client_id, name, client)
    elif not config["PASSWORD_LOGIN"]:
        raise ValueError(
            "PASSWORD_LOGIN (MATCHER_PASSWORD_LOGIN) is false but single sign-on is not "
            "configured, so nobody could log in: set MATCHER_OIDC_ISSUER, "
            "MATCHER_OIDC_CLIENT_ID and MATCHER_OIDC_CLIENT_SECRET"
        )
    app.extensions[EXTENSION] = provider

    @app.context_processor
    def sso_context() -> dict[str, object]:
        return {
            "sso_name": provider.name if provider else None,
            "password_login": bool(config.get("PASSWORD_LOGIN", True)),
        }


def current_provider() -> SsoProvider | None:
    """The configured provider of this app, or None."""
    return current_app.extensions.get(EXTENSION)


def password_login() -> bool:
    """Whether passwords may be used to sign up and log in here."""
    return bool(current_app.config.get("PASSWORD_LOGIN", True))


def sso_page(title: str, message: str, status: int, retry: bool = True) -> tuple[str, int]:
    """A clear page saying why single sign-on did not sign the visitor in."""
    return render_template("auth/sso_error.html", title=title, message=message, retry=retry), status


def _failed(error: ProviderError) -> tuple[str, int]:
    current_app.logger.warning("Single sign-on failed (%s): %s", error.status, error.detail)
    title = "Cannot reach the sign-in" if error.status == 503 else "Sign-in did not work"
    return sso_page(title, str(error), error.status)


def _stale() -> tuple[str, int]:
    return sso_page(
        "Start the sign-in again",
        "This sign-in was not started in this browser, or it expired or was used already, "
        "so nothing was saved. Start again from the button below.",
        400,
    )


def _cancelled(provider: SsoProvider) -> tuple[str, int]:
    return sso_page(
        "Sign-in cancelled",
        f"The sign-in was cancelled or refused at {provider.name}, so you are not logged in.",
        403,
    )


def provider_metadata(provider: SsoProvider) -> dict[str, Any]:
    """The provider's discovery document (fetched at first use, then kept for a day), checked
    against the configured issuer; raises ProviderError (503 unreachable, 502 unusable)."""
    client = provider.client
    loaded = client.server_metadata.get("_loaded_at")
    if isinstance(loaded, int | float) and time.time() - loaded > METADATA_MAX_AGE:
        client.server_metadata.pop("_loaded_at", None)
    unusable = (
        f"{provider.title} gave an answer matcher cannot use, so the sign-in stopped and "
        "nothing was saved. Try again; if it keeps happening, tell your administrator."
    )
    try:
        metadata = client.load_server_metadata()
    except (requests.ConnectionError, requests.Timeout) as error:
        raise ProviderError(unreachable_message(provider), 503, repr(error)) from None
    except (requests.RequestException, ValueError, TypeError) as error:
        raise ProviderError(unusable, 502, f"discovery: {error!r}") from None
    issuer = metadata.get("issuer")
    if not isinstance(issuer, str) or issuer.rstrip("/") != provider.issuer.rstrip("/"):
        raise ProviderError(
            f"Signing in with {provider.name} is not set up correctly here (the provider's "
            "issuer differs from matcher's setting), so it stopped before anything was saved. "
            "Tell your administrator.",
            502,
            f"the discovery document says issuer {issuer!r}; OIDC_ISSUER is {provider.issuer!r}",
        )
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(key), str):
            raise ProviderError(unusable, 502, f"the discovery document has no {key}")
    return metadata


def unreachable_message(provider: SsoProvider) -> str:
    """What to say while the provider is down."""
    other = " or log in with your email and password" if password_login() else ""
    return (
        f"{provider.title} cannot be reached right now, so you cannot sign in with it. "
        f"Try again in a few minutes{other}."
    )


@bp.before_request
def password_pages_closed() -> tuple[str, int] | None:
    """With PASSWORD_LOGIN false, the password pages answer 403 with the single sign-on button."""
    if password_login():
        return None
    endpoint = request.endpoint
    if endpoint in PASSWORD_ENDPOINTS or (endpoint in PASSWORD_POSTS and request.method == "POST"):
        provider = current_provider()
        name = provider.name if provider else DEFAULT_NAME
        return sso_page(
            "Passwords are turned off",
            f"Here you sign in with {name}, not with a password: your account is opened (or "
            "found by your email address) the first time you do.",
            403,
        )
    return None


@bp.route("/sso/start")
def sso_start() -> Response | tuple[str, int]:
    """Send the visitor to the provider (state, nonce and PKCE kept in the session)."""
    provider = current_provider() or abort(404)
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("dashboard.index"))
    try:
        provider_metadata(provider)
    except ProviderError as error:
        return _failed(error)
    if target:
        session[NEXT_KEY] = target
    else:
        session.pop(NEXT_KEY, None)
    # On BASE_URL, never on the request's Host header; the provider must list it exactly.
    redirect_uri = public_url(current_app.config, url_for("auth.sso_callback"))
    return provider.client.authorize_redirect(redirect_uri)


@bp.route("/sso/callback")
def sso_callback() -> Response | tuple[str, int]:
    """Back from the provider: check state, PKCE, the ID token (signature, issuer, audience,
    nonce), then open the account and log in (a first sign-in goes on to complete the profile)."""
    provider = current_provider() or abort(404)
    # Before anything else, and before any call to the provider: a callback this browser did
    # not start (forged, replayed, another browser's) goes no further.
    if request.args.get("error") == "access_denied":
        # Said whatever the state: the page only informs, nothing is changed.
        return _cancelled(provider)
    state = request.args.get("state")
    if not state or provider.client.framework.get_state_data(session, state) is None:
        return _stale()
    try:
        metadata = provider_metadata(provider)
        token = provider.client.authorize_access_token(
            claims_options={
                "iss": {"essential": True, "value": metadata["issuer"]},
                "aud": {"essential": True, "value": provider.client_id},
            }
        )
    except ProviderError as error:
        return _failed(error)
    except MismatchingStateError:
        return _stale()
    except (requests.ConnectionError, requests.Timeout) as error:
        return _failed(ProviderError(unreachable_message(provider), 503, repr(error)))
    except AuthlibBaseError as error:
        if error.error == "access_denied":
            return _cancelled(provider)
        return _failed(
            ProviderError(
                f"{provider.title} refused to finish the sign-in, so nothing was saved. "
                "Start again; if it keeps happening, tell your administrator.",
                502,
                f"{error.error}: {error.description}",
            )
        )
    except JoseError as error:
        return _failed(
            ProviderError(
                f"The answer from {provider.name} could not be verified (its signature, "
                "issuer, audience or nonce is wrong), so nothing was saved. Start again.",
                502,
                f"ID token rejected: {error!r}",
            )
        )
    except (requests.RequestException, ValueError, TypeError, KeyError) as error:
        return _failed(
            ProviderError(
                f"{provider.title} gave an answer matcher cannot use, so nothing was saved. "
                "Start again; if it keeps happening, tell your administrator.",
                502,
                f"token: {error!r}",
            )
        )
    claims = token.get("userinfo")
    if not claims:
        return _failed(
            ProviderError(
                f"{provider.title} sent no ID token, so nothing was saved. Tell your "
                "administrator.",
                502,
                "the token response has no id_token (is the openid scope allowed?)",
            )
        )
    config = current_app.config
    try:
        found = read_claims(metadata["issuer"], claims)
        outcome = commit_retrying(
            lambda: sign_in(db.session, found, lambda email: email_domain_allowed(config, email))
        )
    except SsoRefused as refused:
        db.session.rollback()
        current_app.logger.warning("Single sign-on refused (%s): %s", refused.status, refused)
        return sso_page("No account opened", str(refused), refused.status, retry=False)
    target = safe_next(session.get(NEXT_KEY))
    # A fresh session at log-in, as with a password: nothing from before carries over.
    session.clear()
    user = outcome.user
    login_user(user)
    # Nobody is paired before completing their profile: ask at the sign-in that opened or
    # linked the account, and at every later one (but admins may stay out of the pairings).
    if profile_incomplete(user) and (outcome.created or outcome.linked or not user.is_admin):
        session[PREFILL_KEY] = {"team": found.department, "timezone": found.zoneinfo}
        if target:
            session[COMPLETE_NEXT_KEY] = target
        return redirect(url_for("auth.complete_profile"))
    if outcome.linked:
        flash(f"Your account is now linked to {provider.name}.", "ok")
    return redirect(target or url_for("dashboard.index"))
