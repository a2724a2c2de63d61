"""
Dashboards on a read replica. With ``SOS_REPLICA_URL`` set (a PostgreSQL standby of the
primary), the dashboards' figures are computed from the replica, which takes their
aggregate SQL, the one read-heavy load, off the primary. Every write, every case page and
everything else a user does stays on the primary, so a coordinator always sees what they
just saved.

A replica lags the primary by a moment, and so may a dashboard. That never leaves a
stale figure in the figures cache: the versions that key it are read from the replica
with the data, and a replica only moves forward, so what is cached under a version is
never older than that version's data.

If the replica cannot be reached, or a query on it fails for an outage or a conflict
with the standby's recovery, the dashboard is computed again on the primary and a
warning is logged: a replica's failure costs time, never a page. The process then leaves
the replica alone for ``RETRY_AFTER`` seconds, so that a replica that is down does not
cost every dashboard a failed connection.
"""

import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

REPLICA = "replica"
RETRY_AFTER = 30  # seconds

# When this process may try the replica again after a failure (time.monotonic()).
_retry_at = 0.0

logger = logging.getLogger("mentoring.replica")

# The alias that reads go to inside ``on_replica``; None: Django's default (the primary).
_reads = ContextVar("sos_reads", default=None)


class Router:
    """Reads go to the replica inside ``on_replica``; all else, and every write, to the primary."""

    def db_for_read(self, model, **hints):
        return _reads.get()

    def db_for_write(self, model, **hints):
        # An object read from the replica is saved to the primary, not where it came from.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Two doors to one database: objects read through either may be related.
        return {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA} or None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # A standby takes its schema from the primary's log, and refuses writes.
        return db != REPLICA


def configured():
    return bool(settings.REPLICA_URL) and REPLICA in connections


@contextmanager
def _reading_from(alias):
    token = _reads.set(alias)
    try:
        yield
    finally:
        _reads.reset(token)


def _is_outage(exc):
    # Imported when needed: mentoring.system imports this module for the health check.
    from mentoring.system import is_outage

    return is_outage(exc)


def _give_up_for_a_while(exc, doing):
    global _retry_at
    _retry_at = time.monotonic() + RETRY_AFTER
    logger.warning(
        "Read replica failed (%s: %s); %s, and for the next %d seconds.",
        exc.__class__.__name__,
        (str(exc).strip().splitlines() or [""])[0],
        doing,
        RETRY_AFTER,
    )
    connections[REPLICA].close_if_unusable_or_obsolete()


def _worth_trying():
    return configured() and time.monotonic() >= _retry_at


def on_replica(compute, *args, **kwargs):
    """
    ``compute(*args, **kwargs)``, which only reads, with its reads on the replica when one
    is configured and answers; on the primary otherwise, or again on the primary when the
    replica fails.
    """
    if _worth_trying():
        try:
            with _reading_from(REPLICA):
                return compute(*args, **kwargs)
        except DatabaseError as exc:
            if not _is_outage(exc):
                raise
            _give_up_for_a_while(exc, "computing on the primary")
    return compute(*args, **kwargs)


def status():
    """
    For the health check: None without a replica, else "ok" or "unavailable". A replica
    given up on is not tried again before its time, so that a load balancer's checks do
    not wait on its connect timeout.
    """
    if not configured():
        return None
    if not _worth_trying():
        return "unavailable"
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        _give_up_for_a_while(exc, "dashboards read from the primary")
        return "unavailable"
    return "ok"
