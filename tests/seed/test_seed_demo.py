"""The demo data set: shaped like the case study, deterministic, and safe to rerun."""

import hashlib
from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, Max, Q
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from mentoring import history, metrics
from mentoring.models import (
    Borough,
    Client,
    Mentor,
    Milestone,
    Offence,
    PathwayStep,
    Placement,
    SupportSession,
)
from mentoring.seed.demo import CREATED_ON, DemoBuilder
from mentoring.seed.logins import DEMO_PASSWORD
from mentoring.seed.weights import PLACEMENT_WEEKS

TODAY = date(2026, 11, 26)

pytestmark = pytest.mark.django_db


def seed(*args):
    out = StringIO()
    call_command("seed_demo", "--today", TODAY.isoformat(), *args, stdout=out)
    return out.getvalue()


def fingerprint():
    """A hash of the demo data's content, independent of primary keys."""
    digest = hashlib.sha256()
    clients = Client.objects.annotate(mentors=Count("assignments")).order_by("reference")
    for row in clients.values_list(
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
        "mentors",
    ):
        digest.update(repr(row).encode())
    for row in SupportSession.objects.order_by("client__reference", "date").values_list(
        "client__reference", "mentor__reference", "date", "duration_minutes", "attendance", "notes"
    ):
        digest.update(repr(row).encode())
    for row in Offence.objects.order_by(
        "client__reference", "offence_date", "disposal"
    ).values_list("client__reference", "offence_date", "outcome_date", "disposal"):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def area_codes():
    """The demo's seven areas, which "every area" must not find empty."""
    codes = sorted(Borough.objects.values_list("code", flat=True))
    assert len(codes) == 7, codes
    return codes


class TestDemoShape:
    @pytest.fixture(autouse=True)
    def demo(self, demo_data, db):
        self.output = demo_data

    def test_seven_areas_with_their_launch_years_southwark_first(self):
        launched = list(Borough.objects.order_by("launched_on").values_list("name", "launched_on"))
        assert [name for name, _ in launched] == [
            "Southwark",
            "Kensington & Chelsea",
            "Ealing",
            "Greenwich",
            "Croydon",
            "Bristol",
            "Dorset",
        ]
        assert launched[0][1].year == 2006
        assert {day.year for _, day in launched[1:]} <= {2010, 2011, 2012}

    def test_about_550_clients_and_30_mentors_in_every_area(self):
        assert 520 <= Client.objects.count() <= 580
        # About 30, and in each area one more who was a client there.
        assert 28 <= Mentor.objects.filter(was_client=False).count() <= 34
        assert Mentor.objects.filter(was_client=True).count() == 7
        per_borough = dict(Borough.objects.annotate(n=Count("clients")).values_list("code", "n"))
        assert all(n >= 20 for n in per_borough.values()), per_borough
        assert max(per_borough, key=per_borough.get) == "SWK"
        assert Client.objects.filter(referred_on__year=2006).exists()

    def test_reoffending_in_case_study_band_overall_and_in_every_area(self):
        overall = metrics.outcomes(Client.objects.all(), TODAY)
        assert 0.15 <= overall["reoffending_rate"] <= 0.20
        assert overall["cohort"] > 350
        by_borough = metrics.outcomes_by_borough(Client.objects.all(), TODAY)
        assert len(by_borough) == len(area_codes())
        for borough_id, figures in by_borough.items():
            assert 0.15 <= figures["reoffending_rate"] <= 0.20, borough_id

    def test_completion_around_eighty_percent(self):
        overall = metrics.outcomes(Client.objects.all(), TODAY)
        assert overall["completion_rate"] == pytest.approx(0.80, abs=0.01)

    def test_some_active_clients_need_contact(self):
        """Active clients with no attended session in the last 14 days exist, not all."""
        active = Client.objects.filter(status=Client.Status.ACTIVE).annotate(
            last_attended=Max(
                "sessions__date",
                filter=Q(sessions__attendance__in=SupportSession.ATTENDED_VALUES),
            )
        )
        cutoff = TODAY - timedelta(days=14)
        needing = [c for c in active if c.last_attended is None or c.last_attended <= cutoff]
        assert 0 < len(needing) < active.count()

    def test_programme_lengths_from_months_to_over_a_year(self):
        lengths = [
            (c.ended_on - c.started_on).days
            for c in Client.objects.filter(status=Client.Status.CLOSED)
        ]
        assert min(lengths) < 120
        assert max(lengths) > 365

    def test_sessions_are_weekly_ish_and_never_in_the_future(self):
        assert not SupportSession.objects.filter(date__gt=TODAY).exists()
        started = Client.objects.filter(started_on__isnull=False).count()
        assert SupportSession.objects.count() > started * 10

    def test_sessions_are_logged_on_their_day_in_working_hours(self):
        """As in use, so that the home page's "logged in the last 14 days" is true to it."""
        now = timezone.now()
        logged = SupportSession.objects.values_list("date", "created_at", "updated_at")
        assert logged
        for day, created, updated in logged:
            local = timezone.localtime(created)
            assert created == updated and created <= now
            assert local.date() == day and (9 <= local.hour < 18 or day == TODAY)

    def test_every_reference_uses_its_borough_code(self):
        clients = Client.objects.values_list("borough__code", "reference")
        mentors = Mentor.objects.values_list("home_borough__code", "reference")
        assert clients and mentors
        for code, reference in clients:
            assert reference.startswith(f"{code}-")
        for code, reference in mentors:
            assert reference.startswith(f"M-{code}-")

    def test_rerun_without_reset_adds_nothing(self):
        before = fingerprint(), Client.objects.count(), SupportSession.objects.count()
        output = seed()
        assert "already present: nothing loaded" in output
        assert (fingerprint(), Client.objects.count(), SupportSession.objects.count()) == before

    def test_demo_logins_work_and_are_printed_in_development_mode(self, client):
        for username in ["admin", "coordinator", "coordinator.sw", "manager", "mentor"]:
            assert username in self.output
            response = client.post(
                reverse("login"), {"username": username, "password": DEMO_PASSWORD}
            )
            assert response.status_code == 302, username
            client.post(reverse("logout"))
        assert DEMO_PASSWORD in self.output

    def test_demo_mentor_login_has_current_clients(self):
        mentor = Mentor.objects.get(user__username="mentor")
        assert mentor.assignments.filter(ended_on__isnull=True).exists()

    def test_every_area_has_a_referral_awaiting_a_decision(self):
        waiting = Client.objects.filter(status=Client.Status.REFERRED)
        assert set(waiting.values_list("borough__code", flat=True)) == set(area_codes())

    def test_every_area_has_one_active_client_waiting_for_a_new_mentor(self):
        """Their assignment ended at their request four days ago; no session since."""
        waiting = Client.objects.filter(status=Client.Status.ACTIVE).without_mentor()
        assert sorted(waiting.values_list("borough__code", flat=True)) == area_codes()
        for person in waiting:
            ended = person.assignments.get()
            assert ended.end_reason == "CLIENT_REQUEST"
            assert ended.ended_on == TODAY - timedelta(days=4)
            assert not person.sessions.filter(date__gte=ended.ended_on).exists()

    def test_every_area_has_a_safeguarding_concern_to_follow_up(self):
        open_concerns = SupportSession.objects.filter(
            safeguarding_concern=True, safeguarding_handled_at__isnull=True
        )
        codes = set(open_concerns.values_list("client__borough__code", flat=True))
        assert codes == set(area_codes())
        assert not open_concerns.filter(date__lte=TODAY - timedelta(days=14)).exists()

    def test_every_area_has_one_current_mentor_past_their_vetting_renewal(self):
        """Checks are renewed before they fall due, but for one mentor in each area."""
        current = Mentor.objects.active_on(TODAY)
        lapsed = current.vetting_not_current(TODAY)
        assert sorted(lapsed.values_list("home_borough__code", flat=True)) == area_codes()
        for mentor in lapsed:
            assert mentor.vetting_renewal_due_on == TODAY - timedelta(days=21)
        assert current.count() >= 3 * lapsed.count()

    def test_work_experience_and_training_end_jobs_and_apprenticeships_go_on(self):
        ended = {
            kind: list(Placement.objects.filter(kind=kind).values_list("started_on", "ended_on"))
            for kind in Placement.Kind.values
        }
        for kind, weeks in PLACEMENT_WEEKS.items():
            assert ended[kind]
            for started, end in ended[kind]:
                due = started + timedelta(weeks=weeks)
                assert end == (due if due <= TODAY else None)
        for kind in (Placement.Kind.JOB, Placement.Kind.APPRENTICESHIP):
            assert ended[kind] and all(end is None for _started, end in ended[kind])

    def test_every_placement_is_with_an_employer_of_the_clients_own_area(self):
        """As the placement form offers: employers serving the client's borough."""
        placements = Placement.objects.select_related("client", "employer")
        assert placements.exists()
        assert all(p.employer.borough_id == p.client.borough_id for p in placements)

    def test_one_young_person_is_on_two_records_for_the_admin_to_bring_together(self):
        pair = list(Client.objects.known_twice().order_by("referred_on"))
        assert [c.borough.code for c in pair] == ["SWK", "EAL"]
        assert pair[0].status == Client.Status.ACTIVE
        assert pair[1].status == Client.Status.REFERRED
        assert pair[1].referred_on == TODAY - timedelta(days=1)

    def test_every_area_has_a_mentor_who_was_a_client_there(self):
        """Made as a coordinator makes one, after the steps of the pathway, in order."""
        former = Mentor.objects.filter(was_client=True).select_related("former_client")
        assert sorted(former.values_list("home_borough__code", flat=True)) == area_codes()
        order = list(PathwayStep.Step)
        for mentor in former:
            client = mentor.former_client
            assert client.borough_id == mentor.home_borough_id
            assert client.closure_reason == Client.ClosureReason.COMPLETED
            assert (mentor.first_name, mentor.last_name) == (client.first_name, client.last_name)
            assert mentor.lived_experience and mentor.vetting_current
            assert mentor.client_support_started_on == client.started_on
            assert mentor.started_on <= TODAY and mentor.ended_on is None
            steps = list(client.pathway_steps.order_by("reached_on"))
            assert [s.step for s in steps] == order[: len(steps)]
            assert steps[0].reached_on > client.ended_on
            peer = client.pathway_steps.get(step=PathwayStep.Step.PEER_MENTOR)
            assert peer.reached_on == mentor.started_on
            milestone = client.milestones.get(kind=Milestone.Kind.BECAME_PEER_MENTOR)
            assert milestone.achieved_on == mentor.started_on
        # Only they became peer mentors: the milestone and the pathway tell one story.
        became = Milestone.objects.filter(kind=Milestone.Kind.BECAME_PEER_MENTOR)
        assert set(became.values_list("client", flat=True)) == {m.former_client_id for m in former}

    def test_every_area_has_clients_part_way_along_the_pathway(self):
        """Clients who volunteer or train without being mentors, one still supported."""
        steps = PathwayStep.objects.exclude(client__became_mentor__isnull=False)
        assert sorted(set(steps.values_list("client__borough__code", flat=True))) == area_codes()
        assert not steps.filter(step=PathwayStep.Step.PEER_MENTOR).exists()
        volunteering = steps.filter(client__status=Client.Status.ACTIVE)
        assert sorted(volunteering.values_list("client__borough__code", flat=True)) == (
            area_codes()
        )
        assert not PathwayStep.objects.filter(reached_on__gt=TODAY).exists()
        for step in PathwayStep.objects.select_related("client"):
            assert step.client.started_on <= step.reached_on

    def test_demo_logins_are_people_with_names_the_mentor_login_its_mentors(self):
        names = dict(
            get_user_model()
            .objects.values_list("username", "first_name")
            .filter(username__in=["admin", "coordinator", "coordinator.sw", "manager"])
        )
        assert len(set(names.values())) == 4 and all(names.values())
        mentor = Mentor.objects.select_related("user").get(user__username="mentor")
        assert (mentor.user.first_name, mentor.user.last_name) == (
            mentor.first_name,
            mentor.last_name,
        )


def test_same_seed_gives_same_data_and_another_seed_differs(db):
    seed("--scale", "0.1", "--seed", "7")
    first = fingerprint()
    seed("--scale", "0.1", "--seed", "7", "--reset")
    assert fingerprint() == first
    seed("--scale", "0.1", "--seed", "8", "--reset")
    assert fingerprint() != first


def test_scale_multiplies_the_clients(db):
    seed("--scale", "0.2")
    half = Client.objects.count()
    seed("--scale", "0.6", "--reset")
    assert Client.objects.count() == pytest.approx(3 * half, rel=0.02)


def test_reset_replaces_the_data_without_duplicating_users(db):
    seed("--scale", "0.2")
    seed("--scale", "0.2", "--reset")
    assert get_user_model().objects.filter(username="coordinator").count() == 1
    assert Borough.objects.count() == 7


def test_every_demo_record_starts_its_change_history(db):
    """Each record has the creation entry a form would have left, on the day it was made."""
    seed("--scale", "0.2")
    for model, day_field in CREATED_ON.items():
        records = {record.pk: record for record in model.objects.all()}
        assert records, model
        created = model.history.filter(history_type="+")
        assert sorted(created.values_list("id", flat=True)) == sorted(records)
        for entry in created:
            record = records[entry.id]
            if day_field is None:
                expected = timezone.localdate(record.created_at)
            else:
                expected = getattr(record, day_field)
            assert timezone.localdate(entry.history_date) == expected
    kai = Client.objects.filter(status=Client.Status.CLOSED).order_by("pk").first()
    assert history.client_changes(kai)


def test_reset_leaves_no_change_history_behind(db):
    """The deletions a reset makes would otherwise leave one history row per record."""
    seed("--scale", "0.2")
    client = Client.objects.order_by("pk").first()
    client.first_name = "Renamed"
    client.save()
    assert Client.history.exists()
    seed("--scale", "0.2", "--reset")
    # Only the new demo's creation entries: nothing of the deletions, nor of the rename.
    for model in (Client, SupportSession):
        assert model.history.exclude(history_type="+").count() == 0
        assert model.history.count() == model.objects.count() > 0
    assert not Client.history.filter(first_name="Renamed").exists()
    # The reset wrote no history of its deletions; changes after it are recorded again.
    client = Client.objects.order_by("pk").first()
    client.first_name = "Renamed"
    client.save()
    assert Client.history.filter(id=client.pk, first_name="Renamed").exists()


@override_settings(DEV_MODE=False)
def test_outside_development_mode_passwords_are_neither_set_nor_printed(db):
    output = seed("--scale", "0.2")
    assert DEMO_PASSWORD not in output
    assert "changepassword" in output
    assert not get_user_model().objects.get(username="coordinator").has_usable_password()


@pytest.mark.parametrize("scale", ["0", "-1", "lots"])
def test_bad_scale_is_a_clear_error(db, scale):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--scale"):
        seed("--scale", scale)
    assert not DemoBuilder.has_data()
