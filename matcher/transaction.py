"""Commit at the edge: retrying when a concurrent request won a unique-key race, or one
transaction per step for work too big for one."""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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


def commit_steps(session: Session, step: Callable[[Session], int | None], seconds: float) -> int:
    """Run step and commit, again and again, until it returns None or about `seconds` passed;
    the sum of what the steps returned. Nothing half-done stays in the session."""
    deadline = monotonic() + seconds
    done = 0
    while monotonic() < deadline and (result := step(session)) is not None:
        session.commit()
        done += result
    session.rollback()
    return done
