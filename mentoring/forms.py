"""
Forms shared by the admin and the coordinator pages.

Two programme rules are warnings rather than errors: a client outside the 16-25 target
age, and a mentor taking on more clients than their maximum caseload. The form stops
with a clear message and asks the person to tick a confirmation box; ticked, it saves.
"""

from django import forms
from django.conf import settings

from .models import Assignment, Client, age_on


class ConfirmWarningsMixin:
    """
    Turns a warning into an error on a confirmation checkbox until it is ticked.

    Subclasses declare the checkbox fields and call ``self.warn(field, message)`` from
    ``clean()``. The checkbox is only shown while its warning applies, so an ordinary
    save shows no extra controls.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._confirmations = [
            name for name, field in self.fields.items() if getattr(field, "is_confirmation", False)
        ]
        if not self.is_bound:
            for name in self._confirmations:
                self.fields[name].widget = forms.HiddenInput()

    def warn(self, field, message):
        if not self.cleaned_data.get(field):
            self.fields[field].widget = forms.CheckboxInput()
            self.add_error(field, message)


def confirmation_field(label):
    field = forms.BooleanField(required=False, label=label)
    field.is_confirmation = True
    return field


class ClientAgeCheckMixin(ConfirmWarningsMixin):
    def clean(self):
        cleaned = super().clean()
        born, referred = cleaned.get("date_of_birth"), cleaned.get("referred_on")
        if born and referred and born < referred:
            age = age_on(born, referred)
            low, high = settings.SOS_TARGET_AGE_MIN, settings.SOS_TARGET_AGE_MAX
            if not low <= age <= high:
                self.warn(
                    "confirm_outside_target_age",
                    f"This client was {age} when referred, outside the programme's target age "
                    f"of {low} to {high}. Tick the box to confirm the referral anyway.",
                )
        return cleaned


class ClientAdminForm(ClientAgeCheckMixin, forms.ModelForm):
    confirm_outside_target_age = confirmation_field("Confirm: refer outside the target age")

    class Meta:
        model = Client
        fields = [
            "first_name",
            "last_name",
            "preferred_name",
            "date_of_birth",
            "gender",
            "ethnicity",
            "borough",
            "referral_source",
            "referred_on",
            "risk_level",
            "gang_affiliated",
            "needs",
            "consent_recorded_on",
            "status",
            "started_on",
            "release_date",
            "ended_on",
            "closure_reason",
            "phone",
            "email",
            "address",
        ]


class AssignmentCapacityCheckMixin(ConfirmWarningsMixin):
    def clean(self):
        cleaned = super().clean()
        mentor = cleaned.get("mentor")
        opening = not cleaned.get("ended_on")
        changed_mentor = self.instance.pk is None or self.instance.mentor_id != getattr(
            mentor, "pk", None
        )
        if mentor and opening and changed_mentor:
            caseload = mentor.assignments.filter(ended_on__isnull=True).count()
            if caseload >= mentor.max_caseload:
                self.warn(
                    "confirm_over_capacity",
                    f"{mentor.full_name} already has {caseload} open clients "
                    f"(maximum {mentor.max_caseload}). Tick the box to assign anyway.",
                )
        return cleaned


class AssignmentAdminForm(AssignmentCapacityCheckMixin, forms.ModelForm):
    confirm_over_capacity = confirmation_field("Confirm: assign above the mentor's capacity")

    class Meta:
        model = Assignment
        fields = ["client", "mentor", "started_on", "ended_on", "end_reason"]
