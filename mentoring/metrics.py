"""
The programme's outcome figures, computed in SQL for a set of clients as of a date.

Definitions are in DESIGN.md ("Outcome metrics"). Every date window is counted in whole
days through ``EpochDay`` (days since 1970-01-01), so that SQLite, PostgreSQL and Python
agree to the day: no timestamp arithmetic, no time zones, no string comparison of dates.

Pages, exports and management commands all read their figures from here.
"""

import math
from datetime import date

from django.db.models import (
    Count,
    Exists,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from .models import Client, Offence

FOLLOW_UP_DAYS = 365  # an offence counts if committed within a year of the index date
WAITING_DAYS = 548  # ...and proven (convicted or cautioned) within 18 months of it
WILSON_Z = 1.959964  # two-sided 95%

# Context figures, shown as context and never as a matched comparison group.
BASELINES = [
    ("Case study: people left to public authorities alone", 0.75),
    ("MoJ proven reoffending, juveniles (Apr-Jun 2023 cohort)", 0.316),
    ("MoJ juveniles released from custody (year ending Mar 2016)", 0.701),
]

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


def index_day():
    """The index date (release date if support started in custody, else start) as a day."""
    return EpochDay(Coalesce("release_date", "started_on"))


def proven_reoffences(as_of):
    """
    Offences of the outer client that count as proven reoffences as of ``as_of``: committed
    after the index date and within 365 days of it, proven by a conviction or caution on or
    before both index + 548 days and ``as_of``.
    """
    index = OuterRef("index_day")
    return (
        Offence.objects.filter(client=OuterRef("pk"), outcome_date__lte=as_of)
        .exclude(disposal__in=Offence.NOT_PROVEN)
        .annotate(offence_day=EpochDay("offence_date"), outcome_day=EpochDay("outcome_date"))
        .filter(
            offence_day__gt=index,
            offence_day__lte=index + Value(FOLLOW_UP_DAYS),
            outcome_day__lte=index + Value(WAITING_DAYS),
        )
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


def _aggregates(as_of):
    started = Q(started_on__lte=as_of)
    cohort = started & Q(index_day__lte=epoch_day(as_of) - WAITING_DAYS)
    ended = Q(ended_on__lte=as_of)
    return {
        "clients_referred": Count("pk", filter=Q(referred_on__lte=as_of)),
        "clients_started": Count("pk", filter=started),
        "active_caseload": Count(
            "pk", filter=started & (Q(ended_on__isnull=True) | Q(ended_on__gt=as_of))
        ),
        "cohort": Count("pk", filter=cohort),
        "reoffenders": Count("pk", filter=cohort & Q(has_reoffence=True)),
        "cohort_reoffences": Coalesce(Sum("reoffence_count", filter=cohort), 0),
        "clients_ended": Count("pk", filter=ended),
        "clients_completed": Count(
            "pk", filter=ended & Q(closure_reason=Client.ClosureReason.COMPLETED)
        ),
    }


def wilson_interval(successes, n, z=WILSON_Z):
    """Wilson score interval for a proportion; (None, None) when n is 0."""
    if n == 0:
        return None, None
    p = successes / n
    denominator = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - margin) / denominator, (centre + margin) / denominator


def _ratio(numerator, denominator):
    return numerator / denominator if denominator else None


def _derive(row):
    """Rates from the counts of one scope; None where the denominator is 0."""
    cohort = row["cohort"]
    rate = _ratio(row["reoffenders"], cohort)
    low, high = wilson_interval(row["reoffenders"], cohort)
    return {
        "clients_referred": row["clients_referred"],
        "clients_started": row["clients_started"],
        "active_caseload": row["active_caseload"],
        "cohort": cohort,
        "pending": row["clients_started"] - cohort,
        "reoffenders": row["reoffenders"],
        "reoffending_rate": rate,
        "wilson_low": low,
        "wilson_high": high,
        "reoffences_per_100": (100 * row["cohort_reoffences"] / cohort if cohort else None),
        "success_rate": None if rate is None else 1 - rate,
        "completion_rate": _ratio(row["clients_completed"], row["clients_ended"]),
    }


def outcomes(clients, as_of):
    """The figures for all of ``clients`` together, as of ``as_of``, in one query."""
    row = with_outcome_flags(clients, as_of).aggregate(**_aggregates(as_of))
    return _derive(row)


def outcomes_by_borough(clients, as_of):
    """The same figures per borough, keyed by borough id, in one grouped query."""
    rows = (
        with_outcome_flags(clients, as_of)
        .order_by()
        .values("borough")
        .annotate(**_aggregates(as_of))
    )
    return {row["borough"]: _derive(row) for row in rows}
