"""Invitations for people an admin imported or an identity provider provisioned.

Roster import and SCIM create the account (no password, `email_verified_at` None) and call
queue_invitation; the person follows the emailed link to set a password or use single
sign-on, and only then takes part in rounds.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from matcher.auth.verification import invitation_message, queue_invitation_email
from matcher.models import User
from matcher.notify.queue import queue_messages


def queue_invitation(session: Session, user: User, invited_by: str | None = None) -> bool:
    """Queue the invitation email for an imported/provisioned person (not committed); returns whether queued (False for deleted/inactive/already-verified users)."""  # noqa: E501
    return queue_invitation_email(session, user, invited_by)


def queue_invitations(
    session: Session, users: Iterable[User], invited_by: str | None = None
) -> list[User]:
    """Queue invitations for people created moments ago (a roster file) in one statement,
    without queue_invitation's once-a-day check (they have had none); returns who was invited
    (not the closed or verified)."""
    invited = [user for user in users if user.is_active and not user.is_verified]
    queue_messages(session, [invitation_message(user, invited_by) for user in invited])
    return invited


__all__ = ["queue_invitation", "queue_invitations"]
