"""Forms for confirming an address, asking for a fresh link and accepting an invitation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SubmitField
from wtforms.validators import Length, Optional

from matcher.auth.forms import NEW_PASSWORD_RULES, PASSWORDS_MATCH, NewPasswordHint


class ResendForm(FlaskForm):
    """Ask for a fresh link: the logged-in person's own, or the one an expired link names."""

    token = HiddenField(validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Send me a new link")


class AcceptInvitationForm(NewPasswordHint, FlaskForm):
    """Accept an invitation by choosing a password (validated like at sign-up)."""

    password = PasswordField("Choose a password", validators=NEW_PASSWORD_RULES)
    confirm = PasswordField("Repeat the password", validators=PASSWORDS_MATCH)
    submit = SubmitField("Accept and continue")
