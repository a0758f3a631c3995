"""The admin audit log: record who changed what, and read it back newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from matcher.models import AuditEntry

PAGE_SIZE = 50


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    target: str | None = None,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Add one audit entry (not committed: it lands in the same transaction as the change)."""
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        target=target[:200] if target else None,
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def erase_person(session: Session, user_id: int, name: str, email: str) -> int:
    """Put a placeholder for a deleted person's name and email in the log; entries changed."""
    placeholder = f"Deleted user #{user_id}"
    entries = session.scalars(
        select(AuditEntry).where(
            or_(
                AuditEntry.target.contains(email, autoescape=True),
                AuditEntry.action.in_(("round.swap", "round.take_out")),
            )
        )
    )
    changed = 0
    for entry in entries:
        target, after = entry.target or "", entry.after
        names = after.get("names") if isinstance(after, dict) else None
        if entry.action == "round.swap" and isinstance(names, dict) and str(user_id) in names:
            # "round 2026-W49: Ada <-> Bo": only the side that is this person, not a namesake.
            head, _, sides = target.partition(": ")
            swapped = [placeholder if side == name else side for side in sides.split(" <-> ")]
            target = f"{head}: {' <-> '.join(swapped)}"
            entry.after = {**after, "names": {**names, str(user_id): placeholder}}
        elif entry.action == "round.take_out" and isinstance(after, dict):
            if (after.get("unmatched") or [None])[0] == user_id:
                target = f"{target.partition(': ')[0]}: {placeholder}"
        else:
            target = target.replace(f"{name} <{email}>", placeholder).replace(email, placeholder)
        if target != entry.target or entry.after is not after:
            entry.target = target[:200]
            changed += 1
    return changed


def page_of_entries(session: Session, page: int) -> tuple[list[AuditEntry], int]:
    """One page (1-based) of entries, newest first, and the number of pages."""
    total = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    entries = session.scalars(
        select(AuditEntry)
        .options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return list(entries), pages


def changed_keys(before: Any, after: Any) -> list[str]:
    """Top-level keys (and weights) whose value differs between two settings dicts."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    changed = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            changed += [f"{key}.{k}" for k in changed_keys(old, new)]
        elif old != new:
            changed.append(key)
    return changed
