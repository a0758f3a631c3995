"""Commit at the edge, retrying when a concurrent request won a unique-key race."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from matcher.extensions import db

T = TypeVar("T")


def commit_retrying(work: Callable[[], T], attempts: int = 3) -> T:
    """Run work() and commit; on an IntegrityError roll back and run it again from scratch."""
    for attempt in range(attempts):
        try:
            result = work()
            db.session.commit()
            return result
        except IntegrityError:
            # Another request inserted the same team, interest or email first: the next
            # attempt sees its row (or refuses cleanly, e.g. "email taken").
            db.session.rollback()
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
