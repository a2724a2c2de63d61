"""
Subject access (UK GDPR Article 15): everything held about one client, and nothing about
anyone else, as data a page and a JSON download both show.
"""

import json
from datetime import date, datetime, time
from decimal import Decimal
from uuid import UUID

from django.db import models

from . import history
from .models import (
    AccessLog,
    Assignment,
    Client,
    FollowUp,
    Goal,
    Milestone,
    Offence,
    PathwayStep,
    Placement,
    SupportSession,
)

# (section, queryset of the client's records, what of each related object to show)
SECTIONS = [
    ("assignments", lambda c: Assignment.objects.filter(client=c).select_related("mentor")),
    (
        "support sessions",
        lambda c: (
            SupportSession.objects.filter(client=c)
            .select_related("mentor", "logged_by")
            .prefetch_related("support_areas")
        ),
    ),
    ("offences", lambda c: Offence.objects.filter(client=c)),
    ("milestones", lambda c: Milestone.objects.filter(client=c)),
    ("goals", lambda c: Goal.objects.filter(client=c).select_related("support_area")),
    ("placements", lambda c: Placement.objects.filter(client=c).select_related("employer")),
    (
        "check-ins after support",
        lambda c: FollowUp.objects.filter(client=c).select_related("recorded_by"),
    ),
    ("peer pathway", lambda c: PathwayStep.objects.filter(client=c)),
    ("access log", lambda c: AccessLog.objects.filter(client=c)),
]
# Links to the client themself, and internal keys and edit counters of no meaning to the
# person.
LEFT_OUT = {"client", "id", "submission_token", "user", "version"}


def _value(obj, field):
    if isinstance(field, models.ForeignKey):
        related = getattr(obj, field.name)
        return None if related is None else str(related)
    value = field.value_from_object(obj)
    if field.choices and value:
        return getattr(obj, f"get_{field.name}_display")()
    return value


def record(obj):
    """One record as {label: value}, with choice labels and related objects' names."""
    data = {
        str(field.verbose_name): _value(obj, field)
        for field in obj._meta.concrete_fields
        if field.name not in LEFT_OUT
    }
    for field in obj._meta.many_to_many:
        data[str(field.verbose_name)] = [str(o) for o in getattr(obj, field.name).all()]
    return data


def subject_access(client):
    """Everything held about ``client``: the record, then every related record by kind."""
    details = record(client)
    details["reference"] = client.reference
    formerly = list(client.former_references.values_list("reference", flat=True))
    if formerly:  # records of the same young person brought into this one
        details["former references"] = formerly
    _, moved_to = Client.objects.transfer_partners(client)
    if moved_to:  # the record the young person's case moved to in another area
        details["transferred to"] = str(moved_to)
    return {
        "client": details,
        **{name: [record(obj) for obj in query(client)] for name, query in SECTIONS},
        "change history": history.as_data(history.client_changes(client)),
    }


def _json_default(value):
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def as_json(data):
    return json.dumps(data, default=_json_default, indent=2, ensure_ascii=False)
