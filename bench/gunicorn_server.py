"""gunicorn serving wsgi:app on a free loopback port: shared by bench_load and the fault tests."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class GunicornServer:
    """`gunicorn -w N wsgi:app` configured through MATCHER_* variables, logging to a file."""

    def __init__(self, settings: dict[str, str], workers: int, log: Path, *options: str) -> None:
        self.port = free_port()
        self.log_path = log
        env = dict(os.environ)
        env.update(settings)
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [
                # The gunicorn of the running interpreter, wherever its environment lives.
                sys.executable,
                "-m",
                "gunicorn",
                *("-w", str(workers), "-b", f"{HOST}:{self.port}", *options),
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            # Its own process group: a stray worker never outlives the run.
            start_new_session=True,
        )

    def wait_ready(self, is_ready: Callable[[int], bool], seconds: float) -> None:
        """Until is_ready(port) is true; raises RuntimeError with the log when it never is."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.proc.poll() is None:
            if is_ready(self.port):
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not become ready:\n{self.tail()}")

    def text(self) -> str:
        """Everything gunicorn has logged so far."""
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def tail(self) -> str:
        """The end of the log, for error messages."""
        return self.text()[-3000:]

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (graceful), then SIGKILL after timeout seconds."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def encode_request(
    port: int, path: str, cookies: dict[str, str] | None, form: dict[str, str] | None
) -> tuple[dict[str, str], bytes | None]:
    """Headers and body of a browser-like request to the loopback server."""
    headers = {"Host": f"{HOST}:{port}", "Referer": f"http://{HOST}:{port}{path}"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if form is None:
        return headers, None
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return headers, urllib.parse.urlencode(form).encode()


def remember_cookies(cookies: dict[str, str], response: http.client.HTTPResponse) -> None:
    """Keep the cookies the response sets, as a browser's cookie jar does."""
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            key, _, val = value.split(";", 1)[0].partition("=")
            cookies[key.strip()] = val.strip()
