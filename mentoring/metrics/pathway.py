"""
The peer pathway (docs/figures.md): clients who went on to volunteer, train, mentor and
work for the programme, and the mentors who were once its clients, per borough and for a
whole scope. Read fresh, not through the figures cache: two grouped queries, whatever
the data.
"""

from collections import Counter

from django.db.models import Count, Q

from ..models import Mentor, PathwayStep
from .sql import EpochDay, borough_scope
from .statistics import histogram_median

STEP_FIGURES = {
    PathwayStep.Step.VOLUNTEERING: "pathway_volunteering",
    PathwayStep.Step.LEVEL_2: "pathway_level_2",
    PathwayStep.Step.LEVEL_3: "pathway_level_3",
    PathwayStep.Step.PEER_MENTOR: "pathway_peer_mentor",
    PathwayStep.Step.PAID_STAFF: "pathway_paid_staff",
}
PATHWAY_FIGURES = (
    *STEP_FIGURES.values(),
    "mentors_active",
    "mentors_former_clients",
    "mentors_former_client_share",
    "median_days_to_mentor",
)


def _steps(boroughs, as_of):
    """
    1 grouped query: {slug: {figure: clients}}, the clients of each borough (where they
    belong now) who reached each step on or before A. One step of a kind per client
    (``mentoring_pathwaystep_once``), so rows are clients.
    """
    rows = (
        PathwayStep.objects.filter(client__borough__in=boroughs, reached_on__lte=as_of)
        .order_by()
        .values_list("client__borough__slug", "step")
        .annotate(clients=Count("*"))
    )
    counts = {}
    for slug, step, clients in rows:
        counts.setdefault(slug, {})[STEP_FIGURES[step]] = clients
    return counts


def _mentors(boroughs, as_of):
    """
    1 grouped query over the mentors started by A, by home borough and by the days from
    the start of their own support as a client to their start as a mentor (none for a
    mentor who was never a client): ``({slug: (active, former clients active)}, {slug:
    Counter of days})``. Mentors active on A started by then and had not left on A; the
    days count every former client who started by A, whether or not they still mentor.
    """
    active = Q(ended_on__isnull=True) | Q(ended_on__gt=as_of)
    rows = (
        Mentor.objects.filter(home_borough__in=boroughs, started_on__lte=as_of)
        .annotate(days=EpochDay("started_on") - EpochDay("client_support_started_on"))
        .order_by()
        .values_list("home_borough__slug", "days")
        .annotate(
            active=Count("pk", filter=active),
            former_active=Count("pk", filter=active & Q(was_client=True)),
            former=Count("pk", filter=Q(was_client=True, client_support_started_on__isnull=False)),
        )
    )
    mentors, days = {}, {}
    for slug, waited, active_now, former_active, former in rows:
        count, clients = mentors.get(slug, (0, 0))
        mentors[slug] = (count + active_now, clients + former_active)
        if waited is not None and former:
            days.setdefault(slug, Counter())[waited] += former
    return mentors, days


def _figures(steps, mentors, days):
    active, former = mentors
    return {
        **{name: steps.get(name, 0) for name in STEP_FIGURES.values()},
        "mentors_active": active,
        "mentors_former_clients": former,
        "mentors_former_client_share": former / active if active else None,
        "median_days_to_mentor": histogram_median(days),
    }


def _by_borough(boroughs, as_of):
    """{slug: figures} for every borough of ``boroughs``, and the network's. 2 queries."""
    steps = _steps(boroughs, as_of)
    mentors, days = _mentors(boroughs, as_of)
    by_slug = {
        slug: _figures(steps.get(slug, {}), mentors.get(slug, (0, 0)), days.get(slug, Counter()))
        for slug in set(steps) | set(mentors)
    }
    every_day = sum(days.values(), Counter())
    # Counts add up; the share and the median are taken again over the whole network.
    network = _figures(
        {name: sum(s.get(name, 0) for s in steps.values()) for name in STEP_FIGURES.values()},
        tuple(sum(m[i] for m in mentors.values()) for i in (0, 1)),
        every_day,
    )
    return by_slug, network


def _empty():
    return _figures({}, (0, 0), Counter())


def pathway(scope, as_of):
    """
    ``{"network": figures, "boroughs": {slug: figures}}`` for every borough in ``scope``,
    each figures ``PATHWAY_FIGURES``: clients who reached each step of the pathway on or
    before A (``pathway_volunteering``... ``pathway_paid_staff``), in the borough they
    belong to now; mentors active on A by home borough (``mentors_active``), those of them
    who were clients (``mentors_former_clients``) and their share (None without mentors);
    the median days from the start of a former client's support to their start as a
    mentor, over those who started by A (``median_days_to_mentor``, None without any).
    3 queries: the boroughs, the steps, the mentors.
    """
    boroughs = borough_scope(scope)
    by_slug, network = _by_borough(boroughs, as_of)
    return {
        "network": network,
        "boroughs": {
            slug: by_slug.get(slug) or _empty() for slug in boroughs.values_list("slug", flat=True)
        },
    }


def with_pathway(report, scope, as_of):
    """
    ``report`` (``metrics.report`` or ``metrics.dashboard`` of the same scope and date)
    with the peer pathway figures added to its network and to each borough. 2 queries.
    """
    by_slug, network = _by_borough(borough_scope(scope), as_of)
    for borough in report["boroughs"]:
        borough.update(by_slug.get(borough["slug"]) or _empty())
    report["network"].update(network)
    return report
