"""
Dates typed on a phone keypad, and forms whose errors cannot be missed: every date box
reads the same forms, refuses days that do not exist, and a form with errors starts with a
summary that links to each field.
"""

import inspect
from datetime import date

import pytest
from django import forms
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from mentoring import forms as mentoring_forms
from mentoring.dates import DayField, NotADay, parse_day
from mentoring.models import Client

from .. import factories
from ..views.test_clients import referral_data


@pytest.mark.parametrize(
    "text",
    ["05/07/2007", "5/7/2007", "05072007", "05-07-2007", "5-7-2007", "05.07.2007", "2007-07-05"],
)
def test_every_accepted_form_reads_the_same_day(text):
    assert parse_day(text) == date(2007, 7, 5)
    assert parse_day(f"  {text} ") == date(2007, 7, 5)


def test_a_leap_day_is_a_day_only_in_a_leap_year():
    assert parse_day("29/02/2024") == date(2024, 2, 29)
    assert parse_day("29022024") == date(2024, 2, 29)
    with pytest.raises(NotADay, match="29/02/2025 is not a real date"):
        parse_day("29/02/2025")


@pytest.mark.parametrize(
    "text, message",
    [
        ("31/02/2026", "31/02/2026 is not a real date"),
        ("31022026", "31/02/2026 is not a real date"),
        ("31-04-2026", "31-04-2026 is not a real date"),
        ("2026-02-30", "2026-02-30 is not a real date"),
        # Seven digits could be 1/12/2007 or 11/2/2007: never guessed.
        ("1122007", "eight digits DDMMYYYY"),
        ("050720071", "eight digits DDMMYYYY"),
        ("05/13/2007", "Type the date as DD/MM/YYYY"),
        ("next week", "Type the date as DD/MM/YYYY"),
        ("٠٥٠٧٢٠٠٧", "Type the date as DD/MM/YYYY"),
    ],
)
def test_what_is_no_date_is_refused_with_a_reason(text, message):
    with pytest.raises(NotADay, match=message):
        parse_day(text)


def test_a_day_field_shows_an_example_and_keeps_its_own_help():
    assert "31032025" in DayField().help_text
    field = DayField(help_text="Only if support started in custody.")
    assert field.help_text.startswith("Only if support started in custody.")
    assert "31032025" in field.help_text


def _date_fields(form_class):
    return {
        name: field
        for name, field in form_class.base_fields.items()
        if isinstance(field, forms.DateField)
    }


def test_every_date_box_of_the_coordinators_pages_is_a_day_field():
    form_classes = [
        cls
        for _name, cls in inspect.getmembers(mentoring_forms, inspect.isclass)
        if issubclass(cls, forms.BaseForm) and cls.__module__ == mentoring_forms.__name__
    ]
    checked = 0
    for form_class in form_classes:
        for name, field in _date_fields(form_class).items():
            assert isinstance(field, DayField), f"{form_class.__name__}.{name}"
            checked += 1
    # Referral, start, close, transfer, assignment, session, offence, milestone, goal...
    assert checked >= 15


@pytest.mark.django_db
def test_every_date_box_of_the_admin_is_a_day_field(admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    checked = 0
    for model_admin in admin.site._registry.values():
        form_classes = [model_admin.get_form(request)]
        form_classes += [
            inline.get_formset(request).form for inline in model_admin.get_inline_instances(request)
        ]
        for form_class in form_classes:
            for name, field in _date_fields(form_class).items():
                assert isinstance(field, DayField), f"{model_admin}.{name}"
                checked += 1
    assert checked >= 20


@pytest.mark.django_db
class TestDatesTypedOnAPhone:
    def test_a_referral_takes_dates_typed_as_digits_dashes_and_dots(self, client, coordinator_a):
        client.force_login(coordinator_a)
        borough = coordinator_a.staff_profile.boroughs.get()
        response = client.post(
            reverse("client_new"),
            referral_data(
                borough,
                date_of_birth="01032004",
                referred_on="15-09-2024",
                consent_recorded_on="15.09.2024",
            ),
        )
        assert response.status_code == 302, response.context["form"].errors
        kai = Client.objects.get(last_name="Brown")
        assert kai.date_of_birth == date(2004, 3, 1)
        assert kai.referred_on == date(2024, 9, 15)
        assert kai.consent_recorded_on == date(2024, 9, 15)

    def test_the_admin_takes_a_date_typed_as_eight_digits(self, client, admin_user, borough_a):
        kai = factories.ClientFactory(borough=borough_a, active=True)
        client.force_login(admin_user)
        url = reverse("admin:mentoring_offence_add")
        response = client.post(
            url,
            {
                "client": kai.pk,
                "offence_date": "05072025",
                "offence_type": "THEFT",
                "disposal": "PENDING",
                "source": "POLICE",
            },
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert kai.offences.get().offence_date == date(2025, 7, 5)


@pytest.mark.django_db
class TestErrorSummary:
    def test_a_form_with_errors_starts_with_a_summary_linking_to_each_field(
        self, client, coordinator_a
    ):
        client.force_login(coordinator_a)
        response = client.post(
            reverse("client_new"), {"first_name": "", "date_of_birth": "31/02/2004"}
        )
        assert response.status_code == 200
        page = response.content.decode()
        assert "<title>Error: " in page
        form_starts = page.index('<form method="post" novalidate')
        summary = page[page.index("data-error-summary") : form_starts]
        assert "There is a problem" in summary
        assert 'href="#id_first_name"' in summary
        assert 'href="#id_date_of_birth"' in summary
        assert "31/02/2004 is not a real date" in summary
        # Every field in error is linked, and the links lead to boxes on the page.
        errors = response.context["form"].errors
        assert len(errors) >= 4
        for name in errors:
            if name != "__all__":
                assert f'id="id_{name}' in page

    def test_a_form_without_errors_has_no_summary(self, client, coordinator_a):
        client.force_login(coordinator_a)
        page = client.get(reverse("client_new")).content.decode()
        assert "data-error-summary" not in page
        assert "<title>Error: " not in page

    def test_a_tampered_hidden_field_is_named_and_nothing_is_written(
        self, client, coordinator_a, borough_a
    ):
        kai = factories.ClientFactory(borough=borough_a, active=True, first_name="Kai")
        client.force_login(coordinator_a)
        url = reverse("client_edit", args=[kai.reference])
        form = client.get(url).context["form"]
        data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
        data.update(first_name="Kaiden", version="not a number", date_of_birth="01/03/2004")
        data["needs"] = [need.pk for need in kai.needs.all()]
        response = client.post(url, data)
        assert response.status_code == 200
        page = response.content.decode()
        assert "This form was changed outside this page" in page
        assert "<title>Error: " in page
        kai.refresh_from_db()
        assert kai.first_name == "Kai"
