"""Forms for the admin console."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SearchField, SubmitField
from wtforms.validators import Length


class PeopleSearchForm(FlaskForm):
    """Search people by name, email or team (a GET form: no CSRF needed)."""

    class Meta:
        csrf = False

    q = SearchField("Search", validators=[Length(max=100)])


class UserActionForm(FlaskForm):
    """A POSTed action on one person; its CSRF token protects it."""

    submit = SubmitField("Apply")
