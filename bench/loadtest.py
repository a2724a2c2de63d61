"""
Load test: gunicorn with 2 workers against PostgreSQL on 127.0.0.1, 50 concurrent
signed-in users (coordinators of several boroughs and managers) for 2 minutes, with locust.

    .venv/bin/python bench/loadtest.py --database-url postgres://postgres@127.0.0.1:5432/sos_bench_100k

Reports requests per second, p50/p95/p99 and errors per kind of request, then checks that
every session the server acknowledged is stored exactly once. Exits non-zero on any error
or a missing or duplicated session. The server runs with DEBUG off; development mode is
on only for plain-HTTP cookies on 127.0.0.1 and so the users sign in with a password alone.
"""

import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PASSWORD = "sos-demo-2026"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def django_env(database_url):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        SOS_DEV_MODE="1",
        DEBUG="0",
        SOS_REQUIRE_2FA="0",
        CONN_MAX_AGE="600",
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="sos.settings",
    )
    return env


def python(env, *args, what):
    """Run the venv's Python with ``args`` in the project; stop naming ``what`` on failure."""
    done = subprocess.run(
        [str(VENV_BIN / "python"), *args], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        sys.exit(f"{what} failed:\n{done.stderr}")
    return done.stdout


def users_and_password(env, coordinators, managers):
    """The load test's accounts: coordinators of the busiest boroughs and managers."""
    script = f"""
import json, django
django.setup()
from django.db.models import Count
from mentoring.models import StaffProfile
from django.contrib.auth import get_user_model
out = []
coords = (StaffProfile.objects.filter(role="COORDINATOR")
          .annotate(n=Count("boroughs")).filter(n=1).select_related("user"))
seen = set()
for p in coords.order_by("user__username"):
    b = p.boroughs.get()
    if b.slug in seen:
        continue
    seen.add(b.slug)
    out.append({{"username": p.user.username, "role": "coordinator", "borough": b.slug}})
    if len(out) >= {coordinators}:
        break
# Managers over every area: the coordinators' boroughs are all in their scope.
managers = StaffProfile.objects.filter(role="MANAGER", boroughs__isnull=True)
for p in managers.select_related("user")[:{managers}]:
    out.append({{"username": p.user.username, "role": "manager", "borough": ""}})
User = get_user_model()
for u in out:
    user = User.objects.get(username=u["username"])
    user.set_password({PASSWORD!r})
    user.save(update_fields=["password"])
    u["password"] = {PASSWORD!r}
print(json.dumps(out))
"""
    out = python(env, "-c", script, what="Reading the load-test users")
    users = json.loads(out.strip().splitlines()[-1])
    if not any(u["role"] == "coordinator" for u in users) or not any(
        u["role"] == "manager" for u in users
    ):
        sys.exit("The database needs coordinators and a manager (run manage.py seed_scale).")
    return users


def count_sessions(env, tokens):
    script = """
import json, sys, django
django.setup()
from django.db.models import Count
from mentoring.models import SupportSession
tokens = [t for t in open(sys.argv[1]).read().split() if t]
rows = (SupportSession.objects.filter(submission_token__in=tokens)
        .values("submission_token").annotate(n=Count("pk")))
found = {str(r["submission_token"]): r["n"] for r in rows}
print(json.dumps({"posted": len(tokens), "found": len(found),
                  "missing": len(set(tokens) - set(found)),
                  "duplicated": sum(1 for n in found.values() if n > 1)}))
"""
    out = python(env, "-c", script, str(tokens), what="Checking the posted sessions")
    return json.loads(out.strip().splitlines()[-1])


SESSIONS_AFTER = """
import sys, django
django.setup()
from django.db.models import Max
from mentoring.models import SupportSession
after = sys.argv[1]
if after == "last":
    print(SupportSession.objects.aggregate(last=Max("pk"))["last"] or 0)
else:
    print(SupportSession.objects.filter(pk__gt=int(after)).delete()[1].get(
        "mentoring.SupportSession", 0))
"""


def last_session(env):
    """The newest session's id before the run."""
    return int(python(env, "-c", SESSIONS_AFTER, "last", what="Reading the sessions").split()[-1])


def remove_sessions_after(env, last):
    """
    Delete the sessions logged after ``last`` (through the ORM, so that the triggers take
    them out of the summaries): the next run measures the same data set, not one with
    500 more sessions in its busiest boroughs.
    """
    return int(
        python(env, "-c", SESSIONS_AFTER, str(last), what="Removing the sessions").split()[-1]
    )


def wait_for(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"The server did not answer {url} within {seconds} s")


def summary(stats_csv):
    with open(stats_csv) as handle:
        rows = list(csv.DictReader(handle))
    table = []
    for row in rows:
        if row["Request Count"] == "0":
            continue  # only before the statistics started (the sign-ins)
        table.append(
            {
                "name": row["Name"] if row["Name"] != "Aggregated" else "ALL",
                "method": row["Type"],
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
            }
        )
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="the database to load (default: the 100k benchmark data set, built if missing)",
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", default="2m")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--coordinators", type=int, default=8, help="distinct coordinator logins")
    parser.add_argument("--managers", type=int, default=2)
    parser.add_argument(
        "--figures-cache",
        metavar="REDIS_URL",
        help="share the figures cache through this Redis (SOS_FIGURES_CACHE), as in production "
        "with several workers or servers; default: each worker's own memory",
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="run manage.py warm_figures first, as the daily job would (with --figures-cache)",
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "loadtest.json")
    args = parser.parse_args()
    if args.warm and not args.figures_cache:
        parser.error("--warm needs --figures-cache: workers do not share their own memory")

    # Only the benchmark's own data set is put back as it was after the run.
    own_data_set = args.database_url is None
    if own_data_set:
        sys.path.insert(0, str(ROOT / "bench"))
        import datasets

        args.database_url = datasets.ensure("100k")
        datasets.warn_if_buffers_small(args.database_url)
    env = django_env(args.database_url)
    before = last_session(env) if own_data_set else None
    if args.figures_cache:
        env["SOS_FIGURES_CACHE"] = args.figures_cache
    users = users_and_password(env, args.coordinators, args.managers)
    if args.warm:
        print(python(env, "manage.py", "warm_figures", what="warm_figures").strip(), flush=True)
    work = Path(tempfile.mkdtemp(prefix="sos-loadtest-"))
    # Collected static files go to the run's own folder, not the checkout's.
    env["STATIC_ROOT"] = str(work / "static")
    python(env, "manage.py", "collectstatic", "--no-input", "-v0", what="collectstatic")
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    server_log = open(work / "gunicorn.log", "w")  # noqa: SIM115 - closed after the run
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "sos.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "-",
        ],
        env=env,
        cwd=ROOT,
        stdout=server_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    tokens = work / "tokens.txt"
    try:
        wait_for(f"{host}/health/")
        print(
            f"gunicorn -w {args.workers} on {host}; {args.users} users "
            f"({sum(u['role'] == 'coordinator' for u in users)} coordinator and "
            f"{sum(u['role'] == 'manager' for u in users)} manager logins) for {args.duration}; "
            f"figures cache: {args.figures_cache or 'each worker in its own memory'}"
            f"{', warmed' if args.warm else ''}",
            flush=True,
        )
        locust_env = dict(env)
        locust_env.update(
            LOADTEST_USERS=json.dumps(users),
            LOADTEST_TOKENS=str(tokens),
            LOADTEST_SIGNED_IN=str(work / "signed_in.txt"),
        )
        run = subprocess.run(
            [
                str(VENV_BIN / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                args.duration,
                "--host",
                host,
                "--csv",
                str(work / "stats"),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            env=locust_env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server_log.close()
    if not (work / "stats_stats.csv").exists():
        sys.stderr.write(run.stdout + run.stderr)
        sys.exit("locust produced no statistics")
    table = summary(work / "stats_stats.csv")
    signed_in = work / "signed_in.txt"
    signed_in_after = float(signed_in.read_text()) if signed_in.exists() else None
    sessions = count_sessions(env, tokens)
    removed = remove_sessions_after(env, before) if own_data_set else None
    with open(work / "gunicorn.log") as log:
        server_errors = sum(1 for line in log if '" 500 ' in line or "[ERROR]" in line)

    if signed_in_after is None:
        print("\nNot every user signed in: the figures include the sign-ins.")
    else:
        print(
            f"\nAll {args.users} users had signed in after {signed_in_after:.0f} s; "
            "the figures are from then to the end."
        )
    print(f"\n{'request':<42}{'count':>8}{'fail':>6}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}")
    for row in table:
        print(
            f"{row['method'] + ' ' + row['name']:<42}{row['requests']:>8}{row['failures']:>6}"
            f"{row['rps']:>8.1f}{row['p50']:>7.0f}{row['p95']:>7.0f}{row['p99']:>7.0f}"
        )
    total = next(r for r in table if r["name"] == "ALL")
    print(
        f"\nSessions: {sessions['posted']} acknowledged, {sessions['found']} stored, "
        f"{sessions['missing']} missing, {sessions['duplicated']} duplicated"
    )
    if removed is not None:
        print(f"Removed the {removed} sessions the run logged from the data set.")
    print(f"Server log: {server_errors} errors; gunicorn log kept in {work}")
    ok = (
        total["failures"] == 0
        and sessions["missing"] == 0
        and sessions["duplicated"] == 0
        and server_errors == 0
        and sessions["posted"] > 0
        and signed_in_after is not None
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "requests": table,
                "sessions": sessions,
                "server_errors": server_errors,
                "signed_in_after_s": signed_in_after,
                "figures_cache": args.figures_cache or "memory",
                "warmed": args.warm,
            },
            indent=2,
        )
    )
    print(f"{'PASS' if ok else 'FAIL'}: figures written to {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
