"""``manage.py outcomes_report``: the metrics module's figures, as JSON or CSV."""

import csv
import io
import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mentoring import metrics
from mentoring.models import Client

from ..factories import ClientFactory, GrantFactory, OffenceFactory, PlacementFactory

AS_OF = date(2026, 11, 26)

# The keys the command promises for every scope, written out here rather than read from
# metrics.FIGURES, so that a figure renamed or dropped there fails this test.
REQUIRED_KEYS = {
    "clients_referred",
    "clients_started",
    "active_caseload",
    "cohort",
    "pending",
    "reoffenders",
    "reoffending_rate",
    "wilson_low",
    "wilson_high",
    "reoffences_per_100",
    "success_rate",
    "km_reoffending_12m",
    "offences_awaiting_outcome",
    "completion_rate",
    "needs_contact",
    "engagement_rate",
    "sessions_last_28_days",
    "hours_last_28_days",
    "median_days_referral_to_start",
    "cost_per_client",
    "cost_of_clients_started",
    "grants_total",
    "small_cohort",
    "sustained_job_13w",
    "sustained_job_13w_of",
    "sustained_job_26w",
    "sustained_job_26w_of",
    "followups_due",
    "followups_done",
    "followups_reached",
    "followup_reach_rate",
    *(
        f"{name}_{point}m"
        for point in (3, 6, 12)
        for name in (
            "followups_reached",
            "followup_ete",
            "followup_housed",
            "followup_ete_share",
            "followup_housed_share",
        )
    ),
    "pathway_volunteering",
    "pathway_level_2",
    "pathway_level_3",
    "pathway_peer_mentor",
    "pathway_paid_staff",
    "mentors_active",
    "mentors_former_clients",
    "mentors_former_client_share",
    "median_days_to_mentor",
}
# The peer pathway's columns, appended after sustained employment's, in this order.
PATHWAY_COLUMNS = [
    "pathway_volunteering",
    "pathway_level_2",
    "pathway_level_3",
    "pathway_peer_mentor",
    "pathway_paid_staff",
    "mentors_active",
    "mentors_former_clients",
    "mentors_former_client_share",
    "median_days_to_mentor",
]
RATES = {
    "reoffending_rate",
    "wilson_low",
    "wilson_high",
    "success_rate",
    "km_reoffending_12m",
    "offences_awaiting_outcome",
    "completion_rate",
    "engagement_rate",
    "followup_reach_rate",
    "followup_ete_share_3m",
    "followup_housed_share_12m",
    "mentors_former_client_share",
}
MONEY = ("cost_per_client", "cost_of_clients_started", "grants_total")


def report(*args):
    out = io.StringIO()
    call_command("outcomes_report", *args, stdout=out)
    return out.getvalue()


def expected_report(as_of=AS_OF):
    """What the command prints: the report with what is read beside it (sustained
    employment, the follow-up check-ins, the peer pathway)."""
    return metrics.with_after_support(metrics.report(None, as_of), None, as_of)


def plain(figures):
    """metrics' values as JSON gives them back: money as numbers, dates as text."""
    return {
        key: float(value) if isinstance(value, Decimal) else value for key, value in figures.items()
    }


@pytest.fixture
def data_set(borough_a, borough_b):
    """Southwark: 12 clients followed for 18 months, 3 reoffended. Croydon: one pending."""
    start = AS_OF - timedelta(days=900)
    for i in range(12):
        client = ClientFactory(
            borough=borough_a,
            referred_on=start - timedelta(days=i),
            started_on=start,
            ended_on=start + timedelta(days=200) if i % 2 else None,
            status=Client.Status.CLOSED if i % 2 else Client.Status.ACTIVE,
            closure_reason="COMPLETED" if i % 2 else "",
        )
        if i < 3:
            OffenceFactory(
                client=client,
                offence_date=start + timedelta(days=50),
                outcome_date=start + timedelta(days=90),
            )
    ClientFactory(borough=borough_b, active=True, referred_on=AS_OF - timedelta(days=40))
    GrantFactory(borough=borough_a, amount="12345.67")
    # Two Southwark clients in jobs: one held 100 days, one 30.
    for client, held in zip(Client.objects.filter(borough=borough_a)[:2], (100, 30), strict=True):
        PlacementFactory(
            client=client,
            kind="JOB",
            started_on=AS_OF - timedelta(days=300),
            ended_on=AS_OF - timedelta(days=300 - held),
        )


@pytest.mark.django_db
def test_json_has_network_and_every_borough_with_every_key(data_set):
    data = json.loads(report("--as-of", AS_OF.isoformat()))
    assert set(data) == {"as_of", "network", "boroughs"}
    assert data["as_of"] == "2026-11-26"
    assert [b["slug"] for b in data["boroughs"]] == ["croydon", "southwark"]
    assert data["boroughs"][1]["name"] == "Southwark"
    for scope in [data["network"], *data["boroughs"]]:
        assert set(scope) >= REQUIRED_KEYS
        for key in RATES:
            assert scope[key] is None or 0 <= scope[key] <= 1, key
    croydon = data["boroughs"][0]
    assert croydon["cohort"] == 0
    assert croydon["reoffending_rate"] is None
    assert croydon["small_cohort"] is True


@pytest.mark.django_db
def test_json_agrees_with_the_metrics_functions(data_set):
    data = json.loads(report("--as-of", AS_OF.isoformat()))
    expected = expected_report()
    assert data["network"] == plain(expected["network"])
    outcomes = plain(metrics.outcomes(Client.objects.all(), AS_OF))
    assert {key: data["network"][key] for key in outcomes} == outcomes
    assert data["boroughs"] == [plain(b) for b in expected["boroughs"]]
    southwark = data["boroughs"][1]
    assert (southwark["cohort"], southwark["reoffenders"]) == (12, 3)
    assert southwark["reoffending_rate"] == 0.25
    assert southwark["completion_rate"] == 1.0
    assert (southwark["sustained_job_13w"], southwark["sustained_job_13w_of"]) == (1, 2)
    assert (southwark["sustained_job_26w"], southwark["sustained_job_26w_of"]) == (0, 2)
    assert data["boroughs"][0]["sustained_job_13w_of"] == 0
    assert data["network"]["sustained_job_13w"] == 1
    # Six Southwark cases completed 700 days before A: three check-ins due for each.
    assert (southwark["followups_due"], southwark["followups_done"]) == (18, 0)
    assert southwark["followup_reach_rate"] is None


@pytest.mark.django_db
def test_json_money_has_two_decimals(data_set):
    text = report("--as-of", AS_OF.isoformat())
    money = re.findall(r'"(cost_per_client|cost_of_clients_started|grants_total)": ([^,\n]+)', text)
    assert len(money) == 3 * 3
    assert all(re.fullmatch(r"\d+\.\d\d", value) for _key, value in money), money
    assert ("grants_total", "12345.67") in money
    assert ("cost_of_clients_started", "24000.00") in money


@pytest.mark.django_db
def test_borough_option_lists_one_borough_and_keeps_the_network(data_set):
    data = json.loads(report("--as-of", AS_OF.isoformat(), "--borough", "croydon"))
    assert [b["slug"] for b in data["boroughs"]] == ["croydon"]
    assert data["network"]["clients_referred"] == 13
    assert data["network"]["sustained_job_13w_of"] == 2


@pytest.mark.django_db
def test_unknown_borough_is_a_clear_error(data_set):
    with pytest.raises(CommandError, match=r"No borough with slug 'atlantis'\. Known: croydon"):
        report("--borough", "atlantis")


@pytest.mark.django_db
def test_bad_as_of_is_a_clear_error():
    with pytest.raises(CommandError, match="--as-of must be a date as YYYY-MM-DD"):
        report("--as-of", "26/11/2026")


@pytest.mark.django_db
def test_csv_has_one_row_per_scope_with_the_same_columns(data_set):
    rows = list(csv.DictReader(io.StringIO(report("--as-of", "2026-11-26", "--format", "csv"))))
    assert list(rows[0]) == list(metrics.REPORT_COLUMNS)
    # New figures come after every older column, which keep their places.
    pathway = len(PATHWAY_COLUMNS)
    followups = len(metrics.FOLLOWUP_FIGURES)
    assert list(rows[0])[-pathway:] == PATHWAY_COLUMNS
    assert list(rows[0])[-pathway - followups : -pathway] == list(metrics.FOLLOWUP_FIGURES)
    after = pathway + followups
    assert list(rows[0])[-after - 4 : -after] == [
        "sustained_job_13w",
        "sustained_job_13w_of",
        "sustained_job_26w",
        "sustained_job_26w_of",
    ]
    assert list(rows[0])[3 : -after - 4] == list(metrics.FIGURES)
    assert set(rows[0]) >= REQUIRED_KEYS
    assert [(r["scope"], r["slug"]) for r in rows] == [
        ("network", ""),
        ("borough", "croydon"),
        ("borough", "southwark"),
    ]
    expected = metrics.report(None, AS_OF)
    network, croydon, southwark = rows
    assert int(network["cohort"]) == expected["network"]["cohort"]
    assert float(southwark["wilson_low"]) == pytest.approx(expected["boroughs"][1]["wilson_low"])
    assert southwark["grants_total"] == "12345.67"
    assert southwark["small_cohort"] == "false"
    assert croydon["reoffending_rate"] == ""  # null: no cohort
    assert croydon["small_cohort"] == "true"
    assert (southwark["sustained_job_13w"], southwark["sustained_job_13w_of"]) == ("1", "2")
    assert (network["sustained_job_26w"], network["sustained_job_26w_of"]) == ("0", "2")
    # No mentors: no share and no median, empty cells; no step reached, zeros.
    assert (network["mentors_active"], network["mentors_former_client_share"]) == ("0", "")
    assert (southwark["pathway_volunteering"], southwark["median_days_to_mentor"]) == ("0", "")


@pytest.mark.django_db
def test_as_of_in_the_past_ignores_later_records(data_set):
    data = json.loads(report("--as-of", "2020-01-01"))
    assert data["network"]["clients_referred"] == 0
    assert data["network"]["grants_total"] == 0
    assert data["network"]["sustained_job_13w_of"] == 0


@pytest.mark.django_db
class TestDemoData:
    @pytest.fixture(autouse=True)
    def demo(self, demo_data, db):
        pass

    def test_demo_report_agrees_with_metrics_and_the_case_study(self):
        data = json.loads(report("--as-of", AS_OF.isoformat()))
        expected = expected_report()
        assert data["network"] == plain(expected["network"])
        assert data["boroughs"] == [plain(b) for b in expected["boroughs"]]
        assert len(data["boroughs"]) == 7
        network = data["network"]
        assert 0.15 <= network["reoffending_rate"] <= 0.20
        assert network["completion_rate"] == pytest.approx(0.80, abs=0.01)
        assert network["wilson_low"] < network["reoffending_rate"] < network["wilson_high"]
        assert network["km_reoffending_12m"] == pytest.approx(network["reoffending_rate"], abs=0.05)
        assert 1900 <= network["cost_per_client"] <= 2300
        for money in MONEY:
            assert isinstance(network[money], float)
