"""
Forms shared by the admin and the coordinator pages.

Two programme rules are warnings rather than errors: a client outside the 16-25 target
age, and a mentor taking on more clients than their maximum caseload. The form stops
with a clear message and asks the person to tick a confirmation box; ticked, it saves.
"""

import uuid

from django import forms
from django.conf import settings
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from .dates import DayField
from .fields import TEXT_LIMITS, formfield_for
from .models import (
    AGE_AT_REFERRAL_MAX,
    AGE_AT_REFERRAL_MIN,
    DURATION_MAX_MINUTES,
    DURATION_MESSAGE,
    DURATION_MIN_MINUTES,
    Assignment,
    Borough,
    Client,
    Employer,
    FollowUp,
    Goal,
    Mentor,
    Milestone,
    Offence,
    PathwayStep,
    Placement,
    SupportArea,
    SupportSession,
    age_on,
)


def _html_attrs(attrs):
    """A widget's attributes as Django's ``attrs.html`` writes them, in their order."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )


class LongSelect(forms.Select):
    """
    A <select> written in Python, the same HTML as Django's templates write: a borough's
    coordinator may choose among hundreds of active clients on /sessions/new/, and a
    template per option would cost most of the page. Every drop-down list in the admin is
    one too (``admin.RecordChoices``).
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _index in widget["optgroups"]:
            listed = format_html_join(
                "",
                '\n  <option value="{}"{}>{}</option>\n',
                (
                    (option["value"], _html_attrs(option["attrs"]), option["label"])
                    for option in options
                ),
            )
            if group_name:
                listed = format_html(
                    '\n  <optgroup label="{}">{}\n  </optgroup>', group_name, listed
                )
            groups.append((listed,))
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            _html_attrs(widget["attrs"]),
            format_html_join("", "{}", groups),
        )


def storable_keys(key_field, values):
    """
    The ``values`` that ``key_field`` (a model's key field) can hold. Any other is no
    record, and a query with it fails instead of finding nothing: ``pk__in=['1.0']`` raises
    ValueError, and on SQLite a number beyond 64 bits raises OverflowError.
    """
    storable = []
    for value in values:
        try:
            key_field.run_validators(key_field.to_python(value))
        except ValidationError:
            continue
        storable.append(value)
    return storable


class RecordsChoiceField(forms.ModelMultipleChoiceField):
    """
    A choice of several records that refuses a key no record can have with the usual
    "not a valid value" message; Django's field lets it through to a query that fails
    (a 500). Used for every many-to-many field of a form, the admin's included.
    """

    def _check_values(self, value):
        key = self.to_field_name or "pk"
        model = self.queryset.model
        key_field = model._meta.pk if key == "pk" else model._meta.get_field(key)
        for item in value:
            if not storable_keys(key_field, [item]):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": item},
                )
        return super()._check_values(value)


class RecordAutocompleteMixin:
    """
    The admin's autocomplete box redraws a refused form with the records it was sent;
    Django's looks them up without checking that each could be a key, so a value such as
    ``1.0`` would turn the form's "select a valid choice" into a 500. Unusable values are
    dropped from the redrawn box; the form still shows its error.
    """

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        key_field = remote.model._meta.get_field(remote.field_name)
        return super().optgroups(name, storable_keys(key_field, value), attr)


class RecordAutocomplete(RecordAutocompleteMixin, AutocompleteSelect):
    """
    ``known``: the record the row already holds (set by the admin's inlines, which fetch
    it with the rows). Drawn from it when it is the value, rather than looked up again:
    one query per row of an inline otherwise.
    """

    known = None

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        key = remote.model._meta.get_field(remote.field_name).attname
        known = self.known
        if known is None or [str(v) for v in value if v not in (None, "")] != [
            str(getattr(known, key))
        ]:
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        selected = {str(getattr(known, key))}
        label = self.choices.field.label_from_instance(known)
        options.append(self.create_option(name, getattr(known, key), label, selected, len(options)))
        return [(None, options, 0)]


class RecordsAutocomplete(RecordAutocompleteMixin, AutocompleteSelectMultiple):
    pass


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


CLIENT_DETAIL_FIELDS = [
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
    "phone",
    "email",
    "address",
    "pnc_id",
]


class ClientAgeCheckMixin(ConfirmWarningsMixin):
    def clean(self):
        cleaned = super().clean()
        born, referred = cleaned.get("date_of_birth"), cleaned.get("referred_on")
        # Confirmed once is enough: editing a phone number does not ask again.
        unchanged = self.instance.pk and (born, referred) == (
            self.instance.date_of_birth,
            self.instance.referred_on,
        )
        if born and referred and not unchanged:
            age = age_on(born, referred)
            low, high = settings.SOS_TARGET_AGE_MIN, settings.SOS_TARGET_AGE_MAX
            if not AGE_AT_REFERRAL_MIN <= age <= AGE_AT_REFERRAL_MAX:
                self.add_error(
                    "date_of_birth",
                    f"This date of birth makes the client {age} when referred: SOS works "
                    f"with young people aged {AGE_AT_REFERRAL_MIN} to {AGE_AT_REFERRAL_MAX}. "
                    "Check the date of birth and the referral date.",
                )
            elif not low <= age <= high:
                self.warn(
                    "confirm_outside_target_age",
                    f"This client was {age} when referred, outside the programme's target age "
                    f"of {low} to {high}. Tick the box to confirm the referral anyway.",
                )
        return cleaned


class KnownPersonCheckMixin(ConfirmWarningsMixin):
    """
    A young person referred again (by another agency, or back after a closed case) must
    not become a second record by accident: on a new client, or an edit of a client's
    name or date of birth, another client the user can reach with the same date of birth
    and first or last name is named, and the save waits for a tick on
    ``confirm_new_person``. Only the user's own boroughs are searched (``known``):
    another borough's records are not theirs to learn of. Anonymised records have no name
    or birth date to match.
    """

    SHOWN_MATCHES = 3
    IDENTITY = ("first_name", "last_name", "date_of_birth")  # who a record is about

    def known(self):
        """The clients ``self.user`` may reach (``Client.objects.for_user``)."""
        return Client.objects.for_user(self.user)

    def clean(self):
        cleaned = super().clean()
        identity = [cleaned.get(name) for name in self.IDENTITY]
        # An edit asks again only when it changes who the record is about (a corrected
        # birth date may be what shows that a young person has two records).
        if not self.instance.pk or identity != [getattr(self.instance, n) for n in self.IDENTITY]:
            self._check_known(cleaned)
        return cleaned

    def _check_known(self, cleaned):
        """Warn on ``confirm_new_person`` when the young person seems known."""
        born = cleaned.get("date_of_birth")
        first, last = cleaned.get("first_name"), cleaned.get("last_name")
        if not (born and (first or last)):
            return
        others = self.known()
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        matches = list(
            others.named_alike(first, last, born)
            .select_related("borough")
            .order_by("-referred_on", "reference")[: self.SHOWN_MATCHES + 1]
        )
        if not matches:
            return
        shown = "; ".join(self._named(c) for c in matches[: self.SHOWN_MATCHES])
        more = " and more" if len(matches) > self.SHOWN_MATCHES else ""
        found = f"Already on record with this date of birth and name: {shown}{more}."
        if self.instance.pk:
            advice = (
                "If this is the same young person, ask an admin to bring the records "
                "together rather than keep two. Tick the box to save these details anyway."
            )
        else:
            advice = (
                "If this is the same young person and the case is open, add to that record "
                "instead. Tick the box to refer a different young person, or to start a new "
                "episode of support after a closed case."
            )
        self.warn("confirm_new_person", f"{found} {advice}")

    @staticmethod
    def _named(client):
        """A matching client as the warning names them: reference, name, status, borough."""
        state = client.get_status_display().lower()
        if client.ended_on:
            state = f"{state} on {client.ended_on:%d/%m/%Y}"
        return f"{client.reference} {client.full_name} ({state}, {client.borough.name})"


def confirm_new_person_field():
    return confirmation_field(
        "Confirm: this is a different young person, or a new episode of support"
    )


class ClientMergeForm(forms.Form):
    """Which of two records of one young person to keep, and why they are one person."""

    keep = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Record to keep")
    reason = forms.CharField(
        max_length=60,
        label="Why they are one young person",
        help_text="Kept in the history of every record moved, for example "
        "\u201cthe same young person, referred again by the YOT\u201d.",
    )

    def __init__(self, *args, clients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [
            (c.pk, f"{c.reference}: {c.full_name}, {c.borough.name}") for c in clients
        ]


class ClientSeparateForm(forms.Form):
    """Why a record brought into another is a young person of its own after all."""

    reason = forms.CharField(
        max_length=60,
        label="Why they are two young people",
        help_text="Kept in the history of every record moved back, for example "
        "\u201ctwins, told apart by the YOT\u201d.",
    )


class JusticeDataLabForm(forms.Form):
    """The period, area and reason of a Justice Data Lab submission (``mentoring.jdl``)."""

    start = DayField(label="Support started from")
    end = DayField(label="to")
    borough = forms.ModelChoiceField(
        queryset=Borough.objects.order_by("name"),
        required=False,
        empty_label="Every area",
        label="Area",
    )
    reason = forms.CharField(
        max_length=200,
        help_text="Why the data leaves the programme: written in the access log of every "
        "client in the file.",
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "The end of the period is before its start.")
        return cleaned


class ClientAdminForm(ClientAgeCheckMixin, KnownPersonCheckMixin, forms.ModelForm):
    confirm_outside_target_age = confirmation_field("Confirm: refer outside the target age")
    confirm_new_person = confirm_new_person_field()

    def known(self):
        """The admin is only for admins, who reach every client."""
        return Client.objects.all()

    def clean_closure_reason(self):
        reason = self.cleaned_data["closure_reason"]
        transferred = Client.ClosureReason.TRANSFERRED
        if reason == transferred and self.instance.closure_reason != transferred:
            raise forms.ValidationError(
                "A case is transferred with “Transfer to another area” on the "
                "client's page, which opens the referral in the new area. Choose another "
                "reason to close it here."
            )
        return reason

    class Meta:
        model = Client
        formfield_callback = formfield_for
        fields = [
            *CLIENT_DETAIL_FIELDS,
            "status",
            "started_on",
            "release_date",
            "ended_on",
            "closure_reason",
        ]
        field_classes = {"needs": RecordsChoiceField}


class MentorChecksMixin(ConfirmWarningsMixin):
    """
    What to confirm before giving a client ``mentor``: a full caseload, and a vetting check
    missing or due for renewal. The form declares ``confirm_over_capacity`` and
    ``confirm_vetting``.
    """

    def check_mentor(self, mentor, caseload):
        if caseload >= mentor.max_caseload:
            self.warn(
                "confirm_over_capacity",
                f"{mentor.full_name} already has {caseload} open clients "
                f"(maximum {mentor.max_caseload}). Tick the box to assign anyway.",
            )
        if problem := mentor.vetting_problem():
            self.warn(
                "confirm_vetting",
                f"{mentor.full_name} has {problem}. A mentor works one to one with young "
                "people: tick the box to assign anyway.",
            )


class AssignmentCapacityCheckMixin(MentorChecksMixin):
    def clean(self):
        cleaned = super().clean()
        mentor = cleaned.get("mentor")
        opening = not cleaned.get("ended_on")
        changed_mentor = self.instance.pk is None or self.instance.mentor_id != getattr(
            mentor, "pk", None
        )
        if mentor and opening and changed_mentor:
            self.check_mentor(mentor, mentor.assignments.filter(ended_on__isnull=True).count())
        return cleaned


class AssignmentAdminForm(AssignmentCapacityCheckMixin, forms.ModelForm):
    confirm_over_capacity = confirmation_field("Confirm: assign above the mentor's capacity")
    confirm_vetting = confirmation_field("Confirm: assign without a current vetting check")

    class Meta:
        model = Assignment
        formfield_callback = formfield_for
        fields = ["client", "mentor", "started_on", "ended_on", "end_reason"]


# Coordinator and mentor pages ---------------------------------------------------------


class DateInput(forms.DateInput):
    """A text box for DD/MM/YYYY: predictable on every phone and with a keyboard alone."""

    def __init__(self, attrs=None):
        defaults = {"placeholder": "DD/MM/YYYY", "inputmode": "numeric", "autocomplete": "off"}
        super().__init__(attrs={**defaults, **(attrs or {})}, format="%d/%m/%Y")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


def date_widgets(*names):
    return {name: DateInput() for name in names}


class NotInFutureMixin:
    """Dates in ``not_in_future`` may not be after today."""

    not_in_future = ()

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        for name in self.not_in_future:
            value = cleaned.get(name)
            if value and value > today:
                self.add_error(name, "This date is in the future.")
        return cleaned


class ReferralForm(ClientAgeCheckMixin, KnownPersonCheckMixin, NotInFutureMixin, forms.ModelForm):
    """A new referral: creates a client in status REFERRED in one of the user's boroughs."""

    not_in_future = ("referred_on", "consent_recorded_on")
    confirm_outside_target_age = confirmation_field("Confirm: refer outside the target age")
    confirm_new_person = confirm_new_person_field()
    # The confirmations sit right under the details they are about.
    field_order = [*CLIENT_DETAIL_FIELDS[:9], "confirm_outside_target_age", "confirm_new_person"]

    class Meta:
        model = Client
        formfield_callback = formfield_for
        fields = CLIENT_DETAIL_FIELDS
        widgets = {
            **date_widgets("date_of_birth", "referred_on", "consent_recorded_on"),
            "needs": forms.CheckboxSelectMultiple,
            "address": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"needs": "Support needs"}
        field_classes = {"needs": RecordsChoiceField}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user  # whose boroughs the same young person is looked for in
        boroughs = Borough.objects.for_user(user).filter(is_active=True)
        self.fields["borough"].queryset = boroughs
        if len(boroughs) == 1:
            self.fields["borough"].initial = boroughs[0].pk
        if not self.instance.pk:
            self.fields["referred_on"].initial = timezone.localdate()


class ClientEditForm(ReferralForm):
    """Edit a client's details; the version field detects edits that crossed."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version
        if self.instance.started_on:
            # The borough decides who may see the record; moving a live case is a transfer.
            self.fields["borough"].disabled = True

    def clean(self):
        cleaned = super().clean()
        referred = cleaned.get("referred_on")
        started = self.instance.started_on
        if referred and started and referred > started:
            self.add_error("referred_on", "The referral cannot be after support started.")
        return cleaned


class StartSupportForm(NotInFutureMixin, forms.Form):
    not_in_future = ("started_on",)
    started_on = DayField(label="Support started on", widget=DateInput())
    release_date = DayField(
        required=False,
        widget=DateInput(),
        help_text="Only if support started in custody: the (expected) release date.",
    )

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["started_on"].initial = timezone.localdate()

    def clean(self):
        cleaned = super().clean()
        started, released = cleaned.get("started_on"), cleaned.get("release_date")
        if started and started < self.client.referred_on:
            self.add_error(
                "started_on",
                f"Support cannot start before the referral on {self.client.referred_on:%d/%m/%Y}.",
            )
        if started and released and released < started:
            self.add_error("release_date", "The release date cannot be before support started.")
        return cleaned


class CloseCaseForm(NotInFutureMixin, forms.Form):
    not_in_future = ("ended_on",)
    ended_on = DayField(label="Case closed on", widget=DateInput())
    # A move within the programme is a transfer, which opens the referral in the new area.
    closure_reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *Client.ClosureReason.closable_choices()],
        help_text="Moving to another area of the programme? Use “Transfer to another "
        "area” on the client's page instead: it opens the referral there.",
    )

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["ended_on"].initial = timezone.localdate()

    def clean_ended_on(self):
        ended = self.cleaned_data["ended_on"]
        if ended < self.client.started_on:
            raise forms.ValidationError(
                f"The case cannot close before support started on "
                f"{self.client.started_on:%d/%m/%Y}."
            )
        return ended


class TransferForm(NotInFutureMixin, forms.Form):
    """Where an active client is moving to in the programme, from when, and why."""

    not_in_future = ("transferred_on",)
    borough = forms.ModelChoiceField(
        queryset=Borough.objects.none(),
        label="Area moving to",
        empty_label="Choose an area",
        help_text="Every area of the programme taking referrals: its coordinators get the "
        "referral, and you will no longer see the record unless you work there too.",
    )
    transferred_on = DayField(label="Case closes here and opens there on", widget=DateInput())
    note = forms.CharField(
        max_length=60,
        label="Why they are moving",
        help_text="Kept in both records' history, for example \u201cmoved in with an aunt\u201d.",
    )

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        # Not the user's scope on purpose: a young person may move to any area, and the
        # areas' names are no secret. What the user may see of the new record stays scoped.
        self.fields["borough"].queryset = Borough.objects.filter(is_active=True).exclude(
            pk=client.borough_id
        )
        self.fields["transferred_on"].initial = timezone.localdate()

    def clean_transferred_on(self):
        day = self.cleaned_data["transferred_on"]
        if day < self.client.started_on:
            raise forms.ValidationError(
                f"The case cannot move before support started on {self.client.started_on:%d/%m/%Y}."
            )
        return day


class MentorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, mentor):
        label = (
            f"{mentor.display_name} ({mentor.reference}) — "
            f"{mentor.open_caseload} of {mentor.max_caseload} clients"
        )
        flag = mentor.vetting_flag
        return f"{label} — {flag.lower()}" if flag else label


class AssignMentorForm(MentorChecksMixin, NotInFutureMixin, forms.Form):
    """Assign or reassign a mentor: only mentors serving the client's borough are offered."""

    not_in_future = ("started_on",)
    mentor = MentorChoiceField(queryset=Mentor.objects.none(), empty_label="Choose a mentor")
    started_on = DayField(label="From", widget=DateInput())
    end_reason = forms.ChoiceField(
        label="Why the current mentor is changing",
        choices=[
            (value, label)
            for value, label in Assignment.EndReason.choices
            if value != Assignment.EndReason.CASE_CLOSED
        ],
        required=False,
    )
    confirm_over_capacity = confirmation_field("Confirm: assign above the mentor's capacity")
    confirm_vetting = confirmation_field("Confirm: assign without a current vetting check")

    def __init__(self, *args, client, user, current=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.current = current
        today = timezone.localdate()
        self.fields["mentor"].queryset = (
            Mentor.objects.for_user(user)
            .serving(client.borough)
            .active_on(today)
            .with_open_caseload()
            .order_by("last_name", "first_name")
        )
        self.fields["started_on"].initial = today
        if current is None:
            del self.fields["end_reason"]

    def clean(self):
        cleaned = super().clean()
        mentor, started = cleaned.get("mentor"), cleaned.get("started_on")
        if started and self.client.started_on and started < self.client.started_on:
            self.add_error("started_on", "A mentor cannot start before support started.")
        if started and self.current and started < self.current.started_on:
            self.add_error(
                "started_on",
                f"The current mentor started on {self.current.started_on:%d/%m/%Y}; the new "
                "one can only start on or after that day.",
            )
        if mentor and self.current and mentor.pk == self.current.mentor_id:
            self.add_error("mentor", f"{mentor.full_name} is already this client's mentor.")
        elif mentor:
            self.check_mentor(mentor, mentor.open_caseload)
        return cleaned


class EndAssignmentForm(NotInFutureMixin, forms.Form):
    """
    End the client's match with their mentor without naming a successor yet: the client
    then waits on the coordinators' home page ("Active clients without a mentor").
    """

    not_in_future = ("ended_on",)
    ended_on = DayField(label="Match ended on", widget=DateInput())
    end_reason = forms.ChoiceField(
        label="Why it ended",
        choices=[
            ("", "Choose a reason"),
            *(
                (value, label)
                for value, label in Assignment.EndReason.choices
                # Closing the case and reassigning have their own pages.
                if value not in (Assignment.EndReason.CASE_CLOSED, Assignment.EndReason.REASSIGNED)
            ),
        ],
    )

    def __init__(self, *args, current, **kwargs):
        super().__init__(*args, **kwargs)
        self.current = current
        self.fields["ended_on"].initial = timezone.localdate()

    def clean_ended_on(self):
        ended = self.cleaned_data["ended_on"]
        current = self.current
        if ended < current.started_on:
            raise forms.ValidationError(
                f"{current.mentor.full_name} started with this client on "
                f"{current.started_on:%d/%m/%Y}: the match cannot end before that."
            )
        last = (
            current.client.sessions.filter(mentor_id=current.mentor_id, date__gt=ended)
            .order_by("-date")
            .values_list("date", flat=True)
            .first()
        )
        if last is not None:
            raise forms.ValidationError(
                f"{current.mentor.full_name} had a session with this client on "
                f"{last:%d/%m/%Y}: the match cannot end before its last session."
            )
        return ended


class SupportSessionForm(NotInFutureMixin, forms.ModelForm):
    """
    Log or correct a support session. ``client`` is chosen in the form only when logging
    from /sessions/new/; the token makes a resubmitted form save once.
    """

    not_in_future = ("date",)
    submission_token = forms.UUIDField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = SupportSession
        formfield_callback = formfield_for
        fields = [
            "client",
            "mentor",
            "date",
            "start_time",
            "duration_minutes",
            "kind",
            "mode",
            "attendance",
            "support_areas",
            "notes",
            "safeguarding_concern",
        ]
        widgets = {
            "client": LongSelect,
            "mentor": LongSelect,
            "date": DateInput(),
            "start_time": TimeInput(),
            "support_areas": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 4}),
            "duration_minutes": forms.NumberInput(attrs={"min": 5, "max": 720, "step": 5}),
        }
        labels = {"duration_minutes": "Duration (minutes)", "start_time": "Start time"}
        field_classes = {"support_areas": RecordsChoiceField}

    def __init__(self, *args, user, client=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        editing = self.instance.pk is not None
        self.fields["support_areas"].queryset = SupportArea.objects.all()
        # The model field's own minimum (0) would otherwise win over the widget's, and
        # answer -5 with "greater than or equal to 0" instead of the programme's rule.
        duration = self.fields["duration_minutes"]
        duration.widget.attrs.update(min=DURATION_MIN_MINUTES, max=DURATION_MAX_MINUTES)
        duration.validators = [
            MinValueValidator(DURATION_MIN_MINUTES, message=DURATION_MESSAGE),
            MaxValueValidator(DURATION_MAX_MINUTES, message=DURATION_MESSAGE),
        ]
        if editing:
            client = self.instance.client
            self.fields["version"].initial = self.instance.version
        else:
            self.fields["submission_token"].initial = uuid.uuid4()
            self.fields["date"].initial = timezone.localdate()
        if client is not None:
            del self.fields["client"]
            self.fixed_client = client
        else:
            self.fixed_client = None
            self.fields["client"].queryset = (
                Client.objects.for_user(user)
                .filter(status=Client.Status.ACTIVE)
                .order_by("last_name", "first_name")
            )
            self.fields["client"].empty_label = "Choose a client"
        self._limit_mentors(client)
        if editing:
            del self.fields["submission_token"]

    def _limit_mentors(self, client):
        mentors = Mentor.objects.for_user(self.user)
        if client is not None:
            mentors = mentors.serving(client.borough)
        field = self.fields["mentor"]
        field.queryset = mentors.order_by("last_name", "first_name")
        # Left blank, the session goes to the client's current mentor: one choice fewer
        # for a coordinator logging from the home page.
        field.required = False
        field.empty_label = "The client's current mentor"
        if client is not None and not self.instance.pk:
            current = client.assignments.filter(ended_on__isnull=True).first()
            if current:
                self.fields["mentor"].initial = current.mentor_id
        mine = Mentor.objects.filter(user=self.user).first()
        if mine and not self.instance.pk:
            self.fields["mentor"].initial = mine.pk

    def clean(self):
        cleaned = super().clean()
        client = self.fixed_client or cleaned.get("client")
        mentor = cleaned.get("mentor")
        if client and mentor is None and "mentor" not in self.errors:
            current = client.assignments.filter(ended_on__isnull=True).select_related("mentor")
            current = current.first()
            if current is None:
                self.add_error("mentor", "This client has no mentor assigned: choose one.")
            else:
                cleaned["mentor"] = mentor = current.mentor
        if client and mentor and not mentor.serves(client.borough):
            self.add_error("mentor", f"{mentor.full_name} does not work in {client.borough}.")
        return cleaned

    def _post_clean(self):
        if self.fixed_client is not None:
            self.instance.client = self.fixed_client
        if "submission_token" in self.cleaned_data:
            self.instance.submission_token = self.cleaned_data["submission_token"]
        super()._post_clean()


class VersionedRecordMixin:
    """
    Editing a saved record: a hidden ``version``, the record's as the form was opened, so
    that saving over another person's later save is detected (``services.EditConflict``).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["version"] = forms.IntegerField(
                widget=forms.HiddenInput, initial=self.instance.version
            )


class OffenceForm(VersionedRecordMixin, forms.ModelForm):
    class Meta:
        model = Offence
        formfield_callback = formfield_for
        fields = ["offence_date", "offence_type", "disposal", "outcome_date", "source", "notes"]
        widgets = {
            **date_widgets("offence_date", "outcome_date"),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }


YES_NO = [(True, "Yes"), (False, "No")]
IF_REACHED = {"data-if-reached": ""}


def yes_no(label, help_text="", attrs=None):
    """A yes-or-no question as two radio buttons, with nothing chosen until answered."""
    return forms.NullBooleanField(
        label=label,
        help_text=help_text,
        required=False,
        widget=forms.RadioSelect(choices=YES_NO, attrs=attrs),
    )


class FollowUpForm(VersionedRecordMixin, forms.ModelForm):
    """
    A check-in after a completed case: when, whether the young person was reached, and if
    so three yes-or-no answers and a note. The answers of one not reached are not kept.
    """

    reached = yes_no("Reached the young person")
    # sos.js hides the answers while "not reached" is chosen.
    in_ete = yes_no(
        "In education, training or employment", help_text="If reached.", attrs=IF_REACHED
    )
    stable_accommodation = yes_no(
        "In stable accommodation", help_text="If reached.", attrs=IF_REACHED
    )
    new_offence_told = yes_no(
        "Tells of a new offence",
        attrs=IF_REACHED,
        help_text="If reached. Their own word only: it is never counted as a proven "
        "reoffence. Record a conviction as an offence on their page.",
    )

    class Meta:
        model = FollowUp
        formfield_callback = formfield_for
        fields = [
            "done_on",
            "reached",
            "in_ete",
            "stable_accommodation",
            "new_offence_told",
            "note",
        ]
        widgets = {"done_on": DateInput(), "note": forms.Textarea(attrs={"rows": 3})}
        labels = {"done_on": "Done on"}
        help_texts = {"done_on": "When they were reached, or when you last tried."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reached"].required = True  # shown as required; checked below
        if self.instance.pk is None and not self.initial.get("done_on"):
            self.initial["done_on"] = timezone.localdate()

    def clean_reached(self):
        reached = self.cleaned_data.get("reached")
        if reached is None:
            raise forms.ValidationError("Answer yes or no.")
        return reached

    def clean(self):
        cleaned = super().clean()
        answers = ("in_ete", "stable_accommodation", "new_offence_told")
        # The model's own rules then ask every answer of a young person reached.
        if cleaned.get("reached") is False:
            for name in answers:
                cleaned[name] = None
        return cleaned


class MilestoneForm(VersionedRecordMixin, forms.ModelForm):
    class Meta:
        model = Milestone
        formfield_callback = formfield_for
        fields = ["kind", "achieved_on", "evidence", "verified"]
        widgets = {
            "achieved_on": DateInput(),
            "evidence": forms.Textarea(attrs={"rows": 2}),
        }


class PlacementForm(VersionedRecordMixin, forms.ModelForm):
    """
    A client's placement with an employer of the network: those serving the client's
    borough or the whole network, still taking people (a placement already recorded keeps
    its employer even if they have since left the network).
    """

    class Meta:
        model = Placement
        formfield_callback = formfield_for
        fields = ["employer", "kind", "started_on", "ended_on", "notes"]
        widgets = {
            "employer": LongSelect,
            **date_widgets("started_on", "ended_on"),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"started_on": "Started on", "ended_on": "Ended on"}
        help_texts = {
            "employer": "Employers of the network serving this borough or all of them; an "
            "admin adds new ones."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        employers = Employer.objects.serving([self.instance.client.borough_id]).filter(
            is_active=True
        )
        if self.instance.employer_id:
            employers |= Employer.objects.filter(pk=self.instance.employer_id)
        self.fields["employer"].queryset = employers.order_by("name")


class GoalForm(VersionedRecordMixin, forms.ModelForm):
    class Meta:
        model = Goal
        formfield_callback = formfield_for
        fields = ["support_area", "description", "set_on", "target_date", "status"]
        widgets = date_widgets("set_on", "target_date")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["set_on"].initial = timezone.localdate()


class PathwayStepForm(VersionedRecordMixin, forms.ModelForm):
    """A dated step of the client on the peer pathway, one of each kind per client."""

    class Meta:
        model = PathwayStep
        formfield_callback = formfield_for
        fields = ["step", "reached_on", "note"]
        widgets = {"reached_on": DateInput(), "note": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"note": "For example the course, or where they volunteer."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["reached_on"].initial = timezone.localdate()

    def clean(self):
        cleaned = super().clean()
        step = cleaned.get("step")
        # The constraint mentoring_pathwaystep_once names the client, which is not a field
        # of the form: Django would leave it to the database, and the save would fail.
        if step:
            same = PathwayStep.objects.filter(client=self.instance.client, step=step).exclude(
                pk=self.instance.pk
            )
            if reached := same.values_list("reached_on", flat=True).first():
                self.add_error(
                    "step",
                    f"This step is already recorded, on {reached:%d/%m/%Y}: correct that "
                    "one instead.",
                )
        return cleaned


class BecomesMentorForm(NotInFutureMixin, forms.Form):
    """
    A client who goes on to mentor: the day they start. While their own case is open the
    coordinator confirms it on purpose (``confirm``): a mentor is usually someone whose
    support has ended.
    """

    not_in_future = ("started_on",)
    started_on = DayField(label="Mentoring from", widget=DateInput())

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["started_on"].initial = timezone.localdate()
        if client.status in (Client.Status.REFERRED, Client.Status.ACTIVE):
            self.fields["confirm"] = forms.BooleanField(
                label="Confirm: they become a mentor while their own case is still open",
                error_messages={
                    "required": "Tick the box to confirm: this client's own case is still "
                    "open. Or close the case first."
                },
            )

    def clean_started_on(self):
        started = self.cleaned_data["started_on"]
        support = self.client.started_on
        if support and started < support:
            raise forms.ValidationError(
                f"A client can start mentoring on or after their own support started, on "
                f"{support:%d/%m/%Y}."
            )
        return started


class GoalStatusForm(forms.ModelForm):
    class Meta:
        model = Goal
        formfield_callback = formfield_for
        fields = ["status"]


class SafeguardingFollowUpForm(forms.Form):
    action = forms.CharField(
        label="What was done about the concern",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=TEXT_LIMITS["safeguarding_action"],
        help_text=(
            "Who was told and what happens next: for example, referred to the youth "
            "offending team's safeguarding lead, police informed, or talked through with "
            "the mentor and no further action. "
            f"Up to {TEXT_LIMITS['safeguarding_action']:,} characters."
        ),
    )
