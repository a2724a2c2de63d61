"""
How the scale data set's rows reach the database: on PostgreSQL with COPY, streamed from the
generated rows, with the loaded tables' secondary indexes and constraints dropped for the
load and rebuilt after it; elsewhere (SQLite, for the tests) with ``bulk_create`` in batches.
"""

import time

from django.db import connection

from mentoring import models as m
from mentoring import summaries

from ..reset import check_deferred_constraints
from ..timestamps import own_timestamps

# Batch sizes: rows per COPY chunk (one buffer of text) and per bulk_create batch.
COPY_CHUNK_ROWS = 5_000
BULK_BATCH = 2_000


class Table:
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


class OrmWriter(_Writer):
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
        with own_timestamps(model, names):
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


class PostgresWriter(_Writer):
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
    index once is cheaper than updating it for every row, and adding a foreign key checks
    every row in one join. Everything is in the build's transaction, so a failure
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
            # The session summaries' triggers would update them one session at a time;
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
