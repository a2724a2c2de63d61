"""Display helpers for SOS templates: money, rates, badges and sortable column links."""

from decimal import Decimal

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from mentoring import access, history, metrics
from mentoring.models import FollowUp

register = template.Library()

STATUS_CLASSES = {
    "REFERRED": "text-bg-info",
    "ACTIVE": "text-bg-success",
    "CLOSED": "text-bg-secondary",
    "DECLINED": "text-bg-light border",
}
RISK_CLASSES = {
    "LOW": "text-bg-light border",
    "MEDIUM": "text-bg-warning",
    "HIGH": "text-bg-danger",
}


@register.filter
def gbp(value, places=0):
    """£1,234 (or £1,234.50 with places=2); an em dash for no value."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.{int(places)}f}"


@register.filter
def percent(value, places=0):
    """0.1734 -> 17%; an em dash when there is no rate (no denominator)."""
    if value is None:
        return "—"
    return f"{value * 100:.{int(places)}f}%"


@register.filter
def people(count):
    """A published count of people (``metrics.published``): "fewer than 10" when hidden."""
    if count["suppressed"]:
        return count.get("note") or f"fewer than {metrics.FEWEST_PUBLISHED}"
    return f"{count['people']:,}"


@register.filter
def thousands(value):
    """A number rounded to a whole one, with thousands separated: 12345.6 -> "12,346"."""
    return f"{round(value):,}"


register.filter("readable", history.readable)


@register.filter
def status_class(status):
    return STATUS_CLASSES.get(status, "text-bg-light border")


@register.filter
def risk_class(risk):
    return RISK_CLASSES.get(risk, "text-bg-light border")


@register.simple_tag(takes_context=True)
def sort_url(context, column):
    """The current list's URL sorted by ``column``, toggling direction if already sorted."""
    params = context["request"].GET.copy()
    current = params.get("sort", "")
    params["sort"] = f"-{column}" if current == column else column
    params.pop("page", None)
    return "?" + urlencode(sorted(params.lists()), doseq=True)


@register.simple_tag(takes_context=True)
def sort_state(context, column):
    """aria-sort value for a column header."""
    current = context.get("sort", "")
    if current == column:
        return "ascending"
    if current == f"-{column}":
        return "descending"
    return "none"


@register.simple_tag(takes_context=True)
def page_url(context, number):
    params = context["request"].GET.copy()
    params["page"] = number
    return "?" + urlencode(sorted(params.lists()), doseq=True)


@register.inclusion_tag("mentoring/_rate.html")
def reoffending(figures):
    """
    A reoffending rate as people should read it: with its 95% interval always, and for a
    cohort under 10 as "n of N" plus the interval and a small-cohort marker, never a bare
    percentage.
    """
    return {"f": figures}


@register.inclusion_tag("mentoring/_rate.html")
def intake_reoffending(year):
    """A programme year's intake reoffending (replication), read as ``reoffending`` reads."""
    cohort = year["intake_cohort"]
    return {
        "f": {
            "reoffending_rate": year["intake_reoffending_rate"],
            "reoffenders": year["intake_reoffenders"],
            "cohort": cohort,
            "wilson_low": year["wilson_low"],
            "wilson_high": year["wilson_high"],
            "small_cohort": cohort < metrics.SMALL_COHORT,
        }
    }


@register.inclusion_tag("mentoring/_share.html")
def share_of(part, whole):
    """
    ``part`` of ``whole`` people as "x of y": with the share when y is 10 or more, else
    with the 95% interval and the small-number marker, as the reoffending rates are read.
    """
    low, high = metrics.wilson_interval(part, whole)
    return {
        "held": part,
        "of": whole,
        "share": part / whole if whole else None,
        "low": low,
        "high": high,
        "small": whole < metrics.SMALL_COHORT,
    }


@register.inclusion_tag("mentoring/_share.html")
def sustained_job(figures, weeks):
    """Clients who sustained a job for ``weeks`` (13 or 26), read as ``share_of``."""
    return share_of(figures[f"sustained_job_{weeks}w"], figures[f"sustained_job_{weeks}w_of"])


@register.simple_tag
def followup_points(figures):
    """
    The check-ins of ``figures`` by point (3, 6, 12 months): how many reached, and of them
    how many in education, training or employment and in stable accommodation.
    """
    return [
        {
            "label": label,
            "reached": figures[f"followups_reached_{point}m"],
            "ete": figures[f"followup_ete_{point}m"],
            "housed": figures[f"followup_housed_{point}m"],
        }
        for point, label in FollowUp.Point.choices
    ]


@register.simple_tag
def former_client_mentors(figures):
    """The active mentors who were clients, as "2 of 5 active (40%)"."""
    active = figures["mentors_active"]
    if not active:
        return "no active mentors"
    former = figures["mentors_former_clients"]
    return f"{former} of {active} active ({percent(figures['mentors_former_client_share'])})"


DAYS_PER_MONTH = 365.25 / 12


@register.filter
def days_and_months(days):
    """A number of days with the months it makes: 412.5 -> "413 days (about 14 months)"."""
    if days is None:
        return "—"
    return f"{days:,.0f} days (about {days / DAYS_PER_MONTH:.0f} months)"


@register.filter
def hours(minutes):
    """Minutes as hours to one decimal place: 150 -> "2.5"."""
    if minutes is None:
        return "—"
    return f"{minutes / 60:.1f}"


@register.simple_tag(takes_context=True)
def client_link(context, client):
    """``client``'s reference and area, linked to their page if the user may open it."""
    text = f"{client.reference} ({client.borough.name})"
    if access.may_open(context["request"].user, client):
        return format_html(
            '<a href="{}">{}</a>', reverse("client_detail", args=[client.reference]), text
        )
    return text


@register.simple_tag(takes_context=True)
def mentor_link(context, mentor):
    """``mentor``'s name and reference, linked to their page if the user may open it."""
    text = f"{mentor.full_name} ({mentor.reference})"
    if access.may_open_mentor(context["request"].user, mentor):
        return format_html('<a href="{}">{}</a>', reverse("mentor_detail", args=[mentor.pk]), text)
    return text


@register.simple_tag(takes_context=True)
def former_client(context, mentor):
    """
    Where a mentor on the peer pathway came from: the client record they grew from,
    linked, for those who may open it; else only that they were a client. Nothing names
    the record to anyone else: beside the mentor's name it would name the client.
    """
    client = mentor.former_client
    if client is not None and access.may_open(context["request"].user, client):
        return format_html(
            'Former SOS client: <a href="{}">{} ({})</a>',
            reverse("client_detail", args=[client.reference]),
            client.reference,
            client.borough.name,
        )
    return "Former SOS client" if mentor.was_client else ""


@register.filter
def error_anchor(field):
    """
    The id of the box an error summary's link leads to: the field's input, or the first
    of its tick boxes or radio buttons, which are numbered after the field.
    """
    if field.id_for_label:
        return field.id_for_label
    return f"{field.auto_id}_0" if getattr(field.field, "choices", None) else field.auto_id


@register.filter
def hidden_errors(form):
    """Whether a hidden field (a record's version, a submission token) was refused."""
    return any(field.errors for field in form.hidden_fields())


@register.filter
def lower_first(label):
    """A choice's label inside a sentence: "Police" -> "police", but "SOS" stays "SOS"."""
    label = str(label)
    if len(label) > 1 and label[:2].isupper():
        return label
    return label[:1].lower() + label[1:]


@register.filter
def person(user):
    """A staff member as colleagues know them: their full name, else their username."""
    if not user:
        return ""
    return user.get_full_name() or user.get_username()
