"""
Follow-up check-ins after support ends (docs/figures.md): a case closed as COMPLETED is
checked on at 3, 6 and 12 months, due ``FOLLOWUP_DUE_DAYS`` after it ended. As of A, the
check-ins due are those with a due date on or before A; done, those of them recorded on or
before A; reached, those done that reached the young person. Of those reached at each
point: how many were in education, training or employment, and in stable accommodation.
What a young person tells of a new offence is never read here: it is not a proven one.

Read fresh, like sustained employment, not through the figures cache: two grouped queries,
over the completed cases and over the check-ins, whatever the data.
"""

from datetime import timedelta

from django.db.models import Count, Q

from ..models import Client, FollowUp, completed_case
from .sql import borough_scope
from .windows import FOLLOWUP_DUE_DAYS

POINTS = tuple(FOLLOWUP_DUE_DAYS)  # 3, 6, 12 (months)
COUNTS = ("followups_due", "followups_done", "followups_reached")
PER_POINT = ("followups_reached", "followup_ete", "followup_housed")
SHARES = ("followup_ete_share", "followup_housed_share")


def _key(name, point):
    return f"{name}_{point}m"


FOLLOWUP_FIGURES = (
    *COUNTS,
    "followup_reach_rate",
    *(_key(name, point) for point in POINTS for name in (*PER_POINT, *SHARES)),
)


def _due_by(as_of, point, prefix=""):
    """The check-in at ``point`` is due by ``as_of``: the case ended ``days`` before or more."""
    return Q(**{f"{prefix}ended_on__lte": as_of - timedelta(days=FOLLOWUP_DUE_DAYS[point])})


def _counts(boroughs, as_of):
    """
    {slug: counts}: 2 grouped queries, over the completed cases ended 91+ days before A
    and over the check-ins recorded by A that were due by A. The check-ins are grouped by
    borough id and point, with four counts each: no join to the boroughs, and few
    aggregates over the many rows.
    """
    first = min(FOLLOWUP_DUE_DAYS.values())
    due = (
        Client.objects.completed()
        .filter(borough__in=boroughs)
        .filter(ended_on__lte=as_of - timedelta(days=first))
        .order_by()
        .values("borough_id", "borough__slug")
        .annotate(**{f"due_{p}": Count("pk", filter=_due_by(as_of, p)) for p in POINTS})
    )
    counts, slugs = {}, {}
    for row in due:
        # A borough with a check-in done has one due: its slug is read here.
        slugs[row.pop("borough_id")] = slug = row.pop("borough__slug")
        counts[slug] = {"followups_due": sum(row.values())}
    due_now = Q()
    for point in POINTS:
        due_now |= Q(point=point) & _due_by(as_of, point, "client__")
    done = (
        FollowUp.objects.filter(client__borough__in=boroughs, done_on__lte=as_of)
        .filter(due_now, completed_case("client__"))
        .order_by()
        .values("client__borough_id", "point")
        .annotate(
            done=Count("pk"),
            reached=Count("pk", filter=Q(reached=True)),
            ete=Count("pk", filter=Q(in_ete=True)),
            housed=Count("pk", filter=Q(stable_accommodation=True)),
        )
    )
    for row in done:
        figures = counts[slugs[row["client__borough_id"]]]
        point = row["point"]
        for name, value in (
            ("followups_done", row["done"]),
            ("followups_reached", row["reached"]),
            (_key("followups_reached", point), row["reached"]),
            (_key("followup_ete", point), row["ete"]),
            (_key("followup_housed", point), row["housed"]),
        ):
            figures[name] = figures.get(name, 0) + value
    return counts


def _share(part, whole):
    return part / whole if whole else None


def _with_rates(figures):
    """The counts with every key of FOLLOWUP_FIGURES: missing counts are 0, and the rates
    are fractions of their counts (None where there is nothing to divide by)."""
    out = dict.fromkeys(FOLLOWUP_FIGURES, 0) | {
        k: v for k, v in figures.items() if k in FOLLOWUP_FIGURES
    }
    out["followup_reach_rate"] = _share(out["followups_reached"], out["followups_done"])
    for point in POINTS:
        reached = out[_key("followups_reached", point)]
        out[_key("followup_ete_share", point)] = _share(out[_key("followup_ete", point)], reached)
        out[_key("followup_housed_share", point)] = _share(
            out[_key("followup_housed", point)], reached
        )
    return out


def _total(counts):
    names = (*COUNTS, *(_key(name, p) for p in POINTS for name in PER_POINT))
    return _with_rates({name: sum(c.get(name, 0) for c in counts.values()) for name in names})


def followups(scope, as_of):
    """
    ``{"network": figures, "boroughs": {slug: figures}}`` for every borough in ``scope``,
    each figures ``FOLLOWUP_FIGURES``. A client counts in the borough they belong to now.
    3 queries: the boroughs, the cases due, and the check-ins done.
    """
    boroughs = borough_scope(scope)
    counts = _counts(boroughs, as_of)
    by_slug = {
        slug: _with_rates(counts.get(slug, {})) for slug in boroughs.values_list("slug", flat=True)
    }
    return {"network": _total(counts), "boroughs": by_slug}


def with_followups(report, scope, as_of):
    """
    ``report`` (``metrics.report`` or ``metrics.dashboard`` of the same scope and date)
    with the follow-up figures added to its network and to each borough. 2 queries.
    """
    counts = _counts(borough_scope(scope), as_of)
    for borough in report["boroughs"]:
        borough.update(_with_rates(counts.get(borough["slug"], {})))
    report["network"].update(_total(counts))
    return report
