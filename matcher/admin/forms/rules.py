"""The rules form: every engine rule and weight, the schedule and the feedback settings."""

from __future__ import annotations

import calendar
from collections.abc import Container
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from matcher.admin.forms.fields import (
    ChoiceField,
    ClockTimeField,
    NumberField,
    WholeNumberField,
    engine_message,
)
from matcher.matching import ProblemError, Rules, Weights
from matcher.models import ROLE_LABELS, Programme
from matcher.timezones import is_timezone

REMINDER_DAYS = (1, 30)


PAUSE_AFTER = (1, 52)


WEIGHT_HELP = {
    "interests": "Shared interests, rarer ones counting more.",
    "projects": "Working on the same project from different teams.",
    "org_distance": (
        "Being far apart in the org: in the reporting line where managers are known, "
        "else on different teams."
    ),
    "location": "Same office, both happy to meet in person.",
    "hours": "Overlapping free hours for a video call.",
    "novelty": "Not having met recently.",
    "fairness": "Favouring people who waited longest for a match.",
    "help": "What a mentee wants help with that a mentor offers, rarer skills counting more.",
}


class EngineRulesForm(FlaskForm):
    """The engine's rules: hard constraints, group size and one field per score weight."""

    cross_team_only = BooleanField(
        "Only pair people from different teams",
        description="A hard constraint: nobody is ever paired with their own team.",
    )
    avoid_managers = BooleanField(
        "Never pair people with their manager or their direct reports",
        description=(
            "A hard constraint: nobody is paired with the manager they report to, or with "
            "someone who reports to them directly."
        ),
    )
    repeat_cooldown_weeks = WholeNumberField(
        "Weeks before two people can meet again",
        description="A hard constraint, 0 to 52. 0 allows meeting the same person every week.",
    )
    group_size = WholeNumberField(
        "Group size", description="2 for pairs, 3 for trios, 4 for foursomes."
    )

    def weight_fields(self) -> list[Field]:
        """The weight fields in the engine's component order."""
        return [getattr(self, f"weight_{name}") for name in Weights.names()]

    def engine_fields(self) -> list[Field]:
        """Every field the engine's rules are read from."""
        return [
            self.cross_team_only,
            self.avoid_managers,
            self.repeat_cooldown_weeks,
            self.group_size,
            *self.weight_fields(),
        ]

    def fit_to(self, programme: Programme) -> None:
        """Kinds with roles pair one of each role, two at a time: the group size is fixed."""
        if programme.roles is None:
            return
        helped, helper = (ROLE_LABELS[role].lower() for role in programme.roles)
        field = self.group_size
        field.data = 2
        field.raw_data = None
        field.process_errors = []  # whatever was sent: the kind decides
        field.render_kw = {**(field.render_kw or {}), "readonly": True}
        field.description = f"Always 2 in {programme.name}: one {helped} with one {helper}."

    def rules_dict(self) -> dict[str, Any]:
        """The submitted rules as the engine's JSON shape (may hold invalid values)."""
        return {
            "cross_team_only": bool(self.cross_team_only.data),
            "avoid_managers": bool(self.avoid_managers.data),
            "repeat_cooldown_weeks": self.repeat_cooldown_weeks.data,
            "group_size": self.group_size.data,
            "weights": {name: getattr(self, f"weight_{name}").data for name in Weights.names()},
        }

    def fill_missing_rules(self, rules: Rules, sent: Container[str]) -> None:
        """Take these rules for every rule field not among the sent field names.

        A link like ?week=2026-W50 sends no rule at all: show the current rules, not a page
        of "enter a number". An absent checkbox means "unticked" once any rule field is sent.
        """
        sent_any = any(f.name in sent for f in self.engine_fields())
        full = self.__class__(formdata=None, meta={"csrf": False})
        full.fill_rules(rules)
        for mine, theirs in zip(self.engine_fields(), full.engine_fields(), strict=True):
            if mine.name not in sent and (not isinstance(mine, BooleanField) or not sent_any):
                mine.data = theirs.data
                mine.raw_data = None
                mine.process_errors = []  # "enter a number" for a field nobody sent

    def fill_rules(self, rules: Rules) -> None:
        """Show these rules in the fields (for a form not submitted yet)."""
        self.cross_team_only.data = rules.cross_team_only
        self.avoid_managers.data = rules.avoid_managers
        self.repeat_cooldown_weeks.data = rules.repeat_cooldown_weeks
        self.group_size.data = rules.group_size
        for name, value in rules.weights.to_dict().items():
            getattr(self, f"weight_{name}").data = value

    def validate(self, extra_validators: Any = None) -> bool:
        """Field checks, then the engine's own validation of every field that parsed."""
        ok = super().validate(extra_validators)
        self.rules: Rules | None = None
        checks: list[tuple[Field, Any]] = [
            (
                self.repeat_cooldown_weeks,
                {"repeat_cooldown_weeks": self.repeat_cooldown_weeks.data},
            ),
            (self.group_size, {"group_size": self.group_size.data}),
        ]
        checks += [
            (f, {"weights": {name: f.data}})
            for name, f in zip(Weights.names(), self.weight_fields(), strict=True)
        ]
        for f, partial in checks:
            if f.errors:
                continue
            try:
                Rules.from_dict(partial)
            except ProblemError as error:
                f.errors = [*f.errors, engine_message(error)]
                ok = False
        if not ok:
            return False
        try:
            self.rules = Rules.from_dict(self.rules_dict())
        except ProblemError as error:  # a rule combination the engine refuses as a whole
            self.group_size.errors = [*self.group_size.errors, engine_message(error)]
            return False
        return True


for _name in Weights.names():
    # One field per engine weight, read from the engine so a new weight shows up by itself.
    setattr(
        EngineRulesForm,
        f"weight_{_name}",
        NumberField(
            _name.replace("_", " ").capitalize(),
            description=WEIGHT_HELP.get(_name, "A score weight from 0 to 10."),
        ),
    )


class SettingsForm(EngineRulesForm):
    """The whole programme settings: the engine's rules plus cadence and feedback."""

    round_weekday = ChoiceField(
        "Rounds run on",
        choices=[SelectChoice(k, name) for k, name in enumerate(calendar.day_name)],
        message="Pick a weekday from the list.",
    )
    round_time = ClockTimeField("At (HH:MM)", description="In the time zone below, 24-hour clock.")
    round_timezone = StringField(
        "Time zone", description="An IANA zone such as Europe/Berlin, or UTC."
    )
    feedback_reminder_days = WholeNumberField(
        "Feedback reminder after (days)",
        description="Days after a round is published before people who did not answer hear again.",
    )
    pause_after_missed = WholeNumberField(
        "Pause after missed rounds",
        description="Rounds in a row without a meeting before someone is paused (nudged first).",
    )
    submit = SubmitField("Save rules")

    def validate_round_timezone(self, field: StringField) -> None:
        zone = (field.data or "").strip()
        if not is_timezone(zone):
            shown = zone if len(zone) <= 40 else zone[:40] + "…"
            raise ValidationError(
                f"“{shown}” is not a time zone we know; pick one from the list, like Europe/Berlin."
            )

    def validate_feedback_reminder_days(self, field: WholeNumberField) -> None:
        low, high = REMINDER_DAYS
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(f"Must be from {low} to {high} days, got {field.data}.")
        # A reminder after the feedback window has closed would never be sent.
        window = current_app.config.get("FEEDBACK_WINDOW_DAYS", 14)
        if field.data is not None and isinstance(window, int) and field.data >= window:
            raise ValidationError(
                f"The feedback window closes after {window} days; remind before that."
            )

    def validate_pause_after_missed(self, field: WholeNumberField) -> None:
        low, high = PAUSE_AFTER
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(f"Must be from {low} to {high} rounds, got {field.data}.")

    def fill(self, settings: Programme) -> None:
        """Show saved settings in the fields."""
        self.fill_rules(Rules.from_dict(settings.rules or {}))
        self.round_weekday.data = settings.round_weekday
        self.round_time.data = settings.round_minute
        self.round_timezone.data = settings.round_timezone
        self.feedback_reminder_days.data = settings.feedback_reminder_days
        self.pause_after_missed.data = settings.pause_after_missed

    def settings_values(self) -> dict[str, Any]:
        """The validated settings as the audit log records them."""
        assert self.rules is not None
        return {
            "rules": self.rules.to_dict(),
            "round_weekday": self.round_weekday.data,
            "round_minute": self.round_time.data,
            "round_timezone": self.round_timezone.data.strip(),
            "feedback_reminder_days": self.feedback_reminder_days.data,
            "pause_after_missed": self.pause_after_missed.data,
        }
