"""Uploaded roster files kept on the server between preview and apply: under the instance
folder, named by a random id, readable only by the admin who uploaded them, for an hour."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

LIFETIME_SECONDS = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


@dataclass
class Upload:
    """A stored file: its bytes (None once applied), who uploaded it and the chosen options."""

    token: str
    data: bytes | None
    owner_id: int
    filename: str
    overwrite: bool
    invite: bool
    created: float
    # The applied file's summary (counts), once applied.
    result: dict[str, Any] | None = None


def folder() -> Path:
    """Where uploads wait (made on first use, private to the server's user)."""
    path = Path(current_app.instance_path) / "roster-uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def store(data: bytes, owner_id: int, filename: str, overwrite: bool, invite: bool) -> str:
    """Keep the file and its options; returns the id that names it. Old uploads are removed."""
    sweep()
    token = secrets.token_urlsafe(24)
    meta = {
        "owner_id": owner_id,
        "filename": filename[:120],
        "overwrite": overwrite,
        "invite": invite,
        "created": time.time(),
        "sha256": hashlib.sha256(data).hexdigest(),
        "result": None,
    }
    base = folder()
    _write(base / f"{token}.csv", data)
    _write(base / f"{token}.json", json.dumps(meta).encode())
    return token


def load(token: str, owner_id: int, now: float | None = None) -> Upload | None:
    """The upload with that id, if it is this admin's and not expired (and its bytes are the
    ones stored: a changed file is refused)."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    base = folder()
    try:
        meta = json.loads((base / f"{token}.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("owner_id") != owner_id:
        return None
    created = float(meta.get("created") or 0)
    if (now if now is not None else time.time()) - created > LIFETIME_SECONDS:
        discard(token)
        return None
    data: bytes | None = None
    if meta.get("result") is None:
        try:
            data = (base / f"{token}.csv").read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
            return None
    return Upload(
        token=token,
        data=data,
        owner_id=owner_id,
        filename=str(meta.get("filename") or ""),
        overwrite=bool(meta.get("overwrite")),
        invite=bool(meta.get("invite")),
        created=created,
        result=meta.get("result"),
    )


def mark_applied(token: str, result: dict[str, Any]) -> None:
    """Forget the file's bytes and keep what applying it did (for the result page)."""
    base = folder()
    path = base / f"{token}.json"
    meta = json.loads(path.read_text())
    meta["result"] = result
    _write(path, json.dumps(meta).encode())
    (base / f"{token}.csv").unlink(missing_ok=True)


def discard(token: str) -> None:
    """Remove an upload."""
    if _TOKEN.fullmatch(token or ""):
        for suffix in (".csv", ".json"):
            (folder() / f"{token}{suffix}").unlink(missing_ok=True)


def sweep(now: float | None = None) -> int:
    """Remove uploads older than their lifetime; how many."""
    limit = (now if now is not None else time.time()) - LIFETIME_SECONDS
    removed = 0
    for path in folder().glob("*.json"):
        try:
            old = path.stat().st_mtime < limit
        except OSError:
            continue
        if old:
            discard(path.stem)
            removed += 1
    return removed


def _write(path: Path, data: bytes) -> None:
    """Write a file readable by the server's user only, atomically."""
    partial = path.with_suffix(path.suffix + ".part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    os.replace(partial, path)
