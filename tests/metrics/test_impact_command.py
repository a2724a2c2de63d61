"""
``manage.py impact_report``: the funders' report as JSON, a standalone HTML file or a
PDF, to the command-line contract (DESIGN.md), with no count of 1 to 9 people and no
client's name in it, one ImpactReportLog row per report made, and nothing written or
logged when the input is refused.
"""

import io
import json
import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from pypdf import PdfReader

from mentoring import impact
from mentoring.models import Client, ImpactReportLog

from ..factories import ClientFactory

pytestmark = pytest.mark.django_db

START, END = date(2024, 1, 1), date(2024, 12, 31)
AS_OF = date(2026, 6, 1)

# Written out here rather than read from the code, so that a renamed key or band fails.
TOP_KEYS = {"scope", "as_of", "from", "to", "work", "outcomes", "cost", "breakdowns"}
BREAKDOWN_KEYS = {"age_band", "gender", "ethnicity", "referral_source"}
GROUP_KEYS = {"group", "label", "people", "suppressed", "note"}
AGE_BANDS = ["under 16", "16-17", "18-20", "21-25", "over 25"]


@pytest.fixture
def people(borough_a, borough_b):
    """13 started in Southwark (3 women, 10 men) and 4 in Croydon, all in the period."""

    def start(borough, n, first_name, last_name, **fields):
        return [
            ClientFactory(
                borough=borough,
                status=Client.Status.ACTIVE,
                referred_on=date(2024, 2, 20),
                started_on=date(2024, 3, 1),
                first_name=first_name,
                last_name=f"{last_name}{borough.code}{i}",
                **fields,
            )
            for i in range(n)
        ]

    return [
        *start(borough_a, 3, "Zebedee", "Quillfeather", gender="FEMALE"),
        *start(borough_a, 10, "Ignatius", "Pemberton", gender="MALE"),
        *start(borough_b, 4, "Zebedee", "Quillfeather", gender="MALE"),
    ]


def run(tmp_path, output_format="json", *args, output=None):
    """The command with the period, as-of date and format given; later ``args`` win."""
    output = tmp_path / f"report.{output_format}" if output is None else output
    out = io.StringIO()
    call_command(
        "impact_report",
        "--from",
        START.isoformat(),
        "--to",
        END.isoformat(),
        "--as-of",
        AS_OF.isoformat(),
        "--format",
        output_format,
        "--output",
        str(output),
        *args,
        stdout=out,
    )
    return output, out.getvalue()


def report_of(tmp_path, *args):
    output, _said = run(tmp_path, "json", *args)
    return json.loads(output.read_text(encoding="utf-8"))


def names_of(people):
    return {p.first_name for p in people} | {p.last_name for p in people}


def words(text):
    """Text with its line breaks and runs of spaces made single spaces (a PDF's lines)."""
    return re.sub(r"\s+", " ", text)


class TestJson:
    def test_the_contracts_keys(self, tmp_path, people):
        data = report_of(tmp_path)
        assert set(data) >= TOP_KEYS
        # Besides the contract: the people with no birth date, and the context figures.
        assert set(data) - TOP_KEYS == {"age_not_known", "baselines", "breakdown_totals"}
        assert (data["as_of"], data["from"], data["to"]) == (
            "2026-06-01",
            "2024-01-01",
            "2024-12-31",
        )
        assert data["scope"] == {
            "kind": "network",
            "name": "All boroughs",
            "borough": None,
            "grant": None,
        }
        assert set(data["breakdowns"]) == BREAKDOWN_KEYS

    def test_each_group_is_a_stored_code_with_its_people_or_null(self, tmp_path, people):
        data = report_of(tmp_path)
        breakdowns, totals = data["breakdowns"], data["breakdown_totals"]
        codes = {}
        for key, breakdown in breakdowns.items():
            for group in breakdown:
                assert set(group) == GROUP_KEYS, key
                assert isinstance(group["suppressed"], bool)
                if group["suppressed"]:
                    assert group["people"] is None, (key, group)
                else:
                    assert isinstance(group["people"], int), (key, group)
            codes[key] = [group["group"] for group in breakdown]
        assert codes["age_band"] == AGE_BANDS
        assert codes["gender"] == Client.Gender.values
        assert codes["ethnicity"][: len(Client.Ethnicity.values)] == Client.Ethnicity.values
        assert codes["ethnicity"][len(Client.Ethnicity.values) :] in ([], [""])  # not recorded
        assert codes["referral_source"] == Client.ReferralSource.values
        gender = {group["group"]: group for group in breakdowns["gender"]}
        assert gender["FEMALE"] == {
            "group": "FEMALE",
            "label": "Female",
            "people": None,
            "suppressed": True,
            "note": "fewer than 10",
        }
        assert gender["MALE"]["people"] is None  # the next-smallest, hidden with it
        assert gender["NON_BINARY"]["people"] == 0
        assert totals["gender"] == {"people": 17, "suppressed": False, "note": None}

    def test_counts_of_people_are_published_and_money_has_pence(self, tmp_path, people):
        output, _said = run(tmp_path, "json", "--borough", "southwark")
        text = output.read_text(encoding="utf-8")
        data = json.loads(text)
        assert data["work"]["starts"] == {"people": 13, "suppressed": False, "note": None}
        assert data["outcomes"]["cohort"] == {"people": 13, "suppressed": False, "note": None}
        assert data["cost"]["cost_of_clients_started"] == 26000
        assert '"cost_of_clients_started": 26000.00' in text
        for name in names_of(people) | {p.reference for p in people}:
            assert name not in text

    def test_one_borough_alone(self, tmp_path, people):
        area = report_of(tmp_path, "--borough", "southwark")
        assert area["scope"] == {
            "kind": "area",
            "name": "Southwark",
            "borough": "southwark",
            "grant": None,
        }
        assert area["work"]["starts"] == {"people": 13, "suppressed": False, "note": None}
        assert report_of(tmp_path)["work"]["starts"] == {
            "people": 17,
            "suppressed": False,
            "note": None,
        }
        croydon = report_of(tmp_path, "--borough", "croydon")
        assert croydon["work"]["starts"] == {
            "people": None,
            "suppressed": True,
            "note": "fewer than 10",
        }
        assert croydon["cost"]["cost_of_clients_started"] is None

    def test_the_command_says_where_it_wrote(self, tmp_path, people):
        output, said = run(tmp_path, "json", "--borough", "croydon")
        assert said.strip() == f"Impact report of Croydon written to {output} (json)."


class TestDocuments:
    def test_html_is_a_standalone_document_without_names(self, tmp_path, people):
        output, _said = run(tmp_path, "html", "--borough", "southwark")
        html = output.read_text(encoding="utf-8")
        assert html.lstrip().lower().startswith("<!doctype html>")
        assert html.rstrip().endswith("</html>")
        assert "<title>SOS impact report: Southwark, 01/01/2024 to 31/12/2024</title>" in html
        assert 'class="impact-title">Southwark</h1>' in html
        # Its styles are inside it, as a data: address; it fetches nothing.
        assert impact.stylesheet().startswith("data:text/css;base64,")
        assert re.findall(r"<link[^>]*>", html) == [
            f'<link rel="stylesheet" href="{impact.stylesheet()}">'
        ]
        assert "<script" not in html
        assert "/static/" not in html
        assert "fewer than 10" in html
        for name in names_of(people) | {p.reference for p in people}:
            assert name not in html

    def test_pdf_names_the_scope_hides_small_counts_and_no_client(self, tmp_path, people):
        output, _said = run(tmp_path, "pdf", "--borough", "southwark")
        content = output.read_bytes()
        assert content.startswith(b"%PDF")
        text = words("\n".join(page.extract_text() for page in PdfReader(output).pages))
        assert "Southwark" in text
        assert "fewer than 10" in text.lower()
        for name in names_of(people) | {p.reference for p in people}:
            assert name not in text
        [made] = ImpactReportLog.objects.all()
        assert made.format == ImpactReportLog.Format.PDF


class TestLog:
    def test_each_report_made_is_one_row_of_the_log(self, tmp_path, people, borough_a):
        run(tmp_path, "json", "--borough", "southwark", "--by", "Ada Cole")
        [made] = ImpactReportLog.objects.all()
        assert made.by_command is True
        assert made.user is None
        assert made.username == "Ada Cole"
        assert made.scope == ImpactReportLog.Scope.AREA
        assert made.scope_name == "Southwark"
        assert made.borough == borough_a
        assert made.grant is None
        assert (made.period_start, made.period_end, made.as_of) == (START, END, AS_OF)
        assert made.format == ImpactReportLog.Format.JSON

        run(tmp_path, "html")
        assert ImpactReportLog.objects.count() == 2
        network = ImpactReportLog.objects.exclude(pk=made.pk).get()
        assert network.by_command is True
        assert network.scope == ImpactReportLog.Scope.NETWORK
        assert network.scope_name == "All boroughs"
        assert network.borough is None
        assert network.format == ImpactReportLog.Format.HTML
        # Without --by, the system user that ran it.
        assert network.username.startswith("impact_report (")

    def test_as_of_defaults_to_today(self, tmp_path, people):
        output = tmp_path / "report.json"
        call_command(
            "impact_report",
            *("--from", "2024-01-01", "--to", "2024-12-31"),
            *("--format", "json", "--output", str(output)),
            stdout=io.StringIO(),
        )
        today = timezone.localdate()
        assert json.loads(output.read_text(encoding="utf-8"))["as_of"] == today.isoformat()
        assert ImpactReportLog.objects.get().as_of == today


class TestRefused:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--from", "2025-01-01"], r"--from \(2025-01-01\) is after --to \(2024-12-31\)"),
            (
                ["--borough", "atlantis"],
                r"No borough with slug 'atlantis'\. Known: croydon, southwark\.",
            ),
            (["--from", "01/01/2024"], r"--from must be a date as YYYY-MM-DD, not '01/01/2024'"),
            (["--to", "2024-02-30"], r"--to must be a date as YYYY-MM-DD, not '2024-02-30'"),
            (["--as-of", "yesterday"], r"--as-of must be a date as YYYY-MM-DD, not 'yesterday'"),
            (["--format", "xls"], r"argument --format: invalid choice: 'xls'"),
            (
                ["--to", "2027-12-31", "--from", "2026-07-01"],
                r"--from \(2026-07-01\) is after --as-of \(2026-06-01\)",
            ),
        ],
        ids=[
            "from-after-to",
            "unknown-borough",
            "from-not-iso",
            "to-not-a-day",
            "as-of-not-a-date",
            "format-xls",
            "from-after-as-of",
        ],
    )
    def test_bad_input_is_named_and_nothing_is_written_or_logged(
        self, tmp_path, people, args, message
    ):
        with pytest.raises(CommandError, match=message):
            run(tmp_path, "json", *args)
        assert list(tmp_path.iterdir()) == []
        assert not ImpactReportLog.objects.exists()

    def test_as_of_in_the_future(self, tmp_path, people):
        tomorrow = timezone.localdate() + timedelta(days=1)
        with pytest.raises(CommandError, match=rf"--as-of {tomorrow} is in the future"):
            run(tmp_path, "json", "--as-of", tomorrow.isoformat())
        assert list(tmp_path.iterdir()) == []
        assert not ImpactReportLog.objects.exists()

    @pytest.mark.parametrize(
        ("where", "reason"),
        [("missing/report.json", "No such file or directory"), (".", "Is a directory")],
    )
    def test_an_output_that_cannot_be_written(self, tmp_path, people, where, reason):
        output = tmp_path / where
        with pytest.raises(CommandError, match=rf"Cannot write {re.escape(str(output))}: {reason}"):
            run(tmp_path, "json", output=output)
        assert list(tmp_path.iterdir()) == []
        assert not ImpactReportLog.objects.exists()

    def test_the_required_options(self):
        with pytest.raises(CommandError, match="the following arguments are required: --from"):
            call_command(
                "impact_report", "--to", "2024-12-31", "--format", "json", "--output", "x.json"
            )
        assert not ImpactReportLog.objects.exists()
