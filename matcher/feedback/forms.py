"""The feedback form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from matcher.models import FEEDBACK_STATUSES, NOT_MEETING_REASONS
from matcher.models.feedback import KUDOS_MAX, NOTE_MAX


def _choices(options: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in options.items()]


def _optional_int(value: object) -> int | None:
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0  # out of range: validate_rating says what is expected


def _optional_bool(value: object) -> bool | None:
    return {"yes": True, "no": False, True: True, False: False}.get(value)  # type: ignore[call-overload]


class FeedbackForm(FlaskForm):
    """Did you meet, how was it, would you meet again, a private note and kudos."""

    status = RadioField(
        "Did you meet?",
        choices=_choices(FEEDBACK_STATUSES),
        validators=[InputRequired("Tell us whether you met.")],
    )
    reason = SelectField(
        "Why not?",
        # No Optional(): it would stop the chain before validate_reason can insist.
        choices=[SelectChoice("", "—")] + _choices(NOT_MEETING_REASONS),
        default="",
    )
    rating = RadioField(
        "How was it?",
        choices=[SelectChoice(str(n), str(n)) for n in range(1, 6)],
        coerce=_optional_int,
        validate_choice=False,
        validators=[Optional()],
        description="1 = not great, 5 = excellent.",
    )
    would_meet_again = RadioField(
        "Would you meet again?",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        coerce=_optional_bool,
        validators=[Optional()],
        description="A 'no' is private: you are simply never paired again.",
    )
    private_note = TextAreaField(
        "Private note for the organisers",
        validators=[Length(max=NOTE_MAX, message=f"At most {NOTE_MAX} characters, please.")],
        description="Only the programme admins read this.",
    )
    kudos = TextAreaField(
        "Kudos for your partner",
        validators=[Length(max=KUDOS_MAX, message=f"At most {KUDOS_MAX} characters, please.")],
        description="A thank-you shown on your partner's dashboard, with your name.",
    )
    submit = SubmitField("Send")

    def validate_reason(self, field: SelectField) -> None:
        if self.status.data == "will_not_meet" and not field.data:
            raise ValidationError("Tell us why, so we can do better.")

    def validate_rating(self, field: RadioField) -> None:
        if field.data is not None and not 1 <= field.data <= 5:
            raise ValidationError("Pick a rating from 1 to 5.")
        if field.data is not None and self.status.data != "met":
            raise ValidationError("Rate a coffee only once you have met.")
