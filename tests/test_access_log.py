"""The access log: every view of a client record is written down, and only those."""

from django.urls import reverse

from mentoring.models import AccessLog

from . import factories


def test_viewing_a_client_page_is_logged_with_user_client_action_and_time(
    client, coordinator_a, borough_a
):
    record = factories.ClientFactory(borough=borough_a)
    client.force_login(coordinator_a)
    client.get(reverse("client_detail", args=[record.reference]))
    entry = AccessLog.objects.get()
    assert (entry.user, entry.username, entry.client, entry.client_reference, entry.action) == (
        coordinator_a,
        "coord_a",
        record,
        record.reference,
        AccessLog.Action.VIEW,
    )
    assert entry.at is not None


def test_a_refused_look_at_another_boroughs_client_logs_nothing(client, coordinator_b, borough_a):
    record = factories.ClientFactory(borough=borough_a)
    client.force_login(coordinator_b)
    assert client.get(reverse("client_detail", args=[record.reference])).status_code == 404
    assert not AccessLog.objects.exists()


def test_the_log_outlives_the_client_record(client, coordinator_a, borough_a):
    record = factories.ClientFactory(borough=borough_a)
    client.force_login(coordinator_a)
    client.get(reverse("client_detail", args=[record.reference]))
    reference = record.reference
    record.delete()
    entry = AccessLog.objects.get()
    assert entry.client is None
    assert entry.client_reference == reference
