"""
Backups and restores (``manage.py backup`` and ``manage.py restore``, mentoring/backup.py).

The round trips run the commands in subprocesses against throwaway databases of the kind
the test run uses: SQLite files in a temporary folder, or PostgreSQL databases created and
dropped on the test run's server, so that pytest's own test database is never touched. One
migrated database is made per module and copied (a file copy, or CREATE DATABASE ...
TEMPLATE) for each test that needs one. The file format (chunks, digest, encryption) is
tested in-process with the database work replaced by fakes: every truncation and every
flipped bit is refused before anything would be written.
"""

import dataclasses
import datetime
import io
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from mentoring import backup

from ..helpers import PROJECT_ROOT

ON_POSTGRES = connection.vendor == "postgresql"
KEY = "a long passphrase for the backups of the tests"
ANONYMISED = "[anonymised]"

# The programme's data in the source database: a borough, a coordinator, a mentor, an
# active client with an assignment, two attended sessions (with support areas), an offence
# and a milestone, a closed client, a change that adds a history row, an access-log row
# and an admin log entry. Printed: the rows of each table that must not be empty.
SOURCE_DATA = """
import datetime
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from mentoring.models import AccessLog, SupportArea
from tests import factories

borough = factories.BoroughFactory(name="Southwark", slug="southwark", code="SWK")
coordinator = factories.StaffProfileFactory(user__username="coord", boroughs=[borough]).user
mentor = factories.MentorFactory(home_borough=borough, first_name="Andre")
client = factories.ClientFactory(
    borough=borough, active=True, first_name="Jordan", referred_on=datetime.date(2026, 1, 5)
)
factories.AssignmentFactory(client=client, mentor=mentor)
for day in (datetime.date(2026, 2, 3), datetime.date(2026, 2, 10)):
    session = factories.SupportSessionFactory(
        client=client, mentor=mentor, date=day, notes="Talked about college"
    )
    session.support_areas.set(SupportArea.objects.order_by("pk")[:2])
factories.OffenceFactory(client=client)
factories.MilestoneFactory(client=client)
client.phone = "07700 900123"
client.save()
factories.ClientFactory(borough=borough, closed=True, referred_on=datetime.date(2024, 1, 8))
AccessLog.objects.create(
    user=coordinator, username="coord", client=client, client_reference=client.reference,
    action=AccessLog.Action.VIEW, path=f"/clients/{client.pk}/",
)
LogEntry.objects.create(
    user=coordinator, content_type=ContentType.objects.get_for_model(client),
    object_id=str(client.pk), object_repr=str(client), action_flag=CHANGE,
    change_message="Changed phone.",
)
"""

# A session logged through the ORM after a restore: the summary of its borough and day must
# follow (the triggers came back with the tables) and no summary may differ.
LOG_A_SESSION = """
import datetime, json
from mentoring import summaries
from mentoring.models import Client, Mentor, SessionDay
from tests import factories

client = Client.objects.get(status=Client.Status.ACTIVE)
day = datetime.date(2026, 2, 3)
def summary():
    rows = SessionDay.objects.filter(borough=client.borough, date=day)
    return list(rows.values_list("sessions", "minutes"))
before = summary()
factories.SupportSessionFactory(
    client=client, mentor=Mentor.objects.get(), date=day, duration_minutes=45
)
print("RESULT", json.dumps({
    "before": before, "after": summary(), "differences": len(summaries.differences())
}))
"""

# A client closed in 2015 with personal details: due for retention (6 years) but not yet
# anonymised.
DUE_CLIENT = """
import datetime
from django.core.management import call_command
from mentoring.models import Borough, Mentor
from tests import factories

client = factories.ClientFactory(
    reference="DUE-00001", borough=Borough.objects.get(), closed=True, first_name="Marcus",
    last_name="Holloway", phone="07700 900999", address="12 Secret Road",
    referred_on=datetime.date(2014, 9, 1),
)
factories.SupportSessionFactory(
    client=client, mentor=Mentor.objects.get(), date=datetime.date(2014, 10, 1),
    notes="Lives at 12 Secret Road",
)
"""


# Backups made in the same process as the data: ``call_command`` as the command line does.
MAKE_BACKUPS = """
import os
from django.core.management import call_command
call_command("backup", {plain!r})
os.environ["SOS_BACKUP_KEY"] = {key!r}
call_command("backup", {encrypted!r})
"""

# Restores tried one after the other in one process (one start of Django, not one each):
# each must end in a CommandError, whose message is printed.
RESTORE_EACH = """
import json, os
from django.core.management import call_command
from django.core.management.base import CommandError
found = {{}}
for label, (path, key) in json.loads({cases!r}).items():
    os.environ.pop("SOS_BACKUP_KEY", None)
    if key:
        os.environ["SOS_BACKUP_KEY"] = key
    try:
        call_command("restore", path, skip_checks=True)
        found[label] = "restored"
    except CommandError as error:
        found[label] = str(error)
print("RESULT", json.dumps(found))
"""


# Running manage.py -------------------------------------------------------------------------


def manage(url, *args, key=None, path=None):
    """``manage.py *args`` on the database at ``url``, ``SOS_BACKUP_KEY`` set to ``key``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in (backup.KEY_ENV, "DATABASE_URL", "SOS_REPLICA_URL")
    }
    env.update(SOS_DEV_MODE="1", DATABASE_URL=url)
    if key is not None:
        env[backup.KEY_ENV] = key
    if path is not None:
        env["PATH"] = str(path)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def refused(result):
    """The message of the CommandError ``result`` ended with (not a traceback)."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    assert "CommandError: " in result.stderr, result.stderr
    return result.stderr.split("CommandError: ", 1)[1].strip()


def succeeded(result):
    assert result.returncode == 0, f"{result.args}: {result.stderr}"
    return result.stdout


def printed(output):
    """What a script printed after "RESULT", as JSON."""
    return json.loads(output.split("RESULT", 1)[1])


# Throwaway databases -----------------------------------------------------------------------


class SqliteServer:
    """Databases as files in a folder."""

    def __init__(self, folder):
        self.folder = folder

    def path(self, name):
        return self.folder / f"{name}.sqlite3"

    def url(self, name):
        return f"sqlite:///{self.path(name)}"

    def create(self, template=None):
        name = f"db_{uuid.uuid4().hex[:8]}"
        if template:
            shutil.copyfile(self.path(template), self.path(name))
        return name

    def drop_all(self):
        pass  # the temporary folder goes with pytest's

    @contextmanager
    def cursor(self, name):
        with closing(sqlite3.connect(self.path(name), isolation_level=None)) as db:
            yield db.cursor()

    def tables(self, cursor):
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return sorted(row[0] for row in cursor.fetchall())

    def schema(self, cursor):
        cursor.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")
        return sorted(cursor.fetchall(), key=repr)


class PostgresServer:
    """Databases created (and dropped at the end) on the test run's PostgreSQL server."""

    def __init__(self, settings_dict):
        self.params = {
            "host": settings_dict["HOST"] or None,
            "port": settings_dict["PORT"] or None,
            "user": settings_dict["USER"] or None,
            "password": settings_dict["PASSWORD"] or None,
        }
        self.created = []

    def url(self, name):
        user = quote(self.params["user"] or "", safe="")
        password = quote(self.params["password"] or "", safe="")
        credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
        host = self.params["host"] or "localhost"
        port = f":{self.params['port']}" if self.params["port"] else ""
        return f"postgres://{credentials}{host}{port}/{name}"

    def _admin(self, statement):
        import psycopg2

        with closing(psycopg2.connect(dbname="postgres", **self.params)) as db:
            db.autocommit = True
            with db.cursor() as cursor:
                cursor.execute(statement)

    def create(self, template=None):
        name = f"sos_bktest_{uuid.uuid4().hex[:8]}"
        self.created.append(name)
        self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop_all(self):
        with ThreadPoolExecutor(4) as pool:
            dropping = [
                pool.submit(self._admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                for name in self.created
            ]
        for done in dropping:
            done.result()

    @contextmanager
    def cursor(self, name):
        import psycopg2

        with closing(psycopg2.connect(dbname=name, **self.params)) as db:
            db.autocommit = True
            with db.cursor() as cursor:
                yield cursor

    def tables(self, cursor):
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return sorted(row[0] for row in cursor.fetchall())

    def schema(self, cursor):
        found = []
        for query in (
            # Names and kinds, not the WHEN clauses' text: PostgreSQL prints a condition
            # read back from a dump with other casts (the same test).
            "SELECT c.relname, t.tgname, t.tgtype, t.tgenabled, t.tgfoid::regproc::text "
            "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal",
            "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
            "SELECT conrelid::regclass::text, conname, contype, confrelid::regclass::text "
            "FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
            # Where each sequence is: a row added after a restore must get a new id.
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'",
        ):
            cursor.execute(query)
            found.append(sorted(cursor.fetchall(), key=repr))
        return found


def contents(server, name):
    """Every row of every table (sorted), and the schema: triggers, indexes, sequences."""
    with server.cursor(name) as cursor:
        rows = {}
        for table in server.tables(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            rows[table] = sorted(cursor.fetchall(), key=repr)
        return {"rows": rows, "schema": server.schema(cursor)}


def query(server, name, sql, *params):
    with server.cursor(name) as cursor:
        cursor.execute(sql.replace("?", "%s") if ON_POSTGRES else sql, params)
        return cursor.fetchall()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if ON_POSTGRES:
        found = PostgresServer(connection.settings_dict)
    else:
        found = SqliteServer(tmp_path_factory.mktemp("databases"))
    yield found
    found.drop_all()


@pytest.fixture(scope="module")
def migrated(server):
    """A database with every migration applied and no programme data."""
    name = server.create()
    succeeded(manage(server.url(name), "migrate", "--verbosity", "0"))
    return name


@dataclasses.dataclass
class Source:
    name: str
    contents: dict
    plain: Path
    encrypted: Path


@pytest.fixture(scope="module")
def source(server, migrated, tmp_path_factory):
    """A database with programme data, its contents, and two backups of it. Not changed."""
    name = server.create(template=migrated)
    url = server.url(name)
    folder = tmp_path_factory.mktemp("backups")
    plain, encrypted = folder / "plain.sosbackup", folder / "encrypted.sosbackup"
    backups = MAKE_BACKUPS.format(plain=str(plain), encrypted=str(encrypted), key=KEY)
    out = succeeded(manage(url, "shell", "--no-imports", "-c", SOURCE_DATA + backups))
    assert f"Backup written to {plain}: " in out
    assert "not encrypted (SOS_BACKUP_KEY unset)." in out
    assert f"Backup written to {encrypted}: " in out
    assert ", encrypted." in out
    return Source(name, contents(server, name), plain, encrypted)


@pytest.fixture
def empty(server, migrated):
    """A migrated database with no programme data, to restore into."""
    return server.create(template=migrated)


def payload_of(path, secret=None):
    """The header and payload of a backup file, read with the module's own reader."""
    with open(path, "rb") as stream:
        header, header_bytes = backup.Header.read(stream, path)
        key = backup._derive(secret, bytes.fromhex(header.salt)) if header.encrypted else None
        out = io.BytesIO()
        backup._read_payload(stream, out, header, header_bytes, key, path)
    return header, out.getvalue()


# Round trips -------------------------------------------------------------------------------


def test_the_source_covers_history_access_log_and_summaries(source):
    """The data the round trips compare holds rows in the tables a restore must bring back."""
    rows = source.contents["rows"]
    for table in (
        "auth_user",
        "django_admin_log",
        "django_migrations",
        "mentoring_accesslog",
        "mentoring_boroughversion",
        "mentoring_client",
        "mentoring_historicalclient",
        "mentoring_historicalsupportsession",
        "mentoring_offence",
        "mentoring_sessionareaday",
        "mentoring_sessionday",
        "mentoring_supportarea",
        "mentoring_supportsession",
    ):
        assert rows[table], f"{table} is empty in the source"
    assert len(rows["mentoring_historicalclient"]) >= 3  # two clients created, one changed
    header, _ = payload_of(source.plain)
    assert header.engine == connection.vendor
    assert not header.encrypted
    expected = {t: len(r) for t, r in rows.items() if not t.startswith("sqlite_")}
    assert header.tables == expected


@pytest.mark.parametrize(
    "which,into",
    [("plain", "a migrated empty database"), ("encrypted", "a database with no tables")],
)
def test_a_restore_brings_back_every_row_and_the_schema_and_triggers_work(
    server, source, migrated, which, into
):
    """
    Every table's rows (the change history, the access log and the summaries included),
    the triggers, indexes and sequences come back as they were at the backup; the checks
    all pass; and a session logged afterwards updates its summary row, as on the source.
    """
    target = server.create(template=migrated if into.startswith("a migrated") else None)
    path = getattr(source, which)
    key = KEY if which == "encrypted" else None
    out = succeeded(manage(server.url(target), "restore", str(path), key=key))
    tables = len(source.contents["rows"]) - (0 if ON_POSTGRES else 1)  # not sqlite_sequence
    rows = sum(len(r) for t, r in source.contents["rows"].items() if not t.startswith("sqlite_"))
    for line in (
        f"Restored {path} (backup of ",
        f"Row counts match the backup: {tables} tables, {rows:,} rows.",
        "No migration left to apply.",
        "Session summaries match the sessions.",
        "Retention applied again: 0 client record(s) past the retention period anonymised.",
        "Restore complete.",
    ):
        assert line in out
    assert contents(server, target) == source.contents

    logged = succeeded(manage(server.url(target), "shell", "--no-imports", "-c", LOG_A_SESSION))
    assert printed(logged) == {"before": [[1, 60]], "after": [[2, 105]], "differences": 0}


def test_a_database_with_programme_data_is_refused_unchanged_and_replaced_with_force(
    server, source
):
    """
    Without --force, a database holding boroughs, clients, mentors or users is refused,
    the message naming them, and nothing changes; with --force it becomes the backup, and
    nothing of it before (a changed row, a table the backup does not have) survives.
    """
    target = server.create(template=source.name)
    with server.cursor(target) as cursor:
        cursor.execute("UPDATE mentoring_borough SET name = 'Changed since the backup'")
        cursor.execute("CREATE TABLE stray_table (x integer)")
    before = contents(server, target)
    url = server.url(target)

    message = refused(manage(url, "restore", str(source.plain)))
    rows = source.contents["rows"]
    held = ", ".join(f"{table} ({len(rows[table])} rows)" for table in backup.PROGRAMME_TABLES)
    assert message == (
        f"The database is not empty: it holds {held}. Restore into an empty database, or "
        "add --force to replace all of it with the backup."
    )
    assert contents(server, target) == before

    assert "Restore complete." in succeeded(manage(url, "restore", str(source.plain), "--force"))
    assert contents(server, target) == source.contents


def test_damaged_files_and_wrong_keys_are_refused_and_nothing_changes(
    server, source, empty, tmp_path
):
    """
    A truncated file (in the header, inside a chunk, before the digest), a flipped byte
    (the digest, or an encrypted chunk's check, finds it), a file that is no backup, an
    encrypted backup without its key or with another: each refused with a message saying
    which, and the database is as it was. (Every position: the in-process tests below.)
    """
    plain, encrypted = source.plain.read_bytes(), source.encrypted.read_bytes()
    middle = len(plain) // 2

    def flipped(data, at):
        return data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1 :]

    files = {
        "cut in the header": plain[:40],
        "cut inside a chunk": plain[:middle],
        "cut before the digest": plain[:-10],
        "a flipped byte": flipped(plain, middle),
        "a flipped byte, encrypted": flipped(encrypted, len(encrypted) // 2),
        "not a backup": b"PGDMP\x01\x0e\x00 a dump without the backup's header",
    }
    for label, data in files.items():
        (tmp_path / label).write_bytes(data)
    cases = {
        label: (str(tmp_path / label), KEY if "encrypted" in label else None) for label in files
    }
    cases["no key"] = (str(source.encrypted), None)
    cases["wrong key"] = (str(source.encrypted), KEY + "!")
    chunks = r"\d+"
    expected = {
        "cut in the header": "{} is truncated: it ends inside its header.",
        "cut inside a chunk": f"{{}} is truncated: it ends inside chunk {chunks}.",
        "cut before the digest": "{} is damaged or truncated: its data does not match its digest.",
        "a flipped byte": "{} is damaged or truncated: its data does not match its digest.",
        "a flipped byte, encrypted": f"{{}} is damaged: chunk {chunks} fails its check.",
        "not a backup": "{} is not an SOS backup (its first bytes are not ours).",
        "no key": "{} is encrypted: set SOS_BACKUP_KEY to its key.",
        "wrong key": "SOS_BACKUP_KEY is not the key {} was encrypted with.",
    }
    before = contents(server, empty)
    script = RESTORE_EACH.format(cases=json.dumps(cases))
    messages = printed(succeeded(manage(server.url(empty), "shell", "--no-imports", "-c", script)))
    assert messages.keys() == expected.keys()
    for label, message in messages.items():
        pattern = re.escape(expected[label]).replace(re.escape(chunks), chunks)
        pattern = pattern.replace(r"\{\}", re.escape(cases[label][0]))
        assert re.fullmatch(pattern, message), (label, message)
    assert contents(server, empty) == before


def test_a_record_anonymised_after_the_backup_stays_anonymised_after_a_restore(
    server, source, empty, tmp_path
):
    """
    A client due for retention when the backup was made, anonymised since: the restore
    applies retention again, so their name, contact details and session notes do not come
    back, in the record or its history.
    """
    live = server.create(template=source.name)
    url = server.url(live)
    path = tmp_path / "before-retention.sosbackup"
    script = DUE_CLIENT + (
        f"call_command('backup', {str(path)!r})\ncall_command('apply_retention')\n"
    )
    out = succeeded(manage(url, "shell", "--no-imports", "-c", script))
    assert f"Backup written to {path}" in out
    assert "DUE-00001" in out.split("Backup written to", 1)[1]  # anonymised after the backup

    out = succeeded(manage(server.url(empty), "restore", str(path)))
    assert (
        "Retention applied again: 1 client record(s) past the retention period anonymised." in out
    )
    client_sql = (
        "SELECT id, first_name, last_name, phone, address, date_of_birth, anonymised_on "
        "FROM mentoring_client WHERE reference = ?"
    )
    [restored] = query(server, empty, client_sql, "DUE-00001")
    [anonymised] = query(server, live, client_sql, "DUE-00001")
    assert restored[1:6] == (ANONYMISED, "", "", "", None)
    assert restored[1:] == anonymised[1:]
    history = query(
        server,
        empty,
        "SELECT first_name, last_name, phone FROM mentoring_historicalclient WHERE id = ?",
        restored[0],
    )
    assert len(history) >= 2 and set(history) == {(ANONYMISED, "", "")}
    for table in ("mentoring_supportsession", "mentoring_historicalsupportsession"):
        notes = query(server, empty, f"SELECT notes FROM {table} WHERE client_id = ?", restored[0])
        assert notes and set(notes) == {("",)}, table


# Making a backup ---------------------------------------------------------------------------


def test_a_backup_inside_the_project_folder_needs_inside_project(server, source):
    """Refused by default (it would be committed or deployed with the code), kept with it."""
    path = PROJECT_ROOT / f".test-backup-{uuid.uuid4().hex[:8]}.sosbackup"
    with pytest.raises(CommandError, match="is inside the project folder: write backups"):
        call_command("backup", str(path))
    assert not path.exists()
    try:
        out = succeeded(manage(server.url(source.name), "backup", str(path), "--inside-project"))
        assert out.startswith(f"Backup written to {path}: ")
        assert payload_of(path)[0].tables == payload_of(source.plain)[0].tables
    finally:
        path.unlink(missing_ok=True)


def test_a_backup_into_a_missing_folder_or_onto_a_folder_is_refused(tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("backup", str(tmp_path / "missing" / "db.sosbackup"))
    assert str(refused.value) == f"{tmp_path / 'missing'} does not exist: create it first."
    with pytest.raises(CommandError) as refused:
        call_command("backup", str(tmp_path))
    assert str(refused.value) == f"{tmp_path} is a folder: give the backup file's name."
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_dump and pg_restore are PostgreSQL's")
def test_without_the_postgresql_tools_nothing_is_written_or_restored(
    server, source, empty, tmp_path
):
    """
    pg_dump missing: the backup says what to install and writes no file; pg_restore
    missing: the restore says so and the database is unchanged.
    """
    folder, no_tools = tmp_path / "out", tmp_path / "bin"
    folder.mkdir()
    no_tools.mkdir()
    made = manage(server.url(source.name), "backup", str(folder / "db.sosbackup"), path=no_tools)
    assert refused(made).startswith("pg_dump is not on PATH: install the PostgreSQL client tools")
    assert list(folder.iterdir()) == []
    before = contents(server, empty)
    restored = manage(server.url(empty), "restore", str(source.plain), path=no_tools)
    assert refused(restored).startswith("pg_restore is not on PATH")
    assert contents(server, empty) == before


@contextmanager
def backup_made_of(payload, tables, kind):
    """``backup.backup`` with the database's copy replaced by ``payload``."""
    handle, name = tempfile.mkstemp(prefix="sos-test-payload-")
    os.close(handle)
    fake = Path(name)
    fake.write_bytes(payload)

    @contextmanager
    def made(work):
        yield fake, tables

    try:
        with (
            mock.patch.object(backup, "engine", return_value=kind),
            mock.patch.object(backup, "_sqlite_copy", made),
            mock.patch.object(backup, "_postgresql_dump", made),
        ):
            yield
    finally:
        fake.unlink()


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_restore's failure is PostgreSQL's")
def test_a_dump_pg_restore_cannot_read_changes_nothing_even_with_force(server, source, tmp_path):
    """
    A backup whose dump pg_restore cannot read (here: the archive says it was written by a
    newer pg_dump, as when the backup is restored with older client tools) is refused with
    --force as without it, and the database is left as it was, as the message says.
    """
    header, dump = payload_of(source.plain)
    assert dump[:5] == b"PGDMP"
    newer = dump[:6] + bytes([99]) + dump[7:]  # archive version 1.99
    path = tmp_path / "newer.sosbackup"
    with backup_made_of(newer, header.tables, "postgresql"):
        backup.backup(path)
    target = server.create(template=source.name)

    message = refused(manage(server.url(target), "restore", str(path), "--force"))
    assert message.startswith("Restoring into PostgreSQL failed and nothing was changed: ")
    assert contents(server, target) == source.contents
    assert "unsupported version (1.99)" in message  # the cause, not psql's notices


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite payload's check is SQLite's")
def test_a_payload_that_is_not_an_sqlite_database_is_refused_cleanly(server, source, tmp_path):
    """
    A backup whose data is not an SQLite database (whole, with a matching digest: a file
    made by something else, or a bug) is refused with a message, not a traceback, and the
    database is left as it was.
    """
    header, _ = payload_of(source.plain)
    path = tmp_path / "not-sqlite.sosbackup"
    with backup_made_of(b"not an SQLite database " * 100, header.tables, "sqlite"):
        backup.backup(path)
    target = server.create(template=source.name)

    message = refused(manage(server.url(target), "restore", str(path), "--force"))
    assert "SQLite" in message
    assert contents(server, target) == source.contents


# The file format, in-process ---------------------------------------------------------------


@dataclasses.dataclass
class Fake:
    """backup() and restore() with the database work replaced: payloads in, payloads out."""

    folder: Path
    written: list

    def write(self, payload, secret=None, name="backup.sosbackup"):
        path = self.folder / name
        with backup_made_of(payload, {"mentoring_client": 3, "auth_user": 1}, "sqlite"):
            backup.backup(path, secret)
        return path

    def restore(self, path, secret=None):
        """The payload restore() would have written to the database."""
        self.written.clear()
        backup.restore(path, secret)
        [payload] = self.written
        return payload


@pytest.fixture
def fake(monkeypatch, tmp_path):
    monkeypatch.setattr(backup, "CHUNK", 64)
    monkeypatch.setattr(backup, "SCRYPT", {"n": 2**4, "r": 8, "p": 1})
    monkeypatch.setattr(backup, "engine", lambda: "sqlite")
    monkeypatch.setattr(backup, "programme_rows", dict)
    written = []
    monkeypatch.setattr(backup, "_restore_sqlite", lambda path: written.append(path.read_bytes()))
    return Fake(tmp_path, written)


PAYLOAD = b"Jordan Client1, 07700 900123, 12 Secret Road. " * 4  # 188 bytes: 3 chunks of 64


def layout(path):
    """(end of the header, start of the digest) in the file at ``path``."""
    data = path.read_bytes()
    (size,) = struct.unpack(">I", data[len(backup.MAGIC) : len(backup.MAGIC) + 4])
    return len(backup.MAGIC) + 4 + size, len(data) - 32


@pytest.mark.parametrize("secret", [None, KEY])
@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 128, len(PAYLOAD)])
def test_any_payload_comes_back_whole(fake, secret, size):
    payload = (PAYLOAD * 2)[:size]
    assert fake.restore(fake.write(payload, secret), secret) == payload


def test_encrypted_files_do_not_hold_the_data_and_need_their_key(fake):
    plain, encrypted = fake.write(PAYLOAD), fake.write(PAYLOAD, KEY, "encrypted.sosbackup")
    assert b"12 Secret Road" in plain.read_bytes()
    assert b"12 Secret Road" not in encrypted.read_bytes()
    assert b"Secret" not in encrypted.read_bytes()
    with pytest.raises(backup.BackupError, match="is encrypted: set SOS_BACKUP_KEY"):
        fake.restore(encrypted)
    with pytest.raises(backup.BackupError, match="SOS_BACKUP_KEY is not the key"):
        fake.restore(encrypted, KEY.upper())
    # The same data under the same key is not the same file (fresh salt and nonce).
    again = fake.write(PAYLOAD, KEY, "again.sosbackup")
    assert again.read_bytes() != encrypted.read_bytes()
    assert fake.restore(again, KEY) == PAYLOAD


@pytest.mark.parametrize("secret", [None, KEY])
def test_a_file_cut_anywhere_is_refused_as_truncated(fake, secret):
    path = fake.write(PAYLOAD, secret)
    data = path.read_bytes()
    header_end, digest_start = layout(path)
    cut = fake.folder / "cut.sosbackup"
    for length in range(len(data)):
        cut.write_bytes(data[:length])
        with pytest.raises(backup.BackupError) as refused:
            fake.restore(cut, secret)
        if length < len(backup.MAGIC):
            expected = "is not an SOS backup"
        elif length < header_end:
            expected = "is truncated: it ends inside its header."
        elif length < digest_start:
            expected = "is truncated: it ends"
        else:
            expected = "is damaged or truncated: its data does not match its digest."
        assert expected in str(refused.value), (length, str(refused.value))
        assert fake.written == []


@pytest.mark.parametrize("secret", [None, KEY])
def test_data_after_the_end_is_refused(fake, secret):
    path = fake.write(PAYLOAD, secret)
    path.write_bytes(path.read_bytes() + b"\n")
    with pytest.raises(backup.BackupError, match=r"is damaged: there is data after its end\."):
        fake.restore(path, secret)
    assert fake.written == []


def flip_each_byte(data, positions):
    for at in positions:
        for bit in (0x01, 0x80):
            yield at, data[:at] + bytes([data[at] ^ bit]) + data[at + 1 :]


@pytest.mark.parametrize("secret", [None, KEY])
def test_a_flipped_bit_in_the_data_or_its_framing_is_refused(fake, secret):
    path = fake.write(PAYLOAD, secret)
    data = path.read_bytes()
    header_end, _ = layout(path)
    # A chunk's "last" flag is a byte read as a bool: 0x01 and 0x81 say the same.
    flags, at = set(), header_end
    for head, chunk in chunks_of(path)[1]:
        flags.add(at + 4)
        at += len(head) + len(chunk)
    damaged = fake.folder / "damaged.sosbackup"
    for at, changed in flip_each_byte(data, range(header_end, len(data))):
        if at in flags and data[at] and changed[at]:
            continue
        damaged.write_bytes(changed)
        with pytest.raises(backup.BackupError):
            fake.restore(damaged, secret)
        assert fake.written == [], at


def header_flips_not_refused(fake, secret):
    """
    [(position, the byte, what happened)] for each flipped bit of the header that is not
    refused with a BackupError: the exception raised instead, or "restored".
    """
    path = fake.write(PAYLOAD, secret)
    data = path.read_bytes()
    header_end, _ = layout(path)
    damaged = fake.folder / "damaged.sosbackup"
    found = []
    for at, changed in flip_each_byte(data, range(header_end)):
        damaged.write_bytes(changed)
        try:
            fake.restore(damaged, secret)
        except backup.BackupError:
            continue
        except Exception as error:  # anything else is what the test reports
            found.append((at, data[at : at + 1], repr(error)))
        else:
            found.append((at, data[at : at + 1], "restored"))
    return found


def test_a_flipped_bit_in_an_encrypted_files_header_is_refused_with_a_message(fake):
    """
    The header is bound into every encrypted chunk, so any change to it is refused, and
    with a message (a BackupError), whichever field it falls in.
    """
    assert header_flips_not_refused(fake, KEY) == []


def test_a_flipped_bit_in_an_unencrypted_files_header_is_refused(fake):
    """
    "A truncated or damaged file is refused" (mentoring/backup.py): a change to the header
    too, before the database is replaced. The header holds the row counts the restore is
    checked against, and which tables there are.
    """
    assert header_flips_not_refused(fake, None) == []


def chunks_of(path):
    """(header bytes, [(size and last flag, chunk)], digest) of the file at ``path``."""
    data = path.read_bytes()
    header_end, digest_start = layout(path)
    found, at = [], header_end
    while at < digest_start:
        size, _ = struct.unpack(">I?", data[at : at + 5])
        found.append((data[at : at + 5], data[at + 5 : at + 5 + size]))
        at += 5 + size
    return data[:header_end], found, data[digest_start:]


@pytest.mark.parametrize("secret", [None, KEY])
def test_chunks_reordered_or_dropped_are_refused(fake, secret):
    path = fake.write(PAYLOAD, secret)
    header, found, digest = chunks_of(path)
    assert len(found) == 3
    first, second, last = (b"".join(chunk) for chunk in found)
    changed = fake.folder / "changed.sosbackup"
    for body in (second + first + last, first + last, first + first + last):
        changed.write_bytes(header + body + digest)
        with pytest.raises(backup.BackupError):
            fake.restore(changed, secret)
    assert fake.written == []


def test_a_chunk_from_another_backup_with_the_same_key_is_refused(fake):
    one = fake.write(PAYLOAD, KEY, "one.sosbackup")
    other = fake.write(PAYLOAD, KEY, "other.sosbackup")
    header, found, digest = chunks_of(one)
    _, found_other, _ = chunks_of(other)
    spliced = fake.folder / "spliced.sosbackup"
    spliced.write_bytes(header + b"".join(found[0] + found_other[1] + found[2]) + digest)
    with pytest.raises(backup.BackupError, match="chunk 2 fails its check"):
        fake.restore(spliced, KEY)


def rewritten_header(path, change):
    """The file at ``path`` with its header's JSON replaced by ``change(json)``."""
    data = path.read_bytes()
    header_end, _ = layout(path)
    body = change(json.loads(data[len(backup.MAGIC) + 4 : header_end]))
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    path.write_bytes(backup.MAGIC + struct.pack(">I", len(raw)) + raw + data[header_end:])
    return path


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda h: {**h, "engine": "postgresql"}, "is a postgresql backup and the configured"),
        (lambda h: {**h, "version": 2}, "was written by a newer SOS (backup format 2)"),
        (lambda h: {**h, "format": "other"}, "has a damaged header"),
        (lambda h: {k: v for k, v in h.items() if k != "tables"}, "has a damaged header"),
        (lambda h: {**h, "extra": 1}, "has a damaged header"),
        (lambda h: b"{not json", "has a damaged header"),
        (lambda h: b"\xff\xfe", "has a damaged header"),
        (lambda h: [h], "has a damaged header"),
    ],
    ids=["other engine", "newer", "format", "no tables", "extra", "not json", "bytes", "list"],
)
def test_a_header_that_is_not_this_kind_of_backup_is_refused(fake, change, message):
    path = rewritten_header(fake.write(PAYLOAD), change)
    with pytest.raises(backup.BackupError, match=re.escape(message)):
        fake.restore(path)
    assert fake.written == []


def test_a_failed_write_leaves_the_previous_backup_and_no_partial_file(fake, monkeypatch):
    """A full disk part way: the file under the final name is still yesterday's, whole."""
    path = fake.write(PAYLOAD, name="daily.sosbackup")
    yesterday = path.read_bytes()
    real = backup._write_payload

    def full_disk(source, out, *args):
        real(source, out, *args)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup, "_write_payload", full_disk)
    with pytest.raises(backup.BackupError) as refused:
        fake.write(PAYLOAD + b"more", name="daily.sosbackup")
    assert str(refused.value) == f"Cannot write {path}: No space left on device."
    assert [p.name for p in fake.folder.iterdir()] == ["daily.sosbackup"]
    assert path.read_bytes() == yesterday
    assert fake.restore(path) == PAYLOAD


def test_restore_of_a_folder_or_a_missing_file_is_refused(fake):
    with pytest.raises(backup.BackupError, match=r"Cannot read .*: Is a directory"):
        fake.restore(fake.folder)
    with pytest.raises(backup.BackupError, match=r"Cannot read .*: No such file or directory"):
        fake.restore(fake.folder / "missing.sosbackup")


def test_a_backup_file_records_when_and_how_it_was_made(fake):
    header = backup.read_header(fake.write(PAYLOAD, KEY))
    assert header.engine == "sqlite"
    assert header.encrypted
    assert header.tables == {"mentoring_client": 3, "auth_user": 1}
    made = datetime.datetime.fromisoformat(header.created_at)
    assert abs(made - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=1)
