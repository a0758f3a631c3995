"""Forms of the participant's dashboard."""

from __future__ import annotations

from wtforms import HiddenField
from wtforms.validators import DataRequired, Length

from matcher.rounds.forms import SkipForm


class ProgrammeSkipForm(SkipForm):
    """Skip the next round of one programme (its card's button)."""

    programme = HiddenField(validators=[DataRequired(), Length(max=40)])
