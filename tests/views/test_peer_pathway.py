"""
The peer pathway on the client's and the mentor's pages: a client's dated steps
(volunteering, Level 2 and 3 training, peer mentor, paid staff), and a client who
becomes a mentor, with the records linked both ways until retention cuts the link.
"""

import datetime
import html

import pytest
from django.urls import reverse

from mentoring import forms, retention, services
from mentoring.models import Client, Mentor, Milestone, PathwayStep

from .. import factories
from ..helpers import dmy, inline_errors, messages_of, today

pytestmark = pytest.mark.django_db

Step = PathwayStep.Step


@pytest.fixture
def completed(borough_a):
    """Southwark's Jade Mensah (Jay), supported from 15/06/2020; her case closed, completed."""
    return factories.ClientFactory(
        borough=borough_a,
        closed=True,
        first_name="Jade",
        last_name="Mensah",
        preferred_name="Jay",
    )


@pytest.fixture
def active(borough_a, mentor_a):
    """An active Southwark client, mentored by mentor_a."""
    person = factories.ClientFactory(borough=borough_a, active=True, first_name="Kofi")
    factories.AssignmentFactory(client=person, mentor=mentor_a)
    return person


@pytest.fixture
def signed_in(client, coordinator_a):
    client.force_login(coordinator_a)
    return client


def detail(browser, person):
    response = browser.get(reverse("client_detail", args=[person.reference]))
    assert response.status_code == 200
    return response.content.decode()


def becomes(browser, person, **data):
    return browser.post(reverse("client_becomes_mentor", args=[person.reference]), data)


# Pathway steps ------------------------------------------------------------------------


class TestSteps:
    def test_coordinator_adds_a_step_and_the_client_page_lists_it(self, signed_in, completed):
        url = reverse("pathway_step_new", args=[completed.reference])
        assert signed_in.get(url).status_code == 200
        response = signed_in.post(
            url, {"step": Step.LEVEL_2, "reached_on": "04/05/2022", "note": "Open College"}
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("client_detail", args=[completed.reference])
        assert messages_of(response) == [("success", "Pathway step added.")]
        step = completed.pathway_steps.get()
        assert (step.step, step.reached_on, step.note) == (
            Step.LEVEL_2,
            datetime.date(2022, 5, 4),
            "Open College",
        )
        page = detail(signed_in, completed)
        assert "Peer pathway" in page
        assert "Level 2 training (learning to advise), 04/05/2022: Open College" in html.unescape(
            page
        )
        assert reverse("pathway_step_edit", args=[step.pk]) in page

    def test_steps_are_listed_in_the_order_they_were_reached(self, signed_in, completed):
        for step, day in [
            (Step.LEVEL_3, datetime.date(2023, 1, 9)),
            (Step.VOLUNTEERING, datetime.date(2021, 6, 1)),
            (Step.LEVEL_2, datetime.date(2022, 2, 1)),
        ]:
            factories.PathwayStepFactory(client=completed, step=step, reached_on=day)
        page = html.unescape(detail(signed_in, completed))
        at = [page.index(label) for label in ("Volunteering, ", "Level 2 ", "Level 3 ")]
        assert at == sorted(at)

    def test_a_step_recorded_twice_is_a_form_error(self, signed_in, completed):
        factories.PathwayStepFactory(
            client=completed, step=Step.VOLUNTEERING, reached_on=datetime.date(2021, 6, 1)
        )
        response = signed_in.post(
            reverse("pathway_step_new", args=[completed.reference]),
            {"step": Step.VOLUNTEERING, "reached_on": "01/07/2021"},
        )
        assert response.status_code == 200
        assert inline_errors(response, "step") == [
            "This step is already recorded, on 01/06/2021: correct that one instead."
        ]
        assert completed.pathway_steps.count() == 1

    @pytest.mark.parametrize(
        ("day", "error"),
        [
            (today() + datetime.timedelta(days=1), "This date is in the future."),
            (datetime.date(2020, 5, 31), "Pathway steps count from the referral date onwards."),
        ],
    )
    def test_a_day_in_the_future_or_before_the_referral_is_refused(
        self, signed_in, completed, day, error
    ):
        response = signed_in.post(
            reverse("pathway_step_new", args=[completed.reference]),
            {"step": Step.VOLUNTEERING, "reached_on": dmy(day)},
        )
        assert response.status_code == 200
        assert inline_errors(response, "reached_on") == [error]
        assert not completed.pathway_steps.exists()

    def test_coordinator_corrects_a_step_and_a_crossed_edit_is_refused(self, signed_in, completed):
        step = factories.PathwayStepFactory(
            client=completed, step=Step.VOLUNTEERING, reached_on=datetime.date(2021, 6, 1)
        )
        url = reverse("pathway_step_edit", args=[step.pk])
        assert signed_in.get(url).status_code == 200
        data = {"step": Step.VOLUNTEERING, "reached_on": "02/06/2021", "note": "", "version": 1}
        assert signed_in.post(url, data).status_code == 302
        step.refresh_from_db()
        assert (step.reached_on, step.version) == (datetime.date(2021, 6, 2), 2)
        # The same form again, opened before that save: refused, nothing changed.
        response = signed_in.post(url, {**data, "reached_on": "03/06/2021"})
        assert response.status_code == 200
        assert "Someone else saved this pathway step" in response.content.decode()
        step.refresh_from_db()
        assert step.reached_on == datetime.date(2021, 6, 2)

    def test_a_correction_may_not_make_a_second_step_of_a_kind(self, signed_in, completed):
        factories.PathwayStepFactory(client=completed, step=Step.VOLUNTEERING)
        level_2 = factories.PathwayStepFactory(client=completed, step=Step.LEVEL_2)
        response = signed_in.post(
            reverse("pathway_step_edit", args=[level_2.pk]),
            {"step": Step.VOLUNTEERING, "reached_on": dmy(level_2.reached_on), "version": 1},
        )
        assert response.status_code == 200
        assert inline_errors(response, "step")
        level_2.refresh_from_db()
        assert level_2.step == Step.LEVEL_2

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_coordinator_of_another_borough_gets_404(
        self, client, coordinator_b, completed, method
    ):
        step = factories.PathwayStepFactory(client=completed)
        client.force_login(coordinator_b)
        data = {"step": Step.LEVEL_2, "reached_on": dmy(completed.ended_on), "version": 1}
        for url in (
            reverse("pathway_step_new", args=[completed.reference]),
            reverse("pathway_step_edit", args=[step.pk]),
        ):
            response = getattr(client, method)(url, data if method == "post" else {})
            assert response.status_code == 404, url
        assert list(completed.pathway_steps.values_list("step", flat=True)) == [Step.VOLUNTEERING]

    @pytest.mark.parametrize("who", ["manager", "mentor_a"])
    @pytest.mark.parametrize("method", ["get", "post"])
    def test_managers_and_mentors_may_not_record_steps(self, client, request, active, who, method):
        user = request.getfixturevalue(who)
        client.force_login(getattr(user, "user", user))
        step = factories.PathwayStepFactory(client=active, reached_on=active.started_on)
        data = {"step": Step.LEVEL_2, "reached_on": dmy(active.started_on), "version": 1}
        for url in (
            reverse("pathway_step_new", args=[active.reference]),
            reverse("pathway_step_edit", args=[step.pk]),
        ):
            assert getattr(client, method)(url, data).status_code == 403, url
        assert active.pathway_steps.count() == 1

    def test_a_mentor_reads_their_clients_steps_without_changing_them(
        self, client, mentor_a, active
    ):
        step = factories.PathwayStepFactory(client=active, reached_on=active.started_on)
        client.force_login(mentor_a.user)
        page = detail(client, active)
        assert f"Volunteering, {active.started_on:%d/%m/%Y}" in page
        assert reverse("pathway_step_edit", args=[step.pk]) not in page
        assert reverse("pathway_step_new", args=[active.reference]) not in page
        assert reverse("client_becomes_mentor", args=[active.reference]) not in page

    def test_an_anonymised_clients_steps_stay_and_take_no_more(self, signed_in, completed):
        step = factories.PathwayStepFactory(client=completed, note="At the food bank")
        retention.anonymise(completed.pk, on=today())
        page = detail(signed_in, completed)
        assert "Volunteering, " in page and "At the food bank" not in page
        assert reverse("pathway_step_new", args=[completed.reference]) not in page
        assert reverse("pathway_step_edit", args=[step.pk]) not in page
        response = signed_in.post(
            reverse("pathway_step_new", args=[completed.reference]),
            {"step": Step.LEVEL_2, "reached_on": dmy(completed.ended_on)},
        )
        assert response.status_code == 302
        assert messages_of(response)[0][0] == "error"
        assert completed.pathway_steps.count() == 1


# A client becomes a mentor ------------------------------------------------------------


class TestBecomesMentor:
    def test_the_mentor_carries_the_clients_names_and_links_back(
        self, signed_in, completed, borough_a
    ):
        borough_a.last_mentor_number = 6
        borough_a.save()
        day = today() - datetime.timedelta(days=10)
        form = signed_in.get(reverse("client_becomes_mentor", args=[completed.reference]))
        assert form.status_code == 200
        assert "confirm" not in form.context["form"].fields  # the case is closed
        response = becomes(signed_in, completed, started_on=dmy(day))
        mentor = Mentor.objects.get(former_client=completed)
        assert response.status_code == 302
        assert response["Location"] == reverse("mentor_detail", args=[mentor.pk])
        assert messages_of(response)[0][0] == "success"
        assert (mentor.first_name, mentor.last_name, mentor.preferred_name) == (
            "Jade",
            "Mensah",
            "Jay",
        )
        assert mentor.reference == "M-SWK-007"
        assert mentor.home_borough == borough_a
        assert mentor.lived_experience and mentor.was_client
        assert mentor.started_on == day and mentor.ended_on is None
        assert mentor.client_support_started_on == completed.started_on
        step = completed.pathway_steps.get()
        assert (step.step, step.reached_on) == (Step.PEER_MENTOR, day)
        milestone = completed.milestones.get()
        assert (milestone.kind, milestone.achieved_on, milestone.verified) == (
            Milestone.Kind.BECAME_PEER_MENTOR,
            day,
            True,
        )
        # Linked both ways.
        page = detail(signed_in, completed)
        assert reverse("mentor_detail", args=[mentor.pk]) in page
        assert "Now a mentor: " in page
        assert reverse("client_becomes_mentor", args=[completed.reference]) not in page
        mentor_page = signed_in.get(reverse("mentor_detail", args=[mentor.pk])).content.decode()
        assert "Former SOS client: " in mentor_page
        assert reverse("client_detail", args=[completed.reference]) in mentor_page

    def test_a_step_and_a_milestone_recorded_before_stay_as_they_were(self, signed_in, completed):
        earlier = completed.ended_on + datetime.timedelta(days=5)
        factories.PathwayStepFactory(client=completed, step=Step.PEER_MENTOR, reached_on=earlier)
        factories.MilestoneFactory(
            client=completed, kind=Milestone.Kind.BECAME_PEER_MENTOR, achieved_on=earlier
        )
        assert becomes(signed_in, completed, started_on=dmy(today())).status_code == 302
        assert list(completed.pathway_steps.values_list("reached_on", flat=True)) == [earlier]
        assert list(completed.milestones.values_list("achieved_on", flat=True)) == [earlier]

    def test_an_open_case_asks_for_confirmation(self, signed_in, active):
        url = reverse("client_becomes_mentor", args=[active.reference])
        page = signed_in.get(url).content.decode()
        assert "own case is still open" in page
        assert 'name="confirm"' in page
        response = becomes(signed_in, active, started_on=dmy(today()))
        assert response.status_code == 200
        assert inline_errors(response, "confirm") == [
            "Tick the box to confirm: this client's own case is still open. Or close the case "
            "first."
        ]
        assert not Mentor.objects.filter(was_client=True).exists()
        assert not active.pathway_steps.exists() and not active.milestones.exists()
        response = becomes(signed_in, active, started_on=dmy(today()), confirm="on")
        assert response.status_code == 302
        assert Mentor.objects.get(former_client=active).started_on == today()
        active.refresh_from_db()
        assert active.status == Client.Status.ACTIVE  # their own case goes on

    @pytest.mark.parametrize(
        ("day", "error"),
        [
            (today() + datetime.timedelta(days=1), "This date is in the future."),
            (
                datetime.date(2020, 6, 14),
                "A client can start mentoring on or after their own support started, on "
                "15/06/2020.",
            ),
        ],
    )
    def test_a_day_in_the_future_or_before_support_is_refused(
        self, signed_in, completed, day, error
    ):
        response = becomes(signed_in, completed, started_on=dmy(day))
        assert response.status_code == 200
        assert inline_errors(response, "started_on") == [error]
        assert not Mentor.objects.filter(was_client=True).exists()

    def test_the_first_day_of_support_is_allowed(self, signed_in, completed):
        assert (
            becomes(signed_in, completed, started_on=dmy(completed.started_on)).status_code == 302
        )

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_a_client_who_already_became_a_mentor_is_refused(self, signed_in, completed, method):
        first = services.client_becomes_mentor(
            client=completed, started_on=today(), confirmed=False
        )
        url = reverse("client_becomes_mentor", args=[completed.reference])
        response = getattr(signed_in, method)(url, {"started_on": dmy(today())})
        assert response.status_code == 302
        assert response["Location"] == reverse("client_detail", args=[completed.reference])
        assert messages_of(response) == [
            ("error", f"{completed.reference} already became a mentor: {first.reference}.")
        ]
        assert Mentor.objects.filter(was_client=True).count() == 1

    @pytest.mark.parametrize("status", [Client.Status.REFERRED, Client.Status.DECLINED])
    def test_a_client_whose_support_never_started_is_refused(self, signed_in, borough_a, status):
        person = factories.ClientFactory(borough=borough_a, status=status)
        response = becomes(signed_in, person, started_on=dmy(today()), confirm="on")
        assert response.status_code == 302
        assert "Support never started" in messages_of(response)[0][1]
        assert not Mentor.objects.filter(was_client=True).exists()
        assert reverse("client_becomes_mentor", args=[person.reference]) not in detail(
            signed_in, person
        )

    def test_an_anonymised_client_is_refused(self, signed_in, completed):
        retention.anonymise(completed.pk, on=today())
        response = becomes(signed_in, completed, started_on=dmy(today()))
        assert response.status_code == 302
        assert messages_of(response) == [
            ("error", "This client's details were removed under the retention policy.")
        ]
        assert not Mentor.objects.filter(was_client=True).exists()
        assert reverse("client_becomes_mentor", args=[completed.reference]) not in detail(
            signed_in, completed
        )

    def test_a_mentor_made_while_the_form_was_open_is_a_form_error(
        self, signed_in, completed, monkeypatch
    ):
        """Another coordinator saved first: the record is checked again when it is locked."""
        original = forms.BecomesMentorForm.clean_started_on

        def meanwhile(form):
            services.client_becomes_mentor(client=completed, started_on=today(), confirmed=False)
            return original(form)

        monkeypatch.setattr(forms.BecomesMentorForm, "clean_started_on", meanwhile)
        response = becomes(signed_in, completed, started_on=dmy(today()))
        assert response.status_code == 200
        assert "already became a mentor" in response.content.decode()
        assert Mentor.objects.filter(former_client=completed).count() == 1

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_coordinator_of_another_borough_gets_404(
        self, client, coordinator_b, completed, method
    ):
        client.force_login(coordinator_b)
        url = reverse("client_becomes_mentor", args=[completed.reference])
        response = getattr(client, method)(url, {"started_on": dmy(today())})
        assert response.status_code == 404
        assert not Mentor.objects.filter(was_client=True).exists()

    @pytest.mark.parametrize("who", ["manager", "mentor_a"])
    @pytest.mark.parametrize("method", ["get", "post"])
    def test_managers_and_mentors_may_not_make_a_mentor(self, client, request, active, who, method):
        user = request.getfixturevalue(who)
        client.force_login(getattr(user, "user", user))
        url = reverse("client_becomes_mentor", args=[active.reference])
        data = {"started_on": dmy(today()), "confirm": "on"}
        assert getattr(client, method)(url, data).status_code == 403
        assert not Mentor.objects.filter(was_client=True).exists()

    def test_the_button_shows_for_case_managers_until_the_client_is_a_mentor(
        self, client, admin_user, completed
    ):
        client.force_login(admin_user)
        url = reverse("client_becomes_mentor", args=[completed.reference])
        assert url in detail(client, completed)
        services.client_becomes_mentor(client=completed, started_on=today(), confirmed=False)
        assert url not in detail(client, completed)

    def test_the_mentor_list_marks_former_clients(self, signed_in, completed, borough_a):
        factories.MentorFactory(home_borough=borough_a, first_name="Never", last_name="Client")
        mentor = services.client_becomes_mentor(
            client=completed, started_on=today(), confirmed=False
        )
        page = signed_in.get(reverse("mentor_list")).content.decode()
        row = page[page.index(mentor.reference) :]
        assert row[: row.index("</td>")].count("former client") == 1
        assert page.count(">former client</span>") == 1


class TestTheMentorPage:
    @pytest.fixture
    def mentor(self, completed):
        return services.client_becomes_mentor(client=completed, started_on=today(), confirmed=False)

    def test_a_manager_reads_former_client_without_the_record(
        self, client, manager, completed, mentor
    ):
        """Beside the mentor's name, the client's reference would name the client."""
        client.force_login(manager)
        page = client.get(reverse("mentor_detail", args=[mentor.pk])).content.decode()
        assert "Former SOS client" in page
        assert completed.reference not in page
        assert reverse("client_detail", args=[completed.reference]) not in page

    def test_the_mentor_reads_their_own_page_without_the_record(
        self, client, borough_a, completed, mentor
    ):
        user = factories.StaffProfileFactory(role="MENTOR", boroughs=[borough_a]).user
        Mentor.objects.filter(pk=mentor.pk).update(user=user)
        client.force_login(user)
        page = client.get(reverse("mentor_detail", args=[mentor.pk])).content.decode()
        assert "Former SOS client" in page
        assert completed.reference not in page

    def test_retention_cuts_the_link_and_the_page_says_former_client_only(
        self, signed_in, completed, mentor
    ):
        result = retention.anonymise(completed.pk, on=today())
        mentor.refresh_from_db()
        assert mentor.former_client is None
        assert mentor.was_client
        assert (mentor.first_name, mentor.last_name) == ("Jade", "Mensah")  # their own
        assert mentor.client_support_started_on == completed.started_on
        assert result.rows > 0
        page = signed_in.get(reverse("mentor_detail", args=[mentor.pk])).content.decode()
        assert "Former SOS client" in page
        assert completed.reference not in page
        assert reverse("client_detail", args=[completed.reference]) not in page
        # Nor does the client's page name the mentor any more.
        assert reverse("mentor_detail", args=[mentor.pk]) not in detail(signed_in, completed)
