"""
The funders' impact report: the work, outcomes, cost and people of the clients a scope
started in a period, as of a date, with the rules for figures that leave the programme.

Definitions and the publishing rules: docs/figures.md ("Impact report"). Every count of
people goes through ``published`` or ``breakdown``: 1 to 9 people is never printed, a
breakdown with one such group hides the next-smallest non-zero group too, and a total
under 10 is itself hidden. The page, the PDF and the JSON all read this one dictionary.
"""

from collections import Counter
from decimal import Decimal

from django.db.models import Case, Count, F, Q, Sum, Value, When
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear

from ..models import (
    Client,
    Grant,
    Milestone,
    Placement,
    SessionAreaDay,
    SessionDay,
)
from .definitions import BENCHMARK_COST, CENTS, _case_tallies, _figures, _total, baselines
from .pieces import _areas, _reoffending_curve
from .sql import Cases, borough_scope

FEWEST_PUBLISHED = 10  # a count of 1 to 9 people is never printed

# Age in whole years on the day of referral; 10 is the age of criminal responsibility.
AGE_BANDS = (
    ("under 16", None, 15),
    ("16-17", 16, 17),
    ("18-20", 18, 20),
    ("21-25", 21, 25),
    ("over 25", 26, None),
)
AGE_NOT_KNOWN = "not known"  # an anonymised record keeps no date of birth
NOT_RECORDED = "Not recorded"

BREAKDOWNS = {
    "age_band": "Age at referral",
    "gender": "Gender",
    "ethnicity": "Ethnicity",
    "referral_source": "Referral source",
}
_CHOICES = {
    "gender": Client.Gender,
    "ethnicity": Client.Ethnicity,
    "referral_source": Client.ReferralSource,
}


# The publishing rules ---------------------------------------------------------------------


def hidden(people):
    """Whether a count of people is too small to print (1 to 9; zero is shown)."""
    return 0 < people < FEWEST_PUBLISHED


FEWER_THAN = f"fewer than {FEWEST_PUBLISHED}"
# A group hidden only so that a small one cannot be worked out: it is not small, and
# must not read as if it were.
NOT_SHOWN = "not shown"


def published(people):
    """``{"people": n or None, "suppressed": bool, "note"}`` for one count of people."""
    suppressed = hidden(people)
    return {
        "people": None if suppressed else people,
        "suppressed": suppressed,
        "note": FEWER_THAN if suppressed else None,
    }


def breakdown(groups):
    """
    ``groups`` ([(group, label, people)]) as published: each ``{"group", "label",
    "people", "suppressed"}`` and the ``total`` (``published``). A group of 1 to 9 is
    hidden; where that hides only one group, the next-smallest non-zero group is hidden
    too, so that no group can be worked out from the total; a total under 10 is hidden.
    """
    small = {group for group, _label, people in groups if hidden(people)}
    if len(small) == 1:
        others = [
            (people, group) for group, _label, people in groups if people and group not in small
        ]
        if others:
            # The smallest; between equals, the first listed.
            small.add(min(others, key=lambda other: other[0])[1])
    total = sum(people for _group, _label, people in groups)
    rows = [
        {
            "group": group,
            "label": label,
            "people": None if group in small else people,
            "suppressed": group in small,
            "note": (FEWER_THAN if hidden(people) else NOT_SHOWN) if group in small else None,
        }
        for group, label, people in groups
    ]
    return {"groups": rows, "total": published(total)}


def age_band(age):
    """The band (``AGE_BANDS``) of an age in whole years."""
    for name, low, high in AGE_BANDS:
        if (low is None or age >= low) and (high is None or age <= high):
            return name
    raise ValueError(age)  # unreachable: the bands cover every age


# Queries ------------------------------------------------------------------------------------


def _age_on_referral():
    """A client's age in whole years on the day of referral, in SQL (None without a birth date)."""
    birthday_to_come = Q(referred_month__lt=F("born_month")) | Q(
        referred_month=F("born_month"), referred_day__lt=F("born_day")
    )
    return {
        "referred_month": ExtractMonth("referred_on"),
        "referred_day": ExtractDay("referred_on"),
        "born_month": ExtractMonth("date_of_birth"),
        "born_day": ExtractDay("date_of_birth"),
    }, ExtractYear("referred_on") - ExtractYear("date_of_birth") - Case(
        When(birthday_to_come, then=Value(1)), default=Value(0)
    )


def _breakdowns(clients):
    """Four grouped queries: who the clients are, each breakdown published."""
    result = {}
    for key, choices in _CHOICES.items():
        counts = dict(clients.order_by().values_list(key).annotate(n=Count("pk")))
        groups = [(value, label, counts.pop(value, 0)) for value, label in choices.choices]
        # An optional field left empty is a group of its own, so that every breakdown adds
        # up to the starts: a total one short would tell that one person is missing.
        if counts:
            groups.append(("", NOT_RECORDED, sum(counts.values())))
        result[key] = breakdown(groups)
    parts, age = _age_on_referral()
    ages = Counter()
    rows = clients.order_by().annotate(**parts).annotate(age=age).values_list("age")
    for years, n in rows.annotate(n=Count("pk")):
        ages[AGE_NOT_KNOWN if years is None else age_band(years)] += n
    groups = [(name, name, ages[name]) for name, _low, _high in AGE_BANDS]
    # Those with no birth date are a group of their own for the rules (they add up to
    # the total with the bands), listed apart from the five bands.
    ages_published = breakdown([*groups, (AGE_NOT_KNOWN, "Not known", ages[AGE_NOT_KNOWN])])
    not_known = ages_published["groups"].pop()
    result["age_band"] = ages_published
    return result, not_known


def _parts(**counts):
    """Counts that add up to a whole, published as a breakdown: {name: published}."""
    result = breakdown([(name, name, n) for name, n in counts.items()])
    return {
        row["group"]: {key: row[key] for key in ("people", "suppressed", "note")}
        for row in result["groups"]
    }


def _per_kind(rows, kinds):
    """Each kind with the people (published) and the number of records, from grouped rows."""
    counts = {kind: (people, n) for kind, people, n in rows}
    result = []
    for kind in kinds:
        people, n = counts.get(kind.value, (0, 0))
        entry = published(people)
        # A count of records made by fewer than 10 people would tell roughly how many.
        result.append(
            {
                "kind": kind.value,
                "label": kind.label,
                **entry,
                "records": None if entry["suppressed"] else n,
            }
        )
    return result


def _work(boroughs, start, last, as_of):
    """The scope's work in the period: referrals, caseload, sessions, areas. 4 queries."""
    clients = Client.objects.filter(borough__in=boroughs)
    counts = clients.aggregate(
        referrals=Count("pk", filter=Q(referred_on__gte=start, referred_on__lte=last)),
        active=Count(
            "pk",
            filter=Q(started_on__lte=last) & (Q(ended_on__isnull=True) | Q(ended_on__gt=last)),
        ),
    )
    days = {"borough__in": boroughs, "date__gte": start, "date__lte": last}
    sessions = SessionDay.objects.filter(**days).aggregate(
        sessions=Sum("sessions", default=0), minutes=Sum("minutes", default=0)
    )
    areas = Counter(
        dict(
            SessionAreaDay.objects.filter(**days)
            .order_by()
            .values_list("support_area")
            .annotate(n=Sum("sessions"))
        )
    )
    return {
        "referrals": published(counts["referrals"]),
        "active_caseload": published(counts["active"]),
        "active_on": last,
        "sessions_attended": sessions["sessions"],
        "hours_attended": sessions["minutes"] / 60,
        "support_areas": _areas(areas),
    }


def _money(boroughs, started_per_borough, start, end, as_of):
    """
    (cost of the clients started, the grants of the period, whether the areas with starts
    have different prices). 2 queries.
    """
    costs = dict(boroughs.order_by().values_list("pk", "cost_per_client"))
    prices = {costs[pk] for pk, n in started_per_borough.items() if n and pk in costs}
    cost = sum(
        (costs[pk] * n for pk, n in started_per_borough.items() if pk in costs), Decimal("0")
    )
    grants = [
        {
            "funder": grant.funder.name,
            "borough": grant.borough.slug,
            "borough_name": grant.borough.name,
            "reference": grant.reference,
            "amount": grant.amount,
            "starts_on": grant.starts_on,
            "ends_on": grant.ends_on,
        }
        for grant in Grant.objects.filter(
            borough__in=boroughs, starts_on__lte=min(end, as_of), ends_on__gte=start
        )
        .select_related("funder", "borough")
        .order_by("starts_on", "borough__name", "pk")
    ]
    return cost.quantize(CENTS), grants, len(prices) > 1


def _by_funder(grants):
    """The grants summed per funder: ``{"funder", "grants", "areas", "amount"}``, largest first."""
    funders = {}
    for grant in grants:
        entry = funders.setdefault(
            grant["funder"], {"funder": grant["funder"], "grants": 0, "areas": set(), "amount": 0}
        )
        entry["grants"] += 1
        entry["areas"].add(grant["borough"])
        entry["amount"] += grant["amount"]
    rows = [{**entry, "areas": len(entry["areas"])} for entry in funders.values()]
    return sorted(rows, key=lambda row: (-row["amount"], row["funder"]))


def impact(scope, start, end, as_of):
    """
    The impact report of the clients of ``scope`` (``borough_scope``) started from
    ``start`` to ``end`` inclusive, as known on ``as_of`` (records dated after it are
    ignored, and so are starts after it): ``work``, ``outcomes``, ``cost``,
    ``breakdowns`` and ``age_not_known``, every count of people published by the rules
    above. 18 queries, however many clients.
    """
    boroughs = borough_scope(scope)
    last = min(end, as_of)
    period = {"borough__in": boroughs, "started_on__gte": start, "started_on__lte": last}
    clients = Client.objects.filter(**period)
    cases = Cases(clients, Q(**{f"client__{key}": value for key, value in period.items()}))
    shards = _case_tallies(cases, as_of)  # 6 queries
    tally = _total(shards.values())
    figures = _figures(tally)
    started_per_borough = Counter()
    for (pk, _year), shard in shards.items():
        started_per_borough[pk] += shard.counts["clients_started"]
    curve = _reoffending_curve(tally.reoffending)
    milestones = (
        Milestone.objects.filter(cases.related, achieved_on__lte=as_of)
        .order_by()
        .values_list("kind")
        .annotate(people=Count("client", distinct=True), n=Count("pk"))
    )
    placements = (
        Placement.objects.filter(cases.related, started_on__lte=as_of)
        .order_by()
        .values_list("kind")
        .annotate(people=Count("client", distinct=True), n=Count("pk"))
    )
    breakdowns, age_not_known = _breakdowns(clients)
    started = figures["clients_started"]
    # The starts split two ways, each a breakdown of them, so that no part of the starts is
    # the starts less the parts shown.
    followed = _parts(cohort=figures["cohort"], pending=figures["pending"])
    ended = figures["clients_ended"]
    endings = _parts(
        completed=figures["clients_completed"],
        ended_otherwise=ended - figures["clients_completed"],
        in_support=started - ended,
    )
    cost, grants, prices_differ = _money(boroughs, started_per_borough, start, end, as_of)
    grants_total = sum((g["amount"] for g in grants), Decimal("0.00"))
    # The cost is the starts times each area's price: it would tell a hidden count of
    # starts, and in a scope of areas priced differently, an area's hidden count too.
    small_area = any(hidden(n) for n in started_per_borough.values())
    cost_shown = not hidden(started) and not (small_area and prices_differ)
    return {
        "as_of": as_of,
        "from": start,
        "to": end,
        "work": {"starts": published(started), **_work(boroughs, start, last, as_of)},
        "outcomes": {
            "cohort": followed["cohort"],
            "pending": followed["pending"],
            "reoffenders": published(figures["reoffenders"]),
            "reoffending_rate": figures["reoffending_rate"],
            "wilson_low": figures["wilson_low"],
            "wilson_high": figures["wilson_high"],
            "small_cohort": figures["small_cohort"],
            "km_reoffending_12m": curve["km_reoffending_12m"],
            "km_at_risk_12m": published(curve["at_risk_12m"] or 0),
            # Only the curve and the numbers at risk (10 or more): the events of one day
            # are counts of a few people.
            "km_curve": [
                {"day": p["day"], "at_risk": p["at_risk"], "survival": p["survival"]}
                for p in curve["points"]
            ],
            "clients_ended": published(figures["clients_ended"]),
            "clients_completed": endings["completed"],
            "clients_ended_otherwise": endings["ended_otherwise"],
            "clients_in_support": endings["in_support"],
            # A rate of two counts tells them both: only where neither is hidden.
            "completion_rate": (
                figures["completion_rate"]
                if not (
                    endings["completed"]["suppressed"] or endings["ended_otherwise"]["suppressed"]
                )
                else None
            ),
            "milestones": _per_kind(milestones, Milestone.Kind),
            "placements": _per_kind(placements, Placement.Kind),
        },
        "cost": {
            "clients_started": published(started),
            # The cost is the starts times a known price: it would tell a hidden count.
            "cost_of_clients_started": cost if cost_shown else None,
            "cost_per_client": (cost / started).quantize(CENTS) if cost_shown and started else None,
            "benchmark_cost_per_client": Decimal(BENCHMARK_COST).quantize(CENTS),
            "grants": grants,
            "grants_by_funder": _by_funder(grants),
            "grants_total": grants_total,
            "funding_gap": cost - grants_total if cost_shown else None,
        },
        # The command contract: each breakdown a list of groups; their totals apart.
        "breakdowns": {key: result["groups"] for key, result in breakdowns.items()},
        "breakdown_totals": {key: result["total"] for key, result in breakdowns.items()},
        "age_not_known": age_not_known,
        "baselines": baselines(),
    }
