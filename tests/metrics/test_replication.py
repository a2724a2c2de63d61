"""
Replication: each area by programme year, on hand-built data with known answers, and the
``replication_report`` command that prints it.
"""

import csv
import io
import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mentoring import metrics
from mentoring.models import Borough, Client, SupportSession

from ..factories import BoroughFactory, ClientFactory, OffenceFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db

LAUNCH = date(2020, 1, 1)
AS_OF = date(2022, 6, 1)  # in programme year 3 of an area launched on LAUNCH

# Written out here rather than read from metrics.YEAR_KEYS, so that a renamed or dropped
# key fails the test.
DESIGN_YEAR_KEYS = [
    "year",
    "start",
    "end",
    "complete",
    "referrals",
    "starts",
    "closures",
    "completed",
    "active_at_end",
    "sessions_attended",
    "hours_attended",
    "intake_cohort",
    "intake_reoffenders",
    "intake_reoffending_rate",
    "wilson_low",
    "wilson_high",
]


def day(n):
    """The launch day plus ``n`` days."""
    return LAUNCH + timedelta(days=n)


@pytest.fixture
def area():
    return BoroughFactory(name="Origin", slug="origin", code="ORG", launched_on=LAUNCH)


def years_of(area, as_of=AS_OF):
    data = metrics.replication(Borough.objects.filter(pk=area.pk), as_of)
    [borough] = data["boroughs"]
    return borough["years"]


def column(years, key):
    return [year[key] for year in years]


def started(area, started_on, **fields):
    fields.setdefault("status", Client.Status.ACTIVE)
    return ClientFactory(borough=area, referred_on=started_on, started_on=started_on, **fields)


def closed(area, started_on, ended_on, reason=Client.ClosureReason.COMPLETED):
    return started(
        area,
        started_on,
        ended_on=ended_on,
        status=Client.Status.CLOSED,
        closure_reason=reason,
    )


class TestProgrammeYears:
    def test_year_k_runs_365_days_from_the_launch(self, area):
        years = years_of(area)
        assert column(years, "year") == [1, 2, 3]
        assert column(years, "start") == [day(0), day(365), day(730)]
        assert column(years, "end") == [day(364), day(729), day(1094)]

    def test_the_year_that_holds_as_of_is_listed_and_not_complete(self, area):
        assert column(years_of(area), "complete") == [True, True, False]

    def test_a_year_ending_on_as_of_is_complete(self, area):
        assert column(years_of(area, day(729)), "complete") == [True, True]

    def test_day_364_is_year_1_and_day_365_year_2(self, area):
        ClientFactory(borough=area, referred_on=day(364))
        ClientFactory(borough=area, referred_on=day(365))
        assert column(years_of(area), "referrals") == [1, 1, 0]

    def test_a_date_before_the_launch_counts_in_year_1(self, area):
        ClientFactory(borough=area, referred_on=day(-400), date_of_birth=date(1998, 1, 1))
        ClientFactory(borough=area, referred_on=day(-1), date_of_birth=date(1998, 1, 1))
        assert column(years_of(area), "referrals") == [2, 0, 0]

    def test_records_dated_after_as_of_are_ignored(self, area):
        ClientFactory(borough=area, referred_on=AS_OF)
        ClientFactory(borough=area, referred_on=AS_OF + timedelta(days=1))
        assert column(years_of(area), "referrals") == [0, 0, 1]

    def test_an_area_launched_after_as_of_has_no_years(self, area):
        later = BoroughFactory(slug="later", launched_on=AS_OF + timedelta(days=1))
        ClientFactory(borough=later, referred_on=AS_OF)
        data = metrics.replication(None, AS_OF)
        assert {b["slug"]: b["years"] for b in data["boroughs"]}["later"] == []

    def test_the_programme_year_of_a_day_in_python(self):
        assert metrics.programme_year(day(-500), LAUNCH) == 1
        assert metrics.programme_year(day(364), LAUNCH) == 1
        assert metrics.programme_year(day(365), LAUNCH) == 2


class TestCounts:
    def test_starts_closures_and_completed_by_the_year_of_their_date(self, area):
        closed(area, day(10), day(364))
        closed(area, day(20), day(365), Client.ClosureReason.DISENGAGED)
        started(area, day(365))
        closed(area, day(400), AS_OF + timedelta(days=10))  # its ending is after A
        years = years_of(area)
        assert column(years, "starts") == [2, 2, 0]
        assert column(years, "closures") == [1, 1, 0]
        assert column(years, "completed") == [1, 0, 0]

    def test_active_at_end_is_the_active_caseload_on_the_last_day_or_as_of(self, area):
        closed(area, day(10), day(364))  # ended on year 1's last day: not active then
        closed(area, day(20), day(365))  # ended on year 2's first day
        started(area, day(365))
        closed(area, day(400), AS_OF + timedelta(days=10))
        years = years_of(area)
        assert column(years, "active_at_end") == [1, 2, 2]
        clients = Client.objects.filter(borough=area)
        for year in years:
            on = min(year["end"], AS_OF)
            assert year["active_at_end"] == metrics.outcomes(clients, on)["active_caseload"]

    def test_attended_sessions_and_hours_by_the_year_of_their_date(self, area):
        client = started(area, day(10))
        attendance = SupportSession.Attendance
        SupportSessionFactory(client=client, date=day(364), duration_minutes=60)
        SupportSessionFactory(
            client=client, date=day(365), duration_minutes=30, attendance=attendance.LATE
        )
        SupportSessionFactory(client=client, date=day(366), attendance=attendance.DID_NOT_ATTEND)
        years = years_of(area)
        assert column(years, "sessions_attended") == [1, 1, 0]
        assert column(years, "hours_attended") == [1.0, 0.5, 0.0]


class TestIntakeCohort:
    AS_OF = date(2023, 6, 1)  # the cohort: index dates up to AS_OF - 548 = day 700

    def test_the_intake_of_a_year_is_the_cohort_by_index_date(self, area):
        started(area, day(10))
        reoffender = started(area, day(20))
        OffenceFactory(client=reoffender, offence_date=day(50), outcome_date=day(80))
        # Started in year 1, released (the index date) in year 2.
        started(area, day(30), release_date=day(370))
        started(area, day(800))  # in year 3, not yet followed up: not in the cohort
        years = years_of(area, self.AS_OF)
        assert column(years, "intake_cohort") == [2, 1, 0, 0]
        assert column(years, "intake_reoffenders") == [1, 0, 0, 0]
        assert column(years, "intake_reoffending_rate") == [0.5, 0.0, None, None]
        assert (years[0]["wilson_low"], years[0]["wilson_high"]) == metrics.wilson_interval(1, 2)

    def test_an_empty_intake_has_no_rate_or_interval(self, area):
        started(area, day(800))
        year = years_of(area, self.AS_OF)[2]
        assert year["intake_cohort"] == 0
        assert year["intake_reoffending_rate"] is None
        assert (year["wilson_low"], year["wilson_high"]) == (None, None)

    def test_an_offence_proven_after_as_of_is_not_a_reoffence(self, area):
        person = started(area, day(20))
        OffenceFactory(
            client=person, offence_date=day(50), outcome_date=self.AS_OF + timedelta(days=1)
        )
        assert years_of(area, self.AS_OF)[0]["intake_reoffenders"] == 0


class TestReferenceArea:
    def test_the_reference_is_the_earliest_launched_then_by_slug(self):
        BoroughFactory(slug="bravo", launched_on=date(2010, 1, 1))
        BoroughFactory(slug="alpha", launched_on=date(2012, 1, 1))
        BoroughFactory(slug="able", launched_on=date(2010, 1, 1))
        data = metrics.replication(None, AS_OF)
        assert data["reference_borough"] == "able"
        assert [b["slug"] for b in data["boroughs"]] == ["able", "bravo", "alpha"]

    def test_the_reference_is_chosen_among_the_areas_in_scope(self):
        BoroughFactory(slug="first", launched_on=date(2006, 1, 1))
        second = BoroughFactory(slug="second", launched_on=date(2010, 1, 1))
        data = metrics.replication(Borough.objects.filter(pk=second.pk), AS_OF)
        assert data["reference_borough"] == "second"


def with_data(areas):
    for i in range(areas):
        borough = BoroughFactory(slug=f"area-{i}", launched_on=date(2010 + i, 3, 1))
        for n in range(3):
            person = closed(borough, date(2012 + n, 5, 1), date(2013 + n, 2, 1))
            SupportSessionFactory(client=person, date=date(2012 + n, 6, 1))
            OffenceFactory(
                client=person,
                offence_date=date(2012 + n, 7, 1),
                outcome_date=None,
                disposal="PENDING",
            )
            OffenceFactory(
                client=person, offence_date=date(2012 + n, 8, 1), outcome_date=date(2012 + n, 10, 1)
            )


def test_the_years_add_up_to_the_outcome_figures():
    """Every start, cohort member and reoffender is in exactly one year of its area."""
    with_data(3)
    as_of = date(2014, 12, 1)
    network = metrics.report(None, as_of)["network"]
    years = [y for b in metrics.replication(None, as_of)["boroughs"] for y in b["years"]]
    assert sum(y["starts"] for y in years) == network["clients_started"] > 0
    assert sum(y["intake_cohort"] for y in years) == network["cohort"] > 0
    assert sum(y["intake_reoffenders"] for y in years) == network["reoffenders"] > 0
    assert sum(y["closures"] for y in years) == network["clients_ended"]
    last = [b["years"][-1] for b in metrics.replication(None, as_of)["boroughs"]]
    assert sum(y["active_at_end"] for y in last) == network["active_caseload"] > 0


@pytest.mark.parametrize("areas", [2, 4])
def test_the_figures_take_seven_queries_however_many_areas(areas):
    with_data(areas)
    with CaptureQueriesContext(connection) as queries:
        data = metrics.replication(None, AS_OF)
    assert len(data["boroughs"]) == areas
    assert sum(len(b["years"]) for b in data["boroughs"]) > 2 * areas
    assert len(queries) == 7


# The command ---------------------------------------------------------------------------


def run(*args):
    out = io.StringIO()
    call_command("replication_report", *args, stdout=out)
    return out.getvalue()


class TestReplicationReport:
    def test_json_has_exactly_the_design_keys(self, area):
        BoroughFactory(slug="later", launched_on=date(2021, 1, 1))
        started(area, day(10))
        data = json.loads(run("--as-of", AS_OF.isoformat()))
        assert list(data) == ["as_of", "reference_borough", "boroughs"]
        assert data["as_of"] == "2022-06-01"
        assert data["reference_borough"] == "origin"
        origin = data["boroughs"][0]
        assert list(origin) == ["slug", "name", "launched_on", "years"]
        assert origin["launched_on"] == "2020-01-01"
        assert [list(year) for year in origin["years"]] == [DESIGN_YEAR_KEYS] * 3
        assert origin["years"][0]["start"] == "2020-01-01"
        assert origin["years"][0]["end"] == "2020-12-30"
        assert origin["years"][0]["starts"] == 1

    def test_csv_has_a_row_per_area_and_year(self, area):
        BoroughFactory(name="Later", slug="later", launched_on=date(2021, 1, 1))
        started(area, day(10))
        rows = list(csv.reader(io.StringIO(run("--as-of", "2022-06-01", "--format", "csv"))))
        assert rows[0] == ["slug", "name", "launched_on", *DESIGN_YEAR_KEYS]
        assert [row[:4] for row in rows[1:]] == [
            ["origin", "Origin", "2020-01-01", "1"],
            ["origin", "Origin", "2020-01-01", "2"],
            ["origin", "Origin", "2020-01-01", "3"],
            ["later", "Later", "2021-01-01", "1"],
            ["later", "Later", "2021-01-01", "2"],
        ]
        first, third = (dict(zip(rows[0], row, strict=True)) for row in (rows[1], rows[3]))
        assert (first["complete"], first["starts"], first["intake_reoffending_rate"]) == (
            "true",
            "1",
            "0.0",
        )
        assert (third["complete"], third["intake_cohort"], third["wilson_low"]) == (
            "false",
            "0",
            "",
        )

    def test_csv_cells_that_a_spreadsheet_would_run_are_text(self):
        BoroughFactory(name="=HYPERLINK(1)", slug="odd", launched_on=LAUNCH)
        rows = list(csv.reader(io.StringIO(run("--as-of", "2022-06-01", "--format", "csv"))))
        assert rows[1][1] == "'=HYPERLINK(1)"

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--as-of", "01/06/2022"], "YYYY-MM-DD"),
            (["--as-of", "2099-01-01"], "future"),
            (["--as-of", "2022-06-01", "--format", "xml"], "invalid choice"),
            ([], "--as-of"),
        ],
    )
    def test_bad_input_is_a_command_error(self, args, message):
        with pytest.raises(CommandError, match=message):
            run(*args)
