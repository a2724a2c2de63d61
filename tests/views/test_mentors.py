"""
Mentor pages: open caseload against capacity, and attended sessions and hours in the last
28 days, for the mentors serving the user's boroughs.
"""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse

from mentoring.models import Assignment, Client, Mentor, StaffProfile, SupportSession

from .. import factories
from ..helpers import count_queries, days_ago, today

pytestmark = pytest.mark.django_db

URL_NAMES = {"mentor_list", "mentor_detail"}
LIST = "/mentors/"


def detail_url(mentor):
    return reverse("mentor_detail", args=[mentor.pk])


def list_row(response, mentor):
    """The text of each cell in ``mentor``'s row of the mentor list."""
    body = response.content.decode()
    row = re.search(rf"<tr>((?:(?!</tr>).)*?{re.escape(mentor.reference)}.*?)</tr>", body, re.S)
    assert row, f"{mentor.reference} is not listed"
    cells = re.findall(r"<td\b[^>]*>(.*?)</td>", row.group(1), re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


@pytest.fixture
def team(borough_a, borough_b, mentor_a):
    """
    mentor_a (borough A): two open clients, one ended assignment, and sessions inside and
    outside the 28-day window. Also another borough A mentor, a borough B mentor who also
    serves A (with a client in each), a borough B-only mentor, and a former A mentor.
    """

    def client_of(mentor, borough, last_name, **extra):
        person = factories.ClientFactory(
            borough=borough, active=True, first_name="Kai", last_name=last_name
        )
        factories.AssignmentFactory(client=person, mentor=mentor, **extra)
        return person

    first = client_of(mentor_a, borough_a, "Okafor")
    second = client_of(mentor_a, borough_a, "Mensah")
    finished = factories.ClientFactory(borough=borough_a, active=True, last_name="Lawal")
    factories.AssignmentFactory(
        client=finished,
        mentor=mentor_a,
        ended_on=datetime.date(2021, 1, 1),
        end_reason=Assignment.EndReason.REASSIGNED,
    )

    def session(days, minutes, attendance=SupportSession.Attendance.ATTENDED):
        factories.SupportSessionFactory(
            client=first,
            mentor=mentor_a,
            date=days_ago(days),
            duration_minutes=minutes,
            attendance=attendance,
        )

    session(0, 45)
    session(1, 60)
    session(27, 45, SupportSession.Attendance.LATE)
    session(2, 90, SupportSession.Attendance.DID_NOT_ATTEND)
    session(3, 30, SupportSession.Attendance.CANCELLED_BY_CLIENT)
    session(28, 120)
    session(200, 120)

    spare = factories.MentorFactory(home_borough=borough_a, first_name="Leon", last_name="Spare")
    visitor = factories.MentorFactory(
        home_borough=borough_b, first_name="Ade", last_name="Visitor", max_caseload=1
    )
    visitor.other_boroughs.add(borough_a)
    visited = client_of(visitor, borough_a, "Mbeki")
    at_home = client_of(visitor, borough_b, "Nwosu")
    mentor_b = factories.MentorFactory(home_borough=borough_b, first_name="Nia", last_name="Obi")
    croydon_client = client_of(mentor_b, borough_b, "Pryce")
    former = factories.MentorFactory(
        home_borough=borough_a,
        first_name="Old",
        last_name="Former",
        ended_on=days_ago(30),
    )
    return SimpleNamespace(
        first=first,
        second=second,
        spare=spare,
        visitor=visitor,
        visited=visited,
        at_home=at_home,
        mentor_b=mentor_b,
        croydon_client=croydon_client,
        former=former,
    )


# Every page, every role ---------------------------------------------------------------


@pytest.mark.parametrize("url", ["list", "detail"])
def test_anonymous_visitor_is_sent_to_sign_in(client, team, mentor_a, url):
    url = LIST if url == "list" else detail_url(mentor_a)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_user_without_a_role_is_refused(client, team, mentor_a):
    client.force_login(factories.UserFactory())
    assert client.get(LIST).status_code == 403
    assert client.get(detail_url(mentor_a)).status_code == 403


class TestCoordinator:
    @pytest.fixture(autouse=True)
    def signed_in(self, client, coordinator_a, team):
        client.force_login(coordinator_a)
        self.client = client
        self.team = team

    def test_list_shows_current_mentors_serving_the_borough(self, mentor_a):
        mentors = list(self.client.get(LIST).context["mentors"])
        assert set(mentors) == {mentor_a, self.team.spare, self.team.visitor}
        assert len(mentors) == 3

    def test_former_mentors_are_listed_only_when_asked(self, mentor_a):
        response = self.client.get(LIST, {"show": "all"})
        assert set(response.context["mentors"]) == {
            mentor_a,
            self.team.spare,
            self.team.visitor,
            self.team.former,
        }
        assert f"left {days_ago(30):%m/%Y}" in response.content.decode()

    def test_list_counts_open_caseload_and_attended_sessions_in_28_days(self, mentor_a):
        """Attended or late, dated in the last 28 days (today - 27 included, today - 28 not)."""
        mentors = {m.pk: m for m in self.client.get(LIST).context["mentors"]}
        figures = mentors[mentor_a.pk]
        assert (figures.open_caseload, figures.sessions_28, figures.minutes_28) == (2, 3, 150)
        spare = mentors[self.team.spare.pk]
        assert (spare.open_caseload, spare.sessions_28, spare.minutes_28) == (0, 0, 0)

    def test_list_shows_caseload_against_capacity(self, mentor_a):
        response = self.client.get(LIST)
        assert list_row(response, mentor_a)[2:4] == ["2 of 8", "3"]
        # Visiting mentor: both boroughs' clients count against their capacity of 1.
        assert list_row(response, self.team.visitor)[2] == "2 of 1"

    def test_list_shows_hours_to_the_same_precision_as_the_mentor_page(self, mentor_a):
        """150 minutes is 2.5 hours on both pages, not rounded to a whole number on one."""
        assert list_row(self.client.get(LIST), mentor_a)[4] == "2.5"

    def test_detail_shows_the_same_figures(self, mentor_a):
        response = self.client.get(detail_url(mentor_a))
        assert response.status_code == 200
        assert response.context["mentor"].open_caseload == 2
        assert response.context["mentor"].sessions_28 == 3
        assert response.context["hours_28"] == 2.5
        body = response.content.decode()
        assert "2 of 8" in body
        assert ">2.5<" in body

    def test_detail_lists_current_clients_with_names_and_links(self, mentor_a):
        response = self.client.get(detail_url(mentor_a))
        assert {c.reference for c in response.context["caseload"]} == {
            self.team.first.reference,
            self.team.second.reference,
        }
        body = response.content.decode()
        assert reverse("client_detail", args=[self.team.first.reference]) in body
        assert "Okafor" in body
        assert "Lawal" not in body

    def test_visiting_mentor_page_shows_only_this_boroughs_clients(self):
        """Their borough B client counts in the caseload figure but is not named here."""
        response = self.client.get(detail_url(self.team.visitor))
        assert response.context["mentor"].open_caseload == 2
        assert [c.reference for c in response.context["caseload"]] == [self.team.visited.reference]
        body = response.content.decode()
        assert self.team.at_home.last_name not in body
        assert self.team.at_home.reference not in body

    def test_another_boroughs_mentor_is_404(self):
        response = self.client.get(detail_url(self.team.mentor_b))
        assert response.status_code == 404
        assert self.team.mentor_b.last_name not in response.content.decode()

    def test_former_mentor_page_answers(self):
        response = self.client.get(detail_url(self.team.former))
        assert response.status_code == 200
        assert days_ago(30).strftime("%d/%m/%Y") in response.content.decode()


class TestVetting:
    """A mentor's DBS / vetting check is renewed every SOS_VETTING_RENEWAL_YEARS (3)."""

    @pytest.fixture(autouse=True)
    def signed_in(self, client, coordinator_a, team):
        client.force_login(coordinator_a)
        self.client = client
        self.team = team
        self.renewal_day = today().replace(year=today().year - 3, day=1)
        Mentor.objects.filter(pk=team.spare.pk).update(vetting_checked_on=None)
        Mentor.objects.filter(pk=team.visitor.pk).update(vetting_checked_on=self.renewal_day)

    def test_the_list_flags_a_missing_or_due_check(self, mentor_a):
        response = self.client.get(LIST)
        assert list_row(response, self.team.spare)[0].endswith("No vetting check")
        assert list_row(response, self.team.visitor)[0].endswith("Vetting renewal due")
        assert "vetting" not in list_row(response, mentor_a)[0].lower()

    def test_the_list_filters_to_mentors_whose_check_is_missing_or_due(self):
        response = self.client.get(LIST, {"vetting": "due"})
        assert set(response.context["mentors"]) == {self.team.spare, self.team.visitor}
        assert 'id="f-vetting" name="vetting" value="due" checked' in response.content.decode()

    def test_the_mentor_page_gives_the_renewal_date(self, mentor_a):
        due = self.renewal_day.replace(year=today().year)
        body = self.client.get(detail_url(self.team.visitor)).content.decode()
        assert f"{self.renewal_day:%d/%m/%Y}, renewal due {due:%d/%m/%Y}" in body
        assert "Renewal due</span>" in body
        body = self.client.get(detail_url(self.team.spare)).content.decode()
        assert "none recorded" in body
        assert "No vetting check</span>" in body
        body = self.client.get(detail_url(mentor_a)).content.decode()
        assert "Renewal due</span>" not in body
        assert "No vetting check</span>" not in body

    def test_the_filter_costs_no_query(self):
        assert count_queries(self.client, LIST + "?vetting=due") == MENTOR_LIST_QUERIES


def test_coordinator_of_another_borough_sees_their_own_mentors(
    client, coordinator_b, team, mentor_a
):
    client.force_login(coordinator_b)
    assert set(client.get(LIST).context["mentors"]) == {team.visitor, team.mentor_b}
    assert client.get(detail_url(mentor_a)).status_code == 404
    assert client.get(detail_url(team.spare)).status_code == 404
    assert client.get(detail_url(team.mentor_b)).status_code == 200


def test_coordinator_of_two_boroughs_sees_a_visiting_mentor_once(
    client, coordinator_a, borough_b, team, mentor_a
):
    """A mentor serving both of the coordinator's boroughs is one row, with one caseload."""
    coordinator_a.staff_profile.boroughs.add(borough_b)
    client.force_login(coordinator_a)
    mentors = list(client.get(LIST).context["mentors"])
    assert sorted(m.pk for m in mentors) == sorted(
        m.pk for m in (mentor_a, team.spare, team.visitor, team.mentor_b)
    )
    visitor = next(m for m in mentors if m.pk == team.visitor.pk)
    assert visitor.open_caseload == 2


def test_mentor_sees_only_themself(client, team, mentor_a):
    client.force_login(mentor_a.user)
    assert list(client.get(LIST).context["mentors"]) == [mentor_a]
    assert client.get(detail_url(mentor_a)).status_code == 200
    assert client.get(detail_url(team.spare)).status_code == 404
    assert client.get(detail_url(team.visitor)).status_code == 404


class TestManager:
    @pytest.fixture(autouse=True)
    def signed_in(self, client, manager, team):
        client.force_login(manager)
        self.client = client
        self.team = team

    def assert_no_client_names(self, response):
        body = response.content.decode()
        for person in Client.objects.all():
            assert person.first_name not in body
            assert person.last_name not in body

    def test_manager_sees_every_boroughs_mentors_without_client_names(self, mentor_a):
        response = self.client.get(LIST)
        assert response.status_code == 200
        assert set(response.context["mentors"]) == {
            mentor_a,
            self.team.spare,
            self.team.visitor,
            self.team.mentor_b,
        }
        self.assert_no_client_names(response)

    def test_borough_filter_lists_the_mentors_serving_it(self, mentor_a, borough_a, borough_b):
        """Home or visiting: the visitor from B serves A, and is listed under both."""
        served_a = self.client.get(LIST, {"borough": borough_a.slug})
        assert set(served_a.context["mentors"]) == {mentor_a, self.team.spare, self.team.visitor}
        assert f'<option value="{borough_a.slug}" selected>' in served_a.content.decode()
        served_b = self.client.get(LIST, {"borough": borough_b.slug})
        assert set(served_b.context["mentors"]) == {self.team.visitor, self.team.mentor_b}
        # An unknown borough filters nothing rather than failing.
        assert len(self.client.get(LIST, {"borough": "nowhere"}).context["mentors"]) == 4

    def test_search_by_name_or_reference(self, mentor_a):
        assert list(self.client.get(LIST, {"q": "visitor"}).context["mentors"]) == [
            self.team.visitor
        ]
        by_reference = self.client.get(LIST, {"q": mentor_a.reference.lower()})
        assert list(by_reference.context["mentors"]) == [mentor_a]
        assert list(self.client.get(LIST, {"q": "ade obi"}).context["mentors"]) == []
        nobody = self.client.get(LIST, {"q": "zzz", "show": "all"})
        assert "No mentors match." in nobody.content.decode()

    def test_former_mentors_checkbox_keeps_the_search(self):
        response = self.client.get(LIST, {"q": "former", "show": "all"})
        assert list(response.context["mentors"]) == [self.team.former]
        assert 'name="show" value="all" checked' in response.content.decode()

    @pytest.mark.parametrize("mentor_attr", ["visitor", "mentor_b"])
    def test_mentor_page_gives_client_references_but_not_names(self, mentor_attr):
        mentor = getattr(self.team, mentor_attr)
        response = self.client.get(detail_url(mentor))
        assert response.status_code == 200
        body = response.content.decode()
        assert response.context["caseload"]
        for person in response.context["caseload"]:
            assert person.reference in body
            assert reverse("client_detail", args=[person.reference]) not in body
        self.assert_no_client_names(response)

    def test_manager_of_one_borough_gets_404_for_another_boroughs_mentor(
        self, client, borough_b, mentor_a
    ):
        local = factories.StaffProfileFactory(
            role=StaffProfile.Role.MANAGER, boroughs=[borough_b]
        ).user
        client.force_login(local)
        assert client.get(detail_url(mentor_a)).status_code == 404
        assert client.get(detail_url(self.team.mentor_b)).status_code == 200


def test_admin_sees_every_mentor(client, admin_user, team, mentor_a):
    client.force_login(admin_user)
    response = client.get(LIST, {"show": "all"})
    assert set(response.context["mentors"]) == {
        mentor_a,
        team.spare,
        team.visitor,
        team.mentor_b,
        team.former,
    }
    assert client.get(detail_url(team.mentor_b)).status_code == 200


def test_unknown_mentor_is_404(client, coordinator_a):
    client.force_login(coordinator_a)
    assert client.get(reverse("mentor_detail", args=[999999])).status_code == 404


# Fixed query counts -------------------------------------------------------------------

# Measured with the fixed cast; see tests/views/test_clients.py. The list: the user's
# boroughs (for the filter), the count, the page's ids and the page's mentors with their
# figures, after the 4 of every signed-in page.
MENTOR_LIST_QUERIES = 8
MENTOR_PAGE_QUERIES = 7


def add_mentors(borough, other, count):
    for n in range(count):
        mentor = factories.MentorFactory(home_borough=borough)
        mentor.other_boroughs.add(other)
        person = factories.ClientFactory(borough=borough, active=True)
        factories.AssignmentFactory(client=person, mentor=mentor)
        factories.SupportSessionFactory(client=person, mentor=mentor, date=days_ago(n % 20))


def add_clients(mentor, count):
    for n in range(count):
        person = factories.ClientFactory(borough=mentor.home_borough, active=True)
        factories.AssignmentFactory(client=person, mentor=mentor)
        factories.SupportSessionFactory(client=person, mentor=mentor, date=days_ago(n % 20))


@pytest.mark.parametrize("user_fixture", ["coordinator_a", "manager"])
def test_mentor_list_runs_a_fixed_number_of_queries(
    client, request, borough_a, borough_b, user_fixture, django_assert_num_queries
):
    """5 mentors or 40, each with a client and a session: the same number of queries."""
    client.force_login(request.getfixturevalue(user_fixture))
    add_mentors(borough_a, borough_b, 5)
    small = count_queries(client, LIST)
    add_mentors(borough_a, borough_b, 35)
    with django_assert_num_queries(small):
        response = client.get(LIST)
    assert len(response.context["mentors"]) == 40
    assert small == MENTOR_LIST_QUERIES


@pytest.mark.parametrize("user_fixture", ["coordinator_a", "manager"])
def test_mentor_page_runs_a_fixed_number_of_queries(
    client, request, borough_a, borough_b, mentor_a, user_fixture, django_assert_num_queries
):
    """A mentor with 5 clients or 60: the same number of queries."""
    client.force_login(request.getfixturevalue(user_fixture))
    mentor_a.other_boroughs.add(borough_b)
    add_clients(mentor_a, 5)
    small = count_queries(client, detail_url(mentor_a))
    add_clients(mentor_a, 55)
    with django_assert_num_queries(small):
        response = client.get(detail_url(mentor_a))
    assert len(response.context["caseload"]) == 60
    assert small == MENTOR_PAGE_QUERIES


def test_mentor_list_is_paged_in_a_stable_order_with_each_pages_figures(
    client, manager, borough_a, borough_b
):
    """105 mentors: 100 then 5, each once, in borough and name order, figures per page."""
    client.force_login(manager)
    add_mentors(borough_a, borough_b, 105)
    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})
    listed = list(first.context["mentors"]) + list(second.context["mentors"])
    assert [len(first.context["mentors"]), len(second.context["mentors"])] == [100, 5]
    expected = sorted(listed, key=lambda m: (m.home_borough.name, m.last_name, m.first_name, m.pk))
    assert listed == expected and len(set(listed)) == 105
    assert "105 mentors" in first.content.decode()
    assert "Page 2 of 2" in second.content.decode()
    for m in second.context["mentors"]:
        assert (m.open_caseload, m.sessions_28) == (1, 1)
    # Out-of-range and malformed page numbers fall back to a real page.
    assert client.get(LIST, {"page": 9}).context["page"].number == 2
    assert client.get(LIST, {"page": "x"}).context["page"].number == 1
