"""The access log: every view of a client record is written down, and only those."""

from django.urls import reverse

from mentoring.models import AccessLog

from .. import factories


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


def test_printing_a_client_page_is_logged_with_the_page(client, coordinator_a, borough_a):
    record = factories.ClientFactory(borough=borough_a)
    client.force_login(coordinator_a)
    page = client.get(reverse("client_history", args=[record.reference])).content.decode()
    assert 'id="print-log"' in page
    response = client.post(
        reverse("client_printed", args=[record.reference]),
        {"page": reverse("client_history", args=[record.reference])},
    )
    assert response.status_code == 204
    printed = AccessLog.objects.get(action=AccessLog.Action.PRINT)
    assert (printed.username, printed.client_reference, printed.path) == (
        "coord_a",
        record.reference,
        reverse("client_history", args=[record.reference]),
    )


def test_a_print_log_cannot_name_another_page(client, coordinator_a, borough_a):
    record = factories.ClientFactory(borough=borough_a)
    client.force_login(coordinator_a)
    client.post(reverse("client_printed", args=[record.reference]), {"page": "/clients/OTHER/"})
    assert AccessLog.objects.get().path == f"/clients/{record.reference}/"


def test_printing_another_boroughs_client_is_404_and_logs_nothing(client, coordinator_b, borough_a):
    record = factories.ClientFactory(borough=borough_a)
    client.force_login(coordinator_b)
    assert client.post(reverse("client_printed", args=[record.reference])).status_code == 404
    assert client.get(reverse("client_printed", args=[record.reference])).status_code in (404, 405)
    assert not AccessLog.objects.exists()


def test_a_repeated_print_beacon_is_one_line_but_a_later_print_is_another(
    client, coordinator_a, borough_a
):
    import datetime

    import time_machine

    record = factories.ClientFactory(borough=borough_a)
    client.force_login(coordinator_a)
    url = reverse("client_printed", args=[record.reference])
    with time_machine.travel(datetime.datetime(2026, 11, 2, 9, tzinfo=datetime.UTC)) as clock:
        client.post(url)
        client.post(url)
        assert AccessLog.objects.count() == 1
        clock.shift(60)
        client.post(url)
    assert AccessLog.objects.count() == 2
