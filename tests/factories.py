"""factory_boy factories for the programme's records. Every default is valid."""

import datetime
import importlib
from decimal import Decimal

import factory
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.utils import timezone

from mentoring import models

TODAY = datetime.date(2026, 11, 26)
PASSWORD = "correct-horse-battery"


class BoroughFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Borough
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Borough {n}")
    slug = factory.Sequence(lambda n: f"borough-{n}")
    code = factory.Sequence(lambda n: f"B{chr(65 + n // 26 % 26)}{chr(65 + n % 26)}")
    region = "London"
    launched_on = datetime.date(2006, 1, 1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)


class StaffProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.StaffProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    role = models.StaffProfile.Role.COORDINATOR

    @factory.post_generation
    def boroughs(self, create, extracted, **kwargs):
        if create and extracted:
            self.boroughs.set(extracted)


class MentorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Mentor

    reference = factory.Sequence(lambda n: f"M-TST-{n:03d}")
    first_name = "Marcus"
    last_name = factory.Sequence(lambda n: f"Mentor{n}")
    home_borough = factory.SubFactory(BoroughFactory)
    started_on = datetime.date(2010, 1, 1)
    # Vetted a month ago: current, so assigning needs no confirmation unless a test says so.
    vetting_checked_on = factory.LazyFunction(
        lambda: timezone.localdate() - datetime.timedelta(days=30)
    )


class ClientFactory(factory.django.DjangoModelFactory):
    """A referred client aged 19 at referral. Use ``active()``/``closed()`` for others."""

    class Meta:
        model = models.Client

    reference = factory.Sequence(lambda n: f"TST-{n:05d}")
    first_name = "Jordan"
    last_name = factory.Sequence(lambda n: f"Client{n}")
    date_of_birth = datetime.date(2001, 3, 1)
    gender = models.Client.Gender.MALE
    borough = factory.SubFactory(BoroughFactory)
    referral_source = models.Client.ReferralSource.PROBATION
    referred_on = datetime.date(2020, 6, 1)

    class Params:
        active = factory.Trait(
            status=models.Client.Status.ACTIVE,
            started_on=factory.LazyAttribute(lambda c: c.referred_on + datetime.timedelta(days=14)),
        )
        closed = factory.Trait(
            status=models.Client.Status.CLOSED,
            started_on=factory.LazyAttribute(lambda c: c.referred_on + datetime.timedelta(days=14)),
            ended_on=factory.LazyAttribute(lambda c: c.started_on + datetime.timedelta(days=200)),
            closure_reason=models.Client.ClosureReason.COMPLETED,
        )


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Assignment

    client = factory.SubFactory(ClientFactory, active=True)
    mentor = factory.SubFactory(
        MentorFactory, home_borough=factory.SelfAttribute("..client.borough")
    )
    started_on = factory.LazyAttribute(lambda a: a.client.started_on or a.client.referred_on)


class SupportSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.SupportSession

    client = factory.SubFactory(ClientFactory, active=True)
    mentor = factory.SubFactory(
        MentorFactory, home_borough=factory.SelfAttribute("..client.borough")
    )
    date = factory.LazyAttribute(lambda s: s.client.started_on or s.client.referred_on)
    duration_minutes = 60


class OffenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Offence

    client = factory.SubFactory(ClientFactory, active=True)
    offence_date = datetime.date(2019, 1, 10)
    outcome_date = datetime.date(2019, 3, 1)
    disposal = models.Offence.Disposal.COMMUNITY_ORDER
    offence_type = models.Offence.OffenceType.THEFT
    source = models.Offence.Source.POLICE


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Milestone

    client = factory.SubFactory(ClientFactory, active=True)
    kind = models.Milestone.Kind.OBTAINED_ID
    achieved_on = factory.LazyAttribute(lambda m: m.client.referred_on)


class PathwayStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.PathwayStep

    client = factory.SubFactory(ClientFactory, closed=True)
    step = models.PathwayStep.Step.VOLUNTEERING
    reached_on = factory.LazyAttribute(lambda s: s.client.ended_on or s.client.referred_on)


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Goal

    client = factory.SubFactory(ClientFactory, active=True)
    support_area = factory.LazyFunction(lambda: models.SupportArea.objects.first())
    description = "Get a provisional driving licence as photo ID"
    set_on = factory.LazyAttribute(lambda g: g.client.referred_on)


class FunderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Funder

    name = factory.Sequence(lambda n: f"Funder {n}")
    kind = models.Funder.Kind.TRUST


class GrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Grant

    funder = factory.SubFactory(FunderFactory)
    borough = factory.SubFactory(BoroughFactory)
    amount = 50000
    starts_on = datetime.date(2020, 4, 1)
    ends_on = datetime.date(2021, 3, 31)


class JusticeDataLabResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.JusticeDataLabResult

    period_start = datetime.date(2023, 1, 1)
    period_end = datetime.date(2023, 12, 31)
    people_matched = 84
    treatment_rate = Decimal("0.214")
    comparison_rate = Decimal("0.331")
    p_value = Decimal("0.012")
    published_on = datetime.date(2026, 6, 1)


class EmployerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Employer

    name = factory.Sequence(lambda n: f"Employer {n}")


class PlacementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Placement

    client = factory.SubFactory(ClientFactory, active=True)
    employer = factory.SubFactory(EmployerFactory)
    kind = models.Placement.Kind.APPRENTICESHIP
    started_on = datetime.date(2021, 1, 4)


class FollowUpFactory(factory.django.DjangoModelFactory):
    """A 3-month check-in that reached the young person, after a completed case."""

    class Meta:
        model = models.FollowUp

    client = factory.SubFactory(ClientFactory, closed=True)
    point = models.FollowUp.Point.THREE_MONTHS
    done_on = factory.LazyAttribute(lambda f: f.client.ended_on + datetime.timedelta(days=91))
    reached = True
    in_ete = True
    stable_accommodation = True
    new_offence_told = False


def seed_support_areas():
    """The support areas migration 0002 seeds, which each transactional test's flush deletes."""
    migration = importlib.import_module("mentoring.migrations.0002_support_areas")
    migration.add_support_areas(django_apps, None)
