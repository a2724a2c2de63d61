"""
The programme's outcome figures, computed in SQL for a scope of boroughs as of a date.

Definitions: README.md, "How the figures are defined". Every date window is counted in whole
days through ``EpochDay`` (days since 1970-01-01), so that SQLite, PostgreSQL and Python
agree to the day: no timestamp arithmetic, no time zones.

Pages, exports and management commands all read their figures from here. The public API:

``report(scope, as_of)``
    ``{"as_of", "network", "boroughs"}``: the figures (``FIGURES``) for the whole scope
    and for each borough in it (each also with ``slug`` and ``name``). 19 queries with
    nothing cached, 3 with every borough cached (``scope_parts``, ``borough_parts``).
``dashboard(scope, as_of)``
    ``report`` plus everything a dashboard draws: ``monthly``, ``closures_by_reason``,
    ``mentor_load``, ``support_areas``, ``milestones``, ``reoffending_curve``,
    ``programme_length`` and ``baselines``. 22 queries with nothing cached, 5 with
    everything cached.
``monthly_activity``, ``closures_by_reason``, ``mentor_load``, ``support_areas_covered``,
``milestones_achieved``, ``reoffending_curve``, ``programme_length`` ``(scope, as_of)``
    One piece each, a fixed number of queries each.
``outcomes(clients, as_of)`` / ``outcomes_by_borough(clients, as_of)``
    The same figures for any client queryset (whole, or keyed by borough id).
``kaplan_meier``, ``survival_curve``, ``survival_at``, ``wilson_interval``, ``baselines``
    The pure arithmetic, for tests and for pages that draw their own tables.
``report_json(report)`` / ``write_report_csv(report, stream)``
    The one export format for the command and the CSV downloads: money as numbers with two
    decimals in JSON and as ``1234.50`` text in CSV, rates as fractions, null/empty where a
    denominator is 0.

A ``scope`` is a Borough queryset (normally ``Borough.objects.for_user(user)``, the one
scoping entry point), a single Borough, a list of borough ids, or None for every borough.

Every figure is built from per-borough tallies: counts, and grouped histograms of days
(for the medians and the Kaplan-Meier curves). Tallies add up, so the network figures are
the sum of the boroughs' tallies, not a second computation, and the number of queries does
not grow with the data: Python only walks the distinct days of a histogram (at most 366 for
reoffending, a few thousand for programme length), never the clients.
"""

import csv
import hashlib
import json
import logging
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractYear, Least, TruncMonth

from .. import summaries
from ..models import (
    Borough,
    Client,
    Mentor,
    Milestone,
    Offence,
    SessionAreaDay,
    SessionDay,
    SupportArea,
    SupportSession,
)

logger = logging.getLogger("mentoring.metrics")

FOLLOW_UP_DAYS = 365  # an offence counts if committed within a year of the index date
WAITING_DAYS = 548  # ...and proven (convicted or cautioned) within 18 months of it
# Kaplan-Meier observation stops half a year before A, so that an offence has had time to
# reach court before the curve counts its absence.
KM_LAG_DAYS = 183
WILSON_Z = 1.959964  # two-sided 95%
SMALL_COHORT = 10  # a rate over fewer people is shown with its interval and a marker
MIN_AT_RISK = 10  # survival curves stop where fewer remain at risk
ACTIVITY_DAYS = 28  # sessions, hours and engagement: attended sessions in (A - 28, A]
# Support areas covered and milestones achieved look back a year: a month of one borough's
# sessions is too few to show which needs the programme meets.
RECENT_DAYS = 365
MONTHS = 24  # monthly series: the last 24 calendar months, the last one ending on A
SIX_MONTHS_DAYS = 183  # "reached 6 months" = support lasted at least this many days
TWELVE_MONTHS_DAYS = 365
CENTS = Decimal("0.01")

# Context figures, shown as context and never as a matched comparison group.
BASELINES = [
    ("Case study: people left to public authorities alone", 0.75),
    ("MoJ proven reoffending, juveniles (Apr-Jun 2023 cohort)", 0.316),
    ("MoJ juveniles released from custody (year ending Mar 2016)", 0.701),
]

# The figures of one scope, in the order of the CSV columns.
FIGURES = (
    "clients_referred",
    "clients_started",
    "referral_to_start_rate",
    "active_caseload",
    "cohort",
    "small_cohort",
    "pending",
    "reoffenders",
    "reoffending_rate",
    "wilson_low",
    "wilson_high",
    "reoffences_per_100",
    "success_rate",
    "km_reoffending_12m",
    "km_at_risk_12m",
    "offences_awaiting_outcome",
    "clients_ended",
    "clients_completed",
    "completion_rate",
    "needs_contact",
    "engaged_clients",
    "engagement_rate",
    "sessions_last_28_days",
    "hours_last_28_days",
    "median_days_referral_to_start",
    "median_programme_days",
    "programme_reached_6_months",
    "programme_reached_12_months",
    "cost_per_client",
    "cost_of_clients_started",
    "grants_total",
)
REPORT_COLUMNS = ("scope", "slug", "name", *FIGURES)
NETWORK_NAME = "All boroughs"

EPOCH = date(1970, 1, 1)


def epoch_day(day):
    return (day - EPOCH).days


class EpochDay(Func):
    """Whole days since 1970-01-01 of a date column, as an integer, on both backends."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        raise NotImplementedError(f"EpochDay is not implemented for {connection.vendor}")

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql_template(
            compiler, connection, "CAST(julianday(%(expressions)s) - 2440587.5 AS INTEGER)"
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql_template(compiler, connection, "(%(expressions)s - DATE '1970-01-01')")

    def as_sql_template(self, compiler, connection, template):
        return super().as_sql(compiler, connection, template=template)


# Scope ---------------------------------------------------------------------------------


def borough_scope(scope):
    """
    The boroughs a set of figures covers, as a Borough queryset. ``scope`` is a Borough
    queryset (e.g. ``Borough.objects.for_user(user)``), a Borough, an iterable of borough
    ids, or None for every borough.
    """
    if scope is None:
        return Borough.objects.all()
    if isinstance(scope, Borough):
        return Borough.objects.filter(pk=scope.pk)
    if isinstance(scope, QuerySet):
        if scope.model is not Borough:
            raise TypeError(f"A scope is a Borough queryset, not a {scope.model.__name__} one.")
        return scope
    return Borough.objects.filter(pk__in=list(scope))


def _clients_in(boroughs):
    return Client.objects.filter(borough__in=boroughs)


# Building blocks shared by the queries ---------------------------------------------------


def index_day(prefix=""):
    """
    The index date (release date if support started in custody, else start) as a day; of
    the client through ``prefix`` (``"client__"`` from an offence).
    """
    return EpochDay(Coalesce(f"{prefix}release_date", f"{prefix}started_on"))


def _in_follow_up(offences, index):
    """``offences`` committed after the index day ``index`` and within 365 days of it."""
    return offences.annotate(offence_day=EpochDay("offence_date")).filter(
        offence_day__gt=index, offence_day__lte=index + Value(FOLLOW_UP_DAYS)
    )


def _proven(offences, index, as_of):
    """
    The ``offences`` that count as proven reoffences as of ``as_of`` for a client whose
    index day is ``index``: committed after the index date and within 365 days of it,
    proven by a conviction or caution on or before both index + 548 days and ``as_of``.
    """
    proven = offences.filter(outcome_date__lte=as_of).exclude(disposal__in=Offence.NOT_PROVEN)
    return (
        _in_follow_up(proven, index)
        .annotate(outcome_day=EpochDay("outcome_date"))
        .filter(outcome_day__lte=index + Value(WAITING_DAYS))
    )


def proven_reoffences(as_of):
    """
    Offences of the outer client that count as proven reoffences as of ``as_of``
    (``_proven``). The outer query annotates ``index_day``.
    """
    return _proven(Offence.objects.filter(client=OuterRef("pk")), OuterRef("index_day"), as_of)


def reoffenders(cases, as_of):
    """
    One query: ``(client id, borough id, year, index day, first, number)`` for each client
    of ``cases`` (``Cases``) started by ``as_of`` with a proven reoffence (``_proven``):
    its shard, the day of the first and how many. A join of the offences with their
    clients, grouped by client, rather than a lookup of every client's offences (326 ms ->
    60 ms for 40 boroughs of 100,000 clients).
    """
    offences = (
        Offence.objects.filter(cases.related, client__started_on__lte=as_of)
        .annotate(
            index_day=index_day("client__"),
            year=cases.year("client__"),
        )
        .order_by()
    )
    return (
        _proven(offences, F("index_day"), as_of)
        .values_list("client", "client__borough", "year", "index_day")
        .annotate(first=Min("offence_day"), n=Count("pk"))
    )


def awaiting_outcome(cases, as_of):
    """
    One grouped query: ``(borough id, year, offences)`` per shard of ``cases``: the
    possible reoffences still awaiting an outcome on ``as_of``. An offence of a client
    started by A, committed after the index date, within 365 days of it and by A, with no
    outcome known on A (none recorded, or one dated after A), while the client's 548 days
    for a proof are not over: if it is proven in time it will count (``_proven``). Once
    the 548 days are over it never can, and it is not counted here.
    """
    offences = Offence.objects.filter(
        cases.related,
        Q(outcome_date__isnull=True) | Q(outcome_date__gt=as_of),
        client__started_on__lte=as_of,
        offence_date__lte=as_of,
    ).annotate(index_day=index_day("client__"), year=cases.year("client__"))
    return (
        _in_follow_up(offences, F("index_day"))
        .filter(index_day__gt=Value(epoch_day(as_of) - WAITING_DAYS))
        .order_by()
        .values_list("client__borough", "year")
        .annotate(n=Count("pk"))
    )


def with_outcome_flags(clients, as_of):
    """Annotate each client with its index day, reoffence flag and reoffence count."""
    reoffences = proven_reoffences(as_of)
    return clients.annotate(index_day=index_day()).annotate(
        has_reoffence=Exists(reoffences),
        reoffence_count=Coalesce(
            Subquery(
                reoffences.order_by().values("client").annotate(n=Count("pk")).values("n"),
                output_field=IntegerField(),
            ),
            0,
        ),
    )


def _attended_sessions(as_of, days):
    """Attended sessions of the outer client dated in (as_of - days, as_of]."""
    return SupportSession.objects.attended_within(as_of, days).filter(client=OuterRef("pk"))


# Tallies: the additive counts every figure is derived from -------------------------------


@dataclass
class Tally:
    """
    What one borough (or a sum of boroughs) contributes to the figures. Histograms map a
    number of days to clients: ``reoffending`` and ``programme`` are keyed by (days,
    event) for Kaplan-Meier, ``days_to_start`` by days.
    """

    counts: Counter = field(default_factory=Counter)
    reoffending: Counter = field(default_factory=Counter)
    programme: Counter = field(default_factory=Counter)
    days_to_start: Counter = field(default_factory=Counter)
    cost_of_clients_started: Decimal = Decimal("0.00")
    grants_total: Decimal = Decimal("0.00")

    def add(self, other):
        """
        Add ``other`` to this tally in place (no new counters: a network sums 40 boroughs
        of a dozen shards each). ``update`` adds without ``+=``'s second pass dropping
        counts below 1, of which a histogram has none.
        """
        self.counts.update(other.counts)
        self.reoffending.update(other.reoffending)
        self.programme.update(other.programme)
        self.days_to_start.update(other.days_to_start)
        self.cost_of_clients_started += other.cost_of_clients_started
        self.grants_total += other.grants_total
        return self


def _active(as_of):
    """Clients whose support had started and not ended on A."""
    return Q(started_on__lte=as_of) & (Q(ended_on__isnull=True) | Q(ended_on__gt=as_of))


def _contact(as_of, active):
    """
    (annotations, counts) for the contact figures of the clients ``active`` selects:
    ``needs_contact`` (no attended session in the last SOS_NEEDS_CONTACT_DAYS days) and
    ``engaged_clients`` (one in the last 28 days).
    """
    annotations = {
        "seen_recently": Exists(_attended_sessions(as_of, settings.SOS_NEEDS_CONTACT_DAYS)),
        "seen_this_month": Exists(_attended_sessions(as_of, ACTIVITY_DAYS)),
    }
    counts = {
        "needs_contact": Count("pk", filter=active & Q(seen_recently=False)),
        "engaged_clients": Count("pk", filter=active & Q(seen_this_month=True)),
    }
    return annotations, counts


# Cases and shards ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cases:
    """
    Whose cases a computation reads: ``clients`` (a Client queryset) and ``related``, the
    same clients as a filter of a model with a ``client`` (offences, milestones).
    """

    clients: QuerySet
    related: Q
    by_year: bool = False  # grouped by shard (borough and year), or by borough alone

    def year(self, prefix=""):
        """The year of each row's shard; 0 for every row when grouped by borough alone."""
        return _year(prefix) if self.by_year else Value(0, output_field=IntegerField())

    @classmethod
    def of(cls, clients):
        """Any set of clients."""
        return cls(clients, Q(client__in=clients))

    @classmethod
    def of_boroughs(cls, boroughs):
        """Every client of ``boroughs`` (a queryset)."""
        return cls(_clients_in(boroughs), Q(client__borough__in=boroughs))

    @classmethod
    def of_shards(cls, shards, by_year=True):
        """
        The clients of ``shards``, {borough id: years or None for all}: a borough's clients
        referred in one calendar year are a shard of its cases (``CaseShardVersion``).
        Selected by borough and referral date, which the client list's index covers, and
        joined from offences and milestones rather than through a subquery of the clients.
        """
        whole = [pk for pk, years in shards.items() if years is None]

        def where(prefix):
            q = Q(**{f"{prefix}borough__in": whole}) if whole else Q(pk__in=[])
            for pk, years in shards.items():
                for year in years or ():
                    q |= Q(
                        **{
                            f"{prefix}borough": pk,
                            f"{prefix}referred_on__gte": date(year, 1, 1),
                            f"{prefix}referred_on__lte": date(year, 12, 31),
                        }
                    )
            return q

        return cls(Client.objects.filter(where("")), where("client__"), by_year)


SHARD = ("borough", "year")  # the fields of a grouped row that name its shard


def _year(prefix=""):
    """
    The calendar year a client was referred in: their case shard. An integer on both
    databases (PostgreSQL's EXTRACT gives a numeric), so rows read by ``_rows`` key alike.
    """
    return Cast(ExtractYear(f"{prefix}referred_on"), IntegerField())


def _rows(queryset):
    """
    The rows of a ``values_list`` queryset as the database gives them, without Django's
    per-value converters: a cold network dashboard reads 100,000 rows of whole numbers
    (programme lengths), and converting each value cost more than the query. Read from the
    database the queryset's own reads are routed to (the replica, for a dashboard).
    """
    alias = queryset.db
    sql, params = queryset.query.get_compiler(alias).as_sql()
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _client_counts(cases, as_of):
    """
    One grouped query: the client counts per (borough, year) shard. The contact figures
    are the sessions' half (``_contact_counts``), the cohort's reoffenders come from
    ``_reoffending``, the cost from ``_borough_money``.
    """
    started = Q(started_on__lte=as_of)
    active = _active(as_of)
    cohort = started & Q(index_day__lte=epoch_day(as_of) - WAITING_DAYS)
    ended = Q(ended_on__lte=as_of)
    rows = (
        cases.clients.filter(referred_on__lte=as_of)
        .annotate(index_day=index_day(), year=cases.year())
        .order_by()
        .values("borough", "year")
        .annotate(
            clients_referred=Count("pk"),
            clients_started=Count("pk", filter=started),
            active_caseload=Count("pk", filter=active),
            cohort=Count("pk", filter=cohort),
            clients_ended=Count("pk", filter=ended),
            clients_completed=Count(
                "pk", filter=ended & Q(closure_reason=Client.ClosureReason.COMPLETED)
            ),
        )
    )
    return {(row.pop("borough"), row.pop("year")): Counter(row) for row in rows}


def _contact_counts(clients, as_of):
    """
    One grouped query: the contact figures per borough, reading only the clients active
    on A (started clients are never referred after A: a database constraint).
    """
    active = _active(as_of)
    annotations, counts = _contact(as_of, Q())
    rows = (
        clients.filter(active)
        .annotate(**annotations)
        .order_by()
        .values("borough")
        .annotate(**counts)
    )
    return {row.pop("borough"): Counter(row) for row in rows}


def _session_counts(clients, as_of, boroughs=None):
    """
    One grouped query: attended sessions and their minutes in (A - 28, A] per borough.
    For whole ``boroughs`` it adds up their days in the SessionDay summary; for any other
    set of ``clients`` it counts their sessions.
    """
    if boroughs is not None:
        rows = (
            SessionDay.objects.filter(
                borough__in=boroughs,
                date__gt=as_of - timedelta(days=ACTIVITY_DAYS),
                date__lte=as_of,
            )
            .order_by()
            .values("borough")
            .annotate(sessions=Sum("sessions"), minutes=Sum("minutes"))
        )
        key = "borough"
    else:
        rows = (
            SupportSession.objects.attended_within(as_of, ACTIVITY_DAYS)
            .filter(client__in=clients)
            .order_by()
            .values("client__borough")
            .annotate(sessions=Count("pk"), minutes=Sum("duration_minutes"))
        )
        key = "client__borough"
    return {
        row[key]: Counter(sessions_28=row["sessions"], minutes_28=row["minutes"]) for row in rows
    }


def _histograms(rows, *, event=False):
    """
    {(borough, year): Counter} from grouped rows (tuples) of (borough, year, day,
    clients), or of (borough, year, day, event, clients) keyed by (day, event).
    """
    result = defaultdict(dict)  # each row is a distinct key of its shard: no sums
    if event:
        for borough, year, day, happened, clients in rows:
            result[borough, year][(day, bool(happened))] = clients
    else:
        for borough, year, day, clients in rows:
            result[borough, year][day] = clients
    return {shard: Counter(histogram) for shard, histogram in result.items()}


def _reoffending(cases, as_of):
    """
    Two queries: per (borough, year) shard of ``cases``, the cohort's ``reoffenders`` and
    ``cohort_reoffences`` (Counter), and the clients by (days, event) for the Kaplan-Meier
    estimate of reoffending. Each client started by A with index <= A is observed from the
    index date to end = min(index + 365, A - 183) (left out if end <= index); the event is
    the first proven reoffence committed by end, censored at end otherwise.

    One grouped query counts every observed client as censored at end; ``reoffenders``
    lists those with a proven reoffence, and each whose first is by end moves from
    censored at end to an event on the day of the first.
    """
    today = epoch_day(as_of)
    rows = (
        cases.clients.filter(started_on__lte=as_of)
        .annotate(
            km_day=Least(Value(FOLLOW_UP_DAYS), Value(today - KM_LAG_DAYS) - index_day()),
            year=cases.year(),
        )
        # end > index also means index < A: a release still to come is left out.
        .filter(km_day__gt=0)
        .order_by()
        .values_list("borough", "year", "km_day")
        .annotate(clients=Count("pk"))
    )
    # Plain dicts in the loops, Counters at the end: 14,000 reoffenders at 100,000 clients,
    # and a Counter's missing key costs a Python call.
    histograms = defaultdict(dict)
    for borough, year, km_day, clients in _rows(rows):
        histograms[borough, year][(km_day, False)] = clients  # one row per (shard, day)
    cohort_cut, lag = today - WAITING_DAYS, today - KM_LAG_DAYS
    reoffenders_n, reoffences_n = defaultdict(int), defaultdict(int)
    for _client, borough, year, index, first, number in _rows(reoffenders(cases, as_of)):
        shard = (borough, year)
        if index <= cohort_cut:  # in the cohort
            reoffenders_n[shard] += 1
            reoffences_n[shard] += number
        end = min(FOLLOW_UP_DAYS, lag - index)
        if end > 0 and first - index <= end:
            histogram = histograms[shard]
            left = histogram[(end, False)] - 1  # censored at end -> an event on the first
            if left:
                histogram[(end, False)] = left
            else:
                del histogram[(end, False)]
            histogram[(first - index, True)] = histogram.get((first - index, True), 0) + 1
    counts = {
        shard: Counter(reoffenders=n, cohort_reoffences=reoffences_n[shard])
        for shard, n in reoffenders_n.items()
    }
    histograms = {shard: Counter(histogram) for shard, histogram in histograms.items()}
    return counts, histograms


def _awaiting_counts(cases, as_of):
    """One query: {(borough id, year): Counter(awaiting_outcome=n)} (``awaiting_outcome``)."""
    return {
        (borough, year): Counter(awaiting_outcome=n)
        for borough, year, n in _rows(awaiting_outcome(cases, as_of))
    }


def _programme_histograms(cases, as_of):
    """
    One grouped query: per (borough, year) shard, clients started by A by (days of support,
    ended by A), for the Kaplan-Meier estimate of programme length. Open cases are
    censored at A.
    """
    ended = Q(ended_on__lte=as_of)
    rows = (
        cases.clients.filter(started_on__lte=as_of)
        .annotate(
            year=cases.year(),
            length_day=Case(When(ended, then=EpochDay("ended_on")), default=Value(epoch_day(as_of)))
            - EpochDay("started_on"),
            has_ended=Case(When(ended, then=Value(1)), default=Value(0)),
        )
        .order_by()
        .values_list("borough", "year", "length_day", "has_ended")
        .annotate(clients=Count("pk"))
    )
    return _histograms(_rows(rows), event=True)


def _days_to_start_histograms(cases, as_of):
    """One grouped query: per shard, clients started by A by days from referral to start."""
    rows = (
        cases.clients.filter(started_on__lte=as_of)
        .annotate(year=cases.year(), wait=EpochDay("started_on") - EpochDay("referred_on"))
        .order_by()
        .values_list("borough", "year", "wait")
        .annotate(clients=Count("pk"))
    )
    return _histograms(_rows(rows))


def _borough_money(boroughs, as_of):
    """
    One query: {borough id: (cost per client, grants starting on or before A)} for the
    boroughs (a queryset).
    """
    rows = boroughs.order_by().values_list(
        "pk",
        "cost_per_client",
        Coalesce(Sum("grants__amount", filter=Q(grants__starts_on__lte=as_of)), Decimal("0.00")),
    )
    return {pk: (cost, grants) for pk, cost, grants in rows}


def _case_tallies(cases, as_of):
    """{(borough id, year): Tally} of ``cases``, without money (``_borough_money``): 6 queries."""
    counts = _client_counts(cases, as_of)
    reoffence_counts, reoffending = _reoffending(cases, as_of)
    awaiting = _awaiting_counts(cases, as_of)
    programme = _programme_histograms(cases, as_of)
    days_to_start = _days_to_start_histograms(cases, as_of)
    return {
        shard: Tally(
            counts=counts.get(shard, Counter())
            + reoffence_counts.get(shard, Counter())
            + awaiting.get(shard, Counter()),
            reoffending=reoffending.get(shard, Counter()),
            programme=programme.get(shard, Counter()),
            days_to_start=days_to_start.get(shard, Counter()),
        )
        for shard in counts.keys() | reoffending.keys() | programme.keys()
    }


def _with_money(tally, money):
    """``tally`` (a borough's) with its cost of clients started and its grants."""
    cost, grants = money
    tally.cost_of_clients_started = cost * tally.counts["clients_started"]
    tally.grants_total = grants
    return tally


def _tallies(clients, as_of):
    """
    {borough id: Tally} for any set of ``clients``, every figure's counts: 9 queries. The
    grants are those of the boroughs the clients belong to.
    """
    shards = _case_tallies(Cases.of(clients), as_of)
    contact = _contact_counts(clients, as_of)
    sessions = _session_counts(clients, as_of)
    money = _borough_money(Borough.objects.filter(pk__in=clients.values("borough")), as_of)
    tallies = {pk: Tally() for pk in money}
    for (pk, _year), tally in shards.items():
        tallies[pk].add(tally)
    for pk, tally in tallies.items():
        tally.counts += contact.get(pk, Counter()) + sessions.get(pk, Counter())
        _with_money(tally, money[pk])
    return tallies


# Parts: everything one borough adds to a dashboard, cached per borough ---------------------


@dataclass
class Parts:
    """
    What one borough (or a sum of boroughs) adds to a dashboard; every field is additive,
    so a scope's figures are the sum of its boroughs' parts. ``monthly`` is keyed by
    (month, "referrals" | "starts" | "closures" | "sessions" | "minutes"), ``closures`` by
    reason, ``areas`` by support area id, ``milestones`` by (kind, "milestones" |
    "clients") (a client belongs to one borough, so clients add up too).
    """

    tally: Tally = field(default_factory=Tally)
    monthly: Counter = field(default_factory=Counter)
    closures: Counter = field(default_factory=Counter)
    areas: Counter = field(default_factory=Counter)
    milestones: Counter = field(default_factory=Counter)

    @classmethod
    def total(cls, parts):
        """The sum of ``parts``, added in place into one new Parts."""
        total = cls()
        for part in parts:
            total.tally.add(part.tally)
            total.monthly.update(part.monthly)
            total.closures.update(part.closures)
            total.areas.update(part.areas)
            total.milestones.update(part.milestones)
        return total


@dataclass
class Share:
    """
    One borough's share of a dashboard, in its two halves: ``case`` (its cases: counts,
    outcomes, histograms, grants, monthly referrals, starts and closures, closures,
    milestones) and ``sessions`` (contact figures, sessions and hours in the last 28 days
    and by month, support areas), with its own ``figures``, computed from both (Kaplan-Meier
    twice: a network dashboard shows 40 boroughs' figures, and computing them on every view
    cost 40 ms).
    """

    case: Parts
    sessions: Parts
    figures: dict
    cached: bool = True  # False: a shard had no version, so nothing of it may be cached


def _by_borough(rows, key, value="n", group=("borough",)):
    """
    {group: Counter} from grouped rows of (*group, *key, value); a group of one field is
    keyed by its value, of more by their tuple (a shard: borough and year).
    """
    result = defaultdict(Counter)
    for row in rows:
        name = tuple(row[k] for k in key) if isinstance(key, tuple) else row[key]
        where = row[group[0]] if len(group) == 1 else tuple(row[g] for g in group)
        result[where][name] += row[value]
    return result


def _monthly_parts(boroughs, as_of, months=MONTHS):
    """4 grouped queries: all together, {(month, series): n} over the last ``months``."""
    counts = _total_of(_monthly_case_parts(Cases.of_boroughs(boroughs), as_of, months))
    return counts + _total_of(_monthly_session_parts(boroughs, as_of, months))


def _monthly_case_parts(cases, as_of, months=MONTHS):
    """3 grouped queries: per shard, referrals, starts and closures by month."""
    first = _months(as_of, months)[0]
    clients = cases.clients.order_by()
    result = defaultdict(Counter)
    for series, column in (
        ("referrals", "referred_on"),
        ("starts", "started_on"),
        ("closures", "ended_on"),
    ):
        rows = (
            clients.filter(**{f"{column}__gte": first, f"{column}__lte": as_of})
            .annotate(month=TruncMonth(column), series=Value(series), year=cases.year())
            .values("borough", "year", "month", "series")
            .annotate(n=Count("pk"))
        )
        for shard, counter in _by_borough(rows, ("month", "series"), group=SHARD).items():
            result[shard].update(counter)
    return result


def _monthly_session_parts(boroughs, as_of, months=MONTHS):
    """1 grouped query over the SessionDay summary: per borough, sessions and minutes by month."""
    first = _months(as_of, months)[0]
    rows = (
        SessionDay.objects.filter(borough__in=boroughs, date__gte=first, date__lte=as_of)
        .annotate(month=TruncMonth("date"))
        .order_by()
        .values("borough", "month")
        .annotate(sessions=Sum("sessions"), minutes=Sum("minutes"))
    )
    result = defaultdict(Counter)
    for row in rows:
        counter = result[row["borough"]]
        counter[(row["month"], "sessions")] += row["sessions"]
        counter[(row["month"], "minutes")] += row["minutes"]
    return result


def _closure_parts(cases, as_of):
    """1 grouped query: per shard, clients whose case ended by A, by closure reason."""
    rows = (
        cases.clients.filter(ended_on__lte=as_of)
        .annotate(year=cases.year())
        .order_by()
        .values("borough", "year", "closure_reason")
        .annotate(n=Count("pk"))
    )
    return _by_borough(rows, "closure_reason", group=SHARD)


def _area_parts(boroughs, as_of, days=RECENT_DAYS):
    """1 grouped query over the SessionAreaDay summary: per borough, sessions by area."""
    rows = (
        SessionAreaDay.objects.filter(
            borough__in=boroughs, date__gt=as_of - timedelta(days=days), date__lte=as_of
        )
        .order_by()
        .values("borough", "support_area")
        .annotate(n=Sum("sessions"))
    )
    return _by_borough(rows, "support_area")


def _milestone_parts(cases, as_of, days=RECENT_DAYS):
    """1 grouped query: per shard, milestones achieved in (A - days, A] and by whom."""
    rows = (
        Milestone.objects.filter(
            cases.related,
            achieved_on__gt=as_of - timedelta(days=days),
            achieved_on__lte=as_of,
        )
        .annotate(year=cases.year("client__"))
        .order_by()
        .values("client__borough", "year", "kind")
        # COUNT(*), not of ids: the index on achieved_on holds the client and kind, so the
        # year's milestones are read from it alone (Southwark: 16 -> 9 ms at 100,000 clients).
        .annotate(milestones=Count("*"), clients=Count("client", distinct=True))
    )
    result = defaultdict(Counter)
    for row in rows:
        counter = result[row["client__borough"], row["year"]]
        counter[(row["kind"], "milestones")] += row["milestones"]
        counter[(row["kind"], "clients")] += row["clients"]
    return result


def _case_parts(shards, as_of, by_year=True):
    """
    {(borough id, year): Parts} of the cases of ``shards`` ({borough id: years, or None
    for all its years}) that have records, computed from them, without their milestones
    (``_shard_milestones``): 10 queries, whatever the shards. ``by_year`` False: one Parts
    per borough, keyed (borough id, 0).
    """
    cases = Cases.of_shards(shards, by_year)
    tallies = _case_tallies(cases, as_of)
    monthly = _monthly_case_parts(cases, as_of)
    closures = _closure_parts(cases, as_of)
    found = tallies.keys() | monthly.keys() | closures.keys()
    return {
        shard: Parts(
            tally=tallies.get(shard, Tally()),
            monthly=monthly.get(shard, Counter()),
            closures=closures.get(shard, Counter()),
        )
        for shard in found
    }


def _shard_milestones(shards, as_of, by_year=True):
    """The milestones of ``shards``, as ``_case_parts`` (which leaves them out): 1 query."""
    counts = _milestone_parts(Cases.of_shards(shards, by_year), as_of)
    return {shard: Parts(milestones=counter) for shard, counter in counts.items()}


def _session_parts(borough_ids, as_of):
    """
    {borough id: Parts} of the boroughs' sessions: 4 queries, three of them over the
    session summaries and one over the clients active on A.
    """
    boroughs = Borough.objects.filter(pk__in=borough_ids)
    contact = _contact_counts(_clients_in(boroughs), as_of)
    sessions = _session_counts(None, as_of, boroughs)
    monthly = _monthly_session_parts(boroughs, as_of)
    areas = _area_parts(boroughs, as_of)
    return {
        pk: Parts(
            tally=Tally(counts=contact.get(pk, Counter()) + sessions.get(pk, Counter())),
            monthly=monthly.get(pk, Counter()),
            areas=areas.get(pk, Counter()),
        )
        for pk in borough_ids
    }


# Bump when what a cached value holds, or how it is computed, changes: old entries are then
# unused.
PARTS_FORMAT = 6


def _cache_errors():
    """What a shared figures cache raises when it is down or slow (none for local memory)."""
    try:
        from redis.exceptions import RedisError
    except ImportError:  # redis is only needed for SOS_FIGURES_CACHE
        return (OSError,)
    return (OSError, RedisError)


CACHE_ERRORS = _cache_errors()


def _cached(keys):
    """
    {key: value} of ``keys`` found in the figures cache; nothing if the cache cannot be
    reached: the figures are then computed from the records, and the page still served.
    """
    try:
        return caches["figures"].get_many(keys)
    except CACHE_ERRORS as error:
        logger.warning("figures cache unavailable, computing from the records: %s", error)
        return {}


def _store(values):
    """Put ``values`` in the figures cache, if it can be reached."""
    try:
        caches["figures"].set_many(values)
    except CACHE_ERRORS as error:
        logger.warning("figures cache unavailable, not stored: %s", error)


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _cases_key(borough_id, as_of, version, shard_versions):
    """A borough's whole cases half: under its own version and both of every shard's."""
    state = ",".join(f"{year}.{v}.{m}" for year, (v, m) in sorted(shard_versions.items()))
    return (
        f"sos-cases:{PARTS_FORMAT}:{borough_id}:{as_of.isoformat()}:{_digest(f'{version}|{state}')}"
    )


def _sessions_key(borough_id, as_of, sessions_version):
    rules = settings.SOS_NEEDS_CONTACT_DAYS  # the sessions half and the figures use it
    return (
        f"sos-sessions:{PARTS_FORMAT}:{rules}:{borough_id}:{as_of.isoformat()}:{sessions_version}"
    )


def _borough_keys(borough_ids, as_of, versions=None):
    """
    {borough id: (cases key, sessions key, figures key)}: the cache keys of each borough's
    halves and figures under its versions now (1 query; 2 without ``versions``), and the
    shard versions they were made from.
    """
    versions = versions or summaries.versions(borough_ids)
    shard_versions = summaries.shard_versions(borough_ids)
    keys = {}
    for pk in borough_ids:
        version, sessions_version = versions[pk]
        cases = _cases_key(pk, as_of, version, shard_versions.get(pk, {}))
        sessions = _sessions_key(pk, as_of, sessions_version)
        keys[pk] = (cases, sessions, f"sos-figures:{PARTS_FORMAT}:{_digest(cases + sessions)}")
    return keys, shard_versions


def borough_parts(borough_ids, as_of, versions=None, *, keys=None):
    """
    {borough id: Share}, read from the figures cache where the borough has not changed
    since they were computed. Each half is cached under versions that triggers raise on
    every write to the records it is made from: the sessions half under the borough's
    sessions version; the cases half under its own version (grants, cost) and the version
    of each of its shards (its clients referred in one year, with their offences; and,
    under a second version, their milestones), and each shard's two parts on their own.
    So a logged session computes that borough's sessions half again (4 small queries), a
    changed case only that case's shard (10 queries over one year's clients; 11 with its
    milestones, when the client itself changed), a recorded milestone only that shard's
    milestones (1 query), and the borough's sum, and the figures are computed from the
    two halves. Two queries for the versions (one if ``versions`` are given, none
    with ``keys``, a ``_borough_keys`` result).
    """
    borough_ids = list(borough_ids)
    if not borough_ids:
        return {}
    keys, shard_versions = keys or _borough_keys(borough_ids, as_of, versions)
    found = _cached([key for pk in borough_ids for key in keys[pk]])
    new = {}
    missing = [pk for pk in borough_ids if keys[pk][0] not in found]
    unversioned = set()
    if missing:
        cases_keys = {pk: keys[pk][0] for pk in missing}
        to_cache, halves, unversioned = _cases_halves(missing, as_of, shard_versions, cases_keys)
        new.update(to_cache)
        found.update({keys[pk][0]: half for pk, half in halves.items()})
    missing = [pk for pk in borough_ids if keys[pk][1] not in found]
    if missing:
        new.update({keys[pk][1]: parts for pk, parts in _session_parts(missing, as_of).items()})
    found.update(new)
    result = {}
    for pk in borough_ids:
        cases_key, sessions_key, figures_key = keys[pk]
        case, sessions = found[cases_key], found[sessions_key]
        if figures_key not in found:
            found[figures_key] = _figures(Tally().add(case.tally).add(sessions.tally))
            if pk not in unversioned:
                new[figures_key] = found[figures_key]
        result[pk] = Share(case, sessions, found[figures_key], cached=pk not in unversioned)
    if new:
        _store(new)
    return result


# A scope's boroughs are added up in blocks of this many, each block's sum cached under its
# boroughs' keys: after a change in one borough, a network dashboard adds up that borough's
# block and the other blocks' sums (12 halves and 7 sums for 40 boroughs), not 80 halves.
BLOCK = 6


def scope_parts(borough_ids, as_of, versions=None):
    """
    ({borough id: figures}, Parts of all the boroughs together), from the figures cache:
    the scope's sum is cached under every borough's keys, and in blocks of ``BLOCK``
    boroughs, so that a scope with nothing changed reads its sum and the boroughs' figures
    (no halves), and a change in one borough reads only its block's halves. The queries
    of ``borough_parts``. Nothing is cached of a block holding an unversioned borough.
    """
    ids = sorted(borough_ids)
    if not ids:
        return {}, Parts()
    keys, shard_versions = _borough_keys(ids, as_of, versions)
    blocks = [ids[i : i + BLOCK] for i in range(0, len(ids), BLOCK)]
    day = as_of.isoformat()
    block_keys = [
        f"sos-block:{PARTS_FORMAT}:{day}:{_digest('|'.join(k for pk in b for k in keys[pk][:2]))}"
        for b in blocks
    ]
    scope_key = f"sos-scope:{PARTS_FORMAT}:{day}:{_digest('|'.join(block_keys))}"
    figures_keys = {pk: keys[pk][2] for pk in ids}
    found = _cached([*figures_keys.values(), scope_key])
    figures = {pk: found[key] for pk, key in figures_keys.items() if key in found}
    if scope_key in found and len(figures) == len(ids):
        return figures, found[scope_key]
    sums = _cached(block_keys)
    stale = [block for block, key in zip(blocks, block_keys, strict=True) if key not in sums]
    need = {pk for block in stale for pk in block}
    need |= {pk for pk in ids if pk not in figures}
    shares = borough_parts(sorted(need), as_of, keys=(keys, shard_versions))
    figures.update({pk: share.figures for pk, share in shares.items()})
    new, cached = {}, True
    for block, key in zip(blocks, block_keys, strict=True):
        if key in sums:
            continue
        sums[key] = Parts.total(h for pk in block for h in (shares[pk].case, shares[pk].sessions))
        if all(shares[pk].cached for pk in block):
            new[key] = sums[key]
        else:
            cached = False
    total = Parts.total(sums[key] for key in block_keys)
    if cached:
        new[scope_key] = total
    if new:
        _store(new)
    return figures, total


def _cases_halves(borough_ids, as_of, shard_versions, keys):
    """
    ({cache key: value} to cache, {borough id: Parts}, unversioned borough ids): the cases
    half of each of ``borough_ids`` (cached under ``keys[pk]``), added up from its shards'
    two parts: its cases (``_case_parts``, cached under the shard's version) and its
    milestones (``_shard_milestones``, under its milestones version). Parts cached under
    their version now are read and the others computed; each borough's shards are added
    up with its money (1 query).

    A borough none of whose parts of a kind is cached reads that kind whole. The first
    time in a day (the cache is per "as of" day) it is read by borough alone, which costs
    a cold dashboard nothing more, and cached as a whole under that kind's versions (so a
    milestone does not read the cases again); after that, by shard, whose parts are cached
    for the changes to come.
    """
    day = as_of.isoformat()
    # Looked up when called, not when defined: the tests spy on them.
    kinds = {"cases": _case_parts, "milestones": _shard_milestones}
    shard_keys, whole_keys, read_keys = {}, {}, {}
    for i, kind in enumerate(kinds):
        shard_keys[kind] = {
            (pk, year): f"sos-{kind}:{PARTS_FORMAT}:{pk}:{year}:{day}:{versions[i]}"
            for pk in borough_ids
            for year, versions in shard_versions.get(pk, {}).items()
        }
        whole_keys[kind] = {
            pk: f"sos-{kind}-all:{PARTS_FORMAT}:{pk}:{day}:"
            + _digest(
                ",".join(f"{y}.{v[i]}" for y, v in sorted(shard_versions.get(pk, {}).items()))
            )
            for pk in borough_ids
        }
        read_keys[kind] = {pk: f"sos-read:{PARTS_FORMAT}:{kind}:{pk}:{day}" for pk in borough_ids}
    cached = _cached(
        [
            key
            for k in (shard_keys, whole_keys, read_keys)
            for by in k.values()
            for key in by.values()
        ]
    )
    result, shards, strays = {}, defaultdict(list), set()
    for kind, compute in kinds.items():
        todo, done = {}, set()
        for pk in borough_ids:
            if whole_keys[kind][pk] in cached:  # read whole, and not changed since
                shards[pk].append(cached[whole_keys[kind][pk]])
                done.add(pk)
                continue
            years = shard_versions.get(pk, {})
            missing = [year for year in years if shard_keys[kind][pk, year] not in cached]
            if len(missing) == len(years):
                todo[pk] = None  # none cached, read whole: one range of the index, none overlooked
            elif missing:
                todo[pk] = missing
        first = [
            pk for pk, years in todo.items() if years is None and read_keys[kind][pk] not in cached
        ]
        whole = compute(dict.fromkeys(first), as_of, by_year=False) if first else {}
        rest = {pk: years for pk, years in todo.items() if pk not in first}
        computed = compute(rest, as_of) if rest else {}
        for pk in first:
            shards[pk].append(whole.get((pk, 0), Parts()))
            result[read_keys[kind][pk]] = True
            result[whole_keys[kind][pk]] = shards[pk][-1]
        for (pk, year), key in shard_keys[kind].items():
            if pk in done or pk in first:
                continue
            parts = cached[key] if key in cached else computed.get((pk, year), Parts())
            shards[pk].append(parts)
            if key not in cached:
                result[key] = parts
        # A shard with records but no version (the triggers keep one for every shard with
        # a client, and ``summaries --check`` reports one missing, so this is a safeguard):
        # it is counted, and nothing of its borough is cached.
        for shard in computed.keys() - shard_keys[kind].keys():
            shards[shard[0]].append(computed[shard])
            strays.add(shard[0])
    money = _borough_money(Borough.objects.filter(pk__in=borough_ids), as_of)
    halves = {}
    for pk in borough_ids:
        halves[pk] = Parts.total(shards[pk])
        _with_money(halves[pk].tally, money.get(pk, (Decimal("0.00"), Decimal("0.00"))))
        if pk not in strays:
            result[keys[pk]] = halves[pk]
    return result, halves, strays


def _cached_mentor_load(boroughs, ids, as_of, version):
    """
    ``mentor_load`` for the boroughs ``ids``, cached under the mentors' version (raised on
    every change to mentors, the boroughs they serve and assignments): 20 ms of a network
    dashboard at 1,000 mentors, and unchanged by the sessions logged all day.
    """
    scope = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]
    key = f"sos-mentors:{PARTS_FORMAT}:{as_of.isoformat()}:{version}:{scope}"
    load = _cached([key]).get(key)
    if load is None:
        load = mentor_load(boroughs, as_of)
        _store({key: load})
    return load


# Arithmetic -------------------------------------------------------------------------------


def wilson_interval(successes, n, z=WILSON_Z):
    """Wilson score interval for a proportion; (None, None) when n is 0."""
    if n == 0:
        return None, None
    p = successes / n
    denominator = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / denominator), min(1.0, (centre + margin) / denominator)


def kaplan_meier(histogram):
    """
    The Kaplan-Meier table of a histogram {(day, event): clients}: one row per distinct
    day, ascending, with ``day``, ``at_risk`` (clients whose time is ``day`` or later, so
    those censored on ``day`` are still at risk on it), ``events``, ``censored`` and
    ``survival`` S(day) = product over event days t <= day of (1 - events / at_risk).
    """
    at_risk = sum(histogram.values())
    survival = 1.0
    table = []
    for day in sorted({day for day, _event in histogram}):
        events = histogram.get((day, True), 0)
        censored = histogram.get((day, False), 0)
        if events:
            survival *= 1 - events / at_risk
        table.append(
            {
                "day": day,
                "at_risk": at_risk,
                "events": events,
                "censored": censored,
                "survival": survival,
            }
        )
        at_risk -= events + censored
    return table


def km_summary(histogram, days):
    """
    ``([(survival_at(table, d), at_risk_on(table, d)) for d in days], km_median(table))``
    for ``table = kaplan_meier(histogram)``, in one pass and without building the table: a
    network dashboard's figures need it for 41 scopes and two histograms each. ``days``
    ascending.
    """
    by_day = defaultdict(lambda: [0, 0])  # day: [events, censored]
    for (day, event), clients in histogram.items():
        by_day[day][0 if event else 1] += clients
    at_risk = sum(histogram.values())
    survival = 1.0
    median = None
    points = []
    pending = list(days)
    for day in sorted(by_day):
        events, censored = by_day[day]
        while pending and pending[0] < day:  # S from the rows before; at risk on this row
            points.append((survival, at_risk))
            pending.pop(0)
        before = at_risk
        if events:
            survival *= 1 - events / at_risk
        while pending and pending[0] == day:  # S includes this row
            points.append((survival, before))
            pending.pop(0)
        if median is None and survival <= 0.5:
            median = day
        at_risk -= events + censored
    # Past the last row: nobody was followed that long (unless S already reached 0).
    tail = None if not by_day or survival > 0 else survival
    points.extend((tail, 0) for _ in pending)
    return points, median


def survival_at(table, day):
    """
    S(day) from a Kaplan-Meier table, or None where the data cannot tell: nobody was
    followed up to ``day`` (and the curve had not already reached 0).
    """
    if not table:
        return None
    survival = 1.0
    for row in table:
        if row["day"] > day:
            break
        survival = row["survival"]
    if table[-1]["day"] < day and survival > 0:
        return None
    return survival


def at_risk_on(table, day):
    """How many were still followed on ``day`` (their time is ``day`` or later)."""
    return next((row["at_risk"] for row in table if row["day"] >= day), 0)


def km_median(table):
    """The first day on which S falls to one half or below; None if it never does."""
    return next((row["day"] for row in table if row["survival"] <= 0.5), None)


def survival_curve(table, min_at_risk=MIN_AT_RISK):
    """
    The points a page draws from a ``kaplan_meier`` table: S = 1 on day 0 with everyone at
    risk (unless the table has its own day-0 row), then each row while at least
    ``min_at_risk`` remain at risk. Empty when fewer than ``min_at_risk`` are observed at
    all.
    """
    total = table[0]["at_risk"] if table else 0  # everyone is at risk on the first row
    if total < min_at_risk:
        return []
    points = [row for row in table if row["at_risk"] >= min_at_risk]
    if table[0]["day"] == 0:
        return points
    start = {"day": 0, "at_risk": total, "events": 0, "censored": 0, "survival": 1.0}
    return [start, *points]


def histogram_median(histogram):
    """The median of a histogram {value: count}, as a float; None when it is empty."""
    total = sum(histogram.values())
    if not total:
        return None
    # The middle position(s), 0-based: one for an odd total, the two either side otherwise.
    wanted = sorted({(total - 1) // 2, total // 2})
    values, seen = [], 0
    for value in sorted(histogram):
        seen += histogram[value]
        while wanted and wanted[0] < seen:
            values.append(value)
            wanted.pop(0)
        if not wanted:
            break
    return sum(values) / len(values)


def _ratio(numerator, denominator):
    return numerator / denominator if denominator else None


def _money(amount):
    return Decimal(amount).quantize(CENTS)


def _figures(tally):
    """Every figure of one scope from its tally; rates are None where the denominator is 0."""
    c = tally.counts
    cohort = c["cohort"]
    rate = _ratio(c["reoffenders"], cohort)
    low, high = wilson_interval(c["reoffenders"], cohort)
    [(survival_12m, at_risk_12m)], _ = km_summary(tally.reoffending, [FOLLOW_UP_DAYS])
    # "Reached d days" = support lasted at least d days = S(d - 1) on whole days.
    [(reached_6, _), (reached_12, _)], median_programme = km_summary(
        tally.programme, [SIX_MONTHS_DAYS - 1, TWELVE_MONTHS_DAYS - 1]
    )
    cost = _money(tally.cost_of_clients_started)
    return {
        "clients_referred": c["clients_referred"],
        "clients_started": c["clients_started"],
        "referral_to_start_rate": _ratio(c["clients_started"], c["clients_referred"]),
        "active_caseload": c["active_caseload"],
        "cohort": cohort,
        "small_cohort": cohort < SMALL_COHORT,
        "pending": c["clients_started"] - cohort,
        "reoffenders": c["reoffenders"],
        "reoffending_rate": rate,
        "wilson_low": low,
        "wilson_high": high,
        "reoffences_per_100": _ratio(100 * c["cohort_reoffences"], cohort),
        "success_rate": None if rate is None else 1 - rate,
        "km_reoffending_12m": None if survival_12m is None else 1 - survival_12m,
        "km_at_risk_12m": at_risk_12m,
        "offences_awaiting_outcome": c["awaiting_outcome"],
        "clients_ended": c["clients_ended"],
        "clients_completed": c["clients_completed"],
        "completion_rate": _ratio(c["clients_completed"], c["clients_ended"]),
        "needs_contact": c["needs_contact"],
        "engaged_clients": c["engaged_clients"],
        "engagement_rate": _ratio(c["engaged_clients"], c["active_caseload"]),
        "sessions_last_28_days": c["sessions_28"],
        "hours_last_28_days": c["minutes_28"] / 60,
        "median_days_referral_to_start": histogram_median(tally.days_to_start),
        "median_programme_days": median_programme,
        "programme_reached_6_months": reached_6,
        "programme_reached_12_months": reached_12,
        "cost_per_client": (_money(cost / c["clients_started"]) if c["clients_started"] else None),
        "cost_of_clients_started": cost,
        "grants_total": _money(tally.grants_total),
    }


def _total(tallies):
    return Parts.total(Parts(tally=tally) for tally in tallies).tally


# Public figures ---------------------------------------------------------------------------


def outcomes(clients, as_of):
    """
    Every figure (``FIGURES``) for all of ``clients`` together, as of ``as_of``; grants are
    those of the boroughs the clients belong to. 9 queries.
    """
    return _figures(_total(_tallies(clients, as_of).values()))


def outcomes_by_borough(clients, as_of):
    """The same figures per borough, keyed by borough id (boroughs with no clients absent)."""
    return {borough: _figures(tally) for borough, tally in _tallies(clients, as_of).items()}


def _report(boroughs, as_of, versions=None):
    """(report, network parts): the report, and the parts of all its boroughs together."""
    listed = list(boroughs.order_by("name").values("pk", "slug", "name"))
    figures, network = scope_parts([b["pk"] for b in listed], as_of, versions)
    report = {
        "as_of": as_of,
        "network": _figures(network.tally),
        "boroughs": [{"slug": b["slug"], "name": b["name"], **figures[b["pk"]]} for b in listed],
    }
    return report, network


def report(scope, as_of):
    """
    ``{"as_of": date, "network": figures, "boroughs": [{"slug", "name", **figures}]}`` for
    the boroughs in ``scope`` (by name; every one listed, even with no clients), where
    "network" is all of them together. 19 queries with nothing cached.
    """
    return _report(borough_scope(scope), as_of)[0]


def baselines():
    """The context figures, labelled as context: never a matched comparison."""
    return [{"label": label, "rate": rate} for label, rate in BASELINES]


def _reoffending_curve(histogram):
    table = kaplan_meier(histogram)
    survival_12m = survival_at(table, FOLLOW_UP_DAYS)
    return {
        "clients": sum(histogram.values()),
        "points": survival_curve(table),
        "km_reoffending_12m": None if survival_12m is None else 1 - survival_12m,
        "at_risk_12m": at_risk_on(table, FOLLOW_UP_DAYS),
    }


def reoffending_curve(scope, as_of):
    """
    The Kaplan-Meier reoffending curve: ``clients`` observed, ``points`` ({day, at_risk,
    events, censored, survival} from day 0, stopping where fewer than 10 remain at risk),
    ``km_reoffending_12m`` = 1 - S(365) and ``at_risk_12m``. 2 queries.
    """
    boroughs = borough_scope(scope)
    histograms = _reoffending(Cases.of_boroughs(boroughs), as_of)[1]
    return _reoffending_curve(sum(histograms.values(), Counter()))


def _programme_length(histogram):
    table = kaplan_meier(histogram)
    return {
        "clients": sum(histogram.values()),
        "points": survival_curve(table),
        "median_days": km_median(table),
        "reached_6_months": survival_at(table, SIX_MONTHS_DAYS - 1),
        "reached_12_months": survival_at(table, TWELVE_MONTHS_DAYS - 1),
    }


def programme_length(scope, as_of):
    """
    Programme length by Kaplan-Meier, open cases censored at A: ``clients``, ``points``
    (S(t) = share still in the programme after t days), ``median_days`` and the shares
    whose support lasted at least 183 days (``reached_6_months``) and 365 days
    (``reached_12_months``). 1 query.
    """
    histograms = _programme_histograms(Cases.of_boroughs(borough_scope(scope)), as_of)
    return _programme_length(sum(histograms.values(), Counter()))


def _months(as_of, months):
    first = date(as_of.year, as_of.month, 1)
    index = first.year * 12 + first.month - 1 - (months - 1)
    return [date((index + i) // 12, (index + i) % 12 + 1, 1) for i in range(months)]


def _total_of(parts_by_borough):
    return sum(parts_by_borough.values(), Counter())


def _monthly(counts, as_of, months=MONTHS):
    return [
        {
            "month": month,
            "referrals": counts[(month, "referrals")],
            "starts": counts[(month, "starts")],
            "closures": counts[(month, "closures")],
            "sessions_attended": counts[(month, "sessions")],
            "hours": counts[(month, "minutes")] / 60,
        }
        for month in _months(as_of, months)
    ]


def monthly_activity(scope, as_of, months=MONTHS):
    """
    One entry per calendar month for the last ``months`` months, the last ending on
    ``as_of``: ``month`` (its first day), ``referrals``, ``starts``, ``closures``,
    ``sessions_attended`` and ``hours`` (of attended sessions, from the SessionDay
    summary). 4 queries.
    """
    counts = _monthly_parts(borough_scope(scope), as_of, months)
    return _monthly(counts, as_of, months)


def _closures(counts):
    total = sum(counts.values())
    return [
        {
            "reason": reason.value,
            "label": reason.label,
            "clients": counts[reason.value],
            "share": _ratio(counts[reason.value], total),
        }
        for reason in Client.ClosureReason
    ]


def closures_by_reason(scope, as_of):
    """
    Every closure reason with ``clients`` whose case ended on or before ``as_of`` for it and
    their ``share`` of all those closures (None if there were none). 1 query.
    """
    return _closures(_total_of(_closure_parts(Cases.of_boroughs(borough_scope(scope)), as_of)))


def mentor_load(scope, as_of):
    """
    Each mentor serving a borough in ``scope`` (home or other borough) and mentoring on
    ``as_of``, by reference: ``reference``, ``name``, ``home_borough`` (slug),
    ``open_assignments`` (all of the mentor's assignments open on ``as_of``, whatever the
    client's borough, since capacity is the mentor's), ``max_caseload``, ``spare`` (may be
    negative) and ``over_capacity``. 1 query.
    """
    boroughs = borough_scope(scope)
    visiting = Mentor.other_boroughs.through.objects.filter(borough__in=boroughs).values("mentor")
    # Membership through a subquery rather than a join, so that a mentor serving several
    # of the boroughs is one row.
    rows = (
        Mentor.objects.active_on(as_of)
        .filter(Q(home_borough__in=boroughs) | Q(pk__in=visiting))
        .with_open_caseload(as_of)
        .order_by("reference")
        .values(
            "reference",
            "first_name",
            "last_name",
            "home_borough__slug",
            "max_caseload",
            "open_caseload",
        )
    )
    return [
        {
            "reference": row["reference"],
            "name": f"{row['first_name']} {row['last_name']}",
            "home_borough": row["home_borough__slug"],
            "open_assignments": row["open_caseload"],
            "max_caseload": row["max_caseload"],
            "spare": row["max_caseload"] - row["open_caseload"],
            "over_capacity": row["open_caseload"] > row["max_caseload"],
        }
        for row in rows
    ]


def _areas(counts):
    return [
        {"slug": slug, "name": name, "sessions": counts[pk]}
        for pk, slug, name in SupportArea.objects.values_list("pk", "slug", "name")
    ]


def support_areas_covered(scope, as_of, days=RECENT_DAYS):
    """
    Every support area with the number of attended sessions in (A - days, A] that covered
    it (``sessions``), for clients in ``scope``. 2 queries: one sum over the window's days
    in the SessionAreaDay summary, one for the areas' names. (Counting the window's
    sessions took 380 ms at 2 million sessions; a correlated count per area, 6 s.)
    """
    return _areas(_total_of(_area_parts(borough_scope(scope), as_of, days)))


def _milestones(counts):
    return [
        {
            "kind": kind.value,
            "label": kind.label,
            "milestones": counts[(kind.value, "milestones")],
            "clients": counts[(kind.value, "clients")],
        }
        for kind in Milestone.Kind
    ]


def milestones_achieved(scope, as_of, days=RECENT_DAYS):
    """
    Every milestone kind with the ``milestones`` achieved in (A - days, A] by clients in
    ``scope``, and how many ``clients`` achieved one. 1 query.
    """
    cases = Cases.of_boroughs(borough_scope(scope))
    return _milestones(_total_of(_milestone_parts(cases, as_of, days)))


def dashboard(scope, as_of):
    """
    Everything a dashboard shows for ``scope`` as of ``as_of``: the ``report`` keys
    (``as_of``, ``network``, ``boroughs``) plus ``monthly``, ``closures_by_reason``,
    ``mentor_load``, ``support_areas``, ``milestones``, ``reoffending_curve``,
    ``programme_length`` (both for the whole scope) and ``baselines``.

    The scope's sum and each borough's figures come from ``scope_parts`` (the figures
    cache: the sum cached whole and in blocks of boroughs, each borough's halves recomputed
    only if it changed since, ``borough_parts``); the mentors' load, which is not a sum over
    boroughs (a mentor serves several), is cached for the whole scope under the mentors'
    version. 5 queries when everything is cached; up to 12 more when any borough's cases
    changed (its changed shards' cases, 10, and milestones, 1, and the money of the
    boroughs, 1: 2 after a milestone alone), 4 more when any borough's sessions did, 1
    more when the mentors' load is not cached.
    """
    boroughs = borough_scope(scope)
    ids = sorted(boroughs.values_list("pk", flat=True))
    versions = summaries.versions([*ids, summaries.MENTORS])
    data, network = _report(boroughs.filter(pk__in=ids), as_of, versions)
    data.update(
        monthly=_monthly(network.monthly, as_of),
        closures_by_reason=_closures(network.closures),
        mentor_load=_cached_mentor_load(boroughs, ids, as_of, versions[summaries.MENTORS][0]),
        support_areas=_areas(network.areas),
        milestones=_milestones(network.milestones),
        reoffending_curve=_reoffending_curve(network.tally.reoffending),
        programme_length=_programme_length(network.tally.programme),
        baselines=baselines(),
    )
    return data


# Export -------------------------------------------------------------------------------------


def report_rows(report, total_name=NETWORK_NAME):
    """
    The report as rows of ``REPORT_COLUMNS``: the boroughs together first, named
    ``total_name`` (a report of part of the network names the boroughs it covers; with
    None, as for one borough, that row is left out), then each borough.
    """
    if total_name is not None:
        yield {"scope": "network", "slug": "", "name": total_name, **report["network"]}
    for borough in report["boroughs"]:
        yield {"scope": "borough", **borough}


# json writes floats as repr() does (2000.0); money goes through as a marked string that is
# then unquoted, so it reads 2000.00. No text in a report can hold the NUL of the marker.
_MONEY_MARK = "\x00money:"
_MONEY = re.compile(r'"\\u0000money:(-?\d+\.\d\d)"')


def _json_value(value):
    if isinstance(value, Decimal):
        return f"{_MONEY_MARK}{value.quantize(CENTS)}"
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def report_json(report, indent=2):
    """
    The report as JSON: dates as YYYY-MM-DD, money as numbers with two decimals
    (``2030.43``, ``1001000.00``), rates as fractions, null where there is no value.
    """
    return _MONEY.sub(r"\1", json.dumps(report, default=_json_value, indent=indent))


def csv_value(value, float_places=None):
    """
    A cell of the CSVs the app writes: empty for no value, true/false, money to the penny;
    fractions whole (the report agrees with its JSON to the last digit) or, for the tables
    under the charts, to ``float_places`` decimals.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value.quantize(CENTS)}"
    if isinstance(value, float) and float_places is not None:
        return round(value, float_places)
    return value


def write_report_csv(report, stream, total_name=NETWORK_NAME):
    """The report as CSV, one row per scope: empty cells where a figure has no value."""
    writer = csv.writer(stream)
    writer.writerow(REPORT_COLUMNS)
    for row in report_rows(report, total_name):
        writer.writerow([csv_value(row[column]) for column in REPORT_COLUMNS])
