"""
CSV that cannot run: every CSV the app writes (the dashboards' tables and figures, the
outcomes report) starts text that a spreadsheet would take for a formula with an
apostrophe, through one helper; numbers stay numbers.
"""

import ast
import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from mentoring import metrics

from .. import factories
from ..helpers import PROJECT_ROOT

FORMULA = '=HYPERLINK("http://example.org","click")'


@pytest.mark.parametrize("text", [FORMULA, "+1+1", "-2+3", "@SUM(A1:A2)", "\tSUM(A1)", "\r=1"])
def test_text_a_spreadsheet_would_run_starts_with_an_apostrophe(text):
    assert metrics.csv_value(text) == f"'{text}"


@pytest.mark.parametrize(
    "value, cell",
    [
        (-3, -3),
        (0.25, 0.25),
        (Decimal("-150.5"), "-150.50"),
        (True, "true"),
        (None, ""),
        ("Southwark", "Southwark"),
        ("O'Neil = friend", "O'Neil = friend"),
        (date(2025, 3, 31), date(2025, 3, 31)),
    ],
)
def test_numbers_and_plain_text_are_left_as_they_are(value, cell):
    assert metrics.csv_value(value) == cell


def _csv_writers(path):
    return [
        node
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and node.attr in ("writer", "DictWriter")
        and isinstance(node.value, ast.Name)
        and node.value.id == "csv"
    ]


def test_every_csv_the_app_writes_goes_through_the_one_helper():
    """No module but metrics/export.py makes a csv writer of its own."""
    helper = PROJECT_ROOT / "mentoring" / "metrics" / "export.py"
    assert _csv_writers(helper), "the check no longer sees the helper's own writer"
    modules = [*PROJECT_ROOT.glob("mentoring/**/*.py"), *PROJECT_ROOT.glob("accounts/**/*.py")]
    others = [p for p in modules if p != helper and "seed" not in p.parts]
    assert len(others) > 30
    assert [str(p.relative_to(PROJECT_ROOT)) for p in others if _csv_writers(p)] == []


@pytest.fixture
def formula_names(borough_a):
    """A mentor and a borough whose names are formulas, as a careless import could write."""
    borough_a.name = "@Southwark"
    borough_a.save()
    mentor = factories.MentorFactory(home_borough=borough_a, first_name=FORMULA)
    kai = factories.ClientFactory(borough=borough_a, active=True)
    factories.AssignmentFactory(client=kai, mentor=mentor)
    return mentor


def _cells(text):
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


@pytest.mark.django_db
class TestWriters:
    def test_the_dashboards_mentor_table(self, client, manager, formula_names):
        client.force_login(manager)
        response = client.get(
            reverse("borough_dashboard", args=["southwark"]), {"download": "mentors"}
        )
        assert response["Content-Type"].startswith("text/csv")
        cells = _cells(response.content.decode())
        names = [cell for cell in cells if "HYPERLINK" in cell]
        assert names, cells
        assert all(cell.startswith("'=") for cell in names)

    def test_the_dashboards_figures(self, client, manager, formula_names):
        client.force_login(manager)
        response = client.get(reverse("network_dashboard"), {"download": "figures"})
        cells = _cells(response.content.decode())
        assert "'@Southwark" in cells
        assert "@Southwark" not in cells

    def test_the_outcomes_report(self, formula_names):
        out = io.StringIO()
        call_command("outcomes_report", "--as-of", "2026-01-01", "--format", "csv", stdout=out)
        cells = _cells(out.getvalue())
        assert "'@Southwark" in cells
        assert "@Southwark" not in cells
