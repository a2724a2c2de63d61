"""
Sustained employment (docs/figures.md) against hand-built placements, one boundary at a
time: 13 weeks is 91 days and 26 weeks 182, as of a date A.
"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mentoring import metrics
from mentoring.models import Placement

from ..factories import BoroughFactory, ClientFactory, PlacementFactory

AS_OF = date(2026, 11, 26)
JOB = Placement.Kind.JOB

pytestmark = pytest.mark.django_db


def days(n):
    return timedelta(days=n)


def client_of(borough):
    return ClientFactory(
        borough=borough, active=True, referred_on=date(2024, 1, 2), started_on=date(2024, 1, 2)
    )


def placement(client, started_on, ended_on=None, kind=JOB):
    return PlacementFactory(client=client, kind=kind, started_on=started_on, ended_on=ended_on)


def figures(scope=None, as_of=AS_OF):
    return metrics.sustained_employment(scope, as_of)["network"]


def as_13_weeks(result):
    return result["sustained_job_13w"], result["sustained_job_13w_of"]


def as_26_weeks(result):
    return result["sustained_job_26w"], result["sustained_job_26w_of"]


@pytest.mark.parametrize(
    ("held_days", "sustained"),
    [
        pytest.param(90, False, id="ended-on-day-90"),
        pytest.param(91, True, id="ended-on-day-91"),
    ],
)
def test_13_weeks_is_91_days_held(borough_a, held_days, sustained):
    """A job ended 90 days after it started was not sustained; one ended after 91 was."""
    start = AS_OF - days(200)
    placement(client_of(borough_a), start, start + days(held_days))
    assert as_13_weeks(figures()) == (int(sustained), 1)


@pytest.mark.parametrize(
    ("held_days", "sustained"),
    [
        pytest.param(181, False, id="ended-on-day-181"),
        pytest.param(182, True, id="ended-on-day-182"),
    ],
)
def test_26_weeks_is_182_days_held(borough_a, held_days, sustained):
    start = AS_OF - days(400)
    placement(client_of(borough_a), start, start + days(held_days))
    assert as_26_weeks(figures()) == (int(sustained), 1)
    assert as_13_weeks(figures()) == (1, 1)


@pytest.mark.parametrize(
    ("started_days_before", "counted"),
    [
        pytest.param(91, True, id="started-on-A-minus-91"),
        pytest.param(90, False, id="started-on-A-minus-90"),
    ],
)
def test_13_weeks_counts_jobs_started_91_days_before_as_of(borough_a, started_days_before, counted):
    """Only a job that has had 91 days to run counts, in the denominator as on top."""
    placement(client_of(borough_a), AS_OF - days(started_days_before))
    assert as_13_weeks(figures()) == (int(counted), int(counted))


@pytest.mark.parametrize(
    ("started_days_before", "counted"),
    [
        pytest.param(182, True, id="started-on-A-minus-182"),
        pytest.param(181, False, id="started-on-A-minus-181"),
    ],
)
def test_26_weeks_counts_jobs_started_182_days_before_as_of(
    borough_a, started_days_before, counted
):
    placement(client_of(borough_a), AS_OF - days(started_days_before))
    assert as_26_weeks(figures()) == (int(counted), int(counted))
    assert as_13_weeks(figures()) == (1, 1)


def test_an_end_after_as_of_is_ongoing(borough_a):
    """
    As of 95 days into a job recorded as ending on day 100, the job is going on: sustained
    for 13 weeks. A job ended on day 50 is known to have ended short.
    """
    start = AS_OF - days(300)
    placement(client_of(borough_a), start, start + days(100))
    placement(client_of(borough_a), start, start + days(50))
    assert as_13_weeks(figures(as_of=start + days(95))) == (1, 2)
    assert as_26_weeks(figures(as_of=start + days(95))) == (0, 0)


def test_placements_started_after_as_of_are_ignored(borough_a):
    placement(client_of(borough_a), AS_OF + days(1))
    assert as_13_weeks(figures()) == (0, 0)


def test_an_apprenticeship_counts(borough_a):
    placement(client_of(borough_a), AS_OF - days(100), kind=Placement.Kind.APPRENTICESHIP)
    assert as_13_weeks(figures()) == (1, 1)


@pytest.mark.parametrize("kind", [Placement.Kind.WORK_EXPERIENCE, Placement.Kind.TRAINING])
def test_work_experience_and_training_do_not_count(borough_a, kind):
    placement(client_of(borough_a), AS_OF - days(400), kind=kind)
    assert figures() == dict.fromkeys(metrics.SUSTAINED_FIGURES, 0)


def test_a_client_with_two_placements_counts_once(borough_a):
    """Two jobs held, and one short, make one client who sustained a job."""
    client = client_of(borough_a)
    placement(client, AS_OF - days(400))
    placement(client, AS_OF - days(300), AS_OF - days(250))
    placement(client, AS_OF - days(200), kind=Placement.Kind.APPRENTICESHIP)
    assert figures() == {
        "sustained_job_13w": 1,
        "sustained_job_13w_of": 1,
        "sustained_job_26w": 1,
        "sustained_job_26w_of": 1,
    }


def test_one_long_job_sustains_a_client_whose_other_job_was_short(borough_a):
    client = client_of(borough_a)
    placement(client, AS_OF - days(300), AS_OF - days(280))
    assert as_13_weeks(figures()) == (0, 1)
    placement(client, AS_OF - days(200), AS_OF - days(100))
    assert as_13_weeks(figures()) == (1, 1)


def test_boroughs_add_up_to_the_network_and_scope_is_kept(borough_a, borough_b):
    empty = BoroughFactory()
    for start, end in ((400, None), (400, 350), (100, None)):
        placement(client_of(borough_a), AS_OF - days(start), end and AS_OF - days(end))
    placement(client_of(borough_b), AS_OF - days(200), AS_OF - days(100))
    placement(client_of(borough_b), AS_OF - days(200), AS_OF - days(150))
    result = metrics.sustained_employment(None, AS_OF)
    boroughs = result["boroughs"]
    assert boroughs[borough_a.slug] == {
        "sustained_job_13w": 2,
        "sustained_job_13w_of": 3,
        "sustained_job_26w": 1,
        "sustained_job_26w_of": 2,
    }
    assert boroughs[borough_b.slug] == {
        "sustained_job_13w": 1,
        "sustained_job_13w_of": 2,
        "sustained_job_26w": 0,
        "sustained_job_26w_of": 2,
    }
    assert boroughs[empty.slug] == dict.fromkeys(metrics.SUSTAINED_FIGURES, 0)
    assert result["network"] == {
        "sustained_job_13w": 3,
        "sustained_job_13w_of": 5,
        "sustained_job_26w": 1,
        "sustained_job_26w_of": 4,
    }
    only_b = metrics.sustained_employment(borough_b, AS_OF)
    assert list(only_b["boroughs"]) == [borough_b.slug]
    assert only_b["network"] == boroughs[borough_b.slug]


def test_a_fixed_number_of_queries_whatever_the_data(borough_a, borough_b):
    """2 queries for the figures alone (the boroughs, the counts); 1 beside a report."""
    report = metrics.report(None, AS_OF)

    def queries():
        with CaptureQueriesContext(connection) as alone:
            metrics.sustained_employment(None, AS_OF)
        with CaptureQueriesContext(connection) as beside:
            metrics.with_sustained_employment(report, None, AS_OF)
        return len(alone), len(beside)

    assert queries() == (2, 1)
    for borough in (borough_a, borough_b):
        for n in range(3):
            placement(client_of(borough), AS_OF - days(100 + 50 * n))
    assert queries() == (2, 1)


def test_with_sustained_employment_adds_the_figures_to_a_report(borough_a, borough_b):
    placement(client_of(borough_b), AS_OF - days(100))
    report = metrics.with_sustained_employment(metrics.report(None, AS_OF), None, AS_OF)
    by_slug = {b["slug"]: b for b in report["boroughs"]}
    assert as_13_weeks(by_slug[borough_b.slug]) == (1, 1)
    assert as_13_weeks(by_slug[borough_a.slug]) == (0, 0)
    assert as_13_weeks(report["network"]) == (1, 1)
