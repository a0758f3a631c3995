"""Forms of the People pages: search, and one button per account action."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    SearchField,
    SelectField,
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
