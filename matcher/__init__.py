"""matcher: cross-team coffee pairings for engineering organisations."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: configure, bind extensions, register blueprints and commands."""
    # Imported here, not at module level: `python -m matcher.matching` must not pay for Flask.
    from flask import Flask

    from matcher.config import load_config, proxy_hops

    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    if test_config and "INSTANCE_PATH" in test_config:
        app.instance_path = str(test_config["INSTANCE_PATH"])
        app.config.root_path = app.instance_path
    load_config(app, test_config)
    hops = proxy_hops(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        # The client address (for rate limits and logs) and scheme come from the proxy.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    from matcher import models  # noqa: F401 - register tables before Migrate sees metadata
    from matcher.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    from sqlalchemy.orm import Session

    from matcher.rounds import insight_counts

    insight_counts.install(Session)  # the insights aggregates follow every flush
    from matcher import pagecache

    # Before the other request hooks: a cached page reads the data versions before anything.
    pagecache.init_app(app)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    login_manager.init_app(app)

    from matcher import auth, cli, devserver, errors, security, web
    from matcher.admin import bp as admin_bp

    # Each feature registers the renderers of its own message kinds with the outbox.
    from matcher.auth import emails as _auth_emails  # noqa: F401
    from matcher.dashboard import bp as dashboard_bp
    from matcher.feedback import emails as _feedback_emails  # noqa: F401
    from matcher.feedback import views as feedback_views
    from matcher.profile import views as profile_views
    from matcher.rounds import emails as _round_emails  # noqa: F401
    from matcher.rounds import skip_link
    from matcher.scim import bp as scim_bp

    auth.init_app(app)
    web.init_app(app)
    errors.init_app(app)
    for blueprint in (
        auth.views.bp,
        profile_views.bp,
        dashboard_bp,
        skip_link.bp,
        feedback_views.bp,
        admin_bp,
        scim_bp,
    ):
        app.register_blueprint(blueprint)
    # After the blueprints: rate limits wrap their registered view functions.
    security.init_app(app)
    cli.init_app(app)
    devserver.init_app(app)
    return app
