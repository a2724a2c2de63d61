"""
Replication: each area measured by its own age, so that a new area's first years sit beside
the first area's first years (docs/figures.md, "Replication").

For an area launched on L, programme year k (k >= 1) runs from L + 365(k - 1) to
L + 365k - 1 inclusive, and a date before L counts in year 1. Every count is grouped by
borough and programme year in SQL, with the same whole-day arithmetic as the other figures
(``EpochDay``), so the number of queries is fixed: it does not grow with the areas, the
years or the clients.
"""

from collections import Counter, defaultdict
from datetime import timedelta

from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Greatest

from ..models import Client, SupportSession
from .definitions import in_cohort, index_day, reoffenders
from .export import write_csv
from .sql import Cases, EpochDay, _rows, borough_scope, epoch_day
from .statistics import wilson_interval
from .windows import WAITING_DAYS

YEAR_DAYS = 365

# The figures of one area's programme year, in the order of the JSON and the CSV.
YEAR_KEYS = (
    "year",
    "start",
    "end",
    "complete",
    "referrals",
    "starts",
    "closures",
    "completed",
    "active_at_end",
    "sessions_attended",
    "hours_attended",
    "intake_cohort",
    "intake_reoffenders",
    "intake_reoffending_rate",
    "wilson_low",
    "wilson_high",
)
REPLICATION_COLUMNS = ("slug", "name", "launched_on", *YEAR_KEYS)


def _year_number(days_since_launch):
    """The programme year of a day this many days after the launch; before it, year 1."""
    return max(1, days_since_launch // YEAR_DAYS + 1)


def programme_year(day, launched_on):
    """The programme year (1, 2...) that ``day`` falls in, for an area launched on a date."""
    return _year_number((day - launched_on).days)


def _year_of(day, launched="borough__launched_on"):
    """
    The programme year of ``day`` (an integer expression of days) in SQL. Integer division
    truncates towards zero on both databases, which is the floor for days on or after the
    launch; any day before it is year 1.
    """
    return Greatest(Value(1), (day - EpochDay(launched)) / Value(YEAR_DAYS) + Value(1))


def _counts_by_year(clients, column, counts):
    """One grouped query: {(borough id, year of ``column``): Counter(counts)}."""
    rows = (
        clients.annotate(year=_year_of(EpochDay(column)))
        .order_by()
        .values("borough", "year")
        .annotate(**counts)
    )
    return {(row.pop("borough"), row.pop("year")): Counter(row) for row in rows}


def _tallies(pks, as_of):
    """{(borough id, year): Counter} of the counts of every year, and the cases: 5 queries."""
    cases = Cases.of_boroughs(pks)
    clients = cases.clients
    tallies = defaultdict(Counter)
    for tally in (
        _counts_by_year(
            clients.filter(referred_on__lte=as_of), "referred_on", {"referrals": Count("pk")}
        ),
        _counts_by_year(
            clients.filter(started_on__lte=as_of), "started_on", {"starts": Count("pk")}
        ),
        _counts_by_year(
            clients.filter(ended_on__lte=as_of),
            "ended_on",
            {
                "closures": Count("pk"),
                "completed": Count("pk", filter=Q(closure_reason=Client.ClosureReason.COMPLETED)),
                # Leaving the active caseload: a started client whose support ended by A.
                "left": Count("pk", filter=Q(started_on__lte=as_of)),
            },
        ),
    ):
        for shard, counts in tally.items():
            tallies[shard].update(counts)
    sessions = (
        SupportSession.objects.attended()
        .filter(client__borough__in=pks, date__lte=as_of)
        .annotate(year=_year_of(EpochDay("date"), "client__borough__launched_on"))
        .order_by()
        .values_list("client__borough", "year")
        .annotate(sessions=Count("pk"), minutes=Sum("duration_minutes"))
    )
    for borough, year, sessions_n, minutes in _rows(sessions):
        tallies[borough, year].update(sessions_attended=sessions_n, minutes=minutes or 0)
    intake = (
        clients.annotate(index_day=index_day())
        .filter(in_cohort(as_of))
        .annotate(year=_year_of(F("index_day")))
        .order_by()
        .values_list("borough", "year")
        .annotate(n=Count("pk"))
    )
    for borough, year, n in _rows(intake):
        tallies[borough, year]["intake_cohort"] = n
    return tallies, cases


def replication(scope, as_of):
    """
    ``{"as_of", "reference_borough", "boroughs"}``: every area of ``scope`` (earliest
    launched first, then by slug) with ``slug``, ``name``, ``launched_on`` and ``years``,
    one dict of ``YEAR_KEYS`` per programme year from 1 to the year that holds ``as_of``
    (none for an area launched after it). The reference area is the first of them. 7
    queries.
    """
    areas = list(
        borough_scope(scope)
        .order_by("launched_on", "slug")
        .values("pk", "slug", "name", "launched_on")
    )
    pks = [area["pk"] for area in areas]
    tallies, cases = _tallies(pks, as_of)
    launched = {area["pk"]: epoch_day(area["launched_on"]) for area in areas}
    cohort_cut = epoch_day(as_of) - WAITING_DAYS
    for _client, borough, _shard, index, _first, _n in _rows(reoffenders(cases, as_of)):
        if index <= cohort_cut:  # in the cohort (``in_cohort``)
            tallies[borough, _year_number(index - launched[borough])]["intake_reoffenders"] += 1
    boroughs = [
        {
            "slug": area["slug"],
            "name": area["name"],
            "launched_on": area["launched_on"],
            "years": _years(area, tallies, as_of),
        }
        for area in areas
    ]
    return {
        "as_of": as_of,
        "reference_borough": areas[0]["slug"] if areas else None,
        "boroughs": boroughs,
    }


def _years(area, tallies, as_of):
    launched_on = area["launched_on"]
    if launched_on > as_of:
        return []
    years = []
    started = left = 0
    for year in range(1, programme_year(as_of, launched_on) + 1):
        c = tallies.get((area["pk"], year), Counter())
        start = launched_on + timedelta(days=YEAR_DAYS * (year - 1))
        end = start + timedelta(days=YEAR_DAYS - 1)
        # Active at min(end, A): started by then, less those whose support ended by then.
        started += c["starts"]
        left += c["left"]
        cohort, reoffended = c["intake_cohort"], c["intake_reoffenders"]
        low, high = wilson_interval(reoffended, cohort)
        years.append(
            {
                "year": year,
                "start": start,
                "end": end,
                "complete": end <= as_of,
                "referrals": c["referrals"],
                "starts": c["starts"],
                "closures": c["closures"],
                "completed": c["completed"],
                "active_at_end": started - left,
                "sessions_attended": c["sessions_attended"],
                "hours_attended": c["minutes"] / 60,
                "intake_cohort": cohort,
                "intake_reoffenders": reoffended,
                "intake_reoffending_rate": reoffended / cohort if cohort else None,
                "wilson_low": low,
                "wilson_high": high,
            }
        )
    return years


def replication_rows(data):
    """The replication figures as rows of ``REPLICATION_COLUMNS``: one per area and year."""
    for borough in data["boroughs"]:
        for year in borough["years"]:
            yield {
                "slug": borough["slug"],
                "name": borough["name"],
                "launched_on": borough["launched_on"],
                **year,
            }


def write_replication_csv(data, stream):
    """The replication figures as CSV (``write_csv``), one row per area and year."""
    write_csv(stream, REPLICATION_COLUMNS, replication_rows(data))
