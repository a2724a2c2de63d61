"""
Small helpers the test modules share: dates as the forms take them, signing in, what a
page says back, how many queries it runs, what the database holds, and where the project
and the test data are. Records are made by ``factories``; the cast of users is in
``conftest``.
"""

import datetime
import html
import re
import uuid
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mentoring import metrics

from .factories import PASSWORD

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# A folder of CSV files that ``manage.py import_records`` takes without an error.
CLEAN_IMPORT = Path(__file__).resolve().parent / "data" / "import" / "clean"


# Dates --------------------------------------------------------------------------------


def today():
    return timezone.localdate()


def days_ago(n):
    return today() - datetime.timedelta(days=n)


def dmy(day):
    """
    ``day`` as typed into a date field, DD/MM/YYYY. Not strftime: it writes the year 999
    as "999", and the fuzzed forms send years from 1 on, which must read "0999".
    """
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


# Pages --------------------------------------------------------------------------------


def sign_in(browser, user):
    """``user`` signs in with their password through the sign-in form of ``browser``."""
    response = browser.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, "password step failed"
    return browser


def messages_of(response):
    """The messages the request left for the next page, as (level, text)."""
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def inline_errors(response, field):
    """The error messages rendered next to ``field`` (crispy's invalid-feedback spans)."""
    found = re.findall(
        rf'id="error_\d+_id_{field}"><strong>(.*?)</strong>', response.content.decode()
    )
    return [html.unescape(text) for text in found]


def count_queries(client, url):
    """The number of queries a GET of ``url`` runs, which must answer 200."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


# The database -------------------------------------------------------------------------

# The app's tables: the programme's records and the sign-in records.
MENTORING_MODELS = [
    model
    for label in ("mentoring", "accounts")
    for model in apps.get_app_config(label).get_models(include_auto_created=True)
]


def snapshot():
    """Every row of every mentoring and accounts table, many-to-many and history included."""
    rows = {}
    with connection.cursor() as cursor:
        for model in MENTORING_MODELS:
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")
            rows[model._meta.label] = cursor.fetchall()
    return rows


def fresh_dashboard(scope, as_of):
    """The dashboard computed from the records: no figures cache (Django's DummyCache)."""
    caches_now = {
        **settings.CACHES,
        "figures": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    with override_settings(CACHES=caches_now):
        return metrics.dashboard(scope, as_of)


def fresh_dashboard_page(scope, as_of):
    """
    What a dashboard page shows, uncached: the dashboard with what is read beside it
    (sustained employment, the check-ins after support, the peer pathway).
    """
    return metrics.with_after_support(fresh_dashboard(scope, as_of), scope, as_of)


def session_form(**overrides):
    """A new session as its form posts it, with a fresh submission token; None leaves a
    field out."""
    from mentoring.models import SupportArea, SupportSession

    data = {
        "date": dmy(days_ago(2)),
        "start_time": "14:30",
        "duration_minutes": "90",
        "kind": SupportSession.Kind.PRACTICAL,
        "mode": SupportSession.Mode.PHONE,
        "attendance": SupportSession.Attendance.ATTENDED,
        "support_areas": [SupportArea.objects.order_by("pk").first().pk],
        "notes": "Talked about the housing appointment.",
        "submission_token": str(uuid.uuid4()),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def session_correction(session, **overrides):
    """An edit of ``session`` as its form posts it, unchanged but for ``overrides``."""
    data = {
        "mentor": session.mentor_id,
        "date": dmy(session.date),
        "duration_minutes": str(session.duration_minutes),
        "kind": session.kind,
        "mode": session.mode,
        "attendance": session.attendance,
        "notes": session.notes,
        "version": session.version,
        "submission_token": str(session.submission_token),
    }
    if session.safeguarding_concern:
        data["safeguarding_concern"] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}
