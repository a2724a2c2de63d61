"""
The programme's records: named database constraints, ``clean()`` messages, derived
properties and the ``for_user`` scoping every page starts from.

Constraint tests write straight to the database (``update()`` / ``create()`` never call
``clean()``), so they prove the invariant holds whatever door a row comes in by.
"""

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from mentoring.models import (
    Assignment,
    Borough,
    CaseShardVersion,
    Client,
    Goal,
    Mentor,
    Offence,
    PathwayStep,
    SafeguardingAlert,
    SessionAreaDay,
    SessionDay,
    StaffProfile,
    SupportArea,
    SupportSession,
    age_on,
    years_after,
    years_before,
)

from .. import factories

ONE_DAY = datetime.timedelta(days=1)


def ids(queryset):
    """Primary keys in queryset order, duplicates kept, so a missing distinct() shows."""
    return sorted(obj.pk for obj in queryset)


def tomorrow():
    return timezone.localdate() + ONE_DAY


# Named CHECK constraints ------------------------------------------------------------------
#
# Each case starts from a valid row made by ``make`` and changes it with ``changes(row)``.
# Every violating change breaks exactly one constraint, so the name in the error is not a
# matter of which check the backend happens to evaluate first.

CHECK_VIOLATIONS = [
    pytest.param(
        "mentoring_borough_cost_not_negative",
        factories.BoroughFactory,
        lambda b: {"cost_per_client": Decimal("-0.01")},
        id="borough-cost-one-penny-below-zero",
    ),
    pytest.param(
        "mentoring_mentor_ended_after_started",
        factories.MentorFactory,
        lambda m: {"ended_on": m.started_on - ONE_DAY},
        id="mentor-ended-day-before-start",
    ),
    pytest.param(
        "mentoring_mentor_max_caseload_range",
        factories.MentorFactory,
        lambda m: {"max_caseload": 0},
        id="mentor-caseload-0",
    ),
    pytest.param(
        "mentoring_mentor_max_caseload_range",
        factories.MentorFactory,
        lambda m: {"max_caseload": 31},
        id="mentor-caseload-31",
    ),
    pytest.param(
        "mentoring_mentor_former_client_was_client",
        lambda: factories.MentorFactory(
            former_client=factories.ClientFactory(closed=True), was_client=True
        ),
        lambda m: {"was_client": False},
        id="mentor-linked-to-a-client-record-not-a-former-client",
    ),
    pytest.param(
        "mentoring_client_born_before_referral",
        factories.ClientFactory,
        lambda c: {"date_of_birth": c.referred_on},
        id="client-born-on-referral-day",
    ),
    pytest.param(
        "mentoring_client_born_before_referral",
        factories.ClientFactory,
        lambda c: {"date_of_birth": c.referred_on + ONE_DAY},
        id="client-born-after-referral",
    ),
    pytest.param(
        "mentoring_client_started_after_referral",
        lambda: factories.ClientFactory(active=True),
        lambda c: {"started_on": c.referred_on - ONE_DAY},
        id="client-started-day-before-referral",
    ),
    pytest.param(
        "mentoring_client_ended_after_started",
        lambda: factories.ClientFactory(closed=True),
        lambda c: {"ended_on": c.started_on - ONE_DAY},
        id="client-ended-day-before-start",
    ),
    pytest.param(
        "mentoring_client_released_after_started",
        lambda: factories.ClientFactory(active=True),
        lambda c: {"release_date": c.started_on - ONE_DAY},
        id="client-released-day-before-start",
    ),
    pytest.param(
        "mentoring_client_released_after_started",
        factories.ClientFactory,
        lambda c: {"release_date": c.referred_on + ONE_DAY},
        id="client-released-without-start",
    ),
    pytest.param(
        "mentoring_client_closure_reason_when_closed",
        lambda: factories.ClientFactory(closed=True),
        lambda c: {"closure_reason": ""},
        id="closed-client-without-reason",
    ),
    pytest.param(
        "mentoring_client_closure_reason_when_closed",
        lambda: factories.ClientFactory(active=True),
        lambda c: {"closure_reason": Client.ClosureReason.COMPLETED},
        id="active-client-with-closure-reason",
    ),
    pytest.param(
        "mentoring_client_dates_match_status",
        factories.ClientFactory,
        lambda c: {"started_on": c.referred_on},
        id="referred-client-with-start",
    ),
    pytest.param(
        "mentoring_client_dates_match_status",
        factories.ClientFactory,
        lambda c: {"status": Client.Status.DECLINED, "started_on": c.referred_on},
        id="declined-client-with-start",
    ),
    pytest.param(
        "mentoring_client_dates_match_status",
        lambda: factories.ClientFactory(active=True),
        lambda c: {"started_on": None},
        id="active-client-without-start",
    ),
    pytest.param(
        "mentoring_client_dates_match_status",
        lambda: factories.ClientFactory(active=True),
        lambda c: {"ended_on": c.started_on},
        id="active-client-with-end",
    ),
    pytest.param(
        "mentoring_client_dates_match_status",
        lambda: factories.ClientFactory(closed=True),
        lambda c: {"ended_on": None},
        id="closed-client-without-end",
    ),
    pytest.param(
        "mentoring_assignment_ended_after_started",
        factories.AssignmentFactory,
        lambda a: {
            "ended_on": a.started_on - ONE_DAY,
            "end_reason": Assignment.EndReason.REASSIGNED,
        },
        id="assignment-ended-day-before-start",
    ),
    pytest.param(
        "mentoring_assignment_end_reason_when_ended",
        factories.AssignmentFactory,
        lambda a: {"ended_on": a.started_on},
        id="assignment-ended-without-reason",
    ),
    pytest.param(
        "mentoring_assignment_end_reason_when_ended",
        factories.AssignmentFactory,
        lambda a: {"end_reason": Assignment.EndReason.REASSIGNED},
        id="open-assignment-with-end-reason",
    ),
    pytest.param(
        "mentoring_supportsession_duration_range",
        factories.SupportSessionFactory,
        lambda s: {"duration_minutes": 4},
        id="session-4-minutes",
    ),
    pytest.param(
        "mentoring_supportsession_duration_range",
        factories.SupportSessionFactory,
        lambda s: {"duration_minutes": 721},
        id="session-721-minutes",
    ),
    pytest.param(
        "mentoring_offence_outcome_after_offence",
        factories.OffenceFactory,
        lambda o: {"outcome_date": o.offence_date - ONE_DAY},
        id="outcome-day-before-offence",
    ),
    pytest.param(
        "mentoring_offence_outcome_date_unless_pending",
        factories.OffenceFactory,
        lambda o: {"disposal": Offence.Disposal.PENDING},
        id="pending-offence-with-outcome-date",
    ),
    pytest.param(
        "mentoring_offence_outcome_date_unless_pending",
        factories.OffenceFactory,
        lambda o: {"outcome_date": None},
        id="decided-offence-without-outcome-date",
    ),
    pytest.param(
        "mentoring_grant_amount_positive",
        factories.GrantFactory,
        lambda g: {"amount": Decimal("0")},
        id="grant-of-nothing",
    ),
    pytest.param(
        "mentoring_grant_amount_positive",
        factories.GrantFactory,
        lambda g: {"amount": Decimal("-100")},
        id="negative-grant",
    ),
    pytest.param(
        "mentoring_grant_ends_after_starts",
        factories.GrantFactory,
        lambda g: {"ends_on": g.starts_on - ONE_DAY},
        id="grant-ends-day-before-start",
    ),
    pytest.param(
        "mentoring_justicedatalabresult_period",
        factories.JusticeDataLabResultFactory,
        lambda r: {"period_end": r.period_start - ONE_DAY},
        id="lab-period-ends-before-it-starts",
    ),
    pytest.param(
        "mentoring_justicedatalabresult_fractions",
        factories.JusticeDataLabResultFactory,
        lambda r: {"treatment_rate": Decimal("1.0001")},
        id="lab-rate-over-one",
    ),
    pytest.param(
        "mentoring_justicedatalabresult_fractions",
        factories.JusticeDataLabResultFactory,
        lambda r: {"p_value": Decimal("-0.001")},
        id="lab-negative-p-value",
    ),
    pytest.param(
        "mentoring_placement_ended_after_started",
        factories.PlacementFactory,
        lambda p: {"ended_on": p.started_on - ONE_DAY},
        id="placement-ended-day-before-start",
    ),
    pytest.param(
        "mentoring_followup_answers_when_reached",
        factories.FollowUpFactory,
        lambda f: {"in_ete": None},
        id="followup-reached-without-an-answer",
    ),
    pytest.param(
        "mentoring_followup_answers_when_reached",
        factories.FollowUpFactory,
        lambda f: {"reached": False},
        id="followup-not-reached-with-answers",
    ),
]

CHECK_BOUNDARIES = [
    pytest.param(
        factories.BoroughFactory,
        lambda b: {"cost_per_client": Decimal("0.00")},
        id="borough-cost-zero",
    ),
    pytest.param(
        factories.MentorFactory,
        lambda m: {"ended_on": m.started_on},
        id="mentor-ended-on-start-day",
    ),
    pytest.param(factories.MentorFactory, lambda m: {"max_caseload": 1}, id="mentor-caseload-1"),
    pytest.param(factories.MentorFactory, lambda m: {"max_caseload": 30}, id="mentor-caseload-30"),
    pytest.param(
        factories.ClientFactory,
        lambda c: {"date_of_birth": c.referred_on - ONE_DAY},
        id="client-born-day-before-referral",
    ),
    pytest.param(
        lambda: factories.ClientFactory(active=True),
        lambda c: {"started_on": c.referred_on},
        id="client-started-on-referral-day",
    ),
    pytest.param(
        lambda: factories.ClientFactory(closed=True),
        lambda c: {"ended_on": c.started_on},
        id="client-ended-on-start-day",
    ),
    pytest.param(
        lambda: factories.ClientFactory(active=True),
        lambda c: {"release_date": c.started_on},
        id="client-released-on-start-day",
    ),
    pytest.param(
        factories.ClientFactory,
        lambda c: {"status": Client.Status.DECLINED},
        id="declined-client-without-dates",
    ),
    pytest.param(
        factories.AssignmentFactory,
        lambda a: {"ended_on": a.started_on, "end_reason": Assignment.EndReason.REASSIGNED},
        id="assignment-ended-on-start-day-with-reason",
    ),
    pytest.param(
        factories.SupportSessionFactory, lambda s: {"duration_minutes": 5}, id="session-5-minutes"
    ),
    pytest.param(
        factories.SupportSessionFactory,
        lambda s: {"duration_minutes": 720},
        id="session-720-minutes",
    ),
    pytest.param(
        factories.OffenceFactory,
        lambda o: {"outcome_date": o.offence_date},
        id="outcome-on-offence-day",
    ),
    pytest.param(
        factories.OffenceFactory,
        lambda o: {"disposal": Offence.Disposal.PENDING, "outcome_date": None},
        id="pending-offence-without-outcome-date",
    ),
    pytest.param(
        factories.GrantFactory, lambda g: {"amount": Decimal("0.01")}, id="grant-of-one-penny"
    ),
    pytest.param(
        factories.GrantFactory,
        lambda g: {"ends_on": g.starts_on},
        id="grant-ends-on-start-day",
    ),
    pytest.param(
        factories.PlacementFactory,
        lambda p: {"ended_on": p.started_on},
        id="placement-ended-on-start-day",
    ),
    pytest.param(
        lambda: factories.MentorFactory(
            former_client=factories.ClientFactory(closed=True), was_client=True
        ),
        lambda m: {"former_client": None},
        id="former-client-mentor-whose-link-was-cut",
    ),
    pytest.param(
        factories.JusticeDataLabResultFactory,
        lambda r: {
            "period_end": r.period_start,
            "treatment_rate": Decimal("1.0000"),
            "comparison_rate": Decimal("0.0000"),
            "p_value": Decimal("1.00000"),
        },
        id="lab-one-day-and-rates-at-their-ends",
    ),
]

# Unique constraints are tested one by one below; the CHECK table covers the rest.
UNIQUE_CONSTRAINTS_TESTED = {
    "mentoring_assignment_one_open_per_client",
    "mentoring_sessionday_key",
    "mentoring_sessionareaday_key",
    "mentoring_caseshardversion_key",
    "mentoring_safeguardingalert_once",
    "mentoring_followup_once",
    "mentoring_pathwaystep_once",
}


@pytest.mark.django_db
@pytest.mark.parametrize(("constraint", "make", "changes"), CHECK_VIOLATIONS)
def test_database_rejects_row_breaking_named_check_constraint(constraint, make, changes):
    """A row written past clean() that breaks a rule is refused, naming the constraint."""
    row = make()
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        type(row).objects.filter(pk=row.pk).update(**changes(row))
    assert constraint in str(exc.value)


@pytest.mark.django_db
@pytest.mark.parametrize(("make", "changes"), CHECK_BOUNDARIES)
def test_database_accepts_row_on_constraint_boundary(make, changes):
    """The edge value a constraint allows (same day, 5 and 720 minutes...) is stored."""
    row = make()
    values = changes(row)
    type(row).objects.filter(pk=row.pk).update(**values)
    row.refresh_from_db()
    assert {field: getattr(row, field) for field in values} == values


def test_every_named_constraint_has_a_violation_test():
    """Adding a constraint to the models without a test here fails this test."""
    declared = {
        constraint.name
        for model in apps.get_app_config("mentoring").get_models()
        for constraint in model._meta.constraints
    }
    tested = {case.values[0] for case in CHECK_VIOLATIONS} | UNIQUE_CONSTRAINTS_TESTED
    assert declared == tested


# Unique constraints -----------------------------------------------------------------------
#
# PostgreSQL names the violated constraint or index; SQLite names the columns instead.


def assert_unique_violation(error, *, postgres_name, sqlite_columns):
    message = str(error)
    if connection.vendor == "postgresql":
        assert f'duplicate key value violates unique constraint "{postgres_name}"' in message
    else:
        assert f"UNIQUE constraint failed: {sqlite_columns}" in message


@pytest.mark.django_db
def test_database_rejects_second_open_assignment_for_a_client():
    """mentoring_assignment_one_open_per_client: one mentor at a time, whatever writes it."""
    first = factories.AssignmentFactory()
    other_mentor = factories.MentorFactory(home_borough=first.client.borough)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        Assignment.objects.create(
            client=first.client, mentor=other_mentor, started_on=first.started_on
        )
    assert_unique_violation(
        exc.value,
        postgres_name="mentoring_assignment_one_open_per_client",
        sqlite_columns="mentoring_assignment.client_id",
    )


@pytest.mark.django_db
def test_database_rejects_a_second_alert_of_one_kind_for_a_session():
    """mentoring_safeguardingalert_once: what keeps anyone from being e-mailed twice."""
    session = factories.SupportSessionFactory(safeguarding_concern=True)
    SafeguardingAlert.objects.create(session=session, kind=SafeguardingAlert.Kind.ALERT)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        SafeguardingAlert.objects.create(session=session, kind=SafeguardingAlert.Kind.ALERT)
    assert_unique_violation(
        exc.value,
        postgres_name="mentoring_safeguardingalert_once",
        sqlite_columns="mentoring_safeguardingalert.session_id, mentoring_safeguardingalert.kind",
    )
    # The other kind is a second e-mail, to other people: allowed.
    SafeguardingAlert.objects.create(session=session, kind=SafeguardingAlert.Kind.ESCALATION)


@pytest.mark.django_db
def test_database_rejects_a_second_check_in_at_one_point():
    """mentoring_followup_once: one 3-month check-in per case, however it is written."""
    first = factories.FollowUpFactory()
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        factories.FollowUpFactory(
            client=first.client,
            reached=False,
            in_ete=None,
            stable_accommodation=None,
            new_offence_told=None,
        )
    assert_unique_violation(
        exc.value,
        postgres_name="mentoring_followup_once",
        sqlite_columns="mentoring_followup.client_id, mentoring_followup.point",
    )
    factories.FollowUpFactory(client=first.client, point=6)  # the next point: allowed


@pytest.mark.django_db
def test_database_rejects_a_second_pathway_step_of_one_kind_for_a_client():
    """mentoring_pathwaystep_once: each step of the peer pathway is reached once."""
    step = factories.PathwayStepFactory(step=PathwayStep.Step.LEVEL_2)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        PathwayStep.objects.create(
            client=step.client, step=PathwayStep.Step.LEVEL_2, reached_on=step.reached_on
        )
    assert_unique_violation(
        exc.value,
        postgres_name="mentoring_pathwaystep_once",
        sqlite_columns="mentoring_pathwaystep.client_id, mentoring_pathwaystep.step",
    )
    # Another step of the same client, or the same step of another client: allowed.
    PathwayStep.objects.create(
        client=step.client, step=PathwayStep.Step.LEVEL_3, reached_on=step.reached_on
    )
    factories.PathwayStepFactory(step=PathwayStep.Step.LEVEL_2)


@pytest.mark.django_db
def test_database_rejects_a_second_summary_row_for_a_borough_day():
    """The summaries' keys: the triggers' upserts rely on one row per borough and day."""
    session = factories.SupportSessionFactory()
    day = SessionDay.objects.get()
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        SessionDay.objects.create(borough=day.borough, date=day.date, sessions=1, minutes=5)
    assert_unique_violation(
        exc.value,
        postgres_name="mentoring_sessionday_key",
        sqlite_columns="mentoring_sessionday.borough_id, mentoring_sessionday.date",
    )
    area = SupportArea.objects.first()
    session.support_areas.add(area)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        SessionAreaDay.objects.create(
            borough=day.borough, date=day.date, support_area=area, sessions=1
        )
    assert_unique_violation(
        exc.value,
        postgres_name="mentoring_sessionareaday_key",
        sqlite_columns=(
            "mentoring_sessionareaday.borough_id, mentoring_sessionareaday.date, "
            "mentoring_sessionareaday.support_area_id"
        ),
    )


@pytest.mark.django_db
def test_database_rejects_a_second_version_row_for_a_case_shard():
    """One version per borough and referral year: the triggers' upsert relies on it."""
    client = factories.ClientFactory()
    shard = CaseShardVersion.objects.get(
        borough_id=client.borough_id, year=client.referred_on.year
    )  # made by the trigger on the new client
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        CaseShardVersion.objects.create(borough_id=shard.borough_id, year=shard.year)
    assert_unique_violation(
        exc.value,
        postgres_name="mentoring_caseshardversion_key",
        sqlite_columns="mentoring_caseshardversion.borough_id, mentoring_caseshardversion.year",
    )


@pytest.mark.django_db
def test_database_accepts_open_assignment_after_ended_ones():
    """The unique rule is conditional: ended assignments do not block a new open one."""
    first = factories.AssignmentFactory(
        ended_on=datetime.date(2020, 9, 1), end_reason=Assignment.EndReason.REASSIGNED
    )
    second = factories.AssignmentFactory(
        client=first.client,
        started_on=datetime.date(2020, 9, 1),
        ended_on=datetime.date(2020, 12, 1),
        end_reason=Assignment.EndReason.MENTOR_LEFT,
    )
    third = factories.AssignmentFactory(client=first.client, started_on=datetime.date(2020, 12, 1))
    assert ids(Assignment.objects.filter(client=first.client)) == [first.pk, second.pk, third.pk]


@pytest.mark.django_db
def test_database_rejects_second_session_with_same_submission_token():
    """A double-submitted session form carries the same token and makes one row."""
    session = factories.SupportSessionFactory()
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        factories.SupportSessionFactory(
            client=session.client,
            mentor=session.mentor,
            submission_token=session.submission_token,
        )
    assert_unique_violation(
        exc.value,
        postgres_name="mentoring_supportsession_submission_token_key",
        sqlite_columns="mentoring_supportsession.submission_token",
    )
    assert SupportSession.objects.count() == 1


@pytest.mark.django_db
def test_sessions_get_different_submission_tokens_by_default():
    """Two separate sessions never collide on the token by accident."""
    first, second = factories.SupportSessionFactory.create_batch(2)
    assert first.submission_token != second.submission_token


@pytest.mark.django_db
def test_database_rejects_duplicate_client_reference():
    """Two clients can never share a reference, even written outside the services."""
    client = factories.ClientFactory(reference="SWK-00001")
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        factories.ClientFactory(reference="SWK-00001", borough=client.borough)
    assert_unique_violation(
        exc.value,
        postgres_name="mentoring_client_reference_key",
        sqlite_columns="mentoring_client.reference",
    )


@pytest.mark.django_db
def test_database_rejects_duplicate_mentor_reference():
    """Two mentors can never share a reference."""
    mentor = factories.MentorFactory(reference="M-SWK-001")
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        factories.MentorFactory(reference="M-SWK-001", home_borough=mentor.home_borough)
    assert_unique_violation(
        exc.value,
        postgres_name="mentoring_mentor_reference_key",
        sqlite_columns="mentoring_mentor.reference",
    )


# clean() messages -------------------------------------------------------------------------


def assert_invalid(instance, expected):
    """full_clean() fails with exactly these field messages."""
    with pytest.raises(ValidationError) as exc:
        instance.full_clean()
    assert exc.value.message_dict == expected


@pytest.mark.django_db
def test_mentor_cannot_finish_before_starting():
    """A mentor's end date before their start date is explained on ended_on."""
    mentor = factories.MentorFactory.build(
        home_borough=factories.BoroughFactory(), ended_on=datetime.date(2009, 12, 31)
    )
    assert_invalid(mentor, {"ended_on": ["A mentor cannot finish before they started."]})


def closed_client(**kwargs):
    return factories.ClientFactory(closed=True, **kwargs)


def active_client(**kwargs):
    return factories.ClientFactory(active=True, **kwargs)


CLIENT_CLEAN_CASES = [
    pytest.param(
        factories.ClientFactory,
        lambda c: {"date_of_birth": c.referred_on},
        {"date_of_birth": ["The date of birth must be before the referral date."]},
        id="born-on-referral-day",
    ),
    pytest.param(
        active_client,
        lambda c: {"started_on": c.referred_on - ONE_DAY},
        {"started_on": ["Support cannot start before the client was referred."]},
        id="started-before-referral",
    ),
    pytest.param(
        factories.ClientFactory,
        lambda c: {"ended_on": c.referred_on, "status": Client.Status.DECLINED},
        {"ended_on": ["A case can only end after support has started."]},
        id="ended-without-start",
    ),
    pytest.param(
        closed_client,
        lambda c: {"ended_on": c.started_on - ONE_DAY},
        {"ended_on": ["The case cannot end before support started."]},
        id="ended-before-start",
    ),
    pytest.param(
        factories.ClientFactory,
        lambda c: {"release_date": c.referred_on},
        {"release_date": ["Enter the start of support before a release date."]},
        id="release-without-start",
    ),
    pytest.param(
        active_client,
        lambda c: {"release_date": c.started_on - ONE_DAY},
        {
            "release_date": [
                "The release date cannot be before support started: support that starts "
                "after release has no release date."
            ]
        },
        id="release-before-start",
    ),
    pytest.param(
        closed_client,
        lambda c: {"closure_reason": ""},
        {"closure_reason": ["Give a reason for closing the case."]},
        id="closed-without-reason",
    ),
    pytest.param(
        active_client,
        lambda c: {"closure_reason": Client.ClosureReason.DISENGAGED},
        {"closure_reason": ["Only a closed case has a closure reason."]},
        id="active-with-closure-reason",
    ),
    pytest.param(
        factories.ClientFactory,
        lambda c: {"started_on": c.referred_on},
        {
            "started_on": [
                "A referred client has not started support: clear the start date or mark "
                "them active."
            ]
        },
        id="referred-with-start",
    ),
    pytest.param(
        factories.ClientFactory,
        lambda c: {"status": Client.Status.DECLINED, "started_on": c.referred_on},
        {
            "started_on": [
                "A declined client has not started support: clear the start date or mark "
                "them active."
            ]
        },
        id="declined-with-start",
    ),
    pytest.param(
        active_client,
        lambda c: {"started_on": None},
        {"started_on": ["An active client needs a start date."]},
        id="active-without-start",
    ),
    pytest.param(
        active_client,
        lambda c: {"ended_on": c.started_on},
        {"ended_on": ["An active client has no end date: close the case."]},
        id="active-with-end",
    ),
    pytest.param(
        closed_client,
        lambda c: {"ended_on": None},
        {"ended_on": ["A closed case needs the date it ended."]},
        id="closed-without-end",
    ),
    pytest.param(
        factories.ClientFactory,
        lambda c: {
            "status": Client.Status.DECLINED,
            "started_on": c.referred_on,
            "ended_on": c.referred_on,
        },
        {
            "started_on": [
                "A declined client has not started support: clear the start date or mark "
                "them active."
            ],
            "ended_on": ["A declined referral never started, so has no end date."],
        },
        id="declined-with-start-and-end",
    ),
    pytest.param(
        factories.ClientFactory,
        lambda c: {"referred_on": tomorrow()},
        {"referred_on": ["This date is in the future."]},
        id="referred-tomorrow",
    ),
    pytest.param(
        factories.ClientFactory,
        lambda c: {"status": Client.Status.ACTIVE, "started_on": tomorrow()},
        {"started_on": ["This date is in the future."]},
        id="started-tomorrow",
    ),
    pytest.param(
        closed_client,
        lambda c: {"ended_on": tomorrow()},
        {"ended_on": ["This date is in the future."]},
        id="ended-tomorrow",
    ),
    pytest.param(
        factories.ClientFactory,
        lambda c: {"consent_recorded_on": tomorrow()},
        {"consent_recorded_on": ["This date is in the future."]},
        id="consent-tomorrow",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("make", "changes", "expected"), CLIENT_CLEAN_CASES)
def test_client_clean_explains_each_broken_rule(make, changes, expected):
    """Each client rule is reported on its field in a coordinator's words."""
    client = make()
    for field, value in changes(client).items():
        setattr(client, field, value)
    assert_invalid(client, expected)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(factories.ClientFactory, id="referred"),
        pytest.param(active_client, id="active"),
        pytest.param(closed_client, id="closed"),
        pytest.param(lambda: factories.ClientFactory(status=Client.Status.DECLINED), id="declined"),
    ],
)
def test_client_with_dates_matching_status_is_valid(make):
    """Each status with its proper dates passes every client rule."""
    make().full_clean()


@pytest.mark.django_db
def test_client_referred_and_started_today_is_valid():
    """Today is not "in the future": a referral taken today can start today."""
    today = timezone.localdate()
    client = factories.ClientFactory(
        referred_on=today, status=Client.Status.ACTIVE, started_on=today, consent_recorded_on=today
    )
    client.full_clean()


@pytest.mark.django_db
def test_session_cannot_be_logged_for_tomorrow():
    """A session dated after today is refused on its date."""
    session = factories.SupportSessionFactory()
    session.date = tomorrow()
    assert_invalid(session, {"date": ["A session cannot be logged for a future date."]})


@pytest.mark.django_db
def test_session_cannot_be_before_referral():
    """A session before the referral names the referral date as DD/MM/YYYY."""
    session = factories.SupportSessionFactory(client__referred_on=datetime.date(2020, 6, 1))
    session.date = datetime.date(2020, 5, 31)
    assert_invalid(
        session, {"date": ["The session is before the client's referral on 01/06/2020."]}
    )


@pytest.mark.django_db
def test_session_cannot_be_after_case_closed():
    """A session after the case closed names the closing date."""
    client = closed_client(
        started_on=datetime.date(2020, 6, 15), ended_on=datetime.date(2021, 1, 1)
    )
    session = factories.SupportSessionFactory(client=client, date=datetime.date(2021, 1, 2))
    assert_invalid(session, {"date": ["The session is after the case closed on 01/01/2021."]})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "day",
    [
        pytest.param(datetime.date(2020, 6, 1), id="referral-day"),
        pytest.param(datetime.date(2021, 1, 1), id="closing-day"),
    ],
)
def test_session_on_referral_or_closing_day_is_valid(day):
    """Sessions on the first and last day of a case are allowed."""
    client = closed_client(
        referred_on=datetime.date(2020, 6, 1),
        started_on=datetime.date(2020, 6, 15),
        ended_on=datetime.date(2021, 1, 1),
    )
    factories.SupportSessionFactory(client=client, date=day).full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize("minutes", [4, 721])
def test_session_clean_refuses_duration_outside_5_to_720(minutes):
    """clean() itself explains the duration range, not only the field validators."""
    session = factories.SupportSessionFactory.build(
        client=active_client(), mentor=factories.MentorFactory(), duration_minutes=minutes
    )
    with pytest.raises(ValidationError) as exc:
        session.clean()
    assert exc.value.message_dict == {
        "duration_minutes": ["A session lasts between 5 minutes and 12 hours (720)."]
    }


@pytest.mark.django_db
@pytest.mark.parametrize("minutes", [5, 720])
def test_session_duration_of_5_or_720_minutes_is_valid(minutes):
    """The limits themselves are allowed."""
    factories.SupportSessionFactory(duration_minutes=minutes).full_clean()


OFFENCE_CLEAN_CASES = [
    pytest.param(
        lambda: {
            "offence_date": tomorrow(),
            "outcome_date": None,
            "disposal": Offence.Disposal.PENDING,
        },
        {"offence_date": ["The offence date is in the future."]},
        id="offence-tomorrow",
    ),
    pytest.param(
        lambda: {"offence_date": timezone.localdate(), "outcome_date": tomorrow()},
        {"outcome_date": ["The outcome date is in the future."]},
        id="outcome-tomorrow",
    ),
    pytest.param(
        lambda: {
            "offence_date": datetime.date(2019, 1, 10),
            "outcome_date": datetime.date(2019, 1, 9),
        },
        {"outcome_date": ["The outcome cannot be before the offence."]},
        id="outcome-before-offence",
    ),
    pytest.param(
        lambda: {"disposal": Offence.Disposal.PENDING, "outcome_date": datetime.date(2019, 3, 1)},
        {"outcome_date": ["A pending case has no outcome date yet: choose the disposal."]},
        id="pending-with-outcome-date",
    ),
    pytest.param(
        lambda: {"disposal": Offence.Disposal.CAUTION, "outcome_date": None},
        {
            "outcome_date": [
                "Give the date of the outcome (conviction, caution or decision), or mark the "
                "disposal as pending."
            ]
        },
        id="caution-without-outcome-date",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("changes", "expected"), OFFENCE_CLEAN_CASES)
def test_offence_clean_explains_each_broken_rule(changes, expected):
    """Each offence rule is reported on its field."""
    offence = factories.OffenceFactory()
    for field, value in changes().items():
        setattr(offence, field, value)
    assert_invalid(offence, expected)


@pytest.mark.django_db
def test_pending_offence_without_outcome_date_is_valid():
    """A pending case is recorded with no outcome date."""
    factories.OffenceFactory(disposal=Offence.Disposal.PENDING, outcome_date=None).full_clean()


@pytest.mark.django_db
def test_offence_and_outcome_today_are_valid():
    """An offence and its outcome today are not in the future."""
    today = timezone.localdate()
    factories.OffenceFactory(offence_date=today, outcome_date=today).full_clean()


@pytest.mark.django_db
def test_assignment_refuses_mentor_who_does_not_serve_client_borough(southwark_client, borough_b):
    """A Croydon mentor cannot take a Southwark client; the message says what to do."""
    mentor = factories.MentorFactory(first_name="Dele", last_name="Ade", home_borough=borough_b)
    assignment = Assignment(
        client=southwark_client, mentor=mentor, started_on=southwark_client.started_on
    )
    assert_invalid(
        assignment,
        {
            "mentor": [
                "Dele Ade does not serve Southwark: choose a mentor who works there, or add "
                "the borough to the mentor's boroughs."
            ]
        },
    )


@pytest.mark.django_db
def test_assignment_accepts_mentor_who_also_serves_client_borough(southwark_client, borough_b):
    """A mentor based elsewhere who lists the client's borough among theirs may be assigned."""
    mentor = factories.MentorFactory(home_borough=borough_b)
    mentor.other_boroughs.add(southwark_client.borough)
    Assignment(
        client=southwark_client, mentor=mentor, started_on=southwark_client.started_on
    ).full_clean()


@pytest.mark.django_db
def test_assignment_refuses_start_before_referral(southwark_client):
    """A mentor cannot be assigned before the client was referred."""
    assignment = factories.AssignmentFactory.build(
        client=southwark_client,
        mentor=factories.MentorFactory(home_borough=southwark_client.borough),
        started_on=southwark_client.referred_on - ONE_DAY,
    )
    assert_invalid(assignment, {"started_on": ["A mentor cannot be assigned before the referral."]})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            lambda a: {
                "ended_on": a.started_on - ONE_DAY,
                "end_reason": Assignment.EndReason.REASSIGNED,
            },
            {"ended_on": ["The assignment cannot end before it started."]},
            id="ended-before-start",
        ),
        pytest.param(
            lambda a: {"ended_on": a.started_on},
            {"end_reason": ["Say why the assignment ended."]},
            id="ended-without-reason",
        ),
        pytest.param(
            lambda a: {"end_reason": Assignment.EndReason.CLIENT_REQUEST},
            {"ended_on": ["Give the date the assignment ended."]},
            id="reason-without-end",
        ),
    ],
)
def test_assignment_clean_explains_end_date_and_reason_rules(changes, expected):
    """The end date and end reason go together, end not before start."""
    assignment = factories.AssignmentFactory()
    for field, value in changes(assignment).items():
        setattr(assignment, field, value)
    assert_invalid(assignment, expected)


@pytest.mark.django_db
def test_milestone_cannot_be_in_the_future():
    """A milestone dated tomorrow is refused."""
    milestone = factories.MilestoneFactory()
    milestone.achieved_on = tomorrow()
    assert_invalid(milestone, {"achieved_on": ["This date is in the future."]})


@pytest.mark.django_db
def test_milestone_cannot_be_before_referral():
    """Milestones count from the referral onwards."""
    milestone = factories.MilestoneFactory()
    milestone.achieved_on = milestone.client.referred_on - ONE_DAY
    assert_invalid(milestone, {"achieved_on": ["Milestones count from the referral date onwards."]})


@pytest.mark.django_db
def test_goal_target_cannot_be_before_it_was_set():
    """A goal's target date before the day it was set is refused."""
    goal = factories.GoalFactory()
    goal.target_date = goal.set_on - ONE_DAY
    assert_invalid(goal, {"target_date": ["The target date is before the goal was set."]})


def test_years_before_and_after_handle_the_29th_of_february():
    leap = datetime.date(2024, 2, 29)
    assert years_before(leap, 3) == datetime.date(2021, 2, 28)
    assert years_after(leap, 3) == datetime.date(2027, 3, 1)
    assert years_after(leap, 4) == datetime.date(2028, 2, 29)
    assert years_before(datetime.date(2026, 12, 6), 3) == datetime.date(2023, 12, 6)


@pytest.mark.django_db
def test_vetting_is_due_on_the_same_day_in_the_page_and_in_the_query():
    """
    ``vetting_problem`` (pages, forms) and ``vetting_not_current`` (lists, filters) agree
    on every day around a renewal, leap days included.
    """
    mentor = factories.MentorFactory(vetting_checked_on=None)
    assert mentor.vetting_problem() == "no vetting check recorded"
    assert Mentor.objects.vetting_not_current(timezone.localdate()).filter(pk=mentor.pk).exists()
    checks = [datetime.date(2024, 2, 27) + ONE_DAY * n for n in range(5)]
    days = [datetime.date(2027, 2, 25) + ONE_DAY * n for n in range(6)]
    days += [datetime.date(2028, 2, 27) + ONE_DAY * n for n in range(4)]
    for checked in checks:
        Mentor.objects.filter(pk=mentor.pk).update(vetting_checked_on=checked)
        mentor.refresh_from_db()
        for day in days:
            listed = Mentor.objects.vetting_not_current(day).filter(pk=mentor.pk).exists()
            assert listed == bool(mentor.vetting_problem(day)), (checked, day)
            assert listed == (day >= mentor.vetting_renewal_due_on), (checked, day)
    assert mentor.vetting_renewal_due_on == datetime.date(2027, 3, 2)
    assert mentor.vetting_problem(datetime.date(2027, 3, 2)) == (
        "a vetting check of 02/03/2024, due for renewal since 02/03/2027"
    )
    assert mentor.vetting_problem(datetime.date(2027, 3, 1)) == ""


@pytest.mark.django_db
def test_a_vetting_check_cannot_be_in_the_future():
    mentor = factories.MentorFactory()
    mentor.vetting_checked_on = timezone.localdate() + ONE_DAY
    assert_invalid(mentor, {"vetting_checked_on": ["This date is in the future."]})


def test_a_goal_is_overdue_only_while_open_after_its_target():
    today = timezone.localdate()
    goal = Goal(status=Goal.Status.OPEN, target_date=today - ONE_DAY)
    assert goal.is_overdue
    for status in set(Goal.Status) - {Goal.Status.OPEN}:
        goal.status = status
        assert not goal.is_overdue, status
    for target in (today, None):
        assert not Goal(status=Goal.Status.OPEN, target_date=target).is_overdue


@pytest.mark.django_db
def test_grant_cannot_end_before_it_starts():
    """A grant period running backwards is refused on ends_on."""
    grant = factories.GrantFactory()
    grant.ends_on = grant.starts_on - ONE_DAY
    assert_invalid(grant, {"ends_on": ["The grant cannot end before it starts."]})


@pytest.mark.django_db
def test_grant_of_nothing_is_refused():
    """A £0 grant is refused on amount."""
    grant = factories.GrantFactory()
    grant.amount = Decimal("0")
    assert_invalid(grant, {"amount": ["A grant is for more than £0."]})


@pytest.mark.django_db
def test_placement_cannot_end_before_it_started():
    """A placement ending the day before it started is refused on ended_on."""
    placement = factories.PlacementFactory()
    placement.ended_on = placement.started_on - ONE_DAY
    assert_invalid(placement, {"ended_on": ["The placement cannot end before it started."]})


# Derived values ---------------------------------------------------------------------------


def test_index_date_is_release_date_when_support_started_in_custody():
    """Release from custody, not the first day of support, starts the follow-up."""
    client = Client(started_on=datetime.date(2021, 1, 4), release_date=datetime.date(2021, 3, 1))
    assert client.index_date == datetime.date(2021, 3, 1)


def test_index_date_is_start_of_support_without_release():
    """Support that started in the community counts from its first day."""
    client = Client(started_on=datetime.date(2021, 1, 4))
    assert client.index_date == datetime.date(2021, 1, 4)


def test_referred_client_has_no_index_date():
    """Nobody is followed up before support starts."""
    assert Client(referred_on=datetime.date(2021, 1, 4)).index_date is None


@pytest.mark.parametrize(
    ("referred_on", "age"),
    [
        pytest.param(datetime.date(2020, 6, 14), 15, id="day-before-16th-birthday"),
        pytest.param(datetime.date(2020, 6, 15), 16, id="16th-birthday"),
        pytest.param(datetime.date(2030, 6, 14), 25, id="day-before-26th-birthday"),
        pytest.param(datetime.date(2030, 6, 15), 26, id="26th-birthday"),
    ],
)
def test_age_at_referral_counts_whole_years(referred_on, age):
    """Age goes up on the birthday itself, not the day before."""
    client = Client(date_of_birth=datetime.date(2004, 6, 15), referred_on=referred_on)
    assert client.age_at_referral == age


@pytest.mark.parametrize(
    ("referred_on", "outside"),
    [
        pytest.param(datetime.date(2020, 6, 14), True, id="15"),
        pytest.param(datetime.date(2020, 6, 15), False, id="16"),
        pytest.param(datetime.date(2030, 6, 14), False, id="25"),
        pytest.param(datetime.date(2030, 6, 15), True, id="26"),
    ],
)
def test_outside_target_age_is_below_16_or_above_25(referred_on, outside):
    """The target age 16-25 includes both ends."""
    client = Client(date_of_birth=datetime.date(2004, 6, 15), referred_on=referred_on)
    assert client.outside_target_age is outside


def test_client_without_dates_has_no_age_and_is_not_outside_target():
    """An incomplete record is not flagged as outside the target age."""
    client = Client()
    assert client.age_at_referral is None
    assert client.outside_target_age is False


def test_leap_day_child_turns_16_on_first_of_march_in_common_year():
    """Born on 29 February: still 15 on 28 February, 16 on 1 March of a common year."""
    born = datetime.date(2004, 2, 29)
    assert age_on(born, datetime.date(2020, 2, 28)) == 15
    assert age_on(born, datetime.date(2020, 2, 29)) == 16
    assert age_on(born, datetime.date(2021, 2, 28)) == 16
    assert age_on(born, datetime.date(2022, 3, 1)) == 18


# Scoping: for_user ------------------------------------------------------------------------


@pytest.fixture
def client_a(borough_a):
    return factories.ClientFactory(borough=borough_a, active=True)


@pytest.fixture
def client_b(borough_b):
    return factories.ClientFactory(borough=borough_b, active=True)


@pytest.fixture
def outsider(db):
    """A signed-in user with no StaffProfile and no admin rights."""
    return factories.UserFactory(username="outsider")


@pytest.fixture
def inactive_coordinator(borough_a):
    profile = factories.StaffProfileFactory(
        user__username="gone", user__is_active=False, boroughs=[borough_a]
    )
    return profile.user


@pytest.fixture
def inactive_admin(db):
    return factories.UserFactory(
        username="old_admin", is_staff=True, is_superuser=True, is_active=False
    )


@pytest.mark.django_db
def test_coordinator_sees_only_own_borough(coordinator_a, coordinator_b, borough_a, borough_b):
    """Borough.for_user: each coordinator reaches only the boroughs they work in."""
    assert list(Borough.objects.for_user(coordinator_a)) == [borough_a]
    assert list(Borough.objects.for_user(coordinator_b)) == [borough_b]


@pytest.mark.django_db
def test_manager_and_admin_see_every_borough(manager, admin_user, borough_a, borough_b):
    """A manager with no boroughs listed, and an admin, see every borough."""
    assert ids(Borough.objects.for_user(manager)) == sorted([borough_a.pk, borough_b.pk])
    assert ids(Borough.objects.for_user(admin_user)) == sorted([borough_a.pk, borough_b.pk])


@pytest.mark.django_db
def test_unprofiled_inactive_and_mentor_users_see_no_borough(
    outsider, inactive_coordinator, inactive_admin, mentor_a, borough_b
):
    """Boroughs are for coordinators, managers and admins only."""
    for user in (outsider, inactive_coordinator, inactive_admin, mentor_a.user):
        assert list(Borough.objects.for_user(user)) == []


@pytest.mark.django_db
def test_coordinator_sees_only_own_borough_clients(
    coordinator_a, coordinator_b, client_a, client_b
):
    """Client.for_user: a coordinator cannot see another borough's client."""
    assert list(Client.objects.for_user(coordinator_a)) == [client_a]
    assert list(Client.objects.for_user(coordinator_b)) == [client_b]


@pytest.mark.django_db
def test_manager_without_boroughs_and_admin_see_all_clients(
    manager, admin_user, client_a, client_b
):
    """A manager over all boroughs and an admin reach every client."""
    assert ids(Client.objects.for_user(manager)) == sorted([client_a.pk, client_b.pk])
    assert ids(Client.objects.for_user(admin_user)) == sorted([client_a.pk, client_b.pk])


@pytest.mark.django_db
def test_manager_with_boroughs_sees_only_those_clients(borough_b, client_a, client_b):
    """A manager listed against boroughs is limited to them, like a coordinator."""
    user = factories.StaffProfileFactory(role=StaffProfile.Role.MANAGER, boroughs=[borough_b]).user
    assert list(Client.objects.for_user(user)) == [client_b]


@pytest.mark.django_db
def test_coordinator_without_boroughs_sees_no_clients(client_a, client_b):
    """Unlike a manager, a coordinator with no boroughs sees nothing, not everything."""
    user = factories.StaffProfileFactory(role=StaffProfile.Role.COORDINATOR).user
    assert list(Client.objects.for_user(user)) == []


@pytest.mark.django_db
def test_mentor_sees_only_clients_assigned_to_them_now(mentor_a, borough_a, client_b):
    """A mentor reaches clients with an open assignment to their own mentor record only."""
    mine = factories.AssignmentFactory(mentor=mentor_a, client__borough=borough_a).client
    factories.AssignmentFactory(
        client__borough=borough_a,
        mentor=mentor_a,
        ended_on=datetime.date(2020, 7, 1),
        end_reason=Assignment.EndReason.CASE_CLOSED,
    )
    factories.AssignmentFactory(client__borough=borough_a)
    factories.ClientFactory(borough=borough_a, active=True)
    assert list(Client.objects.for_user(mentor_a.user)) == [mine]


@pytest.mark.django_db
def test_mentor_loses_client_reassigned_to_another_mentor(mentor_a, borough_a):
    """Once the client moves to another mentor, the old mentor no longer sees them."""
    old = factories.AssignmentFactory(
        mentor=mentor_a,
        client__borough=borough_a,
        ended_on=datetime.date(2020, 8, 1),
        end_reason=Assignment.EndReason.REASSIGNED,
    )
    factories.AssignmentFactory(client=old.client, started_on=datetime.date(2020, 8, 1))
    assert list(Client.objects.for_user(mentor_a.user)) == []


@pytest.mark.django_db
def test_users_without_a_role_see_no_clients(
    outsider, inactive_coordinator, inactive_admin, client_a, client_b
):
    """No StaffProfile, or a deactivated account (even an admin's), reaches nobody."""
    for user in (outsider, inactive_coordinator, inactive_admin):
        assert list(Client.objects.for_user(user)) == []


@pytest.fixture
def mentors(mentor_a, borough_a, borough_b):
    """Mentor A (home A), one based in B, and one based in B who also serves A."""
    based_b = factories.MentorFactory(home_borough=borough_b)
    visiting = factories.MentorFactory(home_borough=borough_b)
    visiting.other_boroughs.add(borough_a)
    return mentor_a, based_b, visiting


@pytest.mark.django_db
def test_coordinator_sees_mentors_based_in_or_serving_their_borough(
    mentors, coordinator_a, coordinator_b
):
    """Mentor.for_user: home borough or other boroughs, nobody else's."""
    based_a, based_b, visiting = mentors
    assert ids(Mentor.objects.for_user(coordinator_a)) == sorted([based_a.pk, visiting.pk])
    assert ids(Mentor.objects.for_user(coordinator_b)) == sorted([based_b.pk, visiting.pk])


@pytest.mark.django_db
def test_mentor_serving_several_boroughs_is_listed_once(coordinator_a, borough_a, borough_b):
    """A mentor matching by home borough and by two other boroughs is not duplicated."""
    mentor = factories.MentorFactory(home_borough=borough_a)
    mentor.other_boroughs.add(borough_b, factories.BoroughFactory())
    manager = factories.StaffProfileFactory(
        role=StaffProfile.Role.MANAGER, boroughs=[borough_a, borough_b]
    ).user
    assert list(Mentor.objects.for_user(coordinator_a)) == [mentor]
    assert list(Mentor.objects.for_user(manager)) == [mentor]


@pytest.mark.django_db
def test_manager_and_admin_see_all_mentors(mentors, manager, admin_user):
    """Managers over all boroughs and admins see every mentor."""
    every = sorted(m.pk for m in mentors)
    assert ids(Mentor.objects.for_user(manager)) == every
    assert ids(Mentor.objects.for_user(admin_user)) == every


@pytest.mark.django_db
def test_mentor_user_sees_only_own_mentor_record(mentors, mentor_a):
    """A mentor logging in sees their own record, not their colleagues'."""
    assert list(Mentor.objects.for_user(mentor_a.user)) == [mentor_a]


@pytest.mark.django_db
def test_users_without_a_role_see_no_mentors(mentors, outsider, inactive_coordinator):
    """No StaffProfile or a deactivated account: no mentors."""
    assert list(Mentor.objects.for_user(outsider)) == []
    assert list(Mentor.objects.for_user(inactive_coordinator)) == []


CLIENT_RECORD_FACTORIES = [
    pytest.param(factories.SupportSessionFactory, id="SupportSession"),
    pytest.param(factories.OffenceFactory, id="Offence"),
    pytest.param(factories.MilestoneFactory, id="Milestone"),
    pytest.param(factories.GoalFactory, id="Goal"),
    pytest.param(factories.PlacementFactory, id="Placement"),
    pytest.param(factories.AssignmentFactory, id="Assignment"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("factory", CLIENT_RECORD_FACTORIES)
def test_client_records_are_scoped_through_their_client(
    factory, client_a, client_b, coordinator_a, coordinator_b, manager, admin_user, outsider
):
    """A client's sessions, offences... are visible exactly where the client is."""
    record_a = factory(client=client_a)
    record_b = factory(client=client_b)
    model = type(record_a)
    assert list(model.objects.for_user(coordinator_a)) == [record_a]
    assert list(model.objects.for_user(coordinator_b)) == [record_b]
    assert ids(model.objects.for_user(manager)) == sorted([record_a.pk, record_b.pk])
    assert ids(model.objects.for_user(admin_user)) == sorted([record_a.pk, record_b.pk])
    assert list(model.objects.for_user(outsider)) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "factory",
    [
        pytest.param(factories.SupportSessionFactory, id="SupportSession"),
        pytest.param(factories.OffenceFactory, id="Offence"),
    ],
)
def test_mentor_sees_records_of_assigned_clients_only(factory, mentor_a, client_a, borough_a):
    """A mentor sees the records of the clients they support now, and no others."""
    factories.AssignmentFactory(client=client_a, mentor=mentor_a)
    other_client = factories.ClientFactory(borough=borough_a, active=True)
    mine = factory(client=client_a)
    factory(client=other_client)
    assert list(type(mine).objects.for_user(mentor_a.user)) == [mine]


@pytest.mark.django_db
def test_goal_cannot_be_set_in_the_future_or_before_the_referral():
    goal = factories.GoalFactory()
    goal.set_on = tomorrow()
    goal.target_date = None
    assert_invalid(goal, {"set_on": ["This date is in the future."]})
    goal.set_on = goal.client.referred_on - ONE_DAY
    referred = goal.client.referred_on.strftime("%d/%m/%Y")
    assert_invalid(
        goal, {"set_on": [f"The goal is set before the client's referral on {referred}."]}
    )


@pytest.mark.django_db
def test_goal_cannot_be_set_after_the_case_was_closed():
    goal = factories.GoalFactory(client=factories.ClientFactory(closed=True))
    closed = goal.client.ended_on
    goal.set_on = closed
    goal.target_date = None
    goal.full_clean()
    goal.set_on = closed + ONE_DAY
    assert_invalid(
        goal,
        {"set_on": [f"The case was closed on {closed:%d/%m/%Y}: a goal cannot be set after that."]},
    )


@pytest.mark.django_db
def test_offence_cannot_be_before_the_age_of_criminal_responsibility():
    offence = factories.OffenceFactory()
    born = datetime.date(2008, 5, 20)
    Client.objects.filter(pk=offence.client_id).update(date_of_birth=born)
    offence.client.refresh_from_db()
    offence.offence_date = datetime.date(2018, 5, 19)
    offence.outcome_date = None
    offence.disposal = Offence.Disposal.PENDING
    assert_invalid(
        offence,
        {
            "offence_date": [
                f"The client (born {born:%d/%m/%Y}) was under 10 on that date, below the age "
                "of criminal responsibility: check the date."
            ]
        },
    )
    offence.offence_date = datetime.date(2018, 5, 20)  # the 10th birthday
    offence.full_clean()


@pytest.mark.django_db
def test_consent_cannot_be_recorded_before_birth():
    client = factories.ClientFactory()
    client.consent_recorded_on = client.date_of_birth
    assert_invalid(
        client, {"consent_recorded_on": ["Consent cannot be recorded before the client was born."]}
    )
