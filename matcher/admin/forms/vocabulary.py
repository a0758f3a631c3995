"""Forms of the vocabulary pages: rename, merge, merge offices."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import Length, ValidationError

from matcher.admin.forms.fields import (
    ChoiceField,
)


class RenameForm(FlaskForm):
    """Rename a team, project or interest."""

    name = StringField("New name", validators=[Length(max=200)])
    submit = SubmitField("Rename")


class MergeForm(FlaskForm):
    """Merge one vocabulary entry into another."""

    target = ChoiceField("Merge into", message="Pick the entry to merge into from the list.")
    submit = SubmitField("Merge")


class OfficeMergeForm(FlaskForm):
    """Merge one office, as written on profiles, into another."""

    source = SelectField("Office", validate_choice=False)
    target = SelectField("Merge into", validate_choice=False)
    submit = SubmitField("Merge")

    def validate_source(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError("Pick the office to merge from the list.")
        if len(field.data) > 200:
            raise ValidationError("That is not an office on the list.")

    def validate_target(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError("Pick the office to merge into from the list.")
        if field.data == self.source.data:
            raise ValidationError("Pick another office to merge into.")
