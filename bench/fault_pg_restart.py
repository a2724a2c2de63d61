"""
Fault drill: restart PostgreSQL under the running app.

With CONN_HEALTH_CHECKS on, a PostgreSQL restart while SOS runs should give users the plain
"temporarily unavailable" page (503, Retry-After) for the outage, never a 500, and the app
should recover by itself once PostgreSQL is back, without losing or doubling any write it
acknowledged. This script shows it against a real server and a real PostgreSQL:

1. builds a throwaway PostgreSQL 15 cluster in a temporary directory on a free port (the
   machine's own PostgreSQL is never touched; as root the cluster runs as the ``postgres``
   OS user), migrates a fresh database there and creates a borough, a coordinator and an
   active client with a mentor;
2. serves the app with gunicorn against it (SOS_DEV_MODE=1 DEBUG=0, CONN_MAX_AGE=60, so the
   real error handler and persistent connections with health checks are in play);
3. signs in over HTTP and, for ``--duration`` seconds, logs a support session every
   ``--write-interval`` seconds (each with its own submission token and a unique marker in
   the notes) while polling the client's page and /health/;
4. after ``--restart-after`` seconds stops PostgreSQL (fast shutdown), keeps it down for
   ``--down-seconds`` and starts it again (``--down-seconds 0``: ``pg_ctl restart``);
5. reads the database back: every acknowledged session (a 302 to the client's page) must be
   there exactly once.

It prints the outage window, the status codes seen during it, the recovery time and the
write tally, and exits 0 when every check passed, 1 when one failed, 2 when the drill could
not be set up. Everything it started is stopped and the temporary directory removed at the
end, on errors and on Ctrl-C too (``--keep`` keeps the directory and its logs).

The app runs with its own settings plus one change: STATIC_ROOT points into the temporary
directory, so that ``collectstatic`` (needed with DEBUG off) does not write into the
checkout.

    .venv/bin/python bench/fault_pg_restart.py [--duration 25] [--down-seconds 3] [--json F]
"""

import argparse
import contextlib
import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_BIN = "/usr/lib/postgresql/15/bin"
SETTINGS_MODULE = "sos_fault_drill_settings"
RESULT_PREFIX = "FAULT_DRILL_RESULT:"
DB_NAME = "sos_fault_drill"
USERNAME = "drill-coordinator"
OUTAGE_HEADING = b"temporarily unavailable"
# Cookies the drill keeps. The flash-message cookie is dropped: the writer never reads a
# page, so its success messages would only pile up.
KEPT_COOKIES = {"sessionid", "csrftoken"}


class SetupError(Exception):
    """The drill could not be set up (not a finding about the app)."""


# Django side: run in a subprocess with DATABASE_URL pointing at the private cluster ---------


def django_task(task):
    """``seed``: migrate, collect static files, create the cast. ``verify``: count sessions."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if task == "seed":
        from django.core.management import call_command

        from mentoring.models import StaffProfile
        from tests.factories import (
            AssignmentFactory,
            BoroughFactory,
            ClientFactory,
            MentorFactory,
            StaffProfileFactory,
            UserFactory,
        )

        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        borough = BoroughFactory(name="Fault drill", slug="fault-drill", code="FLT")
        user = UserFactory(username=USERNAME)
        user.set_password(os.environ["FAULT_DRILL_PASSWORD"])
        user.save()
        StaffProfileFactory(user=user, role=StaffProfile.Role.COORDINATOR, boroughs=[borough])
        client = ClientFactory(active=True, borough=borough)
        AssignmentFactory(client=client, mentor=MentorFactory(home_borough=borough))
        result = {"username": user.username, "client": client.reference}
    elif task == "verify":
        from mentoring.models import SupportSession

        prefix = os.environ["FAULT_DRILL_MARKER_PREFIX"]
        rows = SupportSession.objects.filter(notes__startswith=prefix).values_list(
            "notes", "submission_token"
        )
        counts = Counter()
        tokens = {}
        for notes, token in rows:
            counts[notes] += 1
            tokens.setdefault(notes, []).append(str(token))
        result = {"counts": counts, "tokens": tokens}
    else:
        raise SystemExit(f"unknown task {task!r}")
    print(RESULT_PREFIX + json.dumps(result))


# The private PostgreSQL cluster ----------------------------------------------------------


def free_port(avoid=()):
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in avoid:
            return port


class PrivatePostgres:
    """A throwaway cluster in ``base``/pgdata, on 127.0.0.1:``port``, trust authentication."""

    def __init__(self, bindir, base, port):
        self.bindir = Path(bindir)
        self.base = base
        self.data = base / "pgdata"
        self.log = base / "postgres.log"
        self.port = port
        self.as_postgres = os.geteuid() == 0
        self.initialised = False

    def url(self, dbname):
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def run(self, tool, *argv, timeout=120):
        cmd = [str(self.bindir / tool), *argv]
        if self.as_postgres:
            # initdb refuses to run as root.
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(
            cmd,
            cwd=self.base,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            start_new_session=True,
            check=False,
        )
        if proc.returncode != 0:
            raise SetupError(f"{tool} {' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}")
        return proc.stdout

    def init(self):
        for tool in ("initdb", "pg_ctl", "createdb"):
            if not (self.bindir / tool).exists():
                raise SetupError(f"{self.bindir / tool} not found (set --pg-bin).")
        if self.as_postgres:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise SetupError("Running as root needs a 'postgres' OS user.") from None
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
        self.run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        self.initialised = True
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                "\n# fault drill\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.base}'\n"
                "max_connections = 40\n"
            )

    def start(self):
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode="fast"):
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self):
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "restart")

    def createdb(self, name):
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def destroy(self):
        """Stop the cluster whatever its state; the caller removes the directory."""
        if not self.initialised:
            return
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return
        with contextlib.suppress(Exception):
            self.stop(mode="immediate")
        if pid_file.exists():  # pg_ctl failed: kill the postmaster by its recorded pid
            with contextlib.suppress(Exception):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
                time.sleep(1)


# HTTP ------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int | None
    headers: dict
    body: bytes
    error: str = ""


class Browser:
    """Just enough of a browser: one cookie jar shared by the threads, no redirects."""

    def __init__(self, port, timeout):
        self.port = port
        self.timeout = timeout
        self.cookies = {}
        self.lock = threading.Lock()

    def request(self, method, path, form=None):
        headers = {"Host": f"127.0.0.1:{self.port}", "User-Agent": "sos-fault-drill"}
        with self.lock:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            return Response(None, {}, b"", error=f"{exc.__class__.__name__}: {exc}")
        finally:
            conn.close()
        self._keep_cookies(resp.headers.get_all("Set-Cookie") or [])
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)

    def _keep_cookies(self, set_cookies):
        for header in set_cookies:
            jar = SimpleCookie()
            with contextlib.suppress(Exception):
                jar.load(header)
            with self.lock:
                for name, morsel in jar.items():
                    if name not in KEPT_COOKIES:
                        continue
                    if morsel.value in ("", '""') or morsel["max-age"] == "0":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value

    def cookie(self, name):
        with self.lock:
            return self.cookies.get(name)


@dataclass
class Record:
    kind: str  # write, read, health
    start: float  # seconds since the load started
    end: float
    status: int | None
    ok: bool
    page: str = ""  # for a 503: "html" (the plain outage page), "json" (health's) or ""
    note: str = ""


@dataclass
class Attempt:
    n: int
    marker: str
    token: str
    acknowledged: bool = False
    status: int | None = None


@dataclass
class Drill:
    """What happened, in seconds since the load started."""

    records: list = field(default_factory=list)
    attempts: list = field(default_factory=list)
    events: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)  # load threads that crashed


def classify(kind, resp, client_path):
    """(ok, page, note) for one response; page says which 503 answer it was."""
    if resp.status is None:
        return False, "", resp.error
    body = resp.body
    if resp.status == 503:
        page = ""
        if (
            OUTAGE_HEADING in body.lower()
            and "retry-after" in resp.headers
            and b"Traceback" not in body
        ):
            page = "html"
        elif kind == "health":
            with contextlib.suppress(ValueError, AttributeError):
                if json.loads(body).get("status") == "unavailable":
                    page = "json"
        note = "" if page else "503 without the plain outage page (or health's JSON)"
        return False, page, note
    if kind == "write":
        location = urlsplit(resp.headers.get("location", "")).path
        if resp.status == 302 and location == client_path:
            return True, "", ""
        return False, "", f"{resp.status} -> {location or body[:200].decode(errors='replace')}"
    if kind == "read":
        if resp.status == 200 and client_path.strip("/").split("/")[-1].encode() in body:
            return True, "", ""
        return False, "", f"{resp.status} {resp.headers.get('location', '')}"
    if resp.status == 200:
        try:
            if json.loads(body).get("status") == "ok":
                return True, "", ""
        except ValueError:
            pass
    return False, "", f"{resp.status} {body[:200].decode(errors='replace')}"


def sign_in(browser, username, password):
    page = browser.request("GET", "/accounts/login/")
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    if page.status != 200 or not match:
        raise SetupError(f"GET /accounts/login/ gave {page.status} without a CSRF token.")
    form = {
        "csrfmiddlewaretoken": match.group(1).decode(),
        "username": username,
        "password": password,
        "next": "",
    }
    resp = browser.request("POST", "/accounts/login/", form)
    if resp.status != 302 or not browser.cookie("sessionid"):
        raise SetupError(f"Signing in gave {resp.status}, not a redirect with a session.")


def load_loops(browser, drill, t0, stop, args, client_ref, marker_prefix):
    """The writer, reader and health-check threads (started, not joined)."""
    client_path = f"/clients/{client_ref}/"
    write_path = f"/clients/{client_ref}/sessions/new/"
    # /health/ is polled as a load balancer would: without the signed-in user's cookies.
    monitor = Browser(browser.port, browser.timeout)

    def call(kind, method, path, form=None, via=browser):
        start = time.monotonic() - t0
        resp = via.request(method, path, form)
        end = time.monotonic() - t0
        ok, page, note = classify(kind, resp, client_path)
        record = Record(kind, start, end, resp.status, ok, page, note)
        drill.records.append(record)
        if args.verbose and not ok:
            print(f"  {start:7.2f}s {kind:6} {resp.status} {note}", flush=True)
        return record

    def paced(interval, step):
        next_at = time.monotonic()
        while not stop.is_set():
            try:
                step()
            except Exception as exc:  # a bug in the drill, not an app response
                drill.errors.append(f"{step.__name__}: {exc.__class__.__name__}: {exc}")
                return
            next_at += interval
            delay = next_at - time.monotonic()
            if delay < 0:
                next_at = time.monotonic()
                delay = 0
            stop.wait(delay)

    counter = iter(range(1, 10**9))

    def read():
        call("read", "GET", client_path)

    def health():
        call("health", "GET", "/health/", via=monitor)

    def write():
        n = next(counter)
        attempt = Attempt(n, f"{marker_prefix}{n:05d}", str(uuid.uuid4()))
        drill.attempts.append(attempt)
        form = {
            "csrfmiddlewaretoken": browser.cookie("csrftoken") or "",
            "submission_token": attempt.token,
            "mentor": "",  # the client's current mentor
            "date": datetime.now(ZoneInfo("Europe/London")).date().isoformat(),
            "start_time": "",
            "duration_minutes": "60",
            "kind": "BOTH",
            "mode": "PHONE",
            "attendance": "ATTENDED",
            "notes": attempt.marker,
        }
        record = call("write", "POST", write_path, form)
        attempt.acknowledged = record.ok
        attempt.status = record.status

    threads = [
        threading.Thread(target=paced, args=(args.write_interval, write), daemon=True),
        threading.Thread(target=paced, args=(args.poll_interval, read), daemon=True),
        threading.Thread(target=paced, args=(args.poll_interval, health), daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads


# Gunicorn --------------------------------------------------------------------------------


def children_of(pid):
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.add(int(stat.parent.name))
    return found


def start_app(env, port, workers, log_path):
    log = open(log_path, "ab")  # noqa: SIM115 - closed by stop_app
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "sos.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.log_file = log
    return proc


def wait_for_app(proc, port, workers, log_path):
    browser = Browser(port, timeout=5)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SetupError(f"gunicorn exited with {proc.returncode}; see {log_path}.")
        resp = browser.request("GET", "/health/")
        if resp.status == 200 and len(children_of(proc.pid)) >= workers:
            return
        time.sleep(0.2)
    raise SetupError(f"The app did not answer /health/ with 200 within 60 s; see {log_path}.")


def stop_app(proc):
    if proc is None:
        return
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    proc.log_file.close()


# Analysis --------------------------------------------------------------------------------


def first(iterable, default=None):
    return next(iter(iterable), default)


def analyse(drill, verify, args, gunicorn_info):
    recs = sorted(drill.records, key=lambda r: r.start)
    ev = drill.events
    restart_at, up_at = ev["restart_requested"], ev["postgres_up"]
    failures = [r for r in recs if not r.ok]
    # Failed and finished before PostgreSQL was touched: the baseline was not healthy.
    # (A request in flight when PostgreSQL stopped belongs to the outage.)
    early = [r for r in failures if r.end < restart_at]
    result = {
        "settings": {
            "duration_s": args.duration,
            "restart_after_s": args.restart_after,
            "down_s": args.down_seconds,
            "write_interval_s": args.write_interval,
            "poll_interval_s": args.poll_interval,
            "gunicorn_workers": args.workers,
            "conn_max_age": args.conn_max_age,
        },
        "events_s": {k: round(v, 3) for k, v in ev.items()},
        "postgres_down_s": round(up_at - restart_at, 3),
    }

    # Outage: first failed request -> first successful one after the last failure.
    outage = {"failed_requests": len(failures)}
    if failures:
        first_fail, last_fail = failures[0], max(failures, key=lambda r: r.start)
        back = first(r for r in recs if r.ok and r.start > last_fail.start)
        outage.update(
            first_failure_at=round(first_fail.start, 3),
            last_failure_at=round(last_fail.start, 3),
            first_success_after_at=round(back.start, 3) if back else None,
            window_s=round(back.start - first_fail.start, 3) if back else None,
        )
        during = [r for r in recs if first_fail.start <= r.start <= (back or recs[-1]).start]
    else:
        during = []
    by_kind = {}
    for kind in ("write", "read", "health"):
        codes = Counter(str(r.status) for r in during if r.kind == kind)
        by_kind[kind] = dict(sorted(codes.items()))
    outage["status_codes_during"] = by_kind
    result["outage"] = outage

    # Recovery, per kind of request: from PostgreSQL accepting connections again (pg_ctl
    # start returned) to the end of the first success after that kind's last failure.
    # 0 means the first request after PostgreSQL was back already succeeded.
    recovery = {}
    for kind in ("write", "read", "health"):
        mine = [r for r in recs if r.kind == kind]
        last_fail = max((r.start for r in mine if not r.ok), default=up_at)
        back = first(r for r in mine if r.ok and r.start > last_fail)
        recovery[kind] = round(max(0.0, back.end - up_at), 3) if back else None
    recovered = all(v is not None and v <= args.recovery_limit for v in recovery.values())
    result["recovery_s_after_postgres_up"] = recovery
    result["recovered"] = recovered

    statuses = Counter(r.status for r in recs)
    five_hundreds = [r for r in recs if r.status == 500]
    not_plain = [r for r in recs if r.status == 503 and not r.page]
    unexpected = [r for r in failures if r.status not in (503, 500)]
    result["responses"] = {
        "total": len(recs),
        "by_status": {str(k): v for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))},
        "500": len(five_hundreds),
        "503_plain_page": sum(1 for r in recs if r.status == 503 and r.page == "html"),
        "503_health_json": sum(1 for r in recs if r.status == 503 and r.page == "json"),
        "503_not_plain": len(not_plain),
        "unexpected": [asdict(r) for r in unexpected[:20]],
        "unexpected_count": len(unexpected),
        "failures_before_restart": len(early),
    }

    # Writes.
    counts = verify["counts"]
    tokens = verify["tokens"]
    acked = [a for a in drill.attempts if a.acknowledged]
    unacked = [a for a in drill.attempts if not a.acknowledged]
    markers = {a.marker for a in drill.attempts}
    lost = [a.marker for a in acked if counts.get(a.marker, 0) == 0]
    duplicated = [m for m, c in counts.items() if c > 1]
    wrong_token = [
        a.marker for a in drill.attempts if any(t != a.token for t in tokens.get(a.marker, []))
    ]
    landed_anyway = [a.marker for a in unacked if counts.get(a.marker, 0) > 0]
    result["writes"] = {
        "attempted": len(drill.attempts),
        "acknowledged": len(acked),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "unacknowledged": len(unacked),
        "unacknowledged_landed": len(landed_anyway),
        "wrong_token": len(wrong_token),
        "unknown_rows": sum(c for m, c in counts.items() if m not in markers),
        "lost_markers": lost[:20],
        "duplicated_markers": duplicated[:20],
        "unacknowledged_landed_markers": landed_anyway[:20],
    }
    result["gunicorn"] = gunicorn_info

    problems = []
    if five_hundreds:
        problems.append(
            f"{len(five_hundreds)} response(s) were 500 (first at {five_hundreds[0].start:.2f} s)"
        )
    if not_plain:
        problems.append(f"{len(not_plain)} 503 response(s) were not the plain outage page")
    if unexpected:
        problems.append(
            f"{len(unexpected)} unexpected response(s), e.g. {unexpected[0].kind} "
            f"{unexpected[0].status} {unexpected[0].note}"
        )
    if early:
        problems.append(f"{len(early)} request(s) failed before PostgreSQL was restarted")
    if args.down_seconds > 0 and not failures:
        problems.append("no request failed: the drill did not make the outage visible")
    if not acked:
        problems.append("no write was acknowledged")
    if lost:
        problems.append(f"{len(lost)} acknowledged write(s) lost")
    if duplicated:
        problems.append(f"{len(duplicated)} write(s) saved more than once")
    if wrong_token or result["writes"]["unknown_rows"]:
        problems.append("sessions in the database do not match the submitted tokens/markers")
    if not recovered:
        problems.append(
            f"the app did not recover within {args.recovery_limit:g} s of PostgreSQL being back"
        )
    problems.extend(f"load thread stopped: {error}" for error in drill.errors)
    if not gunicorn_info["master_alive"]:
        problems.append("the gunicorn master died")
    result["problems"] = problems
    result["passed"] = not problems
    return result


def fmt_codes(codes):
    return ", ".join(f"{code} x{n}" for code, n in codes.items()) or "none"


def report(result):
    ev = result["events_s"]
    out = result["outage"]
    w = result["writes"]
    rsp = result["responses"]
    g = result["gunicorn"]
    lines = ["", "Fault drill: PostgreSQL restart under load", ""]
    lines.append("PostgreSQL (s since load start):")
    for name, at in ev.items():
        lines.append(f"  {at:7.2f}  {name.replace('_', ' ')}")
    lines.append(f"  PostgreSQL unavailable for {result['postgres_down_s']:.2f} s")
    lines.append("")
    if out["failed_requests"]:
        back = out["first_success_after_at"]
        lines.append(
            f"Outage seen by users: first failed request at {out['first_failure_at']:.2f} s, "
            f"last at {out['last_failure_at']:.2f} s, first success after it at "
            + ("-" if back is None else f"{back:.2f} s")
            + " -> outage window "
            + ("never closed" if back is None else f"{out['window_s']:.2f} s")
        )
    else:
        lines.append("Outage seen by users: no request failed")
    for kind, codes in out["status_codes_during"].items():
        lines.append(f"  {kind:6} during the outage: {fmt_codes(codes)}")
    lines.append(
        f"  503 answers: {rsp['503_plain_page']} the plain 'temporarily unavailable' page "
        f"with Retry-After, {rsp['503_health_json']} /health/ JSON 'unavailable', "
        f"{rsp['503_not_plain']} other; 500 answers: {rsp['500']}; "
        f"other failures: {rsp['unexpected_count']}"
    )
    rec = result["recovery_s_after_postgres_up"]
    lines.append(
        "Recovery after PostgreSQL was back: "
        + ", ".join(f"{k} {'never' if v is None else f'{v:.2f} s'}" for k, v in rec.items())
        + (" (by itself, no server restart)" if result["recovered"] else "")
    )
    workers = "unchanged" if g["workers_unchanged"] else f"replaced: now {g['workers_after']}"
    lines.append(
        f"  gunicorn master pid {g['master_pid']} {'still up' if g['master_alive'] else 'DIED'}; "
        f"workers {workers}; log: {g['outage_log_lines']} 'Database unavailable' line(s), "
        f"{g['worker_timeouts']} worker timeout(s)"
    )
    lines.append("")
    lines.append(
        f"Writes: {w['attempted']} attempted, {w['acknowledged']} acknowledged, "
        f"{w['lost']} lost, {w['duplicated']} duplicated; {w['unacknowledged']} "
        f"unacknowledged, of which {w['unacknowledged_landed']} landed anyway"
    )
    lines.append(f"Responses: {rsp['total']} in all, by status {rsp['by_status']}")
    lines.append("")
    if result["passed"]:
        lines.append("PASS")
    else:
        lines.append("FAIL:")
        lines.extend(f"  - {p}" for p in result["problems"])
    print("\n".join(lines), flush=True)


# Main ------------------------------------------------------------------------------------


def run_django(task, env):
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--django-task", task],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise SetupError(
        f"Django task {task!r} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    )


def tail(path, n=40):
    with contextlib.suppress(OSError):
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    return ""


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=(
            "Restart a private PostgreSQL under the running app (gunicorn, DEBUG off) and "
            "check: the plain 503 page during the outage, no 500, recovery by itself, and "
            "no acknowledged write lost or doubled. Exit 0 pass, 1 fail, 2 setup error."
        )
    )
    parser.add_argument("--duration", type=float, default=25, help="seconds of load (25)")
    parser.add_argument(
        "--restart-after", type=float, default=5, help="seconds of load before the restart (5)"
    )
    parser.add_argument(
        "--down-seconds",
        type=float,
        default=3,
        help="keep PostgreSQL stopped this long; 0 = pg_ctl restart -m fast (3)",
    )
    parser.add_argument(
        "--write-interval", type=float, default=0.1, help="seconds between writes (0.1)"
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=0.25,
        help="seconds between client-page and /health/ polls (0.25)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--conn-max-age", type=int, default=60, help="CONN_MAX_AGE (60)")
    parser.add_argument(
        "--recovery-limit",
        type=float,
        default=30,
        help="fail unless the app recovers this many seconds after PostgreSQL is back (30)",
    )
    parser.add_argument(
        "--pg-bin",
        default=os.environ.get("PG_BIN", DEFAULT_PG_BIN),
        help=f"PostgreSQL binaries (initdb, pg_ctl); default $PG_BIN or {DEFAULT_PG_BIN}",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (logs, cluster files)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every failure")
    parser.add_argument("--django-task", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.restart_after + args.down_seconds + 2 > args.duration:
        parser.error("--duration must leave time after the restart")
    return args


def terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None):
    args = parse_args(argv)
    if args.django_task:
        django_task(args.django_task)
        return 0
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)

    base = Path(tempfile.mkdtemp(prefix="sos-fault-pg-"))
    appdir = base / "app"
    appdir.mkdir()
    pg = PrivatePostgres(args.pg_bin, base, free_port())
    app_port = free_port(avoid={pg.port})
    app = None
    stop = threading.Event()
    status = 2
    try:
        print(f"Private PostgreSQL in {base} on 127.0.0.1:{pg.port}", flush=True)
        pg.init()
        pg.start()
        pg.createdb(DB_NAME)

        (appdir / f"{SETTINGS_MODULE}.py").write_text(
            "# The app's own settings; only the collectstatic folder moves out of the checkout.\n"
            "from sos.settings import *  # noqa: F403\n\n"
            f"STATIC_ROOT = {str(appdir / 'static')!r}\n",
            encoding="utf-8",
        )
        password = secrets.token_urlsafe(18)
        env = dict(os.environ)
        for name in ("SECRET_KEY", "CSRF_TRUSTED_ORIGINS", "EMAIL_HOST"):
            env.pop(name, None)
        env.update(
            SOS_DEV_MODE="1",
            DEBUG="0",
            DATABASE_URL=pg.url(DB_NAME),
            CONN_MAX_AGE=str(args.conn_max_age),
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="0",
            DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
            PYTHONPATH=os.pathsep.join([str(appdir), str(ROOT)]),
            PYTHONUNBUFFERED="1",
            FAULT_DRILL_PASSWORD=password,
        )
        print("Migrating a fresh database and creating a coordinator and a client ...", flush=True)
        cast = run_django("seed", env)

        gunicorn_log = appdir / "gunicorn.log"
        print(f"Starting gunicorn -w {args.workers} on 127.0.0.1:{app_port} ...", flush=True)
        app = start_app(env, app_port, args.workers, gunicorn_log)
        wait_for_app(app, app_port, args.workers, gunicorn_log)
        workers_before = children_of(app.pid)
        browser = Browser(app_port, timeout=15)
        sign_in(browser, cast["username"], password)

        run_id = uuid.uuid4().hex[:8]
        marker_prefix = f"fault-drill {run_id} write "
        drill = Drill()
        print(
            f"Load for {args.duration:g} s: a session every {args.write_interval:g} s, "
            f"client page and /health/ every {args.poll_interval:g} s; PostgreSQL restart "
            f"at {args.restart_after:g} s ...",
            flush=True,
        )
        t0 = time.monotonic()

        def now():
            return time.monotonic() - t0

        threads = load_loops(browser, drill, t0, stop, args, cast["client"], marker_prefix)
        time.sleep(args.restart_after)
        drill.events["restart_requested"] = now()
        if args.down_seconds > 0:
            pg.stop("fast")
            drill.events["postgres_stopped"] = now()
            time.sleep(args.down_seconds)
            drill.events["start_requested"] = now()
            pg.start()
        else:
            pg.restart()
        drill.events["postgres_up"] = now()
        print(
            f"PostgreSQL stopped at {drill.events['restart_requested']:.2f} s, "
            f"back at {drill.events['postgres_up']:.2f} s",
            flush=True,
        )

        # Run to the end; if the app is still failing, wait up to the recovery limit.
        up_at = drill.events["postgres_up"]
        time.sleep(max(0.0, args.duration - now()))
        while now() < up_at + args.recovery_limit:
            recent = [r for r in drill.records if r.start > now() - 2]
            kinds_ok = {r.kind for r in recent if r.ok}
            if {"write", "read", "health"} <= kinds_ok and all(r.ok for r in recent):
                break
            time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

        workers_after = children_of(app.pid)
        gunicorn_info = {
            "master_pid": app.pid,
            "master_alive": app.poll() is None,
            "workers_before": sorted(workers_before),
            "workers_after": sorted(workers_after),
            "workers_unchanged": workers_before == workers_after,
        }
        stop_app(app)
        app = None
        log_text = gunicorn_log.read_text(errors="replace")
        gunicorn_info["outage_log_lines"] = log_text.count("Database unavailable while serving")
        gunicorn_info["worker_timeouts"] = log_text.count("WORKER TIMEOUT")

        env["FAULT_DRILL_MARKER_PREFIX"] = marker_prefix
        verify = run_django("verify", env)
        result = analyse(drill, verify, args, gunicorn_info)
        report(result)
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
            print(f"Figures written to {args.json}")
        if not result["passed"]:
            print(f"\ngunicorn log (last lines):\n{tail(gunicorn_log)}")
        status = 0 if result["passed"] else 1
    except SetupError as exc:
        print(f"SETUP ERROR: {exc}", file=sys.stderr)
        for name, path in (("gunicorn", appdir / "gunicorn.log"), ("postgres", pg.log)):
            text = tail(path, 30)
            if text:
                print(f"\n{name} log (last lines):\n{text}", file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        print("Interrupted: cleaning up.", file=sys.stderr)
        status = 130
    finally:
        # Cleaning up must not be cut short by a second Ctrl-C or TERM.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        stop.set()
        stop_app(app)
        pg.destroy()
        if args.keep:
            print(f"Kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
