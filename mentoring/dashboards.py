"""
Manager dashboards: the network overview and one borough, as of any date, with SVG charts
drawn on the server and every table downloadable as CSV.

All figures come from ``metrics.dashboard`` and ``metrics.with_after_support`` for
the boroughs the user may see (``Borough.objects.for_user``); nothing is computed here.
Dashboards show no client names.
"""

from datetime import date, timedelta

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from . import access, charts, dates, metrics, replica
from .metrics.windows import FOLLOW_UP_DAYS, YEAR_EARLIER_DAYS
from .models import Borough, JusticeDataLabResult, borough_ids_for

EARLIEST_AS_OF = date(2000, 1, 1)
BENCHMARK_COST = metrics.BENCHMARK_COST


class BadAsOf(ValueError):
    pass


def parse_as_of(value, today):
    """``?as_of=`` as a date (any form ``dates.parse_day`` reads), not in the future;
    default today."""
    if not value:
        return today
    try:
        day = dates.parse_day(value)
    except dates.NotADay as error:
        raise BadAsOf(str(error)) from None
    if day > today:
        raise BadAsOf("The date cannot be in the future: figures are only known up to today.")
    if day < EARLIEST_AS_OF:
        raise BadAsOf(f"The date cannot be before {EARLIEST_AS_OF:%d/%m/%Y}.")
    return day


def _csv_response(filename, columns, rows):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    metrics.write_csv(response, columns, rows, float_places=6)
    return response


def _report_csv(filename, data, total_name):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    metrics.write_report_csv(data, response, total_name)
    return response


def scope_name(user, boroughs):
    """
    What a user's network page covers: "All boroughs" for those who see every one, else
    the boroughs by name: a coordinator's overview is not the whole network's.
    """
    if borough_ids_for(user) is None:
        return metrics.NETWORK_NAME
    return " + ".join(b["name"] for b in boroughs) or "No boroughs"


TABLES = {
    "monthly": (
        "month",
        "referrals",
        "starts",
        "closures",
        "sessions_attended",
        "hours",
    ),
    "closures": ("reason", "label", "clients", "share"),
    "mentors": (
        "reference",
        "name",
        "home_borough",
        "open_assignments",
        "max_caseload",
        "spare",
        "over_capacity",
    ),
    "support_areas": ("slug", "name", "sessions"),
    "milestones": ("kind", "label", "milestones", "clients"),
    "reoffending_curve": ("day", "at_risk", "events", "censored", "survival"),
    "programme_length": ("day", "at_risk", "events", "censored", "survival"),
}


def _table_rows(data, table):
    if table == "monthly":
        return [{**m, "month": m["month"].strftime("%Y-%m")} for m in data["monthly"]]
    return {
        "closures": data["closures_by_reason"],
        "mentors": data["mentor_load"],
        "support_areas": data["support_areas"],
        "milestones": data["milestones"],
        "reoffending_curve": data["reoffending_curve"]["points"],
        "programme_length": data["programme_length"]["points"],
    }[table]


def _monthly_charts(monthly):
    labels = [m["month"].strftime("%b %y") for m in monthly]
    flow = charts.bar_chart(
        labels,
        [
            ("Referrals", [m["referrals"] for m in monthly]),
            ("Starts", [m["starts"] for m in monthly]),
            ("Closures", [m["closures"] for m in monthly]),
        ],
        title="Referrals, starts and closures per month",
        description="Bars per month for the last 24 months; the table below has the figures.",
        label_every=3,
    )
    activity = charts.bar_chart(
        labels,
        [
            ("Sessions attended", [m["sessions_attended"] for m in monthly]),
            ("Hours", [round(m["hours"], 1) for m in monthly]),
        ],
        title="Attended sessions and hours of support per month",
        description="Bars per month for the last 24 months; the table below has the figures.",
        label_every=3,
    )
    return flow, activity


def km_chart(curve, title):
    points = [(p["day"], p["survival"]) for p in curve["points"]]
    last = points[-1][0] if points else -1
    # Past the curve's end (fewer than 10 at risk) the number is not shown.
    ticks = [
        (day, metrics.at_risk_on(curve["points"], day) if day <= last else None)
        for day in (FOLLOW_UP_DAYS * quarter // 4 for quarter in range(5))
    ]
    return charts.step_chart(
        points,
        ticks,
        x_max=FOLLOW_UP_DAYS,
        title=title,
        description=(
            "Share of clients not yet proven to have reoffended, by days since the index "
            "date (Kaplan-Meier); the curve stops where fewer than 10 remain at risk."
        ),
    )


def _rate_rows(boroughs):
    return [
        {
            "label": b["name"],
            "rate": b["reoffending_rate"],
            "low": b["wilson_low"],
            "high": b["wilson_high"],
            "small": b["small_cohort"],
        }
        for b in boroughs
    ]


def _requested_as_of(request):
    """``(as_of, error)`` from ``?as_of=``: on a bad date, today and what was wrong."""
    try:
        return parse_as_of(request.GET.get("as_of"), timezone.localdate()), None
    except BadAsOf as error:
        return timezone.localdate(), str(error)


def _error_page(request, message):
    return render(request, "mentoring/dashboard_error.html", {"message": message}, status=400)


def _as_of_context(request, as_of, as_of_error):
    """What ``_as_of.html`` shows: the date, a year earlier, and what was wrong."""
    return {
        "as_of": as_of,
        "is_today": as_of == timezone.localdate(),
        "previous_year": as_of - timedelta(days=YEAR_EARLIER_DAYS),
        "as_of_error": as_of_error,
        "as_of_typed": request.GET.get("as_of", ""),
    }


def dashboard_figures(scope, as_of):
    """
    ``metrics.dashboard`` with what the figures cache does not hold beside it (sustained
    employment, the check-ins after support, the peer pathway): read together, from the
    same database.
    """
    return metrics.with_after_support(metrics.dashboard(scope, as_of), scope, as_of)


def _dashboard_page(request, scope, template, filename, extra, total_name):
    download = request.GET.get("download")
    # On a bad date a download fails; the page still shows the figures, as of today, with
    # what was wrong above them.
    as_of, as_of_error = _requested_as_of(request)
    if as_of_error and download:
        return _error_page(request, as_of_error)
    data = replica.on_replica(dashboard_figures, scope, as_of)
    if download == "figures":
        return _report_csv(
            f"{filename}-{as_of}.csv", data, total_name(data) if total_name else None
        )
    if download in TABLES:
        return _csv_response(
            f"{filename}-{download}-{as_of}.csv", TABLES[download], _table_rows(data, download)
        )
    if download:
        return _error_page(request, f"There is no table called {download!r} to download.")
    flow, activity = _monthly_charts(data["monthly"])
    context = {
        "data": data,
        **_as_of_context(request, as_of, as_of_error),
        "flow_chart": flow,
        "activity_chart": activity,
        "km_chart": km_chart(data["reoffending_curve"], "Kaplan-Meier: no proven reoffence"),
        "benchmark_cost": BENCHMARK_COST,
        **extra(data),
    }
    return render(request, template, context, status=400 if as_of_error else 200)


def lab_result(borough, as_of):
    """
    The Justice Data Lab's latest published answer for ``borough`` (None: the whole
    programme) as of ``as_of``: the one matched comparison, shown beside the context
    figures.
    """
    return (
        JusticeDataLabResult.objects.filter(borough=borough, published_on__lte=as_of)
        .order_by("-published_on", "-pk")
        .first()
    )


@access.roles_required(*access.DASHBOARD_ROLES)
def network_dashboard(request):
    def extra(data):
        boroughs = data["boroughs"]
        load = {}
        for mentor in data["mentor_load"]:
            entry = load.setdefault(mentor["home_borough"], {"mentors": 0, "open": 0, "cap": 0})
            entry["mentors"] += 1
            entry["open"] += mentor["open_assignments"]
            entry["cap"] += mentor["max_caseload"]
        for b in boroughs:
            b["load"] = load.get(b["slug"], {"mentors": 0, "open": 0, "cap": 0})
        name = scope_name(request.user, boroughs)
        return {
            "lab_result": lab_result(None, data["as_of"]),
            "scope_name": name,
            "whole_network": borough_ids_for(request.user) is None,
            "rows": boroughs,
            "total_load": {
                key: sum(entry[key] for entry in load.values())
                for key in ("mentors", "open", "cap")
            },
            "rate_chart": charts.interval_chart(
                _rate_rows([*boroughs, {**data["network"], "name": name}]),
                [(b["label"], b["rate"]) for b in data["baselines"]],
                title="12-month proven reoffending by borough, with 95% intervals",
                description=(
                    "One row per borough with the reoffending rate and its Wilson interval; "
                    "dashed lines are context figures, not a matched comparison."
                ),
            ),
        }

    scope = Borough.objects.for_user(request.user)
    return _dashboard_page(
        request,
        scope,
        "mentoring/dashboard_network.html",
        "sos-network",
        extra,
        total_name=lambda data: scope_name(request.user, data["boroughs"]),
    )


@access.roles_required(*access.DASHBOARD_ROLES)
def borough_dashboard(request, slug):
    borough = get_object_or_404(Borough.objects.for_user(request.user), slug=slug)

    def extra(data):
        figures = data["network"]
        return {
            "lab_result": lab_result(borough, data["as_of"]),
            "borough": borough,
            "figures": figures,
            "cost_difference": (
                None
                if figures["cost_per_client"] is None
                else figures["cost_per_client"] - BENCHMARK_COST
            ),
            "funding_gap": figures["cost_of_clients_started"] - figures["grants_total"],
            "rate_chart": charts.interval_chart(
                _rate_rows([{**figures, "name": borough.name}]),
                [(b["label"], b["rate"]) for b in data["baselines"]],
                title=f"12-month proven reoffending in {borough.name}, with 95% interval",
                description="The borough's rate and interval against context figures.",
            ),
        }

    # One borough: its row is the whole report, with no total repeating it.
    return _dashboard_page(
        request,
        borough,
        "mentoring/dashboard_borough.html",
        f"sos-{borough.slug}",
        extra,
        total_name=None,
    )


# Replication: each area by programme year, beside the area launched first -----------------

REPLICATION_CHARTS = (
    ("starts", "Starts per year", lambda year: year["starts"], False),
    ("active", "Active caseload at the year's end", lambda year: year["active_at_end"], False),
    (
        "reoffending",
        "Reoffending of the year's intake",
        lambda year: year["intake_reoffending_rate"],
        True,
    ),
)


@access.roles_required(*access.DASHBOARD_ROLES)
def replication_dashboard(request):
    download = request.GET.get("download")
    as_of, as_of_error = _requested_as_of(request)
    if as_of_error and download:
        return _error_page(request, as_of_error)
    scope = Borough.objects.for_user(request.user)
    data = replica.on_replica(metrics.replication, scope, as_of)
    if download == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="sos-replication-{as_of}.csv"'
        metrics.write_replication_csv(data, response)
        return response
    if download:
        return _error_page(request, f"There is no table called {download!r} to download.")
    areas = data["boroughs"]
    reference = next((b for b in areas if b["slug"] == data["reference_borough"]), None)
    measures = []
    for key, title, value, rate in REPLICATION_CHARTS:
        panels = charts.year_panels(areas, reference, value, title=title, rate=rate)
        measures.append(
            {
                "id": key,
                "title": title,
                "panels": [
                    {"id": f"{key}-{area['slug']}", "name": area["name"], "chart": chart}
                    for area, chart in zip(areas, panels, strict=True)
                ],
            }
        )
    context = {
        "data": data,
        "reference": reference,
        "measures": measures,
        **_as_of_context(request, as_of, as_of_error),
    }
    return render(
        request,
        "mentoring/dashboard_replication.html",
        context,
        status=400 if as_of_error else 200,
    )
