"""
The SOS programme's records: boroughs, staff, mentors, clients and their support.

Invariants that must hold whatever writes the row (forms, admin, imports, scripts) are
named database constraints ``mentoring_<model>_<rule>``. ``clean()`` methods repeat the
same rules in words a coordinator understands, and add the rules that need other rows or
today's date, which a CHECK constraint cannot see.
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Concat, Upper
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .snapshots import HistoricalRecordsWithLinks

DURATION_MIN_MINUTES = 5
# England and Wales: no one under 10 can be convicted or cautioned.
AGE_OF_CRIMINAL_RESPONSIBILITY = 10
DURATION_MAX_MINUTES = 720
DURATION_MESSAGE = "A session lasts between 5 minutes and 12 hours (720)."


# Ages at referral the programme can be for at all: 10 is the age of criminal
# responsibility in England and Wales, and past 30 a date of birth is surely mistyped.
# Outside the target age (SOS_TARGET_AGE_MIN to _MAX) a referral asks for a tick instead.
AGE_AT_REFERRAL_MIN = 10
AGE_AT_REFERRAL_MAX = 30


def age_on(date_of_birth, on):
    """Whole years between ``date_of_birth`` and ``on``."""
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday


def years_before(day, years):
    """The same day ``years`` earlier (29 February -> 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def years_after(day, years):
    """
    The same day ``years`` later (29 February -> 1 March): the first day whose
    ``years_before`` is on or after ``day``.
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def staff_role(user):
    """The user's programme role: "ADMIN", a StaffProfile.Role value, or None."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser or user.is_staff:
        return "ADMIN"
    profile = getattr(user, "staff_profile", None)
    return profile.role if profile else None


def borough_ids_for(user):
    """
    The boroughs whose records ``user`` may reach: None means every borough, an empty list
    none. A manager with no boroughs listed sees all; a coordinator with none sees none.
    Cached on the user object because one request asks many times.
    """
    cached = getattr(user, "_sos_borough_ids", False)
    if cached is not False:
        return cached
    role = staff_role(user)
    if role == "ADMIN":
        ids = None
    elif role in (StaffProfile.Role.COORDINATOR, StaffProfile.Role.MANAGER):
        ids = list(user.staff_profile.boroughs.values_list("pk", flat=True))
        if not ids and role == StaffProfile.Role.MANAGER:
            ids = None
    else:
        ids = []
    user._sos_borough_ids = ids
    return ids


class BoroughQuerySet(models.QuerySet):
    def for_user(self, user):
        ids = borough_ids_for(user)
        return self if ids is None else self.filter(pk__in=ids)


class Borough(models.Model):
    """A London borough or an area outside London (Bristol, Dorset) where SOS runs."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    code = models.CharField(
        max_length=3,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use three capital letters, e.g. SWK.")],
        help_text="Three capital letters used in client and mentor references, e.g. SWK.",
    )
    region = models.CharField(max_length=100, help_text="e.g. London, South West.")
    launched_on = models.DateField()
    cost_per_client = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        default=2000,
        validators=[MinValueValidator(0)],
        help_text="What one client's support costs here, in pounds.",
    )
    is_active = models.BooleanField(default=True)
    # Counters for references; bumped under a row lock so that two coordinators adding
    # clients at once never get the same reference.
    last_client_number = models.PositiveIntegerField(default=0, editable=False)
    last_mentor_number = models.PositiveIntegerField(default=0, editable=False)

    objects = BoroughQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "borough / area"
        verbose_name_plural = "boroughs / areas"
        constraints = [
            models.CheckConstraint(
                condition=Q(cost_per_client__gte=0),
                name="mentoring_borough_cost_not_negative",
                violation_error_message="The cost per client cannot be negative.",
            ),
        ]

    def __str__(self):
        return self.name


class StaffProfile(models.Model):
    """What a signed-in member of staff does and where. Admins are Django staff users."""

    class Role(models.TextChoices):
        COORDINATOR = "COORDINATOR", "Coordinator"
        MANAGER = "MANAGER", "Manager"
        MENTOR = "MENTOR", "Mentor"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    boroughs = models.ManyToManyField(
        Borough,
        blank=True,
        related_name="staff",
        help_text="Coordinators work in these boroughs. A manager with none listed sees all.",
    )
    # Who could see which boroughs, when, and who changed it: with the boroughs' links.
    history = HistoricalRecordsWithLinks()

    class Meta:
        ordering = ["user__username"]

    def __str__(self):
        return f"{self.user.get_username()} ({self.get_role_display()})"


class SupportArea(models.Model):
    """A kind of need a client has and a session can cover (reference data)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class PersonName(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(
        max_length=100, blank=True, help_text="What they like to be called, if different."
    )

    class Meta:
        abstract = True

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def display_name(self):
        if self.preferred_name and self.preferred_name != self.first_name:
            return f"{self.first_name} ({self.preferred_name}) {self.last_name}"
        return self.full_name


def per_row(queryset, key, aggregate):
    """
    ``aggregate`` of the rows of ``queryset`` whose ``key`` is the outer row, as a subquery
    per outer row (0 where it has none): read by ``key``'s index for the rows shown, where
    a join would read every related row and multiply or group the outer ones.
    """
    rows = queryset.filter(**{key: OuterRef("pk")}).order_by().values(key)
    return Coalesce(Subquery(rows.annotate(n=aggregate).values("n")), 0)


class MentorQuerySet(models.QuerySet):
    def for_user(self, user):
        """Mentors serving a borough the user works in; a mentor sees only themself."""
        role = staff_role(user)
        if role == StaffProfile.Role.MENTOR:
            return self.filter(user=user)
        ids = borough_ids_for(user)
        if ids is None:
            return self
        return self.filter(Q(home_borough__in=ids) | Q(other_boroughs__in=ids)).distinct()

    def serving(self, borough):
        """Mentors whose home borough is ``borough`` or who also serve it."""
        return self.filter(Q(home_borough=borough) | Q(other_boroughs=borough)).distinct()

    def active_on(self, day):
        return self.filter(Q(started_on__lte=day), Q(ended_on__isnull=True) | Q(ended_on__gt=day))

    def vetting_not_current(self, day):
        """
        Mentors with no vetting check recorded, or whose last check is due for renewal by
        ``day`` (``SOS_VETTING_RENEWAL_YEARS`` after it).
        """
        cutoff = years_before(day, settings.SOS_VETTING_RENEWAL_YEARS)
        return self.filter(Q(vetting_checked_on__isnull=True) | Q(vetting_checked_on__lte=cutoff))

    def with_open_caseload(self, day=None):
        """
        Annotate ``open_caseload``: the mentor's open assignments, or those open on ``day``
        (started by it, not ended by it). A subquery per mentor, by the assignments' mentor
        index: the count is not multiplied by the boroughs a mentor serves, and its cost
        follows the mentors selected, where a join would read every assignment.
        """
        if day is None:
            open_on = Q(ended_on__isnull=True)
        else:
            open_on = Q(started_on__lte=day) & (Q(ended_on__isnull=True) | Q(ended_on__gt=day))
        return self.annotate(
            open_caseload=per_row(Assignment.objects.filter(open_on), "mentor", Count("*"))
        )


class Mentor(PersonName):
    """An ex-offender peer (or other volunteer) who supports clients one to one."""

    reference = models.CharField(max_length=20, unique=True, help_text="e.g. M-SWK-007")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentor",
        help_text="Only for mentors who log their own sessions.",
    )
    home_borough = models.ForeignKey(Borough, on_delete=models.PROTECT, related_name="mentors")
    other_boroughs = models.ManyToManyField(
        Borough, blank=True, related_name="visiting_mentors", help_text="Other boroughs served."
    )
    lived_experience = models.BooleanField(
        "lived experience", default=True, help_text="An ex-offender peer mentor."
    )
    listener_trained = models.BooleanField(
        default=False, help_text="Trained on the Samaritans Listener scheme."
    )
    qualification = models.CharField(max_length=100, blank=True, help_text="e.g. IAG Level 3")
    vetting_checked_on = models.DateField(
        null=True, blank=True, help_text="Date of the last DBS / vetting check."
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    max_caseload = models.PositiveSmallIntegerField(
        default=8, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    # The peer pathway: a mentor who was once an SOS client. The link is cut when the
    # client record is anonymised (a named mentor would name it again); ``was_client`` and
    # the start of their support stay, for the pathway's figures.
    former_client = models.OneToOneField(
        "Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="became_mentor",
        editable=False,
        help_text="The client record this mentor grew from.",
    )
    was_client = models.BooleanField(
        "former SOS client", default=False, editable=False, help_text="Once an SOS client."
    )
    client_support_started_on = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="When their own support as a client started.",
    )

    objects = MentorQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="mentoring_mentor_ended_after_started",
                violation_error_message="A mentor cannot finish before they started.",
            ),
            models.CheckConstraint(
                condition=Q(max_caseload__gte=1) & Q(max_caseload__lte=30),
                name="mentoring_mentor_max_caseload_range",
                violation_error_message="A mentor's maximum caseload is between 1 and 30 clients.",
            ),
            models.CheckConstraint(
                condition=Q(former_client__isnull=True) | Q(was_client=True),
                name="mentoring_mentor_former_client_was_client",
                violation_error_message="A mentor linked to a client record was a client.",
            ),
        ]

    def __str__(self):
        return f"{self.display_name} ({self.reference})"

    @property
    def vetting_renewal_due_on(self):
        """The day the last vetting check falls due for renewal, or None without one."""
        if self.vetting_checked_on is None:
            return None
        return years_after(self.vetting_checked_on, settings.SOS_VETTING_RENEWAL_YEARS)

    def vetting_problem(self, day=None):
        """
        What is wrong with the mentor's vetting on ``day`` (default today), worded to follow
        "<mentor> has", or "" when the check is current.
        """
        day = timezone.localdate() if day is None else day
        due = self.vetting_renewal_due_on
        if due is None:
            return "no vetting check recorded"
        if due <= day:
            return (
                f"a vetting check of {self.vetting_checked_on:%d/%m/%Y}, due for renewal "
                f"since {due:%d/%m/%Y}"
            )
        return ""

    @property
    def vetting_current(self):
        return not self.vetting_problem()

    @property
    def vetting_flag(self):
        """The flag lists show: "No vetting check", "Vetting renewal due", or ""."""
        if self.vetting_checked_on is None:
            return "No vetting check"
        return "" if self.vetting_current else "Vetting renewal due"

    def clean(self):
        if self.vetting_checked_on and self.vetting_checked_on > timezone.localdate():
            raise ValidationError({"vetting_checked_on": "This date is in the future."})
        if self.started_on and self.ended_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": "A mentor cannot finish before they started."})
        if self.ended_on and self.pk:
            # Leaving ends the mentor's open assignments on this day (services.mentor_save).
            open_assignments = self.assignments.filter(ended_on__isnull=True)
            later = (
                open_assignments.filter(started_on__gt=self.ended_on)
                .select_related("client")
                .order_by("started_on", "pk")
                .first()
            )
            if later:
                raise ValidationError(
                    {
                        "ended_on": f"{self.full_name} started with {later.client.reference} "
                        f"on {later.started_on:%d/%m/%Y}, after this date: reassign that "
                        "client first, or give a later date."
                    }
                )
            if self.ended_on > timezone.localdate() and open_assignments.exists():
                raise ValidationError(
                    {
                        "ended_on": f"{self.full_name} still has clients: enter the date on "
                        "or after the day they leave. Their assignments then end on that "
                        "day, and the clients wait for a new mentor on their coordinators' "
                        "home page."
                    }
                )

    def serves(self, borough):
        return (
            self.home_borough_id == borough.pk or self.other_boroughs.filter(pk=borough.pk).exists()
        )


def completed_case(prefix=""):
    """
    A case closed as completed, the one that is followed up at 3, 6 and 12 months, as a
    condition on a client (``prefix`` "client__" for a client's records). Plain values: the
    clients' partial index is declared with it before the choices exist.
    """
    return Q(**{f"{prefix}status": "CLOSED", f"{prefix}closure_reason": "COMPLETED"})


class ClientQuerySet(models.QuerySet):
    def for_user(self, user):
        """
        The one entry point for "which clients may this user reach". Coordinators and
        managers: their boroughs (managers then see aggregates only, which the views
        enforce); mentors: clients they are assigned to now; admins: everyone.
        """
        if staff_role(user) == StaffProfile.Role.MENTOR:
            return self.filter(assignments__mentor__user=user, assignments__ended_on__isnull=True)
        ids = borough_ids_for(user)
        return self if ids is None else self.filter(borough__in=ids)

    def active_on(self, day):
        return self.filter(Q(started_on__lte=day), Q(ended_on__isnull=True) | Q(ended_on__gt=day))

    def completed(self):
        """Cases closed as completed: those followed up at 3, 6 and 12 months."""
        return self.filter(completed_case())

    def followup_due(self, today):
        """
        Completed cases with a check-in due in the last 30 days or the next 7 and not yet
        recorded, annotated ``followup_point`` (3, 6 or 12) and ``due_day`` (its due date as
        a day number, to sort on). A client's three windows of end dates lie months apart,
        so each client is in one at most, and that window says which check-in is due. Read
        through the completed cases' (borough, end date) index.
        """
        # Late: the metrics import the models.
        from .metrics.sql import EpochDay
        from .metrics.windows import (
            FOLLOWUP_DUE_DAYS,
            FOLLOWUP_QUEUE_AHEAD_DAYS,
            FOLLOWUP_QUEUE_PAST_DAYS,
        )

        windows = {
            point: Q(
                ended_on__gte=today - timedelta(days=days + FOLLOWUP_QUEUE_PAST_DAYS),
                ended_on__lte=today - timedelta(days=days - FOLLOWUP_QUEUE_AHEAD_DAYS),
            )
            for point, days in FOLLOWUP_DUE_DAYS.items()
        }
        in_any = Q()
        for window in windows.values():
            in_any |= window
        recorded = FollowUp.objects.filter(client=OuterRef("pk"), point=OuterRef("followup_point"))
        return (
            self.completed()
            .filter(in_any)
            .annotate(
                followup_point=Case(
                    *(When(window, then=Value(point)) for point, window in windows.items()),
                    output_field=models.IntegerField(),
                ),
                due_day=Case(
                    *(
                        When(window, then=EpochDay("ended_on") + FOLLOWUP_DUE_DAYS[point])
                        for point, window in windows.items()
                    ),
                    output_field=models.IntegerField(),
                ),
            )
            .filter(~Exists(recorded))
        )

    def with_last_attended(self):
        """Annotate ``last_attended_on``: the date of the latest attended session."""
        latest = (
            SupportSession.objects.attended()
            .filter(client=OuterRef("pk"))
            .order_by("-date")
            .values("date")[:1]
        )
        return self.annotate(last_attended_on=Subquery(latest))

    @staticmethod
    def _open_assignment():
        return Assignment.objects.filter(client=OuterRef("pk"), ended_on__isnull=True)

    def without_mentor(self):
        """Clients with no open assignment (an anti-join on the one-open-per-client index)."""
        return self.filter(~Exists(self._open_assignment()))

    def with_current_mentor(self):
        """Annotate ``current_mentor_id`` and ``current_mentor_name`` from the open assignment."""
        current = self._open_assignment()
        return self.annotate(
            current_mentor_id=Subquery(current.values("mentor")[:1]),
            current_mentor_name=Subquery(
                current.annotate(
                    name=Concat("mentor__first_name", Value(" "), "mentor__last_name")
                ).values("name")[:1]
            ),
        )

    def named_alike(self, first, last, born):
        """
        Clients born on ``born`` whose first name is ``first`` or last name is ``last``, in
        any case: who may be the same young person. Either name may be blank; each value
        may be an expression (``OuterRef``). Read through the date-of-birth index.
        """
        names = Q()
        for field, name in (("first_name", first), ("last_name", last)):
            if name:
                name = Value(name.strip()) if isinstance(name, str) else name
                names |= Q(**{f"{field}_upper": Upper(name)})
        return self.alias(
            first_name_upper=Upper("first_name"), last_name_upper=Upper("last_name")
        ).filter(names, date_of_birth=born)

    def known_twice(self):
        """
        Clients sharing a date of birth and a first or last name with another client, in
        any borough: records that may be one young person's twice (the admin's filter). A
        record and the one it was transferred to are one young person's on purpose: two
        cases in two areas, not a pair to bring together.
        """
        others = Client.objects.apart_from(
            OuterRef("pk"), OuterRef("transferred_from")
        ).named_alike(OuterRef("first_name"), OuterRef("last_name"), OuterRef("date_of_birth"))
        return self.filter(Exists(others))

    def apart_from(self, pk, transferred_from):
        """
        Clients other than client ``pk`` and the records of its young person's case in the
        area they were transferred from (``transferred_from``, None if none) or to: the
        ones that may be a second record of them. Values or expressions (``OuterRef``).
        """
        # COALESCE: "pk = NULL" would be unknown, and NOT of it would leave out every row.
        return (
            self.exclude(pk=pk)
            .exclude(pk=Coalesce(transferred_from, 0))
            .exclude(transferred_from=pk)
        )

    def transfer_partners(self, client):
        """
        ``(moved_from, moved_to)``: the records of ``client``'s young person in the area
        they moved from and the one they moved to (``services.client_transfer``), with
        their boroughs, or None. No query for a client who was never transferred: only a
        referral from another area or a case closed as transferred can have one.
        """
        moved_from = moved_to = None
        if client.transferred_from_id or client.closure_reason == Client.ClosureReason.TRANSFERRED:
            partners = self.select_related("borough").filter(
                Q(pk=client.transferred_from_id) | Q(transferred_from=client.pk)
            )
            for other in partners:
                if other.pk == client.transferred_from_id:
                    moved_from = other
                else:
                    moved_to = other
        return moved_from, moved_to

    def awaiting_outcome(self):
        """Clients with an offence whose outcome (conviction, caution or decision) is pending."""
        pending = Offence.objects.filter(client=OuterRef("pk"), disposal=Offence.Disposal.PENDING)
        return self.filter(Exists(pending))

    def needing_contact(self, as_of, days=None):
        """
        Clients active on ``as_of`` with no attended session dated in the ``days`` (default
        NEEDS_CONTACT_DAYS) up to and including ``as_of``.
        """
        from .metrics.windows import NEEDS_CONTACT_DAYS  # late: the metrics import the models

        days = NEEDS_CONTACT_DAYS if days is None else days
        recent = SupportSession.objects.attended_within(as_of, days).filter(client=OuterRef("pk"))
        return self.active_on(as_of).filter(~Exists(recent))


class Client(PersonName):
    """A young person referred to the programme."""

    class Gender(models.TextChoices):
        FEMALE = "FEMALE", "Female"
        MALE = "MALE", "Male"
        NON_BINARY = "NON_BINARY", "Non-binary"
        OTHER = "OTHER", "Other"
        NOT_STATED = "NOT_STATED", "Prefer not to say"

    class Ethnicity(models.TextChoices):
        # The five high-level groups of the 2021 census for England and Wales.
        ASIAN = "ASIAN", "Asian or Asian British"
        BLACK = "BLACK", "Black, Black British, Caribbean or African"
        MIXED = "MIXED", "Mixed or multiple ethnic groups"
        WHITE = "WHITE", "White"
        OTHER = "OTHER", "Other ethnic group"
        NOT_STATED = "NOT_STATED", "Prefer not to say"

    class ReferralSource(models.TextChoices):
        POLICE = "POLICE", "Police"
        PROBATION = "PROBATION", "Probation"
        YOUTH_OFFENDING_TEAM = "YOUTH_OFFENDING_TEAM", "Youth offending team"
        PRISON = "PRISON", "Prison"
        COURT = "COURT", "Court"
        SOCIAL_SERVICES = "SOCIAL_SERVICES", "Social services"
        SCHOOL = "SCHOOL", "School"
        SELF = "SELF", "Self-referral"
        FAMILY = "FAMILY", "Family"
        TRANSFER = "TRANSFER", "Another SOS area"
        OTHER = "OTHER", "Other"

    class Status(models.TextChoices):
        REFERRED = "REFERRED", "Referred"
        ACTIVE = "ACTIVE", "Active"
        CLOSED = "CLOSED", "Closed"
        DECLINED = "DECLINED", "Declined"

    class ClosureReason(models.TextChoices):
        COMPLETED = "COMPLETED", "Completed"
        DISENGAGED = "DISENGAGED", "Disengaged"
        CUSTODY = "CUSTODY", "Returned to custody"
        MOVED_AWAY = "MOVED_AWAY", "Moved away"
        TRANSFERRED = "TRANSFERRED", "Transferred"
        DECEASED = "DECEASED", "Deceased"
        OTHER = "OTHER", "Other"

        @classmethod
        def closable_choices(cls):
            """The reasons a person may pick: TRANSFERRED is set by a transfer only."""
            return [(value, label) for value, label in cls.choices if value != cls.TRANSFERRED]

    class RiskLevel(models.TextChoices):
        LOW = "LOW", "Low"
        MEDIUM = "MEDIUM", "Medium"
        HIGH = "HIGH", "High"

    reference = models.CharField(max_length=20, unique=True, editable=False)
    # Empty only once the record is anonymised under the retention policy.
    date_of_birth = models.DateField(null=True)
    gender = models.CharField(max_length=20, choices=Gender.choices)
    ethnicity = models.CharField(
        max_length=20, choices=Ethnicity.choices, blank=True, help_text="For equality monitoring."
    )
    # Indexed by Meta.indexes, which lead with it: no index of its own.
    borough = models.ForeignKey(
        Borough, on_delete=models.PROTECT, related_name="clients", db_index=False
    )
    referral_source = models.CharField(max_length=30, choices=ReferralSource.choices)
    referred_on = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REFERRED)
    started_on = models.DateField(null=True, blank=True, help_text="First day of support.")
    release_date = models.DateField(
        null=True,
        blank=True,
        help_text="If support started in custody, the date of release.",
    )
    ended_on = models.DateField(null=True, blank=True)
    closure_reason = models.CharField(max_length=20, choices=ClosureReason.choices, blank=True)
    risk_level = models.CharField(
        max_length=10, choices=RiskLevel.choices, default=RiskLevel.MEDIUM
    )
    gang_affiliated = models.BooleanField(default=False)
    needs = models.ManyToManyField(
        SupportArea, blank=True, related_name="clients", verbose_name="support needs"
    )
    consent_recorded_on = models.DateField(
        null=True, blank=True, help_text="When the client agreed to their data being held."
    )
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    # The Police National Computer's ID (YYYY/NNNNNNNA): the Justice Data Lab matches a
    # submission surer with it. NULL when unknown, so that adding the column is a plain
    # ADD COLUMN on SQLite, which keeps the figures' triggers on this table.
    pnc_id = models.CharField(  # noqa: DJ001 (NULL on purpose, above)
        "PNC ID",
        max_length=13,
        null=True,
        blank=True,
        help_text="The Police National Computer ID, if known, e.g. 2019/0123456X.",
    )
    anonymised_on = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="When apply_retention removed this client's personal details.",
    )
    # A young person who moved to another area of the programme: the case closed here
    # (TRANSFERRED) and this referral opened there (``services.client_transfer``).
    transferred_from = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="transferred_to",
        editable=False,
        help_text="The record in the area this young person moved from.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = ClientQuerySet.as_manager()
    history = HistoricalRecordsWithLinks(excluded_fields=["version", "updated_at"])

    class Meta:
        ordering = ["-referred_on", "reference"]
        indexes = [
            models.Index(fields=["borough", "status"], name="mentoring_client_bor_status"),
            # The client list's default order within a coordinator's borough: its first
            # page reads 25 index entries instead of sorting all the borough's clients.
            models.Index(
                fields=["borough", "-referred_on", "reference"], name="mentoring_client_referred"
            ),
            # The same order across every borough: the admin's clients list, so that its
            # first page does not sort every client.
            models.Index(fields=["-referred_on", "reference"], name="mentoring_client_newest"),
            # A new referral looks for the same young person already on record, by birth
            # date and name (forms.ReferralForm), without reading every client in scope.
            models.Index(fields=["date_of_birth"], name="mentoring_client_birth"),
            # The cases closed as completed, by end date within a borough: the check-ins
            # due on the coordinator's home page and in the figures, read without the
            # borough's other closed cases.
            models.Index(
                fields=["borough", "ended_on"],
                condition=completed_case(),
                name="mentoring_client_completed",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_of_birth__lt=F("referred_on")),
                name="mentoring_client_born_before_referral",
                violation_error_message="The date of birth must be before the referral date.",
            ),
            models.CheckConstraint(
                condition=Q(started_on__isnull=True) | Q(started_on__gte=F("referred_on")),
                name="mentoring_client_started_after_referral",
                violation_error_message="Support cannot start before the client was referred.",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(started_on__isnull=False, ended_on__gte=F("started_on")),
                name="mentoring_client_ended_after_started",
                violation_error_message="A case can only end on or after the day support started.",
            ),
            models.CheckConstraint(
                condition=Q(release_date__isnull=True)
                | Q(started_on__isnull=False, release_date__gte=F("started_on")),
                name="mentoring_client_released_after_started",
                violation_error_message="A release date needs a start of support on or before it.",
            ),
            models.CheckConstraint(
                condition=Q(status="CLOSED", closure_reason__gt="")
                | (~Q(status="CLOSED") & Q(closure_reason="")),
                name="mentoring_client_closure_reason_when_closed",
                violation_error_message=(
                    "A closed case needs a closure reason, and only a closed case has one."
                ),
            ),
            # Dates follow the status: the metrics read dates, the pages read status, and
            # both must tell the same story.
            models.CheckConstraint(
                condition=Q(
                    status__in=["REFERRED", "DECLINED"],
                    started_on__isnull=True,
                    ended_on__isnull=True,
                )
                | Q(status="ACTIVE", started_on__isnull=False, ended_on__isnull=True)
                | Q(status="CLOSED", started_on__isnull=False, ended_on__isnull=False),
                name="mentoring_client_dates_match_status",
                violation_error_message=(
                    "The dates do not match the status: referred and declined clients have no "
                    "start or end date, active clients have a start date and no end date, "
                    "closed cases have both."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.display_name}"

    def clean(self):
        errors = {}
        if self.date_of_birth and self.referred_on and self.date_of_birth >= self.referred_on:
            errors["date_of_birth"] = "The date of birth must be before the referral date."
        if self.started_on and self.referred_on and self.started_on < self.referred_on:
            errors["started_on"] = "Support cannot start before the client was referred."
        if self.ended_on:
            if not self.started_on:
                errors["ended_on"] = "A case can only end after support has started."
            elif self.ended_on < self.started_on:
                errors["ended_on"] = "The case cannot end before support started."
        if self.release_date:
            if not self.started_on:
                errors["release_date"] = "Enter the start of support before a release date."
            elif self.release_date < self.started_on:
                errors["release_date"] = (
                    "The release date cannot be before support started: support that starts "
                    "after release has no release date."
                )
        if self.status == self.Status.CLOSED and not self.closure_reason:
            errors["closure_reason"] = "Give a reason for closing the case."
        if self.status != self.Status.CLOSED and self.closure_reason:
            errors["closure_reason"] = "Only a closed case has a closure reason."
        if self.status in (self.Status.REFERRED, self.Status.DECLINED) and self.started_on:
            errors.setdefault(
                "started_on",
                f"A {self.get_status_display().lower()} client has not started support: "
                "clear the start date or mark them active.",
            )
        if self.status == self.Status.ACTIVE:
            if not self.started_on:
                errors.setdefault("started_on", "An active client needs a start date.")
            if self.ended_on:
                errors.setdefault("ended_on", "An active client has no end date: close the case.")
        if self.status == self.Status.CLOSED and not self.ended_on:
            errors.setdefault("ended_on", "A closed case needs the date it ended.")
        if self.status == self.Status.DECLINED and self.ended_on:
            errors.setdefault("ended_on", "A declined referral never started, so has no end date.")
        today = timezone.localdate()
        for field in ("referred_on", "started_on", "ended_on", "consent_recorded_on"):
            value = getattr(self, field)
            if value and value > today:
                errors.setdefault(field, "This date is in the future.")
        if (
            self.consent_recorded_on
            and self.date_of_birth
            and self.consent_recorded_on <= self.date_of_birth
        ):
            errors.setdefault(
                "consent_recorded_on", "Consent cannot be recorded before the client was born."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def is_completed(self):
        """Closed as completed: the case is followed up at 3, 6 and 12 months."""
        return (
            self.status == self.Status.CLOSED
            and self.closure_reason == self.ClosureReason.COMPLETED
        )

    @property
    def release_is_future(self):
        """Support started in custody and the client is not out yet."""
        return bool(self.release_date and self.release_date > timezone.localdate())

    @property
    def index_date(self):
        """The day the 12-month reoffending follow-up starts (release, else start)."""
        return self.release_date or self.started_on

    @property
    def age_at_referral(self):
        if self.date_of_birth and self.referred_on:
            return age_on(self.date_of_birth, self.referred_on)
        return None

    @property
    def outside_target_age(self):
        age = self.age_at_referral
        return age is not None and not (
            settings.SOS_TARGET_AGE_MIN <= age <= settings.SOS_TARGET_AGE_MAX
        )


class FormerReference(models.Model):
    """
    The reference of a client record brought into another one (two records of one young
    person, ``services.clients_merge``): links, searches and imports that still use it
    reach the record kept. Borough counters only go up, so no new record takes it.
    """

    reference = models.CharField(max_length=20, unique=True)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="former_references")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reference"]

    def __str__(self):
        return f"{self.reference}, now {self.client.reference}"


class ClientRecordQuerySet(models.QuerySet):
    """Records that belong to a client are scoped through the client."""

    def for_user(self, user):
        return self.filter(client__in=Client.objects.for_user(user).values("pk"))


class Assignment(models.Model):
    """A mentor working with a client for a period."""

    class EndReason(models.TextChoices):
        CASE_CLOSED = "CASE_CLOSED", "Case closed"
        REASSIGNED = "REASSIGNED", "Reassigned to another mentor"
        MENTOR_LEFT = "MENTOR_LEFT", "Mentor left the programme"
        CLIENT_REQUEST = "CLIENT_REQUEST", "Client asked for a change"
        OTHER = "OTHER", "Other"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="assignments")
    # Indexed by (mentor, ended_on) in Meta.indexes.
    mentor = models.ForeignKey(
        Mentor, on_delete=models.PROTECT, related_name="assignments", db_index=False
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)

    objects = ClientRecordQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_on"]
        indexes = [
            models.Index(fields=["mentor", "ended_on"], name="mentoring_assign_mentor_open"),
            # The admin's assignments list, newest first, so that its first page does not
            # sort every assignment.
            models.Index(fields=["started_on", "id"], name="mentoring_assign_started"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(ended_on__isnull=True),
                name="mentoring_assignment_one_open_per_client",
                violation_error_message="This client already has a mentor: end that "
                "assignment first, or use reassign.",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="mentoring_assignment_ended_after_started",
                violation_error_message="The assignment cannot end before it started.",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True, end_reason="")
                | Q(ended_on__isnull=False, end_reason__gt=""),
                name="mentoring_assignment_end_reason_when_ended",
                violation_error_message=(
                    "An ended assignment needs an end reason, and only an ended one has one."
                ),
            ),
        ]

    def __str__(self):
        end = self.ended_on.strftime("%d/%m/%Y") if self.ended_on else "now"
        start = self.started_on.strftime("%d/%m/%Y")
        return f"{self.mentor.full_name} → {self.client.reference} ({start} to {end})"

    def clean(self):
        errors = {}
        if self.started_on and self.ended_on and self.ended_on < self.started_on:
            errors["ended_on"] = "The assignment cannot end before it started."
        if self.ended_on and not self.end_reason:
            errors["end_reason"] = "Say why the assignment ended."
        if self.end_reason and not self.ended_on:
            errors["ended_on"] = "Give the date the assignment ended."
        if self.client_id and self.mentor_id:
            if not self.mentor.serves(self.client.borough):
                errors["mentor"] = (
                    f"{self.mentor.full_name} does not serve {self.client.borough}: choose a "
                    "mentor who works there, or add the borough to the mentor's boroughs."
                )
            if self.started_on and self.started_on < self.client.referred_on:
                errors["started_on"] = "A mentor cannot be assigned before the referral."
        if errors:
            raise ValidationError(errors)


class SupportSessionQuerySet(ClientRecordQuerySet):
    def attended(self):
        """Sessions that took place: attended, or attended late."""
        return self.filter(attendance__in=SupportSession.ATTENDED_VALUES)

    def attended_within(self, as_of, days):
        """Attended sessions dated in (as_of - days, as_of], the window every figure uses."""
        return self.attended().filter(date__gt=as_of - timedelta(days=days), date__lte=as_of)


class SupportSession(models.Model):
    """One contact between a mentor and a client."""

    class Kind(models.TextChoices):
        PRACTICAL = "PRACTICAL", "Practical"
        EMOTIONAL = "EMOTIONAL", "Emotional"
        BOTH = "BOTH", "Practical and emotional"

    class Mode(models.TextChoices):
        IN_PERSON = "IN_PERSON", "In person"
        PHONE = "PHONE", "Phone"
        VIDEO = "VIDEO", "Video call"
        PRISON_VISIT = "PRISON_VISIT", "Prison visit"
        COURT = "COURT", "At court"
        HOME_VISIT = "HOME_VISIT", "Home visit"
        TEXT = "TEXT", "Text / messaging"

    class Attendance(models.TextChoices):
        ATTENDED = "ATTENDED", "Attended"
        LATE = "LATE", "Attended late"
        DID_NOT_ATTEND = "DID_NOT_ATTEND", "Did not attend"
        CANCELLED_BY_CLIENT = "CANCELLED_BY_CLIENT", "Cancelled by client"
        CANCELLED_BY_MENTOR = "CANCELLED_BY_MENTOR", "Cancelled by mentor"

    ATTENDED_VALUES = (Attendance.ATTENDED, Attendance.LATE)

    # Indexed by (client, date) and (mentor, date) in Meta.indexes.
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="sessions", db_index=False
    )
    mentor = models.ForeignKey(
        Mentor, on_delete=models.PROTECT, related_name="sessions", db_index=False
    )
    date = models.DateField()
    start_time = models.TimeField(null=True, blank=True)
    # The range is a named constraint with one readable message from clean(); field
    # validators would say the same thing a second time in other words.
    duration_minutes = models.PositiveSmallIntegerField(
        default=60, help_text="Between 5 minutes and 12 hours (720 minutes)."
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.BOTH)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.IN_PERSON)
    attendance = models.CharField(
        max_length=30, choices=Attendance.choices, default=Attendance.ATTENDED
    )
    support_areas = models.ManyToManyField(SupportArea, blank=True, related_name="sessions")
    notes = models.TextField(blank=True)
    safeguarding_concern = models.BooleanField(
        default=False, help_text="Tick to alert the coordinator to a safeguarding concern."
    )
    # A concern stays on the coordinators' home page until one of them records what was
    # done about it: who, when and what (``services.safeguarding_handle``).
    safeguarding_handled_at = models.DateTimeField(
        "safeguarding concern handled", null=True, blank=True, editable=False
    )
    safeguarding_handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="safeguarding concern handled by",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    safeguarding_action = models.TextField(
        "what was done about the safeguarding concern", blank=True, editable=False
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    # Rendered into the form when it is shown: a double click or a resubmitted form
    # carries the same token, and the unique constraint turns the second insert away.
    submission_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    objects = SupportSessionQuerySet.as_manager()
    history = HistoricalRecordsWithLinks(excluded_fields=["version", "updated_at"])

    class Meta:
        ordering = ["-date", "-start_time", "-pk"]
        verbose_name = "support session"
        indexes = [
            models.Index(fields=["client", "date"], name="mentoring_session_client_date"),
            # The dashboards' windows ("attended in the last 14/28 days", sessions per
            # month) select sessions by date across all clients.
            # Covering: the monthly and 28-day figures read these columns from the index
            # alone (an index-only scan) instead of visiting a year of table rows.
            models.Index(
                fields=["date"],
                include=["attendance", "duration_minutes", "client"],
                name="mentoring_session_date",
            ),
            models.Index(fields=["mentor", "date"], name="mentoring_session_mentor_date"),
            # The home page's "recently logged sessions": walked newest first until ten
            # of the user's clients' are found, instead of sorting a borough's sessions.
            models.Index(fields=["created_at", "id"], name="mentoring_session_created"),
            # The home page's open safeguarding concerns, however old: the index holds
            # only those (one session in a hundred raises a concern, and most are handled),
            # and the home page reads it whole (views._open_concerns). It leads with the
            # client for a look-up of one client's open concerns.
            models.Index(
                fields=["client", "date"],
                condition=Q(safeguarding_concern=True, safeguarding_handled_at__isnull=True),
                name="mentoring_session_sg_open",
            ),
            # ... and the concerns handled in the last 14 days, newest first.
            models.Index(
                fields=["safeguarding_handled_at"],
                condition=Q(safeguarding_handled_at__isnull=False),
                name="mentoring_session_sg_handled",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=DURATION_MIN_MINUTES)
                & Q(duration_minutes__lte=DURATION_MAX_MINUTES),
                name="mentoring_supportsession_duration_range",
                violation_error_message=(
                    "A session lasts between 5 minutes and 12 hours (720 minutes)."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.date:%d/%m/%Y} {self.client.reference} with {self.mentor.full_name}"

    def clean(self):
        errors = {}
        if self.date:
            if self.date > timezone.localdate():
                errors["date"] = "A session cannot be logged for a future date."
            elif self.client_id:
                if self.date < self.client.referred_on:
                    errors["date"] = (
                        f"The session is before the client's referral on "
                        f"{self.client.referred_on:%d/%m/%Y}."
                    )
                elif self.client.ended_on and self.date > self.client.ended_on:
                    errors["date"] = (
                        f"The session is after the case closed on {self.client.ended_on:%d/%m/%Y}."
                    )
        if self.duration_minutes is not None and not (
            DURATION_MIN_MINUTES <= self.duration_minutes <= DURATION_MAX_MINUTES
        ):
            errors["duration_minutes"] = DURATION_MESSAGE
        if errors:
            raise ValidationError(errors)

    @property
    def attended(self):
        return self.attendance in self.ATTENDED_VALUES


class SessionDay(models.Model):
    """
    Attended sessions per borough and day, and their minutes: the dashboards' session
    figures (per month, in the last 28 days) add up a few hundred of these rows instead of
    reading a year of sessions (two million at London scale). The borough is the client's
    borough now, as everywhere in the figures.

    Kept by database triggers on sessions, their support areas and clients' boroughs
    (mentoring/summaries.py, installed by migration 0009), so every write counts: forms,
    admin, imports, bulk and raw SQL. ``manage.py summaries --check`` compares the table
    with a count made from the sessions themselves.
    """

    # Indexed by the unique key, which leads with it.
    borough = models.ForeignKey(Borough, on_delete=models.CASCADE, related_name="+", db_index=False)
    date = models.DateField()
    sessions = models.IntegerField()
    minutes = models.IntegerField()

    class Meta:
        verbose_name = "attended sessions on a day (summary)"
        constraints = [
            models.UniqueConstraint(fields=["borough", "date"], name="mentoring_sessionday_key")
        ]
        # The network's figures select by date across every borough.
        indexes = [models.Index(fields=["date"], name="mentoring_sessionday_date")]

    def __str__(self):
        return f"{self.date}: {self.sessions} attended sessions, {self.minutes} minutes"


class SessionAreaDay(models.Model):
    """
    Attended sessions per borough, day and support area covered (a session covering three
    areas counts once in each): the dashboards' "support areas covered". Kept like
    SessionDay.
    """

    # Indexed by the unique key, which leads with it.
    borough = models.ForeignKey(Borough, on_delete=models.CASCADE, related_name="+", db_index=False)
    date = models.DateField()
    support_area = models.ForeignKey(SupportArea, on_delete=models.CASCADE, related_name="+")
    sessions = models.IntegerField()

    class Meta:
        verbose_name = "attended sessions on a day, by support area (summary)"
        constraints = [
            models.UniqueConstraint(
                fields=["borough", "date", "support_area"], name="mentoring_sessionareaday_key"
            )
        ]
        indexes = [models.Index(fields=["date"], name="mentoring_sessionareaday_date")]

    def __str__(self):
        return f"{self.date}: {self.sessions} attended sessions covering an area"


class BoroughVersion(models.Model):
    """
    Two numbers per borough that database triggers raise whenever a record its figures are
    made from changes (mentoring/summaries.py): ``version`` for its grants and itself
    (its cost per client), and ``sessions_version`` for its sessions and their support
    areas (and clients, whose dates decide who needs contact); its cases have a number per
    shard (CaseShardVersion). A borough's figures are cached in two halves under them
    (metrics.borough_parts), so a cached figure is never older than the data, and a logged
    session recomputes only the cheap half: contact, sessions, hours and support areas.

    No foreign key: a counter may outlive its borough, and a trigger must never be able
    to make a write fail.
    """

    borough_id = models.BigIntegerField(primary_key=True)
    version = models.BigIntegerField(default=0)
    sessions_version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "borough figures version"

    def __str__(self):
        return f"borough {self.borough_id}: version {self.version}.{self.sessions_version}"


class CaseShardVersion(models.Model):
    """
    Two numbers per shard of a borough's cases, its clients referred in one calendar
    year, that database triggers raise (mentoring/summaries.py): ``version`` whenever one
    of those clients or their offences change, ``milestones_version`` whenever one of
    those clients or their milestones change. The cases half of a borough's figures is
    the sum of its shards', each cached in two parts under these numbers
    (metrics.borough_parts), so a changed case recomputes one year of clients, not the
    borough, and a recorded milestone only that year's milestones. The triggers keep a
    row for every shard that has a client (``summaries --check`` verifies it).
    """

    borough_id = models.BigIntegerField()
    year = models.IntegerField()
    version = models.BigIntegerField(default=0)
    milestones_version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "case shard figures version"
        constraints = [
            models.UniqueConstraint(
                fields=["borough_id", "year"], name="mentoring_caseshardversion_key"
            )
        ]

    def __str__(self):
        return (
            f"borough {self.borough_id}, {self.year}: "
            f"version {self.version}, milestones {self.milestones_version}"
        )


class Offence(models.Model):
    """An offence by a client, before (history) or after (possible reoffence) the index date."""

    class Disposal(models.TextChoices):
        CUSTODY = "CUSTODY", "Custody"
        SUSPENDED_SENTENCE = "SUSPENDED_SENTENCE", "Suspended sentence"
        COMMUNITY_ORDER = "COMMUNITY_ORDER", "Community order"
        YOUTH_REHABILITATION_ORDER = "YOUTH_REHABILITATION_ORDER", "Youth rehabilitation order"
        REFERRAL_ORDER = "REFERRAL_ORDER", "Referral order"
        FINE = "FINE", "Fine"
        CONDITIONAL_DISCHARGE = "CONDITIONAL_DISCHARGE", "Conditional discharge"
        CAUTION = "CAUTION", "Caution"
        YOUTH_CAUTION = "YOUTH_CAUTION", "Youth caution"
        YOUTH_CONDITIONAL_CAUTION = "YOUTH_CONDITIONAL_CAUTION", "Youth conditional caution"
        PENDING = "PENDING", "Pending"
        NO_FURTHER_ACTION = "NO_FURTHER_ACTION", "No further action"
        ACQUITTED = "ACQUITTED", "Acquitted"

    # Outcomes that are not a conviction or caution, so never a proven (re)offence.
    NOT_PROVEN = (Disposal.PENDING, Disposal.NO_FURTHER_ACTION, Disposal.ACQUITTED)

    class OffenceType(models.TextChoices):
        # Home Office offence groups, as used in proven reoffending statistics.
        VIOLENCE = "VIOLENCE", "Violence against the person"
        ROBBERY = "ROBBERY", "Robbery"
        THEFT = "THEFT", "Theft"
        BURGLARY = "BURGLARY", "Burglary"
        DRUGS = "DRUGS", "Drug offences"
        POSSESSION_OF_WEAPONS = "POSSESSION_OF_WEAPONS", "Possession of weapons"
        PUBLIC_ORDER = "PUBLIC_ORDER", "Public order"
        CRIMINAL_DAMAGE = "CRIMINAL_DAMAGE", "Criminal damage and arson"
        SEXUAL = "SEXUAL", "Sexual offences"
        FRAUD = "FRAUD", "Fraud"
        MOTORING = "MOTORING", "Motoring offences"
        BREACH = "BREACH", "Breach of order or licence"
        OTHER = "OTHER", "Other"

    class Source(models.TextChoices):
        POLICE = "POLICE", "Police"
        PROBATION = "PROBATION", "Probation"
        YOUTH_OFFENDING_TEAM = "YOUTH_OFFENDING_TEAM", "Youth offending team"
        COURT_RECORD = "COURT_RECORD", "Court record"
        SELF_REPORT = "SELF_REPORT", "Self-report"

    # Indexed by (client, offence_date) in Meta.indexes.
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="offences", db_index=False
    )
    offence_date = models.DateField()
    outcome_date = models.DateField(
        null=True, blank=True, help_text="Date of conviction or caution; empty while pending."
    )
    disposal = models.CharField(max_length=30, choices=Disposal.choices)
    offence_type = models.CharField(max_length=30, choices=OffenceType.choices)
    source = models.CharField(max_length=30, choices=Source.choices)
    notes = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    # Raised by each correction, so that two coordinators' crossed edits are detected.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ClientRecordQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        ordering = ["-offence_date"]
        indexes = [
            models.Index(fields=["client", "offence_date"], name="mentoring_offence_client"),
            # The client list's "offence outcome awaited" filter and the home page's queue:
            # the few pending offences, instead of a scan of every offence (twice a page:
            # count and rows).
            models.Index(
                fields=["client"],
                condition=Q(disposal="PENDING"),
                name="mentoring_offence_pending",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome_date__isnull=True) | Q(outcome_date__gte=F("offence_date")),
                name="mentoring_offence_outcome_after_offence",
                violation_error_message="The outcome cannot be before the offence.",
            ),
            models.CheckConstraint(
                condition=Q(disposal="PENDING", outcome_date__isnull=True)
                | (~Q(disposal="PENDING") & Q(outcome_date__isnull=False)),
                name="mentoring_offence_outcome_date_unless_pending",
                violation_error_message=(
                    "An outcome date is needed unless the disposal is pending, and a pending "
                    "case has none."
                ),
            ),
        ]

    def __str__(self):
        return (
            f"{self.client.reference}: {self.get_offence_type_display()} on "
            f"{self.offence_date:%d/%m/%Y} ({self.get_disposal_display()})"
        )

    def clean(self):
        errors = {}
        today = timezone.localdate()
        if self.offence_date and self.offence_date > today:
            errors["offence_date"] = "The offence date is in the future."
        elif self.offence_date and self.client_id and self.client.date_of_birth:
            born = self.client.date_of_birth
            if age_on(born, self.offence_date) < AGE_OF_CRIMINAL_RESPONSIBILITY:
                errors["offence_date"] = (
                    f"The client (born {born:%d/%m/%Y}) was under "
                    f"{AGE_OF_CRIMINAL_RESPONSIBILITY} on that date, below the age of criminal "
                    "responsibility: check the date."
                )
        if self.outcome_date:
            if self.outcome_date > today:
                errors["outcome_date"] = "The outcome date is in the future."
            elif self.offence_date and self.outcome_date < self.offence_date:
                errors["outcome_date"] = "The outcome cannot be before the offence."
        if self.disposal == self.Disposal.PENDING and self.outcome_date:
            errors.setdefault(
                "outcome_date", "A pending case has no outcome date yet: choose the disposal."
            )
        if self.disposal and self.disposal != self.Disposal.PENDING and not self.outcome_date:
            errors.setdefault(
                "outcome_date",
                "Give the date of the outcome (conviction, caution or decision), or mark the "
                "disposal as pending.",
            )
        if errors:
            raise ValidationError(errors)

    @property
    def is_proven(self):
        return self.disposal not in self.NOT_PROVEN


def refuse_day_outside_case(record, field, records):
    """
    A client's record dated in the future, or before the client's referral, is refused:
    ValidationError on ``field``, naming the ``records`` ("Milestones") in the message.
    """
    day = getattr(record, field)
    if not day:
        return
    if day > timezone.localdate():
        raise ValidationError({field: "This date is in the future."})
    if record.client_id and day < record.client.referred_on:
        raise ValidationError({field: f"{records} count from the referral date onwards."})


class Milestone(models.Model):
    """Something a client achieved on the way to a settled life."""

    class Kind(models.TextChoices):
        ENTERED_EMPLOYMENT = "ENTERED_EMPLOYMENT", "Entered employment"
        ENTERED_EDUCATION_OR_TRAINING = (
            "ENTERED_EDUCATION_OR_TRAINING",
            "Entered education or training",
        )
        SECURED_ACCOMMODATION = "SECURED_ACCOMMODATION", "Secured accommodation"
        REGISTERED_WITH_GP = "REGISTERED_WITH_GP", "Registered with a GP"
        OBTAINED_ID = "OBTAINED_ID", "Obtained ID"
        OPENED_BANK_ACCOUNT = "OPENED_BANK_ACCOUNT", "Opened a bank account"
        STARTED_VOLUNTEERING = "STARTED_VOLUNTEERING", "Started volunteering"
        BECAME_PEER_MENTOR = "BECAME_PEER_MENTOR", "Became a peer mentor"
        OTHER = "OTHER", "Other"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="milestones")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    achieved_on = models.DateField()
    evidence = models.TextField(blank=True, help_text="How we know, e.g. 'copy of contract seen'.")
    verified = models.BooleanField(default=False)
    # Raised by each correction, so that two coordinators' crossed edits are detected.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ClientRecordQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        ordering = ["-achieved_on"]
        indexes = [
            # The dashboards' "milestones achieved" in the last year, across a scope's
            # clients: read from the index alone (a year is a sixth of the milestones)
            # instead of every milestone's row. Also the admin's date filter.
            models.Index(
                fields=["achieved_on"],
                include=["client", "kind"],
                name="mentoring_milestone_achieved",
            ),
        ]

    def __str__(self):
        return f"{self.client.reference}: {self.get_kind_display()} ({self.achieved_on:%d/%m/%Y})"

    def clean(self):
        refuse_day_outside_case(self, "achieved_on", "Milestones")


class Goal(models.Model):
    """An item of a client's support plan."""

    class Status(models.TextChoices):
        OPEN = "OPEN", "Open"
        ACHIEVED = "ACHIEVED", "Achieved"
        PARTIALLY_ACHIEVED = "PARTIALLY_ACHIEVED", "Partially achieved"
        NOT_ACHIEVED = "NOT_ACHIEVED", "Not achieved"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="goals")
    support_area = models.ForeignKey(SupportArea, on_delete=models.PROTECT, related_name="goals")
    description = models.CharField(max_length=300)
    set_on = models.DateField(default=timezone.localdate)
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    # The day the goal stopped being open (achieved, or not), for the client's timeline:
    # set by ``clean`` when the status leaves OPEN, cleared when it is opened again.
    reviewed_on = models.DateField("outcome recorded on", null=True, blank=True, editable=False)
    # Raised by each change, so that two coordinators' crossed edits are detected.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ClientRecordQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        ordering = ["status", "target_date"]
        indexes = [
            # The admin's goals list, newest first (``GoalAdmin.ordering``), and its "set
            # on" filter: read a page from this index instead of sorting every goal.
            models.Index(fields=["set_on", "id"], name="mentoring_goal_set_on"),
        ]

    def __str__(self):
        return f"{self.client.reference}: {self.description}"

    @property
    def is_overdue(self):
        """Still open after its target date (the support plan flags it for review)."""
        return (
            self.status == self.Status.OPEN
            and self.target_date is not None
            and self.target_date < timezone.localdate()
        )

    def clean(self):
        errors = {}
        if self.set_on:
            if self.set_on > timezone.localdate():
                errors["set_on"] = "This date is in the future."
            elif self.client_id and self.set_on < self.client.referred_on:
                errors["set_on"] = (
                    f"The goal is set before the client's referral on "
                    f"{self.client.referred_on:%d/%m/%Y}."
                )
            elif self.client_id and self.client.ended_on and self.set_on > self.client.ended_on:
                errors["set_on"] = (
                    f"The case was closed on {self.client.ended_on:%d/%m/%Y}: "
                    "a goal cannot be set after that."
                )
        if self.set_on and self.target_date and self.target_date < self.set_on:
            errors["target_date"] = "The target date is before the goal was set."
        if errors:
            raise ValidationError(errors)
        if self.status == self.Status.OPEN:
            self.reviewed_on = None
        elif self.reviewed_on is None:
            self.reviewed_on = timezone.localdate()


class JusticeDataLabResult(models.Model):
    """
    The Justice Data Lab's answer to a submission (``mentoring.jdl``): the one-year proven
    reoffending of the people the programme supported and of a matched comparison group
    the Lab built, the programme's one matched comparison. The dashboards show the latest
    one published for their scope beside the context figures.
    """

    borough = models.ForeignKey(
        Borough,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="justice_data_lab_results",
        verbose_name="area",
        help_text="The area submitted; empty for the whole programme.",
    )
    period_start = models.DateField("support started from")
    period_end = models.DateField("to")
    people_matched = models.PositiveIntegerField(
        help_text="How many of the people sent the Lab matched and kept."
    )
    treatment_rate = models.DecimalField(
        "reoffending of the people supported",
        max_digits=5,
        decimal_places=4,
        help_text="One-year proven reoffending rate, as a fraction (0.21 for 21%).",
    )
    comparison_rate = models.DecimalField(
        "reoffending of the comparison group",
        max_digits=5,
        decimal_places=4,
        help_text="As a fraction (0.32 for 32%).",
    )
    p_value = models.DecimalField(
        "p-value", max_digits=6, decimal_places=5, help_text="Of the difference, as published."
    )
    published_on = models.DateField()
    link = models.URLField(blank=True, help_text="Where the Lab published the report.")

    class Meta:
        ordering = ["-published_on", "-pk"]
        verbose_name = "Justice Data Lab result"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="mentoring_justicedatalabresult_period",
            ),
            models.CheckConstraint(
                condition=models.Q(treatment_rate__gte=0, treatment_rate__lte=1)
                & models.Q(comparison_rate__gte=0, comparison_rate__lte=1)
                & models.Q(p_value__gte=0, p_value__lte=1),
                name="mentoring_justicedatalabresult_fractions",
            ),
        ]

    def __str__(self):
        scope = self.borough.name if self.borough_id else "All areas"
        return f"{scope}, {self.period_start:%d/%m/%Y} to {self.period_end:%d/%m/%Y}"

    # Significance at the 5% level, as the Lab reports it.
    SIGNIFICANCE = 0.05

    @property
    def significant(self):
        return self.p_value < Decimal(str(self.SIGNIFICANCE))


class Funder(models.Model):
    class Kind(models.TextChoices):
        TRUST = "TRUST", "Charitable trust"
        LOCAL_AUTHORITY = "LOCAL_AUTHORITY", "Local authority"
        POLICE = "POLICE", "Police"
        RESIDENTS_GROUP = "RESIDENTS_GROUP", "Residents' group"
        CORPORATE = "CORPORATE", "Corporate"
        INDIVIDUAL = "INDIVIDUAL", "Individual"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Grant(models.Model):
    """Money from a funder for one borough's work over a period."""

    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="grants")
    borough = models.ForeignKey(Borough, on_delete=models.PROTECT, related_name="grants")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    starts_on = models.DateField()
    ends_on = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="mentoring_grant_amount_positive",
                violation_error_message="A grant is for more than £0.",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="mentoring_grant_ends_after_starts",
                violation_error_message="The grant cannot end before it starts.",
            ),
        ]

    def __str__(self):
        return f"{self.funder} → {self.borough}: £{self.amount:,.2f} ({self.starts_on:%Y})"

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The grant cannot end before it starts."})
        if self.amount is not None and self.amount <= 0:
            raise ValidationError({"amount": "A grant is for more than £0."})


class EmployerQuerySet(models.QuerySet):
    def for_user(self, user):
        """Employers serving a borough the user works in, or the whole network."""
        ids = borough_ids_for(user)
        return self if ids is None else self.serving(ids)

    def serving(self, borough_ids):
        """Employers of one of ``borough_ids``, or of the whole network (no borough)."""
        return self.filter(Q(borough__isnull=True) | Q(borough__in=borough_ids))


class Employer(models.Model):
    """A business in the employer network that offers clients placements."""

    name = models.CharField(max_length=200, unique=True)
    sector = models.CharField(max_length=100, blank=True)
    borough = models.ForeignKey(
        Borough, null=True, blank=True, on_delete=models.PROTECT, related_name="employers"
    )
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=30, blank=True)
    is_active = models.BooleanField(default=True)

    objects = EmployerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Placement(models.Model):
    class Kind(models.TextChoices):
        JOB = "JOB", "Job"
        APPRENTICESHIP = "APPRENTICESHIP", "Apprenticeship"
        WORK_EXPERIENCE = "WORK_EXPERIENCE", "Work experience"
        TRAINING = "TRAINING", "Training"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="placements")
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="placements")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True, help_text="Empty while it goes on.")
    notes = models.TextField(blank=True)
    # Raised by each correction, so that two coordinators' crossed edits are detected.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ClientRecordQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        ordering = ["-started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="mentoring_placement_ended_after_started",
                violation_error_message="The placement cannot end before it started.",
            ),
        ]

    def __str__(self):
        return f"{self.client.reference}: {self.get_kind_display()} at {self.employer}"

    def clean(self):
        errors = {}
        today = timezone.localdate()
        if self.started_on:
            if self.started_on > today:
                errors["started_on"] = (
                    "This date is in the future: record a placement once it starts."
                )
            elif self.client_id and self.started_on < self.client.referred_on:
                errors["started_on"] = "Placements count from the referral date onwards."
        if self.ended_on:
            if self.ended_on > today:
                errors["ended_on"] = "This date is in the future: record the end once it comes."
            elif self.started_on and self.ended_on < self.started_on:
                errors["ended_on"] = "The placement cannot end before it started."
        if errors:
            raise ValidationError(errors)

    @property
    def is_current(self):
        return self.ended_on is None


class FollowUp(models.Model):
    """
    A check-in with a young person after their case closed as COMPLETED, at 3, 6 or 12
    months (due ``FOLLOWUP_DUE_DAYS`` after it ended): whether they were reached and, if
    so, how they are doing. What they tell of a new offence is their own word, never a
    proven reoffence: the figures do not read it as one.
    """

    class Point(models.IntegerChoices):
        THREE_MONTHS = 3, "3 months"
        SIX_MONTHS = 6, "6 months"
        TWELVE_MONTHS = 12, "12 months"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="followups")
    point = models.PositiveSmallIntegerField(choices=Point.choices)
    done_on = models.DateField("done on", help_text="When they were reached, or last tried.")
    reached = models.BooleanField(help_text="Whether the young person was reached.")
    # The answers, known only when they were reached: empty (NULL) otherwise.
    in_ete = models.BooleanField("in education, training or employment", null=True, blank=True)
    stable_accommodation = models.BooleanField("in stable accommodation", null=True, blank=True)
    new_offence_told = models.BooleanField(
        "tells of a new offence",
        null=True,
        blank=True,
        help_text="Their own word only: never counted as a proven reoffence.",
    )
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    # Raised by each correction, so that two coordinators' crossed edits are detected.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ClientRecordQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        ordering = ["client", "point"]
        verbose_name = "follow-up check-in"
        constraints = [
            models.UniqueConstraint(fields=["client", "point"], name="mentoring_followup_once"),
            models.CheckConstraint(
                condition=Q(
                    reached=True,
                    in_ete__isnull=False,
                    stable_accommodation__isnull=False,
                    new_offence_told__isnull=False,
                )
                | Q(
                    reached=False,
                    in_ete__isnull=True,
                    stable_accommodation__isnull=True,
                    new_offence_told__isnull=True,
                ),
                name="mentoring_followup_answers_when_reached",
                violation_error_message=(
                    "A check-in that reached the young person answers every question; one "
                    "that did not reach them answers none."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.client.reference}: {self.name}"

    @property
    def name(self):
        """ "the 3-month check-in", as the pages say it."""
        return f"{self.point}-month check-in"

    @staticmethod
    def due_on_for(ended_on, point):
        from .metrics.windows import FOLLOWUP_DUE_DAYS  # late: the metrics import the models

        return ended_on + timedelta(days=FOLLOWUP_DUE_DAYS[point])

    @property
    def due_on(self):
        return self.due_on_for(self.client.ended_on, self.point) if self.client.ended_on else None

    def clean(self):
        errors = {}
        client = self.client if self.client_id else None
        if client and not client.is_completed:
            errors["__all__"] = "Check-ins follow a case closed as completed."
        if self.done_on:
            if self.done_on > timezone.localdate():
                errors["done_on"] = "This date is in the future."
            elif client and client.ended_on and self.done_on <= client.ended_on:
                errors["done_on"] = (
                    f"A check-in comes after the case closed on {client.ended_on:%d/%m/%Y}."
                )
        if self.reached is False and any(
            value is not None
            for value in (self.in_ete, self.stable_accommodation, self.new_offence_told)
        ):
            errors.setdefault(
                "reached", "Answers are recorded only for a young person who was reached."
            )
        if self.reached:
            for field in ("in_ete", "stable_accommodation", "new_offence_told"):
                if getattr(self, field) is None:
                    errors.setdefault(field, "Answer yes or no: they were reached.")
        if errors:
            raise ValidationError(errors)


class PathwayStep(models.Model):
    """
    A dated step of a former client on the peer pathway (the St Giles model): volunteering,
    a Level 2 "learning to advise" course, Level 3 Advice and Guidance, peer mentor, paid
    staff. One of each per client.
    """

    class Step(models.TextChoices):
        VOLUNTEERING = "VOLUNTEERING", "Volunteering"
        LEVEL_2 = "LEVEL_2", "Level 2 training (learning to advise)"
        LEVEL_3 = "LEVEL_3", "Level 3 Advice and Guidance"
        PEER_MENTOR = "PEER_MENTOR", "Peer mentor"
        PAID_STAFF = "PAID_STAFF", "Paid staff"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="pathway_steps")
    step = models.CharField(max_length=20, choices=Step.choices)
    reached_on = models.DateField("reached on")
    note = models.TextField(blank=True)
    # Raised by each correction, so that two coordinators' crossed edits are detected.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ClientRecordQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        ordering = ["client", "reached_on", "pk"]
        verbose_name = "peer pathway step"
        constraints = [
            models.UniqueConstraint(fields=["client", "step"], name="mentoring_pathwaystep_once"),
        ]

    def __str__(self):
        return f"{self.client.reference}: {self.get_step_display()} ({self.reached_on:%d/%m/%Y})"

    def clean(self):
        refuse_day_outside_case(self, "reached_on", "Pathway steps")


class AccessLog(models.Model):
    """
    Who looked at, exported or printed which client record, and when. Written by the
    pages themselves; the admin can read it but not change or delete it.
    """

    class Action(models.TextChoices):
        VIEW = "VIEW", "Viewed"
        EXPORT = "EXPORT", "Exported"
        PRINT = "PRINT", "Printed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, help_text="Kept if the user is deleted.")
    # The reference is kept as text so the log outlives the client record.
    # Indexed by (client, at) in Meta.indexes.
    client = models.ForeignKey(
        Client,
        null=True,
        on_delete=models.SET_NULL,
        related_name="access_log",
        db_index=False,
    )
    client_reference = models.CharField(max_length=20)
    action = models.CharField(max_length=10, choices=Action.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["client", "at"], name="mentoring_access_client_at")]

    def __str__(self):
        return f"{self.username} {self.get_action_display().lower()} {self.client_reference}"


class ImpactReportLog(models.Model):
    """
    Each impact report made, on the page, as a PDF or by the command: who, for what scope
    and period, as of when, in what format. Figures that leave the programme are
    accounted for; the admin can read the log but not change it.
    """

    class Scope(models.TextChoices):
        NETWORK = "NETWORK", "Network"
        AREA = "AREA", "Area"
        GRANT = "GRANT", "Grant"

    class Format(models.TextChoices):
        HTML = "HTML", "Web page"
        PDF = "PDF", "PDF"
        JSON = "JSON", "JSON"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, help_text="Kept if the user is deleted.")
    made_at = models.DateTimeField(auto_now_add=True, db_index=True)
    scope = models.CharField(max_length=10, choices=Scope.choices)
    # The scope as it read in the report, kept if the area or grant is deleted.
    scope_name = models.CharField(max_length=300)
    borough = models.ForeignKey(
        Borough, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grant = models.ForeignKey(
        "Grant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    period_start = models.DateField("clients started from")
    period_end = models.DateField("to")
    as_of = models.DateField("figures as of")
    format = models.CharField(max_length=10, choices=Format.choices)
    by_command = models.BooleanField(
        default=False, help_text="Made by manage.py impact_report rather than on the page."
    )

    class Meta:
        ordering = ["-made_at"]
        verbose_name = "impact report made"
        verbose_name_plural = "impact reports made"

    def __str__(self):
        return f"{self.username}: {self.scope_name}, {self.period_start} to {self.period_end}"


class SafeguardingAlert(models.Model):
    """
    An e-mail about a session's safeguarding concern: to the area's coordinators when it
    is saved (ALERT), to its managers when it is still not followed up a day later
    (ESCALATION). One of each per session at most, so that nobody is e-mailed twice for
    one concern; a send that failed keeps its error here, for admins, and is tried again
    by the next ``safeguarding_reminders``.
    """

    class Kind(models.TextChoices):
        ALERT = "ALERT", "To the area's coordinators"
        ESCALATION = "ESCALATION", "To the area's managers, a day later"

    session = models.ForeignKey(
        SupportSession, on_delete=models.CASCADE, related_name="safeguarding_alerts"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveSmallIntegerField(default=0)
    # Who has it, one address a line: a send that fails part way is taken up again with
    # the others only.
    sent_to = models.TextField(blank=True, editable=False)
    error = models.TextField(blank=True, help_text="Why the last try to send failed.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "kind"], name="mentoring_safeguardingalert_once"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: session {self.session_id}"
