"""Forms of the rounds pages: preview, swap, take out, confirm."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    StringField,
    SubmitField,
)
from wtforms.validators import ValidationError

from matcher.admin.forms.fields import (
    RAW_MAX,
    ChoiceField,
)
from matcher.admin.forms.rules import EngineRulesForm
from matcher.weeks import WeekError, parse_week


class PreviewForm(EngineRulesForm):
    """Proposed rules and a week to preview; a GET form unless it saves a draft."""

    week = StringField("Week", description="An ISO week like 2026-W49.")
    use = HiddenField(default="proposed")

    def validate_week(self, field: StringField) -> None:
        try:
            parse_week((field.data or "")[:RAW_MAX])
        except WeekError as error:
            raise ValidationError(str(error)[:1].upper() + str(error)[1:] + ".") from None


class SwapForm(FlaskForm):
    """Swap two people between groups of a draft."""

    first = ChoiceField("Swap", message="Pick someone who is in a group of this round.")
    second = ChoiceField("With", message="Pick someone in another group of this round.")
    submit = SubmitField("Swap")

    def validate_second(self, field: ChoiceField) -> None:
        if field.data is not None and field.data == self.first.data:
            raise ValidationError("Pick two different people.")


class TakeOutForm(FlaskForm):
    """Take someone out of a draft round."""

    person = ChoiceField("Take out", message="Pick someone who is in a group of this round.")
    submit = SubmitField("Take out")


class ConfirmForm(FlaskForm):
    """A bare form whose CSRF token protects a button (publish, discard)."""

    submit = SubmitField("Confirm")
