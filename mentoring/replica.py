"""
Dashboards on a read replica. With ``SOS_REPLICA_URL`` set (a PostgreSQL standby of the
primary), the dashboards' figures are computed from the replica, which takes their
aggregate SQL, the one read-heavy load, off the primary. Every write, every case page and
everything else a user does stays on the primary, so a coordinator always sees what they
just saved.

A replica lags the primary by a moment, and so may a dashboard. That never leaves a
stale figure in the figures cache: the versions that key it are read from the replica
before the data, and a replica only moves forward, so what is cached under a version is
never older than that version's data.

If the replica cannot be reached, has not replayed within ``MAX_LAG`` seconds what the
primary had written (``Lag``), or fails a query (an outage, a conflict with the
standby's recovery, a table a migration has not yet brought to it), the dashboard is
computed again on the primary and a warning is logged: a replica's failure costs time,
never a page. A query that fails on the primary too raises its error there. The process
then leaves the replica alone for ``RETRY_AFTER`` seconds, so that a replica that is
down does not cost every dashboard a failed connection.
"""

import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

REPLICA = "replica"
RETRY_AFTER = 30  # seconds
MAX_LAG = 60  # seconds behind the primary, after which the replica is not read
CHECK_LAG_EVERY = 10  # seconds

logger = logging.getLogger("mentoring.replica")

# When this process may try the replica again after a failure, and when it last checked
# the replica's lag (time.monotonic()); what the health check says meanwhile.
_retry_at = 0.0
_lag_checked_at = float("-inf")
_problem = "unavailable"

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


class TooFarBehind(DatabaseError):
    pass


class Lag:
    """
    How long the replica has been behind the primary, as this process has seen it at its
    checks: it is behind from the first check at which it had not replayed everything
    the primary had written, until a check finds it has replayed that much. Replay
    positions, not timestamps: a standby's last replayed transaction may be old because
    the primary has been idle, and the clocks of two servers may differ.
    """

    def __init__(self):
        self.since = None  # (time.monotonic(), the primary's write position) or None

    def seen(self, now, written, in_recovery, caught_up, past_mark):
        """
        Seconds behind after a check at ``now``: ``written`` is the primary's write
        position; ``caught_up`` whether the replica has replayed up to it, ``past_mark``
        whether up to the position it lacked when first seen behind (``since``).
        """
        if not in_recovery or caught_up:
            self.since = None  # not a standby (the tests' replica), or caught up
            return 0.0
        if self.since is None or past_mark:
            self.since = (now, written)  # behind, but past what it lacked before
        return now - self.since[0]


_lag = Lag()


def lag():
    """
    Seconds the replica has been behind the primary (``Lag``): one query on each. 0 on
    SQLite, after a query that shows the replica answers.
    """
    standby = connections[REPLICA]
    if standby.vendor != "postgresql":
        with standby.cursor() as cursor:
            cursor.execute("SELECT 0.0")
            return float(cursor.fetchone()[0])
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (written,) = cursor.fetchone()
    mark = _lag.since[1] if _lag.since else written
    with standby.cursor() as cursor:
        cursor.execute(
            "SELECT pg_is_in_recovery(), COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, false),"
            " COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)",
            [written, mark],
        )
        in_recovery, caught_up, past_mark = cursor.fetchone()
    return _lag.seen(time.monotonic(), written, in_recovery, caught_up, past_mark)


def _check_lag(now=False):
    """Raise TooFarBehind if the replica is: checked at most every CHECK_LAG_EVERY seconds."""
    global _lag_checked_at
    if not now and time.monotonic() < _lag_checked_at + CHECK_LAG_EVERY:
        return
    behind = lag()
    _lag_checked_at = time.monotonic()
    if behind > MAX_LAG:
        raise TooFarBehind(f"behind the primary for {behind:.0f} s (at most {MAX_LAG} s)")


def _give_up_for_a_while(exc):
    global _retry_at, _problem
    _retry_at = time.monotonic() + RETRY_AFTER
    _problem = "lagging" if isinstance(exc, TooFarBehind) else "unavailable"
    logger.warning(
        "Read replica failed (%s: %s); dashboards read from the primary for the next %d seconds.",
        exc.__class__.__name__,
        (str(exc).strip().splitlines() or [""])[0],
        RETRY_AFTER,
    )
    connections[REPLICA].close_if_unusable_or_obsolete()


def _worth_trying():
    return configured() and time.monotonic() >= _retry_at


def on_replica(compute, *args, **kwargs):
    """
    ``compute(*args, **kwargs)``, which only reads, with its reads on the replica when one
    is configured, answers and is not too far behind; on the primary otherwise, or again
    on the primary when the replica fails.
    """
    if _worth_trying():
        try:
            _check_lag()
            with _reading_from(REPLICA):
                return compute(*args, **kwargs)
        except DatabaseError as exc:
            _give_up_for_a_while(exc)
    with _reading_from(None):
        return compute(*args, **kwargs)


def status():
    """
    For the health check: None without a replica, else "ok", "lagging" (more than
    ``MAX_LAG`` seconds behind) or "unavailable". A replica given up on is not tried again
    before its time, so that a load balancer's checks do not wait on its timeouts.
    """
    if not configured():
        return None
    if not _worth_trying():
        return _problem
    try:
        _check_lag(now=True)
    except DatabaseError as exc:
        _give_up_for_a_while(exc)
        return _problem
    return "ok"
