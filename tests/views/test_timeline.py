"""
The client's timeline in the order things happened: on one day the referral comes before
the start, a match before its sessions, the match's end before the case's closure;
sessions by their start time (shown), and a goal's outcome when it is recorded.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from mentoring.models import Goal

from .. import factories

pytestmark = pytest.mark.django_db


def _kinds(response):
    return [(entry["date"], entry["kind"]) for entry in response.context["timeline"]]


@pytest.fixture
def one_day(borough_a, mentor_a):
    """A case referred, started, matched, met twice, and closed, all on one day."""
    day = timezone.localdate() - datetime.timedelta(days=30)
    kai = factories.ClientFactory(borough=borough_a, active=True, referred_on=day, started_on=day)
    match = factories.AssignmentFactory(client=kai, mentor=mentor_a, started_on=day)
    factories.SupportSessionFactory(
        client=kai, mentor=mentor_a, date=day, start_time=datetime.time(9, 30)
    )
    factories.SupportSessionFactory(
        client=kai, mentor=mentor_a, date=day, start_time=datetime.time(16, 0)
    )
    match.ended_on, match.end_reason = day, "CASE_CLOSED"
    match.save()
    kai.status, kai.ended_on, kai.closure_reason = "CLOSED", day, "COMPLETED"
    kai.save()
    return kai


def test_one_days_entries_read_newest_first_in_the_order_they_happened(
    client, coordinator_a, one_day
):
    client.force_login(coordinator_a)
    response = client.get(reverse("client_detail", args=[one_day.reference]))
    assert [kind for _day, kind in _kinds(response)] == [
        "closed",
        "assignment_end",
        "session",
        "session",
        "assignment_start",
        "started",
        "referred",
    ]
    sessions = [e["item"] for e in response.context["timeline"] if e["kind"] == "session"]
    assert [s.start_time for s in sessions] == [datetime.time(16, 0), datetime.time(9, 30)]
    page = response.content.decode()
    assert f"{one_day.referred_on:%d/%m/%Y} 16:00" in page
    assert f"{one_day.referred_on:%d/%m/%Y} 09:30" in page


def test_recording_a_goals_outcome_dates_it_and_reopening_clears_it(
    client, coordinator_a, borough_a
):
    kai = factories.ClientFactory(borough=borough_a, active=True)
    goal = factories.GoalFactory(client=kai)
    client.force_login(coordinator_a)
    response = client.post(reverse("goal_status", args=[goal.pk]), {"status": "ACHIEVED"})
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.reviewed_on == timezone.localdate()
    page = client.get(reverse("client_detail", args=[kai.reference]))
    assert (timezone.localdate(), "goal_reviewed") in _kinds(page)
    assert f"Goal achieved: {goal.description}" in page.content.decode()

    client.post(reverse("goal_status", args=[goal.pk]), {"status": "OPEN"})
    goal.refresh_from_db()
    assert goal.reviewed_on is None
    page = client.get(reverse("client_detail", args=[kai.reference]))
    assert "goal_reviewed" not in [kind for _day, kind in _kinds(page)]


def test_a_goal_keeps_the_day_its_outcome_was_first_recorded(borough_a):
    goal = factories.GoalFactory(client=factories.ClientFactory(borough=borough_a, active=True))
    first = timezone.localdate() - datetime.timedelta(days=3)
    goal.status, goal.reviewed_on = Goal.Status.ACHIEVED, first
    goal.full_clean()
    goal.status = Goal.Status.PARTIALLY_ACHIEVED
    goal.full_clean()
    assert goal.reviewed_on == first
