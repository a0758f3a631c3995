"""A private, throwaway PostgreSQL cluster that a fault test may stop and start at will."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.gunicorn_server import free_port

OS_USER = "postgres"
HOST = "127.0.0.1"


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server's bin directory, or None."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        return None
    newest = max(found, key=lambda p: int(Path(p).parent.parent.name.split(".")[0]))
    return Path(newest).parent


class PrivateCluster:
    """One cluster in its own directory and port, run as the postgres OS user."""

    def __init__(self, bin_dir: Path, root: Path, port: int) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = port

    @property
    def url(self) -> str:
        """Connection URL; connect_timeout bounds a connect attempt while the server is down."""
        return f"postgresql://postgres@{HOST}:{self.port}/postgres?connect_timeout=2"

    def run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a server tool as the postgres OS user (initdb and pg_ctl refuse root)."""
        return subprocess.run(
            ["runuser", "-u", OS_USER, "--", str(self.bin_dir / tool), *args],
            # postgres may not be able to enter the caller's working directory.
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _pg_ctl(self, *args: str) -> None:
        done = self.run("pg_ctl", "-D", str(self.data), *args)
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed:\n{done.stderr}\n{self.tail()}")

    def init(self) -> subprocess.CompletedProcess[str]:
        """initdb with trust auth for the postgres role (loopback-only, throwaway)."""
        options = ("-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync")
        return self.run("initdb", "-D", str(self.data), *options)

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses={HOST} -c fsync=off"
            " -c max_connections=50"
        )
        self._pg_ctl("-l", str(self.log), "-o", options, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop and wait until the server has exited (fast: graceful; immediate: crash-like)."""
        self._pg_ctl("-m", mode, "-w", "-t", "30", "stop")

    def running(self) -> bool:
        """True while the postmaster is up."""
        return self.run("pg_ctl", "-D", str(self.data), "status").returncode == 0

    def tail(self) -> str:
        """The end of the server log, for failure messages."""
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A fresh cluster on a free port, stopped and deleted afterwards; skips when impossible."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    if shutil.which("runuser") is None:
        pytest.skip("runuser is not installed: cannot run initdb as the postgres OS user")
    try:
        owner = pwd.getpwnam(OS_USER)
    except KeyError:
        pytest.skip(f"no {OS_USER!r} OS user to run a private PostgreSQL cluster as")
    # Under /tmp, not the pytest tmp path: the postgres user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="matcher-pg-", dir="/tmp"))
    cluster = PrivateCluster(bin_dir, root, free_port())
    try:
        try:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        except PermissionError:
            pytest.skip("cannot hand a directory to the postgres OS user (not running as root)")
        made = cluster.init()
        if made.returncode != 0:
            pytest.skip(f"initdb as {OS_USER} failed: {(made.stderr or made.stdout).strip()}")
        cluster.start()
        yield cluster
    finally:
        if cluster.data.exists() and cluster.running():
            cluster.run("pg_ctl", "-D", str(cluster.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
