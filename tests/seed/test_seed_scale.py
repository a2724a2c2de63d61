"""
seed_scale: the London-wide data set, built here at a small size (SQLite or PostgreSQL,
whichever DATABASE_URL names): exact sizes, every rule of the models, the demo's shape,
determinism, and the reference counters left ready for new records.
"""

import hashlib
import random
from collections import Counter, defaultdict
from datetime import date, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, F, Max, Min, Q
from django.urls import reverse
from django.utils import timezone

from mentoring import metrics, services, summaries
from mentoring.models import (
    AccessLog,
    Assignment,
    Borough,
    Client,
    FollowUp,
    Goal,
    Grant,
    Mentor,
    Milestone,
    Offence,
    Placement,
    SessionAreaDay,
    SessionDay,
    StaffProfile,
    SupportArea,
    SupportSession,
)
from mentoring.seed import reset, scale
from mentoring.seed.logins import DEMO_PASSWORD

from .. import factories

TODAY = date(2026, 11, 26)
SIZES = {"boroughs": 6, "mentors": 50, "clients": 600, "sessions": 12_000, "offences": 360}
TINY = {"boroughs": 4, "mentors": 12, "clients": 200, "sessions": 3_000, "offences": 120}

pytestmark = pytest.mark.django_db

# Rows a migration writes, before any build: not the build's to ANALYZE.
FILLED_BY_MIGRATIONS = {SupportArea}


def seed(*args, sizes=SIZES):
    options = [item for name, n in sizes.items() for item in (f"--{name}", str(n))]
    out = StringIO()
    call_command("seed_scale", *options, "--today", TODAY.isoformat(), *args, stdout=out)
    return out.getvalue()


def remove_scale_data():
    scale.ScaleBuilder.reset()
    get_user_model().objects.filter(username__startswith=scale.SCALE_USERS_PREFIX).delete()


def fingerprint():
    """A hash of the data's content, independent of primary keys and timestamps."""
    digest = hashlib.sha256()
    for rows in (
        Borough.objects.order_by("code").values_list(
            "code", "name", "slug", "launched_on", "last_client_number", "last_mentor_number"
        ),
        Mentor.objects.order_by("reference").values_list(
            "reference", "first_name", "last_name", "started_on", "ended_on", "max_caseload"
        ),
        Client.objects.order_by("reference").values_list(
            "reference",
            "first_name",
            "last_name",
            "date_of_birth",
            "referred_on",
            "started_on",
            "release_date",
            "ended_on",
            "status",
            "closure_reason",
        ),
        Assignment.objects.order_by("client__reference", "started_on").values_list(
            "client__reference", "mentor__reference", "started_on", "ended_on", "end_reason"
        ),
        SupportSession.objects.order_by("submission_token").values_list(
            "submission_token",
            "client__reference",
            "mentor__reference",
            "date",
            "duration_minutes",
            "kind",
            "mode",
            "attendance",
            "notes",
        ),
        SupportSession.support_areas.through.objects.order_by(
            "supportsession__submission_token", "supportarea__slug"
        ).values_list("supportsession__submission_token", "supportarea__slug"),
        Offence.objects.order_by("client__reference", "offence_date", "pk").values_list(
            "client__reference", "offence_date", "outcome_date", "disposal", "offence_type"
        ),
        Milestone.objects.order_by("client__reference", "pk").values_list(
            "client__reference", "kind", "achieved_on"
        ),
    ):
        for row in rows:
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture(scope="class")
def scale_data(django_db_setup, django_db_blocker):
    """The small data set, built once for the class (in its own transaction) and removed."""
    with django_db_blocker.unblock():
        output = seed()
    yield output
    with django_db_blocker.unblock():
        remove_scale_data()


class TestScaleData:
    @pytest.fixture(autouse=True)
    def data(self, scale_data, db):
        self.output = scale_data

    def test_exact_sizes(self):
        assert Borough.objects.count() == SIZES["boroughs"]
        assert Mentor.objects.count() == SIZES["mentors"]
        assert Client.objects.count() == SIZES["clients"]
        assert SupportSession.objects.count() == SIZES["sessions"]
        assert Offence.objects.count() == SIZES["offences"]
        for model in (Assignment, Milestone, Goal, Placement, Grant, FollowUp):
            assert model.objects.exists(), model

    def test_london_boroughs_first_with_unique_codes_and_launches_since_2006(self):
        boroughs = list(Borough.objects.order_by("launched_on", "name"))
        assert [b.name for b in boroughs][:2] == ["Southwark", "Kensington & Chelsea"]
        assert boroughs[0].launched_on.year == 2006
        assert {b.name for b in boroughs} == {area[0] for area in scale.AREAS[:6]}
        assert len({b.code for b in boroughs}) == len({b.slug for b in boroughs}) == 6
        everywhere = [area for area in scale.AREAS if area[3] == "London"]
        assert len(everywhere) == 33  # the 32 London boroughs and the City of London
        assert len({area[2] for area in scale.AREAS}) == len(scale.AREAS)
        assert len({area[1] for area in scale.AREAS}) == len(scale.AREAS)
        for b in boroughs:
            b.full_clean()

    def test_progress_and_summary_are_printed(self):
        for label in ("clients", "sessions", "session support areas", "offences"):
            assert f"  {label} " in self.output
        assert " rows " in self.output
        assert "Scale data loaded in" in self.output
        assert "12,000 sessions" in self.output

    def test_every_model_passes_full_clean_on_a_sample(self):
        picker = random.Random(1)
        for model in (
            Mentor,
            Client,
            Assignment,
            SupportSession,
            Offence,
            Milestone,
            Goal,
            Placement,
            Grant,
            FollowUp,
        ):
            pks = list(model.objects.values_list("pk", flat=True))
            for record in model.objects.filter(pk__in=picker.sample(pks, min(40, len(pks)))):
                record.full_clean()

    def test_statuses_and_dates_follow_the_demo(self):
        statuses = Counter(Client.objects.values_list("status", flat=True))
        assert set(statuses) == set(Client.Status.values)
        assert 0.04 <= statuses["DECLINED"] / SIZES["clients"] <= 0.13
        closed = Client.objects.filter(status=Client.Status.CLOSED)
        completed = closed.filter(closure_reason=Client.ClosureReason.COMPLETED).count()
        assert completed / closed.count() == pytest.approx(0.80, abs=0.01)
        ages = [c.age_at_referral for c in Client.objects.all()]
        assert sum(16 <= age <= 25 for age in ages) / len(ages) >= 0.95
        assert min(ages) >= 15 and max(ages) <= 26
        assert not Client.objects.filter(
            Q(referred_on__gt=TODAY) | Q(started_on__gt=TODAY) | Q(ended_on__gt=TODAY)
        ).exists()

    def test_one_mentor_at_a_time_serving_the_clients_borough(self):
        serves = defaultdict(set)
        for pk, home in Mentor.objects.values_list("pk", "home_borough"):
            serves[pk].add(home)
        for pk, other in Mentor.other_boroughs.through.objects.values_list(
            "mentor_id", "borough_id"
        ):
            serves[pk].add(other)
        mentors = {x.pk: x for x in Mentor.objects.all()}
        open_per_client = Counter()
        for a in Assignment.objects.select_related("client"):
            assert a.client.borough_id in serves[a.mentor_id], a
            mentor = mentors[a.mentor_id]
            assert mentor.started_on <= a.started_on >= a.client.started_on
            if a.ended_on is None:
                open_per_client[a.client_id] += 1
                assert mentor.ended_on is None
            else:
                assert mentor.ended_on is None or mentor.ended_on >= a.ended_on
        active = set(Client.objects.filter(status="ACTIVE").values_list("pk", flat=True))
        assert active
        assert set(open_per_client) == active
        assert set(open_per_client.values()) == {1}
        assert not Assignment.objects.filter(client__status__in=["REFERRED", "DECLINED"]).exists()

    def test_sessions_within_each_case_with_its_mentor_of_the_day(self):
        outside = SupportSession.objects.filter(
            Q(date__lt=F("client__started_on"))
            | Q(client__started_on__isnull=True)
            | Q(date__gt=TODAY)
            | Q(client__ended_on__isnull=False, date__gt=F("client__ended_on"))
        )
        assert not outside.exists()
        periods = defaultdict(list)
        for client, mentor, start, end in Assignment.objects.values_list(
            "client", "mentor", "started_on", "ended_on"
        ):
            periods[client].append((start, end or TODAY, mentor))
        sessions = SupportSession.objects.values_list("client", "mentor", "date")
        assert len(sessions) == SIZES["sessions"]
        for client, mentor, day in sessions:
            assert any(s <= day <= e and m == mentor for s, e, m in periods[client])

    def test_sessions_are_logged_on_their_day_in_working_hours(self):
        """Not all at the moment of the build: the home page's "recently logged" relies on it."""
        now = timezone.now()
        logged = list(SupportSession.objects.values_list("date", "created_at", "updated_at"))
        for day, created, updated in logged:
            local = timezone.localtime(created)
            assert created == updated and created <= now
            assert local.date() == day and (9 <= local.hour < 18 or day == TODAY)
        assert len({created for _day, created, _updated in logged}) > len(logged) // 2

    def test_session_shape_attendance_areas_and_long_cases(self):
        attendance = Counter(SupportSession.objects.values_list("attendance", flat=True))
        attended = sum(attendance[value] for value in SupportSession.ATTENDED_VALUES)
        assert 0.80 <= attended / SIZES["sessions"] <= 0.90
        assert set(attendance) == set(SupportSession.Attendance.values)
        per_session = Counter(
            SupportSession.support_areas.through.objects.values_list("supportsession_id", flat=True)
        )
        assert len(per_session) == SIZES["sessions"]  # every session covers an area
        assert set(per_session.values()) == {1, 2}
        assert 1.3 <= sum(per_session.values()) / SIZES["sessions"] <= 1.7
        per_client = Client.objects.annotate(n=Count("sessions")).filter(n__gt=0)
        started = Client.objects.filter(started_on__isnull=False).count()
        assert 15 <= SIZES["sessions"] / started <= 30
        assert per_client.aggregate(most=Max("n"))["most"] >= 100
        assert not SupportSession.objects.filter(
            Q(mode=SupportSession.Mode.PRISON_VISIT) & ~Q(date__lt=F("client__release_date"))
        ).exists()

    def test_offences_before_and_after_the_index_date(self):
        assert not Offence.objects.filter(
            Q(offence_date__gt=TODAY) | Q(outcome_date__gt=TODAY)
        ).exists()
        before = Offence.objects.filter(offence_date__lt=F("client__referred_on")).count()
        after = Offence.objects.filter(
            Q(offence_date__gt=F("client__release_date"))
            | Q(client__release_date__isnull=True, offence_date__gt=F("client__started_on"))
        ).count()
        assert before + after == SIZES["offences"]
        assert before > 0 and after > 0
        assert not Milestone.objects.filter(achieved_on__lt=F("client__referred_on")).exists()

    def test_network_report_rates_are_plausible(self):
        network = metrics.report(None, TODAY)["network"]
        assert network["clients_referred"] == SIZES["clients"]
        assert network["cohort"] > 200
        assert 0.05 <= network["reoffending_rate"] <= 0.35
        assert 0.15 <= network["reoffending_rate"] <= 0.20  # the case study's band
        for name in (
            "referral_to_start_rate",
            "success_rate",
            "completion_rate",
            "engagement_rate",
            "programme_reached_6_months",
        ):
            assert 0 < network[name] < 1, name
        assert network["sessions_last_28_days"] > 0
        assert network["needs_contact"] < network["active_caseload"]

    def test_reference_counters_are_past_every_generated_reference(self):
        boroughs = Borough.objects.all()
        assert len(boroughs) == SIZES["boroughs"]
        for borough in boroughs:
            numbers = [
                int(reference.rsplit("-", 1)[1])
                for reference in borough.clients.values_list("reference", flat=True)
            ]
            assert borough.last_client_number == max(numbers) == len(numbers)
            assert borough.last_mentor_number == borough.mentors.count()
            [reference] = services.allocate_client_references(borough)
            assert reference == f"{borough.code}-{len(numbers) + 1:05d}"
            assert not Client.objects.filter(reference=reference).exists()
            [mentor_reference] = services.allocate_mentor_references(borough)
            assert not Mentor.objects.filter(reference=mentor_reference).exists()

    def test_a_new_client_gets_a_fresh_reference_and_id(self):
        borough = Borough.objects.get(code="SWK")
        client = services.client_save(
            client=Client(
                first_name="New",
                last_name="Referral",
                date_of_birth=date(2005, 1, 1),
                gender=Client.Gender.MALE,
                borough=borough,
                referral_source=Client.ReferralSource.POLICE,
                referred_on=TODAY,
            )
        )
        assert client.pk > Client.objects.exclude(pk=client.pk).aggregate(top=Max("pk"))["top"]
        assert Client.objects.filter(reference=client.reference).count() == 1

    def test_session_summaries_match_the_sessions(self):
        """COPY runs with the summaries' triggers off; they are rebuilt after the load."""
        assert SessionDay.objects.exists()
        assert summaries.differences() == []

    def test_every_table_it_fills_has_planner_statistics(self):
        """
        On PostgreSQL the build ANALYZEs what it wrote, the summaries included: a table
        without statistics is planned with default guesses until autovacuum comes by.
        """
        if connection.vendor != "postgresql":
            pytest.skip("planner statistics are PostgreSQL's")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema()"
            )
            analysed = {row[0] for row in cursor.fetchall()}
        filled = {
            model._meta.db_table
            for model in apps.get_app_config("mentoring").get_models(include_auto_created=True)
            if model.objects.exists() and model not in FILLED_BY_MIGRATIONS
        }
        assert SessionAreaDay._meta.db_table in filled
        assert sorted(filled - analysed) == []

    def test_no_change_history_is_generated(self):
        assert not Client.history.exists()
        assert not SupportSession.history.exists()
        assert not Assignment.history.exists()

    def test_benchmark_logins(self, client):
        coordinators = StaffProfile.objects.filter(role=StaffProfile.Role.COORDINATOR)
        assert coordinators.count() >= 5
        for profile in coordinators:
            assert profile.boroughs.count() == 1
            assert profile.user.username in self.output
        busiest = Borough.objects.annotate(n=Count("clients")).order_by("-n", "pk").first()
        assert coordinators.filter(boroughs=busiest).exists()
        managers = StaffProfile.objects.filter(role=StaffProfile.Role.MANAGER)
        assert managers.count() == 2
        assert managers.filter(boroughs__isnull=True).exists()  # a manager over every area
        mentor = Mentor.objects.get(user__username="scale.mentor")
        assert mentor.assignments.filter(ended_on__isnull=True).exists()
        assert DEMO_PASSWORD in self.output
        response = client.post(
            reverse("login"), {"username": "scale.manager", "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302

    def test_a_second_run_refuses_and_changes_nothing(self):
        before = fingerprint()
        with pytest.raises(CommandError, match="already present"):
            seed()
        assert fingerprint() == before
        assert Client.objects.count() == SIZES["clients"]


def test_same_seed_gives_same_data_and_another_seed_differs(db):
    seed("--seed", "7", sizes=TINY)
    first = fingerprint()
    seed("--seed", "7", "--reset", sizes=TINY)
    assert fingerprint() == first
    seed("--seed", "8", "--reset", sizes=TINY)
    assert fingerprint() != first


def test_refuses_when_programme_data_exists(db):
    factories.BoroughFactory()
    with pytest.raises(CommandError, match=r"already present.*--reset"):
        seed(sizes=TINY)
    assert Borough.objects.count() == 1
    assert not Client.objects.exists()


def test_the_quick_reset_knows_every_record_that_refers_to_a_client():
    """A new model referring to clients or sessions would turn the quick reset off."""
    assert reset._fast_reset_possible()


def test_reset_replaces_records_keeps_the_access_log_and_never_reuses_ids(db):
    old = factories.SupportSessionFactory(
        client__borough__code="OLD", safeguarding_concern=True
    ).client
    factories.OffenceFactory(client=old)
    moved = services.client_transfer(
        client=factories.ClientFactory(borough=old.borough, active=True),
        borough=factories.BoroughFactory(code="NEW"),
        on=factories.ClientFactory.referred_on + timedelta(days=30),
        note="moved",
    )
    factories.FollowUpFactory(client__borough=old.borough)
    mentor = factories.MentorFactory(home_borough=old.borough)
    Mentor.objects.filter(pk=mentor.pk).update(former_client=moved, was_client=True)
    factories.AssignmentFactory(client=old, mentor__home_borough=old.borough)
    user = factories.UserFactory()
    services.log_access(user=user, client=old, action=AccessLog.Action.VIEW)
    seed("--reset", sizes=TINY)
    assert not Client.objects.filter(pk=old.pk).exists()
    assert not Borough.objects.filter(code="OLD").exists()
    assert Client.objects.count() == TINY["clients"]
    assert Client.objects.aggregate(low=Min("pk"))["low"] > old.pk
    log = AccessLog.objects.get()
    assert log.client is None and log.client_reference == old.reference


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--clients", "0"], "--clients"),
        (["--clients", "lots"], "--clients"),
        (["--boroughs", str(scale.MAX_BOROUGHS + 1)], "--boroughs"),
        (["--mentors", "11"], "--mentors"),
        (["--sessions", "-1"], "--sessions"),
        (["--offences", "x"], "--offences"),
        (["--today", "2026-13-01"], "--today"),
        (["--today", "2010-01-01"], "--today"),
    ],
)
def test_bad_arguments_are_clear_errors(db, args, message):
    with pytest.raises(CommandError, match=message):
        seed(*args)
    assert not Borough.objects.exists()


def test_sizes_default_to_the_london_set_and_scale_with_clients():
    assert scale.Sizes() == scale.Sizes(40, 1_000, 100_000, 2_000_000, 60_000)
    assert scale.Sizes.for_clients(10_000) == scale.Sizes(40, 100, 10_000, 200_000, 6_000)
    assert scale.Sizes.for_clients(600, boroughs=6, sessions=5).sessions == 5
    assert scale.Sizes.for_clients(50, boroughs=10).mentors == 20  # two per borough at least
