"""
Sustained employment (docs/figures.md): clients who held a job or an apprenticeship for 13
and for 26 weeks, per borough and for a whole scope. Read fresh, not through the figures
cache: one query, whatever the data.
"""

from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q

from ..models import Borough, Placement
from .sql import EpochDay, borough_scope
from .windows import SUSTAINED_13W_DAYS, SUSTAINED_26W_DAYS

SUSTAINED_FIGURES = (
    "sustained_job_13w",
    "sustained_job_13w_of",
    "sustained_job_26w",
    "sustained_job_26w_of",
)
EMPLOYMENT_KINDS = (Placement.Kind.JOB, Placement.Kind.APPRENTICESHIP)


def _placements(as_of, days, *, sustained):
    """
    A client's jobs and apprenticeships started on S with S + days <= A; with
    ``sustained``, only those not ended before S + days (no end, an end after A, which is
    not known on A, or one at least ``days`` after the start).
    """
    placements = Placement.objects.filter(
        client=OuterRef("clients"),
        kind__in=EMPLOYMENT_KINDS,
        started_on__lte=as_of - timedelta(days=days),
    )
    if sustained:
        placements = placements.alias(
            days_held=EpochDay("ended_on") - EpochDay("started_on")
        ).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=as_of) | Q(days_held__gte=days))
    return Exists(placements)


def _counts(boroughs, as_of):
    """1 grouped query: {slug: figures} for every borough, with none left out."""
    counts = {}
    for weeks, days in (("13w", SUSTAINED_13W_DAYS), ("26w", SUSTAINED_26W_DAYS)):
        counts[f"sustained_job_{weeks}"] = Count(
            "clients", filter=_placements(as_of, days, sustained=True)
        )
        counts[f"sustained_job_{weeks}_of"] = Count(
            "clients", filter=_placements(as_of, days, sustained=False)
        )
    rows = (
        Borough.objects.filter(pk__in=boroughs.values("pk"))
        .order_by()
        .values("slug")
        .annotate(**counts)
    )
    return {row.pop("slug"): row for row in rows}


def sustained_employment(scope, as_of):
    """
    ``{"network": figures, "boroughs": {slug: figures}}`` for the boroughs in ``scope``,
    each figures ``SUSTAINED_FIGURES``: clients with a job or apprenticeship started by
    A - 91 days (``sustained_job_13w_of``) and those of them who held one for 91 days
    (``sustained_job_13w``); the same over 182 days for 26 weeks. A client counts once,
    in the borough they belong to now, however many placements they had. 1 query.
    """
    boroughs = _counts(borough_scope(scope), as_of)
    network = {key: sum(b[key] for b in boroughs.values()) for key in SUSTAINED_FIGURES}
    return {"network": network, "boroughs": boroughs}


def with_sustained_employment(report, scope, as_of):
    """
    ``report`` (``metrics.report`` or ``metrics.dashboard`` of the same scope and date)
    with the sustained employment figures added to its network and to each borough. 1 query.
    """
    sustained = sustained_employment(scope, as_of)
    report["network"].update(sustained["network"])
    for borough in report["boroughs"]:
        borough.update(sustained["boroughs"][borough["slug"]])
    return report
