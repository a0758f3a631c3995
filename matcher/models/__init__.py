"""Database models; import them from here so Alembic sees every table."""

from matcher.models.audit import AuditEntry
from matcher.models.feedback import FEEDBACK_STATUSES, NOT_MEETING_REASONS, Feedback
from matcher.models.outbox import OutboxMessage
from matcher.models.people import (
    MEETING_MODES,
    AvailabilityWindow,
    Cadence,
    DoNotPair,
    Interest,
    PendingDoNotPair,
    Profile,
    Project,
    Team,
    User,
    normalise_name,
    vocabulary_key,
)
from matcher.models.rounds import ROUND_STATUSES, MatchGroup, Membership, PendingErasure, Round
from matcher.models.settings import SETTINGS_ID, ProgrammeSettings

__all__ = [
    "FEEDBACK_STATUSES",
    "NOT_MEETING_REASONS",
    "AuditEntry",
    "Feedback",
    "MEETING_MODES",
    "ROUND_STATUSES",
    "SETTINGS_ID",
    "MatchGroup",
    "Membership",
    "OutboxMessage",
    "PendingErasure",
    "ProgrammeSettings",
    "Round",
    "AvailabilityWindow",
    "Cadence",
    "DoNotPair",
    "PendingDoNotPair",
    "Interest",
    "Profile",
    "Project",
    "Team",
    "User",
    "normalise_name",
    "vocabulary_key",
]
