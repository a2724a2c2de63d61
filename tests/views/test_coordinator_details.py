"""
Small things a coordinator meets every day: who raised a safeguarding concern, where a
follow-up leads back to, a referral started from the home page, and words on the client
page that read as written (acronyms kept, links that name what they change).
"""

import pytest
from django.urls import reverse

from mentoring.models import Client, Offence

from .. import factories
from ..helpers import days_ago

pytestmark = pytest.mark.django_db

ACTION = "Referred to the safeguarding lead."


@pytest.fixture
def concern(borough_a, mentor_a, coordinator_a):
    """A concern raised in a session that coordinator_a logged for mentor_a's client."""
    kai = factories.ClientFactory(
        borough=borough_a, active=True, started_on=days_ago(100), referred_on=days_ago(110)
    )
    factories.AssignmentFactory(client=kai, mentor=mentor_a, started_on=days_ago(100))
    return factories.SupportSessionFactory(
        client=kai,
        mentor=mentor_a,
        date=days_ago(3),
        safeguarding_concern=True,
        logged_by=coordinator_a,
    )


class TestSafeguarding:
    def test_the_home_page_names_who_logged_the_concern_and_the_mentor_apart(
        self, client, coordinator_a, concern
    ):
        coordinator_a.first_name, coordinator_a.last_name = "Ada", "Cole"
        coordinator_a.save()
        client.force_login(coordinator_a)
        page = client.get(reverse("home")).content.decode()
        assert "logged by Ada Cole" in page
        assert f"mentor {concern.mentor.full_name}" in page
        assert f"raised by {concern.mentor.full_name}" not in page

    def test_a_follow_up_from_the_home_page_goes_back_home(self, client, coordinator_a, concern):
        client.force_login(coordinator_a)
        page = client.get(reverse("home")).content.decode()
        link = reverse("safeguarding_follow_up", args=[concern.pk]) + "?next=/"
        assert link in page
        response = client.post(link, {"action": ACTION, "next": "/"})
        assert response.status_code == 302
        assert response["Location"] == "/"

    def test_a_follow_up_from_the_client_page_goes_back_to_the_client(
        self, client, coordinator_a, concern
    ):
        client.force_login(coordinator_a)
        detail = reverse("client_detail", args=[concern.client.reference])
        page = client.get(detail).content.decode()
        url = reverse("safeguarding_follow_up", args=[concern.pk])
        assert f"{url}?next={detail}" in page
        form = client.get(f"{url}?next={detail}").content.decode()
        assert f'name="next" value="{detail}"' in form
        response = client.post(url, {"action": ACTION, "next": detail})
        assert response["Location"] == detail

    @pytest.mark.parametrize(
        "next_url", ["https://example.org/", "//example.org/", "javascript:alert(1)", ""]
    )
    def test_a_follow_up_never_leads_to_another_site(
        self, client, coordinator_a, concern, next_url
    ):
        client.force_login(coordinator_a)
        url = reverse("safeguarding_follow_up", args=[concern.pk])
        response = client.post(url, {"action": ACTION, "next": next_url})
        assert response["Location"] == reverse("client_detail", args=[concern.client.reference])


class TestHome:
    def test_a_coordinator_starts_a_referral_from_home(self, client, coordinator_a, borough_a):
        client.force_login(coordinator_a)
        page = client.get(reverse("home")).content.decode()
        assert f'href="{reverse("client_new")}">New referral</a>' in page

    def test_a_mentor_is_not_offered_a_referral(self, client, mentor_a):
        client.force_login(mentor_a.user)
        page = client.get(reverse("home")).content.decode()
        assert "New referral" not in page


class TestClientPageWording:
    def test_a_transferred_referral_reads_another_sos_area(self, client, coordinator_a, borough_a):
        kai = factories.ClientFactory(
            borough=borough_a, referral_source=Client.ReferralSource.TRANSFER
        )
        client.force_login(coordinator_a)
        page = client.get(reverse("client_detail", args=[kai.reference])).content.decode()
        assert "by another SOS area" in page
        assert "another sos area" not in page

    def test_edit_links_of_offences_read_as_sentences(self, client, coordinator_a, borough_a):
        kai = factories.ClientFactory(borough=borough_a, active=True, started_on=days_ago(400))
        factories.OffenceFactory(
            client=kai,
            offence_date=days_ago(300),
            outcome_date=days_ago(250),
            disposal=Offence.Disposal.FINE,
        )
        factories.OffenceFactory(
            client=kai, offence_date=days_ago(20), outcome_date=None, disposal="PENDING"
        )
        client.force_login(coordinator_a)
        page = client.get(reverse("client_detail", args=[kai.reference])).content.decode()
        when = f"{days_ago(300):%d/%m/%Y}"
        assert f'Correct<span class="visually-hidden"> the offence of {when}' in page
        assert 'Correct<span class="visually-hidden"> of the offence' not in page
        assert 'Record the outcome<span class="visually-hidden"> of the offence of' in page
