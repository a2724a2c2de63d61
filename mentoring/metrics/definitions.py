"""
What docs/figures.md defines, for a reviewer to check against it:
the index date, a proven reoffence, the cohort, the offences awaiting an outcome, the
contact figures; the additive tallies of a borough's cases (``Tally``), one grouped query
per kind of count, that every figure is derived from; and every figure of a scope from its
tally (``_figures``, in the order of ``FIGURES``).
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least

from ..models import Borough, Client, Offence, SessionDay, SupportSession
from .sql import Cases, EpochDay, _rows, epoch_day
from .statistics import histogram_median, km_summary, wilson_interval
from .windows import (
    ACTIVITY_DAYS,
    FOLLOW_UP_DAYS,
    KM_LAG_DAYS,
    NEEDS_CONTACT_DAYS,
    SIX_MONTHS_DAYS,
    TWELVE_MONTHS_DAYS,
    WAITING_DAYS,
)

SMALL_COHORT = 10  # a rate over fewer people is shown with its interval and a marker
CENTS = Decimal("0.01")
BENCHMARK_COST = 2000  # the case study: "The programme costs 2000 pounds per client"


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
    clients, grouped by client, rather than a lookup of every client's offences: one pass
    over the offences instead of one lookup per client.
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
        Add ``other`` to this tally in place (no new counters: a network sums the shards
        of every borough). ``update`` adds without ``+=``'s second pass dropping counts
        below 1, of which a histogram has none.
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


def in_cohort(as_of):
    """
    Clients in the cohort on A: started by A, and index + 548 <= A (their year of follow-up
    and the wait for its outcomes both over). The query annotates ``index_day``.
    """
    return Q(started_on__lte=as_of) & Q(index_day__lte=epoch_day(as_of) - WAITING_DAYS)


def _contact(as_of, active):
    """
    (annotations, counts) for the contact figures of the clients ``active`` selects:
    ``needs_contact`` (no attended session in the last NEEDS_CONTACT_DAYS days) and
    ``engaged_clients`` (one in the last 28 days).
    """
    annotations = {
        "seen_recently": Exists(_attended_sessions(as_of, NEEDS_CONTACT_DAYS)),
        "seen_this_month": Exists(_attended_sessions(as_of, ACTIVITY_DAYS)),
    }
    counts = {
        "needs_contact": Count("pk", filter=active & Q(seen_recently=False)),
        "engaged_clients": Count("pk", filter=active & Q(seen_this_month=True)),
    }
    return annotations, counts


# Counts and histograms per shard ----------------------------------------------------------


def _client_counts(cases, as_of):
    """
    One grouped query: the client counts per (borough, year) shard. The contact figures
    are the sessions' half (``_contact_counts``), the cohort's reoffenders come from
    ``_reoffending``, the cost from ``_borough_money``.
    """
    started = Q(started_on__lte=as_of)
    active = _active(as_of)
    cohort = in_cohort(as_of)
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
    # Plain dicts in the loops, Counters at the end: the loop runs once per reoffender, and
    # a Counter's missing key costs a Python call.
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


# Figures --------------------------------------------------------------------------------


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
    total = Tally()
    for tally in tallies:
        total.add(tally)
    return total


def outcomes(clients, as_of):
    """
    Every figure (``FIGURES``) for all of ``clients`` together, as of ``as_of``; grants are
    those of the boroughs the clients belong to. 9 queries.
    """
    return _figures(_total(_tallies(clients, as_of).values()))


def outcomes_by_borough(clients, as_of):
    """The same figures per borough, keyed by borough id (boroughs with no clients absent)."""
    return {borough: _figures(tally) for borough, tally in _tallies(clients, as_of).items()}


def baselines():
    """The context figures, labelled as context: never a matched comparison."""
    return [{"label": label, "rate": rate} for label, rate in BASELINES]
