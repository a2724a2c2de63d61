"""Dashboards: scoped, honest about small numbers, in agreement with the exports and the CLI."""

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mentoring import metrics
from mentoring.models import Borough, Client

from .. import factories

AS_OF = date(2026, 11, 26)


def build_borough(borough, clients, sessions_each=3):
    """``clients`` closed clients followed up long enough to be in the cohort, with sessions."""
    mentor = factories.MentorFactory(home_borough=borough)
    for i in range(clients):
        client = factories.ClientFactory(
            borough=borough,
            referred_on=date(2022, 1, 3) + timedelta(days=i),
            closed=True,
            first_name=f"Secretname{borough.code}{i}",
        )
        for k in range(sessions_each):
            factories.SupportSessionFactory(
                client=client, mentor=mentor, date=client.started_on + timedelta(days=7 * k)
            )
        if i % 4 == 0:
            factories.OffenceFactory(
                client=client,
                offence_date=client.started_on + timedelta(days=30),
                outcome_date=client.started_on + timedelta(days=60),
            )


@pytest.fixture
def two_boroughs(borough_a, borough_b):
    build_borough(borough_a, 12)
    build_borough(borough_b, 4)
    return borough_a, borough_b


def get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


class TestAccess:
    def test_anonymous_is_sent_to_sign_in(self, client, db):
        response = client.get(reverse("network_dashboard"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_mentor_gets_403(self, client, mentor_a):
        assert get(client, mentor_a.user, reverse("network_dashboard")).status_code == 403

    def test_coordinator_sees_only_their_borough(self, client, coordinator_a, two_boroughs):
        response = get(client, coordinator_a, reverse("network_dashboard"), as_of=AS_OF)
        assert [row["slug"] for row in response.context["rows"]] == ["southwark"]
        assert response.context["data"]["network"]["clients_started"] == 12

    def test_other_boroughs_dashboard_is_404(self, client, coordinator_a, two_boroughs):
        url = reverse("borough_dashboard", args=["croydon"])
        assert get(client, coordinator_a, url).status_code == 404

    def test_manager_sees_every_borough_and_no_client_names(self, client, manager, two_boroughs):
        for url in [
            reverse("network_dashboard"),
            reverse("borough_dashboard", args=["southwark"]),
            reverse("borough_dashboard", args=["croydon"]),
        ]:
            response = get(client, manager, url, as_of=AS_OF)
            assert response.status_code == 200
            assert b"Secretname" not in response.content
        response = get(client, manager, reverse("network_dashboard"), as_of=AS_OF)
        assert {row["slug"] for row in response.context["rows"]} == {"southwark", "croydon"}


class TestAsOf:
    @pytest.mark.parametrize(
        "value, message",
        [
            ("31/02/2026", "31/02/2026 is not a real date"),
            ("2026-02-30", "2026-02-30 is not a real date"),
            ("1122007", "eight digits DDMMYYYY"),
            ("next week", "Type the date as DD/MM/YYYY"),
            ("2999-01-01", "in the future"),
            ("1999-12-31", "cannot be before"),
        ],
    )
    def test_a_bad_date_keeps_the_dashboard_as_of_today_and_says_why(
        self, client, manager, two_boroughs, value, message
    ):
        for url in (reverse("network_dashboard"), reverse("borough_dashboard", args=["croydon"])):
            response = get(client, manager, url, as_of=value)
            assert response.status_code == 400
            page = response.content.decode()
            assert message in page
            assert response.context["as_of"] == timezone.localdate()
            assert "<title>Error: " in page
            assert "data-error-summary" in page
            # The box keeps what was typed, marked as the field in error.
            assert f'value="{value}"' in page
            assert 'aria-invalid="true"' in page
            assert "Figures as of" in page

    @pytest.mark.parametrize("value", ["02012022", "02-01-2022", "02.01.2022", "2/1/2022"])
    def test_the_as_of_box_takes_a_date_typed_on_a_keypad(self, client, manager, value):
        response = get(client, manager, reverse("network_dashboard"), as_of=value)
        assert response.status_code == 200
        assert response.context["as_of"] == date(2022, 1, 2)
        assert "<title>Error: " not in response.content.decode()

    def test_a_bad_date_on_a_download_is_a_400_without_a_file(self, client, manager):
        response = get(
            client, manager, reverse("network_dashboard"), as_of="31/02/2026", download="figures"
        )
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert "31/02/2026 is not a real date" in response.content.decode()

    def test_a_past_date_ignores_later_records(self, client, manager, two_boroughs):
        response = get(client, manager, reverse("network_dashboard"), as_of="2022-01-02")
        assert response.context["data"]["network"]["clients_referred"] == 0
        response = get(client, manager, reverse("network_dashboard"), as_of="02/01/2022")
        assert response.context["as_of"] == date(2022, 1, 2)

    def test_unknown_table_download_is_a_400(self, client, manager):
        response = get(client, manager, reverse("network_dashboard"), download="secrets")
        assert response.status_code == 400


class TestHonestNumbers:
    def test_small_cohort_shows_n_of_n_interval_and_marker(self, client, manager, two_boroughs):
        url = reverse("borough_dashboard", args=["croydon"])
        page = get(client, manager, url, as_of=AS_OF).content.decode()
        assert "1 of 4" in page
        assert "small cohort" in page
        assert "95% interval" in page

    def test_large_cohort_shows_rate_with_interval(self, client, manager, two_boroughs):
        response = get(
            client, manager, reverse("borough_dashboard", args=["southwark"]), as_of=AS_OF
        )
        figures = response.context["figures"]
        assert figures["cohort"] == 12
        assert figures["small_cohort"] is False
        page = response.content.decode()
        assert "25%" in page  # 3 of 12
        low, high = metrics.wilson_interval(3, 12)
        assert f"({low * 100:.0f}%\u2013{high * 100:.0f}%)" in page

    def test_programme_length_and_cost_read_as_sentences(self, client, manager, two_boroughs):
        page = get(
            client, manager, reverse("borough_dashboard", args=["southwark"]), as_of=AS_OF
        ).content.decode()
        assert re.search(r"\d+% reach 6 months, \d+% reach 12 months", page)
        assert "the case study's £2,000 benchmark" in page

    def test_offences_awaiting_an_outcome_are_shown_beside_the_rates(
        self, client, manager, two_boroughs
    ):
        """
        A pending client's offence in their follow-up year with no outcome yet may still
        become a proven reoffence: both dashboards say how many there are. Once the outcome
        is recorded it no longer awaits one; as of a date before the outcome it still did.
        """
        southwark, _croydon = two_boroughs
        started = AS_OF - timedelta(days=200)
        pending_client = factories.ClientFactory(
            borough=southwark, referred_on=started, started_on=started, status="ACTIVE"
        )
        offence = factories.OffenceFactory(
            client=pending_client,
            offence_date=started + timedelta(days=100),
            outcome_date=None,
            disposal="PENDING",
        )
        borough_url = reverse("borough_dashboard", args=["southwark"])
        response = get(client, manager, borough_url, as_of=AS_OF)
        assert response.context["figures"]["offences_awaiting_outcome"] == 1
        page = response.content.decode()
        assert "1 offence awaiting an outcome" in page
        assert "1 offence committed in a pending client's follow-up year has no" in page
        network = get(client, manager, reverse("network_dashboard"), as_of=AS_OF)
        rows = {row["slug"]: row for row in network.context["rows"]}
        assert rows["southwark"]["offences_awaiting_outcome"] == 1
        assert rows["croydon"]["offences_awaiting_outcome"] == 0
        assert network.context["data"]["network"]["offences_awaiting_outcome"] == 1
        assert "Offences awaiting outcome" in network.content.decode()

        convicted_on = AS_OF - timedelta(days=5)
        offence.outcome_date, offence.disposal = convicted_on, "FINE"
        offence.save()
        response = get(client, manager, borough_url, as_of=AS_OF)
        assert response.context["figures"]["offences_awaiting_outcome"] == 0
        assert "awaiting an outcome" not in response.content.decode()
        before = get(client, manager, borough_url, as_of=convicted_on - timedelta(days=1))
        assert before.context["figures"]["offences_awaiting_outcome"] == 1

    def test_baselines_are_labelled_as_context(self, client, manager, two_boroughs):
        page = get(client, manager, reverse("network_dashboard"), as_of=AS_OF).content.decode()
        for label, _rate in metrics.BASELINES:
            assert f"Context: {label}" in page
        assert "not a matched comparison" in page

    @pytest.mark.parametrize("url", ["/dashboard/", "/dashboard/southwark/"])
    def test_every_chart_coordinate_is_a_plain_number(self, client, manager, two_boroughs, url):
        """Positions are drawn as a dot-decimal number whatever the locale, never empty."""
        page = get(client, manager, url, as_of=AS_OF).content.decode()
        svg = "".join(re.findall(r"<svg viewBox.*?</svg>", page, flags=re.S))
        attributes = re.findall(r'\b(?:x|y|x1|x2|y1|y2|cx|cy|width|height)="([^"]*)"', svg)
        assert len(attributes) > 100
        assert [v for v in attributes if not re.fullmatch(r"-?\d+(\.\d)?", v)] == []
        paths = re.findall(r'<path d="([^"]*)"', svg)
        assert paths and all(re.fullmatch(r"M[\d.]+,[\d.]+( H[\d.]+V[\d.]+)*", d) for d in paths)


class TestAgreement:
    def test_page_csv_and_command_give_the_same_figures(self, client, manager, two_boroughs):
        page = get(client, manager, reverse("network_dashboard"), as_of=AS_OF).context["data"]
        download = get(
            client, manager, reverse("network_dashboard"), as_of=AS_OF, download="figures"
        )
        assert download["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(download.content.decode())))
        out = io.StringIO()
        call_command(
            "outcomes_report", "--as-of", AS_OF.isoformat(), "--format", "json", stdout=out
        )
        command = json.loads(out.getvalue())
        for key in ["clients_started", "cohort", "reoffenders", "active_caseload", "pending"]:
            assert int(rows[0][key]) == page["network"][key] == command["network"][key]
        assert float(rows[0]["reoffending_rate"]) == pytest.approx(
            command["network"]["reoffending_rate"]
        )
        assert page["network"]["reoffending_rate"] == pytest.approx(
            command["network"]["reoffending_rate"]
        )
        by_slug = {b["slug"]: b for b in command["boroughs"]}
        slugs = sorted(row["slug"] for row in rows[1:])
        assert slugs == sorted(by_slug) == ["croydon", "southwark"]
        for row in rows[1:]:
            assert int(row["cohort"]) == by_slug[row["slug"]]["cohort"]

    @pytest.mark.parametrize(
        "table",
        [
            "monthly",
            "closures",
            "mentors",
            "support_areas",
            "milestones",
            "reoffending_curve",
            "programme_length",
        ],
    )
    def test_every_table_downloads_as_csv(self, client, manager, two_boroughs, table):
        url = reverse("borough_dashboard", args=["southwark"])
        response = get(client, manager, url, as_of=AS_OF, download=table)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert len(rows) > 1
        cells = [cell for row in rows[1:] for cell in row]
        assert not [c for c in cells if c in ("True", "False", "None")]
        assert not [c for c in cells if re.fullmatch(r"-?\d+\.\d{7,}", c)]


class TestScopeNames:
    """A total is named by what it covers: the whole network only when it is."""

    def figures_csv(self, client, user, url):
        response = get(client, user, url, as_of=AS_OF, download="figures")
        return list(csv.DictReader(io.StringIO(response.content.decode())))

    def test_a_coordinators_overview_is_named_by_their_borough(
        self, client, coordinator_a, two_boroughs
    ):
        borough_a, _ = two_boroughs
        response = get(client, coordinator_a, reverse("network_dashboard"), as_of=AS_OF)
        html = response.content.decode()
        assert f"Overview: {borough_a.name}" in html
        assert "Network overview" not in html
        assert metrics.NETWORK_NAME not in html
        rows = self.figures_csv(client, coordinator_a, reverse("network_dashboard"))
        assert [(r["scope"], r["name"]) for r in rows] == [
            ("network", borough_a.name),
            ("borough", borough_a.name),
        ]

    def test_the_whole_network_is_all_boroughs(self, client, manager, two_boroughs):
        html = get(client, manager, reverse("network_dashboard"), as_of=AS_OF).content.decode()
        assert "Network overview" in html
        rows = self.figures_csv(client, manager, reverse("network_dashboard"))
        assert (rows[0]["scope"], rows[0]["name"]) == ("network", metrics.NETWORK_NAME)
        assert len(rows) == 3

    def test_a_boroughs_figures_are_its_own_row_alone(self, client, manager, two_boroughs):
        borough_a, _ = two_boroughs
        rows = self.figures_csv(
            client, manager, reverse("borough_dashboard", args=[borough_a.slug])
        )
        assert [(r["scope"], r["slug"]) for r in rows] == [("borough", borough_a.slug)]


class TestQueryCounts:
    def queries(self, client, user, url):
        client.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    @pytest.mark.parametrize(
        "url_name, args", [("network_dashboard", []), ("borough_dashboard", ["southwark"])]
    )
    def test_query_count_does_not_grow_with_the_data(
        self, client, manager, borough_a, url_name, args
    ):
        url = reverse(url_name, args=args) + f"?as_of={AS_OF}"
        build_borough(borough_a, 3, sessions_each=2)
        small = self.queries(client, manager, url)
        build_borough(borough_a, 30, sessions_each=20)
        assert Client.objects.count() == 33
        large = self.queries(client, manager, url)
        assert small == large
        assert Borough.objects.count() == 1


class TestSustainedEmployment:
    @pytest.fixture
    def jobs(self, borough_a, borough_b):
        """
        Southwark: 12 clients in jobs started 200 days before A; 3 ended on day 30, 2 on day
        100, 7 go on. Croydon: 2 clients, one held a job and one left it on day 30.
        """
        start = AS_OF - timedelta(days=200)
        ends = [30] * 3 + [100] * 2 + [None] * 7
        for borough, held in ((borough_a, ends), (borough_b, [None, 30])):
            for days_held in held:
                factories.PlacementFactory(
                    client=factories.ClientFactory(
                        borough=borough, active=True, referred_on=date(2025, 1, 6)
                    ),
                    kind="JOB",
                    started_on=start,
                    ended_on=days_held and start + timedelta(days=days_held),
                )
        return borough_a, borough_b

    def test_a_borough_page_shows_x_of_y_with_the_share(self, client, manager, jobs):
        url = reverse("borough_dashboard", args=[jobs[0].slug])
        response = get(client, manager, url, as_of=AS_OF)
        assert response.context["figures"]["sustained_job_13w"] == 9
        html = re.sub(r"\s+", " ", response.content.decode())
        assert "Job held 13 weeks" in html
        assert '75% <span class="text-body-secondary small">(9 of 12)</span>' in html
        assert '58% <span class="text-body-secondary small">(7 of 12)</span>' in html
        assert "small number" not in html

    def test_fewer_than_10_people_read_x_of_y_with_a_marker(self, client, manager, jobs):
        url = reverse("borough_dashboard", args=[jobs[1].slug])
        html = get(client, manager, url, as_of=AS_OF).content.decode()
        assert html.count("1 of 2 <span") == 2
        assert html.count("small number") == 2
        assert "50% <span" not in html  # no bare share of 2 people

    def test_network_page_lists_each_borough_and_the_total(self, client, manager, jobs):
        response = get(client, manager, reverse("network_dashboard"), as_of=AS_OF)
        network = response.context["data"]["network"]
        assert (network["sustained_job_13w"], network["sustained_job_13w_of"]) == (10, 14)
        assert (network["sustained_job_26w"], network["sustained_job_26w_of"]) == (8, 14)
        html = response.content.decode()
        assert "Sustained employment" in html
        assert "(10 of 14)" in html and "(9 of 12)" in html and "1 of 2 <span" in html

    def test_figures_download_ends_with_the_sustained_columns(self, client, manager, jobs):
        response = get(
            client, manager, reverse("network_dashboard"), as_of=AS_OF, download="figures"
        )
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        # The check-ins' and the peer pathway's columns were appended after them.
        later = len(metrics.FOLLOWUP_FIGURES) + len(metrics.PATHWAY_FIGURES)
        assert list(rows[0])[-later - 4 : -later] == list(metrics.SUSTAINED_FIGURES)
        assert [(r["slug"], r["sustained_job_13w"], r["sustained_job_13w_of"]) for r in rows] == [
            ("", "10", "14"),
            ("croydon", "1", "2"),
            ("southwark", "9", "12"),
        ]

    def test_the_figures_take_three_queries_beside_the_cached_dashboard(self, jobs):
        """
        Sustained employment, the check-ins and the peer pathway are read fresh on every
        page: one grouped query for the jobs, two for the check-ins and two for the pathway
        (its steps, its mentors), beside the dashboard's 5 when everything is cached.
        """
        from mentoring.dashboards import dashboard_figures

        dashboard_figures(None, AS_OF)
        with CaptureQueriesContext(connection) as dashboard:
            metrics.dashboard(None, AS_OF)
        with CaptureQueriesContext(connection) as both:
            dashboard_figures(None, AS_OF)
        assert (len(dashboard), len(both)) == (5, 10)
