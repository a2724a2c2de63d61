"""
Logging and correcting support sessions: from a client's page and from /sessions/new/,
by coordinators and by mentors for their own clients; one row per submitted form.
"""

import datetime
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from mentoring.models import Client, SupportArea, SupportSession

from .. import factories
from ..helpers import days_ago, dmy, inline_errors, messages_of, today
from ..helpers import session_correction as correction_data
from ..helpers import session_form as session_data

pytestmark = pytest.mark.django_db

URL_NAMES = {"client_session_new", "session_new", "session_edit"}


def age_session(session, days):
    """Make ``session`` look as if it had been logged ``days`` days ago."""
    SupportSession.objects.filter(pk=session.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )


@pytest.fixture
def case(borough_a, borough_b, mentor_a, coordinator_a):
    """
    Borough A: ``mine`` (active, mentor_a), ``theirs`` (active, another mentor), ``orphan``
    (active, no mentor), ``referral`` and ``closed``; borough B: ``other`` (active). A
    session on ``mine`` logged by mentor_a and one on ``other`` logged in borough B.
    """
    spare = factories.MentorFactory(home_borough=borough_a, first_name="Leon", last_name="Spare")
    mine = factories.ClientFactory(
        borough=borough_a, active=True, first_name="Tyrese", last_name="Okafor"
    )
    factories.AssignmentFactory(client=mine, mentor=mentor_a)
    theirs = factories.ClientFactory(
        borough=borough_a, active=True, first_name="Callum", last_name="Reid"
    )
    factories.AssignmentFactory(client=theirs, mentor=spare)
    orphan = factories.ClientFactory(
        borough=borough_a, active=True, first_name="Jamal", last_name="Adeyemi"
    )
    referral = factories.ClientFactory(borough=borough_a, first_name="Kwame", last_name="Mensah")
    closed = factories.ClientFactory(borough=borough_a, closed=True, last_name="Idowu")
    other = factories.ClientFactory(
        borough=borough_b, active=True, first_name="Deshawn", last_name="Pryce"
    )
    mentor_b = factories.MentorFactory(home_borough=borough_b, first_name="Nia", last_name="Obi")
    factories.AssignmentFactory(client=other, mentor=mentor_b)
    return SimpleNamespace(
        spare=spare,
        mine=mine,
        theirs=theirs,
        orphan=orphan,
        referral=referral,
        closed=closed,
        other=other,
        mentor_b=mentor_b,
        session=factories.SupportSessionFactory(
            client=mine, mentor=mentor_a, date=days_ago(1), logged_by=mentor_a.user
        ),
        other_session=factories.SupportSessionFactory(
            client=other, mentor=mentor_b, date=days_ago(1)
        ),
    )


def new_sessions(before_pks):
    return SupportSession.objects.exclude(pk__in=before_pks)


# Every page, every role ---------------------------------------------------------------


def urls(case):
    """Each session page for borough A's data: (name, url, valid POST data)."""
    return {
        "client_session_new": (
            reverse("client_session_new", args=[case.mine.reference]),
            session_data(),
        ),
        "session_new": (reverse("session_new"), session_data(client=case.mine.pk)),
        "session_edit": (
            reverse("session_edit", args=[case.session.pk]),
            correction_data(case.session, duration_minutes="45"),
        ),
    }


def sessions_snapshot():
    return list(
        SupportSession.objects.order_by("pk").values_list("pk", "duration_minutes", "version")
    )


@pytest.mark.parametrize("name", sorted(URL_NAMES))
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitor_is_sent_to_sign_in(client, case, name, method):
    url, data = urls(case)[name]
    before = sessions_snapshot()
    response = client.get(url) if method == "get" else client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    assert sessions_snapshot() == before


@pytest.mark.parametrize("name", sorted(URL_NAMES))
@pytest.mark.parametrize("user_fixture", ["coordinator_a", "admin_user"])
def test_coordinator_and_admin_log_and_correct_sessions(client, case, request, name, user_fixture):
    """Each page answers 200, and its valid POST saves and returns to the client page."""
    client.force_login(request.getfixturevalue(user_fixture))
    url, data = urls(case)[name]
    assert client.get(url).status_code == 200
    before = sessions_snapshot()
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert response["Location"] == reverse("client_detail", args=[case.mine.reference])
    assert sessions_snapshot() != before


@pytest.mark.parametrize("name", ["client_session_new", "session_edit"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_coordinator_of_another_borough_gets_404_and_nothing_is_written(
    client, case, coordinator_b, name, method
):
    client.force_login(coordinator_b)
    url, data = urls(case)[name]
    before = sessions_snapshot()
    response = client.get(url) if method == "get" else client.post(url, data)
    assert response.status_code == 404
    assert sessions_snapshot() == before
    assert case.mine.last_name not in response.content.decode()


def test_coordinator_of_another_borough_cannot_log_for_borough_a_from_sessions_new(
    client, case, coordinator_b
):
    """On /sessions/new/ another borough's client is not a choice: a form error, no row."""
    client.force_login(coordinator_b)
    before = sessions_snapshot()
    response = client.post(
        reverse("session_new"), session_data(client=case.mine.pk, mentor=case.mentor_b.pk)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["client"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert sessions_snapshot() == before


@pytest.mark.parametrize("name", sorted(URL_NAMES))
@pytest.mark.parametrize("method", ["get", "post"])
def test_manager_cannot_log_or_correct_sessions(client, case, manager, name, method):
    client.force_login(manager)
    url, data = urls(case)[name]
    before = sessions_snapshot()
    response = client.get(url) if method == "get" else client.post(url, data)
    assert response.status_code == 403
    assert sessions_snapshot() == before
    body = response.content.decode()
    people = list(Client.objects.all())
    assert people
    for person in people:
        assert person.first_name not in body
        assert person.last_name not in body


def test_user_without_a_role_cannot_log_sessions(client, case):
    client.force_login(factories.UserFactory())
    assert client.get(reverse("session_new")).status_code == 403
    assert client.post(reverse("session_new"), session_data(client=case.mine.pk)).status_code == 403
    assert SupportSession.objects.count() == 2


# Mentors ------------------------------------------------------------------------------


class TestMentorLogging:
    @pytest.fixture(autouse=True)
    def signed_in(self, client, case, mentor_a):
        client.force_login(mentor_a.user)
        self.client = client
        self.case = case
        self.mentor = mentor_a

    def test_mentor_logs_a_session_for_their_client_from_its_page(self):
        url = reverse("client_session_new", args=[self.case.mine.reference])
        before = list(SupportSession.objects.values_list("pk", flat=True))
        response = self.client.post(url, session_data())
        assert response.status_code == 302
        session = new_sessions(before).get()
        assert session.client == self.case.mine
        assert session.mentor == self.mentor
        assert session.logged_by == self.mentor.user

    def test_mentor_logs_a_session_from_sessions_new(self):
        before = list(SupportSession.objects.values_list("pk", flat=True))
        response = self.client.post(reverse("session_new"), session_data(client=self.case.mine.pk))
        assert response.status_code == 302
        assert new_sessions(before).get().client == self.case.mine

    def test_sessions_new_offers_only_the_mentors_own_clients(self):
        form = self.client.get(reverse("session_new")).context["form"]
        assert list(form.fields["client"].queryset) == [self.case.mine]
        assert list(form.fields["mentor"].queryset) == [self.mentor]
        assert form["mentor"].value() == self.mentor.pk

    @pytest.mark.parametrize("client_attr", ["theirs", "other"])
    def test_mentor_cannot_log_for_a_client_not_assigned_to_them(self, client_attr):
        person = getattr(self.case, client_attr)
        before = sessions_snapshot()
        url = reverse("client_session_new", args=[person.reference])
        assert self.client.get(url).status_code == 404
        assert self.client.post(url, session_data()).status_code == 404
        response = self.client.post(reverse("session_new"), session_data(client=person.pk))
        assert response.context["form"].errors["client"] == [
            "Select a valid choice. That choice is not one of the available choices."
        ]
        assert sessions_snapshot() == before

    def test_mentor_cannot_log_a_session_in_another_mentors_name(self):
        before = sessions_snapshot()
        url = reverse("client_session_new", args=[self.case.mine.reference])
        response = self.client.post(url, session_data(mentor=self.case.spare.pk))
        assert response.context["form"].errors["mentor"] == [
            "Select a valid choice. That choice is not one of the available choices."
        ]
        assert sessions_snapshot() == before

    def test_mentor_corrects_their_own_recent_session(self):
        url = reverse("session_edit", args=[self.case.session.pk])
        assert self.client.get(url).status_code == 200
        response = self.client.post(url, correction_data(self.case.session, duration_minutes="45"))
        assert response.status_code == 302
        self.case.session.refresh_from_db()
        assert self.case.session.duration_minutes == 45

    def test_mentor_cannot_correct_a_session_someone_else_logged(self, coordinator_a):
        session = factories.SupportSessionFactory(
            client=self.case.mine, mentor=self.mentor, date=days_ago(3), logged_by=coordinator_a
        )
        url = reverse("session_edit", args=[session.pk])
        assert self.client.get(url).status_code == 403
        assert (
            self.client.post(url, correction_data(session, duration_minutes="45")).status_code
            == 403
        )
        session.refresh_from_db()
        assert session.duration_minutes == 60

    def test_mentor_cannot_correct_their_session_after_7_days(self):
        age_session(self.case.session, 8)
        url = reverse("session_edit", args=[self.case.session.pk])
        assert self.client.get(url).status_code == 403
        assert (
            self.client.post(
                url, correction_data(self.case.session, duration_minutes="45")
            ).status_code
            == 403
        )
        self.case.session.refresh_from_db()
        assert self.case.session.duration_minutes == 60


# The form -----------------------------------------------------------------------------


class TestLogSession:
    @pytest.fixture(autouse=True)
    def signed_in(self, client, case, coordinator_a):
        client.force_login(coordinator_a)
        self.client = client
        self.case = case
        self.user = coordinator_a
        self.page_url = reverse("client_session_new", args=[case.mine.reference])
        self.before = list(SupportSession.objects.values_list("pk", flat=True))

    def saved(self):
        return new_sessions(self.before)

    def test_form_from_the_client_page_has_sensible_defaults(self, mentor_a):
        response = self.client.get(self.page_url)
        form = response.context["form"]
        assert "client" not in form.fields
        assert form["date"].value() == today()
        assert form["duration_minutes"].value() == 60
        assert form["mode"].value() == SupportSession.Mode.IN_PERSON
        assert form["attendance"].value() == SupportSession.Attendance.ATTENDED
        assert form["mentor"].value() == mentor_a.pk
        assert f'value="{dmy(today())}"' in response.content.decode()

    def test_form_from_the_client_page_offers_mentors_serving_its_borough(self, mentor_a):
        form = self.client.get(self.page_url).context["form"]
        assert set(form.fields["mentor"].queryset) == {mentor_a, self.case.spare}

    def test_sessions_new_offers_only_the_users_active_clients(self):
        form = self.client.get(reverse("session_new")).context["form"]
        assert set(form.fields["client"].queryset) == {
            self.case.mine,
            self.case.theirs,
            self.case.orphan,
        }
        assert self.case.mentor_b not in form.fields["mentor"].queryset

    def test_saving_returns_to_the_client_page_with_a_confirmation(self):
        response = self.client.post(self.page_url, session_data())
        assert response.status_code == 302
        assert response["Location"] == reverse("client_detail", args=[self.case.mine.reference])
        assert messages_of(response) == [("success", f"Session on {dmy(days_ago(2))} saved.")]

    def test_every_field_is_saved(self, mentor_a):
        area = SupportArea.objects.order_by("pk").first()
        self.client.post(self.page_url, session_data(safeguarding_concern="on"))
        session = self.saved().get()
        assert session.client == self.case.mine
        assert session.mentor == mentor_a
        assert session.date == days_ago(2)
        assert session.start_time == datetime.time(14, 30)
        assert session.duration_minutes == 90
        assert session.kind == SupportSession.Kind.PRACTICAL
        assert session.mode == SupportSession.Mode.PHONE
        assert session.attendance == SupportSession.Attendance.ATTENDED
        assert list(session.support_areas.all()) == [area]
        assert session.notes == "Talked about the housing appointment."
        assert session.safeguarding_concern is True
        assert session.logged_by == self.user

    def test_blank_mentor_means_the_clients_current_mentor(self, mentor_a):
        response = self.client.post(
            reverse("session_new"), session_data(client=self.case.theirs.pk, mentor="")
        )
        assert response.status_code == 302
        assert self.saved().get().mentor == self.case.spare

    def test_blank_mentor_for_a_client_with_no_mentor_is_a_form_error(self):
        response = self.client.post(
            reverse("session_new"), session_data(client=self.case.orphan.pk, mentor="")
        )
        assert response.status_code == 200
        message = "This client has no mentor assigned: choose one."
        assert response.context["form"].errors["mentor"] == [message]
        assert inline_errors(response, "mentor") == [message]
        assert not self.saved().exists()

    def test_chosen_mentor_is_used_for_a_client_with_no_mentor(self):
        response = self.client.post(
            reverse("session_new"),
            session_data(client=self.case.orphan.pk, mentor=self.case.spare.pk),
        )
        assert response.status_code == 302
        assert self.saved().get().mentor == self.case.spare

    def test_client_outside_the_users_scope_is_a_form_error(self):
        response = self.client.post(reverse("session_new"), session_data(client=self.case.other.pk))
        assert response.context["form"].errors["client"] == [
            "Select a valid choice. That choice is not one of the available choices."
        ]
        assert not self.saved().exists()

    @pytest.mark.parametrize("client_attr", ["referral", "closed"])
    def test_client_that_is_not_active_is_not_a_choice(self, client_attr):
        person = getattr(self.case, client_attr)
        response = self.client.post(reverse("session_new"), session_data(client=person.pk))
        assert "client" in response.context["form"].errors
        assert not self.saved().exists()

    @pytest.mark.parametrize("client_attr", ["referral", "closed"])
    def test_client_page_of_an_inactive_client_refuses_to_log(self, client_attr):
        person = getattr(self.case, client_attr)
        url = reverse("client_session_new", args=[person.reference])
        response = self.client.post(url, session_data())
        assert response.status_code == 302
        assert response["Location"] == reverse("client_detail", args=[person.reference])
        assert messages_of(response) == [
            ("error", "Sessions can only be logged for an active client.")
        ]
        assert not self.saved().exists()

    def test_mentor_not_serving_the_clients_borough_is_a_form_error(self, borough_b):
        """From /sessions/new/ the mentor list is wide; the borough rule still holds."""
        self.user.staff_profile.boroughs.add(borough_b)
        response = self.client.post(
            reverse("session_new"),
            session_data(client=self.case.mine.pk, mentor=self.case.mentor_b.pk),
        )
        assert response.context["form"].errors["mentor"] == [
            f"{self.case.mentor_b.full_name} does not work in Southwark."
        ]
        assert not self.saved().exists()

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            (
                {"duration_minutes": "4"},
                "duration_minutes",
                "A session lasts between 5 minutes and 12 hours (720).",
            ),
            (
                {"duration_minutes": "-5"},
                "duration_minutes",
                "A session lasts between 5 minutes and 12 hours (720).",
            ),
            (
                {"duration_minutes": "721"},
                "duration_minutes",
                "A session lasts between 5 minutes and 12 hours (720).",
            ),
            ({"duration_minutes": ""}, "duration_minutes", "This field is required."),
            (
                {"date": "31/05/2020"},
                "date",
                "The session is before the client's referral on 01/06/2020.",
            ),
            (
                {"date": "2020-06-31"},
                "date",
                "2020-06-31 is not a real date: check the day and the month.",
            ),
            ({"date": ""}, "date", "This field is required."),
            (
                {"mode": "CARRIER_PIGEON"},
                "mode",
                "Select a valid choice. CARRIER_PIGEON is not one of the available choices.",
            ),
        ],
        ids=[
            "4-minutes",
            "negative-minutes",
            "721-minutes",
            "no-duration",
            "before-referral",
            "not-a-date",
            "no-date",
            "unknown-mode",
        ],
    )
    def test_invalid_session_is_refused_next_to_the_field(self, overrides, field, message):
        response = self.client.post(self.page_url, session_data(**overrides))
        assert response.status_code == 200
        assert message in response.context["form"].errors[field]
        assert message in inline_errors(response, field)
        assert not self.saved().exists()

    def test_session_in_the_future_is_refused(self):
        response = self.client.post(self.page_url, session_data(date=dmy(days_ago(-1))))
        assert response.status_code == 200
        assert "This date is in the future." in response.context["form"].errors["date"]
        assert not self.saved().exists()

    def test_boundary_durations_are_accepted(self):
        for minutes in ("5", "720"):
            assert (
                self.client.post(self.page_url, session_data(duration_minutes=minutes)).status_code
                == 302
            )
        assert sorted(self.saved().values_list("duration_minutes", flat=True)) == [5, 720]

    def test_a_resubmitted_form_saves_one_session(self):
        """A double click sends the same token twice: one row, and an honest second answer."""
        data = session_data()
        # The first answer is followed, as a browser does, so its message is shown and used.
        first = self.client.post(self.page_url, data, follow=True)
        second = self.client.post(self.page_url, data)
        assert self.saved().count() == 1
        assert first.redirect_chain == [
            (reverse("client_detail", args=[self.case.mine.reference]), 302)
        ]
        assert second.status_code == 302
        assert second["Location"] == reverse("client_detail", args=[self.case.mine.reference])
        assert messages_of(second) == [
            ("info", "That session was already saved; it was not saved twice.")
        ]

    def test_a_resubmitted_form_from_sessions_new_saves_one_session(self):
        data = session_data(client=self.case.mine.pk)
        self.client.post(reverse("session_new"), data)
        self.client.post(reverse("session_new"), data)
        assert self.saved().count() == 1

    def test_each_form_shown_carries_a_new_token(self):
        first = self.client.get(self.page_url).context["form"]["submission_token"].value()
        second = self.client.get(self.page_url).context["form"]["submission_token"].value()
        assert first != second

    def test_a_missing_token_is_refused(self):
        response = self.client.post(self.page_url, session_data(submission_token=""))
        assert response.status_code == 200
        assert "submission_token" in response.context["form"].errors
        assert not self.saved().exists()


# Corrections --------------------------------------------------------------------------


class TestCorrectSession:
    @pytest.fixture(autouse=True)
    def signed_in(self, client, case, coordinator_a):
        client.force_login(coordinator_a)
        self.client = client
        self.case = case
        self.url = reverse("session_edit", args=[case.session.pk])

    def test_coordinator_corrects_a_session_a_mentor_logged(self):
        response = self.client.post(
            self.url, correction_data(self.case.session, duration_minutes="45", notes="Fixed")
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("client_detail", args=[self.case.mine.reference])
        assert messages_of(response) == [("success", "Session corrected.")]
        self.case.session.refresh_from_db()
        assert self.case.session.duration_minutes == 45
        assert self.case.session.notes == "Fixed"
        assert self.case.session.version == 2
        assert SupportSession.objects.count() == 2

    def test_correction_form_does_not_offer_another_client(self):
        form = self.client.get(self.url).context["form"]
        assert "client" not in form.fields
        assert form["duration_minutes"].value() == 60

    def test_session_logged_7_days_ago_can_still_be_corrected(self):
        age_session(self.case.session, 7)
        assert self.client.get(self.url).status_code == 200

    def test_coordinator_cannot_correct_a_session_logged_8_days_ago(self):
        age_session(self.case.session, 8)
        assert self.client.get(self.url).status_code == 403
        response = self.client.post(
            self.url, correction_data(self.case.session, duration_minutes="45")
        )
        assert response.status_code == 403
        self.case.session.refresh_from_db()
        assert self.case.session.duration_minutes == 60

    def test_admin_can_correct_an_old_session(self, client, admin_user):
        age_session(self.case.session, 60)
        client.force_login(admin_user)
        response = client.post(self.url, correction_data(self.case.session, duration_minutes="45"))
        assert response.status_code == 302
        self.case.session.refresh_from_db()
        assert self.case.session.duration_minutes == 45

    def test_invalid_correction_is_refused(self):
        response = self.client.post(
            self.url, correction_data(self.case.session, duration_minutes="721")
        )
        assert response.status_code == 200
        # One message, not the field validator's and the rule's in other words.
        assert response.context["form"].errors["duration_minutes"] == [
            "A session lasts between 5 minutes and 12 hours (720)."
        ]
        self.case.session.refresh_from_db()
        assert self.case.session.duration_minutes == 60
        assert self.case.session.version == 1

    def test_correction_from_a_stale_form_is_refused_and_the_first_kept(self):
        """Two people open version 1; the first saves; the second is told and changes nothing."""
        stale = correction_data(self.case.session)
        first = self.client.post(self.url, dict(stale, duration_minutes="45"))
        assert first.status_code == 302
        response = self.client.post(self.url, dict(stale, duration_minutes="120"))
        assert response.status_code == 200
        assert "Someone else saved this session while you were editing" in (
            response.content.decode()
        )
        self.case.session.refresh_from_db()
        assert self.case.session.duration_minutes == 45
        assert self.case.session.version == 2


def test_another_person_reusing_a_submission_token_gets_a_fresh_form_not_the_session(
    client, coordinator_a, borough_a
):
    """A replayed token from someone else neither saves nor reveals the first session."""
    from mentoring.models import StaffProfile, SupportSession

    mentor = factories.MentorFactory(home_borough=borough_a)
    active = factories.ClientFactory(borough=borough_a, active=True)
    factories.AssignmentFactory(client=active, mentor=mentor)
    url = reverse("client_session_new", args=[active.reference])
    client.force_login(coordinator_a)
    token = client.get(url).context["form"]["submission_token"].value()
    data = {
        "submission_token": token,
        "date": active.started_on.strftime("%d/%m/%Y"),
        "duration_minutes": "60",
        "kind": "BOTH",
        "mode": "IN_PERSON",
        "attendance": "ATTENDED",
    }
    assert client.post(url, data).status_code == 302
    colleague = factories.StaffProfileFactory(
        boroughs=[borough_a], role=StaffProfile.Role.COORDINATOR
    ).user
    client.force_login(colleague)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "already been used by someone else" in response.content.decode()
    assert response.context["form"]["submission_token"].value() != token
    assert SupportSession.objects.filter(client=active).count() == 1


def test_an_empty_post_is_a_bound_form_with_errors(client, coordinator_a):
    """A POST with no fields shows what is missing instead of a blank form."""
    client.force_login(coordinator_a)
    response = client.post(reverse("client_new"))
    assert response.status_code == 200
    assert response.context["form"].errors["first_name"] == ["This field is required."]
