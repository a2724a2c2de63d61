"""
Follow-up check-ins after a completed case (docs/figures.md), one boundary at a time: due
on the day the case ended + 91, + 182 and + 365 days, as of a date A.
"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mentoring import metrics
from mentoring.models import Client, FollowUp

from ..factories import ClientFactory, OffenceFactory

AS_OF = date(2026, 11, 26)

pytestmark = pytest.mark.django_db


def days(n):
    return timedelta(days=n)


def completed(borough, ended_on, reason=Client.ClosureReason.COMPLETED):
    return ClientFactory(
        borough=borough,
        status=Client.Status.CLOSED,
        closure_reason=reason,
        referred_on=date(2020, 1, 6),
        started_on=date(2020, 1, 6),
        ended_on=ended_on,
    )


def check_in(client, point, done_on=None, reached=True, ete=True, housed=True, told=False):
    due = FollowUp.due_on_for(client.ended_on, point)
    return FollowUp.objects.create(
        client=client,
        point=point,
        done_on=done_on or due,
        reached=reached,
        in_ete=ete if reached else None,
        stable_accommodation=housed if reached else None,
        new_offence_told=told if reached else None,
    )


def figures(scope=None, as_of=AS_OF):
    return metrics.followups(scope, as_of)["network"]


@pytest.mark.parametrize(
    ("ended_days_before", "due"),
    [
        pytest.param(90, 0, id="day-90-not-due"),
        pytest.param(91, 1, id="day-91-due"),
        pytest.param(181, 1, id="day-181-only-3-months"),
        pytest.param(182, 2, id="day-182-3-and-6-months"),
        pytest.param(364, 2, id="day-364"),
        pytest.param(365, 3, id="day-365-all-three"),
        pytest.param(2000, 3, id="long-ago-still-three"),
    ],
)
def test_check_ins_fall_due_on_days_91_182_and_365(borough_a, ended_days_before, due):
    completed(borough_a, AS_OF - days(ended_days_before))
    assert figures()["followups_due"] == due


@pytest.mark.parametrize(
    "reason",
    [r for r in Client.ClosureReason.values if r != Client.ClosureReason.COMPLETED],
)
def test_only_completed_cases_are_followed_up(borough_a, reason):
    completed(borough_a, AS_OF - days(400), reason=reason)
    completed(borough_a, AS_OF - days(400))
    assert figures()["followups_due"] == 3


def test_active_clients_are_not_followed_up(borough_a):
    ClientFactory(borough=borough_a, active=True, referred_on=date(2020, 1, 6))
    assert figures()["followups_due"] == 0


def test_done_counts_check_ins_recorded_by_A_that_were_due_by_A(borough_a):
    client = completed(borough_a, AS_OF - days(200))  # 3 and 6 months due
    check_in(client, 3, done_on=AS_OF - days(100))
    check_in(client, 6, done_on=AS_OF)
    assert figures()["followups_done"] == 2
    # Recorded the day after A: not known on A.
    assert figures(as_of=AS_OF - days(1))["followups_done"] == 1


def test_a_check_in_recorded_early_counts_only_once_due(borough_a):
    client = completed(borough_a, AS_OF - days(178))  # 6 months due in 4 days
    check_in(client, 3, done_on=AS_OF - days(80))
    check_in(client, 6, done_on=AS_OF - days(1))
    result = figures()
    assert (result["followups_due"], result["followups_done"]) == (1, 1)
    later = figures(as_of=AS_OF + days(4))
    assert (later["followups_due"], later["followups_done"]) == (2, 2)


def test_reach_rate_is_reached_over_done(borough_a):
    for n in range(4):
        check_in(completed(borough_a, AS_OF - days(100)), 3, reached=n < 3)
    completed(borough_a, AS_OF - days(100))  # due, not done: not in the rate
    result = figures()
    assert (result["followups_due"], result["followups_done"]) == (5, 4)
    assert result["followups_reached"] == 3
    assert result["followup_reach_rate"] == pytest.approx(0.75)


def test_no_check_in_done_gives_no_rate(borough_a):
    completed(borough_a, AS_OF - days(100))
    result = figures()
    assert result["followup_reach_rate"] is None
    assert result["followup_ete_share_3m"] is None


def test_shares_are_of_those_reached_at_each_point(borough_a):
    a = completed(borough_a, AS_OF - days(400))
    b = completed(borough_a, AS_OF - days(400))
    check_in(a, 3, ete=True, housed=False)
    check_in(b, 3, ete=False, housed=False)
    check_in(a, 6, ete=True, housed=True)
    check_in(b, 6, reached=False)
    check_in(a, 12, reached=False)
    result = figures()
    assert result["followups_reached_3m"] == 2
    assert (result["followup_ete_3m"], result["followup_ete_share_3m"]) == (1, 0.5)
    assert (result["followup_housed_3m"], result["followup_housed_share_3m"]) == (0, 0.0)
    assert result["followups_reached_6m"] == 1
    assert result["followup_ete_share_6m"] == 1.0
    assert result["followup_housed_share_6m"] == 1.0
    assert result["followups_reached_12m"] == 0
    assert result["followup_ete_share_12m"] is None
    assert (result["followups_done"], result["followups_reached"]) == (5, 3)


def test_a_new_offence_told_is_never_a_proven_reoffence(borough_a):
    """What a young person says at a check-in does not move the reoffending figures."""
    client = completed(borough_a, AS_OF - days(700))
    OffenceFactory(client=ClientFactory(borough=borough_a, active=True))  # other data
    before = metrics.report(None, AS_OF)["network"]
    check_in(client, 3, told=True)
    check_in(client, 6, told=True)
    after = metrics.report(None, AS_OF)["network"]
    for key in ("reoffenders", "reoffending_rate", "cohort", "offences_awaiting_outcome"):
        assert after[key] == before[key]
    assert "new_offence" not in " ".join(metrics.FOLLOWUP_FIGURES)


def test_each_borough_and_the_network(borough_a, borough_b):
    check_in(completed(borough_a, AS_OF - days(100)), 3)
    completed(borough_b, AS_OF - days(200))
    result = metrics.followups(None, AS_OF)
    a, b = result["boroughs"][borough_a.slug], result["boroughs"][borough_b.slug]
    assert (a["followups_due"], a["followups_done"]) == (1, 1)
    assert (b["followups_due"], b["followups_done"]) == (2, 0)
    assert (result["network"]["followups_due"], result["network"]["followups_done"]) == (3, 1)
    only_b = metrics.followups(borough_b, AS_OF)
    assert list(only_b["boroughs"]) == [borough_b.slug]
    assert only_b["network"]["followups_due"] == 2


def test_every_figure_is_present_for_a_borough_with_nothing(borough_a):
    result = metrics.followups(None, AS_OF)["boroughs"][borough_a.slug]
    assert set(result) == set(metrics.FOLLOWUP_FIGURES)
    assert result["followups_due"] == 0


def test_report_carries_the_figures_after_sustained_employment(borough_a):
    check_in(completed(borough_a, AS_OF - days(100)), 3)
    report = metrics.with_after_support(metrics.report(None, AS_OF), None, AS_OF)
    assert report["network"]["followups_done"] == 1
    assert report["boroughs"][0]["followups_done"] == 1
    columns = list(metrics.REPORT_COLUMNS)
    start = columns.index("sustained_job_26w_of") + 1
    assert tuple(columns[start : start + len(metrics.FOLLOWUP_FIGURES)]) == (
        metrics.FOLLOWUP_FIGURES
    )


def test_the_figures_take_three_queries_however_many_check_ins(borough_a, borough_b):
    for borough in (borough_a, borough_b):
        for n in range(5):
            client = completed(borough, AS_OF - days(100 + 60 * n))
            check_in(client, 3)
    with CaptureQueriesContext(connection) as queries:
        metrics.followups(None, AS_OF)
    assert len(queries) == 3
