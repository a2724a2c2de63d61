"""
The times generated rows carry: when a session was logged, and ``bulk_create`` keeping
the rows' own timestamps rather than the moment of the build.
"""

from contextlib import contextmanager
from datetime import datetime, timedelta
from datetime import time as clock

from django.utils import timezone


def opening_time(day):
    """9 o'clock on ``day``, local time: the start of the day sessions are logged in."""
    return timezone.make_aware(datetime.combine(day, clock(9)))


def logged_at(opening, key, now):
    """
    When a session was logged: in the nine working hours from ``opening`` (its day's
    ``opening_time``), spread by ``key`` (any whole number), and never after ``now``.
    Generated sessions are logged on their day, as in use, so that "recently logged"
    means what it does on a real programme, not the moment of the build.
    """
    return min(opening + timedelta(minutes=key * 7919 % 540), now)


@contextmanager
def own_timestamps(model, names=None):
    """
    ``bulk_create`` keeps the rows' own auto_now(_add) values (of the fields ``names``, or
    all) instead of "now".
    """
    stamped = [
        f
        for f in model._meta.concrete_fields
        if (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
        and (names is None or f.name in names)
    ]
    flags = [(f, f.auto_now, f.auto_now_add) for f in stamped]
    for f in stamped:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in flags:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add
