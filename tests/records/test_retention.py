"""
Retention: ``apply_retention`` removes personal details of clients closed (or declined)
more than SOS_RETENTION_YEARS ago, everywhere they are held, keeps every aggregate figure,
is idempotent, and does each client all-or-nothing.
"""

import datetime
import io
from unittest import mock

import pytest
import time_machine
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from mentoring import metrics, retention
from mentoring.models import Client, Goal, Milestone, Offence, Placement, SupportSession

from .. import factories

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2027, 3, 1, 12, tzinfo=datetime.UTC)
PAYLOAD = "Lives at 12 Secret Road, phone 07700 900999"


def run(*args):
    out = io.StringIO()
    call_command("apply_retention", *args, stdout=out)
    return out.getvalue()


def closed_client(borough, ended_on, **kwargs):
    client = factories.ClientFactory(
        borough=borough,
        closed=True,
        first_name="Marcus",
        last_name="Holloway",
        preferred_name="Maz",
        phone="07700 900999",
        email="marcus@example.org",
        address="12 Secret Road",
        referred_on=ended_on - datetime.timedelta(days=300),
        **kwargs,
    )
    client.ended_on = ended_on
    client.save()
    mentor = factories.MentorFactory(home_borough=borough)
    factories.AssignmentFactory(
        client=client,
        mentor=mentor,
        started_on=client.started_on,
        ended_on=ended_on,
        end_reason="CASE_CLOSED",
    )
    factories.SupportSessionFactory(client=client, mentor=mentor, notes=PAYLOAD)
    factories.OffenceFactory(
        client=client,
        offence_date=ended_on - datetime.timedelta(days=100),
        outcome_date=ended_on - datetime.timedelta(days=50),
        notes=PAYLOAD,
    )
    factories.MilestoneFactory(client=client, evidence=PAYLOAD)
    factories.GoalFactory(client=client, description=PAYLOAD)
    factories.PlacementFactory(client=client, notes=PAYLOAD)
    return client


@pytest.fixture
def old_and_recent(borough_a):
    with time_machine.travel(NOW, tick=False):
        old = closed_client(borough_a, datetime.date(2020, 6, 30))
        recent = closed_client(borough_a, datetime.date(2021, 6, 30))
        # A history entry with the old values, and an admin log line naming the client.
        old.phone = "07700 900111"
        old.save()
        LogEntry.objects.create(
            user_id=factories.UserFactory().pk,
            content_type=ContentType.objects.get_for_model(Client),
            object_id=str(old.pk),
            object_repr=str(old),
            action_flag=CHANGE,
        )
    return old, recent


def everything_about(client):
    """Every stored text that could hold this client's details, records and history."""
    texts = []
    for model in (Client, SupportSession, Offence, Milestone, Goal, Placement):
        rows = (
            model.objects.filter(pk=client.pk)
            if model is Client
            else model.objects.filter(client=client)
        )
        texts += [str(v) for row in rows.values() for v in row.values()]
        if hasattr(model, "history"):
            key = {"id": client.pk} if model is Client else {"client_id": client.pk}
            texts += [str(v) for row in model.history.filter(**key).values() for v in row.values()]
    texts += list(LogEntry.objects.values_list("object_repr", flat=True))
    return " | ".join(texts)


def test_details_are_removed_from_records_history_and_admin_log(old_and_recent):
    old, recent = old_and_recent
    with time_machine.travel(NOW, tick=False):
        output = run()
    assert f"Anonymised {old.reference}" in output
    assert "Anonymised 1 client closed or declined before 01/03/2021" in output
    text = everything_about(old)
    for detail in ("Marcus", "Holloway", "Maz", "07700", "marcus@example.org", "Secret Road"):
        assert detail not in text, detail
    assert "2001-03-01" not in text  # the date of birth
    old.refresh_from_db()
    assert old.anonymised_on == NOW.date()
    assert old.date_of_birth is None
    assert (old.reference, old.status, old.ended_on) == (
        old.reference,
        Client.Status.CLOSED,
        datetime.date(2020, 6, 30),
    )
    # The recent one is untouched.
    assert "Holloway" in everything_about(recent)


def test_aggregate_figures_do_not_change(old_and_recent):
    with time_machine.travel(NOW, tick=False):
        before = metrics.report(None, NOW.date())
        run()
        after = metrics.report(None, NOW.date())
    assert after == before


def test_running_twice_changes_nothing(old_and_recent):
    old, _ = old_and_recent
    with time_machine.travel(NOW, tick=False):
        run()
        snapshot = everything_about(old)
        output = run()
    assert "Anonymised 0 clients" in output
    assert everything_about(old) == snapshot


def test_dry_run_lists_but_changes_nothing(old_and_recent):
    old, _ = old_and_recent
    before = everything_about(old)
    with time_machine.travel(NOW, tick=False):
        output = run("--dry-run")
    assert f"Would anonymise {old.reference}" in output
    assert everything_about(old) == before


def test_the_period_is_configurable(old_and_recent, settings):
    settings.SOS_RETENTION_YEARS = 5
    with time_machine.travel(NOW, tick=False):
        assert "Anonymised 2 clients" in run()


def test_time_passing_brings_a_case_into_scope(old_and_recent):
    _, recent = old_and_recent
    with time_machine.travel(datetime.datetime(2027, 6, 30, tzinfo=datetime.UTC), tick=False):
        assert recent.reference not in run()
    with time_machine.travel(datetime.datetime(2027, 7, 1, 9, tzinfo=datetime.UTC), tick=False):
        assert f"Anonymised {recent.reference}" in run()


def test_declined_referrals_are_covered_and_active_cases_never(borough_a):
    declined = factories.ClientFactory(
        borough=borough_a, status=Client.Status.DECLINED, referred_on=datetime.date(2015, 1, 5)
    )
    active = factories.ClientFactory(
        borough=borough_a, active=True, referred_on=datetime.date(2010, 1, 5)
    )
    with time_machine.travel(NOW, tick=False):
        output = run()
    assert declined.reference in output
    assert active.reference not in output


def test_a_run_stopped_halfway_leaves_each_client_done_or_untouched(borough_a):
    first = closed_client(borough_a, datetime.date(2019, 1, 31))
    second = closed_client(borough_a, datetime.date(2019, 2, 28))
    original = retention._scrub_admin_log
    calls = []

    def fail_on_second(client):
        calls.append(client.pk)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return original(client)

    with (
        time_machine.travel(NOW, tick=False),
        mock.patch.object(retention, "_scrub_admin_log", side_effect=fail_on_second),
        pytest.raises(RuntimeError),
    ):
        run()
    assert "Holloway" not in everything_about(first)
    untouched = everything_about(second)
    assert "Holloway" in untouched and "Secret Road" in untouched
    second.refresh_from_db()
    assert second.anonymised_on is None
    with time_machine.travel(NOW, tick=False):
        assert f"Anonymised {second.reference}" in run()
    assert "Holloway" not in everything_about(second)


def test_the_client_page_says_the_details_were_removed(client, old_and_recent, coordinator_a):
    old, _ = old_and_recent
    with time_machine.travel(NOW, tick=False):
        run()
    client.force_login(coordinator_a)
    page = client.get(reverse("client_detail", args=[old.reference])).content.decode()
    assert "personal details were removed" in page
    response = client.get(reverse("client_edit", args=[old.reference]))
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2027-13-01"], "--as-of must be a date as YYYY-MM-DD"),
        (["--years", "0"], "--years must be a whole number of years"),
        (["--years", "six"], "--years must be a whole number of years"),
    ],
)
def test_bad_arguments_get_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
