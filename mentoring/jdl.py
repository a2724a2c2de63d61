"""
The Justice Data Lab submission. The Ministry of Justice's Lab matches the people a
programme worked with to the Police National Computer, builds a matched comparison group
and returns their one-year proven reoffending: the one matched comparison the programme
can have. It needs at least 60 people, each with surname, forename, date of birth, gender
and a date; a PNC ID makes the match surer.

The file goes to the Lab by its secure transfer, never by e-mail. Every client in it gets a
line in the access log saying so, with the reason given.
"""

from django.db import transaction
from django.utils import timezone

from . import metrics
from .models import AccessLog, Client

HEADER = (
    "reference",
    "surname",
    "forename",
    "date_of_birth",
    "gender",
    "pnc_id",
    "index_date",
    "intervention_start",
    "intervention_end",
    "borough",
)
MINIMUM_PEOPLE = 60
GENDER_CODES = {Client.Gender.MALE: "M", Client.Gender.FEMALE: "F"}


class TooFewPeople(Exception):
    """Fewer people than the Lab can match: nothing is written."""

    def __init__(self, count):
        super().__init__(
            f"Only {count} client{'s' if count != 1 else ''} started in that period: the "
            f"Justice Data Lab needs at least {MINIMUM_PEOPLE}. Nothing was written."
        )
        self.count = count


def submission_clients(*, start, end, borough=None, today=None):
    """
    The clients whose support started from ``start`` to ``end`` inclusive and by today, in
    ``borough`` or anywhere, except those anonymised under the retention policy (they have
    no name or date of birth left to match).
    """
    today = today or timezone.localdate()
    clients = Client.objects.filter(
        started_on__gte=start, started_on__lte=min(end, today), anonymised_on__isnull=True
    )
    if borough is not None:
        clients = clients.filter(borough=borough)
    return clients.select_related("borough").order_by("reference")


def row(client):
    return {
        "reference": client.reference,
        "surname": client.last_name,
        "forename": client.first_name,
        "date_of_birth": client.date_of_birth,
        "gender": GENDER_CODES.get(client.gender, "U"),
        "pnc_id": client.pnc_id or "",
        "index_date": client.release_date or client.started_on,
        "intervention_start": client.started_on,
        "intervention_end": client.ended_on,
        "borough": client.borough.slug,
    }


def people(clients):
    """The clients as a list, or ``TooFewPeople`` under the Lab's minimum."""
    clients = list(clients)
    if len(clients) < MINIMUM_PEOPLE:
        raise TooFewPeople(len(clients))
    return clients


def export(*, clients, reason, stream, username, user=None):
    """
    Write the submission of ``clients`` to ``stream`` and log each of them as sent to the
    Lab for ``reason``, in one transaction: a write that fails leaves no log lines, and
    fewer than 60 people raise ``TooFewPeople`` before anything is done. Returns how many
    people the submission holds.
    """
    clients = people(clients)
    path = f"Justice Data Lab submission: {reason}"[:300]
    with transaction.atomic():
        AccessLog.objects.bulk_create(
            AccessLog(
                user=user,
                username=username,
                client=client,
                client_reference=client.reference,
                action=AccessLog.Action.EXPORT,
                path=path,
            )
            for client in clients
        )
        metrics.write_csv(stream, HEADER, (row(client) for client in clients))
    return len(clients)
