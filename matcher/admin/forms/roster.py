"""Forms of the roster import pages: upload a file, apply it; and a person's manager."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import Length, ValidationError


class RosterUploadForm(FlaskForm):
    """A roster CSV file and how to apply it."""

    file = FileField(
        "Roster file (CSV)",
        description="UTF-8 CSV with a header row; at most 10 MB and 50,000 people.",
    )
    overwrite = BooleanField(
        "Overwrite what people edited themselves",
        description="Off: a name, team, office, time zone or manager someone changed since "
        "the last import stays as they set it.",
    )
    invite = BooleanField(
        "Send invitations",
        default=True,
        description="Each new person gets an email to set a password or use single sign-on.",
    )
    submit = SubmitField("Preview")

    def validate_file(self, field: FileField) -> None:
        upload = field.data
        if upload is None or not getattr(upload, "filename", None):
            raise ValidationError("Choose a CSV file to upload.")


class RosterApplyForm(FlaskForm):
    """Apply the previewed file (its options were chosen at upload)."""

    submit = SubmitField("Apply")


class ManagerForm(FlaskForm):
    """Set or clear a person's manager by email."""

    manager_email = StringField(
        "Manager",
        validators=[Length(max=254, message="An email is at most 254 characters.")],
        description="Their manager’s email; empty for none. Never paired with their manager "
        "or reports.",
    )
    submit = SubmitField("Save manager")
