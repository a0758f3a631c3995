"""A sender thread inside the app process: mail goes out without a second command."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)
_KEY = "matcher.background_sender"


def start_background_sender(app: Flask, interval: float = 5.0) -> threading.Thread:
    """Start (once per app) a daemon thread that sends due outbox messages every interval s."""
    existing = app.extensions.get(_KEY)
    if existing is not None:
        return existing
    stop = threading.Event()

    def loop() -> None:
        from matcher.extensions import db
        from matcher.notify.sender import send_pending

        while not stop.is_set():
            with app.app_context():
                try:
                    report = send_pending(db.session, app.config)
                    if report.sent or report.retried or report.gave_up:
                        log.info("outbox: %s", report)
                except Exception:  # keep serving pages; the next tick tries again
                    log.exception("background sender failed; retrying in %s s", interval)
                finally:
                    db.session.remove()
            stop.wait(interval)

    thread = threading.Thread(target=loop, name="matcher-sender", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    app.extensions[_KEY] = thread
    thread.start()
    return thread


def stop_background_sender(app: Flask, timeout: float = 10.0) -> None:
    """Stop the app's sender thread, if any, and wait for it."""
    thread = app.extensions.pop(_KEY, None)
    if thread is not None:
        thread.stop.set()
        thread.join(timeout)


def background_sender_running(app: Flask) -> bool:
    """Whether this process sends the outbox by itself."""
    thread = app.extensions.get(_KEY)
    return thread is not None and thread.is_alive()
