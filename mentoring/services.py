"""
Writes that touch more than one row, each in one transaction.

Views, the admin and management commands call these rather than saving models directly,
so the same rules hold whichever door a change comes in by.
"""

from django.db import transaction
from django.db.models import F

from .models import Borough

CLIENT_REFERENCE_FORMAT = "{code}-{number:05d}"
MENTOR_REFERENCE_FORMAT = "M-{code}-{number:03d}"


@transaction.atomic
def _allocate_numbers(borough, counter, count):
    # The UPDATE locks the borough row until the transaction ends, so two people adding
    # clients to the same borough at once get different numbers.
    Borough.objects.filter(pk=borough.pk).update(**{counter: F(counter) + count})
    last = Borough.objects.values_list(counter, flat=True).get(pk=borough.pk)
    setattr(borough, counter, last)
    return range(last - count + 1, last + 1)


def allocate_client_references(borough, count=1):
    """Reserve ``count`` new client references in ``borough``, e.g. ``SWK-00042``."""
    return [
        CLIENT_REFERENCE_FORMAT.format(code=borough.code, number=n)
        for n in _allocate_numbers(borough, "last_client_number", count)
    ]


def allocate_mentor_references(borough, count=1):
    """Reserve ``count`` new mentor references in ``borough``, e.g. ``M-SWK-007``."""
    return [
        MENTOR_REFERENCE_FORMAT.format(code=borough.code, number=n)
        for n in _allocate_numbers(borough, "last_mentor_number", count)
    ]


@transaction.atomic
def client_save(*, client, by=None):
    """Save a new or changed client, giving a new one its reference and creator."""
    if client._state.adding:
        if not client.reference:
            [client.reference] = allocate_client_references(client.borough)
        if by is not None and by.is_authenticated:
            client.created_by = by
    else:
        client.version = F("version") + 1
    client.save()
    if not isinstance(client.version, int):
        client.refresh_from_db(fields=["version"])
    return client


@transaction.atomic
def mentor_save(*, mentor):
    """Save a new or changed mentor, giving a new one a reference in their home borough."""
    if mentor._state.adding and not mentor.reference:
        [mentor.reference] = allocate_mentor_references(mentor.home_borough)
    mentor.save()
    return mentor
