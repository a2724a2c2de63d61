"""Reference allocation and the client/mentor save services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mentoring.models import Assignment, Borough, Client
from mentoring.services import (
    allocate_client_references,
    allocate_mentor_references,
    client_save,
    mentor_save,
)

from .. import factories

pytestmark = pytest.mark.django_db


def test_client_references_count_up_from_one_in_each_borough(borough_a, borough_b):
    """Each borough numbers its own clients: SWK-00001, SWK-00002 and CRO-00001."""
    assert allocate_client_references(borough_a) == ["SWK-00001"]
    assert allocate_client_references(borough_a) == ["SWK-00002"]
    assert allocate_client_references(borough_b) == ["CRO-00001"]
    assert allocate_client_references(borough_a) == ["SWK-00003"]


def test_several_client_references_are_consecutive(borough_a):
    """Asking for three reserves the next three numbers in one go."""
    allocate_client_references(borough_a)
    assert allocate_client_references(borough_a, count=3) == [
        "SWK-00002",
        "SWK-00003",
        "SWK-00004",
    ]
    assert allocate_client_references(borough_a) == ["SWK-00005"]


def test_reference_counter_is_stored_on_the_borough_row(borough_a):
    """The counter lives in the database, so a fresh copy of the borough carries on."""
    allocate_client_references(borough_a, count=2)
    assert borough_a.last_client_number == 2
    assert Borough.objects.get(pk=borough_a.pk).last_client_number == 2
    stale_copy = Borough.objects.get(pk=borough_a.pk)
    allocate_client_references(borough_a)
    assert allocate_client_references(stale_copy) == ["SWK-00004"]


def test_mentor_references_have_their_own_counter(borough_a, borough_b):
    """Mentors are M-SWK-001, M-SWK-002..., independent of client numbers and boroughs."""
    allocate_client_references(borough_a, count=5)
    assert allocate_mentor_references(borough_a) == ["M-SWK-001"]
    assert allocate_mentor_references(borough_a, count=2) == ["M-SWK-002", "M-SWK-003"]
    assert allocate_mentor_references(borough_b) == ["M-CRO-001"]


def test_client_save_gives_new_client_reference_and_creator(borough_a, coordinator_a):
    """A new client gets the borough's next reference and records who added them."""
    client = factories.ClientFactory.build(borough=borough_a, reference="")
    client_save(client=client, by=coordinator_a)
    stored = Client.objects.get(pk=client.pk)
    assert stored.reference == "SWK-00001"
    assert stored.created_by == coordinator_a
    assert stored.version == 1


def test_client_save_keeps_a_reference_already_given(borough_a):
    """An imported client keeps the reference it came with and uses no number."""
    client = factories.ClientFactory.build(borough=borough_a, reference="SWK-00417")
    client_save(client=client)
    assert Client.objects.get(pk=client.pk).reference == "SWK-00417"
    assert Borough.objects.get(pk=borough_a.pk).last_client_number == 0


def test_client_save_by_nobody_leaves_creator_empty(borough_a):
    """A script or import with no user records no creator."""
    client = factories.ClientFactory.build(borough=borough_a, reference="")
    client_save(client=client)
    assert Client.objects.get(pk=client.pk).created_by is None


def test_client_save_bumps_version_on_each_later_save(borough_a, coordinator_a):
    """Each edit adds one to the version, and the instance holds the new number."""
    client = client_save(
        client=factories.ClientFactory.build(borough=borough_a, reference=""), by=coordinator_a
    )
    assert client.version == 1
    client.phone = "07700 900123"
    client_save(client=client, by=coordinator_a)
    assert type(client.version) is int
    assert client.version == 2
    client_save(client=client, by=coordinator_a)
    assert client.version == 3
    stored = Client.objects.get(pk=client.pk)
    assert (stored.version, stored.phone) == (3, "07700 900123")
    assert stored.reference == "SWK-00001"


def test_client_save_counts_from_database_version_not_stale_copy(borough_a):
    """Two copies saved one after the other both count: the increment happens in SQL."""
    client = client_save(client=factories.ClientFactory.build(borough=borough_a, reference=""))
    other_copy = Client.objects.get(pk=client.pk)
    client_save(client=client)
    client_save(client=other_copy)
    assert other_copy.version == 3
    assert Client.objects.get(pk=client.pk).version == 3


def test_mentor_save_gives_new_mentor_reference_in_home_borough(borough_a):
    """A new mentor gets M-<code>-NNN from their home borough."""
    mentor = factories.MentorFactory.build(home_borough=borough_a, reference="")
    mentor_save(mentor=mentor)
    assert mentor.pk is not None
    assert mentor.reference == "M-SWK-001"


def test_mentor_save_ends_a_leaving_mentors_open_assignments_only(borough_a):
    """Ended on the day they left, "Mentor left"; an assignment already ended is kept."""
    mentor = factories.MentorFactory(home_borough=borough_a)
    current = factories.AssignmentFactory(
        client=factories.ClientFactory(borough=borough_a, active=True), mentor=mentor
    )
    earlier = factories.AssignmentFactory(
        client=factories.ClientFactory(borough=borough_a, active=True),
        mentor=mentor,
        ended_on=timezone.localdate() - timedelta(days=3),
        end_reason=Assignment.EndReason.CLIENT_REQUEST,
    )
    mentor.ended_on = timezone.localdate()
    assert mentor_save(mentor=mentor) == [current]
    current.refresh_from_db()
    earlier.refresh_from_db()
    assert (current.ended_on, current.end_reason) == (mentor.ended_on, "MENTOR_LEFT")
    assert (earlier.ended_on, earlier.end_reason) == (
        timezone.localdate() - timedelta(days=3),
        "CLIENT_REQUEST",
    )
    assert mentor_save(mentor=mentor) == []  # saving again changes nothing
