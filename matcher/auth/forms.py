"""Forms for signing up, logging in and resetting a forgotten password."""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Form,
    HiddenField,
    PasswordField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from matcher.models import Cadence, Programme
from matcher.profile.forms import NAME_MAX, ProfileFieldsForm, cadence_field
from matcher.profile.service import JOIN_ROLE_LABELS
from matcher.programmes.members import Choice

PASSWORD_MAX = 128


def password_long_enough(form: FlaskForm, field: PasswordField) -> None:
    """Refuse passwords shorter than PASSWORD_MIN_LENGTH (config)."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(field.data or "") < minimum:
        raise ValidationError(f"Use at least {minimum} characters.")


def password_hint() -> str:
    """The rule for a new password, shown under the field before anyone gets it wrong."""
    return f"At least {current_app.config['PASSWORD_MIN_LENGTH']} characters."


class NewPasswordHint:
    """Describes the `password` field with the configured minimum, read per request."""

    password: PasswordField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.password.description = password_hint()


# One set of rules for every new password: sign-up and reset alike.
NEW_PASSWORD_RULES = [
    DataRequired("Choose a password."),
    password_long_enough,
    Length(max=PASSWORD_MAX, message=f"Use at most {PASSWORD_MAX} characters."),
]
PASSWORDS_MATCH = [EqualTo("password", message="The two passwords differ.")]


class ProgrammeChoicesField(SelectMultipleField):
    """Checkboxes of programme ids. An id that is not offered (archived, unknown, not a
    number: a stale page or a tampered form) is an error on the field, never a 500."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = []
        for raw in valuelist:
            value = int(raw) if raw.strip().isdigit() and len(raw) < 12 else -1
            if value not in self.data:
                self.data.append(value)

    def pre_validate(self, form: Form) -> None:
        offered = {choice.value for choice in self.choices or ()}
        if any(value not in offered for value in self.data or ()):
            raise ValidationError(
                "One of the programmes you chose is not open to join (any more): "
                "choose again from the list."
            )


def role_field_name(programme: Programme) -> str:
    """The sign-up form's field for the role one takes in that programme."""
    return f"role_{programme.id}"


class SignupForm(NewPasswordHint, ProfileFieldsForm):
    """Account, matching profile and the programmes to join in one form (make it with
    signup_form, which adds the programmes on offer and a role choice for each with roles)."""

    display_name = StringField(
        "Name", validators=[DataRequired("Please give your name."), Length(max=NAME_MAX)]
    )
    email = EmailField(
        "Work email",
        validators=[
            DataRequired("Please give your email."),
            Length(max=254, message="That email is too long."),
            Email("That does not look like an email address."),
        ],
    )
    password = PasswordField("Password", validators=NEW_PASSWORD_RULES)
    confirm = PasswordField("Repeat password", validators=PASSWORDS_MATCH)
    programmes = ProgrammeChoicesField("Programmes to join", coerce=int)
    # Sent by the page with the checkboxes: a sign-up posted without it (a script written
    # before programmes existed) joins the cross-team coffee, as it always did.
    programmes_shown = HiddenField()
    cadence_weeks = cadence_field()
    submit = SubmitField("Sign up")

    offered: Sequence[Programme] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cadence_weeks.description = (
            "For the weekly programmes you join; you can change it per programme later."
        )

    def validate(self, extra_validators=None) -> bool:
        """The usual checks, then a role for each chosen programme that has roles."""
        valid = super().validate(extra_validators)
        chosen = set(self.programmes.data or ())
        for programme in self.offered:
            field = self[role_field_name(programme)] if programme.roles else None
            if field is not None and programme.id in chosen and not field.errors and not field.data:
                field.errors = [f"Choose how you take part in {programme.name}."]
                valid = False
        return valid

    def chosen(self, default_id: int | None) -> list[Choice] | None:
        """The programmes ticked, each with its role and cadence (programmes whose pairings
        last weeks meet at their own pace); the default programme (its id, when open) when
        the post came without the checkboxes."""
        if not self.programmes_shown.data:
            if default_id is None:
                return []
            return [Choice(default_id, None, self.cadence_weeks.data or int(Cadence.WEEKLY))]
        choices = []
        for programme in self.offered:
            if programme.id not in (self.programmes.data or ()):
                continue
            role = self[role_field_name(programme)].data if programme.roles else None
            weekly = programme.pairing_weeks <= 1
            cadence = self.cadence_weeks.data if weekly else int(Cadence.WEEKLY)
            choices.append(Choice(programme.id, role or None, cadence))
        return choices


def signup_form(offered: Sequence[Programme]) -> SignupForm:
    """A SignupForm offering these programmes, with a role choice for each that has roles."""
    roles = {
        role_field_name(programme): RadioField(
            f"How you take part in {programme.name}",
            choices=[SelectChoice(role, JOIN_ROLE_LABELS[role]) for role in programme.roles],
            validators=[Optional()],
        )
        for programme in offered
        if programme.roles
    }
    form_class = type("SignupFormWithRoles", (SignupForm,), roles) if roles else SignupForm
    form = form_class()
    form.offered = list(offered)
    form.programmes.choices = [SelectChoice(programme.id, programme.name) for programme in offered]
    return form


class LoginForm(FlaskForm):
    """Email and password; errors never say which of the two was wrong."""

    email = EmailField(
        "Email", validators=[DataRequired("Please give your email."), Length(max=254)]
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Please give your password."), Length(max=PASSWORD_MAX)],
    )
    remember = BooleanField("Remember me")
    next = HiddenField()
    submit = SubmitField("Log in")


class ResetRequestForm(FlaskForm):
    """Ask for a password-reset link by email."""

    email = EmailField(
        "Email",
        validators=[
            DataRequired("Please give your email."),
            Length(max=254, message="That email is too long."),
            Email("That does not look like an email address."),
        ],
    )
    submit = SubmitField("Send me a link")


class ResetPasswordForm(NewPasswordHint, FlaskForm):
    """Choose a new password, validated like at sign-up."""

    password = PasswordField("New password", validators=NEW_PASSWORD_RULES)
    confirm = PasswordField("Repeat new password", validators=PASSWORDS_MATCH)
    submit = SubmitField("Set password")


class ChangePasswordForm(NewPasswordHint, FlaskForm):
    """A logged-in member's new password: the current one first, then the new one twice."""

    current_password = PasswordField(
        "Current password",
        validators=[
            DataRequired("Type your current password."),
            Length(max=PASSWORD_MAX, message="That is not your current password."),
        ],
    )
    password = PasswordField("New password", validators=NEW_PASSWORD_RULES)
    confirm = PasswordField("Repeat new password", validators=PASSWORDS_MATCH)
    submit = SubmitField("Change password")
