"""Forms for the participant's dashboard."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField


class SkipForm(FlaskForm):
    """Skip the next round (its CSRF token is the protection)."""

    submit = SubmitField("Skip the next round")
