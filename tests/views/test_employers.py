"""
The employer network page: the employers serving the user's boroughs or the whole
network, their contacts, and how many of the user's clients they have placed. Roles and
methods are in the URL matrix, its fixed queries in test_query_counts.
"""

import datetime

import pytest
from django.urls import reverse

from mentoring import views

from .. import factories

pytestmark = pytest.mark.django_db

URL = reverse("employer_list")
URL_NAMES = {"employer_list"}


@pytest.fixture
def network(borough_a, borough_b):
    """A London-wide employer with placements in both boroughs, and one of each borough."""
    shared = factories.EmployerFactory(
        name="Builders Ltd", sector="Construction", contact_email="jobs@builders.example"
    )
    local_a = factories.EmployerFactory(
        name="Walworth Cafe", sector="Hospitality", borough=borough_a
    )
    local_b = factories.EmployerFactory(name="Croydon Logistics", borough=borough_b)
    gone = factories.EmployerFactory(name="Gone Ltd", borough=borough_a, is_active=False)
    client_a = factories.ClientFactory(borough=borough_a, active=True, last_name="Placedclient")
    client_b = factories.ClientFactory(borough=borough_b, active=True)
    factories.PlacementFactory(client=client_a, employer=shared)
    factories.PlacementFactory(client=client_a, employer=shared, ended_on=datetime.date(2021, 3, 1))
    factories.PlacementFactory(client=client_b, employer=shared)
    factories.PlacementFactory(client=client_b, employer=local_b)
    return {"shared": shared, "local_a": local_a, "local_b": local_b, "gone": gone}


def listed(response):
    return {e.name: (e.placements_now, e.placements_all) for e in response.context["employers"]}


def test_a_coordinator_sees_their_boroughs_and_the_networks_employers(
    client, coordinator_a, network
):
    client.force_login(coordinator_a)
    response = client.get(URL)
    # Builders Ltd's placement in borough B is not counted for borough A's coordinator.
    assert listed(response) == {"Builders Ltd": (1, 2), "Walworth Cafe": (0, 0)}
    body = response.content.decode()
    assert "Croydon Logistics" not in body
    assert 'href="mailto:jobs@builders.example"' in body
    assert "All boroughs" in body


def test_former_employers_are_listed_on_request(client, coordinator_a, network):
    client.force_login(coordinator_a)
    response = client.get(URL, {"show": "all"})
    assert "Gone Ltd" in listed(response)
    assert "no longer in the network" in response.content.decode()


def test_a_manager_of_every_borough_sees_every_employer_and_no_client(client, manager, network):
    client.force_login(manager)
    response = client.get(URL)
    assert listed(response) == {
        "Builders Ltd": (2, 3),
        "Croydon Logistics": (1, 1),
        "Walworth Cafe": (0, 0),
    }
    assert "Placedclient" not in response.content.decode()


@pytest.mark.parametrize(
    ("q", "names"),
    [("cafe", {"Walworth Cafe"}), ("construction", {"Builders Ltd"}), ("zzz", set())],
)
def test_search_by_name_or_sector(client, coordinator_a, network, q, names):
    client.force_login(coordinator_a)
    assert set(listed(client.get(URL, {"q": q}))) == names


def test_employers_come_a_page_at_a_time(client, coordinator_a, borough_a):
    for n in range(views.EMPLOYERS_PER_PAGE + 3):
        factories.EmployerFactory(name=f"Employer {n:03d}", borough=borough_a)
    client.force_login(coordinator_a)
    first = client.get(URL)
    assert len(first.context["employers"]) == views.EMPLOYERS_PER_PAGE
    assert first.context["page"].paginator.count == views.EMPLOYERS_PER_PAGE + 3
    second = client.get(URL, {"page": 2})
    assert [e.name for e in second.context["employers"]] == [
        f"Employer {n:03d}" for n in range(50, 53)
    ]


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={URL}"


def test_mentors_and_users_without_a_role_are_refused(client, mentor_a, network):
    for user in (mentor_a.user, factories.UserFactory()):
        client.force_login(user)
        response = client.get(URL)
        assert response.status_code == 403
        assert "Builders Ltd" not in response.content.decode()


def test_another_boroughs_coordinator_sees_their_own_and_the_networks(
    client, coordinator_b, network
):
    client.force_login(coordinator_b)
    response = client.get(URL)
    assert listed(response) == {"Builders Ltd": (1, 1), "Croydon Logistics": (1, 1)}
    assert "Walworth Cafe" not in response.content.decode()


def test_a_post_is_refused(client, coordinator_a):
    client.force_login(coordinator_a)
    assert client.post(URL).status_code == 405


def test_the_navigation_links_to_it_for_dashboard_roles_only(client, coordinator_a, mentor_a):
    client.force_login(coordinator_a)
    assert f'href="{URL}"' in client.get(reverse("home")).content.decode()
    client.force_login(mentor_a.user)
    assert f'href="{URL}"' not in client.get(reverse("home")).content.decode()
