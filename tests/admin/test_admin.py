"""The Django admin: every page answers for an admin, search works, writes keep the rules."""

import datetime
import re

import pytest
from django import forms
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mentoring.admin import AssignmentInline, PlacementInline, SearchThroughRelations
from mentoring.forms import LongSelect
from mentoring.models import (
    AccessLog,
    Assignment,
    Borough,
    Client,
    Employer,
    Funder,
    Goal,
    ImpactReportLog,
    Mentor,
    Offence,
    SafeguardingAlert,
    SupportSession,
)

from .. import factories

# The programme's records and users: the demo data holds at least one of each.
MODELS = [
    m
    for m in admin.site._registry
    if m._meta.app_label in ("mentoring", "auth")
    and m not in (AccessLog, ImpactReportLog, SafeguardingAlert)
]
# django-axes' sign-in records: empty until someone fails to sign in.
SIGN_IN_RECORDS = [m for m in admin.site._registry if m._meta.app_label == "axes"]


def admin_url(model, action, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


@pytest.mark.usefixtures("demo_data")
class TestAdminPagesWithDemoData:
    @pytest.fixture(autouse=True)
    def signed_in(self, db, client, admin_user):
        client.force_login(admin_user)
        self.client = client

    @pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.model_name)
    def test_changelist_add_and_change_pages_answer_200(self, model):
        assert self.client.get(admin_url(model, "changelist")).status_code == 200
        assert self.client.get(admin_url(model, "add")).status_code == 200
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"the demo data has no {model._meta.verbose_name}"
        assert self.client.get(admin_url(model, "change", obj.pk)).status_code == 200

    @pytest.mark.parametrize("model", SIGN_IN_RECORDS, ids=lambda m: m._meta.model_name)
    def test_sign_in_records_are_listed_for_admins(self, model):
        assert self.client.get(admin_url(model, "changelist")).status_code == 200

    def test_client_search_by_last_name(self):
        target = Client.objects.order_by("reference").first()
        response = self.client.get(admin_url(Client, "changelist"), {"q": target.last_name})
        results = list(response.context["cl"].result_list)
        assert target in results
        assert all(target.last_name.lower() in c.last_name.lower() for c in results)

    def test_client_search_by_reference(self):
        response = self.client.get(admin_url(Client, "changelist"), {"q": "SWK-00001"})
        assert [c.reference for c in response.context["cl"].result_list] == ["SWK-00001"]

    @pytest.mark.parametrize("search_ids", [0, SearchThroughRelations.SEARCH_IDS])
    @pytest.mark.parametrize(
        "model",
        [m for m, a in admin.site._registry.items() if isinstance(a, SearchThroughRelations)],
        ids=lambda m: m._meta.model_name,
    )
    def test_search_through_relations_finds_what_djangos_join_finds(
        self, model, search_ids, rf, admin_user, monkeypatch
    ):
        """
        The same rows as Django's own search (a join of every row with its client, mentor
        or employer), for single terms, several terms, a quoted phrase and no match; with
        the matching records as a list of ids and (``search_ids`` 0) as subqueries.
        """
        monkeypatch.setattr(SearchThroughRelations, "SEARCH_IDS", search_ids)
        model_admin = admin.site._registry[model]
        session = SupportSession.objects.select_related("client", "mentor").order_by("pk")[7]
        client, mentor = session.client, session.mentor
        terms = [
            client.last_name,
            client.first_name.lower(),
            client.reference,
            client.reference[:5],
            mentor.last_name,
            mentor.reference,
            f"{client.first_name} {client.last_name}",
            f'"{client.first_name} {client.last_name}"',
            f"{mentor.first_name} {client.reference}",
            "fund",
            "employ",
            "a",
            "zzzz-nobody",
        ]
        request = rf.get("/")
        request.user = admin_user
        rows = model._default_manager.all()
        found_any = False
        for term in terms:
            ours, duplicates = model_admin.get_search_results(request, rows, term)
            django, _ = super(SearchThroughRelations, model_admin).get_search_results(
                request, rows, term
            )
            assert not duplicates
            assert sorted(ours.values_list("pk", flat=True)) == sorted(
                set(django.values_list("pk", flat=True))
            ), term
            found_any |= ours.exists()
        assert found_any

    def test_sessions_are_filtered_by_date_without_listing_every_year(self):
        """No date hierarchy over every session: a date filter, and one count, not two."""
        response = self.client.get(admin_url(SupportSession, "changelist"), {"q": "a"})
        assert response.status_code == 200
        cl = response.context["cl"]
        assert cl.date_hierarchy is None
        assert cl.full_result_count is None
        titles = [spec.title for spec in cl.filter_specs]
        assert "date" in titles
        this_year = self.client.get(
            admin_url(SupportSession, "changelist"),
            {
                "date__gte": f"{timezone.localdate().year}-01-01",
                "date__lt": f"{timezone.localdate().year + 1}-01-01",
            },
        )
        assert this_year.status_code == 200
        assert this_year.context["cl"].result_list
        assert all(
            s.date.year == timezone.localdate().year for s in this_year.context["cl"].result_list
        )

    def test_client_autocomplete_finds_by_reference(self):
        response = self.client.get(
            reverse("admin:autocomplete"),
            {
                "app_label": "mentoring",
                "model_name": "assignment",
                "field_name": "client",
                "term": "DOR-0000",
            },
        )
        assert response.status_code == 200
        texts = [r["text"] for r in response.json()["results"]]
        assert texts and all(t.startswith("DOR-0000") for t in texts)

    def test_borough_list_counts_its_clients(self):
        """Each borough's columns equal a count of its clients, and sort by it."""
        for order in ("", "-6", "7"):  # unsorted; by active clients, down; by all, up
            response = self.client.get(admin_url(Borough, "changelist"), {"o": order})
            rows = list(response.context["cl"].result_list)
            assert len(rows) == Borough.objects.count()
            for borough in rows:
                clients = Client.objects.filter(borough=borough)
                assert borough.clients_total_count == clients.count()
                assert borough.active_clients_count == clients.filter(status="ACTIVE").count()
        assert [b.clients_total_count for b in rows] == sorted(b.clients_total_count for b in rows)
        assert any(b.clients_total_count for b in rows)

    def test_goal_list_shows_the_newest_goals_first(self):
        """Goals newest set first (ties by newest record), as the other records' lists."""
        response = self.client.get(admin_url(Goal, "changelist"))
        rows = list(response.context["cl"].result_list)
        assert len(rows) > 1
        assert rows == sorted(rows, key=lambda g: (g.set_on, g.pk), reverse=True)
        newest = Goal.objects.order_by("-set_on", "-pk")[0]
        assert rows[0] == newest

    def test_mentor_list_shows_open_caseloads(self):
        """Each mentor's caseload column counts open assignments only, and sorts by them."""
        mentor = Mentor.objects.order_by("pk").first()
        factories.AssignmentFactory(
            mentor=mentor, ended_on=timezone.localdate(), end_reason="OTHER"
        )
        for order in ("", "-4"):
            response = self.client.get(admin_url(Mentor, "changelist"), {"o": order})
            rows = list(response.context["cl"].result_list)
            assert len(rows) == Mentor.objects.count()
            for m in rows:
                assert m.open_caseload == m.assignments.filter(ended_on__isnull=True).count()
        assert [m.open_caseload for m in rows] == sorted(
            (m.open_caseload for m in rows), reverse=True
        )
        assert rows[0].open_caseload > 0

    def test_mentor_list_filters_by_vetting_check(self):
        """'Missing or due' and 'Current' split the mentors as the mentor list's filter does."""
        due = set(Mentor.objects.vetting_not_current(timezone.localdate()))
        assert due and len(due) < Mentor.objects.count()  # the demo has both
        url = admin_url(Mentor, "changelist")
        listed = {}
        for value in ("due", "current"):
            response = self.client.get(url, {"vetting": value, "all": ""})
            listed[value] = set(response.context["cl"].result_list)
        assert listed["due"] == due
        assert listed["current"] == set(Mentor.objects.all()) - due

    def test_changelist_filters_answer_200(self):
        url = admin_url(Client, "changelist")
        for params in [
            {"status__exact": "ACTIVE"},
            {"borough__id__exact": Borough.objects.get(code="SWK").pk},
            {"risk_level__exact": "HIGH"},
            {"referred_on__year": "2012"},
            {"known_twice": "yes"},
        ]:
            assert self.client.get(url, params).status_code == 200
        assert (
            self.client.get(admin_url(Assignment, "changelist"), {"open": "yes"}).status_code == 200
        )


def management_data(response):
    """The hidden management-form fields of every inline on an admin form page."""
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name, field in management.fields.items():
            value = management.initial.get(name, field.initial)
            data[f"{management.prefix}-{name}"] = "" if value is None else value
    return data


def filled_in(response):
    """An admin change page's form and inline rows as the browser would post them unchanged."""
    data = management_data(response)
    forms_on_page = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms_on_page += inline.formset.forms
    for form in forms_on_page:
        for name, field in form.fields.items():
            value = form[name].value()
            if isinstance(field, forms.BooleanField):
                if value:
                    data[form.add_prefix(name)] = "on"
            elif isinstance(value, list | tuple):
                data[form.add_prefix(name)] = [getattr(v, "pk", v) for v in value]
            elif isinstance(value, datetime.date):
                data[form.add_prefix(name)] = value.strftime("%d/%m/%Y")
            elif value is not None:
                data[form.add_prefix(name)] = getattr(value, "pk", value)
    return data


def client_post_data(response, borough, **overrides):
    data = management_data(response)
    data.update(
        first_name="Kyle",
        last_name="Testcase",
        date_of_birth="01/03/2004",
        gender="MALE",
        borough=borough.pk,
        referral_source="PROBATION",
        referred_on="15/09/2024",
        risk_level="MEDIUM",
        status="REFERRED",
    )
    data.update(overrides)
    return data


class TestAdminWrites:
    @pytest.fixture(autouse=True)
    def signed_in(self, client, admin_user, borough_a):
        client.force_login(admin_user)
        self.client = client
        self.borough = borough_a
        self.add_url = admin_url(Client, "add")
        self.form_page = client.get(self.add_url)

    def test_adding_a_client_gives_a_reference_from_the_borough_code(self, admin_user):
        response = self.client.post(self.add_url, client_post_data(self.form_page, self.borough))
        assert response.status_code == 302, response.context["adminform"].form.errors
        new = Client.objects.get(last_name="Testcase")
        assert new.reference == "SWK-00001"
        assert new.created_by == admin_user
        assert new.date_of_birth.isoformat() == "2004-03-01"

    def test_out_of_range_age_needs_confirmation_then_saves(self):
        data = client_post_data(self.form_page, self.borough, date_of_birth="01/01/2010")
        response = self.client.post(self.add_url, data)
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert "was 14 when referred" in errors["confirm_outside_target_age"][0]
        assert not Client.objects.exists()
        data["confirm_outside_target_age"] = "on"
        assert self.client.post(self.add_url, data).status_code == 302
        assert Client.objects.filter(last_name="Testcase").exists()

    def test_a_young_person_already_on_record_in_any_borough_needs_confirmation(self, borough_b):
        """The admin reaches every borough, so the look for the same person covers them all."""
        known = factories.ClientFactory(
            borough=borough_b,
            first_name="Kyle",
            last_name="Other",
            date_of_birth=datetime.date(2004, 3, 1),
            referred_on=datetime.date(2023, 5, 2),
        )
        data = client_post_data(self.form_page, self.borough)
        response = self.client.post(self.add_url, data)
        assert response.status_code == 200
        [error] = response.context["adminform"].form.errors["confirm_new_person"]
        assert f"{known.reference} Kyle Other (referred, {borough_b.name})" in error
        assert 'type="checkbox" name="confirm_new_person"' in response.content.decode()
        assert Client.objects.count() == 1
        data["confirm_new_person"] = "on"
        assert self.client.post(self.add_url, data).status_code == 302
        assert Client.objects.filter(last_name="Testcase").exists()

    def test_constraint_breach_is_a_form_error_not_a_500(self):
        data = client_post_data(
            self.form_page, self.borough, status="CLOSED", started_on="01/10/2024"
        )
        response = self.client.post(self.add_url, data)
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert errors["closure_reason"] == ["Give a reason for closing the case."]
        assert errors["ended_on"] == ["A closed case needs the date it ended."]
        assert not Client.objects.exists()

    @pytest.mark.parametrize("model", ["offence", "milestone", "session", "goal", "placement"])
    def test_an_admin_change_raises_the_records_version(self, model):
        """A coordinator's form opened before an admin's correction is then refused."""
        active = factories.ClientFactory(borough=self.borough, active=True)
        record = {
            "offence": lambda: factories.OffenceFactory(client=active),
            "milestone": lambda: factories.MilestoneFactory(client=active),
            "session": lambda: factories.SupportSessionFactory(client=active),
            "goal": lambda: factories.GoalFactory(client=active),
            "placement": lambda: factories.PlacementFactory(client=active),
        }[model]()
        url = admin_url(type(record), "change", record.pk)
        data = filled_in(self.client.get(url))
        changed = {
            "offence": "notes",
            "milestone": "evidence",
            "session": "notes",
            "goal": "description",
            "placement": "notes",
        }[model]
        data[changed] = "Corrected by the admin"
        response = self.client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        record.refresh_from_db()
        assert getattr(record, changed) == "Corrected by the admin"
        assert record.version == 2

    def test_an_offence_changed_inline_on_the_client_raises_its_version(self):
        active = factories.ClientFactory(borough=self.borough, active=True)
        offence = factories.OffenceFactory(client=active, disposal="PENDING", outcome_date=None)
        url = admin_url(Client, "change", active.pk)
        page = self.client.get(url)
        data = filled_in(page)
        inlines = page.context["inline_admin_formsets"]
        [row] = next(i.formset.forms for i in inlines if i.opts.model is Offence)
        prefix = row.prefix
        data.update({f"{prefix}-disposal": "CAUTION", f"{prefix}-outcome_date": "01/04/2019"})
        response = self.client.post(url, data)
        assert response.status_code == 302, response.context["errors"]
        offence.refresh_from_db()
        assert (offence.disposal, offence.version) == ("CAUTION", 2)

    def test_session_added_inline_records_who_logged_it(self, admin_user):
        active = factories.ClientFactory(borough=self.borough, active=True)
        mentor = factories.MentorFactory(home_borough=self.borough)
        url = admin_url(Client, "change", active.pk)
        page = self.client.get(url)
        data = management_data(page)
        data.update(
            {
                field: page.context["adminform"].form[field].value() or ""
                for field in page.context["adminform"].form.fields
                if field not in ("needs",)
            }
        )
        data.update(
            first_name=active.first_name,
            date_of_birth=active.date_of_birth.strftime("%d/%m/%Y"),
            referred_on=active.referred_on.strftime("%d/%m/%Y"),
            started_on=active.started_on.strftime("%d/%m/%Y"),
        )
        prefix = next(
            i.formset.prefix
            for i in page.context["inline_admin_formsets"]
            if i.opts.verbose_name == "new support session"
        )
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "1",
                f"{prefix}-0-date": active.started_on.strftime("%d/%m/%Y"),
                f"{prefix}-0-duration_minutes": "60",
                f"{prefix}-0-mentor": mentor.pk,
                f"{prefix}-0-kind": "BOTH",
                f"{prefix}-0-mode": "IN_PERSON",
                f"{prefix}-0-attendance": "ATTENDED",
            }
        )
        response = self.client.post(url, data)
        assert response.status_code == 302, response.context["errors"]
        session = SupportSession.objects.get(client=active)
        assert session.logged_by == admin_user
        active.refresh_from_db()
        assert active.version == 2

    def test_adding_a_mentor_gives_a_reference(self):
        response = self.client.post(
            admin_url(Mentor, "add"),
            {
                "first_name": "Andre",
                "last_name": "Peer",
                "home_borough": self.borough.pk,
                "lived_experience": "on",
                "started_on": "01/02/2020",
                "max_caseload": "8",
            },
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert Mentor.objects.get(last_name="Peer").reference == "M-SWK-001"

    def post_mentor_end(self, mentor, ended_on):
        return self.client.post(
            admin_url(Mentor, "change", mentor.pk),
            {
                "first_name": mentor.first_name,
                "last_name": mentor.last_name,
                "home_borough": mentor.home_borough_id,
                "started_on": mentor.started_on.strftime("%d/%m/%Y"),
                "ended_on": ended_on.strftime("%d/%m/%Y"),
                "max_caseload": mentor.max_caseload,
            },
            follow=True,
        )

    def test_a_mentor_who_leaves_hands_their_clients_back_to_the_coordinators(self):
        mentor = factories.MentorFactory(home_borough=self.borough, last_name="Leaving")
        clients = [factories.ClientFactory(borough=self.borough, active=True) for _ in range(2)]
        for person in clients:
            factories.AssignmentFactory(client=person, mentor=mentor)
        left = timezone.localdate() - datetime.timedelta(days=1)
        response = self.post_mentor_end(mentor, left)
        assert response.status_code == 200
        assert (
            f"{mentor.full_name} has left: 2 open assignments ended on {left:%d/%m/%Y}. "
            "Those clients now wait for a new mentor on their coordinators' home page."
        ) in [str(m) for m in response.context["messages"]]
        ended = Assignment.objects.filter(mentor=mentor)
        assert {(a.ended_on, a.end_reason) for a in ended} == {(left, "MENTOR_LEFT")}
        waiting = Client.objects.filter(status=Client.Status.ACTIVE).without_mentor()
        assert set(waiting) == set(clients)

    def test_a_mentor_cannot_leave_before_a_client_they_still_have_started(self):
        mentor = factories.MentorFactory(home_borough=self.borough)
        person = factories.ClientFactory(borough=self.borough, active=True)
        factories.AssignmentFactory(client=person, mentor=mentor)
        start = Assignment.objects.get(mentor=mentor).started_on
        response = self.post_mentor_end(mentor, start - datetime.timedelta(days=1))
        assert response.context["adminform"].form.errors["ended_on"] == [
            f"{mentor.full_name} started with {person.reference} on {start:%d/%m/%Y}, after "
            "this date: reassign that client first, or give a later date."
        ]
        assert Assignment.objects.get(mentor=mentor).ended_on is None

    def test_a_leaving_date_still_to_come_waits_while_they_have_clients(self):
        mentor = factories.MentorFactory(home_borough=self.borough)
        factories.AssignmentFactory(
            client=factories.ClientFactory(borough=self.borough, active=True), mentor=mentor
        )
        response = self.post_mentor_end(mentor, timezone.localdate() + datetime.timedelta(days=7))
        assert (
            "still has clients: enter the date on or after the day they leave"
            in (response.context["adminform"].form.errors["ended_on"][0])
        )
        mentor.refresh_from_db()
        assert mentor.ended_on is None


@pytest.mark.parametrize("user_fixture", ["coordinator_a", "manager", "mentor_a"])
def test_programme_staff_are_kept_out_of_the_admin(client, request, user_fixture):
    user = request.getfixturevalue(user_fixture)
    client.force_login(user if hasattr(user, "is_staff") else user.user)
    response = client.get(admin_url(Client, "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


class TestAccessLogAdmin:
    """Admins can read the access log; nobody can add, change or delete entries there."""

    @pytest.fixture(autouse=True)
    def entry(self, client, admin_user, coordinator_a, borough_a):
        record = factories.ClientFactory(borough=borough_a)
        client.force_login(coordinator_a)
        assert client.get(reverse("client_detail", args=[record.reference])).status_code == 200
        client.force_login(admin_user)
        self.client = client
        self.entry = AccessLog.objects.get()

    def test_admin_reads_the_log(self):
        response = self.client.get(admin_url(AccessLog, "changelist"))
        assert response.status_code == 200
        assert self.entry.client_reference in response.content.decode()
        assert self.client.get(admin_url(AccessLog, "change", self.entry.pk)).status_code == 200

    def test_admin_cannot_add_change_or_delete_entries(self):
        assert self.client.get(admin_url(AccessLog, "add")).status_code == 403
        change = admin_url(AccessLog, "change", self.entry.pk)
        self.client.post(change, {"username": "someone-else", "action": "PRINT"})
        assert self.client.post(admin_url(AccessLog, "delete", self.entry.pk)).status_code == 403
        self.entry.refresh_from_db()
        assert self.entry.username == "coord_a"
        assert AccessLog.objects.count() == 1


class TestImpactReportLogAdmin:
    """The log of impact reports made is read like the access log, and never changed."""

    @pytest.fixture(autouse=True)
    def entry(self, client, admin_user, manager):
        client.force_login(manager)
        report = client.get(
            reverse("impact_report"), {"scope": "network", "from": "01/04/2024", "to": "31/03/2025"}
        )
        assert report.status_code == 200
        client.force_login(admin_user)
        self.client = client
        self.entry = ImpactReportLog.objects.get()

    def test_admin_reads_the_log(self):
        response = self.client.get(admin_url(ImpactReportLog, "changelist"))
        assert response.status_code == 200
        assert self.entry.username in response.content.decode()
        change = admin_url(ImpactReportLog, "change", self.entry.pk)
        assert self.client.get(change).status_code == 200

    def test_admin_cannot_add_change_or_delete_entries(self):
        assert self.client.get(admin_url(ImpactReportLog, "add")).status_code == 403
        change = admin_url(ImpactReportLog, "change", self.entry.pk)
        self.client.post(change, {"username": "someone-else", "format": "JSON"})
        delete = admin_url(ImpactReportLog, "delete", self.entry.pk)
        assert self.client.post(delete).status_code == 403
        self.entry.refresh_from_db()
        assert (self.entry.username, self.entry.format) == ("manager", "HTML")
        assert ImpactReportLog.objects.count() == 1


class TestSafeguardingAlertAdmin:
    """Admins read which safeguarding e-mails went and which failed; nobody edits them."""

    @pytest.fixture(autouse=True)
    def alert(self, client, admin_user, borough_a):
        session = factories.SupportSessionFactory(
            client=factories.ClientFactory(borough=borough_a), safeguarding_concern=True
        )
        self.alert = SafeguardingAlert.objects.create(
            session=session, kind=SafeguardingAlert.Kind.ALERT, error="SMTPException: down"
        )
        client.force_login(admin_user)
        self.client = client

    def test_admin_sees_a_failed_alert(self):
        response = self.client.get(admin_url(SafeguardingAlert, "changelist"))
        assert response.status_code == 200
        assert "SMTPException: down" in response.content.decode()
        failed = self.client.get(
            admin_url(SafeguardingAlert, "changelist"), {"sent_at__isempty": "1"}
        )
        assert self.alert in failed.context["cl"].result_list

    def test_nobody_adds_changes_or_deletes_alerts(self):
        assert self.client.get(admin_url(SafeguardingAlert, "add")).status_code == 403
        delete = admin_url(SafeguardingAlert, "delete", self.alert.pk)
        assert self.client.post(delete).status_code == 403
        assert SafeguardingAlert.objects.count() == 1


# Change pages with many rows --------------------------------------------------------


def add_rows(person, employer, funder, n):
    """``n`` more of every record a client's, an employer's, a funder's and a borough's
    change pages list: assignments (ended), sessions, offences, milestones, goals,
    placements, grants and mentors."""
    for _ in range(n):
        mentor = factories.MentorFactory(home_borough=person.borough)
        factories.AssignmentFactory(
            client=person, mentor=mentor, ended_on=person.started_on, end_reason="OTHER"
        )
        factories.SupportSessionFactory(client=person, mentor=mentor, date=person.started_on)
        factories.OffenceFactory(client=person)
        factories.MilestoneFactory(client=person, achieved_on=person.started_on)
        factories.GoalFactory(client=person)
        factories.PlacementFactory(client=person, employer=employer)
        factories.GrantFactory(funder=funder, borough=person.borough)


@pytest.mark.parametrize("page", ["client", "employer", "funder", "borough"])
def test_change_pages_run_a_fixed_number_of_queries(
    client, admin_user, borough_a, page, django_assert_num_queries
):
    """2 rows of each inline or 8: the same queries (a row's records come with it)."""
    person = factories.ClientFactory(borough=borough_a, active=True)
    employer, funder = factories.EmployerFactory(), factories.FunderFactory()
    url = {
        "client": admin_url(Client, "change", person.pk),
        "employer": admin_url(Employer, "change", employer.pk),
        "funder": admin_url(Funder, "change", funder.pk),
        "borough": admin_url(Borough, "change", borough_a.pk),
    }[page]
    client.force_login(admin_user)
    add_rows(person, employer, funder, 2)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add_rows(person, employer, funder, 6)
    with django_assert_num_queries(len(few)):
        response = client.get(url)
    shown = sum(len(i.formset.forms) for i in response.context["inline_admin_formsets"])
    assert shown >= 8


def test_client_page_lists_the_latest_sessions_and_links_to_all(client, admin_user, borough_a):
    person = factories.ClientFactory(borough=borough_a, active=True)
    mentor = factories.MentorFactory(home_borough=borough_a)
    dates = [person.started_on + timezone.timedelta(days=n) for n in range(25)]
    for day in dates:
        factories.SupportSessionFactory(client=person, mentor=mentor, date=day)
    client.force_login(admin_user)
    body = client.get(admin_url(Client, "change", person.pk)).content.decode()
    shown = [f"{day:%d/%m/%Y}" for day in reversed(dates)]
    positions = [body.find(day) for day in shown[:20]]
    assert -1 not in positions and positions == sorted(positions)  # newest first
    assert shown[20] not in body
    assert f"All 25 sessions of {person.reference}" in body
    assert f'?q=%22{person.reference}%22"' in body


class TestRecordsOfOnePerson:
    """
    A coordinator's duplicate check sees only their boroughs; the admin finds records that
    may be one young person's across all of them, and each client page names the others.
    """

    @pytest.fixture(autouse=True)
    def records(self, client, admin_user, borough_a, borough_b):
        client.force_login(admin_user)
        self.client = client
        born = datetime.date(2004, 3, 1)

        def person(borough, first, last, date_of_birth=born):
            return factories.ClientFactory(
                borough=borough, first_name=first, last_name=last, date_of_birth=date_of_birth
            )

        self.kai = person(borough_a, "Kai", "Brown")
        self.other_borough = person(borough_b, "KAI", "Smith")  # first name, any case
        self.same_surname = person(borough_a, "Zed", "brown")  # last name
        self.another_birthday = person(borough_a, "Kai", "Brown", born.replace(day=2))
        self.no_birth_date = person(borough_b, "Kai", "Brown", None)  # as anonymised
        self.stranger = person(borough_b, "Ann", "Lee")

    def test_the_list_filter_finds_every_record_sharing_a_birth_date_and_a_name(self):
        response = self.client.get(admin_url(Client, "changelist"), {"known_twice": "yes"})
        assert set(response.context["cl"].result_list) == {
            self.kai,
            self.other_borough,
            self.same_surname,
        }

    def test_the_client_page_names_the_others_in_every_borough_with_links(self):
        body = self.client.get(admin_url(Client, "change", self.kai.pk)).content.decode()
        section = body[body.index("Other records with this birth date") :]
        for other in (self.other_borough, self.same_surname):
            link = admin_url(Client, "change", other.pk)
            assert f'<a href="{link}">{other.reference}</a>' in section
        for unrelated in (self.kai, self.another_birthday, self.no_birth_date, self.stranger):
            assert f"{unrelated.reference}</a>" not in section
        body = self.client.get(admin_url(Client, "change", self.stranger.pk)).content.decode()
        assert "Other records with this birth date" in body
        assert self.kai.reference not in body


@pytest.mark.parametrize(
    "inline_class, name", [(AssignmentInline, "mentor"), (PlacementInline, "employer")]
)
def test_inline_rows_draw_their_autocomplete_from_the_record_they_hold(
    rf, admin_user, borough_a, inline_class, name
):
    """The same HTML as Django's lookup, without the query; another value is looked up."""
    person = factories.ClientFactory(borough=borough_a, active=True)
    factories.AssignmentFactory(client=person)
    factories.PlacementFactory(client=person)
    request = rf.get("/")
    request.user = admin_user
    inline = inline_class(Client, admin.site)
    formset = inline.get_formset(request, person)(
        instance=person, queryset=inline.get_queryset(request), prefix="rows"
    )
    form = formset.forms[0]
    widget = form.fields[name].widget.widget
    held = getattr(form.instance, name)
    with CaptureQueriesContext(connection) as drawing:
        from_record = str(form[name])
    assert widget.known == held and len(drawing) == 0
    widget.known = None
    with CaptureQueriesContext(connection) as drawing:
        assert str(form[name]) == from_record
    assert len(drawing) == 1
    assert str(held) in from_record
    # A record that is not the value is not drawn: the value is looked up.
    widget.known = type(held).objects.exclude(pk=held.pk).first() or factories.MentorFactory()
    assert str(form[name]) == from_record


def _without_per_response_values(html):
    """A page's HTML without its CSRF tokens and CSP nonces, new on every response."""
    return re.sub(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]*"', "", html)


@pytest.mark.parametrize("page", ["client", "goal", "offence", "funder"])
def test_drop_down_lists_are_drawn_by_long_select_as_django_draws_them(
    client, admin_user, borough_a, monkeypatch, page
):
    """
    The admin's lists of choices and of records (an offence's type, a milestone's kind, a
    goal's support area, a funder's kind) come from LongSelect, and each page is the same
    HTML, byte for byte, as with Django's own Select.
    """
    person = factories.ClientFactory(borough=borough_a, active=True, last_name="O'Neil & <Co>")
    for _ in range(2):
        factories.OffenceFactory(client=person)
        factories.MilestoneFactory(client=person)
        factories.GoalFactory(client=person)
    grant = factories.GrantFactory(borough=borough_a)
    url = {
        "client": admin_url(Client, "change", person.pk),
        "goal": admin_url(Goal, "change", person.goals.first().pk),
        "offence": admin_url(Offence, "change", person.offences.first().pk),
        "funder": admin_url(Funder, "change", grant.funder.pk),
    }[page]
    client.force_login(admin_user)
    response = client.get(url)
    forms_shown = [response.context["adminform"].form] + [
        form for inline in response.context["inline_admin_formsets"] for form in inline.formset
    ]
    widgets = [
        getattr(field.widget, "widget", field.widget)  # inside a related-record wrapper
        for form in forms_shown
        for field in form.fields.values()
    ]
    lists = [
        w
        for w in widgets
        if type(w) in (forms.Select, LongSelect)  # not autocompletes or multiple choices
    ]
    assert lists and all(type(w) is LongSelect for w in lists)
    ours = _without_per_response_values(response.content.decode())
    monkeypatch.setattr(LongSelect, "render", forms.Select.render)
    assert _without_per_response_values(client.get(url).content.decode()) == ours
