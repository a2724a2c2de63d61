"""
What a dashboard draws besides the figures: activity per month, closures by reason, mentor
load, support areas covered, milestones achieved, and the Kaplan-Meier curves of
reoffending and programme length. Each piece has its grouped queries (per borough or per
shard, so that the figures cache can keep them per borough), the shape a page reads, and a
public function for a whole scope.
"""

from collections import Counter, defaultdict
from datetime import date, timedelta

from django.db.models import Count, Q, Sum, Value
from django.db.models.functions import TruncMonth

from ..models import Client, Mentor, Milestone, SessionAreaDay, SessionDay, SupportArea
from .definitions import _programme_histograms, _ratio, _reoffending
from .sql import SHARD, Cases, borough_scope
from .statistics import at_risk_on, kaplan_meier, km_median, survival_at, survival_curve
from .windows import (
    AREAS_AND_MILESTONES_DAYS,
    FOLLOW_UP_DAYS,
    MONTHS,
    SIX_MONTHS_DAYS,
    TWELVE_MONTHS_DAYS,
)

# Grouped queries ------------------------------------------------------------------------


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


def _area_parts(boroughs, as_of, days=AREAS_AND_MILESTONES_DAYS):
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


def _milestone_parts(cases, as_of, days=AREAS_AND_MILESTONES_DAYS):
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
        # year's milestones are read from it alone.
        .annotate(milestones=Count("*"), clients=Count("client", distinct=True))
    )
    result = defaultdict(Counter)
    for row in rows:
        counter = result[row["client__borough"], row["year"]]
        counter[(row["kind"], "milestones")] += row["milestones"]
        counter[(row["kind"], "clients")] += row["clients"]
    return result


# Pieces ---------------------------------------------------------------------------------


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


def support_areas_covered(scope, as_of, days=AREAS_AND_MILESTONES_DAYS):
    """
    Every support area with the number of attended sessions in (A - days, A] that covered
    it (``sessions``), for clients in ``scope``. 2 queries: one sum over the window's days
    in the SessionAreaDay summary, one for the areas' names: counting the window's
    sessions, or a correlated count per area, would grow with the sessions.
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


def milestones_achieved(scope, as_of, days=AREAS_AND_MILESTONES_DAYS):
    """
    Every milestone kind with the ``milestones`` achieved in (A - days, A] by clients in
    ``scope``, and how many ``clients`` achieved one. 1 query.
    """
    cases = Cases.of_boroughs(borough_scope(scope))
    return _milestones(_total_of(_milestone_parts(cases, as_of, days)))
