"""Forms of the People pages: search, one button per account action, the join date."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_wtf import FlaskForm
from wtforms import (
    SearchField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from matcher.admin.directory import STATUSES


class PeopleSearchForm(FlaskForm):
    """Search people by name, email or team (a GET form: no CSRF needed)."""

    class Meta:
        csrf = False

    q = SearchField("Search", validators=[Length(max=100)])
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status")]
        + [SelectChoice(key, label) for key, label in STATUSES.items()],
        default="",
        validate_choice=False,  # the message below says what to do instead
    )

    def validate_status(self, field: SelectField) -> None:
        if field.data and field.data not in STATUSES:
            raise ValidationError("Pick a status from the list.")


class UserActionForm(FlaskForm):
    """A POSTed action on one person; its CSRF token protects it."""

    submit = SubmitField("Apply")


class JoinedOnForm(FlaskForm):
    """Correct the date someone joined the organisation (who counts as a new joiner)."""

    joined_on = StringField(
        "Joined the organisation on",
        description="YYYY-MM-DD, today or earlier; new-joiner programmes go by this date.",
    )
    submit = SubmitField("Save join date")

    def validate_joined_on(self, field: StringField) -> None:
        raw = (field.data or "").strip()
        shown = raw if len(raw) <= 20 else raw[:20] + "…"
        try:
            day = date.fromisoformat(raw[:20]) if len(raw) == 10 else None
        except ValueError:
            day = None
        if day is None:
            raise ValidationError(f"“{shown}” is not a date; enter one like 2026-03-01.")
        if day > datetime.now(UTC).date():
            raise ValidationError("The join date cannot be in the future.")
        if day.year < 1900:
            raise ValidationError("Enter a year from 1900 on.")
        self.day = day
