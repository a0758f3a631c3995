"""Form fields shared by the admin pages: numbers, clock times, choices, engine messages."""

from __future__ import annotations

import re
from typing import Any

from wtforms import (
    SelectField,
    StringField,
)
from wtforms.validators import ValidationError

from matcher.matching import ProblemError

RAW_MAX = 40  # longest text a number field accepts; anything longer is not a number


TIME_PATTERN = re.compile(r"^(\d{1,2}):(\d{2})$")


def engine_message(error: ProblemError) -> str:
    """The engine's one-line message without its field path: 'Must be from 0 to 52, got -1.'"""
    text = str(error).split(": ", 1)[-1].strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


class NumberField(StringField):
    """A decimal number typed as text; NaN and infinities get through to the engine's checks."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if not valuelist or not valuelist[0].strip():
            raise ValueError("Enter a number, like 1.5.")
        raw = valuelist[0].strip()
        if len(raw) > RAW_MAX:
            raise ValueError("That is too long to be a number; enter one like 1.5.")
        try:
            self.data = float(raw)
        except ValueError:
            raise ValueError(f"“{raw}” is not a number; enter one like 1.5.") from None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0][:RAW_MAX]
        return f"{self.data:g}" if isinstance(self.data, float) else str(self.data or "")


class WholeNumberField(StringField):
    """A whole number typed as text, with a clear message for anything else."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if not valuelist or not valuelist[0].strip():
            raise ValueError("Enter a whole number.")
        raw = valuelist[0].strip()
        if len(raw) > RAW_MAX or not re.fullmatch(r"[+-]?\d+", raw):
            shown = raw if len(raw) <= RAW_MAX else raw[:RAW_MAX] + "…"
            raise ValueError(f"“{shown}” is not a whole number; enter one like 4.")
        self.data = int(raw)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0][:RAW_MAX]
        return "" if self.data is None else str(self.data)


class ClockTimeField(StringField):
    """A time of day as HH:MM; data is minutes after midnight."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        raw = valuelist[0].strip() if valuelist else ""
        match = TIME_PATTERN.match(raw[:RAW_MAX])
        if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError("Enter a time from 00:00 to 23:59, like 09:30.")
        self.data = int(match.group(1)) * 60 + int(match.group(2))

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0][:RAW_MAX]
        return "" if self.data is None else f"{self.data // 60:02d}:{self.data % 60:02d}"


class ChoiceField(SelectField):
    """A select of ids whose wrong values get a message that says what to do."""

    def __init__(self, *args: Any, message: str = "Pick one from the list.", **kwargs: Any):
        super().__init__(*args, coerce=_int_or_none, **kwargs)
        self.message = message

    def pre_validate(self, form: Any) -> None:
        if self.data is None or not any(choice.selected for choice in self.iter_choices()):
            raise ValidationError(self.message)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None
