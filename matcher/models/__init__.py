"""Database models; import them from here so Alembic sees every table."""

from matcher.models.people import (
    MEETING_MODES,
    AvailabilityWindow,
    Cadence,
    DoNotPair,
    Interest,
    Profile,
    Project,
    Team,
    User,
    normalise_name,
    vocabulary_key,
)

__all__ = [
    "MEETING_MODES",
    "AvailabilityWindow",
    "Cadence",
    "DoNotPair",
    "Interest",
    "Profile",
    "Project",
    "Team",
    "User",
    "normalise_name",
    "vocabulary_key",
]
