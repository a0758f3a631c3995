"""What changes when the app runs under the development server (`make run`, `flask run`)."""

from __future__ import annotations

from flask import Flask, request

from matcher.notify.background import start_background_sender

# Addresses a server listens on that nobody can open in a browser.
_ANY_ADDRESS = {"0.0.0.0", "::", ""}


def served_by_dev_server(environ: dict) -> bool:
    """True for werkzeug's server, whose SERVER_NAME/PORT come from its socket, not the Host."""
    return str(environ.get("SERVER_SOFTWARE", "")).startswith("Werkzeug/")


def init_app(app: Flask) -> None:
    """On the first request under the development server: follow its address, send mail."""
    state = {"done": False}

    @app.before_request
    def adopt_dev_server() -> None:
        if state["done"]:
            return
        state["done"] = True
        environ = request.environ
        if not served_by_dev_server(environ):
            return
        if app.config.get("BASE_URL_FOLLOWS_SERVER"):
            host = environ.get("SERVER_NAME", "")
            host = "127.0.0.1" if host in _ANY_ADDRESS else host
            if ":" in host:  # IPv6 literal
                host = f"[{host}]"
            app.config["BASE_URL"] = f"http://{host}:{environ.get('SERVER_PORT', '5000')}"
        if app.config.get("OUTBOX_SEND_IN_APP") in (None, "auto"):
            start_background_sender(app, float(app.config["OUTBOX_SEND_INTERVAL"]))
