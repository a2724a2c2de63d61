"""
The Django admin: how admins run the whole programme, from reference data to users.

New clients and mentors get their references from the services module, and sessions
record who logged them, whether they arrive through their own page or an inline.
"""

import threading
from collections import defaultdict

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import smart_split, unescape_string_literal
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin

from . import jdl, services
from .fields import PhoneField, field_class_for, text_limit_for
from .forms import (
    AssignmentAdminForm,
    ClientAdminForm,
    ClientMergeForm,
    ClientSeparateForm,
    JusticeDataLabForm,
    LongSelect,
    RecordAutocomplete,
    RecordsAutocomplete,
    RecordsChoiceField,
)
from .models import (
    AccessLog,
    Assignment,
    Borough,
    Client,
    Employer,
    FollowUp,
    Funder,
    Goal,
    Grant,
    ImpactReportLog,
    JusticeDataLabResult,
    Mentor,
    Milestone,
    Offence,
    PathwayStep,
    Placement,
    SafeguardingAlert,
    StaffProfile,
    SupportArea,
    SupportSession,
    per_row,
)

User = get_user_model()

CLIENT_SEARCH = ["reference", "first_name", "last_name", "preferred_name"]


class RecordChoices:
    """
    For every admin page and inline: choices of records that answer a value no record
    can have (``x``, ``1.0``, a number beyond 64 bits) with the form's error, not a 500
    (see RecordsChoiceField and RecordAutocomplete in forms.py). Drop-down lists, of
    choices or of records, are drawn by ``LongSelect`` (the same HTML as Django's, without
    a template per option), since a client's page holds one list per inline row.
    """

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # Dates, names and phone numbers read and checked as on the coordinators' pages.
        if form_class := field_class_for(db_field):
            kwargs.setdefault("form_class", form_class)
            if form_class is PhoneField:
                kwargs.pop("widget", None)
        text_limit_for(db_field, kwargs)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name not in self.radio_fields:
            kwargs["widget"] = LongSelect
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs:
            if db_field.name in self.get_autocomplete_fields(request):
                kwargs["widget"] = RecordAutocomplete(
                    db_field, self.admin_site, using=kwargs.get("using")
                )
            elif db_field.name not in (*self.raw_id_fields, *self.radio_fields):
                kwargs["widget"] = LongSelect
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = RecordsAutocomplete(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        kwargs.setdefault("form_class", RecordsChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class RowsWithRelated:
    """
    For inlines: fetch with the rows the records each row's ``str()`` reads (the admin
    prints it on every row of a tabular inline), not one query per row, so that a busy
    client's page costs the same queries as a new one's.
    """

    row_related = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.row_related)

    def get_formset(self, request, obj=None, **kwargs):
        """
        Rows drawn without a query each: an autocomplete box from the record fetched with
        its row, and a list of records (a goal's support area) read once for all rows.
        """
        formset = super().get_formset(request, obj, **kwargs)

        class WithKnownRecords(formset):
            def __init__(self, *args, **kwargs):
                self.shared_choices = {}
                super().__init__(*args, **kwargs)

            def _construct_form(self, i, **kwargs):
                form = super()._construct_form(i, **kwargs)
                for name, field in form.fields.items():
                    widget = getattr(field.widget, "widget", field.widget)
                    if isinstance(widget, RecordAutocomplete):
                        relation = form.instance._meta.get_field(name)
                        if relation.is_cached(form.instance):
                            widget.known = relation.get_cached_value(form.instance)
                    elif type(field) is forms.ModelChoiceField and not field.widget.is_hidden:
                        if name not in self.shared_choices:
                            self.shared_choices[name] = list(field.choices)
                        field.choices = self.shared_choices[name]
                return form

        return WithKnownRecords


class ReadOnlyRows:
    """For inlines that list records to open, not edit: each row links to its own page."""

    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


class SearchThroughRelations:
    """
    Search the records a row points to (its client, mentor, employer...) in their own
    tables first, then the rows by those ids, instead of Django's join of every row with
    them, whose OR of client and mentor names reads every session several times over. Up
    to ``SEARCH_IDS`` matching records are passed as a list of ids, which the planner
    estimates and looks up by index; more as a subquery.
    Same terms and fields as Django's search (every term must match one of
    ``search_fields``, case-insensitively anywhere); fields with a ``^``, ``=`` or ``@``
    prefix are left to Django.
    """

    SEARCH_IDS = 5000

    def get_search_results(self, request, queryset, search_term):
        fields = [str(name) for name in self.get_search_fields(request)]
        if not search_term or any(name.startswith(("^", "=", "@")) for name in fields):
            return super().get_search_results(request, queryset, search_term)
        own, related = [], defaultdict(list)  # related: {(relation, its model): fields}
        for name in fields:
            relation, _, rest = name.partition(LOOKUP_SEP)
            field = self.model._meta.get_field(relation) if rest else None
            if field is not None and field.many_to_one:
                related[relation, field.related_model].append(rest)
            else:
                own.append(name)
        terms = []
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            match = Q.create([(f"{name}__icontains", bit) for name in own], connector=Q.OR)
            for (relation, model), names in related.items():
                found = model._base_manager.filter(
                    Q.create([(f"{name}__icontains", bit) for name in names], connector=Q.OR)
                )
                ids = list(found.values_list("pk", flat=True)[: self.SEARCH_IDS + 1])
                if len(ids) > self.SEARCH_IDS:
                    ids = found.values("pk")
                match |= Q(**{f"{relation}__in": ids})
            terms.append(match)
        return queryset.filter(*terms), False


class OpenClosedFilter(admin.SimpleListFilter):
    """Open (no end date) or ended, for any model with an ``ended_on`` field."""

    title = "open or ended"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open"), ("no", "Ended")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(ended_on__isnull=True)
        if self.value() == "no":
            return queryset.filter(ended_on__isnull=False)
        return queryset


class VettingFilter(admin.SimpleListFilter):
    """Mentors whose vetting check is current, or missing or due for renewal."""

    title = "vetting check"
    parameter_name = "vetting"

    def lookups(self, request, model_admin):
        return [("current", "Current"), ("due", "Missing or due for renewal")]

    def queryset(self, request, queryset):
        not_current = Mentor.objects.vetting_not_current(timezone.localdate()).values("pk")
        if self.value() == "current":
            return queryset.exclude(pk__in=not_current)
        if self.value() == "due":
            return queryset.filter(pk__in=not_current)
        return queryset


class KnownTwiceFilter(admin.SimpleListFilter):
    """
    Clients sharing a date of birth and a first or last name with another record, in any
    borough: a coordinator's duplicate check sees only their own boroughs, so a young
    person referred again in another borough is found here.
    """

    title = "same person on another record?"
    parameter_name = "known_twice"

    def lookups(self, request, model_admin):
        return [("yes", "Shares birth date and a name with another")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.known_twice()
        return queryset


# Users and staff profiles -----------------------------------------------------------


class StaffProfileInline(RecordChoices, admin.StackedInline):
    model = StaffProfile
    can_delete = False
    filter_horizontal = ["boroughs"]
    verbose_name_plural = "SOS role and boroughs"


admin.site.unregister(User)
# Roles and boroughs live on StaffProfile; Django's groups would be a second, unused
# way of saying the same thing.
admin.site.unregister(Group)


# The CSP hash of simple_history's pager style, "border-top: 0".
PAGER_STYLE = "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='"


class HistoryAdmin(SimpleHistoryAdmin):
    """
    simple_history's admin with a History page of fixed queries. Its "Object" column draws
    each snapshot's ``history_object``, a model instance built afresh on each read with
    only the foreign keys' ids: a ``__str__`` that names a related record (a staff
    profile's user, a session's client) read it once a row. The page's snapshots come
    with those records already (``get_history_queryset`` selects them); here each
    snapshot's instance is built once, given them, and kept for the template.
    """

    def history_view(self, request, object_id, extra_context=None):
        """
        simple_history's History page draws its pager with one inline style ("border-top:
        0"): that exact style is allowed on this page by its hash, and no other, so the
        page keeps the Content Security Policy rather than being drawn without it.
        """
        response = super().history_view(request, object_id, extra_context)
        policy = dict(getattr(settings, "SECURE_CSP", {}))
        if policy:
            policy["style-src"] = [*policy.get("style-src", ()), "'unsafe-hashes'", PAGER_STYLE]
            response._csp_config = policy
        return response

    def set_history_delta_changes(self, request, historical_records, *args, **kwargs):
        super().set_history_delta_changes(request, historical_records, *args, **kwargs)
        for record in historical_records:
            instance = record.history_object
            for field in instance._meta.concrete_fields:
                if field.is_relation and field.is_cached(record):
                    field.set_cached_value(instance, field.get_cached_value(record))
            # The descriptor has no __set__: the instance's own attribute wins from now.
            record.__dict__["history_object"] = instance


@admin.register(User)
class SOSUserAdmin(RecordChoices, UserAdmin):
    inlines = [StaffProfileInline]
    list_display = ["username", "first_name", "last_name", "email", "role", "is_staff", "is_active"]
    list_filter = ["staff_profile__role", "is_staff", "is_active", "staff_profile__boroughs"]
    list_select_related = ["staff_profile"]

    @admin.display(description="SOS role", ordering="staff_profile__role")
    def role(self, user):
        profile = getattr(user, "staff_profile", None)
        return profile.get_role_display() if profile else ("Admin" if user.is_staff else "-")


@admin.register(StaffProfile)
class StaffProfileAdmin(RecordChoices, HistoryAdmin):
    list_display = ["user", "role", "borough_list"]
    # Its History page is the record of access: each change of role or boroughs, with
    # who made it and when, and the boroughs held from then on.
    history_list_display = ["role", "boroughs"]
    _page = threading.local()  # this thread's History page: the boroughs' names
    list_filter = ["role", "boroughs"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["boroughs"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").prefetch_related("boroughs")

    @admin.display(description="boroughs")
    def borough_list(self, profile):
        return ", ".join(b.name for b in profile.boroughs.all()) or "All (manager) / none"

    def history_view(self, request, object_id, extra_context=None):
        # The History page calls role() and boroughs() once per snapshot before it draws:
        # the boroughs' names are read once for the page, not once a row.
        self._page.names = dict(Borough.objects.values_list("pk", "name"))
        try:
            return super().history_view(request, object_id, extra_context)
        finally:
            del self._page.names

    # The History page's columns, one call per snapshot (simple_history sets each on the
    # row under the column's name).
    def role(self, snapshot):
        return snapshot.get_role_display()

    def boroughs(self, snapshot):
        links = (snapshot.many_to_many or {}).get("boroughs")
        if links is None:
            return "not recorded"
        names = self._page.names
        return ", ".join(sorted(names.get(pk, f"#{pk}") for pk in links)) or "none"


# Reference data ---------------------------------------------------------------------


@admin.register(SupportArea)
class SupportAreaAdmin(RecordChoices, admin.ModelAdmin):
    list_display = ["name", "slug", "sort_order"]
    list_editable = ["sort_order"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class GrantInline(RowsWithRelated, RecordChoices, admin.TabularInline):
    model = Grant
    row_related = ("funder", "borough")
    extra = 0
    autocomplete_fields = ["funder", "borough"]


class HomeMentorInline(ReadOnlyRows, RecordChoices, admin.TabularInline):
    """The borough's mentors at a glance; each is edited on its own page."""

    model = Mentor
    fk_name = "home_borough"
    fields = ["reference", "first_name", "last_name", "started_on", "ended_on", "max_caseload"]
    verbose_name_plural = "mentors based here"


@admin.register(Borough)
class BoroughAdmin(RecordChoices, admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "region",
        "launched_on",
        "cost_per_client",
        "active_clients",
        "clients_total",
        "is_active",
    ]
    list_filter = ["region", "is_active"]
    search_fields = ["name", "code", "region"]
    prepopulated_fields = {"slug": ["name"]}
    date_hierarchy = "launched_on"
    readonly_fields = ["last_client_number", "last_mentor_number"]
    inlines = [HomeMentorInline, GrantInline]

    def get_queryset(self, request):
        # Counted per borough by the clients' (borough, status) index, from that index
        # alone, where a join and a GROUP BY would read every client's row.
        active = Client.objects.filter(status=Client.Status.ACTIVE)
        return (
            super()
            .get_queryset(request)
            .annotate(
                clients_total_count=per_row(Client.objects.all(), "borough", Count("*")),
                active_clients_count=per_row(active, "borough", Count("*")),
            )
        )

    @admin.display(description="active clients", ordering="active_clients_count")
    def active_clients(self, borough):
        return borough.active_clients_count

    @admin.display(description="clients ever", ordering="clients_total_count")
    def clients_total(self, borough):
        return borough.clients_total_count


# Mentors ----------------------------------------------------------------------------


@admin.register(Mentor)
class MentorAdmin(RecordChoices, admin.ModelAdmin):
    list_display = [
        "reference",
        "display_name",
        "home_borough",
        "caseload",
        "lived_experience",
        "listener_trained",
        "vetting_checked_on",
        "started_on",
        "ended_on",
    ]
    list_filter = [
        OpenClosedFilter,
        VettingFilter,
        "home_borough",
        "lived_experience",
        "listener_trained",
        "qualification",
        "was_client",
    ]
    search_fields = ["reference", "first_name", "last_name", "preferred_name"]
    autocomplete_fields = ["user", "home_borough"]
    filter_horizontal = ["other_boroughs"]
    # Set once, when a client becomes a mentor from their page; the link is cut if the
    # client record is anonymised.
    readonly_fields = ["reference", "former_client", "was_client", "client_support_started_on"]
    list_select_related = ["home_borough"]
    date_hierarchy = "started_on"
    fieldsets = [
        (None, {"fields": ["reference", "first_name", "last_name", "preferred_name", "user"]}),
        ("Where", {"fields": ["home_borough", "other_boroughs"]}),
        (
            "Experience and checks",
            {
                "fields": [
                    "lived_experience",
                    "listener_trained",
                    "qualification",
                    "vetting_checked_on",
                ]
            },
        ),
        ("Service", {"fields": ["started_on", "ended_on", "max_caseload"]}),
        (
            "Peer pathway",
            {"fields": ["was_client", "former_client", "client_support_started_on"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_open_caseload()

    @admin.display(description="caseload", ordering="open_caseload")
    def caseload(self, mentor):
        return f"{mentor.open_caseload} / {mentor.max_caseload}"

    def save_model(self, request, obj, form, change):
        ended = services.mentor_save(mentor=obj)
        if ended:
            self.message_user(
                request,
                f"{obj.full_name} has left: {len(ended)} open assignment"
                f"{'s' if len(ended) != 1 else ''} ended on {obj.ended_on:%d/%m/%Y}. "
                "Those clients now wait for a new mentor on their coordinators' home page.",
                messages.WARNING,
            )


# Clients and their records ----------------------------------------------------------

# Records that coordinators edit on their own pages, where a version detects an edit
# crossed by another save: the admin's saves raise it too (``services.versioned_save``).
VERSIONED = (
    Client,
    SupportSession,
    Offence,
    Milestone,
    Placement,
    Goal,
    FollowUp,
    PathwayStep,
)


class VersionedAdmin:
    """A change saved in the admin raises the record's version (see ``VERSIONED``)."""

    def save_model(self, request, obj, form, change):
        services.versioned_save(obj)


class AssignmentInline(RowsWithRelated, RecordChoices, admin.TabularInline):
    model = Assignment
    row_related = ("client", "mentor")
    form = AssignmentAdminForm
    extra = 0
    autocomplete_fields = ["mentor"]


class SupportSessionAddInline(RecordChoices, admin.StackedInline):
    """A blank form for logging a new session from the client page."""

    model = SupportSession
    fields = [
        ("date", "start_time", "duration_minutes"),
        ("mentor", "kind", "mode", "attendance"),
        "support_areas",
        "notes",
        "safeguarding_concern",
    ]
    autocomplete_fields = ["mentor"]
    filter_horizontal = ["support_areas"]
    extra = 0
    verbose_name = "new support session"
    verbose_name_plural = "log a new support session"

    def get_queryset(self, request):
        return super().get_queryset(request).none()


class OffenceInline(RowsWithRelated, RecordChoices, admin.TabularInline):
    model = Offence
    row_related = ("client",)
    extra = 0
    fields = ["offence_date", "offence_type", "disposal", "outcome_date", "source"]


class MilestoneInline(RowsWithRelated, RecordChoices, admin.TabularInline):
    model = Milestone
    row_related = ("client",)
    extra = 0


class GoalInline(RowsWithRelated, RecordChoices, admin.TabularInline):
    model = Goal
    row_related = ("client",)
    extra = 0


class PlacementInline(RowsWithRelated, RecordChoices, admin.TabularInline):
    model = Placement
    row_related = ("client", "employer")
    extra = 0
    autocomplete_fields = ["employer"]


def _counted(moved, done):
    """``{"sessions": 3, "goals": 1}`` as "3 sessions, 1 goal <done>", or "" if none."""
    what = ", ".join(f"{n} {name if n > 1 else name[:-1]}" for name, n in moved.items() if n)
    return f"{what} {done}" if what else ""


@admin.register(Client)
class ClientAdmin(RecordChoices, HistoryAdmin):
    form = ClientAdminForm
    list_display = [
        "reference",
        "display_name",
        "borough",
        "status",
        "risk_level",
        "referred_on",
        "started_on",
        "ended_on",
    ]
    list_filter = [
        "status",
        "borough",
        "risk_level",
        "referral_source",
        "closure_reason",
        "gang_affiliated",
        KnownTwiceFilter,
    ]
    search_fields = [*CLIENT_SEARCH, "former_references__reference"]
    autocomplete_fields = ["borough"]
    filter_horizontal = ["needs"]
    date_hierarchy = "referred_on"
    list_select_related = ["borough"]
    readonly_fields = [
        "reference",
        "version",
        "created_by",
        "created_at",
        "updated_at",
        "recent_sessions",
        "named_alike",
        "formerly",
        "transfers",
    ]
    inlines = [
        AssignmentInline,
        SupportSessionAddInline,
        OffenceInline,
        MilestoneInline,
        GoalInline,
        PlacementInline,
    ]
    fieldsets = [
        (
            "Client",
            {
                "fields": [
                    ("reference", "formerly"),
                    ("first_name", "last_name", "preferred_name"),
                    ("date_of_birth", "gender", "ethnicity"),
                    "named_alike",
                ]
            },
        ),
        (
            "Referral",
            {
                "fields": [
                    ("borough", "referral_source", "referred_on"),
                    "confirm_outside_target_age",
                    "confirm_new_person",
                    ("risk_level", "gang_affiliated"),
                    "needs",
                    "consent_recorded_on",
                ]
            },
        ),
        (
            "Support",
            {
                "fields": [
                    "status",
                    ("started_on", "release_date"),
                    ("ended_on", "closure_reason"),
                    "transfers",
                ]
            },
        ),
        ("Contact details", {"fields": ["phone", "email", "address"]}),
        ("Support sessions", {"fields": ["recent_sessions"]}),
        (
            "Record",
            {
                "classes": ["collapse"],
                "fields": ["version", "created_by", "created_at", "updated_at"],
            },
        ),
    ]

    @admin.display(description="former references")
    def formerly(self, client):
        """
        The references of records brought into this one (``FormerReference``), each linked
        to separating it again (``separate_view``).
        """
        if client.pk is None:
            return "None."
        references = client.former_references.values_list("reference", flat=True)
        return (
            format_html_join(
                ", ",
                '{} (<a href="{}">separate again</a>)',
                (
                    (
                        reference,
                        reverse("admin:mentoring_client_separate", args=[client.pk, reference]),
                    )
                    for reference in references
                ),
            )
            or "None."
        )

    @admin.display(description="transferred")
    def transfers(self, client):
        """The records of this young person's case in the area before and after this one."""
        if client.pk is None:
            return "None."
        moved_from, moved_to = Client.objects.transfer_partners(client)
        lines = [
            (label, reverse("admin:mentoring_client_change", args=[other.pk]), other.reference)
            for label, other in (("from", moved_from), ("to", moved_to))
            if other is not None
        ]
        return format_html_join(", ", '{} <a href="{}">{}</a>', lines) or "None."

    NAMED_ALIKE_SHOWN = 10

    @admin.display(description="other records with this birth date and a name")
    def named_alike(self, client):
        """
        The records that may be this young person's too, in every borough, each linked to
        its page and to bringing the two together (``bring_together_view``): the admin is
        who the coordinators' duplicate warning sends them to.
        """
        if client.pk is None or client.date_of_birth is None:
            return "None."
        others = list(
            Client.objects.apart_from(client.pk, client.transferred_from_id)  # see ``transfers``
            .named_alike(client.first_name, client.last_name, client.date_of_birth)
            .select_related("borough")
            .order_by("-referred_on", "reference")[: self.NAMED_ALIKE_SHOWN + 1]
        )
        if not others:
            return "None."
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a>: {}, {}, referral of {} ({}{}): '
            '<a href="{}">bring together with this record</a></li>',
            (
                (
                    reverse("admin:mentoring_client_change", args=[other.pk]),
                    other.reference,
                    other.full_name,
                    other.borough.name,
                    f"{other.referred_on:%d/%m/%Y}",
                    other.get_status_display().lower(),
                    f" on {other.ended_on:%d/%m/%Y}" if other.ended_on else "",
                    reverse("admin:mentoring_client_merge", args=[client.pk, other.pk]),
                )
                for other in others[: self.NAMED_ALIKE_SHOWN]
            ),
        )
        more = (
            format_html(
                "<li>{}</li>", "and more: filter the list by “same person on another record”"
            )
            if len(others) > self.NAMED_ALIKE_SHOWN
            else ""
        )
        return format_html("<ul>{}{}</ul>", rows, more)

    # Bringing two records of one young person together ---------------------------------

    actions = ["bring_together"]

    def get_urls(self):
        merge = self.admin_site.admin_view(self.bring_together_view)
        separate = self.admin_site.admin_view(self.separate_view)
        lab = self.admin_site.admin_view(self.justice_data_lab_view)
        return [
            path("justice-data-lab/", lab, name="mentoring_client_jdl"),
            path("<int:pk>/bring-together/<int:other>/", merge, name="mentoring_client_merge"),
            path("<int:pk>/separate/<str:reference>/", separate, name="mentoring_client_separate"),
            *super().get_urls(),
        ]

    @admin.action(
        description="Bring two records of one young person together",
        permissions=["change", "delete"],
    )
    def bring_together(self, request, queryset):
        chosen = list(queryset.order_by("referred_on", "pk").values_list("pk", flat=True)[:3])
        if len(chosen) != 2:
            self.message_user(
                request, "Choose exactly two records to bring together.", messages.ERROR
            )
            return None
        return redirect("admin:mentoring_client_merge", *chosen)  # the earlier referral kept

    def bring_together_view(self, request, pk, other):
        """
        Two records side by side, what each holds, and which to keep: the other's records
        move to it and the other is deleted (``services.clients_merge``).
        """
        if not (self.has_change_permission(request) and self.has_delete_permission(request)):
            raise PermissionDenied
        found = Client.objects.select_related("borough").in_bulk([pk, other])
        if pk == other or len(found) != 2:
            raise Http404("Two different client records are needed.")
        clients = [found[pk], found[other]]
        form = ClientMergeForm(request.POST or None, clients=clients, initial={"keep": pk})
        if request.method == "POST" and form.is_valid():
            keep = found[form.cleaned_data["keep"]]
            gone = found[other if keep.pk == pk else pk]
            try:
                moved = services.clients_merge(
                    keep=keep, other=gone, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    f"{gone.reference} was brought into {keep.reference} "
                    f"({_counted(moved, 'moved') or 'it held no other records'}) and deleted.",
                    messages.SUCCESS,
                )
                return redirect("admin:mentoring_client_change", keep.pk)
        counts = {
            name: dict(
                model.objects.filter(client__in=found)
                .values_list("client")
                .annotate(n=Count("pk"))
                .order_by()
            )
            for name, model in services.CLIENT_RECORDS
        }
        rows = [
            ("Name", [c.display_name for c in clients]),
            (
                "Date of birth",
                [f"{c.date_of_birth:%d/%m/%Y}" if c.date_of_birth else "—" for c in clients],
            ),
            ("Borough", [c.borough.name for c in clients]),
            ("Status", [c.get_status_display() for c in clients]),
            ("Referred", [f"{c.referred_on:%d/%m/%Y}" for c in clients]),
            ("Started", [f"{c.started_on:%d/%m/%Y}" if c.started_on else "—" for c in clients]),
            ("Ended", [f"{c.ended_on:%d/%m/%Y}" if c.ended_on else "—" for c in clients]),
            *(
                (name.capitalize(), [counts[name].get(c.pk, 0) for c in clients])
                for name, _ in services.CLIENT_RECORDS
            ),
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Bring two records of one young person together",
            "clients": clients,
            "rows": rows,
            "form": form,
        }
        return TemplateResponse(request, "admin/mentoring/client/bring_together.html", context)

    def justice_data_lab_view(self, request):
        """
        The Justice Data Lab submission as a download, for admins who may see every
        client: the clients started in a period, at least 60 of them, each logged as sent
        with the reason (``jdl.export``).
        """
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = JusticeDataLabForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            clients = jdl.submission_clients(
                start=data["start"], end=data["end"], borough=data["borough"]
            )
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            name = f"jdl-{data['start']}-{data['end']}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            try:
                jdl.export(
                    clients=clients,
                    reason=data["reason"],
                    stream=response,
                    username=request.user.get_username(),
                    user=request.user,
                )
            except jdl.TooFewPeople as error:
                form.add_error(None, str(error))
            else:
                return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Justice Data Lab submission",
            "form": form,
            "minimum": jdl.MINIMUM_PEOPLE,
            "header": ",".join(jdl.HEADER),
        }
        return TemplateResponse(request, "admin/mentoring/client/justice_data_lab.html", context)

    def separate_view(self, request, pk, reference):
        """
        A record brought into this one by mistake, as it was deleted, and what would go
        back to it; the admin says why and it is restored (``services.clients_separate``).
        """
        if not (self.has_change_permission(request) and self.has_add_permission(request)):
            raise PermissionDenied
        keep = Client.objects.filter(pk=pk).select_related("borough").first()
        if keep is None or not keep.former_references.filter(reference=reference).exists():
            raise Http404("No such former reference.")
        form = ClientSeparateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                restored, moved = services.clients_separate(
                    keep=keep, reference=reference, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    f"{restored.reference} was separated from {keep.reference} again "
                    f"({_counted(moved, 'moved back') or 'no records moved back'}).",
                    messages.SUCCESS,
                )
                return redirect("admin:mentoring_client_change", restored.pk)
        try:
            deleted, records = services.brought_in(keep=keep, reference=reference)
        except ValidationError as error:
            deleted, records = None, {}
            if not form.non_field_errors():
                form.add_error(None, error)
        other = deleted.instance if deleted else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Separate {reference} from {keep.reference}",
            "keep": keep,
            "reference": reference,
            "other": other,
            "borough": Borough.objects.filter(pk=other.borough_id).first() if other else None,
            "brought": deleted.history_date if deleted else None,
            "records": [(name.capitalize(), len(rows)) for name, rows in records.items()],
            "form": form,
        }
        return TemplateResponse(request, "admin/mentoring/client/separate.html", context)

    # The newest sessions as a table with links, not an inline of a row per session, whose
    # cost would grow with every session logged.
    SESSIONS_SHOWN = 20

    @admin.display(description="latest sessions")
    def recent_sessions(self, client):
        if client.pk is None:
            return "None yet."
        sessions = list(
            client.sessions.select_related("mentor")[: self.SESSIONS_SHOWN]  # newest first
        )
        if not sessions:
            return "None yet."
        total = client.sessions.count() if len(sessions) == self.SESSIONS_SHOWN else len(sessions)
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{} min</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:mentoring_supportsession_change", args=[s.pk]),
                    f"{s.date:%d/%m/%Y}",
                    s.mentor.full_name,
                    s.duration_minutes,
                    s.get_kind_display(),
                    s.get_attendance_display(),
                )
                for s in sessions
            ),
        )
        everything = reverse("admin:mentoring_supportsession_changelist")
        return format_html(
            '<table><thead><tr><th scope="col">Date</th><th scope="col">Mentor</th>'
            '<th scope="col">Length</th><th scope="col">Kind</th>'
            '<th scope="col">Attendance</th></tr></thead><tbody>{}</tbody></table>'
            '<p><a href="{}?{}">All {} sessions of {}</a></p>',
            rows,
            everything,
            urlencode({"q": f'"{client.reference}"'}),
            total,
            client.reference,
        )

    def save_model(self, request, obj, form, change):
        services.client_save(client=obj, by=request.user)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, SupportSession) and instance.logged_by_id is None:
                instance.logged_by = request.user
            if isinstance(instance, VERSIONED):
                services.versioned_save(instance)
            else:
                instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(Assignment)
class AssignmentAdmin(SearchThroughRelations, RecordChoices, HistoryAdmin):
    form = AssignmentAdminForm
    list_display = ["client", "mentor", "started_on", "ended_on", "end_reason"]
    list_filter = [OpenClosedFilter, "end_reason", "client__borough"]
    search_fields = [f"client__{f}" for f in CLIENT_SEARCH] + [
        "mentor__reference",
        "mentor__first_name",
        "mentor__last_name",
    ]
    autocomplete_fields = ["client", "mentor"]
    date_hierarchy = "started_on"
    list_select_related = ["client", "mentor"]


@admin.register(SupportSession)
class SupportSessionAdmin(VersionedAdmin, SearchThroughRelations, RecordChoices, HistoryAdmin):
    list_display = [
        "date",
        "client",
        "mentor",
        "duration_minutes",
        "kind",
        "mode",
        "attendance",
        "safeguarding_concern",
    ]
    # By date through a filter (today, 7 days, this month, this year), not date_hierarchy:
    # its drill-down lists the years that have sessions, a scan of every session on each
    # view of the list.
    list_filter = [
        ("date", admin.DateFieldListFilter),
        "attendance",
        "kind",
        "mode",
        "safeguarding_concern",
        "client__borough",
    ]
    search_fields = [f"client__{f}" for f in CLIENT_SEARCH] + [
        "mentor__reference",
        "mentor__first_name",
        "mentor__last_name",
    ]
    # "12 results (Show all)" rather than also counting every session each time.
    show_full_result_count = False
    autocomplete_fields = ["client", "mentor"]
    filter_horizontal = ["support_areas"]
    list_select_related = ["client", "mentor"]
    readonly_fields = [
        "logged_by",
        "created_at",
        "updated_at",
        "submission_token",
        "safeguarding_handled_at",
        "safeguarding_handled_by",
        "safeguarding_action",
    ]

    def save_model(self, request, obj, form, change):
        if obj.logged_by_id is None:
            obj.logged_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Offence)
class OffenceAdmin(VersionedAdmin, SearchThroughRelations, RecordChoices, HistoryAdmin):
    list_display = ["client", "offence_date", "offence_type", "disposal", "outcome_date", "source"]
    list_filter = ["disposal", "offence_type", "source", "client__borough"]
    search_fields = [f"client__{f}" for f in CLIENT_SEARCH]
    autocomplete_fields = ["client"]
    date_hierarchy = "offence_date"
    list_select_related = ["client"]


@admin.register(Milestone)
class MilestoneAdmin(VersionedAdmin, SearchThroughRelations, RecordChoices, HistoryAdmin):
    list_display = ["client", "kind", "achieved_on", "verified"]
    list_filter = ["kind", "verified", "client__borough"]
    search_fields = [f"client__{f}" for f in CLIENT_SEARCH]
    autocomplete_fields = ["client"]
    date_hierarchy = "achieved_on"
    list_select_related = ["client"]


@admin.register(PathwayStep)
class PathwayStepAdmin(VersionedAdmin, SearchThroughRelations, RecordChoices, HistoryAdmin):
    list_display = ["client", "step", "reached_on"]
    list_filter = ["step", "client__borough"]
    search_fields = [f"client__{f}" for f in CLIENT_SEARCH]
    autocomplete_fields = ["client"]
    date_hierarchy = "reached_on"
    list_select_related = ["client"]


@admin.register(Goal)
class GoalAdmin(VersionedAdmin, SearchThroughRelations, RecordChoices, HistoryAdmin):
    list_display = ["client", "support_area", "description", "target_date", "status"]
    # By date through a filter, not date_hierarchy, as for sessions: its year list would
    # repeat a search of every goal's description on every view.
    list_filter = [
        ("set_on", admin.DateFieldListFilter),
        "status",
        "support_area",
        "client__borough",
    ]
    search_fields = [f"client__{f}" for f in CLIENT_SEARCH] + ["description"]
    show_full_result_count = False
    autocomplete_fields = ["client"]
    list_select_related = ["client", "support_area"]
    # Newest first, as the other records' lists, rather than the model's order (status
    # by name, then target date), which would sort every goal to show the first page.
    ordering = ["-set_on", "-pk"]


# Money and the employer network ----------------------------------------------------


@admin.register(Funder)
class FunderAdmin(RecordChoices, admin.ModelAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]
    inlines = [GrantInline]


@admin.register(Grant)
class GrantAdmin(SearchThroughRelations, RecordChoices, admin.ModelAdmin):
    list_display = ["funder", "borough", "amount", "starts_on", "ends_on", "reference"]
    list_filter = ["borough", "funder__kind"]
    search_fields = ["funder__name", "reference", "borough__name"]
    autocomplete_fields = ["funder", "borough"]
    date_hierarchy = "starts_on"
    list_select_related = ["funder", "borough"]


@admin.register(JusticeDataLabResult)
class JusticeDataLabResultAdmin(RecordChoices, admin.ModelAdmin):
    """The Lab's answers, recorded as they are published (the submission: ``jdl``)."""

    list_display = [
        "__str__",
        "people_matched",
        "treatment_rate",
        "comparison_rate",
        "p_value",
        "published_on",
    ]
    list_filter = ["borough"]
    list_select_related = ["borough"]
    date_hierarchy = "published_on"


class EmployerPlacementInline(ReadOnlyRows, RowsWithRelated, RecordChoices, admin.TabularInline):
    """
    The employer's placements, read-only with a link to each: a large employer has
    hundreds, too many to draw as forms. A placement is added from its client's page or
    the placements list.
    """

    model = Placement
    row_related = ("client", "employer")
    fields = ["client", "kind", "started_on", "ended_on"]


@admin.register(Employer)
class EmployerAdmin(RecordChoices, admin.ModelAdmin):
    list_display = ["name", "sector", "borough", "is_active"]
    list_filter = ["is_active", "sector", "borough"]
    search_fields = ["name", "sector", "contact_name"]
    autocomplete_fields = ["borough"]
    list_select_related = ["borough"]
    inlines = [EmployerPlacementInline]


@admin.register(Placement)
class PlacementAdmin(VersionedAdmin, SearchThroughRelations, RecordChoices, HistoryAdmin):
    list_display = ["client", "employer", "kind", "started_on", "ended_on"]
    list_filter = [OpenClosedFilter, "kind", "employer"]
    search_fields = [f"client__{f}" for f in CLIENT_SEARCH] + ["employer__name"]
    autocomplete_fields = ["client", "employer"]
    date_hierarchy = "started_on"
    list_select_related = ["client", "employer"]


@admin.register(FollowUp)
class FollowUpAdmin(VersionedAdmin, SearchThroughRelations, RecordChoices, HistoryAdmin):
    list_display = ["client", "point", "done_on", "reached", "in_ete", "stable_accommodation"]
    list_filter = ["point", "reached", "in_ete", "stable_accommodation", "new_offence_told"]
    search_fields = [f"client__{f}" for f in CLIENT_SEARCH]
    autocomplete_fields = ["client"]
    readonly_fields = ["recorded_by", "recorded_at"]
    date_hierarchy = "done_on"
    list_select_related = ["client"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """A log kept as evidence: nobody adds, changes or deletes its rows here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessLog)
class AccessLogAdmin(RecordChoices, ReadOnlyAdmin):
    """Read-only: the access log is evidence, so nobody edits or deletes it here."""

    list_display = ["at", "username", "action", "client_reference", "path"]
    list_filter = ["action"]
    search_fields = ["username", "client_reference"]
    date_hierarchy = "at"


@admin.register(ImpactReportLog)
class ImpactReportLogAdmin(RecordChoices, ReadOnlyAdmin):
    """Read-only, like the access log: which figures left the programme, by whom."""

    list_display = [
        "made_at",
        "username",
        "scope_name",
        "period_start",
        "period_end",
        "as_of",
        "format",
        "by_command",
    ]
    list_filter = ["scope", "format", "by_command"]
    search_fields = ["username", "scope_name"]
    date_hierarchy = "made_at"


@admin.register(SafeguardingAlert)
class SafeguardingAlertAdmin(RecordChoices, ReadOnlyAdmin):
    """
    The safeguarding e-mails sent, and those that failed (no "sent" time, the error kept):
    the next ``safeguarding_reminders`` tries those again.
    """

    list_display = ["created_at", "kind", "session", "sent_at", "recipients", "error"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    list_select_related = ["session__client", "session__mentor"]
    date_hierarchy = "created_at"


# Two-factor devices. django-otp's own admin shows TOTP keys and recovery codes; here an
# admin can see who has set up two-factor sign-in and reset it (delete the devices) for
# someone who lost their phone, but never read a secret.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class TwoFactorDeviceAdmin(RecordChoices, admin.ModelAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.register(TOTPDevice, TwoFactorDeviceAdmin)
admin.site.register(StaticDevice, TwoFactorDeviceAdmin)
