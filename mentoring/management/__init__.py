"""What the management commands share."""

import argparse
from datetime import date

from django.core.management.base import CommandError


def as_of_day(value):
    """An ``--as-of`` value: a YYYY-MM-DD date, or a CommandError that says so."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of must be a date as YYYY-MM-DD, not {value!r}") from None


def day_argument(flag):
    """
    A parser type for a YYYY-MM-DD option that names ``flag`` when the value is not one:
    argparse's own error, so a command line gets the usage and one line, not a traceback.
    """

    def day(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{flag} must be a date as YYYY-MM-DD, not {value!r}"
            ) from None

    return day
