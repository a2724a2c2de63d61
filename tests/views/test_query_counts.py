"""
Every page runs the same number of queries however much data there is: each page is
counted with a little data, then again after more clients, sessions, offences,
milestones, goals and assignments are added (to the page's own client too).

The list, client page, home, mentor and dashboard pages also have exact counts in their
own modules; this file covers every page, so a new page is counted automatically.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse

from mentoring import services
from mentoring.models import Client, SupportArea

from .. import factories
from ..helpers import count_queries, dmy, today

pytestmark = pytest.mark.django_db

# Pages that only accept POST (their POSTs are counted in test_session_post_* below or
# write a fixed set of rows by construction).
POST_ONLY = {"client_decline", "goal_status", "client_printed"}


@pytest.fixture
def world(borough_a, borough_b, coordinator_a, manager, mentor_a):
    active = factories.ClientFactory(borough=borough_a, active=True)
    factories.AssignmentFactory(client=active, mentor=mentor_a)
    referred = factories.ClientFactory(borough=borough_a)
    session = factories.SupportSessionFactory(
        client=active, mentor=mentor_a, date=today(), safeguarding_concern=True
    )
    goal = factories.GoalFactory(client=active)
    completed = factories.ClientFactory(
        borough=borough_a, closed=True, referred_on=today() - datetime.timedelta(days=500)
    )
    return {
        "completed": completed,
        "followup": factories.FollowUpFactory(client=completed),
        "active": active,
        "referred": referred,
        "session": session,
        "goal": goal,
        "offence": factories.OffenceFactory(client=active),
        "milestone": factories.MilestoneFactory(client=active),
        "placement": factories.PlacementFactory(client=active),
        "pathway_step": factories.PathwayStepFactory(client=active, reached_on=active.started_on),
        "mentor": mentor_a,
        "boroughs": (borough_a, borough_b),
    }


def grow(world, times=6):
    """More of everything, in both boroughs and on the page's own clients."""
    areas = list(SupportArea.objects.all()[:3])
    for borough in world["boroughs"]:
        mentor = factories.MentorFactory(home_borough=borough)
        for _ in range(times):
            person = factories.ClientFactory(borough=borough, active=True)
            factories.AssignmentFactory(client=person, mentor=mentor)
            factories.SupportSessionFactory(client=person, mentor=mentor, date=today())
            factories.OffenceFactory(client=person)
            factories.PlacementFactory(client=person, employer__borough=borough)
            factories.FollowUpFactory(client__borough=borough)
            former = factories.ClientFactory(borough=borough, closed=True)
            # The peer pathway: steps, and a mentor who was a client, on the dashboards.
            factories.PathwayStepFactory(client=former)
            services.client_becomes_mentor(
                client=former, started_on=former.ended_on, confirmed=False
            )
    for n in range(times * 3):
        s = factories.SupportSessionFactory(
            client=world["active"],
            mentor=world["mentor"],
            date=today() - datetime.timedelta(days=n),
            notes=f"note {n}",
        )
        s.support_areas.set(areas)
        factories.OffenceFactory(client=world["active"])
        factories.MilestoneFactory(client=world["active"])
        factories.GoalFactory(client=world["active"])
        # Jobs for sustained employment on the dashboards, and for the client's page.
        factories.PlacementFactory(
            client=world["active"], kind="JOB", started_on=today() - datetime.timedelta(days=n)
        )
    # The 12-month check-in too (the 6-month one is the page recorded).
    factories.FollowUpFactory(client=world["completed"], point=12)
    world["active"].needs.set(areas)


def pages(world):
    """(url name, url, user fixture) for every page that answers GET."""
    active, referred = world["active"].reference, world["referred"].reference
    a = world["boroughs"][0]
    # Every client started since 2000, up to today: those grow() adds included.
    impact = f"{reverse('impact_report')}?from=01/01/2000&to={dmy(today())}"
    return [
        ("home", reverse("home"), "coordinator_a"),
        ("home", reverse("home"), "mentor_a"),
        (
            "client_list",
            reverse("client_list") + "?status=ACTIVE&sort=last_contact",
            "coordinator_a",
        ),
        ("client_new", reverse("client_new"), "coordinator_a"),
        ("client_detail", reverse("client_detail", args=[active]), "coordinator_a"),
        ("client_edit", reverse("client_edit", args=[active]), "coordinator_a"),
        ("client_export", reverse("client_export", args=[active]), "coordinator_a"),
        ("client_history", reverse("client_history", args=[active]), "coordinator_a"),
        ("client_start", reverse("client_start", args=[referred]), "coordinator_a"),
        ("client_assign", reverse("client_assign", args=[active]), "coordinator_a"),
        ("assignment_end", reverse("assignment_end", args=[active]), "coordinator_a"),
        ("client_close", reverse("client_close", args=[active]), "coordinator_a"),
        ("client_transfer", reverse("client_transfer", args=[active]), "coordinator_a"),
        ("client_session_new", reverse("client_session_new", args=[active]), "coordinator_a"),
        ("offence_new", reverse("offence_new", args=[active]), "coordinator_a"),
        ("milestone_new", reverse("milestone_new", args=[active]), "coordinator_a"),
        ("goal_new", reverse("goal_new", args=[active]), "coordinator_a"),
        ("offence_edit", reverse("offence_edit", args=[world["offence"].pk]), "coordinator_a"),
        (
            "milestone_edit",
            reverse("milestone_edit", args=[world["milestone"].pk]),
            "coordinator_a",
        ),
        ("placement_new", reverse("placement_new", args=[active]), "coordinator_a"),
        ("pathway_step_new", reverse("pathway_step_new", args=[active]), "coordinator_a"),
        (
            "pathway_step_edit",
            reverse("pathway_step_edit", args=[world["pathway_step"].pk]),
            "coordinator_a",
        ),
        (
            "client_becomes_mentor",
            reverse("client_becomes_mentor", args=[active]),
            "coordinator_a",
        ),
        ("goal_edit", reverse("goal_edit", args=[world["goal"].pk]), "coordinator_a"),
        (
            "placement_edit",
            reverse("placement_edit", args=[world["placement"].pk]),
            "coordinator_a",
        ),
        (
            "followup_record",
            reverse("followup_record", args=[world["completed"].reference, 6]),
            "coordinator_a",
        ),
        ("followup_edit", reverse("followup_edit", args=[world["followup"].pk]), "coordinator_a"),
        (
            "client_detail",
            reverse("client_detail", args=[world["completed"].reference]),
            "coordinator_a",
        ),
        ("session_new", reverse("session_new"), "coordinator_a"),
        ("session_edit", reverse("session_edit", args=[world["session"].pk]), "coordinator_a"),
        (
            "safeguarding_follow_up",
            reverse("safeguarding_follow_up", args=[world["session"].pk]),
            "coordinator_a",
        ),
        ("mentor_list", reverse("mentor_list"), "coordinator_a"),
        ("employer_list", reverse("employer_list"), "coordinator_a"),
        ("employer_list", reverse("employer_list"), "manager"),
        ("mentor_detail", reverse("mentor_detail", args=[world["mentor"].pk]), "coordinator_a"),
        ("network_dashboard", reverse("network_dashboard"), "manager"),
        ("borough_dashboard", reverse("borough_dashboard", args=[a.slug]), "manager"),
        ("replication_dashboard", reverse("replication_dashboard"), "manager"),
        ("replication_dashboard", reverse("replication_dashboard"), "coordinator_a"),
        ("impact_report", impact + "&scope=area:southwark", "coordinator_a"),
        ("impact_report", impact + "&scope=network", "manager"),
    ]


def user_of(request, fixture):
    person = request.getfixturevalue(fixture)
    return getattr(person, "user", None) or person  # mentor_a is a Mentor with a login


def test_every_get_page_of_the_app_is_counted(world):
    names = {
        p.name
        for p in get_resolver().url_patterns[-1].url_patterns  # mentoring.urls
        if p.name
    }
    counted = {name for name, _url, _user in pages(world)}
    assert names - POST_ONLY == counted


def test_no_page_runs_more_queries_with_more_data(client, request, world):
    before = {}
    for name, url, user in pages(world):
        client.force_login(user_of(request, user))
        before[(name, url, user)] = count_queries(client, url)
    grow(world)
    after = {}
    for name, url, user in pages(world):
        client.force_login(user_of(request, user))
        after[(name, url, user)] = count_queries(client, url)
    grown = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert not grown, f"queries grew with the data (before, after): {grown}"


def test_logging_a_session_runs_the_same_queries_with_more_data(client, world, coordinator_a):
    client.force_login(coordinator_a)
    url = reverse("client_session_new", args=[world["active"].reference])

    def post():
        import uuid

        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                url,
                {
                    "date": today().strftime("%d/%m/%Y"),
                    "duration_minutes": "60",
                    "kind": "BOTH",
                    "mode": "PHONE",
                    "attendance": "ATTENDED",
                    "support_areas": [a.pk for a in SupportArea.objects.all()[:2]],
                    "submission_token": str(uuid.uuid4()),
                },
            )
        assert response.status_code == 302
        return len(queries)

    small = post()
    grow(world)
    assert post() == small
    assert Client.objects.count() > 20
