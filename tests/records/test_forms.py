"""
The admin forms' confirmable warnings (age outside 16-25, mentor over capacity) and the
readable form of the one-open-assignment constraint.
"""

import datetime

import pytest
from django import forms
from django.utils.safestring import SafeString

from mentoring.forms import AssignmentAdminForm, ClientAdminForm, LongSelect, SupportSessionForm
from mentoring.models import Assignment, Client
from mentoring.services import client_save

from .. import factories

REFERRED_ON = datetime.date(2020, 6, 15)


def client_data(borough, date_of_birth, **extra):
    """What a coordinator types for a new referral, dates as DD/MM/YYYY."""
    return {
        "first_name": "Kai",
        "last_name": "Brown",
        "date_of_birth": date_of_birth.strftime("%d/%m/%Y"),
        "gender": Client.Gender.MALE,
        "borough": borough.pk,
        "referral_source": Client.ReferralSource.YOUTH_OFFENDING_TEAM,
        "referred_on": REFERRED_ON.strftime("%d/%m/%Y"),
        "risk_level": Client.RiskLevel.MEDIUM,
        "status": Client.Status.REFERRED,
        **extra,
    }


def outside_age_message(age):
    return (
        f"This client was {age} when referred, outside the programme's target age of 16 to 25. "
        "Tick the box to confirm the referral anyway."
    )


# Born so that on REFERRED_ON (15/06/2020) the client is exactly this age.
BORN_FOR_AGE = {
    15: datetime.date(2004, 6, 16),  # 16th birthday is the day after referral
    16: datetime.date(2004, 6, 15),
    25: datetime.date(1994, 6, 16),  # 26th birthday is the day after referral
    26: datetime.date(1994, 6, 15),
}


@pytest.mark.django_db
@pytest.mark.parametrize("age", [15, 26])
def test_client_outside_target_age_needs_confirmation(borough_a, age):
    """Aged 15 or 26 at referral: the form stops on the confirmation box and names the age."""
    form = ClientAdminForm(data=client_data(borough_a, BORN_FOR_AGE[age]))
    assert not form.is_valid()
    assert form.errors == {"confirm_outside_target_age": [outside_age_message(age)]}
    assert isinstance(form.fields["confirm_outside_target_age"].widget, forms.CheckboxInput)
    with pytest.raises(ValueError, match="didn't validate"):
        form.save()
    assert not Client.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("age", [15, 26])
def test_confirmed_client_outside_target_age_is_saved(borough_a, coordinator_a, age):
    """Ticking the box accepts the referral, which is then saved with a reference."""
    form = ClientAdminForm(
        data=client_data(borough_a, BORN_FOR_AGE[age], confirm_outside_target_age="on")
    )
    assert form.is_valid(), form.errors
    client = client_save(client=form.save(commit=False), by=coordinator_a)
    assert Client.objects.get().pk == client.pk
    assert client.reference == "SWK-00001"
    assert client.age_at_referral == age


@pytest.mark.django_db
@pytest.mark.parametrize("age", [16, 25])
def test_client_at_edge_of_target_age_needs_no_confirmation(borough_a, age):
    """16 and 25 are inside the target age: no warning, no box to tick."""
    form = ClientAdminForm(data=client_data(borough_a, BORN_FOR_AGE[age]))
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_unbound_client_form_hides_confirmation_box():
    """An empty form shows no confirmation box until a warning applies."""
    form = ClientAdminForm()
    assert isinstance(form.fields["confirm_outside_target_age"].widget, forms.HiddenInput)
    assert 'type="hidden" name="confirm_outside_target_age"' in str(
        form["confirm_outside_target_age"]
    )


@pytest.mark.django_db
def test_client_form_redisplayed_for_other_errors_keeps_confirmation_box_hidden(borough_a):
    """
    A 19-year-old's form sent back for a missing surname shows no age confirmation box:
    the box is "only shown while its warning applies" (ConfirmWarningsMixin).
    """
    data = client_data(borough_a, datetime.date(2001, 3, 1), last_name="")
    form = ClientAdminForm(data=data)
    assert form.errors == {"last_name": ["This field is required."]}
    assert isinstance(form.fields["confirm_outside_target_age"].widget, forms.HiddenInput)


@pytest.fixture
def busy_mentor(borough_a):
    """A mentor with a maximum caseload of 2 and two open clients."""
    mentor = factories.MentorFactory(
        first_name="Andre", last_name="Lewis", home_borough=borough_a, max_caseload=2
    )
    factories.AssignmentFactory.create_batch(2, mentor=mentor, client__borough=borough_a)
    return mentor


def assignment_data(client, mentor, **extra):
    return {
        "client": client.pk,
        "mentor": mentor.pk,
        "started_on": client.started_on.strftime("%d/%m/%Y"),
        **extra,
    }


@pytest.mark.django_db
def test_mentor_at_capacity_needs_confirmation(southwark_client, busy_mentor):
    """A third client for a mentor with a maximum of 2 stops on the confirmation box."""
    form = AssignmentAdminForm(data=assignment_data(southwark_client, busy_mentor))
    assert not form.is_valid()
    assert form.errors == {
        "confirm_over_capacity": [
            "Andre Lewis already has 2 open clients (maximum 2). Tick the box to assign anyway."
        ]
    }
    assert not southwark_client.assignments.exists()


@pytest.mark.django_db
def test_mentor_without_a_current_vetting_check_needs_confirmation(southwark_client, borough_a):
    """The admin's assignment form asks, as the coordinators' assign page does."""
    mentor = factories.MentorFactory(
        home_borough=borough_a, first_name="Dele", last_name="Hart", vetting_checked_on=None
    )
    form = AssignmentAdminForm(data=assignment_data(southwark_client, mentor))
    assert form.errors == {
        "confirm_vetting": [
            "Dele Hart has no vetting check recorded. A mentor works one to one with young "
            "people: tick the box to assign anyway."
        ]
    }
    form = AssignmentAdminForm(data=assignment_data(southwark_client, mentor, confirm_vetting="on"))
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_confirmed_assignment_over_capacity_is_saved(southwark_client, busy_mentor):
    """Ticked, the assignment above capacity is saved."""
    form = AssignmentAdminForm(
        data=assignment_data(southwark_client, busy_mentor, confirm_over_capacity="on")
    )
    assert form.is_valid(), form.errors
    assignment = form.save()
    assert assignment.mentor == busy_mentor
    assert busy_mentor.assignments.filter(ended_on__isnull=True).count() == 3


@pytest.mark.django_db
def test_mentor_under_capacity_needs_no_confirmation(southwark_client, borough_a):
    """One open client of a maximum of 2: no warning."""
    mentor = factories.MentorFactory(home_borough=borough_a, max_caseload=2)
    factories.AssignmentFactory(mentor=mentor, client__borough=borough_a)
    form = AssignmentAdminForm(data=assignment_data(southwark_client, mentor))
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_editing_existing_assignment_of_full_mentor_needs_no_confirmation(busy_mentor):
    """Changing the dates of one of a full mentor's own assignments is not a new client."""
    assignment = busy_mentor.assignments.first()
    data = assignment_data(assignment.client, busy_mentor)
    form = AssignmentAdminForm(data=data, instance=assignment)
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_ended_assignment_does_not_count_towards_capacity(southwark_client, busy_mentor):
    """Closing one of a full mentor's assignments frees a place."""
    assignment = busy_mentor.assignments.first()
    Assignment.objects.filter(pk=assignment.pk).update(
        ended_on=assignment.started_on, end_reason=Assignment.EndReason.CASE_CLOSED
    )
    form = AssignmentAdminForm(data=assignment_data(southwark_client, busy_mentor))
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_second_open_assignment_is_a_readable_form_error(southwark_client, borough_a):
    """The one-open-assignment rule comes back as the constraint's message, not a crash."""
    factories.AssignmentFactory(client=southwark_client)
    another_mentor = factories.MentorFactory(home_borough=borough_a)
    form = AssignmentAdminForm(data=assignment_data(southwark_client, another_mentor))
    assert not form.is_valid()
    assert form.errors == {
        "__all__": ["This client already has a mentor: end that assignment first, or use reassign."]
    }
    assert southwark_client.assignments.count() == 1


# LongSelect ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choices", "value", "attrs"),
    [
        ([("", "Choose a client"), (1, "Ade Smith"), (2, "Bea Jones")], 2, {"required": True}),
        ([("", "---"), ("x&y", "O'Neil & <Sons>"), ("3", 'Quote " mark')], "x&y", None),
        ([(1, "One"), (2, "Two")], None, {"class": "form-select is-invalid", "disabled": True}),
        (
            [("", "Any"), ("Group <A>", [(1, "First"), (2, "Second")]), (3, "Loose")],
            1,
            {"aria-describedby": "id_client_helptext", "hidden": False},
        ),
        ([], "", {}),
    ],
)
def test_long_select_writes_what_djangos_select_writes(choices, value, attrs):
    """The same HTML, byte for byte: selected, escaping, attributes, groups, nothing."""
    ours = LongSelect(choices=choices).render("client", value, attrs)
    django = forms.Select(choices=choices).render("client", value, attrs)
    assert ours == django
    assert isinstance(ours, SafeString)


def test_session_form_draws_its_choices_with_long_select(coordinator_a, borough_a):
    active = factories.ClientFactory(borough=borough_a, active=True, last_name="O'Brien & Co")
    form = SupportSessionForm(user=coordinator_a)
    assert isinstance(form.fields["client"].widget, LongSelect)
    assert isinstance(form.fields["mentor"].widget, LongSelect)
    html = str(form["client"])
    assert f'<option value="{active.pk}">' in html
    assert "O&#x27;Brien &amp; Co" in html
    assert html == forms.Select(choices=form.fields["client"].choices).render(
        "client", None, {"required": True, "id": "id_client"}
    )
