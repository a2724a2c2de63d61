"""
Deleting every programme record, for ``--reset`` and the tests: through the ORM, or, for
the scale data set, with plain SQL for its large tables first.
"""

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction

from mentoring import models as m

from .logins import DEMO_USERS

User = get_user_model()


def has_programme_data():
    return m.Borough.objects.exists() or m.Client.objects.exists()


@contextmanager
def history_off():
    """
    No change history is written inside (django-simple-history reads the setting on every
    change). Only for a process that changes nothing else meanwhile: seed_demo.
    """
    from django.test.utils import override_settings

    with override_settings(SIMPLE_HISTORY_ENABLED=False):
        yield


@transaction.atomic
def delete_programme():
    """
    Delete every programme record, its change history and the demo users, all or
    nothing. The history goes too: a reset starts the programme afresh, and the
    deletions of the records it removes (one history row each) would otherwise be all
    the history there is. So those rows are not written in the first place.
    """
    with history_off():
        for model in (
            m.SupportSession,
            m.FollowUp,
            m.PathwayStep,
            m.Offence,
            m.Milestone,
            m.Goal,
            m.Placement,
            m.PathwayStep,
            m.Assignment,
            m.Client,
            m.JusticeDataLabResult,
            m.Grant,
            m.Funder,
            m.Employer,
            m.Mentor,
            m.StaffProfile,
        ):
            model.objects.all().delete()
            if hasattr(model, "history"):
                model.history.all().delete()
        m.Borough.objects.all().delete()
        User.objects.filter(username__in=[u[0] for u in DEMO_USERS]).delete()


def delete_programme_quickly():
    """
    Delete every programme record and the demo users, as ``delete_programme()`` does, but
    empty the large tables with plain SQL first: the ORM fetches every row it deletes, to
    send the change history its signal.
    """
    with transaction.atomic():
        if _fast_reset_possible():
            _delete_large_tables()
        delete_programme()
        if connection.vendor == "postgresql":
            # Run the deferred foreign-key checks of the deletions now, so that their
            # time counts here, not in whatever comes next.
            with connection.cursor() as cursor:
                check_deferred_constraints(cursor)


def check_deferred_constraints(cursor):
    """
    Run the foreign-key checks still pending for rows written so far: ALTER TABLE refuses
    a table with pending checks (e.g. employers, which placements refer to).
    """
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# The tables delete_programme() would empty through the ORM that the quick way empties with
# plain SQL, and the models that may refer to them, which it knows how to handle.
_LARGE = (
    m.SupportSession.support_areas.through,
    m.SafeguardingAlert,
    m.SupportSession,
    m.FollowUp,
    m.PathwayStep,
    m.Offence,
    m.Milestone,
    m.Goal,
    m.Placement,
    m.Assignment,
    m.FormerReference,
    m.Client.needs.through,
    m.Mentor.other_boroughs.through,
)
_KNOWN_REFERRERS = {
    m.Client: {
        *(m.Assignment, m.SupportSession, m.Offence, m.Milestone, m.Goal, m.Placement),
        m.FormerReference,
        m.FollowUp,
        m.PathwayStep,
        # Set to NULL first, as on_delete=SET_NULL does: the access log's client, the
        # record a transferred client came from, the client record a mentor grew from.
        m.AccessLog,
        m.Client,
        m.Mentor,
    },
    m.Mentor: {m.Assignment, m.SupportSession},
    m.SupportSession: {m.SafeguardingAlert},
    m.SafeguardingAlert: set(),
    m.FollowUp: set(),
    m.PathwayStep: set(),
    m.Offence: set(),
    m.Milestone: set(),
    m.Goal: set(),
    m.Placement: set(),
    m.Assignment: set(),
}


def _fast_reset_possible():
    """Only when no model this module does not know about refers to the large tables."""
    for model, known in _KNOWN_REFERRERS.items():
        for relation in model._meta.related_objects:
            if relation.many_to_many:
                continue
            if relation.related_model not in known:
                return False
    return True


def _delete_large_tables():
    """
    Empty the large tables with plain SQL (TRUNCATE on PostgreSQL), unlink the access log,
    transfers and mentors from the clients as on_delete=SET_NULL would, and delete the
    clients. What is left is
    small, and delete_programme() deletes it through the ORM.
    """
    quote = connection.ops.quote_name
    tables = [model._meta.db_table for model in _LARGE]
    with connection.cursor() as cursor:
        truncated = False
        if connection.vendor == "postgresql":
            try:
                with transaction.atomic():
                    cursor.execute(f"TRUNCATE {', '.join(quote(t) for t in tables)}")
                truncated = True
            except DatabaseError:
                truncated = False
        if not truncated:
            for table in tables:
                cursor.execute(f"DELETE FROM {quote(table)}")
        for model, field in (
            (m.AccessLog, "client"),
            (m.Client, "transferred_from"),
            (m.Mentor, "former_client"),
        ):
            table = quote(model._meta.db_table)
            column = quote(model._meta.get_field(field).column)
            cursor.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} IS NOT NULL")
        cursor.execute(f"DELETE FROM {quote(m.Client._meta.db_table)}")
