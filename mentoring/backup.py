"""
Backups of the configured database, and restoring one: ``manage.py backup`` and
``manage.py restore``.

A backup is one file: a header (what database engine, when, every table's row count at
the moment of the backup, and how the payload is protected), then the payload in chunks,
then a SHA-256 of the payload so that a truncated or damaged file is refused. The payload
is what the database's own tools make: ``pg_dump --format=custom`` for PostgreSQL, taken
in the same snapshot as the row counts; SQLite's online backup API for SQLite. With
``SOS_BACKUP_KEY`` set each chunk is encrypted with AES-256-GCM (the ``cryptography``
package), under a key derived from it with scrypt; the header and the chunk's place are
bound into every chunk, so chunks cannot be reordered, dropped or swapped between files.

Operations and the reasons: docs/operations.md ("Backups").
"""

import hashlib
import hmac
import json
import os
import secrets
import shutil
import sqlite3
import struct
import subprocess
import tempfile
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

MAGIC = b"SOS-BACKUP\n"
VERSION = 1
CHUNK = 1 << 20  # 1 MiB of payload per chunk
KEY_ENV = "SOS_BACKUP_KEY"
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
KEY_CHECK = b"SOS backup key check"
# Tables whose rows say a database holds the programme's data: restore refuses to
# overwrite them unless told to.
PROGRAMME_TABLES = ("mentoring_borough", "mentoring_client", "mentoring_mentor", "auth_user")


class BackupError(Exception):
    """A backup or a restore could not be done; the message says why, for a person."""


@dataclass
class Header:
    engine: str
    created_at: str
    tables: dict
    encrypted: bool
    salt: str = ""
    nonce: str = ""
    key_check: str = ""

    def as_bytes(self):
        data = {"format": "sos-backup", "version": VERSION, **self.__dict__}
        return json.dumps(data, sort_keys=True).encode()

    @classmethod
    def read(cls, stream, name):
        if stream.read(len(MAGIC)) != MAGIC:
            raise BackupError(f"{name} is not an SOS backup (its first bytes are not ours).")
        raw = stream.read(4)
        if len(raw) < 4:
            raise BackupError(f"{name} is truncated: it ends inside its header.")
        (size,) = struct.unpack(">I", raw)
        body = stream.read(size)
        if len(body) < size:
            raise BackupError(f"{name} is truncated: it ends inside its header.")
        try:
            data = json.loads(body)
            if data.pop("format") != "sos-backup":
                raise ValueError
            version = data.pop("version")
        except (ValueError, KeyError, TypeError):
            raise BackupError(f"{name} has a damaged header.") from None
        if version > VERSION:
            raise BackupError(
                f"{name} was written by a newer SOS (backup format {version}): restore it "
                "with that version."
            )
        try:
            header = cls(**data)
            bytes.fromhex(header.salt), bytes.fromhex(header.nonce)
            if not isinstance(header.tables, dict) or not all(
                isinstance(n, int) for n in header.tables.values()
            ):
                raise ValueError
        except (TypeError, ValueError):
            raise BackupError(f"{name} has a damaged header.") from None
        return header, body


# Keys ----------------------------------------------------------------------------------------


def passphrase():
    """``SOS_BACKUP_KEY``, or None when backups are not to be encrypted."""
    value = os.environ.get(KEY_ENV, "")
    return value or None


def _derive(secret, salt):
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, **SCRYPT).derive(secret.encode())


def _key_check(key):
    return hmac.new(key, KEY_CHECK, hashlib.sha256).hexdigest()


# The file: header, chunks, digest -----------------------------------------------------------


def _aad(header_bytes, index, last):
    return hashlib.sha256(header_bytes).digest() + struct.pack(">Q?", index, last)


def _write_payload(source, out, header, header_bytes, key):
    """Copy ``source`` (a binary file) into ``out`` as chunks, then the digest."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    cipher = AESGCM(key) if key else None
    nonce = bytes.fromhex(header.nonce) if key else b""
    # The digest covers the header too: an unencrypted header has no other check.
    digest = hashlib.sha256(header_bytes)
    index = 0
    chunk = source.read(CHUNK)
    while True:
        following = source.read(CHUNK) if chunk else b""
        last = not following
        digest.update(chunk)
        data = chunk
        if cipher:
            data = cipher.encrypt(
                nonce + struct.pack(">I", index), chunk, _aad(header_bytes, index, last)
            )
        out.write(struct.pack(">IB", len(data), last))
        out.write(data)
        index += 1
        if last:
            break
        chunk = following
    out.write(digest.digest())


def _read_payload(stream, out, header, header_bytes, key, name):
    """The payload of a backup into ``out``, checked chunk by chunk and whole."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    cipher = AESGCM(key) if key else None
    nonce = bytes.fromhex(header.nonce) if key else b""
    digest = hashlib.sha256(header_bytes)
    index = 0
    while True:
        head = stream.read(5)
        if len(head) < 5:
            raise BackupError(f"{name} is truncated: it ends after {index} chunk(s) of its data.")
        size, flag = struct.unpack(">IB", head)
        if flag > 1:
            raise BackupError(f"{name} is damaged: chunk {index + 1} has a bad mark.")
        last = bool(flag)
        data = stream.read(size)
        if len(data) < size:
            raise BackupError(f"{name} is truncated: it ends inside chunk {index + 1}.")
        if cipher:
            try:
                data = cipher.decrypt(
                    nonce + struct.pack(">I", index), data, _aad(header_bytes, index, last)
                )
            except InvalidTag:
                raise BackupError(
                    f"{name} is damaged: chunk {index + 1} fails its check."
                ) from None
        digest.update(data)
        out.write(data)
        index += 1
        if last:
            break
    if stream.read(32) != digest.digest():
        raise BackupError(f"{name} is damaged or truncated: its data does not match its digest.")
    if stream.read(1):
        raise BackupError(f"{name} is damaged: there is data after its end.")


# The database ------------------------------------------------------------------------------


def engine():
    """``"postgresql"`` or ``"sqlite"``: the configured database's kind."""
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise BackupError(f"Backups are made of PostgreSQL or SQLite, not {vendor}.")
    return vendor


def _tables(cursor=None):
    """Every table of the database (Django's, the history, the summaries, the sign-in logs)."""
    names = connection.introspection.table_names(cursor)
    return sorted(name for name in names if not name.startswith("sqlite_"))


def _count(cursor, table):
    cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
    return cursor.fetchone()[0]


def row_counts():
    """{table: rows} of the configured database."""
    with connection.cursor() as cursor:
        return {table: _count(cursor, table) for table in _tables(cursor)}


def _conninfo():
    """libpq connection settings for pg_dump and pg_restore, the password in the env."""
    db = settings.DATABASES["default"]
    args = ["--dbname", db["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _tool(name):
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client tools (Debian: "
            "apt-get install postgresql-client), of the server's major version or newer."
        )
    return path


def _run(command, env, what):
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(
            f"{what} failed: " + (" / ".join(detail[-3:]) or f"exit {result.returncode}")
        )


@contextmanager
def _postgresql_dump(work):
    """(payload file, counts): pg_dump and the row counts, both in one snapshot."""
    dump = work / "database.dump"
    args, env = _conninfo()
    pg_dump = _tool("pg_dump")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        counts = {table: _count(cursor, table) for table in _tables(cursor)}
        _run(
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                "--file",
                str(dump),
                *args,
            ],
            env,
            "pg_dump",
        )
    yield dump, counts


@contextmanager
def _sqlite_copy(work):
    """(payload file, counts): SQLite's online backup into a file, counted there."""
    copy = work / "database.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(copy)
    try:
        connection.connection.backup(target)
        cursor = target.cursor()
        names = [
            row[0]
            for row in cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {
            name: cursor.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
            for name in sorted(names)
        }
    finally:
        target.close()
    yield copy, counts


# Backup ------------------------------------------------------------------------------------


@dataclass
class Written:
    path: Path
    size: int
    tables: dict
    encrypted: bool


def inside_project(path):
    """Whether ``path`` is inside the project folder (where the code is deployed from)."""
    try:
        Path(path).resolve().relative_to(settings.BASE_DIR.resolve())
    except ValueError:
        return False
    return True


def backup(path, secret=None):
    """
    Write a backup of the configured database to ``path``: to a hidden file beside it
    first, renamed into place only when complete, so that a failure (a full disk, a
    missing tool) leaves no half-written file under the final name.
    """
    path = Path(path)
    kind = engine()
    if path.is_dir():
        raise BackupError(f"{path} is a folder: give the backup file's name.")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} does not exist: create it first.")
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    with tempfile.TemporaryDirectory(prefix="sos-backup-") as scratch:
        make = _postgresql_dump if kind == "postgresql" else _sqlite_copy
        try:
            with make(Path(scratch)) as (payload, counts):
                header = Header(
                    engine=kind,
                    created_at=timezone.now().isoformat(timespec="seconds"),
                    tables=counts,
                    encrypted=secret is not None,
                )
                key = None
                if secret is not None:
                    salt = secrets.token_bytes(16)
                    key = _derive(secret, salt)
                    header.salt, header.nonce = salt.hex(), secrets.token_bytes(8).hex()
                    header.key_check = _key_check(key)
                header_bytes = header.as_bytes()
                with open(partial, "wb") as out, open(payload, "rb") as source:
                    out.write(MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes)
                    _write_payload(source, out, header, header_bytes, key)
                    out.flush()
                    os.fsync(out.fileno())
            os.replace(partial, path)
        except OSError as error:
            raise BackupError(f"Cannot write {path}: {error.strerror or error}.") from None
        finally:
            with suppress(FileNotFoundError):
                partial.unlink()
    return Written(path, path.stat().st_size, counts, secret is not None)


# Restore -----------------------------------------------------------------------------------


def programme_rows():
    """{table: rows} of the programme's tables that hold rows in the configured database."""
    present = set(_tables())
    with connection.cursor() as cursor:
        counts = {t: _count(cursor, t) for t in PROGRAMME_TABLES if t in present}
    return {table: n for table, n in counts.items() if n}


def read_header(path):
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            return Header.read(stream, path)[0]
    except OSError as error:
        raise BackupError(f"Cannot read {path}: {error.strerror or error}.") from None


def restore(path, secret=None, *, force=False):
    """
    Restore the backup at ``path`` into the configured database; refuses one that holds
    programme data unless ``force``. Returns the header (what the backup held). Checking
    the result is ``check_restored``.
    """
    path = Path(path)
    kind = engine()
    try:
        stream = open(path, "rb")  # noqa: SIM115 (closed by the with below)
    except OSError as error:
        raise BackupError(f"Cannot read {path}: {error.strerror or error}.") from None
    with stream, tempfile.TemporaryDirectory(prefix="sos-restore-") as scratch:
        header, header_bytes = Header.read(stream, path)
        if header.engine != kind:
            raise BackupError(
                f"{path} is a {header.engine} backup and the configured database is "
                f"{kind}: restore it into a {header.engine} database."
            )
        key = None
        if header.encrypted:
            if secret is None:
                raise BackupError(f"{path} is encrypted: set {KEY_ENV} to its key.")
            key = _derive(secret, bytes.fromhex(header.salt))
            if not hmac.compare_digest(_key_check(key), header.key_check):
                raise BackupError(f"{KEY_ENV} is not the key {path} was encrypted with.")
        held = programme_rows()
        if held and not force:
            listed = ", ".join(f"{table} ({n} rows)" for table, n in held.items())
            raise BackupError(
                f"The database is not empty: it holds {listed}. Restore into an empty "
                "database, or add --force to replace all of it with the backup."
            )
        payload = Path(scratch) / "payload"
        with open(payload, "wb") as out:
            _read_payload(stream, out, header, header_bytes, key, path)
        if kind == "postgresql":
            _restore_postgresql(payload)
        else:
            _restore_sqlite(payload)
    return header


# Every table and function of the schema dropped first, so that nothing of the database
# before (a table the backup does not have) survives beside the restored data.
DROP_EVERYTHING = """
DO $$ DECLARE t record; BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', t.tablename);
  END LOOP;
  FOR t IN SELECT p.oid::regprocedure AS f FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = current_schema() LOOP
    EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', t.f);
  END LOOP;
END $$;
"""


def _restore_postgresql(payload):
    """
    The dump as SQL (pg_restore) into psql after DROP_EVERYTHING, in one transaction that
    is committed only once pg_restore has read the whole dump without an error: psql rolls
    back what it has not been told to commit, so a restore that fails leaves the database
    as it was.
    """
    args, env = _conninfo()
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    connection.close()
    # Only warnings and errors from the server: DROP ... CASCADE's notices would bury them.
    env = {**env, "PGOPTIONS": f"{env.get('PGOPTIONS', '')} -c client_min_messages=warning"}
    with tempfile.TemporaryFile() as dump_errors, tempfile.TemporaryFile() as load_errors:
        sql = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--file", "-", str(payload)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=dump_errors,
        )
        load = subprocess.Popen(
            [psql, "--quiet", "--no-psqlrc", "--set", "ON_ERROR_STOP=1", "--file", "-", *args],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=load_errors,
        )
        try:
            load.stdin.write(b"BEGIN;\n" + DROP_EVERYTHING.encode())
            shutil.copyfileobj(sql.stdout, load.stdin, CHUNK)
            if sql.wait() == 0:
                load.stdin.write(b"\nCOMMIT;\n")
        except BrokenPipeError:
            pass  # psql stopped at an error: its message is in ``load_errors``
        finally:
            with suppress(BrokenPipeError):
                load.stdin.close()
            sql.stdout.close()
        dumped, loaded = sql.wait() == 0, load.wait() == 0
        for ok, errors in ((dumped, dump_errors), (loaded, load_errors)):
            if not ok:
                errors.seek(0)
                detail = errors.read().decode(errors="replace").strip().splitlines()
                raise BackupError(
                    "Restoring into PostgreSQL failed and nothing was changed: "
                    + (" / ".join(detail[-3:]) or "see the server's log")
                )
        if not loaded:
            raise BackupError("Restoring into PostgreSQL failed and nothing was changed.")


def _restore_sqlite(payload):
    source = sqlite3.connect(payload)
    try:
        try:
            healthy = source.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        except sqlite3.DatabaseError:
            healthy = False
        if not healthy:
            raise BackupError(
                "The backup's data is not a sound SQLite database: nothing was restored."
            )
        connection.ensure_connection()
        source.backup(connection.connection)
    finally:
        source.close()


def check_restored(header):
    """
    What is wrong with the restored database, as lines for a person ([] when nothing):
    every table's row count against the backup's.
    """
    counts = row_counts()
    problems = []
    for table, expected in sorted(header.tables.items()):
        found = counts.get(table)
        if found is None:
            problems.append(f"{table}: missing after the restore (the backup had {expected} rows)")
        elif found != expected:
            problems.append(f"{table}: {found} rows, the backup had {expected}")
    return problems
