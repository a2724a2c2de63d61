"""
Form fields for what people type about a young person or a mentor: names that are names,
UK phone numbers written one way, and dates typed on a phone (``dates.DayField``). Model
forms get them through ``formfield_for`` (their ``Meta.formfield_callback``), the admin
through ``admin.RecordChoices``, and the importer checks its cells with the same rules.
"""

import re
import unicodedata

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from .dates import DayField, is_date_field

NAME_FIELDS = {"first_name", "last_name", "preferred_name"}
# The longest free text each box takes: enough for what it is for, and a megabyte pasted
# by mistake (or on purpose) is refused with the limit named, not stored.
TEXT_LIMITS = {
    "notes": 5000,
    "address": 500,
    "evidence": 1000,
    "safeguarding_action": 2000,
    "note": 1000,
}
PHONE_FIELDS = {"phone", "contact_phone"}
# Joiners shape letters in some scripts (Persian, Indic): kept inside a name.
_JOINERS = {"\u200c", "\u200d"}


def clean_name(value):
    """
    A name as it is kept: without spaces or invisible characters at its ends; refused if
    it holds a control or invisible character inside, or no letter at all (two zero-width
    spaces looked like a record with no name). Raises ``ValidationError``.
    """
    start, end = 0, len(value)
    while start < end and _blank(value[start]):
        start += 1
    while end > start and _blank(value[end - 1]):
        end -= 1
    value = value[start:end]
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValidationError("A name cannot hold control characters such as tabs or line breaks.")
    if any(unicodedata.category(c) == "Cf" and c not in _JOINERS for c in value):
        raise ValidationError(
            "This name holds an invisible character (such as a zero-width space): "
            "type it again rather than pasting it."
        )
    if not any(unicodedata.category(c).startswith("L") for c in value):
        raise ValidationError("A name must contain at least one letter.")
    return value


def _blank(character):
    return character.isspace() or unicodedata.category(character) == "Cf"


def clean_phone(value):
    """
    A phone number as ``07700 900123`` (UK) or ``+33 6 12 34 56 78`` (elsewhere, written
    with its country code). Raises ``ValidationError`` for anything that is not a number
    that can be dialled.
    """
    value = value.strip()
    if not value:
        return value
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not (phonenumbers.is_valid_number(number) or _fictional(number)):
        raise ValidationError(
            "Enter a UK phone number such as 07700 900123 or 020 7946 0000, or a number "
            "abroad with its country code, such as +33 6 12 34 56 78."
        )
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 44
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def _fictional(number):
    """
    Ofcom's mobile numbers for drama (07700 900000 to 900999): never a real person's,
    so the demo data and training sessions use them, and they must stay typeable.
    """
    national = str(number.national_number)
    return number.country_code == 44 and national.startswith("7700900") and len(national) == 10


PNC_ID = re.compile(r"^(\d{4})/(\d{7})([A-Z])$")


def clean_pnc_id(value):
    """
    A Police National Computer ID as ``YYYY/NNNNNNNA`` (upper case, no spaces), or
    ``ValidationError``: the year the record was opened, seven digits and a check letter.
    """
    value = "".join(value.split()).upper()
    match = PNC_ID.match(value)
    if not match or not 1900 <= int(match.group(1)) <= 2100:
        raise ValidationError(
            "Enter the PNC ID as YYYY/NNNNNNNA: the year, a slash, seven digits and a "
            "letter, for example 2019/0123456X."
        )
    return value


class NameField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        return clean_name(value) if value else value


class PhoneField(forms.CharField):
    """A phone number box that brings up the phone keypad (``type=tel``)."""

    widget = forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"})

    def __init__(self, *, help_text="", **kwargs):
        kwargs.pop("widget", None)
        super().__init__(
            help_text=help_text or "A UK number such as 07700 900123, or +country code.",
            **kwargs,
        )

    def clean(self, value):
        return clean_phone(super().clean(value))


def text_limit_for(db_field, kwargs):
    """A free-text field's limit, as the box's ``max_length`` and in its help text."""
    limit = TEXT_LIMITS.get(db_field.name)
    if limit is None or not isinstance(db_field, models.TextField):
        return
    kwargs["max_length"] = limit
    help_text = kwargs.get("help_text", db_field.help_text)
    kwargs["help_text"] = f"{help_text} Up to {limit:,} characters.".strip()


class PNCField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        return clean_pnc_id(value) if value else value


def field_class_for(db_field):
    """The form field for a model field that holds a day, a name or a phone number."""
    if is_date_field(db_field):
        return DayField
    if db_field.name in NAME_FIELDS:
        return NameField
    if db_field.name in PHONE_FIELDS:
        return PhoneField
    if db_field.name == "pnc_id":
        return PNCField
    return None


def formfield_for(db_field, **kwargs):
    """Model forms' callback (``Meta.formfield_callback``): see ``field_class_for``."""
    if form_class := field_class_for(db_field):
        kwargs.setdefault("form_class", form_class)
    text_limit_for(db_field, kwargs)
    return db_field.formfield(**kwargs)
