"""
Summary tables of attended sessions (SessionDay, SessionAreaDay) and each borough's figures
version (BoroughVersion), kept by the database.

The dashboards' session figures (attended sessions and hours per month, in the last 28
days, support areas covered in the last year) add up rows of these tables, one per borough
and day (and support area), instead of reading every session in their window.

The tables are kept by triggers in the database rather than by Django signals, so that no
write can miss them: forms and the admin, imports (bulk_create), ``QuerySet.update()``,
deletions cascading from a client, a client moved to another borough, raw SQL. Each
trigger adds or takes away the changed rows' share in the same transaction as the change,
so a rolled-back write leaves the summary as it was. TRUNCATE (PostgreSQL) empties them.
Bulk loaders that switch triggers off (seed_scale's COPY) call ``rebuild()`` after.

The definition of each table is the ``GROUP BY`` in ``_COUNTS``: ``rebuild()`` fills the
tables with it and ``differences()`` compares them with it (``manage.py summaries
--check``; the tests run it after every kind of write).

Each borough's two figures versions are raised by the same triggers (``_version_triggers``):
its case version by writes to its grants and itself, its sessions version by writes to its
clients, sessions and their support areas; and each case shard's two (CaseShardVersion):
its version by writes to its clients and their offences, its milestones version by writes
to its clients and their milestones.

A change to the triggers needs a migration that carries the new statements, frozen
(``trigger_sql()``, ``drop_sql()``, ``fill_sql()``, as 0029 does): migrations never import
this module, and tests/test_migrations.py fails while the migrated triggers differ.
"""

import re

from django.db import connection, transaction

from .models import (
    Assignment,
    Borough,
    BoroughVersion,
    CaseShardVersion,
    Client,
    Grant,
    Mentor,
    Milestone,
    Offence,
    SessionAreaDay,
    SessionDay,
    SupportSession,
)

SESSION = SupportSession._meta.db_table
LINK = SupportSession.support_areas.through._meta.db_table
CLIENT = Client._meta.db_table
DAY = SessionDay._meta.db_table
AREA_DAY = SessionAreaDay._meta.db_table
VERSION = BoroughVersion._meta.db_table
SHARD = CaseShardVersion._meta.db_table
OFFENCE = Offence._meta.db_table
MILESTONE = Milestone._meta.db_table
GRANT = Grant._meta.db_table
BOROUGH = Borough._meta.db_table
MENTOR = Mentor._meta.db_table
ASSIGNMENT = Assignment._meta.db_table
MENTOR_BOROUGHS = Mentor.other_boroughs.through._meta.db_table
# The version of the mentors' load (mentors, the boroughs they serve, their assignments)
# is kept in BoroughVersion under this id, which no borough has.
MENTORS = 0
ATTENDED = "({})".format(", ".join(f"'{value}'" for value in SupportSession.ATTENDED_VALUES))

# The statements ----------------------------------------------------------------------
# Each is written once and used by both databases: SQLite runs them as trigger bodies,
# PostgreSQL inside PL/pgSQL functions. {row} is NEW or OLD.

_ADD_DAY = f"""
INSERT INTO {DAY} (borough_id, date, sessions, minutes)
SELECT c.borough_id, {{row}}.date, 1, {{row}}.duration_minutes
FROM {CLIENT} c WHERE c.id = {{row}}.client_id
ON CONFLICT (borough_id, date) DO UPDATE
SET sessions = {DAY}.sessions + excluded.sessions, minutes = {DAY}.minutes + excluded.minutes
"""

_ADD_SESSION_AREAS = f"""
INSERT INTO {AREA_DAY} (borough_id, date, support_area_id, sessions)
SELECT c.borough_id, {{row}}.date, link.supportarea_id, 1
FROM {LINK} link JOIN {CLIENT} c ON c.id = {{row}}.client_id
WHERE link.supportsession_id = {{row}}.id
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = {AREA_DAY}.sessions + excluded.sessions
"""

_ADD_LINK = f"""
INSERT INTO {AREA_DAY} (borough_id, date, support_area_id, sessions)
SELECT c.borough_id, s.date, {{row}}.supportarea_id, 1
FROM {SESSION} s JOIN {CLIENT} c ON c.id = s.client_id
WHERE s.id = {{row}}.supportsession_id AND s.attendance IN {ATTENDED}
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = {AREA_DAY}.sessions + excluded.sessions
"""

# Taking away only changes rows that are there: it never creates one (Django's test
# flush on SQLite deletes the summaries and the boroughs before the sessions, and a
# negative row for a deleted borough would break its foreign key).
_BOROUGH_OF_CLIENT = f"(SELECT c.borough_id FROM {CLIENT} c WHERE c.id = {{row}}.client_id)"
_TAKE_DAY = f"""
UPDATE {DAY} SET sessions = sessions - 1, minutes = minutes - {{row}}.duration_minutes
WHERE date = {{row}}.date AND borough_id = {_BOROUGH_OF_CLIENT}
"""
_TAKE_SESSION_AREAS = f"""
UPDATE {AREA_DAY} SET sessions = sessions - 1
WHERE date = {{row}}.date AND borough_id = {_BOROUGH_OF_CLIENT}
AND support_area_id IN (SELECT supportarea_id FROM {LINK} WHERE supportsession_id = {{row}}.id)
"""
_TAKE_LINK = f"""
UPDATE {AREA_DAY} SET sessions = sessions - 1
WHERE support_area_id = {{row}}.supportarea_id
AND date = (SELECT s.date FROM {SESSION} s WHERE s.id = {{row}}.supportsession_id)
AND borough_id = (
    SELECT c.borough_id FROM {SESSION} s JOIN {CLIENT} c ON c.id = s.client_id
    WHERE s.id = {{row}}.supportsession_id AND s.attendance IN {ATTENDED}
)
"""

# A client moved to another borough takes their attended sessions with them.
_MOVE_DAYS = f"""
INSERT INTO {DAY} (borough_id, date, sessions, minutes)
SELECT {{borough}}, s.date, {{sign}} * COUNT(*), {{sign}} * SUM(s.duration_minutes)
FROM {SESSION} s WHERE s.client_id = NEW.id AND s.attendance IN {ATTENDED}
GROUP BY s.date
ON CONFLICT (borough_id, date) DO UPDATE
SET sessions = {DAY}.sessions + excluded.sessions, minutes = {DAY}.minutes + excluded.minutes
"""

_MOVE_AREAS = f"""
INSERT INTO {AREA_DAY} (borough_id, date, support_area_id, sessions)
SELECT {{borough}}, s.date, link.supportarea_id, {{sign}} * COUNT(*)
FROM {SESSION} s JOIN {LINK} link ON link.supportsession_id = s.id
WHERE s.client_id = NEW.id AND s.attendance IN {ATTENDED}
GROUP BY s.date, link.supportarea_id
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = {AREA_DAY}.sessions + excluded.sessions
"""

# Rows that reach zero go, so that the tables hold exactly what a rebuild would.
_DROP_EMPTY_ON = f"""
DELETE FROM {DAY} WHERE date = {{row}}.date AND sessions = 0;
DELETE FROM {AREA_DAY} WHERE date = {{row}}.date AND sessions = 0
"""
_DROP_EMPTY_IN_OLD_BOROUGH = f"""
DELETE FROM {DAY} WHERE borough_id = OLD.borough_id AND sessions = 0;
DELETE FROM {AREA_DAY} WHERE borough_id = OLD.borough_id AND sessions = 0
"""
_DROP_EMPTY_LINK = f"""
DELETE FROM {AREA_DAY} WHERE support_area_id = OLD.supportarea_id AND sessions = 0
"""

_SESSION_CHANGED = (
    "OLD.client_id IS NOT NEW.client_id OR OLD.date IS NOT NEW.date "
    "OR OLD.attendance IS NOT NEW.attendance OR OLD.duration_minutes IS NOT NEW.duration_minutes"
)


def _session_added():
    return [_ADD_DAY.format(row="NEW"), _ADD_SESSION_AREAS.format(row="NEW")]


def _session_removed():
    return [
        _TAKE_DAY.format(row="OLD"),
        _TAKE_SESSION_AREAS.format(row="OLD"),
        *_DROP_EMPTY_ON.format(row="OLD").split(";"),
    ]


def _moved():
    return [
        _MOVE_DAYS.format(borough="OLD.borough_id", sign=-1),
        _MOVE_AREAS.format(borough="OLD.borough_id", sign=-1),
        _MOVE_DAYS.format(borough="NEW.borough_id", sign=1),
        _MOVE_AREAS.format(borough="NEW.borough_id", sign=1),
        *_DROP_EMPTY_IN_OLD_BOROUGH.split(";"),
    ]


# (name, table, event, condition, statements): every trigger, in one list for both.
_TRIGGERS = [
    (
        "mentoring_summary_session_insert",
        SESSION,
        "INSERT",
        f"NEW.attendance IN {ATTENDED}",
        _session_added(),
    ),
    (
        "mentoring_summary_session_delete",
        SESSION,
        "DELETE",
        f"OLD.attendance IN {ATTENDED}",
        _session_removed(),
    ),
    # An update is the old row taken away and the new one added; two triggers, each run
    # only when the columns the summary uses changed.
    (
        "mentoring_summary_session_update_old",
        SESSION,
        "UPDATE",
        f"OLD.attendance IN {ATTENDED} AND ({_SESSION_CHANGED})",
        _session_removed(),
    ),
    (
        "mentoring_summary_session_update_new",
        SESSION,
        "UPDATE",
        f"NEW.attendance IN {ATTENDED} AND ({_SESSION_CHANGED})",
        _session_added(),
    ),
    ("mentoring_summary_link_insert", LINK, "INSERT", None, [_ADD_LINK.format(row="NEW")]),
    (
        "mentoring_summary_link_delete",
        LINK,
        "DELETE",
        None,
        [_TAKE_LINK.format(row="OLD"), _DROP_EMPTY_LINK],
    ),
    (
        "mentoring_summary_link_update",
        LINK,
        "UPDATE",
        None,
        [_TAKE_LINK.format(row="OLD"), _ADD_LINK.format(row="NEW"), _DROP_EMPTY_LINK],
    ),
    (
        "mentoring_summary_client_moved",
        CLIENT,
        "UPDATE",
        "OLD.borough_id IS NOT NEW.borough_id",
        _moved(),
    ),
]

# Versions: each write to a record a borough's figures are made from raises the borough's
# version, through the record's client where it has one.

# A version goes up by 1 plus a random step, so that a number a rolled-back transaction
# used is not used again: figures read inside that transaction may have been cached
# under it. JITTER is replaced by each database's random whole number below 2**30.
JITTER = "__JITTER__"
_JITTER_SQL = {
    "sqlite": "(random() & 1073741823)",
    "postgresql": "floor(random() * 1073741824)::bigint",
}
_STEP = f"1 + {JITTER}"
# Which of a borough's two numbers a write raises: "case" (version) for its grants and
# itself (its cost per client; its cases have a number per shard, CaseShardVersion),
# "sessions" (sessions_version) for its sessions, their support areas and its clients,
# "both" for every borough at once.
_RAISED = {
    "case": ("version",),
    "sessions": ("sessions_version",),
    "both": ("version", "sessions_version"),
}


def _raise(table, key, columns, raised, source):
    """
    The statement raising the ``raised`` of ``columns`` in the rows of ``table`` (unique
    on ``key``) that ``source`` selects (a SELECT tail of the key's values and
    ``{values}``), creating a row on its first change.
    """
    values = ", ".join(_STEP if c in raised else "0" for c in columns)
    sets = ", ".join(f"{c} = {table}.{c} + {_STEP}" for c in raised)
    return (
        f"INSERT INTO {table} ({', '.join((*key, *columns))})\n"
        f"SELECT {source.format(values=values)}\n"
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}"
    )


def _bump(source, what):
    """
    The statement raising ``what`` for the boroughs ``source`` selects (a SELECT tail
    whose first column is the borough id), creating a borough's row on its first change.
    """
    columns = ("version", "sessions_version")
    return _raise(VERSION, ("borough_id",), columns, _RAISED[what], source)


def _bump_borough(borough, what):
    return _bump(f"{borough}, {{values}} WHERE {borough} IS NOT NULL", what)


def _bump_via_client(row, what):
    return _bump(f"c.borough_id, {{values}} FROM {CLIENT} c WHERE c.id = {row}.client_id", what)


# Which of a case shard's two numbers a write raises: "cases" (version) for its offences,
# "milestones" (milestones_version) for its milestones, "both" for its clients (a client
# moved or deleted takes its offences and milestones with it).
_SHARD_RAISED = {
    "cases": ("version",),
    "milestones": ("milestones_version",),
    "both": ("version", "milestones_version"),
}


def _bump_shard(source, what):
    """
    The statement raising ``what`` of the case shards ``source`` selects (a SELECT tail
    of borough id, year and ``{values}``), creating a shard's row on its first change.
    """
    columns = ("version", "milestones_version")
    return _raise(SHARD, ("borough_id", "year"), columns, _SHARD_RAISED[what], source)


def _bump_client_shard(row):
    return _bump_shard(
        f"{row}.borough_id, YEAR_OF({row}.referred_on), {{values}} "
        f"WHERE {row}.borough_id IS NOT NULL",
        "both",
    )


def _bump_shard_via_client(row, what):
    return _bump_shard(
        f"c.borough_id, YEAR_OF(c.referred_on), {{values}} "
        f"FROM {CLIENT} c WHERE c.id = {row}.client_id",
        what,
    )


def _bump_via_session(row, what):
    return _bump(
        f"c.borough_id, {{values}} FROM {SESSION} s JOIN {CLIENT} c ON c.id = s.client_id "
        f"WHERE s.id = {row}.supportsession_id",
        what,
    )


def _version_triggers():
    triggers = []
    # (table, statement for a row): the borough of each row, old and new.
    sources = [
        # A client's shard (cases) and borough (sessions: who is active, who needs contact).
        (
            CLIENT,
            lambda row: (
                _bump_client_shard(row) + ";" + _bump_borough(f"{row}.borough_id", "sessions")
            ),
        ),
        (SESSION, lambda row: _bump_via_client(row, "sessions")),
        (LINK, lambda row: _bump_via_session(row, "sessions")),
        (OFFENCE, lambda row: _bump_shard_via_client(row, "cases")),
        (MILESTONE, lambda row: _bump_shard_via_client(row, "milestones")),
        (GRANT, lambda row: _bump_borough(f"{row}.borough_id", "case")),
        # A borough's slug is shown in the mentors' load.
        (BOROUGH, lambda row: _bump_borough(f"{row}.id", "case") + ";" + _bump_mentors()),
        (MENTOR, lambda row: _bump_mentors()),
        (ASSIGNMENT, lambda row: _bump_mentors()),
        (MENTOR_BOROUGHS, lambda row: _bump_mentors()),
    ]
    for table, bump in sources:
        short = table.removeprefix("mentoring_")
        triggers += [
            (f"mentoring_version_{short}_insert", table, "INSERT", None, bump("NEW").split(";")),
            (f"mentoring_version_{short}_delete", table, "DELETE", None, bump("OLD").split(";")),
            (
                f"mentoring_version_{short}_update",
                table,
                "UPDATE",
                None,
                list(dict.fromkeys([*bump("OLD").split(";"), *bump("NEW").split(";")])),
            ),
        ]
    return triggers


def _bump_mentors():
    return _bump_borough(str(MENTORS), "case")


_TRIGGERS += _version_triggers()
_VERSIONED_TABLES = sorted({table for _name, table, *_rest in _version_triggers()})
# Every borough at once: after TRUNCATE, or a bulk load with the triggers off.
_BUMP_ALL = _bump(
    f"id, {{values}} FROM {BOROUGH} WHERE true UNION ALL SELECT {MENTORS}, {{values}} WHERE true",
    "both",
)


# Every shard: after TRUNCATE or a rebuild.
_BUMP_SHARDS = (
    f"UPDATE {SHARD} SET version = version + {_STEP}, "
    f"milestones_version = milestones_version + {_STEP}"
)
# Every shard that has a client gets a row (a rebuild after a bulk load with triggers off).
_ADD_SHARDS = _bump_shard(
    "borough_id, year, {values} FROM (SELECT DISTINCT borough_id, YEAR_OF(referred_on) AS year "
    f"FROM {CLIENT}) shards WHERE true",
    "both",
)

# YEAR_OF(x) is the calendar year of a date column, as each database writes it.
_YEAR_OF = re.compile(r"YEAR_OF\(([^()]*)\)")
_YEAR_SQL = {
    "sqlite": r"CAST(strftime('%Y', \1) AS INTEGER)",
    "postgresql": r"CAST(EXTRACT(YEAR FROM \1) AS INTEGER)",
}


def _for(vendor, sql):
    return _YEAR_OF.sub(_YEAR_SQL[vendor], sql.replace(JITTER, _JITTER_SQL[vendor]))


# The definitions: what each table holds, counted from the sessions themselves.
_COUNTS = {
    DAY: (
        "borough_id, date, sessions, minutes",
        f"""
        SELECT c.borough_id, s.date, COUNT(*), SUM(s.duration_minutes)
        FROM {SESSION} s JOIN {CLIENT} c ON c.id = s.client_id
        WHERE s.attendance IN {ATTENDED}
        GROUP BY c.borough_id, s.date
        """,
    ),
    AREA_DAY: (
        "borough_id, date, support_area_id, sessions",
        f"""
        SELECT c.borough_id, s.date, link.supportarea_id, COUNT(*)
        FROM {LINK} link
        JOIN {SESSION} s ON s.id = link.supportsession_id
        JOIN {CLIENT} c ON c.id = s.client_id
        WHERE s.attendance IN {ATTENDED}
        GROUP BY c.borough_id, s.date, link.supportarea_id
        """,
    ),
}


def _statements(statements):
    return [s.strip() for s in statements if s.strip()]


def _sqlite_sql():
    sql = []
    for name, table, event, condition, statements in _TRIGGERS:
        when = f" WHEN {condition}" if condition else ""
        body = "".join(f"{s};\n" for s in _statements(statements))
        trigger = f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when}"
        sql.append(_for("sqlite", f"{trigger}\nBEGIN\n{body}END"))
    return sql


def _postgresql_sql():
    sql = []
    for name, table, event, condition, statements in _TRIGGERS:
        # SQLite's IS NOT is PostgreSQL's IS DISTINCT FROM.
        when = f" WHEN ({condition.replace(' IS NOT ', ' IS DISTINCT FROM ')})" if condition else ""
        body = "".join(f"  {s};\n" for s in _statements(statements))
        sql.append(
            _for(
                "postgresql",
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"BEGIN\n{body}  RETURN NULL;\nEND\n$$",
            )
        )
        sql.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when} "
            f"EXECUTE FUNCTION {name}()"
        )
    # TRUNCATE deletes no rows one by one: the summaries are emptied with it.
    sql.append(
        "CREATE FUNCTION mentoring_summary_truncate() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n  DELETE FROM {AREA_DAY};\n"
        f"  IF TG_TABLE_NAME <> '{LINK}' THEN DELETE FROM {DAY}; END IF;\n"
        "  RETURN NULL;\nEND\n$$"
    )
    for table in (SESSION, LINK, CLIENT):
        sql.append(
            f"CREATE TRIGGER mentoring_summary_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION mentoring_summary_truncate()"
        )
    sql.append(
        "CREATE FUNCTION mentoring_version_truncate() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n  {_for('postgresql', _BUMP_ALL.strip())};\n"
        f"  {_for('postgresql', _BUMP_SHARDS)};\n  RETURN NULL;\nEND\n$$"
    )
    for table in _VERSIONED_TABLES:
        sql.append(
            f"CREATE TRIGGER mentoring_version_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION mentoring_version_truncate()"
        )
    return sql


def trigger_sql(vendor):
    """The statements that create every trigger (and on PostgreSQL its function)."""
    return _postgresql_sql() if vendor == "postgresql" else _sqlite_sql()


def drop_sql(vendor):
    """The statements that drop every trigger, by name."""
    if vendor == "postgresql":
        functions = [name for name, *_rest in _TRIGGERS]
        functions += ["mentoring_summary_truncate", "mentoring_version_truncate"]
        return [f"DROP FUNCTION IF EXISTS {name}() CASCADE" for name in functions]
    return [f"DROP TRIGGER IF EXISTS {name}" for name, *_rest in _TRIGGERS]


def fill_sql(vendor):
    """The statements of ``rebuild()``."""
    sql = []
    for table, (columns, select) in _COUNTS.items():
        sql += [f"DELETE FROM {table}", f"INSERT INTO {table} ({columns}) {select}"]
    return sql + [_for(vendor, statement) for statement in (_BUMP_ALL, _BUMP_SHARDS, _ADD_SHARDS)]


def rebuild(conn=None):
    """
    Fill both tables afresh from the sessions, and raise every borough's and every case
    shard's version, adding the shards that have clients and no row (the data may have
    changed without the triggers seeing it), in one transaction.
    """
    conn = conn or connection
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        for sql in fill_sql(conn.vendor):
            cursor.execute(sql)


def versions(borough_ids):
    """
    {borough id: (version, sessions_version)} for ``borough_ids``; a borough never changed
    is at (0, 0).
    """
    held = {
        pk: (version, sessions_version)
        for pk, version, sessions_version in BoroughVersion.objects.filter(
            borough_id__in=borough_ids
        ).values_list("borough_id", "version", "sessions_version")
    }
    return {pk: held.get(pk, (0, 0)) for pk in borough_ids}


def shard_versions(borough_ids):
    """
    {borough id: {year: (version, milestones_version)}}: the case shards of
    ``borough_ids`` (1 query).
    """
    result = {}
    rows = CaseShardVersion.objects.filter(borough_id__in=borough_ids).values_list(
        "borough_id", "year", "version", "milestones_version"
    )
    for pk, year, version, milestones_version in rows:
        result.setdefault(pk, {})[year] = (version, milestones_version)
    return result


def differences(limit=20):
    """
    Rows where a table and its definition disagree: [(table, key, held, counted)], at most
    ``limit``; empty when the summaries are right.
    """
    found = []
    with connection.cursor() as cursor:
        for table, (columns, select) in _COUNTS.items():
            cursor.execute(f"SELECT {columns} FROM {table}")
            held = _keyed(cursor.fetchall(), table)
            cursor.execute(select)
            counted = _keyed(cursor.fetchall(), table)
            for key in sorted(held.keys() | counted.keys(), key=str):
                if held.get(key) != counted.get(key):
                    found.append((table, key, held.get(key), counted.get(key)))
                    if len(found) >= limit:
                        return found
        # Every shard with a client has a version row (the figures cache lists shards
        # from them).
        cursor.execute(
            _for(
                connection.vendor,
                f"SELECT DISTINCT borough_id, YEAR_OF(referred_on) FROM {CLIENT} "
                f"EXCEPT SELECT borough_id, year FROM {SHARD}",
            )
        )
        for key in sorted(cursor.fetchall())[: limit - len(found)]:
            found.append((SHARD, tuple(key), None, "a client"))
    return found


def _keyed(rows, table):
    width = 2 if table == DAY else 3
    return {tuple(row[:width]): tuple(row[width:]) for row in rows}
