"""
The signed-in home page: a coordinator's needs-contact list, safeguarding concerns and
recent sessions; a mentor's own clients; a manager's overview without names.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from mentoring import urls, views
from mentoring.models import Client, SupportSession

from .. import factories
from ..helpers import count_queries, days_ago
from . import (
    test_clients,
    test_employers,
    test_mentors,
    test_safeguarding,
    test_support_sessions,
)

pytestmark = pytest.mark.django_db

HOME = "/"


def references(clients):
    return [c.reference for c in clients]


def test_every_page_is_walked_by_an_access_test():
    """
    Every page served by mentoring.views has anonymous, role and other-borough tests in
    these modules: a new page without them fails here, not in production.
    """
    pages = {p.name for p in urls.urlpatterns if p.callback.__module__ == "mentoring.views"}
    walked = (
        {"home"}
        | test_clients.URL_NAMES
        | test_support_sessions.URL_NAMES
        | test_mentors.URL_NAMES
        | test_employers.URL_NAMES
        | test_safeguarding.URL_NAMES
    )
    assert pages == walked


@pytest.fixture
def caseload(borough_a, borough_b, mentor_a):
    """
    Borough A clients by last contact (attended sessions only), plus ones that must not
    show: seen recently, not active, and borough B.
    """
    started = datetime.date(2020, 6, 15)

    def active(last_name, started_on=started):
        person = factories.ClientFactory(
            borough=borough_a,
            last_name=last_name,
            referred_on=started_on - datetime.timedelta(days=7),
            status=Client.Status.ACTIVE,
            started_on=started_on,
        )
        factories.AssignmentFactory(client=person, mentor=mentor_a)
        return person

    def seen(person, days, **extra):
        factories.SupportSessionFactory(
            client=person, mentor=mentor_a, date=days_ago(days), **extra
        )

    never_early = active("Achebe", started_on=datetime.date(2019, 1, 7))
    never_late = active("Balogun", started_on=datetime.date(2021, 1, 7))
    forty = active("Chukwu")
    seen(forty, 40)
    thirty_dna = active("Dlamini")
    seen(thirty_dna, 30)
    seen(thirty_dna, 2, attendance=SupportSession.Attendance.DID_NOT_ATTEND)
    fourteen = active("Eze")
    seen(fourteen, 14)
    thirteen = active("Fofana")
    seen(thirteen, 13)
    late_yesterday = active("Gyamfi")
    seen(late_yesterday, 1, attendance=SupportSession.Attendance.LATE)
    referral = factories.ClientFactory(borough=borough_a, last_name="Hlongwane")
    closed = factories.ClientFactory(borough=borough_a, closed=True, last_name="Idowu")
    other = factories.ClientFactory(borough=borough_b, active=True, last_name="Jallow")
    unassigned = factories.ClientFactory(borough=borough_a, active=True, last_name="Kamara")
    return {
        "needing_contact": [never_early, never_late, forty, thirty_dna, fourteen],
        "seen": [thirteen, late_yesterday],
        "not_active": [referral, closed],
        "other": other,
        "unassigned": unassigned,
    }


class TestCoordinatorHome:
    @pytest.fixture(autouse=True)
    def signed_in(self, client, coordinator_a):
        client.force_login(coordinator_a)
        self.client = client

    def test_needs_contact_lists_oldest_contact_first_never_contacted_first(self, caseload):
        """
        Never contacted (longest on the programme first), then by last attended session;
        a session 14 days ago is outside the window, a did-not-attend counts for nothing.
        """
        never_early, never_late, forty, thirty_dna, fourteen = caseload["needing_contact"]
        # Started 15/06/2020: between the two never-contacted clients of mentor_a.
        unassigned = caseload["unassigned"]
        response = self.client.get(HOME)
        assert response.status_code == 200
        assert references(response.context["needing_contact"]) == references(
            [never_early, unassigned, never_late, forty, thirty_dna, fourteen]
        )

    def test_needs_contact_shows_the_longest_first_and_links_to_them_all(
        self, caseload, monkeypatch
    ):
        """
        A borough's coordinator may have hundreds needing contact: the home page lists the
        longest without contact, counts them all, and links to all of them in the list.
        """
        everyone = self.client.get(HOME)
        assert everyone.context["needing_contact_total"] == 6
        assert "see all" not in everyone.content.decode()

        monkeypatch.setattr(views, "NEEDS_CONTACT_SHOWN", 4)
        response = self.client.get(HOME)
        shown = references(response.context["needing_contact"])
        assert shown == references(everyone.context["needing_contact"])[:4]
        body = response.content.decode()
        assert '<span class="badge text-bg-danger">6</span>' in body
        link = f"{reverse('client_list')}?needs_contact=1&amp;sort=last_contact"
        assert f'The 4 longest are shown here: <a href="{link}">see all 6' in body
        # The list continues the home page's order: the same four first, then the rest.
        listed = self.client.get(link.replace("&amp;", "&")).context["page"].object_list
        assert references(listed) == references(everyone.context["needing_contact"])

    def test_nobody_needing_contact_says_so(self, caseload):
        for person in caseload["needing_contact"]:
            factories.SupportSessionFactory(client=person, date=days_ago(1))
        Client.objects.filter(pk=caseload["unassigned"].pk).update(
            status=Client.Status.CLOSED, ended_on=days_ago(1), closure_reason="COMPLETED"
        )
        response = self.client.get(HOME)
        assert response.context["needing_contact"] == []
        assert response.context["needing_contact_total"] == 0
        assert "Everyone has been seen in the last 14 days." in response.content.decode()

    def test_needs_contact_leaves_out_clients_seen_in_14_days_and_other_boroughs(self, caseload):
        listed = references(self.client.get(HOME).context["needing_contact"])
        for person in [*caseload["seen"], *caseload["not_active"], caseload["other"]]:
            assert person.reference not in listed

    def test_needs_contact_shows_last_contact_and_a_log_button(self, caseload):
        body = self.client.get(HOME).content.decode()
        forty = caseload["needing_contact"][2]
        assert days_ago(40).strftime("%d/%m/%Y") in body
        assert reverse("client_session_new", args=[forty.reference]) in body
        assert caseload["other"].last_name not in body

    def test_open_safeguarding_concerns_of_the_borough_oldest_first(self, caseload, mentor_a):
        person = caseload["seen"][0]

        def concern(days):
            return factories.SupportSessionFactory(
                client=person, mentor=mentor_a, date=days_ago(days), safeguarding_concern=True
            )

        today_concern = concern(0)
        thirteen = concern(13)
        old = concern(300)
        followed_up = concern(30)
        SupportSession.objects.filter(pk=followed_up.pk).update(
            safeguarding_handled_at=timezone.now(), safeguarding_action="Done."
        )
        factories.SupportSessionFactory(client=person, mentor=mentor_a, date=days_ago(1))
        factories.SupportSessionFactory(
            client=caseload["other"], date=days_ago(1), safeguarding_concern=True
        )
        response = self.client.get(HOME)
        assert list(response.context["safeguarding"]) == [old, thirteen, today_concern]
        assert list(response.context["safeguarding_followed_up"]) == [followed_up]

    def test_recent_sessions_are_the_boroughs_newest_logged_first(self, caseload):
        other_session = factories.SupportSessionFactory(client=caseload["other"], date=days_ago(0))
        recent = list(self.client.get(HOME).context["recent_sessions"])
        assert len(recent) == 6
        assert other_session not in recent
        assert [s.pk for s in recent] == sorted((s.pk for s in recent), reverse=True)

    def test_recent_sessions_are_those_logged_in_the_last_14_days(self, caseload):
        """By when they were logged, not their date: a late entry for last month counts."""
        SupportSession.objects.update(created_at=timezone.now() - datetime.timedelta(days=30))
        person = caseload["seen"][0]
        late_entry = factories.SupportSessionFactory(client=person, date=days_ago(40))
        edge = factories.SupportSessionFactory(client=person, date=days_ago(14))
        SupportSession.objects.filter(pk=edge.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=13, hours=23)
        )
        response = self.client.get(HOME)
        assert list(response.context["recent_sessions"]) == [late_entry, edge]
        assert "Sessions logged in the last 14 days" in response.content.decode()
        SupportSession.objects.update(created_at=timezone.now() - datetime.timedelta(days=15))
        body = self.client.get(HOME).content.decode()
        assert "None logged in the last 14 days." in body

    def test_log_a_session_button_is_on_the_page(self):
        body = self.client.get(HOME).content.decode()
        assert f'href="{reverse("session_new")}">Log a session</a>' in body

    def test_coordinator_has_no_my_clients_section(self, caseload):
        assert "my_clients" not in self.client.get(HOME).context

    def test_referrals_awaiting_a_decision_oldest_first_in_their_boroughs(
        self, caseload, borough_a, borough_b
    ):
        older = factories.ClientFactory(borough=borough_a, referred_on=datetime.date(2019, 2, 1))
        factories.ClientFactory(borough=borough_b, last_name="Otherborough")
        factories.ClientFactory(borough=borough_a, last_name="Declined", status="DECLINED")
        response = self.client.get(HOME)
        listed = response.context["awaiting_decision"]
        assert references(listed) == [older.reference, caseload["not_active"][0].reference]
        assert response.context["awaiting_decision_total"] == 2
        body = response.content.decode()
        assert "Otherborough" not in body and "Declined</a>" not in body
        assert "referred 01/02/2019" in body

    def test_active_clients_without_a_mentor_longest_first_with_an_assign_button(
        self, caseload, borough_a, mentor_a
    ):
        ended = factories.ClientFactory(
            borough=borough_a, active=True, referred_on=datetime.date(2018, 1, 1)
        )
        factories.AssignmentFactory(
            client=ended,
            mentor=mentor_a,
            ended_on=datetime.date(2018, 6, 1),
            end_reason="MENTOR_LEFT",
        )
        response = self.client.get(HOME)
        listed = response.context["without_mentor"]
        # A mentor who has ended leaves the client without one; the others have theirs.
        assert references(listed) == [ended.reference, caseload["unassigned"].reference]
        assert response.context["without_mentor_total"] == 2
        body = response.content.decode()
        assert reverse("client_assign", args=[ended.reference]) in body
        assert caseload["other"].last_name not in body

    def test_queues_show_the_longest_waiting_and_link_to_them_all(self, borough_a):
        for n in range(views.QUEUE_SHOWN + 2):
            factories.ClientFactory(borough=borough_a, referred_on=days_ago(100 - n))
            factories.ClientFactory(borough=borough_a, active=True, referred_on=days_ago(300 - n))
        response = self.client.get(HOME)
        for name in ["awaiting_decision", "without_mentor"]:
            assert len(response.context[name]) == views.QUEUE_SHOWN
            assert response.context[f"{name}_total"] == views.QUEUE_SHOWN + 2
        body = response.content.decode()
        assert f'?status=REFERRED&amp;sort=referred">See all {views.QUEUE_SHOWN + 2}' in body
        assert '?status=ACTIVE&amp;mentor=none&amp;sort=started">See all' in body
        listed = self.client.get(
            reverse("client_list"), {"status": "ACTIVE", "mentor": "none", "sort": "started"}
        ).context["page"]
        assert listed.paginator.count == views.QUEUE_SHOWN + 2
        starts = [c.started_on for c in listed]
        assert starts == sorted(starts)

    def test_empty_queues_say_so(self):
        body = self.client.get(HOME).content.decode()
        assert "No referrals waiting." in body
        assert "Every active client has a mentor." in body
        assert "No offence is awaiting an outcome." in body

    def test_offences_awaiting_an_outcome_oldest_first_in_their_boroughs(self, caseload, borough_a):
        mine = caseload["seen"][0]

        def offence(person, days, **outcome):
            pending = {"disposal": "PENDING", "outcome_date": None}
            return factories.OffenceFactory(
                client=person, offence_date=days_ago(days), **(outcome or pending)
            )

        newer, older = offence(mine, 10), offence(caseload["unassigned"], 40)
        offence(mine, 50, disposal="FINE", outcome_date=days_ago(20))  # decided
        offence(caseload["other"], 60)  # another borough's
        response = self.client.get(HOME)
        assert list(response.context["awaiting_outcome"]) == [older, newer]
        assert response.context["awaiting_outcome_total"] == 2
        body = response.content.decode()
        assert reverse("offence_edit", args=[older.pk]) in body
        assert caseload["other"].last_name not in body

    def test_a_long_outcome_queue_links_to_the_client_list(self, borough_a):
        person = factories.ClientFactory(borough=borough_a, active=True)
        for n in range(views.QUEUE_SHOWN + 1):
            factories.OffenceFactory(
                client=person, offence_date=days_ago(30 + n), disposal="PENDING", outcome_date=None
            )
        response = self.client.get(HOME)
        assert len(response.context["awaiting_outcome"]) == views.QUEUE_SHOWN
        assert response.context["awaiting_outcome_total"] == views.QUEUE_SHOWN + 1
        assert '?outcome_awaited=1">See their clients' in response.content.decode()


class TestMentorHome:
    @pytest.fixture(autouse=True)
    def signed_in(self, client, mentor_a):
        client.force_login(mentor_a.user)
        self.client = client

    def test_mentor_sees_their_own_active_clients_only(self, caseload):
        response = self.client.get(HOME)
        assert response.status_code == 200
        mine = [*caseload["needing_contact"], *caseload["seen"]]
        assert set(references(response.context["my_clients"])) == set(references(mine))
        body = response.content.decode()
        for person in [caseload["other"], caseload["unassigned"], *caseload["not_active"]]:
            assert person.last_name not in body

    def test_mentor_has_no_coordinators_queues(self, caseload):
        response = self.client.get(HOME)
        assert "awaiting_decision" not in response.context
        assert "Referrals awaiting a decision" not in response.content.decode()

    def test_mentors_needs_contact_is_their_own_clients(self, caseload):
        listed = references(self.client.get(HOME).context["needing_contact"])
        assert listed == references(caseload["needing_contact"])

    def test_log_a_session_button_is_on_the_page(self, caseload):
        body = self.client.get(HOME).content.decode()
        assert f'href="{reverse("session_new")}">Log a session</a>' in body
        forty = caseload["needing_contact"][2]
        assert reverse("client_session_new", args=[forty.reference]) in body


def test_manager_home_is_their_dashboard_without_client_names(client, manager, caseload):
    """A manager's home is the network dashboard: figures only, no names or references."""
    client.force_login(manager)
    response = client.get(HOME, follow=True)
    assert response.redirect_chain == [(reverse("network_dashboard"), 302)]
    assert response.status_code == 200
    body = response.content.decode()
    people = list(Client.objects.all())
    assert people
    for person in people:
        assert person.first_name not in body
        assert person.last_name not in body
        assert person.reference not in body


def test_admin_home_answers(client, admin_user, caseload):
    client.force_login(admin_user)
    response = client.get(HOME)
    assert response.status_code == 200
    assert caseload["other"].reference in references(response.context["needing_contact"])


def test_user_without_a_staff_profile_is_refused_home(client):
    client.force_login(factories.UserFactory())
    response = client.get(HOME)
    assert response.status_code == 403


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


# Fixed query counts -------------------------------------------------------------------

# Measured with the fixed cast; see tests/views/test_clients.py. 12: the queue of
# offences awaiting an outcome added one; 13: the follow-ups due, one more.
COORDINATOR_HOME_QUERIES = 13
MENTOR_HOME_QUERIES = 9


def add_caseload(borough, mentor, count):
    for n in range(count):
        person = factories.ClientFactory(borough=borough, active=True)
        factories.AssignmentFactory(client=person, mentor=mentor)
        factories.SupportSessionFactory(
            client=person, mentor=mentor, date=days_ago(20 + n % 10), safeguarding_concern=True
        )
        factories.SupportSessionFactory(
            client=person, mentor=mentor, date=days_ago(n % 5), safeguarding_concern=True
        )
        # And the coordinator's queues: a referral, an active client with no mentor and
        # an offence awaiting its outcome.
        factories.ClientFactory(borough=borough, referred_on=days_ago(n))
        factories.ClientFactory(borough=borough, active=True, referred_on=days_ago(n + 30))
        factories.OffenceFactory(client=person, disposal="PENDING", outcome_date=None)
        # And a check-in after a completed case falling due, at 3, 6 or 12 months.
        ended = days_ago((91, 182, 365)[n % 3] + n % 20 - 10)
        factories.ClientFactory(
            borough=borough,
            closed=True,
            referred_on=ended - datetime.timedelta(days=250),
            ended_on=ended,
        )


@pytest.mark.parametrize(
    ("user_fixture", "expected"),
    [
        ("coordinator_a", COORDINATOR_HOME_QUERIES),
        ("mentor_a", MENTOR_HOME_QUERIES),
    ],
)
def test_home_runs_a_fixed_number_of_queries(
    client, request, borough_a, mentor_a, user_fixture, expected, django_assert_num_queries
):
    """5 clients or 60, each with sessions and concerns: the same number of queries."""
    user = request.getfixturevalue(user_fixture)
    client.force_login(getattr(user, "user", user))
    add_caseload(borough_a, mentor_a, 5)
    small = count_queries(client, HOME)
    add_caseload(borough_a, mentor_a, 55)
    with django_assert_num_queries(small):
        client.get(HOME)
    assert small == expected
