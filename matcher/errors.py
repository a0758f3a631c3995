"""Error pages: a clear page (or JSON for API callers) for every HTTP error, never a stack trace."""

from __future__ import annotations

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from matcher.extensions import db, login_manager

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "There is nothing here.",
    405: "That action is not allowed here.",
    413: "That was too much data to send at once.",
    429: "Too many attempts. Please wait a minute and try again.",
    500: "Something went wrong on our side. Nothing you entered was half-saved.",
    503: "matcher is briefly unavailable. Please try again in a moment.",
}


def wants_json() -> bool:
    """True when the client prefers JSON to HTML."""
    return request.accept_mimetypes.best == "application/json"


def render_error(code: int, message: str) -> tuple[str | dict[str, object], int]:
    """The error page or JSON body for code."""
    if wants_json():
        return {"error": message, "status": code}, code
    return render_template("error.html", code=code, message=message), code


# Blueprints whose views read JSON bodies themselves.
JSON_APIS = frozenset({"scim"})


def has_nul(values: object) -> bool:
    """True when any submitted value contains a NUL character."""
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.before_request
    def refuse_nul_characters() -> tuple[str | dict[str, object], int] | None:
        # PostgreSQL cannot store NUL in text and no real input has one: refuse it up front.
        if has_nul(request.args) or (request.method == "POST" and has_nul(request.form)):
            return render_error(400, "The form contained a NUL character, which is never valid.")
        return None

    @app.before_request
    def refuse_json_bodies() -> tuple[str | dict[str, object], int] | None:
        # The pages take web forms; a JSON body would put numbers, lists or objects where a
        # form expects text. Only the JSON APIs (SCIM) read one.
        if request.is_json and request.method != "GET" and request.blueprint not in JSON_APIS:
            return render_error(415, "Send this form as a web form, not as JSON.")
        return None

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str | dict[str, object], int]:
        return render_error(
            400, "This form has expired or was sent from elsewhere. Go back, reload and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str | dict[str, object], int]:
        code = error.code or 500
        return render_error(code, MESSAGES.get(code, error.description or "Error."))

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> tuple[str | dict[str, object], int]:
        # The database is down or restarting: a clean 503 the client may retry, not a 500.
        db.session.rollback()
        app.logger.warning("Database unavailable on %s %s: %s", request.method, request.path, error)
        # The page header asks current_user, which would query the database again (to load the
        # user, or to refresh it after the rollback) and turn this 503 into a 500: render the
        # page as for a visitor. This request only; the login session itself is kept.
        g._login_user = login_manager.anonymous_user()
        return render_error(503, MESSAGES[503])

    @app.teardown_appcontext
    def close_session(error: BaseException | None) -> None:
        # Runs before Flask-SQLAlchemy's own teardown (registered earlier). When the server
        # dropped the connection after the response was made, the rollback at close fails:
        # the transaction died with the connection, which the pool has already discarded, so
        # the finished response stands instead of becoming a 500.
        try:
            db.session.remove()
        except DBAPIError as lost:
            if not lost.connection_invalidated:
                raise
            app.logger.warning("Database connection lost at the end of a request: %s", lost)
            db.session.remove()

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str | dict[str, object], int]:
        # Roll back so a failed request never leaves a half-written transaction behind.
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render_error(500, MESSAGES[500])
