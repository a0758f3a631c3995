"""The programme form: name, address, kind, who may join and how pairings run."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice

from matcher.admin.forms.fields import RAW_MAX, WholeNumberField
from matcher.models import OPEN_TO, PROGRAMME_KINDS, Programme
from matcher.models.programmes import MAX_MENTOR_CAPACITY, MAX_PAIRING_WEEKS
from matcher.programmes.catalogue import ProgrammeValues, slug_for, values_of

# The number fields, with the value the service is asked to check in their place while the
# field itself does not parse (so the other fields' messages show at the same time).
NUMBER_FIELDS = {"joined_within_weeks": 8, "pairing_weeks": 1, "mentor_capacity": 1}
TEXT_MAX = 2000  # longer text is cut before the service sees it: its limits are far below


class ProgrammeForm(FlaskForm):
    """Create or edit a programme; the catalogue service decides what may be saved."""

    name = StringField("Name", description="What people see, like “New-joiner buddies”.")
    slug = StringField(
        "Address",
        description="Lower-case letters, digits and hyphens, used in links "
        "(/admin/p/<address>). Left empty, it is made from the name.",
    )
    kind = SelectField(
        "Kind",
        choices=[SelectChoice(k, words) for k, words in PROGRAMME_KINDS.items()],
        validate_choice=False,  # the service's message says what to do
        description="Fixed once the programme exists.",
    )
    description = TextAreaField("Description", description="At most 500 characters.")
    open_to = SelectField(
        "Who may join",
        choices=[SelectChoice(k, words) for k, words in OPEN_TO.items()],
        validate_choice=False,
    )
    open_values = StringField(
        "Teams or offices that may join",
        description="Comma-separated; only used when only some teams or offices may join.",
    )
    joined_within_weeks = WholeNumberField(
        "Joined within (weeks)",
        description=f"Who counts as a new joiner: joined at most this many weeks ago "
        f"(1 to {MAX_PAIRING_WEEKS}).",
    )
    auto_enrol = BooleanField(
        "Join automatically",
        description="Everyone who qualifies is added (new joiners of a buddy programme); "
        "otherwise people join by choice.",
    )
    pairing_weeks = WholeNumberField(
        "Pairing length (weeks)",
        description=f"How long one pairing lasts before the next (1 for weekly coffee, "
        f"up to {MAX_PAIRING_WEEKS}).",
    )
    mentor_capacity = WholeNumberField(
        "Mentees per mentor",
        description=f"Mentoring only: how many mentees one mentor takes at most "
        f"(1 to {MAX_MENTOR_CAPACITY}).",
    )
    chat_webhook_url = StringField(
        "Chat webhook",
        description="An https:// incoming webhook announcing this programme's rounds; "
        "empty uses the app-wide one.",
    )
    submit = SubmitField("Save programme")

    def fill(self, programme: Programme) -> None:
        """Show a programme's current values in the fields."""
        values = values_of(programme)
        self.name.data = values.name
        self.slug.data = values.slug
        self.kind.data = values.kind
        self.description.data = values.description
        self.open_to.data = values.open_to
        self.open_values.data = ", ".join(values.open_values)
        self.joined_within_weeks.data = values.joined_within_weeks
        self.auto_enrol.data = values.auto_enrol
        self.pairing_weeks.data = values.pairing_weeks
        self.mentor_capacity.data = values.mentor_capacity
        self.chat_webhook_url.data = values.chat_webhook_url or ""

    def values(self, kind: str) -> ProgrammeValues:
        """What was sent, as the service reads it (unparsed numbers stand in as defaults)."""

        def text(field: Any) -> str:
            return (field.data or "").strip()[:TEXT_MAX]

        def number(name: str) -> int:
            field = getattr(self, name)
            return field.data if field.data is not None else NUMBER_FIELDS[name]

        name = text(self.name)
        return ProgrammeValues(
            name=name,
            slug=text(self.slug)[: RAW_MAX * 2] or slug_for(name),
            kind=kind,
            description=text(self.description),
            open_to=text(self.open_to),
            open_values=tuple(v.strip() for v in text(self.open_values).split(",") if v.strip()),
            joined_within_weeks=number("joined_within_weeks"),
            auto_enrol=bool(self.auto_enrol.data),
            pairing_weeks=number("pairing_weeks"),
            # Only mentoring has mentors: whatever another kind's form sends is not used.
            mentor_capacity=number("mentor_capacity") if kind == "mentoring" else 1,
            chat_webhook_url=text(self.chat_webhook_url) or None,
        )

    def parse_errors(self, kind: str) -> dict[str, list[str]]:
        """The fields that did not even parse (junk in a number), by name."""
        errors = {name: list(getattr(self, name).errors) for name in NUMBER_FIELDS}
        if kind != "mentoring":
            errors.pop("mentor_capacity")
        return {name: messages for name, messages in errors.items() if messages}

    def show(self, errors: dict[str, str]) -> None:
        """Put the service's messages next to their fields (the slug's when it was made)."""
        for name, message in errors.items():
            field = getattr(self, name, None) or self.name
            if message not in field.errors:
                field.errors = [*field.errors, message]
