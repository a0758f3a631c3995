"""Forms for signing up, logging in and resetting a forgotten password."""

from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from matcher.profile.forms import NAME_MAX, ProfileFieldsForm

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


class SignupForm(NewPasswordHint, ProfileFieldsForm):
    """Account and matching profile in one form."""

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
    submit = SubmitField("Sign up")


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
