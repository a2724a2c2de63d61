"""Subject access export: everything about one client, nothing about anyone else, logged."""

import json
import re

import pytest
from django.urls import reverse

from mentoring.models import AccessLog, SupportArea

from .. import factories


@pytest.fixture
def two_clients(borough_a):
    mentor = factories.MentorFactory(home_borough=borough_a, first_name="Winston")
    mine = factories.ClientFactory(borough=borough_a, active=True, first_name="Keisha")
    other = factories.ClientFactory(borough=borough_a, active=True, first_name="Otherperson")
    for client, note in [(mine, "Helped with her CV"), (other, "SECRET-OTHER-NOTE")]:
        factories.AssignmentFactory(client=client, mentor=mentor)
        session = factories.SupportSessionFactory(client=client, mentor=mentor, notes=note)
        session.support_areas.set(SupportArea.objects.all()[:1])
        factories.OffenceFactory(client=client)
        factories.MilestoneFactory(client=client)
        factories.GoalFactory(client=client)
        factories.PlacementFactory(client=client)
    return mine, other


def export(client, user, person, **params):
    client.force_login(user)
    return client.get(reverse("client_export", args=[person.reference]), params)


def test_json_export_holds_every_related_record(client, coordinator_a, two_clients):
    mine, _other = two_clients
    response = export(client, coordinator_a, mine, format="json")
    assert response["Content-Type"] == "application/json"
    assert mine.reference in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["client"]["reference"] == mine.reference
    assert data["client"]["first name"] == "Keisha"
    assert len(data["support sessions"]) == 1
    assert data["support sessions"][0]["notes"] == "Helped with her CV"
    assert data["support sessions"][0]["support areas"]
    sections = ("assignments", "offences", "milestones", "goals", "placements")
    assert [len(data[k]) for k in sections] == [1, 1, 1, 1, 1]
    # Edit counters mean nothing to the person: not in the export.
    records = [data["client"], *(r for k in (*sections, "support sessions") for r in data[k])]
    assert not [r for r in records if "version" in r]


def test_export_holds_nothing_about_anyone_else(client, coordinator_a, two_clients):
    mine, other = two_clients
    for params in ({}, {"format": "json"}):
        body = export(client, coordinator_a, mine, **params).content.decode()
        assert "SECRET-OTHER-NOTE" not in body
        assert "Otherperson" not in body
        assert other.reference not in body


def test_every_export_is_logged(client, coordinator_a, two_clients):
    mine, _other = two_clients
    export(client, coordinator_a, mine)
    export(client, coordinator_a, mine, format="json")
    actions = list(AccessLog.objects.filter(client=mine).values_list("action", flat=True))
    assert actions.count(AccessLog.Action.EXPORT) == 2


def test_readable_page_shows_the_records(client, coordinator_a, two_clients):
    mine, _other = two_clients
    response = export(client, coordinator_a, mine)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Everything held about" in page
    assert "Helped with her CV" in page


def test_readable_page_writes_values_as_a_person_reads_them(client, coordinator_a, two_clients):
    mine, _other = two_clients
    first, second = SupportArea.objects.order_by("name")[:2]
    mine.needs.set([first, second])
    mine.gang_affiliated = True
    mine.save()
    page = export(client, coordinator_a, mine).content.decode()
    assert '<dd class="col-sm-8">Yes</dd>' in page  # gang affiliated
    assert f"{first.name}, {second.name}".replace("&", "&amp;") in page
    assert mine.referred_on.strftime("%d/%m/%Y") in page
    values = re.findall(r"<dd[^>]*>(.*?)</dd>", page, flags=re.S)
    assert values
    assert [v for v in values if v in ("True", "False", "None") or v.startswith("[")] == []


@pytest.mark.parametrize("who, status", [("coordinator_b", 404), ("manager", 403)])
def test_others_cannot_export(client, request, two_clients, who, status):
    mine, _other = two_clients
    user = request.getfixturevalue(who)
    assert export(client, user, mine).status_code == status
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


def test_mentor_cannot_export(client, mentor_a, two_clients):
    mine, _other = two_clients
    assert export(client, mentor_a.user, mine).status_code == 403


def test_the_check_ins_after_support_are_held_too(client, coordinator_a, borough_a):
    """A completed case's check-ins are the young person's data: exported with the rest."""
    person = factories.ClientFactory(borough=borough_a, closed=True, first_name="Keisha")
    factories.FollowUpFactory(client=person, note="Doing an access course in Peckham.")
    other = factories.FollowUpFactory(client__borough=borough_a, note="SECRET-OTHER-CHECK-IN")
    data = json.loads(export(client, coordinator_a, person, format="json").content)
    [check_in] = data["check-ins after support"]
    assert check_in["point"] == "3 months"
    assert check_in["note"] == "Doing an access course in Peckham."
    assert check_in["in education, training or employment"] is True
    body = export(client, coordinator_a, person).content.decode()
    assert "Doing an access course in Peckham." in body
    assert "SECRET-OTHER-CHECK-IN" not in body
    assert other.client.reference not in body
