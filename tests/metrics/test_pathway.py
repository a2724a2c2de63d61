"""
The peer pathway's figures (docs/figures.md) against hand-built steps and mentors, one
boundary at a time, as of a date A; and the dashboards and the report that show them.
"""

import csv
import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mentoring import metrics
from mentoring.models import PathwayStep

from ..factories import ClientFactory, MentorFactory, PathwayStepFactory

AS_OF = date(2026, 11, 26)
Step = PathwayStep.Step

pytestmark = pytest.mark.django_db


def days(n):
    return timedelta(days=n)


def client_of(borough, **names):
    return ClientFactory(
        borough=borough,
        closed=True,
        referred_on=date(2020, 1, 6),
        started_on=date(2020, 2, 3),
        ended_on=date(2021, 2, 1),
        **names,
    )


def step(client, kind, reached_on):
    return PathwayStepFactory(client=client, step=kind, reached_on=reached_on)


def former_client_mentor(borough, support_started_on, started_on, ended_on=None):
    """A mentor who was a client, ``started_on - support_started_on`` days after their
    support started."""
    person = ClientFactory(
        borough=borough,
        closed=True,
        referred_on=support_started_on,
        started_on=support_started_on,
        ended_on=support_started_on + days(100),
    )
    return MentorFactory(
        home_borough=borough,
        started_on=started_on,
        ended_on=ended_on,
        former_client=person,
        was_client=True,
        client_support_started_on=support_started_on,
    )


def figures(scope=None, as_of=AS_OF):
    return metrics.pathway(scope, as_of)


@pytest.mark.parametrize(
    ("reached", "counted"),
    [
        pytest.param(AS_OF, 1, id="reached-on-A"),
        pytest.param(AS_OF + days(1), 0, id="reached-the-day-after-A"),
    ],
)
def test_a_step_counts_from_the_day_it_was_reached(borough_a, reached, counted):
    step(client_of(borough_a), Step.LEVEL_3, reached)
    result = figures()
    assert result["network"]["pathway_level_3"] == counted
    assert result["boroughs"][borough_a.slug]["pathway_level_3"] == counted
    assert result["network"]["pathway_level_2"] == 0


def test_each_step_counts_clients_in_the_borough_they_belong_to(borough_a, borough_b):
    """A client is counted once per step reached, in their borough; the network adds up."""
    jade = client_of(borough_a)
    for kind in (Step.VOLUNTEERING, Step.LEVEL_2, Step.LEVEL_3, Step.PEER_MENTOR):
        step(jade, kind, date(2023, 1, 2))
    step(client_of(borough_a), Step.VOLUNTEERING, date(2022, 3, 1))
    paid = client_of(borough_b)
    step(paid, Step.VOLUNTEERING, date(2021, 5, 1))
    step(paid, Step.PAID_STAFF, date(2025, 5, 1))
    result = figures()
    southwark, croydon = result["boroughs"]["southwark"], result["boroughs"]["croydon"]
    assert [southwark[name] for name in metrics.PATHWAY_FIGURES[:5]] == [2, 1, 1, 1, 0]
    assert [croydon[name] for name in metrics.PATHWAY_FIGURES[:5]] == [1, 0, 0, 0, 1]
    assert [result["network"][name] for name in metrics.PATHWAY_FIGURES[:5]] == [3, 1, 1, 1, 1]


@pytest.mark.parametrize(
    ("started", "ended", "active"),
    [
        pytest.param(AS_OF, None, 1, id="started-on-A"),
        pytest.param(AS_OF + days(1), None, 0, id="started-the-day-after-A"),
        pytest.param(AS_OF - days(30), AS_OF, 0, id="left-on-A"),
        pytest.param(AS_OF - days(30), AS_OF + days(1), 1, id="left-the-day-after-A"),
    ],
)
def test_mentors_active_on_a_started_by_then_and_had_not_left(borough_a, started, ended, active):
    former_client_mentor(borough_a, date(2019, 1, 7), started, ended)
    result = figures()["boroughs"]["southwark"]
    assert (result["mentors_active"], result["mentors_former_clients"]) == (active, active)
    assert result["mentors_former_client_share"] == (1.0 if active else None)


def test_the_share_is_of_the_active_mentors_based_in_the_borough(borough_a, borough_b):
    for _ in range(3):
        MentorFactory(home_borough=borough_a, started_on=date(2015, 1, 5))
    former_client_mentor(borough_a, date(2019, 1, 7), date(2021, 3, 1))
    # Left before A: neither active nor a former client now; a visitor from Croydon.
    former_client_mentor(borough_a, date(2019, 1, 7), date(2021, 3, 1), AS_OF - days(1))
    visitor = MentorFactory(home_borough=borough_b, started_on=date(2015, 1, 5))
    visitor.other_boroughs.add(borough_a)
    result = figures()
    southwark = result["boroughs"]["southwark"]
    assert (southwark["mentors_active"], southwark["mentors_former_clients"]) == (4, 1)
    assert southwark["mentors_former_client_share"] == 0.25
    croydon = result["boroughs"]["croydon"]
    assert (croydon["mentors_active"], croydon["mentors_former_client_share"]) == (1, 0.0)
    assert result["network"]["mentors_former_client_share"] == pytest.approx(1 / 5)


def test_the_median_counts_every_former_client_who_started_by_a(borough_a):
    """Those who left count too; one who starts after A does not, whatever their days."""
    supported = date(2020, 1, 6)
    former_client_mentor(borough_a, supported, supported + days(300))
    former_client_mentor(borough_a, supported, supported + days(500), AS_OF - days(10))
    former_client_mentor(borough_a, supported, AS_OF + days(1))
    assert figures()["network"]["median_days_to_mentor"] == 400
    former_client_mentor(borough_a, supported, AS_OF)
    assert figures()["network"]["median_days_to_mentor"] == 500


def test_the_networks_median_is_taken_over_every_mentor_not_the_boroughs(borough_a, borough_b):
    supported = date(2019, 1, 7)
    for waited in (100, 300):
        former_client_mentor(borough_a, supported, supported + days(waited))
    former_client_mentor(borough_b, supported, supported + days(1000))
    result = figures()
    assert result["boroughs"]["southwark"]["median_days_to_mentor"] == 200
    assert result["boroughs"]["croydon"]["median_days_to_mentor"] == 1000
    # The median of 100, 300 and 1000; not the mean (600) nor the median of the medians.
    assert result["network"]["median_days_to_mentor"] == 300


def test_no_mentors_and_no_steps_read_zero_and_none(borough_a):
    MentorFactory(home_borough=borough_a, started_on=AS_OF + days(1))
    result = figures()
    assert result["boroughs"]["southwark"] == result["network"]
    assert result["network"] == {
        **dict.fromkeys(metrics.PATHWAY_FIGURES[:7], 0),
        "mentors_former_client_share": None,
        "median_days_to_mentor": None,
    }


def test_a_scope_counts_its_own_boroughs_only(borough_a, borough_b):
    step(client_of(borough_b), Step.VOLUNTEERING, date(2022, 1, 3))
    former_client_mentor(borough_b, date(2019, 1, 7), date(2021, 3, 1))
    result = figures(borough_a)
    assert list(result["boroughs"]) == ["southwark"]
    assert result["network"]["pathway_volunteering"] == 0
    assert result["network"]["mentors_active"] == 0


def test_queries_do_not_grow_with_the_data(borough_a, borough_b):
    """3 alone (the boroughs, the steps, the mentors), 2 added to a report."""
    report = metrics.report(None, AS_OF)
    with CaptureQueriesContext(connection) as alone:
        figures()
    with CaptureQueriesContext(connection) as added:
        metrics.with_pathway(report, None, AS_OF)
    for borough in (borough_a, borough_b):
        for waited in range(5):
            former_client_mentor(borough, date(2019, 1, 7), date(2021, 3, 1) + days(waited))
            step(client_of(borough), Step.LEVEL_2, date(2022, 1, 3))
    report = metrics.report(None, AS_OF)
    with CaptureQueriesContext(connection) as alone_later:
        figures()
    with CaptureQueriesContext(connection) as added_later:
        metrics.with_pathway(report, None, AS_OF)
    assert (len(alone), len(added)) == (len(alone_later), len(added_later)) == (3, 2)
    assert report["network"]["pathway_level_2"] == 10
    assert report["network"]["mentors_former_clients"] == 10


def test_with_pathway_agrees_with_pathway(borough_a, borough_b):
    step(client_of(borough_a), Step.VOLUNTEERING, date(2022, 1, 3))
    former_client_mentor(borough_b, date(2019, 1, 7), date(2021, 3, 1))
    alone = figures()
    report = metrics.with_pathway(metrics.report(None, AS_OF), None, AS_OF)
    assert {k: report["network"][k] for k in metrics.PATHWAY_FIGURES} == alone["network"]
    for borough in report["boroughs"]:
        figures_of = {k: borough[k] for k in metrics.PATHWAY_FIGURES}
        assert figures_of == alone["boroughs"][borough["slug"]]


# Where the figures are shown -------------------------------------------------------------


@pytest.fixture
def pathway(borough_a, borough_b):
    """
    Southwark: 4 active mentors, 2 of them former clients (after 100 and 300 days), 2
    volunteers, 1 at Level 2. Croydon: 1 mentor, a former client after 1000 days.
    """
    for _ in range(2):
        MentorFactory(home_borough=borough_a, started_on=date(2015, 1, 5))
    supported = date(2019, 1, 7)
    ola = former_client_mentor(borough_a, supported, supported + days(100))
    former_client_mentor(borough_a, supported, supported + days(300))
    former_client_mentor(borough_b, supported, supported + days(1000))
    for n in range(2):
        volunteer = client_of(borough_a, first_name="Zephyrine", last_name=f"Quist{n}")
        step(volunteer, Step.VOLUNTEERING, date(2022, 1, 3))
    step(volunteer, Step.LEVEL_2, date(2022, 6, 6))
    return ola


def get(client, user, url, **params):
    client.force_login(user)
    response = client.get(url, {"as_of": AS_OF.isoformat(), **params})
    assert response.status_code == 200
    return response


def test_the_network_dashboard_has_a_row_per_area_and_the_total(client, manager, pathway):
    html = get(client, manager, reverse("network_dashboard")).content.decode()
    section = html[html.index('id="pathway-heading"') :]
    section = section[: section.index("</section>")]
    assert section.count("<tr>") == 4  # the header, two areas, the total
    assert '<td data-label="Volunteering">2</td>' in section
    assert "2 of 4 active (50%)" in section
    assert "1 of 1 active (100%)" in section
    assert "3 of 5 active (60%)" in section
    assert "200 days (about 7 months)" in section
    assert "1,000 days (about 33 months)" in section
    assert "300 days (about 10 months)" in section  # the network's median


def test_the_borough_dashboard_shows_its_own_pathway(client, manager, pathway):
    html = get(client, manager, reverse("borough_dashboard", args=["southwark"])).content.decode()
    section = html[html.index('id="pathway-heading"') :]
    section = section[: section.index("</section>")]
    assert "2 of 4 active (50%)" in section
    assert "200 days (about 7 months)" in section
    assert "1,000 days" not in section


def test_dashboards_name_no_one_on_the_pathway(client, manager, coordinator_a, pathway):
    """
    Counts only: the volunteers' names are nowhere, and the section names no mentor (the
    mentors' table lists every mentor by name, without saying who was a client).
    """
    for user in (manager, coordinator_a):
        for url in (reverse("network_dashboard"), reverse("borough_dashboard", args=["southwark"])):
            html = get(client, user, url).content.decode()
            assert "Zephyrine" not in html and "Quist" not in html
            section = html[html.index('id="pathway-heading"') :]
            section = section[: section.index("</section>")]
            assert pathway.last_name not in section and pathway.reference not in section


def test_the_figures_download_ends_with_the_pathway(client, manager, pathway):
    response = get(client, manager, reverse("network_dashboard"), download="figures")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0])[-len(metrics.PATHWAY_FIGURES) :] == list(metrics.PATHWAY_FIGURES)
    network = rows[0]
    assert network["mentors_former_client_share"] == "0.6"
    assert network["median_days_to_mentor"] == "300.0"
    assert [r["pathway_volunteering"] for r in rows] == ["2", "0", "2"]


def test_the_outcomes_report_holds_the_pathway(pathway):
    out = io.StringIO()
    call_command("outcomes_report", "--as-of", AS_OF.isoformat(), "--format", "csv", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0])[-len(metrics.PATHWAY_FIGURES) :] == list(metrics.PATHWAY_FIGURES)
    assert [(r["slug"], r["mentors_former_clients"], r["median_days_to_mentor"]) for r in rows] == [
        ("", "3", "300.0"),
        ("croydon", "1", "1000.0"),
        ("southwark", "2", "200.0"),
    ]
