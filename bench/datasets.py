"""
The benchmark data sets: a PostgreSQL database per size, built once with seed_scale and
reused (building the 100,000-client set takes a few minutes).
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
SIZES = {"10k": 10_000, "100k": 100_000}


def url_for(label):
    return f"{SERVER.rstrip('/')}/sos_bench_{label}"


def _admin_connection(url):
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    connection = psycopg2.connect(admin)
    connection.autocommit = True
    return connection


def _vacuum(url):
    connection = psycopg2.connect(url)
    connection.autocommit = True  # VACUUM runs outside a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    finally:
        connection.close()


def _clients_in(url):
    try:
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM mentoring_client")
            return cursor.fetchone()[0]
    except psycopg2.Error:
        return None


def memory(url):
    """(shared_buffers, the database's size), in bytes, of the server holding ``url``."""
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT setting::bigint * current_setting('block_size')::bigint, "
            "pg_database_size(current_database()) FROM pg_settings WHERE name = 'shared_buffers'"
        )
        return cursor.fetchone()


def warn_if_buffers_small(url):
    """
    Say so when PostgreSQL's own cache cannot hold the data set: its pages are then read
    from the operating system's page cache, which a virtual machine may hand back to its
    host between runs, and then the same page's time varies by half from one run to the
    next (docs/performance.md).
    """
    buffers, size = memory(url)
    if buffers < size:
        mb = 1024 * 1024
        print(
            f"Warning: PostgreSQL's shared_buffers ({buffers // mb:,} MB) is smaller than "
            f"{urlsplit(url).path.lstrip('/')} ({size // mb:,} MB), so its figures will vary "
            "from run to run. Give it a quarter of memory, as in production (docs/operations.md): "
            "ALTER SYSTEM SET shared_buffers = '4GB'; then restart PostgreSQL.",
            flush=True,
        )
    return buffers, size


def ensure(label, clients=None, rebuild=False):
    """Create, migrate and seed the data set ``label`` unless it is already there."""
    clients = clients or SIZES[label]
    url = url_for(label)
    present = None if rebuild else _clients_in(url)
    env = dict(os.environ, DATABASE_URL=url, SOS_DEV_MODE="1")
    if present is not None and present >= clients:
        print(f"Data set {label}: {present:,} clients already in {url}", flush=True)
        # A data set built by an earlier version gets the tables and triggers added since,
        # and fresh planner statistics: a migration may have refilled the summary tables.
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--no-input", "-v0"], env=env, cwd=ROOT, check=True
        )
        _vacuum(url)
        return url
    name = urlsplit(url).path.lstrip("/")
    admin = _admin_connection(url)  # autocommit: no "with", which would open a transaction
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()
    start = time.perf_counter()
    print(f"Building data set {label} ({clients:,} clients) in {url} ...", flush=True)
    for command in (
        ["migrate", "--no-input", "-v0"],
        ["seed_scale", "--clients", str(clients)],
    ):
        subprocess.run([PYTHON, "manage.py", *command], env=env, cwd=ROOT, check=True)
    print(f"Data set {label} built in {time.perf_counter() - start:.0f} s", flush=True)
    return url
