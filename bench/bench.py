"""
Server-time benchmark of the pages that matter at London-wide scale.

For each page: a warmed Django process (DEBUG off) serves it 3 times to warm caches, then
N times timed (default 25); it prints p50 and p95 in milliseconds, the SQL queries per
request, and the floor: the same SQL the page ran, executed directly on the database
connection with every row fetched, so "ratio" is how much the page costs above its own
queries (Python, templates, middleware). Run against several databases (e.g. 10,000 and
100,000 clients) it also prints how each time grows.

    .venv/bin/python bench/bench.py --db 10k=postgres://postgres@127.0.0.1:5432/sos_bench_10k \\
                                    --db 100k=postgres://postgres@127.0.0.1:5432/sos_bench_100k

Each database is measured in its own process (settings are read once per process).
`make bench` builds the two data sets first if they are missing.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

# The pages' targets (p50, milliseconds) and the dashboards' allowed ratio to floor.
# The dashboards are measured five ways: "cached" (nothing changed since the last view),
# "after a session" (a session was logged in one borough just before each view: the usual
# case while coordinators work, which recomputes that borough's sessions half), "after a
# milestone" (a milestone recorded: that case shard's milestones), "after an offence" (an
# offence recorded: that case shard's cases, the heavier case change) and "nothing
# cached" (every borough computed: the first view of a day or after a restart). The p50
# targets apply to the first four; the ratio to the SQL floor to the fifth, the only one
# whose time is mostly SQL.
TARGET_P50_MS = {
    "network dashboard, cached": 300,
    "network dashboard, after a session": 300,
    "network dashboard, after a milestone": 300,
    "network dashboard, after an offence": 300,
    "borough dashboard, cached": 150,
    "borough dashboard, after a session": 150,
    "borough dashboard, after a milestone": 150,
    "borough dashboard, after an offence": 150,
    "coordinator home": 80,
    "client list": 80,
    "client list, deep page, filtered": 80,
    "mentor list, all boroughs": 80,
    "client page (100+ sessions)": 80,
    "session log POST": 60,
    # The impact report reads every client started in its period, so its time grows with
    # the data; the target is absolute: a network PDF at 100,000 clients in under 5 s.
    "impact report page, network, last year": 2000,
    "impact report PDF, network, last year": 5000,
    "impact report PDF, network, every year": 5000,
}
GROWS_WITH_DATA = {name for name in TARGET_P50_MS if name.startswith("impact report")}
FLOOR_RATIO_TARGET = {
    "network dashboard, nothing cached": 1.5,
    "borough dashboard, nothing cached": 1.5,
}


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


# --- the measuring process -------------------------------------------------------------


def measure(label, requests, only=None):
    """Runs inside a process whose settings point at one database. Returns a dict."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sos.settings")
    django.setup()

    from django.conf import settings
    from django.db import connection
    from django.db.models import Count, Max
    from django.test import Client as Browser
    from django.test.utils import CaptureQueriesContext, override_settings, setup_test_environment

    from mentoring.models import Borough, Client, StaffProfile, SupportSession

    setup_test_environment()  # allows the test client's ALLOWED_HOSTS 'testserver'
    # Static URLs without collectstatic's manifest: the same cost, no build step needed.
    override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    counts = {
        "clients": Client.objects.count(),
        "sessions": SupportSession.objects.count(),
        "boroughs": Borough.objects.count(),
    }

    # The busiest borough's coordinator, a network manager, and that borough's client with
    # the most sessions.
    borough = Borough.objects.annotate(n=Count("clients")).order_by("-n", "pk").first()
    coordinator = (
        StaffProfile.objects.filter(role=StaffProfile.Role.COORDINATOR, boroughs=borough)
        .select_related("user")
        .first()
    )
    manager = (
        StaffProfile.objects.filter(role=StaffProfile.Role.MANAGER, boroughs__isnull=True)
        .select_related("user")
        .first()
    )
    if coordinator is None or manager is None:
        raise SystemExit(
            f"{label}: needs a coordinator of {borough} and a manager over all boroughs "
            "(seed_scale creates them)."
        )
    busy = (
        Client.objects.filter(borough=borough, status=Client.Status.ACTIVE)
        .annotate(n=Count("sessions"))
        .order_by("-n", "pk")
        .first()
    )
    active_in_borough = Client.objects.filter(borough=borough, status="ACTIVE").count()
    deep_page = max(1, (active_in_borough // 25) * 3 // 4)
    mentor_id = busy.assignments.filter(ended_on__isnull=True).values_list("mentor", flat=True)[0]
    today = time.strftime("%d/%m/%Y")

    def session_post():
        return {
            "mentor": mentor_id,
            "date": today,
            "duration_minutes": "60",
            "kind": "PRACTICAL",
            "mode": "PHONE",
            "attendance": "ATTENDED",
            "notes": "Benchmark session",
            "submission_token": str(uuid.uuid4()),
        }

    from django.core.cache import caches

    from mentoring.models import ImpactReportLog, Milestone, Offence
    from mentoring.models import SupportSession as Session

    others = list(Borough.objects.exclude(pk=borough.pk).order_by("pk"))
    logged = {"n": 0}

    def write_in(where, write):
        """
        A change before each view: ``write(client)`` for the first active client of
        ``where`` (a borough), or of the next of the other boroughs when it is None.
        """

        def change():
            logged["n"] += 1
            target = where or others[logged["n"] % len(others)]
            client = (
                Client.objects.filter(borough=target, status=Client.Status.ACTIVE)
                .order_by("pk")
                .first()
            )
            write(client)

        return change

    def log_a_session(client):
        """A session, as the form would save it: its sessions half changes."""
        Session.objects.create(
            client=client,
            mentor_id=client.assignments.filter(ended_on__isnull=True)
            .values_list("mentor", flat=True)
            .first()
            or mentor_id,
            date=time.strftime("%Y-%m-%d"),
            duration_minutes=60,
            notes="Benchmark change",
        )

    def record_a_milestone(client):
        """A milestone: its case shard's milestones change."""
        Milestone.objects.create(
            client=client,
            kind=Milestone.Kind.SECURED_ACCOMMODATION,
            achieved_on=time.strftime("%Y-%m-%d"),
        )

    def record_an_offence(client):
        """A proven offence: its case shard's cases change (counts, reoffending, histograms)."""
        Offence.objects.create(
            client=client,
            offence_date=time.strftime("%Y-%m-%d"),
            outcome_date=time.strftime("%Y-%m-%d"),
            disposal=Offence.Disposal.FINE,
            offence_type=Offence.OffenceType.THEFT,
            source=Offence.Source.POLICE,
        )

    def empty_cache():
        caches["figures"].clear()

    network, borough_page = "/dashboard/", f"/dashboard/{borough.slug}/"
    pages = [
        ("network dashboard, cached", manager.user, "get", network, None),
        (
            "network dashboard, after a session",
            manager.user,
            "get",
            network,
            None,
            write_in(None, log_a_session),
        ),
        (
            "network dashboard, after a milestone",
            manager.user,
            "get",
            network,
            None,
            write_in(None, record_a_milestone),
        ),
        (
            "network dashboard, after an offence",
            manager.user,
            "get",
            network,
            None,
            write_in(None, record_an_offence),
        ),
        ("network dashboard, nothing cached", manager.user, "get", network, None, empty_cache),
        ("borough dashboard, cached", manager.user, "get", borough_page, None),
        (
            "borough dashboard, after a session",
            manager.user,
            "get",
            borough_page,
            None,
            write_in(borough, log_a_session),
        ),
        (
            "borough dashboard, after a milestone",
            manager.user,
            "get",
            borough_page,
            None,
            write_in(borough, record_a_milestone),
        ),
        (
            "borough dashboard, after an offence",
            manager.user,
            "get",
            borough_page,
            None,
            write_in(borough, record_an_offence),
        ),
        ("borough dashboard, nothing cached", manager.user, "get", borough_page, None, empty_cache),
        ("coordinator home", coordinator.user, "get", "/", None),
        ("client list", coordinator.user, "get", "/clients/", None),
        (
            "client list, deep page, filtered",
            coordinator.user,
            "get",
            f"/clients/?status=ACTIVE&page={deep_page}",
            None,
        ),
        # Every borough's mentors, for a London-wide manager: a page of 100 of 788.
        ("mentor list, all boroughs", manager.user, "get", "/mentors/", None),
        (
            "client page (100+ sessions)",
            coordinator.user,
            "get",
            f"/clients/{busy.reference}/",
            None,
        ),
        (
            "session log POST",
            coordinator.user,
            "post",
            f"/clients/{busy.reference}/sessions/new/",
            session_post,
        ),
    ]
    year = int(today[-4:]) - (1 if int(today[3:5]) >= 4 else 2)
    last_year = f"/reports/impact/?scope=network&from=01/04/{year}&to=31/03/{year + 1}"
    every_year = f"/reports/impact/?scope=network&from=01/01/2000&to={today}&format=pdf"
    pages += [
        ("impact report page, network, last year", manager.user, "get", last_year, None),
        (
            "impact report PDF, network, last year",
            manager.user,
            "get",
            last_year + "&format=pdf",
            None,
        ),
        ("impact report PDF, network, every year", manager.user, "get", every_year, None),
    ]
    if only:
        pages = [page for page in pages if only in page[0]]
    results = {
        "label": label,
        "counts": counts,
        "busy_client_sessions": busy.n,
        "deep_page": deep_page,
        "machine": machine_speed(connection),
        "pages": {},
    }
    # What the benchmark writes (sessions, milestones, offences) is removed when it ends,
    # through the ORM so that the triggers take it out of the summaries too: a second
    # run measures the same data as the first, not a busier client page and a borough
    # with more sessions.
    written = {
        model: model.objects.aggregate(last=Max("pk"))["last"] or 0
        for model in (Session, Milestone, Offence, ImpactReportLog)
    }
    try:
        for name, user, method, url, data, *before in pages:
            browser = Browser()
            browser.force_login(user)
            call = getattr(browser, method)

            def request(call=call, url=url, data=data, method=method, name=name, before=before):
                if before:
                    before[0]()  # not timed: the page is timed below, around the whole call
                response = call(url, data() if data else None)
                expected = 302 if method == "post" else 200
                if response.status_code != expected:
                    raise SystemExit(f"{label}: {name} answered {response.status_code} ({url})")
                return response

            for _ in range(3):
                request()
            if before:
                before[0]()
            with CaptureQueriesContext(connection) as captured:
                request(before=())
            queries = [q["sql"] for q in captured.captured_queries]
            timings = []
            for _ in range(requests):
                if before:
                    before[0]()
                start = time.perf_counter()
                request(before=())
                timings.append((time.perf_counter() - start) * 1000)
            floor = measure_floor(connection, queries, method, requests)
            p50 = statistics.median(timings)
            results["pages"][name] = {
                "url": url,
                "requests": requests,
                "p50_ms": round(p50, 1),
                "p95_ms": round(percentile(timings, 0.95), 1),
                "queries": len(queries),
                "floor_p50_ms": round(floor, 1) if floor is not None else None,
                "ratio_to_floor": round(p50 / floor, 2) if floor else None,
            }
    finally:
        for model, last in written.items():
            model.objects.filter(pk__gt=last).delete()
    return results


def machine_speed(connection, repeats=7):
    """
    The same fixed work on every run, so that runs on different days (or machines) can be
    compared: a million-number sum in Python and in PostgreSQL, median ms of ``repeats``.
    A page twice as slow on a machine whose figures here are twice as slow is the machine.
    """

    def median_ms(work):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            work()
            times.append((time.perf_counter() - start) * 1000)
        return round(statistics.median(times), 1)

    def sql():
        with connection.cursor() as cursor:
            cursor.execute("SELECT sum(i) FROM generate_series(1, 1000000) AS i")
            cursor.fetchall()

    return {"python_ms": median_ms(lambda: sum(range(1_000_000))), "sql_ms": median_ms(sql)}


def measure_floor(connection, queries, method, repeats):
    """
    The page's own SQL, run directly: every SELECT it made (session and user look-ups
    included), each result fetched in full. Writes are not replayed, so a POST has no floor.
    """
    if method != "get":
        return None
    selects = [sql for sql in queries if sql.lstrip().upper().startswith(("SELECT", "WITH"))]
    totals = []
    with connection.cursor() as cursor:
        for _ in range(max(5, repeats // 2)):
            start = time.perf_counter()
            for sql in selects:
                cursor.execute(sql)
                cursor.fetchall()
            totals.append((time.perf_counter() - start) * 1000)
    return statistics.median(totals)


# --- the driver ------------------------------------------------------------------------


def run_one(label, url, requests, only=None):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        SOS_DEV_MODE="1",  # no secret key needed; plain-HTTP cookies; no 2FA
        DEBUG="0",  # but DEBUG off, as in production
        SOS_REQUIRE_2FA="0",
        CONN_MAX_AGE="600",
    )
    out = subprocess.run(
        [sys.executable, __file__, "--child", label, "--requests", str(requests)]
        + (["--only", only] if only else []),
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"benchmark of {label} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(results):
    lines = []
    sizes = [r["label"] for r in results]
    head = f"{'page':<34}{'size':>6}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}"
    head += f"{'floor ms':>10}{'ratio':>7}{'target':>8}{'growth':>8}"
    lines.append(head)
    lines.append("-" * len(head))
    first = results[0]
    for name in first["pages"]:
        for r in results:
            page = r["pages"][name]
            floor = "" if page["floor_p50_ms"] is None else f"{page['floor_p50_ms']:.1f}"
            ratio = "" if page["ratio_to_floor"] is None else f"{page['ratio_to_floor']:.2f}"
            growth = ""
            if r is not first:
                growth = f"{page['p50_ms'] / first['pages'][name]['p50_ms']:.2f}x"
            target = TARGET_P50_MS.get(name, "")
            lines.append(
                f"{name if r is first else '':<34}{r['label']:>6}{page['p50_ms']:>9.1f}"
                f"{page['p95_ms']:>9.1f}{page['queries']:>9}{floor:>10}{ratio:>7}"
                f"{target:>8}{growth:>8}"
            )
    lines.append("")
    for r in results:
        c = r["counts"]
        lines.append(
            f"{r['label']}: {c['clients']:,} clients, {c['sessions']:,} sessions, "
            f"{c['boroughs']} boroughs; client page has {r['busy_client_sessions']} sessions; "
            f"deep page {r['deep_page']}; database {r['database_mb']:,} MB, "
            f"shared_buffers {r['shared_buffers_mb']:,} MB; machine: a million-number sum "
            f"{r['machine']['python_ms']} ms in Python, {r['machine']['sql_ms']} ms in SQL"
        )
    return "\n".join(lines), sizes


def verdicts(results):
    """Each target, met or not, on the largest data set and across sizes."""
    largest, smallest = results[-1], results[0]
    checks = []
    for name, target in TARGET_P50_MS.items():
        if name not in largest["pages"]:
            continue  # not measured this time (--only)
        p50 = largest["pages"][name]["p50_ms"]
        checks.append((f"{name} p50 {p50:.1f} ms <= {target} ms", p50 <= target))
    for name, limit in FLOOR_RATIO_TARGET.items():
        if name not in largest["pages"]:
            continue
        ratio = largest["pages"][name]["ratio_to_floor"]
        checks.append((f"{name} within {limit}x of its SQL floor ({ratio:.2f}x)", ratio <= limit))
    if len(results) > 1:
        for name in smallest["pages"]:
            q_small = smallest["pages"][name]["queries"]
            q_large = largest["pages"][name]["queries"]
            checks.append(
                (f"{name}: same queries at both sizes ({q_small} / {q_large})", q_small == q_large)
            )
            if name in GROWS_WITH_DATA:
                continue
            growth = largest["pages"][name]["p50_ms"] / smallest["pages"][name]["p50_ms"]
            # Beside a page that is mostly SQL, how much its own queries grew: the part of
            # its growth that is the database reading more rows, not the page.
            floors = (
                smallest["pages"][name]["floor_p50_ms"],
                largest["pages"][name]["floor_p50_ms"],
            )
            floor = (
                f" (its SQL floor {floors[1] / floors[0]:.2f}x)"
                if name in FLOOR_RATIO_TARGET
                else ""
            )
            checks.append((f"{name}: grows {growth:.2f}x <= 2x{floor}", growth <= 2))
    return checks


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db",
        action="append",
        metavar="LABEL=DATABASE_URL",
        help="a data set to measure, smallest first (repeat)",
    )
    parser.add_argument(
        "--sizes",
        nargs="*",
        metavar="LABEL",
        help="build (if missing) and measure these data sets: 10k and/or 100k",
    )
    parser.add_argument("--requests", type=int, default=25, help="timed requests per page")
    parser.add_argument("--json", type=Path, default=RESULTS / "bench.json")
    parser.add_argument("--only", metavar="TEXT", help="measure only pages whose name has TEXT")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(measure(args.child, args.requests, args.only)))
        return 0
    sys.path.insert(0, str(ROOT / "bench"))
    import datasets

    specs = list(args.db or [])
    if args.sizes:
        specs += [f"{label}={datasets.ensure(label)}" for label in args.sizes]
    if not specs:
        parser.error("give --sizes 10k 100k, or --db LABEL=DATABASE_URL")
    results = []
    for spec in specs:
        label, _, url = spec.partition("=")
        buffers, size = datasets.warn_if_buffers_small(url)
        print(f"Measuring {label} ({url}) ...", flush=True)
        results.append(run_one(label, url, args.requests, args.only))
        results[-1].update(shared_buffers_mb=buffers >> 20, database_mb=size >> 20)
    text, _sizes = table(results)
    print()
    print(text)
    print()
    checks = verdicts(results)
    for description, ok in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {description}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {"results": results, "checks": [{"check": d, "met": ok} for d, ok in checks]},
            indent=2,
        )
    )
    print(f"\nFigures written to {args.json}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
