"""The replication page: each area of the user's scope by programme year, scoped and nameless."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from mentoring.models import Borough, Client

from .. import factories
from ..helpers import count_queries

pytestmark = pytest.mark.django_db

URL = reverse("replication_dashboard")
AS_OF = date(2026, 11, 26)


def build_area(borough, clients):
    """``clients`` closed clients since the area's launch, one in four a reoffender."""
    mentor = factories.MentorFactory(home_borough=borough)
    for i in range(clients):
        person = factories.ClientFactory(
            borough=borough,
            referred_on=borough.launched_on + timedelta(days=200 * i),
            closed=True,
            first_name=f"Secretname{borough.code}{i}",
        )
        factories.SupportSessionFactory(client=person, mentor=mentor, date=person.started_on)
        if i % 4 == 0:
            factories.OffenceFactory(
                client=person,
                offence_date=person.started_on + timedelta(days=30),
                outcome_date=person.started_on + timedelta(days=60),
            )


@pytest.fixture
def areas(borough_a, borough_b):
    Borough.objects.filter(pk=borough_a.pk).update(launched_on=date(2006, 1, 1))
    Borough.objects.filter(pk=borough_b.pk).update(launched_on=date(2015, 6, 1))
    borough_a.refresh_from_db()
    borough_b.refresh_from_db()
    build_area(borough_a, 12)
    build_area(borough_b, 6)
    return borough_a, borough_b


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


class TestAccess:
    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_mentor_is_forbidden(self, client, mentor_a):
        assert get(client, mentor_a.user).status_code == 403

    @pytest.mark.parametrize("user", ["manager", "admin_user", "coordinator_a"])
    def test_dashboard_roles_see_the_page(self, client, request, areas, user):
        response = get(client, request.getfixturevalue(user), as_of="2026-11-26")
        assert response.status_code == 200
        assert b"<svg" in response.content

    def test_the_network_dashboard_links_to_it(self, client, manager):
        client.force_login(manager)
        response = client.get(reverse("network_dashboard"))
        assert URL.encode() in response.content


class TestScope:
    def test_coordinator_sees_only_their_areas(self, client, areas, coordinator_b):
        borough_a, borough_b = areas
        response = get(client, coordinator_b, as_of="2026-11-26")
        data = response.context["data"]
        assert [b["slug"] for b in data["boroughs"]] == [borough_b.slug]
        # Their own area is their reference: the first launched among those they see.
        assert data["reference_borough"] == borough_b.slug
        assert borough_a.name not in response.content.decode()

    def test_manager_sees_every_area_against_the_first(self, client, areas, manager):
        borough_a, borough_b = areas
        data = get(client, manager, as_of="2026-11-26").context["data"]
        assert [b["slug"] for b in data["boroughs"]] == [borough_a.slug, borough_b.slug]
        assert data["reference_borough"] == borough_a.slug

    def test_the_reference_area_is_drawn_in_every_panel(self, client, areas, manager):
        measures = get(client, manager, as_of="2026-11-26").context["measures"]
        for measure in measures:
            assert len(measure["panels"]) == 2
            for panel in measure["panels"]:
                reference, own = panel["chart"].paths
                assert reference["colour"] == "#6c757d" and reference["d"]
                assert own["colour"] != reference["colour"]

    def test_no_client_names_anywhere(self, client, areas, manager, coordinator_a):
        for user in (manager, coordinator_a):
            for params in ({}, {"download": "csv"}):
                body = get(client, user, **params).content.decode()
                assert "Secretname" not in body
                assert not re.search(r"Client\d", body)  # the factories' surnames


class TestAsOfAndDownload:
    def test_csv_download_is_the_commands_csv_for_the_scope(self, client, areas, manager):
        response = get(client, manager, as_of="2026-11-26", download="csv")
        assert response["Content-Type"].startswith("text/csv")
        assert "sos-replication-2026-11-26.csv" in response["Content-Disposition"]
        out = io.StringIO()
        call_command("replication_report", "--as-of", "2026-11-26", "--format", "csv", stdout=out)
        assert response.content.decode() == out.getvalue()

    def test_csv_download_is_scoped(self, client, areas, coordinator_a):
        borough_a, _ = areas
        response = get(client, coordinator_a, as_of="2026-11-26", download="csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert rows and {row["slug"] for row in rows} == {borough_a.slug}

    def test_past_as_of_leaves_out_later_records(self, client, areas, manager):
        borough_a, _ = areas
        data = get(client, manager, as_of="2010-01-01").context["data"]
        a = data["boroughs"][0]
        assert len(a["years"]) == 5  # 2006-01-01 + 4 x 365 days is in 2009
        assert (
            sum(y["starts"] for y in a["years"])
            == Client.objects.filter(borough=borough_a, started_on__lte=date(2010, 1, 1)).count()
        )
        assert data["boroughs"][1]["years"] == []  # launched in 2015

    @pytest.mark.parametrize("bad", ["2099-01-01", "not a date"])
    def test_bad_as_of_shows_the_error_and_todays_figures(self, client, areas, manager, bad):
        response = get(client, manager, as_of=bad)
        assert response.status_code == 400
        assert response.context["as_of_error"]
        assert response.context["data"]["boroughs"]

    def test_bad_as_of_download_is_refused(self, client, areas, manager):
        response = get(client, manager, as_of="2099-01-01", download="csv")
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")

    def test_unknown_download_is_refused(self, client, areas, manager):
        assert get(client, manager, download="xml").status_code == 400


def add_areas(count, start=2008):
    for i in range(count):
        borough = factories.BoroughFactory(slug=f"extra-{i}", launched_on=date(start + i, 1, 1))
        build_area(borough, 5)


def test_the_page_runs_the_same_queries_for_2_and_4_areas(client, areas, manager):
    client.force_login(manager)
    url = f"{URL}?as_of={AS_OF}"
    two = count_queries(client, url)
    add_areas(2)
    assert Borough.objects.count() == 4
    # The session and user look-ups, the manager's scope, and the figures' 7 queries.
    assert count_queries(client, url) == two == 11
