"""What changes when the app serves requests: under the development server (`make run`,
`flask run`) links follow its address and it sends its own outbox."""

from __future__ import annotations

import threading

from flask import Flask, request

from matcher.notify.background import start_background_sender

# Addresses a server listens on that nobody can open in a browser.
_ANY_ADDRESS = {"0.0.0.0", "::", ""}


def served_by_dev_server(environ: dict) -> bool:
    """True for werkzeug's server, whose SERVER_NAME/PORT come from its socket, not the Host."""
    return str(environ.get("SERVER_SOFTWARE", "")).startswith("Werkzeug/")


def send_in_app(value: object) -> str:
    """OUTBOX_SEND_IN_APP as "auto", "always" or "never"; a clear error for anything else."""
    words = {"auto": "auto", "true": "always", "1": "always", "false": "never", "0": "never"}
    key = str(value).strip().lower() if not isinstance(value, bool) else str(value).lower()
    if key not in words:
        raise ValueError(
            "OUTBOX_SEND_IN_APP (MATCHER_OUTBOX_SEND_IN_APP) must be auto, true or false, "
            f"got {value!r}"
        )
    return words[key]


def init_app(app: Flask) -> None:
    """On the first request a process serves: follow the development server's address, and
    start sending the outbox (under it, or everywhere with OUTBOX_SEND_IN_APP=true). Never in
    a CLI command, which serves no request."""
    mode = send_in_app(app.config.get("OUTBOX_SEND_IN_APP", "auto"))
    state = {"done": False}
    lock = threading.Lock()

    @app.before_request
    def adopt_dev_server() -> None:
        if state["done"]:
            return
        with lock:  # threaded servers: only the first request does this
            if state["done"]:
                return
            state["done"] = True
            _adopt(app, request.environ, mode)


def _adopt(app: Flask, environ: dict, mode: str) -> None:
    """What the first request decides; see init_app."""
    dev = served_by_dev_server(environ)
    if dev and app.config.get("BASE_URL_FOLLOWS_SERVER"):
        host = environ.get("SERVER_NAME", "")
        host = "127.0.0.1" if host in _ANY_ADDRESS else host
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        app.config["BASE_URL"] = f"http://{host}:{environ.get('SERVER_PORT', '5000')}"
    if mode == "always" or (mode == "auto" and dev):
        # Started here, in the serving process: a thread started before gunicorn forks
        # its workers would not survive the fork.
        start_background_sender(app, float(app.config["OUTBOX_SEND_INTERVAL"]))
