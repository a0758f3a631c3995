"""Forms for the profile: team, projects, interests, where and when someone can meet."""

from __future__ import annotations

import calendar
from datetime import date, time, timedelta

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import TextInput

from matcher.models import MEETING_MODES, Cadence, normalise_name, vocabulary_key
from matcher.profile.service import ProfileData, Slot
from matcher.timezones import is_timezone, timezone_names
from matcher.video_links import video_link_problem

NAME_MAX = 80
TAG_MAX_LENGTH = 60
TAGS_MAX_COUNT = 20

CADENCE_CHOICES = [
    SelectChoice(int(Cadence.WEEKLY), "Every week"),
    SelectChoice(int(Cadence.FORTNIGHTLY), "Every 2 weeks"),
    SelectChoice(int(Cadence.MONTHLY), "Every 4 weeks"),
]


class TagListField(Field):
    """A comma-separated list of names, deduplicated case-insensitively."""

    widget = TextInput()

    def __init__(self, label: str | None = None, validators=None, noun: str = "entries", **kw):
        super().__init__(label, validators, **kw)
        self.noun = noun

    def _value(self) -> str:
        return ", ".join(self.data or [])

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = []
        seen: set[str] = set()
        for raw in ",".join(valuelist).split(","):
            name = normalise_name(raw)
            if name and vocabulary_key(name) not in seen:
                seen.add(vocabulary_key(name))
                self.data.append(name)

    def pre_validate(self, form: Form) -> None:
        for name in self.data or []:
            if len(name) > TAG_MAX_LENGTH:
                shown = name[:30] + "…"
                raise ValidationError(
                    f"“{shown}” is too long: at most {TAG_MAX_LENGTH} characters each."
                )
        if len(self.data or []) > TAGS_MAX_COUNT:
            raise ValidationError(f"At most {TAGS_MAX_COUNT} {self.noun}, please.")


class DayForm(Form):
    """One weekday's free window: both times or neither."""

    start = TimeField("From", format=["%H:%M", "%H:%M:%S"], validators=[Optional()])
    end = TimeField("To", format=["%H:%M", "%H:%M:%S"], validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        """Check each time, then that the window is complete and ends after it starts."""
        if not super().validate(extra_validators):
            return False
        start, end = self.start.data, self.end.data
        if (start is None) != (end is None):
            self.end.errors = [*self.end.errors, "Give both a start and an end time, or neither."]
            return False
        if start is not None and end is not None and end <= start:
            self.end.errors = [*self.end.errors, "Ends before it starts."]
            return False
        return True


class WeekForm(Form):
    """One DayForm per weekday, day0 (Monday) to day6 (Sunday)."""

    def days(self) -> list[DayForm]:
        """The seven day forms, Monday first."""
        return [getattr(self, f"day{i}").form for i in range(7)]


for _index, _name in enumerate(calendar.day_name):
    # Fixed names (availability-day0-start, ...) so a missing day never shifts the others.
    setattr(WeekForm, f"day{_index}", FormField(DayForm, label=_name))


def strip(value: str | None) -> str | None:
    """The value without surrounding white space (None stays None)."""
    return value.strip() if isinstance(value, str) else value


def minutes(t: time) -> int:
    """Minutes since midnight."""
    return t.hour * 60 + t.minute


class ProfileFieldsForm(FlaskForm):
    """The matching profile, shared by sign-up and profile edit."""

    team = StringField(
        "Team",
        validators=[DataRequired("Which team are you in?"), Length(max=NAME_MAX)],
        description="Pick your team from the list or type a new one.",
    )
    projects = TagListField(
        "Projects",
        noun="projects",
        description="What you work on, separated by commas (e.g. Checkout, Search API); "
        "the suggestions are what colleagues wrote.",
    )
    interests = TagListField(
        "Interests",
        noun="interests",
        description="Topics and hobbies, separated by commas (e.g. Rust, climbing, chess).",
    )
    can_help = TagListField(
        "I can help with",
        noun="skills",
        description="Skills you could help a colleague with, separated by commas "
        "(e.g. Kubernetes, public speaking): mentees look for these. Optional unless "
        "you mentor.",
    )
    wants_help = TagListField(
        "I want help with",
        noun="skills",
        description="What you would like to learn from a mentor, separated by commas. "
        "Optional unless you join mentoring as a mentee.",
    )
    location = StringField(
        "Office or city",
        validators=[Length(max=NAME_MAX)],
        description="Used to pair you in person with people in the same place: pick it from "
        "the suggestions when it is there, so one office has one name.",
    )
    timezone = SelectField("Time zone", validate_choice=False, default="UTC")
    meeting_mode = SelectField(
        "Meeting",
        choices=[SelectChoice(value, label) for value, label in MEETING_MODES.items()],
        default="either",
    )
    video_link = URLField(
        "Your video-call link",
        filters=[strip],
        render_kw={"placeholder": "https://meet.example.com/your-room", "autocomplete": "url"},
        description="Optional: your own meeting room (https://…). When you meet by video, "
        "the calendar entry links to it.",
    )
    availability = FormField(WeekForm)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [SelectChoice("UTC")] + [SelectChoice(n) for n in timezone_names()]

    def validate_timezone(self, field: SelectField) -> None:
        if not is_timezone(field.data or ""):
            raise ValidationError("Unknown time zone: pick one from the list.")

    def validate_video_link(self, field: URLField) -> None:
        problem = video_link_problem(field.data) if field.data else None
        if problem is not None:
            raise ValidationError(problem)

    def profile_data(self) -> ProfileData:
        """The validated input as a plain value for the profile service."""
        slots = [
            Slot(weekday=i, start_minute=minutes(d.start.data), end_minute=minutes(d.end.data))
            for i, d in enumerate(self.availability.form.days())
            if d.start.data is not None and d.end.data is not None
        ]
        return ProfileData(
            team=normalise_name(self.team.data),
            projects=tuple(self.projects.data or ()),
            interests=tuple(self.interests.data or ()),
            can_help=tuple(self.can_help.data or ()),
            wants_help=tuple(self.wants_help.data or ()),
            location=normalise_name(self.location.data or "") or None,
            timezone=self.timezone.data,
            meeting_mode=self.meeting_mode.data,
            video_link=self.video_link.data or None,
            availability=tuple(slots),
        )


class ProfileForm(ProfileFieldsForm):
    """Profile edit: the matching profile plus the display name."""

    display_name = StringField(
        "Name", validators=[DataRequired("Please give your name."), Length(max=NAME_MAX)]
    )
    submit = SubmitField("Save profile")


def cadence_field() -> SelectField:
    """How often to meet in a weekly programme: every 1, 2 or 4 weeks."""
    return SelectField(
        "How often", choices=CADENCE_CHOICES, coerce=int, default=int(Cadence.WEEKLY)
    )


class CadenceForm(FlaskForm):
    """How often to meet in one programme (the programme is in the URL)."""

    cadence_weeks = cadence_field()
    submit = SubmitField("Change")


class JoinForm(FlaskForm):
    """Join one programme (in the URL), with a role where its kind has roles."""

    role = RadioField("How you take part", validate_choice=False)
    cadence_weeks = cadence_field()
    submit = SubmitField("Join")


class SnoozeForm(FlaskForm):
    """Pause pairings until a date."""

    until = DateField("Snooze until", validators=[InputRequired("Pick a date.")])
    submit = SubmitField("Snooze")

    def validate_until(self, field: DateField) -> None:
        if field.data is None:  # unparseable: DateField already said so
            return
        today = date.today()
        if field.data <= today:
            raise ValidationError("Pick a date after today.")
        if field.data > today + timedelta(days=366):
            raise ValidationError("Snooze for at most a year; you can leave instead.")


class ConfirmForm(FlaskForm):
    """A bare form: its CSRF token is what protects the action."""

    submit = SubmitField("Confirm")


class DoNotPairForm(FlaskForm):
    """Add a colleague to the private do-not-pair list."""

    email = EmailField(
        "Colleague's email",
        validators=[DataRequired("Whose email?"), Length(max=254), Email("Not a valid email.")],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        description="Also works for someone who has not signed up (yet).",
    )
    submit = SubmitField("Never pair me with them")


class RemoveDoNotPairForm(FlaskForm):
    """Take one address off the do-not-pair list (the address rides in a hidden field)."""

    email = HiddenField(validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Remove")


class DeleteAccountForm(FlaskForm):
    """Account deletion, confirmed with the password."""

    password = PasswordField("Your password", validators=[DataRequired("Type your password.")])
    confirm = BooleanField(
        "I understand my profile and data are erased for good",
        validators=[DataRequired("Tick the box to confirm.")],
    )
    submit = SubmitField("Delete my account")


class DeleteByEmailForm(FlaskForm):
    """Account deletion for an account that signs in without a password: its address typed."""

    email = StringField(
        "Your email address",
        validators=[DataRequired("Type your email address."), Length(max=254)],
        description="The address you sign in with, to show this is really you.",
    )
    confirm = BooleanField(
        "I understand my profile and data are erased for good",
        validators=[DataRequired("Tick the box to confirm.")],
    )
    submit = SubmitField("Delete my account")
