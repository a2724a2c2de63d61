"""
Restore drill: a backup restored into an empty database is the database it was taken of,
table by table, and the app runs on it.

On SQLite always, and on PostgreSQL too when DATABASE_URL points at one:

1. a source database (SQLite: a file in a temporary folder; PostgreSQL: ``<name>_drill_src``
   on DATABASE_URL's server, ``<name>`` being DATABASE_URL's database): ``migrate``,
   ``seed_demo``, then ``apply_retention``, so that the restore's own retention pass has
   nothing left to do and the target must equal the source;
2. ``manage.py backup`` with ``SOS_BACKUP_KEY`` set to a key made for this run: the file
   must say it is encrypted and hold neither the database's own file format nor a client's
   reference in clear;
3. a fresh empty target (``<name>_drill_dst``) and ``manage.py restore`` into it;
4. every table of the source and the target compared: its row count and a SHA-256 of its
   rows read in a fixed order (ORDER BY every column); the schema too (columns, indexes,
   constraints, triggers, functions; definitions without their casts, which PostgreSQL
   prints differently once read back from a dump) and every sequence's position;
5. gunicorn on the restored database, as ``make fault`` runs it (SOS_DEV_MODE=1, DEBUG=0,
   collectstatic into the temporary folder): ``/health/``, signing in as the demo user
   ``coordinator`` through /accounts/login/ (two-factor sign-in is off in development
   mode), and the page of one of that coordinator's clients (200, its reference on it).

It prints each step's time, ``restore drill (sqlite): passed`` (and ``(postgresql)``), then
``restore drill: passed``; it exits 1 when a check failed, 2 when the drill could not be
set up (no PostgreSQL, no CREATEDB). The role of DATABASE_URL needs CREATEDB: the two
databases are created by it (so it owns them), dropped before the run if an interrupted
run left them, and dropped at the end. ``--keep`` keeps them and the temporary folder.

    .venv/bin/python bench/restore_drill.py [--only sqlite|postgresql] [--keep]
"""

import argparse
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from fault_pg_restart import (  # noqa: E402 (bench/ is not a package)
    Browser,
    children_of,
    free_port,
    start_app,
    stop_app,
    tail,
)

RESULT_PREFIX = "RESTORE_DRILL_RESULT:"
COORDINATOR = "coordinator"
MAX_IDENTIFIER = 63  # PostgreSQL's limit on a database name, in bytes
BACKUP_MAGIC = b"SOS-BACKUP\n"
# What an unencrypted payload would start with: an SQLite file, a pg_dump custom archive.
PLAIN_MARKERS = {"sqlite": b"SQLite format 3\x00", "postgresql": b"PGDMP"}


class Failure(Exception):
    """A check failed: the restored database or the app on it is not what it should be."""


class SetupError(Exception):
    """The drill could not be run (not a finding about backups)."""


# Django side: run in a subprocess with DATABASE_URL pointing at one database ---------------


def _canonical(value):
    if isinstance(value, memoryview | bytes | bytearray):
        return "b:" + bytes(value).hex()
    return repr(value)


def _rows_digest(cursor, table, quote):
    """(rows, SHA-256) of ``table``, its rows read ORDER BY every column."""
    cursor.execute(f"SELECT * FROM {quote(table)} LIMIT 0")
    width = len(cursor.description)
    order = ", ".join(str(n) for n in range(1, width + 1))
    cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY {order}")
    digest = hashlib.sha256()
    rows = 0
    while batch := cursor.fetchmany(5000):
        for row in batch:
            digest.update(("(" + ", ".join(_canonical(v) for v in row) + ")\n").encode())
        rows += len(batch)
    return rows, digest.hexdigest()


# PostgreSQL prints an expression read back from a dump with its casts in other places
# ("ANY ((ARRAY['A'::character varying])::text[])" becomes "ANY (ARRAY[('A'::character
# varying)::text])"): definitions are compared without casts and parentheses.
CAST = re.compile(
    r"::(?:character varying|timestamp with(?:out)? time zone|time with(?:out)? time zone"
    r"|double precision|\"[^\"]+\"|[a-z_][a-z0-9_]*)(?:\([0-9, ]+\))?(?:\[\])?"
)
NORMALISED = {"constraints": 2, "triggers": 2, "indexes": 2}  # kind: the definition's column


def _definition(text):
    return " ".join(CAST.sub("", text).replace("(", "").replace(")", "").split())


SCHEMA_QUERIES = {
    "postgresql": {
        "columns": """
            SELECT table_name, column_name, data_type, is_nullable, column_default,
                   is_identity FROM information_schema.columns
            WHERE table_schema = current_schema()""",
        "indexes": """
            SELECT tablename, indexname, indexdef FROM pg_indexes
            WHERE schemaname = current_schema()""",
        "constraints": """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace = current_schema()::regnamespace""",
        "triggers": """
            SELECT t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid)
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace""",
        "functions": """
            SELECT p.oid::regprocedure::text, md5(p.prosrc) FROM pg_proc p
            WHERE p.pronamespace = current_schema()::regnamespace""",
        "sequences": """
            SELECT sequencename, last_value FROM pg_sequences
            WHERE schemaname = current_schema()""",
    },
    "sqlite": {
        # rootpage left out: where a table's pages start says nothing about its contents.
        "schema": "SELECT type, name, tbl_name, sql FROM sqlite_master",
    },
}


def fingerprint():
    """Every table's rows and digest, and the schema's objects, of the configured database."""
    from django.db import connection

    quote = connection.ops.quote_name
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        else:
            # sqlite_sequence (the AUTOINCREMENT positions) is compared like a table.
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_stat%'"
            )
        tables = sorted(row[0] for row in cursor.fetchall())
        found = {table: _rows_digest(cursor, table, quote) for table in tables}
        schema = {}
        for kind, sql in SCHEMA_QUERIES[vendor].items():
            cursor.execute(sql)
            rows = [list(row) for row in cursor.fetchall()]
            if vendor == "postgresql" and kind in NORMALISED:
                for row in rows:
                    row[NORMALISED[kind]] = _definition(row[NORMALISED[kind]])
            items = sorted(tuple(_canonical(v) for v in row) for row in rows)
            schema[kind] = items
    return {"vendor": vendor, "tables": found, "schema": schema}


def coordinator_client():
    """The demo password and one client of the coordinator (not anonymised), by reference."""
    from django.contrib.auth import get_user_model

    from mentoring.models import Client
    from mentoring.retention import ANONYMISED_NAME
    from mentoring.seed.logins import DEMO_PASSWORD

    user = get_user_model().objects.get(username=COORDINATOR)
    client = (
        Client.objects.for_user(user)
        .exclude(first_name=ANONYMISED_NAME)
        .order_by("-referred_on", "reference")
        .first()
    )
    if client is None:
        raise SystemExit(f"{COORDINATOR} has no client")
    return {"password": DEMO_PASSWORD, "reference": client.reference}


def django_task(task):
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    result = {"fingerprint": fingerprint, "client": coordinator_client}[task]()
    print(RESULT_PREFIX + json.dumps(result))


# Running things ----------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    seconds: float
    note: str = ""


class Run:
    """One database's drill: its steps, timed and printed as they finish."""

    def __init__(self, label, env):
        self.label = label
        self.env = env
        self.steps = []

    @contextlib.contextmanager
    def step(self, name):
        start = time.monotonic()
        record = Step(name, 0.0)
        try:
            yield record
        finally:
            record.seconds = time.monotonic() - start
            self.steps.append(record)
            note = f"  {record.note}" if record.note else ""
            print(f"  {name:<34} {record.seconds:6.1f} s{note}", flush=True)

    def manage(self, *argv, timeout=600):
        """``manage.py argv`` against this run's database; its output, or Failure."""
        try:
            proc = subprocess.run(
                [sys.executable, "manage.py", *argv],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise Failure(f"manage.py {argv[0]} took over {timeout} s") from None
        if proc.returncode != 0:
            output = (proc.stdout + proc.stderr).strip().splitlines()
            raise Failure(
                f"manage.py {' '.join(argv)} exited with {proc.returncode}:\n    "
                + "\n    ".join(output[-15:])
            )
        return proc.stdout

    def django(self, task, env=None):
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--django-task", task],
            cwd=ROOT,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        for line in proc.stdout.splitlines():
            if line.startswith(RESULT_PREFIX):
                return json.loads(line[len(RESULT_PREFIX) :])
        raise Failure(
            f"the drill's {task!r} step failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )


# Databases ---------------------------------------------------------------------------------


def is_postgresql(url):
    return urlsplit(url).scheme in ("postgres", "postgresql", "pgsql")


def with_database(url, name):
    return urlsplit(url)._replace(path="/" + name).geturl()


def drill_names(url):
    """(source, target) database names derived from DATABASE_URL's database."""
    base = urlsplit(url).path.lstrip("/") or "sos"
    names = []
    for suffix in ("_drill_src", "_drill_dst"):
        room = MAX_IDENTIFIER - len(suffix)
        names.append(base.encode()[:room].decode(errors="ignore") + suffix)
    return names


class PostgresAdmin:
    """CREATE and DROP DATABASE on DATABASE_URL's server, as DATABASE_URL's role."""

    def __init__(self, url):
        import dj_database_url
        import psycopg2

        self.psycopg2 = psycopg2
        self.params = dj_database_url.parse(url)
        self.conn = None
        # The database of DATABASE_URL, or the server's maintenance databases when it does
        # not exist (yet).
        errors = []
        for dbname in (self.params["NAME"], "postgres", "template1"):
            try:
                self.conn = psycopg2.connect(
                    dbname=dbname,
                    user=self.params.get("USER") or None,
                    password=self.params.get("PASSWORD") or None,
                    host=self.params.get("HOST") or None,
                    port=self.params.get("PORT") or None,
                    connect_timeout=10,
                )
                break
            except psycopg2.Error as error:
                errors.append(f"{dbname}: {str(error).strip()}")
                if f'database "{dbname}" does not exist' not in str(error):
                    break  # not the database missing: the server, the role, the password
        if self.conn is None:
            raise SetupError("cannot connect to PostgreSQL: " + "; ".join(errors))
        self.conn.autocommit = True

    def execute(self, sql):
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(sql)
        except self.psycopg2.Error as error:
            raise SetupError(f"{sql}: {str(error).strip()}") from None

    def create(self, name):
        self.drop(name)
        self.execute(f'CREATE DATABASE "{name}"')

    def drop(self, name):
        # FORCE: a connection left by an interrupted run (or the app) does not keep it.
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self):
        with contextlib.suppress(Exception):
            self.conn.close()


# The checks --------------------------------------------------------------------------------


def read_header(path):
    with open(path, "rb") as stream:
        if stream.read(len(BACKUP_MAGIC)) != BACKUP_MAGIC:
            raise Failure(f"{path} does not start as an SOS backup")
        (size,) = struct.unpack(">I", stream.read(4))
        return json.loads(stream.read(size))


def check_backup(path, kind, reference):
    header = read_header(path)
    if not header.get("encrypted"):
        raise Failure(f"the backup is not encrypted although SOS_BACKUP_KEY was set: {header}")
    data = Path(path).read_bytes()
    for what, marker in (
        ("the database's own file format", PLAIN_MARKERS[kind]),
        (f"the client reference {reference}", reference.encode()),
    ):
        if marker in data:
            raise Failure(f"the encrypted backup holds {what} in clear")
    return header


def compare(source, target):
    """Lines describing every difference between two fingerprints ([] when none)."""
    problems = []
    src, dst = source["tables"], target["tables"]
    for table in sorted(set(src) | set(dst)):
        if table not in dst:
            problems.append(f"table {table}: missing from the restored database")
        elif table not in src:
            problems.append(f"table {table}: in the restored database only")
        elif src[table] != dst[table]:
            (n_src, h_src), (n_dst, h_dst) = src[table], dst[table]
            if n_src != n_dst:
                problems.append(f"table {table}: {n_dst} rows restored, the source has {n_src}")
            else:
                problems.append(
                    f"table {table}: same {n_src} rows but different contents "
                    f"(sha256 {h_dst[:12]} restored, {h_src[:12]} source)"
                )
    for kind in sorted(set(source["schema"]) | set(target["schema"])):
        a = {tuple(item) for item in source["schema"].get(kind, [])}
        b = {tuple(item) for item in target["schema"].get(kind, [])}
        for item in sorted(a - b)[:5]:
            problems.append(f"{kind}: {' | '.join(item)[:160]} missing from the restore")
        for item in sorted(b - a)[:5]:
            problems.append(f"{kind}: {' | '.join(item)[:160]} in the restore only")
    return problems


def check_app(run, port, reference, password):
    """/health/, sign in as the coordinator, the client's page: each a step."""
    browser = Browser(port, timeout=30)
    with run.step("GET /health/") as step:
        resp = browser.request("GET", "/health/")
        try:
            status = json.loads(resp.body).get("status")
        except ValueError:
            status = None
        if resp.status != 200 or status != "ok":
            raise Failure(f"/health/ answered {resp.status} {resp.body[:200]!r}")
        step.note = "200 ok"
    with run.step(f"sign in as {COORDINATOR}") as step:
        page = browser.request("GET", "/accounts/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if page.status != 200 or not match:
            raise Failure(f"GET /accounts/login/ answered {page.status} without a CSRF token")
        form = {
            "csrfmiddlewaretoken": match.group(1).decode(),
            "username": COORDINATOR,
            "password": password,
            "next": "",
        }
        resp = browser.request("POST", "/accounts/login/", form)
        location = resp.headers.get("location", "")
        if resp.status != 302 or not browser.cookie("sessionid"):
            raise Failure(
                f"signing in as {COORDINATOR} answered {resp.status}, not a redirect with a "
                "session (was the password hash restored?)"
            )
        if "two-factor" in location or "2fa" in location:
            raise Failure(f"signing in led to two-factor ({location}): SOS_REQUIRE_2FA is on")
        step.note = f"302 to {location}"
    path = f"/clients/{reference}/"
    with run.step(f"GET {path}") as step:
        resp = browser.request("GET", path)
        if resp.status != 200:
            raise Failure(f"{path} answered {resp.status} {resp.headers.get('location', '')}")
        if reference.encode() not in resp.body:
            raise Failure(f"{path} answered 200 without the reference {reference} on it")
        step.note = f"200, {reference} on the page"


def wait_for_app(proc, port, workers, log_path, limit=60):
    browser = Browser(port, timeout=5)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failure(f"gunicorn exited with {proc.returncode}:\n{tail(log_path, 20)}")
        resp = browser.request("GET", "/health/")
        if resp.status is not None and len(children_of(proc.pid)) >= workers:
            return
        time.sleep(0.2)
    raise Failure(f"the app did not answer within {limit} s:\n{tail(log_path, 20)}")


# One database --------------------------------------------------------------------------------


def drill(label, env, source_url, target_url, make_database, args, base):
    """The drill on one database; prints its steps and returns its total seconds."""
    started = time.monotonic()
    print(f"\nrestore drill ({label})", flush=True)
    src_env = {**env, "DATABASE_URL": source_url}
    dst_env = {**env, "DATABASE_URL": target_url}
    run = Run(label, src_env)
    backup_file = base / f"{label}.sosbackup"

    with run.step("create the source database") as step:
        make_database("source")
        step.note = redact(source_url)
    with run.step("migrate"):
        run.manage("migrate", "--no-input")
    with run.step("seed_demo") as step:
        out = run.manage("seed_demo")
        match = re.search(r"Demo data loaded \(seed \d+\): ([^\n]*)\.", out)
        step.note = ", ".join(match.group(1).split(", ")[:3]) if match else ""
    with run.step("apply_retention") as step:
        out = run.manage("apply_retention")
        step.note = out.strip().splitlines()[-1] if out.strip() else ""
    cast = run.django("client")
    with run.step("backup (SOS_BACKUP_KEY set)") as step:
        run.manage("backup", str(backup_file))
        header = check_backup(backup_file, label, cast["reference"])
        size = backup_file.stat().st_size
        step.note = f"{size:,} bytes, {len(header['tables'])} tables, encrypted"
    with run.step("create an empty target database") as step:
        make_database("target")
        step.note = redact(target_url)
    with run.step("restore") as step:
        run.env = dst_env
        out = run.manage("restore", str(backup_file))
        match = re.search(r"Retention applied again: (\d+) client", out)
        if not match:
            raise Failure(f"restore did not report its retention pass:\n{out}")
        if match.group(1) != "0":
            raise Failure(
                f"the restore's retention pass anonymised {match.group(1)} client(s) although "
                "apply_retention ran on the source just before the backup"
            )
        step.note = "row counts, migrations, summaries checked; retention: nothing to do"
    with run.step("compare every table") as step:
        source = run.django("fingerprint", src_env)
        target = run.django("fingerprint", dst_env)
        problems = compare(source, target)
        if problems:
            raise Failure(
                "the restored database differs from the source:\n    "
                + "\n    ".join(problems[:30])
                + (f"\n    ... and {len(problems) - 30} more" if len(problems) > 30 else "")
            )
        rows = sum(n for n, _ in source["tables"].values())
        objects = sum(len(items) for items in source["schema"].values())
        step.note = (
            f"{len(source['tables'])} tables, {rows:,} rows, {objects} schema objects: identical"
        )

    port = free_port()
    log_path = base / f"gunicorn-{label}.log"
    app = None
    try:
        with run.step(f"start gunicorn -w {args.workers}") as step:
            app = start_app(dst_env, port, args.workers, log_path)
            wait_for_app(app, port, args.workers, log_path)
            step.note = f"127.0.0.1:{port}, DEBUG off"
        check_app(run, port, cast["reference"], cast["password"])
    except Failure as failure:
        if log_path.exists():
            raise Failure(f"{failure}\n  gunicorn log:\n{tail(log_path, 15)}") from None
        raise
    finally:
        stop_app(app)
    return time.monotonic() - started


def redact(url):
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return parts.geturl()


# Main ------------------------------------------------------------------------------------------


def base_env(base):
    env = dict(os.environ)
    # Nothing of the environment's own deployment: no shared cache, replica or mail server.
    for name in (
        "SECRET_KEY",
        "CSRF_TRUSTED_ORIGINS",
        "EMAIL_HOST",
        "SOS_REPLICA_URL",
        "SOS_FIGURES_CACHE",
    ):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="sos.settings",
        SOS_DEV_MODE="1",
        DEBUG="0",
        SOS_REQUIRE_2FA="0",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        # collectstatic (needed with DEBUG off) fills the temporary folder, not the checkout.
        STATIC_ROOT=str(base / "static"),
        SOS_BACKUP_KEY=secrets.token_urlsafe(32),
        PYTHONUNBUFFERED="1",
    )
    return env


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=(
            "Back up a seeded database (encrypted), restore it into an empty one, compare "
            "every table, and run the app on the restored database: on SQLite, and on "
            "PostgreSQL when DATABASE_URL points at one. Exit 0 passed, 1 failed, 2 setup error."
        )
    )
    parser.add_argument(
        "--only",
        choices=["sqlite", "postgresql"],
        help="run on this database only (postgresql: DATABASE_URL must point at one)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder (backups, SQLite files, logs) and the PostgreSQL databases",
    )
    parser.add_argument("--django-task", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None):
    args = parse_args(argv)
    if args.django_task:
        django_task(args.django_task)
        return 0
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)

    url = os.environ.get("DATABASE_URL", "").strip()
    base = Path(tempfile.mkdtemp(prefix="sos-restore-drill-"))
    env = base_env(base)
    admin = None
    pg_names = []
    results = []
    status = 0
    try:
        t0 = time.monotonic()
        print(f"Restore drill in {base}", flush=True)
        plans = [] if args.only == "postgresql" else [("sqlite", None)]
        if url and is_postgresql(url):
            if args.only != "sqlite":
                plans.append(("postgresql", url))
                # Connect first: no PostgreSQL, no drill, before a minute of collectstatic.
                admin = PostgresAdmin(url)
                pg_names = drill_names(url)
        elif args.only == "postgresql":
            raise SetupError("--only postgresql: DATABASE_URL does not point at PostgreSQL")
        elif url:
            print(f"DATABASE_URL is not PostgreSQL ({urlsplit(url).scheme}): SQLite only.")

        collect = Run("setup", {**env, "DATABASE_URL": f"sqlite:///{base / 'unused.sqlite3'}"})
        with collect.step("collectstatic (once)"):
            collect.manage("collectstatic", "--no-input", "--verbosity", "0")

        for label, server_url in plans:
            if label == "sqlite":
                src = f"sqlite:///{base / 'source.sqlite3'}"
                dst = f"sqlite:///{base / 'target.sqlite3'}"

                def make_database(which):
                    pass  # SQLite creates the file when it is first opened

            else:
                src, dst = (with_database(server_url, n) for n in pg_names)

                def make_database(which, admin=admin, names=pg_names):
                    admin.create(names[0] if which == "source" else names[1])

            try:
                seconds = drill(label, env, src, dst, make_database, args, base)
            except Failure as failure:
                print(f"restore drill ({label}): FAILED: {failure}", flush=True)
                results.append((label, False))
                status = 1
            else:
                print(f"restore drill ({label}): passed in {seconds:.1f} s", flush=True)
                results.append((label, True))
        print()
        for label, passed in results:
            print(f"restore drill ({label}): {'passed' if passed else 'FAILED'}")
        print(f"(in {time.monotonic() - t0:.1f} s)")
        print("restore drill: passed" if status == 0 else "restore drill: FAILED", flush=True)
    except (SetupError, Failure) as error:
        print(f"restore drill: SETUP ERROR: {error}", file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        print("Interrupted: cleaning up.", file=sys.stderr)
        status = 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        if admin is not None:
            if args.keep:
                print(f"Kept the databases {', '.join(pg_names)}")
            else:
                for name in pg_names:
                    with contextlib.suppress(SetupError):
                        admin.drop(name)
            admin.close()
        if args.keep:
            print(f"Kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
