"""
A London-wide data set for benchmarks and load tests (``manage.py seed_scale``).

By default: 40 areas (the 32 London boroughs and the City of London, then Bristol, Dorset
and five more areas), 1,000 mentors, 100,000 clients, 2,000,000 support sessions and
60,000 offences, with the shape of the demo data (``mentoring/seed/demo.py``, whose name lists,
weights and proportions it reuses): referrals growing over the years since each area
launched, about 8% declined, about 80% of closed cases completed, one mentor at a time
serving the client's borough, sessions spread over each case with the demo's attendance
mix, and offences before and after the index date so that the 12-month proven reoffending
rate lands in the case study's 15-20% band.

Counts of areas, mentors, clients, sessions and offences are exact; assignments,
milestones, goals, placements and grants follow from them. The same seed, sizes and
``today`` always give the same data (primary keys aside). Where the sizes differ from the
demo's proportions, the generator keeps what the dashboards read:

- sessions are shared out in proportion to each case's length (intensive cases, 4%, three
  times as many), about 20 per started client and 100 to 250 for the longest;
- each session covers one or two of the client's needs (1.5 on average);
- offences after the index date come first, as in the demo (so the reoffending rate is
  right); the rest of the --offences budget is offence histories of one to four offences
  for clients picked at random (the demo gives every client one, which 0.6 offences per
  client cannot pay for);
- mentors' caseload limits (6-10 in the demo) grow with the clients per mentor, up to 30.

How it writes: everything is planned in memory, then written in one transaction. On
PostgreSQL every large table is loaded with COPY, streamed from the generated rows through
an in-memory buffer in chunks, with the table's secondary indexes, unique and foreign-key
constraints dropped for the load and recreated (so re-validated) at the end, and the
tables are VACUUM ANALYZEd afterwards (only ANALYZEd when the build runs inside a caller's
transaction, as in the tests). Small tables (boroughs, employers, funders, grants, users)
go through the ORM. On other databases (SQLite, for the tests) rows go through
``bulk_create`` in batches. Primary keys are taken from the tables' sequences, so they
never reuse an id that the change history may still mention.

Not written: the change-history tables (``Historical*``), the access log and Django
sessions. No history is recorded for the generated rows.

Logins for benchmarks and load tests are created or kept: ``scale.coordinator.<code>`` for
the ten busiest areas, ``scale.manager`` (every area), ``scale.manager.london`` and
``scale.mentor``, with the demo password in development mode.
"""

import random
import time
from array import array
from bisect import bisect
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from heapq import heappop, heappush

from django.db import connection, transaction
from django.utils import timezone

from mentoring import models as m
from mentoring import summaries
from mentoring.services import CLIENT_REFERENCE_FORMAT, MENTOR_REFERENCE_FORMAT

from .. import timestamps, weights
from ..areas import AREAS, LATER_LAUNCHES
from ..logins import create_scale_logins
from ..names import (
    CONFIRMED_BY_LETTER,
    FIRST_NAMES_FEMALE,
    FIRST_NAMES_MALE,
    FUNDER_NAMES,
    GOAL_DESCRIPTION,
    LAST_NAMES,
    MENTOR_FIRST_NAMES,
    PHONE_FORMAT,
    SAFEGUARDING_ACTIONS,
    SEEN_BY_MENTOR,
    SESSION_NOTES,
)
from ..reset import check_deferred_constraints, delete_programme_quickly, has_programme_data

DEFAULT_BOROUGHS = 40
DEFAULT_MENTORS = 1_000
DEFAULT_CLIENTS = 100_000
DEFAULT_SESSIONS = 2_000_000
DEFAULT_OFFENCES = 60_000
# What the other sizes are per client when only --clients is given.
SESSIONS_PER_CLIENT = DEFAULT_SESSIONS / DEFAULT_CLIENTS  # 20
OFFENCES_PER_CLIENT = DEFAULT_OFFENCES / DEFAULT_CLIENTS  # 0.6
CLIENTS_PER_MENTOR = DEFAULT_CLIENTS / DEFAULT_MENTORS  # 100
MIN_MENTORS_PER_BOROUGH = weights.FOUNDING_MENTORS
EARLIEST_TODAY = date(2015, 1, 1)
MAX_BOROUGHS = len(AREAS)


CASELOAD_USE = 6.5  # current clients of an average mentor, against the demo's limits of 6-10
INTENSIVE_SHARE = 0.04  # long, intensive cases: a year to three of frequent contact
INTENSIVE_WEIGHT = 3
VISITING_SHARE = 0.1  # mentors who also serve a neighbouring area
EMPLOYERS = [
    ("Builders Ltd", "Construction"),
    ("Catering Co", "Hospitality"),
    ("Logistics", "Warehousing"),
]
NOTE_FALLBACK = "Met {name} and worked on {area}."
# COPY's text format needs tabs, newlines and backslashes escaped; the generated text is
# made only from these lists, which have none, so rows are written without escaping.
COPY_TEXT_SOURCES = (
    FIRST_NAMES_MALE,
    FIRST_NAMES_FEMALE,
    LAST_NAMES,
    MENTOR_FIRST_NAMES,
    list(SESSION_NOTES.values()),
    [NOTE_FALLBACK],
)

# Batch sizes: rows per COPY chunk (one buffer of text) and per bulk_create batch.
COPY_CHUNK_ROWS = 5_000
BULK_BATCH = 2_000
PROGRESS_EVERY = 250_000


class DataPresent(Exception):
    """Programme data is already in the database and no reset was asked for."""


@dataclass(frozen=True)
class Sizes:
    boroughs: int = DEFAULT_BOROUGHS
    mentors: int = DEFAULT_MENTORS
    clients: int = DEFAULT_CLIENTS
    sessions: int = DEFAULT_SESSIONS
    offences: int = DEFAULT_OFFENCES

    @classmethod
    def for_clients(
        cls, clients=DEFAULT_CLIENTS, *, boroughs=None, mentors=None, sessions=None, offences=None
    ):
        """The sizes for ``clients``, the others in the default proportions unless given."""
        boroughs = DEFAULT_BOROUGHS if boroughs is None else boroughs
        if mentors is None:
            mentors = max(MIN_MENTORS_PER_BOROUGH * boroughs, round(clients / CLIENTS_PER_MENTOR))
        return cls(
            boroughs=boroughs,
            mentors=mentors,
            clients=clients,
            sessions=round(clients * SESSIONS_PER_CLIENT) if sessions is None else sessions,
            offences=round(clients * OFFENCES_PER_CLIENT) if offences is None else offences,
        )

    def problems(self):
        """What is wrong with these sizes, as messages naming the option."""
        found = []
        if not 1 <= self.boroughs <= MAX_BOROUGHS:
            found.append(f"--boroughs must be between 1 and {MAX_BOROUGHS}, not {self.boroughs}.")
        elif self.mentors < MIN_MENTORS_PER_BOROUGH * self.boroughs:
            found.append(
                f"--mentors must be at least {MIN_MENTORS_PER_BOROUGH} per borough "
                f"({MIN_MENTORS_PER_BOROUGH * self.boroughs} for {self.boroughs}), "
                f"not {self.mentors}."
            )
        if self.clients < 1:
            found.append(f"--clients must be at least 1, not {self.clients}.")
        for name in ("sessions", "offences"):
            if getattr(self, name) < 0:
                found.append(f"--{name} cannot be negative.")
        return found


# Plans: what the generator decided, before it is written ----------------------------------


class _Area:
    __slots__ = (
        *("clients", "code", "cost", "id", "index", "launched"),
        *("mentors", "name", "region", "serving", "size", "slug"),
    )

    def __init__(self, index, name, slug, code, region, launched, size, cost):
        self.index, self.name, self.slug, self.code = index, name, slug, code
        self.region, self.launched, self.size, self.cost = region, launched, size, cost
        self.id = None
        self.clients = 0
        self.mentors = 0
        self.serving = []  # mentors whose home area this is, or who also serve it


class _Mentor:
    __slots__ = ("area", "ended", "id", "load", "open", "row", "started")

    def __init__(self, area, started, ended):
        self.area, self.started, self.ended = area, started, ended
        self.id = None
        self.row = None
        self.load = []  # heap of the end days of the assignments given to this mentor
        self.open = 0  # open assignments on today


class _Client:
    __slots__ = (
        *("area", "born", "closure", "ended", "first_name", "id", "intensive", "last"),
        *("last_name", "needs", "plan", "referred", "release", "reoffends", "row"),
        *("sessions", "source", "started", "status"),
    )

    def __init__(self):
        self.id = None
        self.started = self.release = self.ended = None
        self.closure = ""
        self.plan = ()  # ((mentor, from day, to day or None, end reason), ...)
        self.reoffends = False
        self.sessions = 0
        self.intensive = False

    @property
    def index_date(self):
        return self.release or self.started


def _fields(names):
    """Field names written as one string, for the long column lists."""
    return names.split()


def _largest_remainder(total, weights):
    """Integers proportional to ``weights`` that add up to exactly ``total``."""
    weight_sum = sum(weights)
    if not weight_sum:
        return [0] * len(weights)
    quotas = [total * w / weight_sum for w in weights]
    counts = [int(q) for q in quotas]
    short = total - sum(counts)
    by_remainder = sorted(range(len(weights)), key=lambda i: counts[i] - quotas[i])
    for i in by_remainder[:short]:
        counts[i] += 1
    return counts


# Writers: COPY on PostgreSQL, bulk_create elsewhere -----------------------------------------


class _Table:
    """A model's columns as the generator fills them, and any others from their defaults."""

    def __init__(self, model, fields):
        self.model = model
        self.fields = list(fields)
        meta = model._meta
        self.columns = [meta.get_field(name).column for name in self.fields]
        extra, self.extra_fields = [], []
        for field in meta.concrete_fields:
            if field.attname in self.fields or field.primary_key:
                continue
            if field.has_default():
                value = field.get_default()
            elif field.null:
                value = None
            else:
                raise RuntimeError(
                    f"mentoring/seed/scale does not fill {model.__name__}.{field.name}: "
                    "add it to the generator."
                )
            extra.append(value)
            self.extra_fields.append(field.attname)
        self.extra = tuple(extra)
        self.columns += [meta.get_field(name).column for name in self.extra_fields]

    @property
    def db_table(self):
        return self.model._meta.db_table


def _copy_value(value):
    if value is None:
        return "\\N"
    return str(value)


class _CopyReader:
    """
    A file whose read() returns the next chunk of rows in COPY's text format, generated on
    demand: the rows are never all in memory, and PostgreSQL parses one chunk while the next
    is generated.
    """

    def __init__(self, rows, extra, on_rows):
        self.rows = iter(rows)
        self.extra = extra
        self.on_rows = on_rows
        self.count = 0
        self.done = False

    def read(self, size=-1):
        if self.done:
            return b""
        lines = []
        append = lines.append
        extra, value = self.extra, _copy_value
        for row in self.rows:
            if extra:
                row = row + extra
            append("\t".join([value(v) for v in row]))
            if len(lines) >= COPY_CHUNK_ROWS:
                break
        else:
            self.done = True
        if not lines:
            return b""
        self.count += len(lines)
        self.on_rows(self.count)
        lines.append("")
        return "\n".join(lines).encode()


class _Writer:
    def __init__(self, log):
        self.log = log

    def reserve_ids(self, model, count):
        """The first of ``count`` new primary keys for ``model``, taken from its sequence."""
        raise NotImplementedError

    def bulk_load(self, tables):
        """A context for loading ``tables`` (db_table names) quickly; a no-op here."""
        return _NoLoad()

    def write(self, table, rows, on_rows):
        raise NotImplementedError

    def finish(self, tables):
        pass


class _NoLoad:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _OrmWriter(_Writer):
    """bulk_create in batches: for SQLite and other non-PostgreSQL databases (the tests)."""

    def reserve_ids(self, model, count):
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")
            highest = cursor.fetchone()[0] or 0
            if connection.vendor == "sqlite":
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                found = cursor.fetchone()
                highest = max(highest, found[0] if found else 0)
        return highest + 1

    def write(self, table, rows, on_rows):
        model, names = table.model, table.fields + table.extra_fields
        extra = table.extra
        batch, count = [], 0
        # The rows' own timestamps, as COPY writes them.
        with timestamps.own_timestamps(model, names):
            for row in rows:
                batch.append(model(**dict(zip(names, row + extra if extra else row, strict=True))))
                if len(batch) >= BULK_BATCH:
                    model.objects.bulk_create(batch)
                    count += len(batch)
                    on_rows(count)
                    batch = []
            if batch:
                model.objects.bulk_create(batch)
                count += len(batch)
                on_rows(count)
        return count


class _PostgresWriter(_Writer):
    """COPY from generated rows, with secondary indexes and constraints rebuilt after."""

    def __init__(self, log, owns_transaction):
        super().__init__(log)
        # COPY FREEZE needs the table truncated in the same (sub)transaction, which only
        # holds when the build is not nested in someone else's transaction (e.g. a test's).
        self.owns_transaction = owns_transaction
        self.truncated = set()

    def _cursor(self):
        return connection.cursor()

    def reserve_ids(self, model, count):
        table = model._meta.db_table
        with self._cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            if count <= 0:
                return 1
            cursor.execute("SELECT setval(%s, nextval(%s) + %s - 1)", [sequence, sequence, count])
            last = cursor.fetchone()[0]
        return last - count + 1

    def bulk_load(self, tables):
        return _PostgresBulkLoad(self, tables)

    def write(self, table, rows, on_rows):
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in table.columns)
        freeze = " WITH (FREEZE)" if table.db_table in self.truncated else ""
        sql = f"COPY {quote(table.db_table)} ({columns}) FROM STDIN{freeze}"
        reader = _CopyReader(rows, table.extra, on_rows)
        with self._cursor() as cursor:
            raw = cursor.cursor
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(sql, reader, size=1 << 20)
            else:  # psycopg 3
                with raw.copy(sql) as copy:
                    while chunk := reader.read():
                        copy.write(chunk)
        return reader.count

    def finish(self, tables):
        """
        ANALYZE the tables; VACUUM them too when the build ran in its own transaction (it
        cannot inside another), so that tables COPY could not freeze (clients) are marked
        all-visible before the first benchmark reads them.
        """
        quote = connection.ops.quote_name
        command = "VACUUM (ANALYZE)" if self.owns_transaction else "ANALYZE"
        with self._cursor() as cursor:
            for table in tables:
                cursor.execute(f"{command} {quote(table)}")


class _PostgresBulkLoad:
    """
    Drop the loaded tables' secondary indexes, unique and foreign-key constraints, and put
    them back, with the definitions PostgreSQL reports, when the load is done: building an
    index once is much cheaper than updating it two million times, and adding a foreign key
    checks every row in one join. Everything is in the build's transaction, so a failure
    leaves the schema as it was. Empty tables that nothing outside the set refers to are
    also truncated, so that COPY can write frozen rows.
    """

    def __init__(self, writer, tables):
        self.writer = writer
        self.tables = list(tables)
        self.indexes = []  # (table, name, definition)
        self.constraints = []  # (table, name, definition, type)

    def __enter__(self):
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            check_deferred_constraints(cursor)
            # The session summaries' triggers would add two million rows one at a time;
            # they are off for the load and the summaries rebuilt in one pass after it.
            for table in self.tables:
                cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER USER")
            if self.writer.owns_transaction:
                self._truncate(cursor)
            for table in self.tables:
                cursor.execute(
                    """
                    SELECT c.conname, pg_get_constraintdef(c.oid), c.contype
                    FROM pg_constraint c
                    WHERE c.conrelid = %s::regclass AND c.contype IN ('f', 'u')
                      AND NOT EXISTS (
                          SELECT 1 FROM pg_constraint f
                          WHERE f.contype = 'f' AND f.conindid = c.conindid AND c.contype = 'u'
                      )
                    ORDER BY c.contype, c.conname
                    """,
                    [table],
                )
                self.constraints += [(table, *row) for row in cursor.fetchall()]
                cursor.execute(
                    """
                    SELECT ic.relname, pg_get_indexdef(i.indexrelid)
                    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                    WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
                      AND NOT EXISTS (
                          SELECT 1 FROM pg_constraint k
                          WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                      )
                    ORDER BY ic.relname
                    """,
                    [table],
                )
                self.indexes += [(table, *row) for row in cursor.fetchall()]
            for table, name, _definition, _type in self.constraints:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            for _table, name, _definition in self.indexes:
                cursor.execute(f"DROP INDEX {quote(name)}")
        return self

    def _truncate(self, cursor):
        """Truncate the empty tables of the set that no table outside it refers to."""
        candidates = set()
        for table in self.tables:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")
            if not cursor.fetchone()[0]:
                candidates.add(table)
        cursor.execute(
            """
            SELECT confrelid::regclass::text, conrelid::regclass::text
            FROM pg_constraint WHERE contype = 'f'
            """
        )
        referrers = {}
        for referenced, referring in cursor.fetchall():
            referrers.setdefault(referenced, set()).add(referring)
        changed = True
        while changed:
            changed = False
            for table in sorted(candidates):
                if not referrers.get(table, set()) <= candidates:
                    candidates.discard(table)
                    changed = True
        if candidates:
            quote = connection.ops.quote_name
            cursor.execute(f"TRUNCATE {', '.join(quote(t) for t in sorted(candidates))}")
            self.writer.truncated = candidates

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False  # the transaction rolls back, schema changes included
        quote = connection.ops.quote_name
        started = time.monotonic()
        with connection.cursor() as cursor:
            check_deferred_constraints(cursor)
            for _table, _name, definition in self.indexes:
                cursor.execute(definition)
            # Unique constraints first: a foreign key may need one of them.
            for table, name, definition, _type in sorted(
                self.constraints, key=lambda c: c[3] != "u"
            ):
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                )
            for table in self.tables:
                cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER USER")
        self.writer.log(
            "indexes and constraints",
            len(self.indexes) + len(self.constraints),
            time.monotonic() - started,
            unit="rebuilt",
        )
        started = time.monotonic()
        summaries.rebuild()
        days = m.SessionDay.objects.count() + m.SessionAreaDay.objects.count()
        self.writer.log("session summaries", days, time.monotonic() - started)
        return False


# The builder ----------------------------------------------------------------------------


class ScaleBuilder:
    """Plans the data set in memory, then writes it in one transaction."""

    def __init__(self, sizes=None, *, seed=2006, today=None, stdout=None):
        self.sizes = sizes or Sizes()
        problems = self.sizes.problems()
        if problems:
            raise ValueError(" ".join(problems))
        self.today = today or timezone.localdate()
        if self.today < EARLIEST_TODAY:
            raise ValueError(f"today must be {EARLIEST_TODAY:%Y-%m-%d} or later.")
        self.seed = seed
        self.rng = random.Random(seed)
        self.stdout = stdout
        self.counts = {}
        self.timings = {}
        self.users = []
        self.started = time.monotonic()

    # Entry points ---------------------------------------------------------------------

    has_data = staticmethod(has_programme_data)
    reset = staticmethod(delete_programme_quickly)

    def build(self, *, reset=False):
        owns_transaction = not connection.in_atomic_block
        with transaction.atomic():
            if reset:
                started = time.monotonic()
                self.reset()
                self._log_line(
                    f"Deleted all programme records ({time.monotonic() - started:.1f} s)."
                )
            elif self.has_data():
                raise DataPresent
            if connection.vendor == "postgresql":
                self.writer = _PostgresWriter(self.log, owns_transaction)
            else:
                self.writer = _OrmWriter(self.log)
            self._plan()
            self._write()
            self.users = create_scale_logins(self.areas, self.mentors)
        if connection.vendor == "postgresql":
            started = time.monotonic()
            self.writer.finish(self._loaded_tables())
            self.log(
                "analyze", len(self._loaded_tables()), time.monotonic() - started, unit="tables"
            )
        self.timings["total"] = time.monotonic() - self.started
        return self.counts

    # Output ---------------------------------------------------------------------------

    def _log_line(self, message):
        if self.stdout is not None:
            self.stdout.write(message)
            if hasattr(self.stdout, "flush"):
                self.stdout.flush()

    def log(self, label, count, seconds, unit="rows"):
        self.timings[label] = seconds
        elapsed = time.monotonic() - self.started
        self._log_line(
            f"  {label:<24} {count:>11,} {unit:<8} {seconds:7.1f} s   (elapsed {elapsed:6.1f} s)"
        )

    def _progress(self, label, total):
        """An on_rows callback printing a line every eighth or so of a big table."""
        step = max(PROGRESS_EVERY, -(-total // 8 // PROGRESS_EVERY) * PROGRESS_EVERY)
        state = {"next": step, "start": time.monotonic()}

        def on_rows(count):
            if total >= 2 * PROGRESS_EVERY and count >= state["next"]:
                state["next"] = (count // step + 1) * step
                seconds = time.monotonic() - state["start"]
                self._log_line(
                    f"    {label}: {count:,} of {total:,} ({100 * count / total:.0f}%) "
                    f"{seconds:.1f} s"
                )

        return on_rows

    def _write_table(self, label, model, fields, rows, total=0):
        started = time.monotonic()
        count = self.writer.write(_Table(model, fields), rows, self._progress(label, total))
        self.counts[label] = count
        self.log(label, count, time.monotonic() - started)
        return count

    # Planning -------------------------------------------------------------------------

    def _plan(self):
        started = time.monotonic()
        self._check_copy_safe()
        self.support_areas = list(m.SupportArea.objects.order_by("sort_order", "pk"))
        self.areas = self._plan_areas()
        self.mentors = self._plan_mentors()
        self.clients = self._plan_clients()
        self._plan_assignments()
        self._plan_sessions()
        self._plan_reoffending()
        self._log_line(
            f"Planned {self.sizes.boroughs:,} areas, {len(self.mentors):,} mentors, "
            f"{len(self.clients):,} clients and {self.sizes.sessions:,} sessions "
            f"(seed {self.seed}, as of {self.today:%Y-%m-%d}) "
            f"in {time.monotonic() - started:.1f} s."
        )

    def _check_copy_safe(self):
        areas = list(m.SupportArea.objects.values_list("name", flat=True))
        for text in [*(t for strings in COPY_TEXT_SOURCES for t in strings), *areas]:
            if any(ch in text for ch in "\t\n\r\\"):
                raise RuntimeError(f"{text!r} would need escaping for COPY.")

    def _plan_areas(self):
        rng, today = self.rng, self.today
        chosen = AREAS[: self.sizes.boroughs]
        later = [a for a in chosen if a[4] is None]
        first, last = LATER_LAUNCHES
        last = min(last, today - timedelta(days=weights.COHORT_DAYS))
        span = max(1, (last - first).days)
        days = sorted(rng.randrange(span) for _ in later)
        order = list(range(len(later)))
        rng.shuffle(order)
        launches = {}
        for position, day in zip(order, days, strict=True):
            launched = first + timedelta(days=day)
            launches[later[position][2]] = launched - timedelta(days=launched.weekday())
        areas = []
        for index, (name, slug, code, region, launched, size, cost) in enumerate(chosen):
            launched = launched or launches[code]
            areas.append(_Area(index, name, slug, code, region, launched, size, Decimal(cost)))
        return areas

    def _client_counts(self):
        weights = [a.size * (self.today - a.launched).days for a in self.areas]
        return _largest_remainder(self.sizes.clients, weights)

    def _plan_mentors(self):
        rng, today = self.rng, self.today
        vetted = weights.FIRST_VETTING_DAYS
        client_counts = self._client_counts()
        spare = self.sizes.mentors - MIN_MENTORS_PER_BOROUGH * len(self.areas)
        extra = _largest_remainder(spare, client_counts)
        mentors = []
        for area, more in zip(self.areas, extra, strict=True):
            area.clients = 0
            span = (today - area.launched).days
            for i in range(MIN_MENTORS_PER_BOROUGH + more):
                # The first two in each area start at launch and are still mentoring, so
                # every area has cover from its first day.
                if i < MIN_MENTORS_PER_BOROUGH:
                    started, ended = area.launched, None
                else:
                    started = area.launched + timedelta(days=rng.randrange(max(1, span - 30)))
                    ended = None
                    if rng.random() < weights.MENTOR_LEAVER_SHARE:
                        service = rng.randint(*weights.MENTOR_SERVICE_DAYS)
                        ended = started + timedelta(days=service)
                        if ended >= today:
                            ended = None
                mentor = _Mentor(area, started, ended)
                area.mentors += 1
                mentor.row = [
                    rng.choice(MENTOR_FIRST_NAMES),
                    rng.choice(LAST_NAMES),
                    "",
                    MENTOR_REFERENCE_FORMAT.format(code=area.code, number=area.mentors),
                    rng.random() < weights.LIVED_EXPERIENCE_SHARE,
                    rng.random() < weights.LISTENER_TRAINED_SHARE,
                    rng.choice(weights.QUALIFICATIONS),
                    min(today, started + timedelta(days=rng.randrange(*vetted))),
                    started,
                    ended,
                    rng.choice(weights.CASELOAD_LIMITS),
                ]
                mentors.append(mentor)
                area.serving.append(mentor)
        # Some mentors also serve a neighbouring area of the same region.
        self.visits = []
        by_region = {}
        for area in self.areas:
            by_region.setdefault(area.region, []).append(area)
        for mentor in mentors:
            neighbours = [a for a in by_region[mentor.area.region] if a is not mentor.area]
            if neighbours and rng.random() < VISITING_SHARE:
                other = rng.choice(neighbours)
                other.serving.append(mentor)
                self.visits.append((mentor, other))
        first_id = self.writer.reserve_ids(m.Mentor, len(mentors))
        for offset, mentor in enumerate(mentors):
            mentor.id = first_id + offset
        return mentors

    def _plan_clients(self):
        rng, today = self.rng, self.today
        rnd = rng.random
        areas = [a.id for a in self.support_areas]
        sources, source_cum, source_total = weights.cumulative(weights.REFERRAL_WEIGHTS)
        risks, risk_cum, risk_total = weights.cumulative(weights.RISK_WEIGHTS)
        ethnicities = m.Client.Ethnicity.values
        declined_before = today - timedelta(days=weights.DECISION_DAYS)
        clients = []
        for area, n in zip(self.areas, self._client_counts(), strict=True):
            if not n:
                continue
            span = (today - area.launched).days
            # Referral density grows over time (sqrt of a uniform), as the programme did.
            referred = sorted(
                area.launched + timedelta(days=max(0, min(span - 1, int(span * rnd() ** 0.5))))
                for _ in range(n)
            )
            # Every area took its first referral within weeks of launching.
            first_referral = timedelta(days=rng.randint(*weights.FIRST_REFERRAL_DAYS))
            referred[0] = min(today, area.launched + first_referral)
            referred.sort()
            for number, referred_on in enumerate(referred, start=1):
                c = _Client()
                c.area = area
                c.referred = referred_on
                female = rnd() < weights.FEMALE_SHARE
                if rnd() < weights.OUTSIDE_AGE_SHARE:
                    age = rng.choice(weights.OUTSIDE_AGES)
                else:
                    age = int(rng.triangular(*weights.AGE_TRIANGLE))
                birthday = rng.randrange(*weights.BIRTHDAY_DAYS)
                c.born = referred_on - timedelta(days=age * 365 + birthday)
                c.first_name = rng.choice(FIRST_NAMES_FEMALE if female else FIRST_NAMES_MALE)
                c.last_name = rng.choice(LAST_NAMES)
                c.source = sources[bisect(source_cum, rnd() * source_total)]
                risk = risks[bisect(risk_cum, rnd() * risk_total)]
                high_risk = risk == m.Client.RiskLevel.HIGH
                gang_share = (
                    weights.GANG_SHARE_HIGH_RISK if high_risk else weights.GANG_SHARE_OTHERS
                )
                c.needs = tuple(rng.sample(areas, min(len(areas), rng.randint(*weights.NEEDS))))
                started = referred_on + timedelta(days=rng.randint(*weights.START_DAYS))
                if rnd() < weights.DECLINED_SHARE and referred_on < declined_before:
                    c.status = m.Client.Status.DECLINED
                elif started > today:
                    c.status = m.Client.Status.REFERRED
                else:
                    c.status = m.Client.Status.ACTIVE
                    c.started = started
                    if c.source == m.Client.ReferralSource.PRISON or rnd() < weights.RELEASE_SHARE:
                        c.release = started + timedelta(days=rng.randint(*weights.RELEASE_DAYS))
                    if rnd() < INTENSIVE_SHARE:
                        c.intensive = True
                        length = rng.randint(365, 1100)
                    else:
                        length = int(rng.triangular(*weights.CASE_TRIANGLE))
                    ended = started + timedelta(days=length)
                    if ended <= today:
                        c.ended = ended
                c.row = [
                    c.first_name,
                    c.last_name,
                    "",
                    CLIENT_REFERENCE_FORMAT.format(code=area.code, number=number),
                    c.born,
                    m.Client.Gender.FEMALE if female else m.Client.Gender.MALE,
                    rng.choice(ethnicities),
                    c.source,
                    referred_on,
                    risk,
                    rnd() < gang_share,
                    referred_on,
                    PHONE_FORMAT.format(rng.randrange(1000)),
                ]
                clients.append(c)
            area.clients = n
        # Exactly weights.COMPLETION_SHARE of ended cases close as completed.
        ended = [c for c in clients if c.ended]
        rng.shuffle(ended)
        completers = round(weights.COMPLETION_SHARE * len(ended))
        for i, c in enumerate(ended):
            c.status = m.Client.Status.CLOSED
            if i < completers:
                c.closure = m.Client.ClosureReason.COMPLETED
            else:
                c.closure = rng.choice(weights.NON_COMPLETION_REASONS)
        first_id = self.writer.reserve_ids(m.Client, len(clients))
        for offset, c in enumerate(clients):
            c.id = first_id + offset
        return clients

    def _mentor_for(self, c, start, end, exclude=None):
        """
        A mentor serving the client's area for all of [start, end]: the less loaded of two
        picked at random, so caseloads stay even-ish without being uniform.
        """
        rng = self.rng
        candidates = [
            x
            for x in c.area.serving
            if x.started <= start and (x.ended is None or x.ended >= end) and x is not exclude
        ]
        if not candidates:  # the two founding mentors of each area are always there
            candidates = [
                x
                for x in c.area.serving
                if x.area is c.area and x.ended is None and x is not exclude
            ]
        day = start.toordinal()
        picks = [rng.choice(candidates), rng.choice(candidates)]
        for x in picks:
            while x.load and x.load[0] < day:
                heappop(x.load)
        return min(picks, key=lambda x: len(x.load))

    def _plan_assignments(self):
        rng, today = self.rng, self.today
        count = 0
        for c in self.clients:
            if not c.started:
                continue
            end = c.ended or today
            first = self._mentor_for(c, c.started, end)
            days = (end - c.started).days
            if days > weights.SWITCH_AFTER_DAYS and rng.random() < weights.SWITCH_SHARE:
                switch = c.started + timedelta(days=rng.randint(40, days - 30))
                second = self._mentor_for(c, switch, end, exclude=first)
                reason = rng.choice(weights.SWITCH_REASONS)
                c.plan = ((first, c.started, switch, reason), (second, switch, c.ended, ""))
                heappush(first.load, switch.toordinal())
            else:
                c.plan = ((first, c.started, c.ended, ""),)
            last_mentor = c.plan[-1][0]
            heappush(last_mentor.load, (c.ended or today + timedelta(days=1)).toordinal())
            if not c.ended:
                last_mentor.open += 1
            count += len(c.plan)
            # A fifth of current clients have drifted: no contact for over two weeks.
            c.last = end
            if not c.ended and rng.random() < weights.DRIFT_SHARE:
                c.last = today - timedelta(days=rng.randint(*weights.DRIFT_DAYS))
        self.assignment_count = count
        # The demo's caseload limits (6 to 10) suit its load; with more clients per mentor
        # they grow in proportion (up to the 30 allowed), so that most mentors are within
        # their limit today and some are over, rather than nearly all.
        current = [x.open for x in self.mentors if x.ended is None]
        factor = max(1.0, sum(current) / len(current) / CASELOAD_USE)
        for x in self.mentors:
            x.row[-1] = min(30, round(x.row[-1] * factor))

    def _plan_sessions(self):
        """Share the sessions out in proportion to each case's length (intensive ones x3)."""
        started = [c for c in self.clients if c.started]
        weights = [
            max(0, (c.last - c.started).days + 1) * (INTENSIVE_WEIGHT if c.intensive else 1)
            for c in started
        ]
        if self.sizes.sessions and not any(weights):
            raise ValueError(
                "No client has started support yet, so there is nobody to give sessions to: "
                "use more clients or --sessions 0."
            )
        for c, n in zip(started, _largest_remainder(self.sizes.sessions, weights), strict=True):
            c.sessions = n

    def _plan_reoffending(self):
        """Exactly weights.REOFFENDING_SHARE of each area's cohort reoffends, as in the demo."""
        rng, share = self.rng, weights.REOFFENDING_SHARE
        cohort_line = self.today - timedelta(days=weights.COHORT_DAYS)
        by_area = {}
        for c in self.clients:
            if c.started:
                by_area.setdefault(c.area.index, []).append(c)
        for group in by_area.values():
            cohort = [c for c in group if c.index_date <= cohort_line]
            rng.shuffle(cohort)
            for c in cohort[: round(share * len(cohort))]:
                c.reoffends = True
            for c in group:
                if c.index_date > cohort_line and rng.random() < share:
                    c.reoffends = True

    # Writing --------------------------------------------------------------------------

    LOADED = (
        m.Mentor,
        m.Mentor.other_boroughs.through,
        m.Client,
        m.Client.needs.through,
        m.Assignment,
        m.SupportSession,
        m.SupportSession.support_areas.through,
        m.Offence,
        m.Milestone,
        m.Goal,
        m.Placement,
    )

    # Written by the build without COPY: the session summaries (``summaries.rebuild``),
    # their versions, the funding and the benchmark logins. They are ANALYZEd with the
    # loaded tables; left to autovacuum, the planner would take a year of SessionAreaDay
    # for 0.5% of it in the first minutes after a build (the network dashboard's support
    # areas: 170 ms, not 25).
    WRITTEN_OTHERWISE = (
        m.SessionDay,
        m.SessionAreaDay,
        m.BoroughVersion,
        m.CaseShardVersion,
        m.Employer,
        m.Funder,
        m.Grant,
        m.StaffProfile,
        m.StaffProfile.boroughs.through,
        m.StaffProfile.history.model,  # the logins' access is recorded like anyone's
    )

    def _loaded_tables(self):
        models = (m.Borough, *self.LOADED, *self.WRITTEN_OTHERWISE)
        return [model._meta.db_table for model in models]

    def _write(self):
        self.now = timezone.now()
        self._log_line("Writing:")
        self._write_boroughs()
        employers = self._employers()
        with self.writer.bulk_load([model._meta.db_table for model in self.LOADED]):
            self._write_mentors()
            self._write_clients()
            self._write_assignments()
            self._write_sessions()
            self._write_offences()
            self._write_milestones_goals_placements(employers)
        self._grants()

    def _write_boroughs(self):
        started = time.monotonic()
        boroughs = m.Borough.objects.bulk_create(
            m.Borough(
                name=a.name,
                slug=a.slug,
                code=a.code,
                region=a.region,
                launched_on=a.launched,
                cost_per_client=a.cost,
                last_client_number=a.clients,
                last_mentor_number=a.mentors,
            )
            for a in self.areas
        )
        for area, borough in zip(self.areas, boroughs, strict=True):
            area.id = borough.pk
        self.counts["boroughs"] = len(boroughs)
        self.log("boroughs", len(boroughs), time.monotonic() - started)

    def _employers(self):
        wanted = [
            (f"{a.name} {suffix}", sector, a.id) for a in self.areas for suffix, sector in EMPLOYERS
        ]
        existing = set(
            m.Employer.objects.filter(name__in=[w[0] for w in wanted]).values_list(
                "name", flat=True
            )
        )
        m.Employer.objects.bulk_create(
            m.Employer(name=name, sector=sector, borough_id=borough)
            for name, sector, borough in wanted
            if name not in existing
        )
        self.counts["employers"] = len(wanted)
        by_name = dict(
            m.Employer.objects.filter(name__in=[w[0] for w in wanted]).values_list("name", "pk")
        )
        employers = {}
        for name, _sector, borough in wanted:
            employers.setdefault(borough, []).append(by_name[name])
        return employers

    def _write_mentors(self):
        self._write_table(
            "mentors",
            m.Mentor,
            _fields("""
            id home_borough_id first_name last_name preferred_name reference lived_experience
            listener_trained qualification vetting_checked_on started_on ended_on
            max_caseload"""),
            ((x.id, x.area.id, *x.row) for x in self.mentors),
        )
        self._write_table(
            "mentor other boroughs",
            m.Mentor.other_boroughs.through,
            ["mentor_id", "borough_id"],
            ((x.id, area.id) for x, area in self.visits),
        )

    def _write_clients(self):
        tail = ("", "", None, 1, self.now, self.now, None)
        self._write_table(
            "clients",
            m.Client,
            _fields("""
            id borough_id status started_on release_date ended_on closure_reason first_name
            last_name preferred_name reference date_of_birth gender ethnicity referral_source
            referred_on risk_level gang_affiliated consent_recorded_on phone email address
            anonymised_on version created_at updated_at created_by_id"""),
            (
                (c.id, c.area.id, c.status, c.started, c.release, c.ended, c.closure, *c.row, *tail)
                for c in self.clients
            ),
            total=len(self.clients),
        )
        self._write_table(
            "client needs",
            m.Client.needs.through,
            ["client_id", "supportarea_id"],
            ((c.id, area) for c in self.clients for area in c.needs),
        )

    def _write_assignments(self):
        first_id = self.writer.reserve_ids(m.Assignment, self.assignment_count)

        def rows():
            pk = first_id
            for c in self.clients:
                for mentor, start, stop, reason in c.plan:
                    if stop is not None and not reason:
                        reason = m.Assignment.EndReason.CASE_CLOSED
                    yield (pk, c.id, mentor.id, start, stop, reason)
                    pk += 1

        self._write_table(
            "assignments",
            m.Assignment,
            ["id", "client_id", "mentor_id", "started_on", "ended_on", "end_reason"],
            rows(),
        )

    def _write_sessions(self):
        total = self.sizes.sessions
        first_id = self.writer.reserve_ids(m.SupportSession, total)
        # The support areas each session covered, kept compactly until the sessions are in.
        session_ids, area_ids = array("q"), array("q")
        self._write_table(
            "sessions",
            m.SupportSession,
            _fields("""
            id client_id mentor_id date start_time duration_minutes kind mode attendance notes
            safeguarding_concern safeguarding_handled_at safeguarding_action logged_by_id
            created_at updated_at version submission_token"""),
            self._session_rows(first_id, session_ids, area_ids),
            total=total,
        )
        self._write_table(
            "session support areas",
            m.SupportSession.support_areas.through,
            ["supportsession_id", "supportarea_id"],
            zip(session_ids, area_ids, strict=True),
            total=len(session_ids),
        )

    def _session_rows(self, first_id, session_ids, area_ids):
        """The sessions, client by client; the areas each covered go to the two arrays."""
        rng, now = self.rng, self.now
        rnd = rng.random
        kinds, kind_cum, kind_total = weights.cumulative(weights.SESSION_KIND_WEIGHTS)
        modes, mode_cum, mode_total = weights.cumulative(weights.MODE_WEIGHTS)
        attendances, att_cum, att_total = weights.cumulative(weights.ATTENDANCE_WEIGHTS)
        prison = m.SupportSession.Mode.PRISON_VISIT
        kinds, modes = [str(k) for k in kinds], [str(x) for x in modes]
        attendances = [str(a) for a in attendances]
        durations = weights.SESSION_MINUTES
        n_durations = len(durations)
        concern_share = weights.SAFEGUARDING_SHARE
        # A token unique to each generated session: a random prefix for this data set and
        # the session's position in it.
        bits = f"{rng.getrandbits(64):016x}"
        prefix = f"{bits[:8]}-{bits[8:12]}-4{bits[13:16]}-8{rng.getrandbits(12):03x}-"
        area_names = {a.id: a.name.lower() for a in self.support_areas}
        templates = {a.id: SESSION_NOTES.get(a.slug, NOTE_FALLBACK) for a in self.support_areas}
        if not self.sizes.sessions:
            return
        base = min(c.started for c in self.clients if c.started).toordinal()
        dates = [date.fromordinal(base + i) for i in range(self.today.toordinal() - base + 1)]
        # Logged on the day of the session, in working hours (none later than now), as a
        # coordinator would: "recently logged" then means what it does in use, not the
        # moment of this build for two million sessions at once.
        opening = [timestamps.opening_time(d) for d in dates]
        logged_at = timestamps.logged_at
        # Concerns raised more than weights.SAFEGUARDING_OPEN_DAYS ago were followed up by
        # the next day; later ones are still open on the coordinators' home pages.
        followed_up_by = self.today.toordinal() - weights.SAFEGUARDING_OPEN_DAYS
        follow_up = SAFEGUARDING_ACTIONS[0]
        next_day = timedelta(days=1)
        sid = first_id
        position = 0
        add_session, add_area = session_ids.append, area_ids.append
        for c in self.clients:
            n = c.sessions
            if not n:
                continue
            cid, needs = c.id, c.needs
            k_needs = len(needs)
            notes = {a: templates[a].format(name=c.first_name, area=area_names[a]) for a in needs}
            start = c.started.toordinal()
            last = c.last.toordinal()
            step = (last - start + 1) / n
            release = c.release.toordinal() if c.release else 0
            plan = c.plan
            first_mentor = plan[0][0].id
            if len(plan) > 1:
                switch, second_mentor = plan[1][1].toordinal(), plan[1][0].id
            else:
                switch, second_mentor = last + 1, first_mentor
            for k in range(n):
                day = start + int((k + rnd()) * step)
                if day > last:
                    day = last
                if k_needs:
                    i = int(rnd() * k_needs)
                    area = needs[i]
                    note = notes[area]
                    add_session(sid)
                    add_area(area)
                    if k_needs > 1 and rnd() < 0.5:
                        add_session(sid)
                        add_area(needs[(i + 1 + int(rnd() * (k_needs - 1))) % k_needs])
                else:
                    note = ""
                yield (
                    sid,
                    cid,
                    second_mentor if day >= switch else first_mentor,
                    dates[day - base],
                    None,
                    durations[int(rnd() * n_durations)],
                    kinds[bisect(kind_cum, rnd() * kind_total)],
                    prison if day < release else modes[bisect(mode_cum, rnd() * mode_total)],
                    attendances[bisect(att_cum, rnd() * att_total)],
                    note,
                    concern := rnd() < concern_share,
                    opening[day - base] + next_day if concern and day <= followed_up_by else None,
                    follow_up if concern and day <= followed_up_by else "",
                    None,
                    logged := logged_at(opening[day - base], sid, now),
                    logged,
                    1,
                    f"{prefix}{position:012x}",
                )
                sid += 1
                position += 1

    def _write_offences(self):
        rng, today = self.rng, self.today
        proven = weights.PROVEN_DISPOSALS
        types, sources = m.Offence.OffenceType.values, m.Offence.Source.values
        pending = m.Offence.Disposal.PENDING

        def offence(c, offence_day, outcome_day, disposal):
            if outcome_day > today:
                disposal, outcome_day = pending, None
            kind, source = rng.choice(types), rng.choice(sources)
            return (c.id, offence_day, outcome_day, disposal, kind, source)

        reoffences, others = [], []
        for c in self.clients:
            index = c.index_date
            if index is None:
                continue
            if c.reoffends:
                for _ in range(2 if rng.random() < weights.SECOND_REOFFENCE_SHARE else 1):
                    offence_day = index + timedelta(days=rng.randint(*weights.REOFFENCE_DAYS))
                    outcome_day = offence_day + timedelta(days=rng.randint(*weights.OUTCOME_DAYS))
                    if offence_day <= today:
                        disposal = rng.choice(proven)
                        reoffences.append(offence(c, offence_day, outcome_day, disposal))
            elif rng.random() < weights.NOT_PROVEN_SHARE:
                # Arrested in the follow-up year, but no further action or acquitted.
                offence_day = index + timedelta(days=rng.randint(*weights.REOFFENCE_DAYS))
                outcome_day = offence_day + timedelta(days=rng.randint(*weights.NOT_PROVEN_DAYS))
                disposal = rng.choice(weights.NOT_PROVEN_DISPOSALS)
                if offence_day <= today:
                    others.append(offence(c, offence_day, outcome_day, disposal))
            elif rng.random() < weights.LATER_OFFENCE_SHARE:
                # Convicted of an offence committed after the 12-month follow-up.
                offence_day = index + timedelta(days=rng.randint(*weights.LATER_OFFENCE_DAYS))
                outcome_day = offence_day + timedelta(days=rng.randint(*weights.OUTCOME_DAYS))
                if offence_day <= today:
                    others.append(offence(c, offence_day, outcome_day, rng.choice(proven)))
        total = self.sizes.offences
        after = (reoffences + others)[:total]
        if len(reoffences) > total:
            self._log_line(
                f"  Note: --offences {total:,} is fewer than the {len(reoffences):,} reoffences "
                "the reoffending rate needs; it will come out lower."
            )
        # The rest are the offence histories that led to the referrals: one to four proven
        # offences between the age of 12 and ten days before the referral.
        history, outcome_days = [], weights.HISTORY_OUTCOME_DAYS
        while len(history) < total - len(after):
            c = self.clients[rng.randrange(len(self.clients))]
            earliest = c.born + timedelta(days=12 * 365)
            latest = c.referred - timedelta(days=10)
            how_many = rng.randint(*weights.HISTORY_OFFENCES)
            for _ in range(min(how_many, total - len(after) - len(history))):
                days = rng.randrange(max(1, (latest - earliest).days))
                offence_day = earliest + timedelta(days=days)
                outcome_day = offence_day + timedelta(days=rng.randint(*outcome_days))
                outcome_day = max(min(latest, outcome_day), offence_day)
                history.append(offence(c, offence_day, outcome_day, rng.choice(proven)))
        first_id = self.writer.reserve_ids(m.Offence, total)
        self._write_table(
            "offences",
            m.Offence,
            _fields("""
            id client_id offence_date outcome_date disposal offence_type source notes
            recorded_at version"""),
            (
                (first_id + i, *row, "", self.now, 1)
                for i, row in enumerate(sorted(history + after, key=lambda r: (r[0], r[1])))
            ),
            total=total,
        )

    def _write_milestones_goals_placements(self, employers):
        rng, today = self.rng, self.today
        area_names = {a.id: a.name for a in self.support_areas}
        milestones, goals, placements = [], [], []
        for c in self.clients:
            if not c.started:
                continue
            end = c.ended or today
            span = max(1, (end - c.started).days)
            completed = c.closure == m.Client.ClosureReason.COMPLETED
            how_many = rng.randint(
                *(weights.MILESTONES_IF_COMPLETED if completed else weights.MILESTONES_OTHERWISE)
            )
            for kind in rng.sample(weights.MILESTONE_KINDS, how_many):
                achieved = c.started + timedelta(days=rng.randrange(span))
                seen = rng.random() < weights.SEEN_BY_MENTOR_SHARE
                evidence = SEEN_BY_MENTOR if seen else CONFIRMED_BY_LETTER
                verified = rng.random() < weights.VERIFIED_SHARE
                milestones.append((c.id, kind, achieved, evidence, verified, 1))
                if (
                    kind == m.Milestone.Kind.ENTERED_EMPLOYMENT
                    and rng.random() < weights.PLACEMENT_SHARE
                ):
                    employer = rng.choice(employers[c.area.id])
                    placement_kind = rng.choice(weights.PLACEMENT_KINDS)
                    placements.append((c.id, employer, placement_kind, achieved, None, "", 1))
            for area in c.needs[: weights.GOALS_AT_MOST]:
                if not c.ended:
                    status = m.Goal.Status.OPEN
                elif completed:
                    status = rng.choice(weights.GOALS_IF_COMPLETED)
                else:
                    status = rng.choice(weights.GOALS_OTHERWISE)
                target = c.started + timedelta(days=rng.choice(weights.GOAL_DAYS))
                description = GOAL_DESCRIPTION.format(area=area_names[area].lower())
                goals.append((c.id, area, description, c.started, target, status, 1))
        for label, model, fields, rows in (
            (
                "milestones",
                m.Milestone,
                "client_id kind achieved_on evidence verified version",
                milestones,
            ),
            (
                "goals",
                m.Goal,
                "client_id support_area_id description set_on target_date status version",
                goals,
            ),
            (
                "placements",
                m.Placement,
                "client_id employer_id kind started_on ended_on notes version",
                placements,
            ),
        ):
            first_id = self.writer.reserve_ids(model, len(rows))
            self._write_table(
                label,
                model,
                ["id", *_fields(fields)],
                ((first_id + i, *row) for i, row in enumerate(rows)),
                total=len(rows),
            )

    def _grants(self):
        """A grant per area and year with starts, as in the demo (small: the ORM)."""
        started = time.monotonic()
        rng = self.rng
        others = {
            kind: m.Funder.objects.get_or_create(name=FUNDER_NAMES[kind], defaults={"kind": kind})[
                0
            ]
            for kind in (m.Funder.Kind.POLICE, m.Funder.Kind.TRUST, m.Funder.Kind.CORPORATE)
        }
        residents = m.Funder.objects.get_or_create(
            name=FUNDER_NAMES[m.Funder.Kind.RESIDENTS_GROUP],
            defaults={"kind": m.Funder.Kind.RESIDENTS_GROUP},
        )[0]
        starts = {}
        for c in self.clients:
            if c.started:
                key = (c.area.index, c.started.year)
                starts[key] = starts.get(key, 0) + 1
        grants = []
        for area in self.areas:
            council = m.Funder.objects.get_or_create(
                name=f"{area.name} Council", defaults={"kind": m.Funder.Kind.LOCAL_AUTHORITY}
            )[0]
            for year in range(area.launched.year, self.today.year + 1):
                clients = starts.get((area.index, year), 0)
                if not clients:
                    continue
                funders = {**others, m.Funder.Kind.LOCAL_AUTHORITY: council}
                funder = rng.choice([funders[kind] for kind in weights.GRANT_FUNDERS_SCALE])
                if area.code == "KNC" and year == area.launched.year:
                    funder = residents
                cover = Decimal(rng.choice(weights.GRANT_COVER))
                grants.append(
                    m.Grant(
                        funder=funder,
                        borough_id=area.id,
                        amount=(clients * area.cost * cover).quantize(Decimal("1")),
                        starts_on=date(year, 1, 1),
                        ends_on=date(year, 12, 31),
                        reference=f"{area.code}-{year}",
                    )
                )
        m.Grant.objects.bulk_create(grants)
        self.counts["grants"] = len(grants)
        self.log("grants", len(grants), time.monotonic() - started)
