"""
Retention: a client's personal details are kept for SOS_RETENTION_YEARS (default 6) after
their case closed (or their referral was declined), then removed.

Anonymising keeps the reference, the borough, the dates, the statuses and every coded
field (attendance, disposal, milestone kind...), so every aggregate figure stays the same.
It removes names, date of birth, contact details and all free text, from the records, from
their change history and from the admin's log of changes. Each client is done in its own
transaction and marked as done in it, so a run that stops halfway leaves each client either
fully anonymised or untouched, and a second run finds nothing left to do.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import history
from .models import (
    Client,
    FollowUp,
    Goal,
    Mentor,
    Milestone,
    Offence,
    PathwayStep,
    Placement,
    SupportSession,
    years_before,
)

ANONYMISED_NAME = "[anonymised]"
REMOVED_TEXT = "[removed]"

# Per model: the fields holding personal details or free text, and what replaces them.
CLIENT_FIELDS = {
    "first_name": ANONYMISED_NAME,
    "last_name": "",
    "preferred_name": "",
    "date_of_birth": None,
    "phone": "",
    "email": "",
    "address": "",
    "pnc_id": None,
}
RELATED_FIELDS = [
    (SupportSession, {"notes": "", "safeguarding_action": ""}),
    (Offence, {"notes": ""}),
    (Milestone, {"evidence": ""}),
    (Goal, {"description": REMOVED_TEXT}),
    (Placement, {"notes": ""}),
    (FollowUp, {"note": ""}),
    (PathwayStep, {"note": ""}),
]


def retention_cutoff(as_of, years=None):
    """Cases closed before this day are due: ``years`` before ``as_of`` (29 Feb -> 28)."""
    years = settings.SOS_RETENTION_YEARS if years is None else years
    return years_before(as_of, years)


def due(as_of, years=None):
    """Clients past the retention period and not yet anonymised."""
    cutoff = retention_cutoff(as_of, years)
    return (
        Client.objects.filter(anonymised_on__isnull=True)
        .filter(
            Q(status=Client.Status.CLOSED, ended_on__lt=cutoff)
            | Q(status=Client.Status.DECLINED, referred_on__lt=cutoff)
        )
        .order_by("pk")
    )


@dataclass
class Result:
    reference: str
    rows: int


def anonymise(client_pk, *, on):
    """
    Remove the personal details of one client everywhere, in one transaction. Returns the
    number of rows changed, or None if the client was already anonymised (or is gone).
    """
    with transaction.atomic():
        client = Client.objects.select_for_update().filter(pk=client_pk).first()
        if client is None or client.anonymised_on is not None:
            return None
        rows = 0
        for name, value in CLIENT_FIELDS.items():
            setattr(client, name, value)
        client.anonymised_on = on
        # Saved through the model so the change history records the anonymisation itself.
        client._change_reason = "apply_retention"
        client.save()
        rows += 1
        rows += Client.history.filter(id=client.pk).update(**CLIENT_FIELDS)
        for model, fields in RELATED_FIELDS:
            rows += model.objects.filter(client=client).update(**fields)
            if hasattr(model, "history"):
                rows += model.history.filter(client_id=client.pk).update(**fields)
        # A mentor who grew from this client keeps their own names, and that they were a
        # client, but no longer names the record: beside their name it would name it again.
        rows += Mentor.objects.filter(former_client=client).update(former_client=None)
        rows += _scrub_admin_log(client)
        return Result(client.reference, rows)


def _scrub_admin_log(client):
    """The admin's change log keeps each object's name as it was: replace it."""
    objects = {Client: [client.pk]}
    for model in history.RECORDS:
        objects[model] = list(model.objects.filter(client=client).values_list("pk", flat=True))
    rows = 0
    for model, pks in objects.items():
        if not pks:
            continue
        content_type = ContentType.objects.get_for_model(model)
        rows += LogEntry.objects.filter(
            content_type=content_type, object_id__in=[str(pk) for pk in pks]
        ).update(object_repr=f"{model._meta.verbose_name} of {client.reference}")
    return rows


def apply(as_of=None, *, years=None, dry_run=False):
    """Anonymise every client due on ``as_of``; yields (reference, Result or None)."""
    as_of = as_of or timezone.localdate()
    for pk, reference in list(due(as_of, years).values_list("pk", "reference")):
        if dry_run:
            yield reference, None
        else:
            yield reference, anonymise(pk, on=as_of)
