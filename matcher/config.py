"""Configuration: defaults, then instance/config.py, then MATCHER_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    # An empty DATABASE_URL means "SQLite in the instance folder".
    "DATABASE_URL": "",
    "SECRET_KEY": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 30,
    "WTF_CSRF_TIME_LIMIT": None,
    # Largest request body accepted; a bigger one gets a 413 page, not a crash.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "PASSWORD_MIN_LENGTH": 10,
    "ORG_NAME": "Engineering",
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # Outgoing mail. No MAIL_SERVER means "write .eml files to instance/outbox/" so a fresh
    # install works without an SMTP server.
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,  # STARTTLS after connecting
    "MAIL_USE_SSL": False,  # TLS from the first byte (usually port 465)
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_FROM": "matcher <matcher@localhost>",
    "MAIL_TIMEOUT": 10,
    # Absolute links in emails; never taken from the request's Host header. Unset: the
    # development server's own address (from its socket), else http://127.0.0.1:5000.
    "BASE_URL": None,
    "CHAT_WEBHOOK_URL": None,
    "OUTBOX_MAX_ATTEMPTS": 8,
    "OUTBOX_BATCH_SIZE": 200,
    # First retry delay in seconds; it doubles per attempt, capped at an hour.
    "OUTBOX_RETRY_BASE": 60,
    # Send the outbox from a thread of the app process: "auto" = under the development server
    # only (`make run`); true = always (one sender per process is safe); false = never.
    "OUTBOX_SEND_IN_APP": "auto",
    "OUTBOX_SEND_INTERVAL": 5,
    "PASSWORD_RESET_MAX_AGE": 3600,
    # Single sign-on (OpenID Connect, discovery at first use): unset issuer = no SSO button.
    # PASSWORD_LOGIN false makes SSO the only way in (needs the issuer set).
    "OIDC_ISSUER": None,
    "OIDC_CLIENT_ID": None,
    "OIDC_CLIENT_SECRET": None,
    "OIDC_NAME": "your identity provider",
    "OIDC_SCOPES": "openid email profile",
    "PASSWORD_LOGIN": True,
    # Sign-up only for addresses at these domains (comma-separated, exact: no subdomains);
    # empty = any. Links confirming an address / accepting an invitation stay valid this long.
    "ALLOWED_EMAIL_DOMAINS": "",
    "EMAIL_VERIFY_MAX_AGE": 3 * 24 * 3600,
    "INVITATION_MAX_AGE": 30 * 24 * 3600,
    # Feedback: links stay valid a month; a round closes two weeks after it was published.
    "FEEDBACK_LINK_MAX_AGE": 30 * 24 * 3600,
    "FEEDBACK_WINDOW_DAYS": 14,
    # "Skip my next round" links in pairing emails stay valid a month too.
    "SKIP_LINK_MAX_AGE": 30 * 24 * 3600,
    # Rate limits are kept in memory per process; point this at Redis for several workers.
    "RATELIMIT_STORAGE_URI": "memory://",
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto. 0 = trust none,
    # so a client cannot fake its address to dodge the rate limits.
    "PROXY_HOPS": 0,
    # Pages kept per person until a table they read changes, and at most this many seconds
    # (what the clock changes: "today", "next round"); 0 turns the cache off. Per process.
    "PAGE_CACHE_SECONDS": 60,
    "PAGE_CACHE_MAX_BYTES": 64 * 1024 * 1024,
}


def load_config(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    """Fill app.config in order: defaults, instance/config.py, environment, then overrides."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    # DATABASE_URL is the conventional name hosting platforms set; MATCHER_* wins over it.
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    app.config.from_prefixed_env(prefix="MATCHER")
    if overrides:
        app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(
        app.config.get("DATABASE_URL") or "", Path(app.instance_path)
    )
    app.config["BASE_URL_FOLLOWS_SERVER"] = not app.config.get("BASE_URL")
    if not app.config.get("BASE_URL"):
        app.config["BASE_URL"] = "http://127.0.0.1:5000"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))


def proxy_hops(value: object) -> int:
    """PROXY_HOPS as a whole number >= 0; a clear error for anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValueError(
        f"PROXY_HOPS (MATCHER_PROXY_HOPS) must be 0 or a whole number of proxies, got {value!r}"
    )


def database_uri(url: str, instance_path: Path) -> str:
    """Turn a DATABASE_URL into an SQLAlchemy URI (psycopg 3 driver for PostgreSQL)."""
    if not url:
        return f"sqlite:///{instance_path / 'matcher.sqlite'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance_path: Path) -> str:
    """Read the secret key from instance/secret_key, generating it on first run."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        key = key_file.read_text().strip()
        if key:
            return key
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Create with 0600 so the key is never world-readable, even briefly.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
