"""A programme's settings: its matching rules, schedule and follow-up, read and saved."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from matcher.audit import changed_keys, record
from matcher.matching import ProblemError, Rules
from matcher.models import Programme


def rules_of(programme: Programme) -> Rules:
    """The matching rules the programme's next round uses (raises ProblemError when invalid).

    Kinds with roles (buddies, mentoring) always pair one of each role, two at a time: that
    is what the kind means, so it is not a rule an admin can turn off.
    """
    rules = Rules.from_dict(programme.rules or {})
    if programme.roles is not None:
        values = rules.to_dict()
        values.update(distinct_roles=True, group_size=2)
        rules = Rules.from_dict(values)
    return rules


def rules_or_default(programme: Programme) -> Rules:
    """The saved rules, or the engine defaults (for the kind) when they no longer validate."""
    try:
        return rules_of(programme)
    except ProblemError:
        return rules_of(Programme(kind=programme.kind, rules={}))


def settings_values(programme: Programme) -> dict[str, Any]:
    """The settings as a JSON dict, the rules in the engine's full form."""
    try:
        rules = Rules.from_dict(programme.rules or {}).to_dict()
    except ProblemError:  # an old or hand-edited row: record it as it is
        rules = programme.rules
    return {
        "rules": rules,
        "round_weekday": programme.round_weekday,
        "round_minute": programme.round_minute,
        "round_timezone": programme.round_timezone,
        "feedback_reminder_days": programme.feedback_reminder_days,
        "pause_after_missed": programme.pause_after_missed,
    }


def save_settings(
    session: Session, programme: Programme, values: dict[str, Any], actor_id: int
) -> dict[str, Any] | None:
    """Write the programme's settings and audit them; returns the values before, or None when
    nothing changed. Not committed."""
    before = settings_values(programme)
    if not changed_keys(before, values):
        return None
    programme.rules = values["rules"]
    programme.round_weekday = values["round_weekday"]
    programme.round_minute = values["round_minute"]
    programme.round_timezone = values["round_timezone"]
    programme.feedback_reminder_days = values["feedback_reminder_days"]
    programme.pause_after_missed = values["pause_after_missed"]
    record(
        session,
        actor_id,
        "rules.update",
        f"programme {programme.slug}",
        before=before,
        after=values,
    )
    session.flush()
    return before
