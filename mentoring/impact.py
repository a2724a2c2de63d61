"""
The funders' impact report as a document: its scope (the network, an area, or a grant:
its area and period), the choice form, the HTML every format is made from, the PDF
(WeasyPrint, from the same HTML), and the log of every report made.

The figures come from ``metrics.impact``, already published by the rules for figures
that leave the programme; nothing here counts people.
"""

import base64
from dataclasses import dataclass
from datetime import date

from django import forms
from django.contrib.staticfiles import finders
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from . import access, metrics, replica
from .dashboards import EARLIEST_AS_OF as EARLIEST
from .dashboards import km_chart, lab_result
from .dates import DayField
from .models import Borough, Grant, ImpactReportLog, borough_ids_for

STYLESHEET = "css/report.css"  # the report's own styles: screen, print and PDF
FORMATS = {"html", "pdf", "json"}
# Up to this many grants are listed one by one; more (a network over years) by funder.
GRANTS_LISTED = 15


@dataclass(frozen=True)
class Scope:
    """What a report covers: ``kind`` (``ImpactReportLog.Scope``), its name, its boroughs."""

    kind: str
    name: str
    boroughs: QuerySet
    borough: Borough | None = None
    grant: Grant | None = None
    whole: bool = False  # every area of the programme


def whole_network():
    return Scope(
        ImpactReportLog.Scope.NETWORK, metrics.NETWORK_NAME, Borough.objects.all(), whole=True
    )


def network_scope(boroughs, name, whole):
    return Scope(ImpactReportLog.Scope.NETWORK, name, boroughs, whole=whole)


def area_scope(borough):
    return Scope(
        ImpactReportLog.Scope.AREA, borough.name, Borough.objects.filter(pk=borough.pk), borough
    )


def grant_scope(grant):
    name = f"{grant.funder.name} grant for {grant.borough.name}"
    if grant.reference:
        name += f" ({grant.reference})"
    return Scope(
        ImpactReportLog.Scope.GRANT,
        name,
        Borough.objects.filter(pk=grant.borough_id),
        grant.borough,
        grant,
    )


def grant_label(grant):
    reference = f" {grant.reference}" if grant.reference else ""
    return (
        f"{grant.funder.name}{reference}: {grant.borough.name}, "
        f"{grant.starts_on:%d/%m/%Y} to {grant.ends_on:%d/%m/%Y}"
    )


def last_financial_year(today):
    """The last complete April-to-March year before ``today``: the default period."""
    year = today.year if today.month >= 4 else today.year - 1
    return date(year - 1, 4, 1), date(year, 3, 31)


class ImpactReportForm(forms.Form):
    """
    The report's choices, read from the query string so that a report has an address
    that can be kept and shared. ``from``/``to`` may be left empty for a grant: its own
    period is used.
    """

    scope = forms.ChoiceField(label="Report on")
    start = DayField(label="Support started from", required=False)
    end = DayField(label="Support started up to", required=False)
    as_of = DayField(
        label="Figures as known on",
        required=False,
        help_text="Empty for today. Anything recorded after this date is left out.",
    )

    # The query string's names: "from" is a Python word, so the fields are renamed.
    NAMES = {"start": "from", "end": "to"}

    def __init__(self, user, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        for field, name in self.NAMES.items():
            self.fields[name] = self.fields.pop(field)
        self.order_fields(["scope", "from", "to", "as_of"])
        self.boroughs = Borough.objects.for_user(user).order_by("name")
        self.grants = list(
            Grant.objects.filter(borough__in=self.boroughs)
            .select_related("funder", "borough")
            .order_by("borough__name", "-starts_on", "pk")
        )
        areas = list(self.boroughs)
        self.areas = {borough.slug: borough for borough in areas}
        self.whole = whole = borough_ids_for(user) is None
        self.network_name = metrics.NETWORK_NAME if whole else " + ".join(b.name for b in areas)
        choices = [("network", self.network_name or "No areas")]
        if len(areas) > 1 or whole:
            choices.append(("Areas", [(f"area:{b.slug}", b.name) for b in areas]))
        elif areas:
            choices = [(f"area:{areas[0].slug}", areas[0].name)]
        if self.grants:
            choices.append(("Grants", [(f"grant:{g.pk}", grant_label(g)) for g in self.grants]))
        self.fields["scope"].choices = choices

    def _scope(self, value):
        if value == "network":
            return network_scope(self.boroughs, self.network_name, self.whole)
        kind, _, key = value.partition(":")
        if kind == "area" and key in self.areas:
            return area_scope(self.areas[key])
        grant = next((g for g in self.grants if f"grant:{g.pk}" == value), None)
        return grant_scope(grant)  # the choice field has refused anything else

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        today = timezone.localdate()
        scope = self._scope(data["scope"])
        start, end = data.get("from"), data.get("to")
        if scope.grant is not None:
            start = start or scope.grant.starts_on
            end = end or scope.grant.ends_on
        as_of = data.get("as_of") or today
        for name, value in (("from", start), ("to", end)):
            if value is None:
                self.add_error(name, "Enter a date, or choose a grant to use its period.")
        if as_of > today:
            self.add_error(
                "as_of", "The date cannot be in the future: figures are only known up to today."
            )
        elif as_of < EARLIEST:
            self.add_error("as_of", f"The date cannot be before {EARLIEST:%d/%m/%Y}.")
        if start and start < EARLIEST:
            self.add_error("from", f"The date cannot be before {EARLIEST:%d/%m/%Y}.")
        elif start and end and start > end:
            self.add_error("to", "The end of the period cannot be before its start.")
        elif start and start > as_of:
            self.add_error(
                "from",
                "The period starts after the date the figures are as of: nobody in it had "
                "started yet.",
            )
        data.update(scope=scope, start=start, end=end, as_of=as_of)
        return data


def report_context(scope, start, end, as_of):
    """Everything the report's HTML shows: the figures and the curve drawn from them."""
    report = metrics.impact(scope.boroughs, start, end, as_of)
    chart = km_chart(
        {"points": report["outcomes"]["km_curve"]},
        "No proven reoffence, by days since the index date (Kaplan-Meier)",
    )
    # The Lab's answers are for the whole programme or for one area.
    lab = None
    if scope.whole or scope.borough is not None:
        lab = lab_result(scope.borough, as_of)
    return {
        "report": report,
        "breakdowns": [
            (key, title, report["breakdowns"][key], report["breakdown_totals"][key])
            for key, title in metrics.BREAKDOWNS.items()
        ],
        "scope": scope,
        "km_chart": chart,
        "lab_result": lab,
        "until": min(end, as_of),
        "grants_listed": GRANTS_LISTED,
    }


def report_json(context):
    """The report as JSON (``metrics.report_json``), with what it covers under ``scope``."""
    scope, grant = context["scope"], context["scope"].grant
    return metrics.report_json(
        {
            "scope": {
                "kind": scope.kind.lower(),
                "name": scope.name,
                "borough": None if scope.borough is None else scope.borough.slug,
                "grant": None
                if grant is None
                else {
                    "funder": grant.funder.name,
                    "reference": grant.reference,
                    "starts_on": grant.starts_on,
                    "ends_on": grant.ends_on,
                },
            },
            **context["report"],
        }
    )


def stylesheet():
    """
    The report's stylesheet as a data: address, so that the file and the PDF stand alone
    and the template escapes it like any value (base64 holds no character HTML treats
    specially): no escaping is switched off.
    """
    with open(finders.find(STYLESHEET), "rb") as css:
        return "data:text/css;base64," + base64.b64encode(css.read()).decode("ascii")


def document(context):
    """The report as a standalone HTML document, its styles inline: the file and the PDF."""
    return render_to_string(
        "mentoring/impact_document.html", {**context, "stylesheet": stylesheet()}
    )


def pdf(context):
    """The report as a PDF, made by WeasyPrint from ``document``."""
    from weasyprint import HTML  # loads Pango: only when a PDF is asked for

    return HTML(string=document(context)).write_pdf()


def log(*, user, username, scope, start, end, as_of, format, by_command=False):
    return ImpactReportLog.objects.create(
        user=user,
        username=username[:150],
        scope=scope.kind,
        scope_name=scope.name[:300],
        borough=scope.borough,
        grant=scope.grant,
        period_start=start,
        period_end=end,
        as_of=as_of,
        format=format.upper(),
        by_command=by_command,
    )


def filename(scope, start, end, extension):
    slug = "network" if scope.borough is None else scope.borough.slug
    if scope.grant is not None:
        slug += f"-grant-{scope.grant.pk}"
    return f"sos-impact-{slug}-{start}-to-{end}.{extension}"


# The page ---------------------------------------------------------------------------------


@access.roles_required(*access.DASHBOARD_ROLES)
def impact_report(request):
    """
    The impact report of a scope's clients started in a period: the choices, then the
    report on the page (printable) or as a PDF (``?format=pdf``). Each report made is
    logged. Counts of 1 to 9 people never appear (``metrics.impact``).
    """
    wanted = request.GET.get("format") or "html"
    if not request.GET:
        start, end = last_financial_year(timezone.localdate())
        form = ImpactReportForm(request.user, initial={"from": start, "to": end})
        return render(request, "mentoring/impact_report.html", {"form": form})
    form = ImpactReportForm(request.user, request.GET)
    if wanted not in ("html", "pdf"):
        form.add_error(None, "A report is shown on the page or downloaded as a PDF.")
    if not form.is_valid():
        return render(request, "mentoring/impact_report.html", {"form": form}, status=400)
    choice = form.cleaned_data
    scope, start, end, as_of = choice["scope"], choice["start"], choice["end"], choice["as_of"]
    context = replica.on_replica(report_context, scope, start, end, as_of)
    log(
        user=request.user,
        username=request.user.get_username(),
        scope=scope,
        start=start,
        end=end,
        as_of=as_of,
        format=wanted,
    )
    if wanted == "pdf":
        response = HttpResponse(pdf(context), content_type="application/pdf")
        name = filename(scope, start, end, "pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(request, "mentoring/impact_report.html", {"form": form, **context})
