"""
Sustained employment (docs/figures.md): clients who held a job or an apprenticeship for 13
and for 26 weeks, per borough and for a whole scope. Read fresh, not through the figures
cache: one query over the placements, whatever the data.
"""

from datetime import timedelta

from django.db.models import Count, Q

from ..models import Placement
from .sql import EpochDay, borough_scope
from .windows import SUSTAINED_13W_DAYS, SUSTAINED_26W_DAYS

SUSTAINED_FIGURES = (
    "sustained_job_13w",
    "sustained_job_13w_of",
    "sustained_job_26w",
    "sustained_job_26w_of",
)
EMPLOYMENT_KINDS = (Placement.Kind.JOB, Placement.Kind.APPRENTICESHIP)


def _held(as_of, days):
    """
    A placement started on S with S + days <= A that had not ended before S + days: no end,
    an end after A (not known on A), or one at least ``days`` after the start.
    """
    return Q(started_on__lte=as_of - timedelta(days=days)) & (
        Q(ended_on__isnull=True) | Q(ended_on__gt=as_of) | Q(days_held__gte=days)
    )


def _counts(boroughs, as_of):
    """
    1 grouped query over the placements alone, not every client: {slug: figures} of the
    boroughs with a job or apprenticeship started by A - 91 days. Distinct counts, so that
    a client with several placements counts once.
    """
    short, long = SUSTAINED_13W_DAYS, SUSTAINED_26W_DAYS
    rows = (
        Placement.objects.filter(
            client__borough__in=boroughs,
            kind__in=EMPLOYMENT_KINDS,
            started_on__lte=as_of - timedelta(days=short),
        )
        .alias(days_held=EpochDay("ended_on") - EpochDay("started_on"))
        .order_by()
        .values("client__borough__slug")
        .annotate(
            sustained_job_13w=Count("client", distinct=True, filter=_held(as_of, short)),
            sustained_job_13w_of=Count("client", distinct=True),
            sustained_job_26w=Count("client", distinct=True, filter=_held(as_of, long)),
            sustained_job_26w_of=Count(
                "client",
                distinct=True,
                filter=Q(started_on__lte=as_of - timedelta(days=long)),
            ),
        )
    )
    return {row.pop("client__borough__slug"): row for row in rows}


def _figures(counts, slug):
    return counts.get(slug) or dict.fromkeys(SUSTAINED_FIGURES, 0)


def sustained_employment(scope, as_of):
    """
    ``{"network": figures, "boroughs": {slug: figures}}`` for every borough in ``scope``,
    each figures ``SUSTAINED_FIGURES``: clients with a job or apprenticeship started by
    A - 91 days (``sustained_job_13w_of``) and those of them who held one for 91 days
    (``sustained_job_13w``); the same over 182 days for 26 weeks. A client counts once,
    in the borough they belong to now, however many placements they had. 2 queries: the
    boroughs, and the counts.
    """
    boroughs = borough_scope(scope)
    counts = _counts(boroughs, as_of)
    by_slug = {slug: _figures(counts, slug) for slug in boroughs.values_list("slug", flat=True)}
    network = {key: sum(b[key] for b in by_slug.values()) for key in SUSTAINED_FIGURES}
    return {"network": network, "boroughs": by_slug}


def with_sustained_employment(report, scope, as_of):
    """
    ``report`` (``metrics.report`` or ``metrics.dashboard`` of the same scope and date)
    with the sustained employment figures added to its network and to each borough. 1 query.
    """
    counts = _counts(borough_scope(scope), as_of)
    for borough in report["boroughs"]:
        borough.update(_figures(counts, borough["slug"]))
    report["network"].update(
        {key: sum(c[key] for c in counts.values()) for key in SUSTAINED_FIGURES}
    )
    return report
