"""
Dates as people type them. Coordinators read and write DD/MM/YYYY, but a phone's numeric
keypad has no "/": eight digits in one go (``05072007``), dashes or dots are as good, and
ISO dates come from pasted spreadsheet values. Every date box in the app (forms, the admin,
the dashboards' as-of box) reads its text through ``parse_day``.
"""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

EXAMPLE = "For example 31/03/2025, or 31032025 on a keypad."
# Day first in every form with separators: 05-07-2007 is the 5th of July, as written here.
_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d/%m/%y")


class NotADay(ValueError):
    """The text is no date; its message says why, in the words the form asks for."""


def parse_day(text):
    """
    The date written in ``text``: DD/MM/YYYY, D/M/YYYY, DD-MM-YYYY, DD.MM.YYYY, DDMMYYYY
    (exactly eight digits: seven, as in 1122007, could be 1/12 or 11/2) or YYYY-MM-DD.
    Raises ``NotADay`` with a message a person can act on.
    """
    text = text.strip()
    if text.isascii() and text.isdigit():
        if len(text) != 8:
            raise NotADay("Type the date as DD/MM/YYYY, or as eight digits DDMMYYYY. " + EXAMPLE)
        text = f"{text[:2]}/{text[2:4]}/{text[4:]}"
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError as error:
            if "out of range" in str(error) or "must be in" in str(error):
                raise NotADay(f"{text} is not a real date: check the day and the month.") from None
            continue
    raise NotADay("Type the date as DD/MM/YYYY. " + EXAMPLE)


class DayField(forms.DateField):
    """A date box that reads every form ``parse_day`` knows, and says so under the box."""

    def __init__(self, *, help_text="", **kwargs):
        help_text = f"{help_text} {EXAMPLE}" if help_text else EXAMPLE
        super().__init__(help_text=help_text, **kwargs)

    def to_python(self, value):
        if isinstance(value, str) and value.strip():
            try:
                return parse_day(value)
            except NotADay as error:
                raise ValidationError(str(error), code="invalid") from None
        return super().to_python(value)


def is_date_field(db_field):
    """Whether a model field holds a day (a date and time is not one)."""
    return isinstance(db_field, models.DateField) and not isinstance(db_field, models.DateTimeField)
