"""Database models; import them from here so Alembic sees every table."""

from matcher.models.audit import AuditEntry
from matcher.models.feedback import FEEDBACK_STATUSES, NOT_MEETING_REASONS, Feedback
from matcher.models.identity import ScimToken, SsoIdentity
from matcher.models.insights import (
    EVERY_PROGRAMME,
    InsightGroup,
    InsightPair,
    InsightRound,
    InsightTeam,
    InsightTeamPair,
    InsightTeamSize,
)
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
    Skill,
    Team,
    User,
    normalise_name,
    vocabulary_key,
)
from matcher.models.programmes import (
    KIND_ROLES,
    OPEN_TO,
    PROGRAMME_KINDS,
    ROLE_LABELS,
    Programme,
    ProgrammeMember,
)
from matcher.models.rounds import ROUND_STATUSES, MatchGroup, Membership, PendingErasure, Round
from matcher.models.versions import DataVersion

__all__ = [
    "EVERY_PROGRAMME",
    "InsightGroup",
    "InsightPair",
    "InsightRound",
    "InsightTeam",
    "InsightTeamPair",
    "InsightTeamSize",
    "FEEDBACK_STATUSES",
    "NOT_MEETING_REASONS",
    "AuditEntry",
    "DataVersion",
    "Feedback",
    "MEETING_MODES",
    "ROUND_STATUSES",
    "KIND_ROLES",
    "OPEN_TO",
    "PROGRAMME_KINDS",
    "ROLE_LABELS",
    "MatchGroup",
    "Membership",
    "OutboxMessage",
    "PendingErasure",
    "Programme",
    "ProgrammeMember",
    "Round",
    "ScimToken",
    "SsoIdentity",
    "AvailabilityWindow",
    "Cadence",
    "DoNotPair",
    "PendingDoNotPair",
    "Interest",
    "Profile",
    "Project",
    "Skill",
    "Team",
    "User",
    "normalise_name",
    "vocabulary_key",
]
