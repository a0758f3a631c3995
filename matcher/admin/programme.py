"""Saving the programme settings (rules and schedule) with an audit entry."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from matcher.admin.audit_text import setting_changes
from matcher.audit import changed_keys, record
from matcher.matching import ProblemError, Rules
from matcher.models import ProgrammeSettings
from matcher.rounds import service


def settings_values(settings: ProgrammeSettings) -> dict[str, Any]:
    """The settings as a JSON dict, the rules in the engine's full form."""
    try:
        rules = Rules.from_dict(settings.rules or {}).to_dict()
    except ProblemError:  # an old or hand-edited row: record it as it is
        rules = settings.rules
    return {
        "rules": rules,
        "round_weekday": settings.round_weekday,
        "round_minute": settings.round_minute,
        "round_timezone": settings.round_timezone,
        "feedback_reminder_days": settings.feedback_reminder_days,
        "pause_after_missed": settings.pause_after_missed,
    }


def current_rules_or_default(session: Session) -> Rules:
    """The saved rules, or the engine defaults when the saved ones no longer validate."""
    try:
        return service.current_rules(session)
    except ProblemError:
        return Rules()


def save_settings(session: Session, values: dict[str, Any], actor_id: int) -> list[str]:
    """Write the settings row (id 1) and audit it; returns the changes in words. Not committed."""
    settings = service.programme_settings(session)
    before = settings_values(settings)
    changed = changed_keys(before, values)
    if not changed:
        return []
    # The service hands out a transient default row until one is saved: merge adds it.
    settings = session.merge(settings)
    settings.rules = values["rules"]
    settings.round_weekday = values["round_weekday"]
    settings.round_minute = values["round_minute"]
    settings.round_timezone = values["round_timezone"]
    settings.feedback_reminder_days = values["feedback_reminder_days"]
    settings.pause_after_missed = values["pause_after_missed"]
    record(session, actor_id, "rules.update", "programme settings", before=before, after=values)
    session.flush()
    return setting_changes(before, values)
