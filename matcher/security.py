"""Security headers and rate limits, applied in one place for every blueprint."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

# A strict policy: every script and stylesheet is a file of ours; no inline code at all.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Endpoint -> limits on POST. Log-in also counts per email, against slow distributed guessing.
RATE_LIMITS: dict[str, list[str]] = {
    "auth.login": ["10 per minute"],
    "auth.signup": ["10 per minute"],
    "auth.reset_request": ["5 per minute"],
    "auth.reset_password": ["10 per minute"],
    # Fresh confirmation links and invitations: like the reset form (each mails someone).
    "auth.verify_resend": ["5 per minute"],
    "auth.invitation_resend": ["5 per minute"],
    "auth.invitation": ["10 per minute"],
    "feedback.by_link": ["30 per minute"],
    "skip.by_link": ["30 per minute"],
    # Like log-in: the current password can be guessed here, and do-not-pair answers were
    # once an oracle for who has an account.
    "auth.change_password": ["10 per minute"],
    "profile.do_not_pair": ["10 per minute"],
}
LOGIN_PER_EMAIL = "20 per hour"
# Endpoint -> a limit per logged-in account, whatever address the requests come from.
PER_ACCOUNT_LIMITS: dict[str, str] = {
    "auth.change_password": "20 per hour",
    "profile.do_not_pair": "20 per hour",
}
# Endpoint -> limit on GET: pages opened by a token in the URL, against probing for tokens.
TOKEN_PAGE_LIMITS: dict[str, str] = {
    "auth.reset_password": "60 per minute",
    "auth.verify_email": "60 per minute",
    "auth.invitation": "60 per minute",
    # The callback answers only a valid state, but each try costs a token request.
    "auth.sso_callback": "60 per minute",
    "feedback.by_link": "60 per minute",
    "skip.by_link": "60 per minute",
}


def _login_email() -> str:
    return "email:" + (request.form.get("email") or "").strip().lower()


def _account() -> str:
    # The user id, not get_id(): that carries the session token, which a password change rotates.
    return f"user:{current_user.id if current_user.is_authenticated else ''}"


def _fresh_wrapper(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    return wrapper


def init_app(app: Flask) -> None:
    """Bind the limiter (memory by default, RATELIMIT_STORAGE_URI for several workers)."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # One limiter per app: its limits are registered per view function, so a shared
    # limiter would count a request once for every app built in the same process.
    limiter = Limiter(key_func=get_remote_address, default_limits=[])
    limiter.init_app(app)
    app.extensions["matcher.limiter"] = limiter  # the limiter is only weakly held otherwise
    for endpoint in sorted(set(RATE_LIMITS) | set(TOKEN_PAGE_LIMITS)):
        if endpoint not in app.view_functions:
            continue
        # A fresh wrapper per app: Flask-Limiter marks the function it decorates, and the
        # blueprint's view functions are shared by every app built in this process.
        view = _fresh_wrapper(app.view_functions[endpoint])
        for limit in RATE_LIMITS.get(endpoint, []):
            view = limiter.limit(limit, methods=["POST"])(view)
        if endpoint == "auth.login":
            view = limiter.limit(LOGIN_PER_EMAIL, methods=["POST"], key_func=_login_email)(view)
        if endpoint in PER_ACCOUNT_LIMITS:
            limit = PER_ACCOUNT_LIMITS[endpoint]
            view = limiter.limit(limit, methods=["POST"], key_func=_account)(view)
        if endpoint in TOKEN_PAGE_LIMITS:
            # HEAD runs the GET view too: limit it, or it probes tokens for free.
            view = limiter.limit(TOKEN_PAGE_LIMITS[endpoint], methods=["GET", "HEAD"])(view)
        app.view_functions[endpoint] = view

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Feedback, skip and reset links carry tokens in the URL: never leak them as a referrer.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response
