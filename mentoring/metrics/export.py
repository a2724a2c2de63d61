"""
The one export format of a report, for ``outcomes_report`` and the dashboards' CSV
downloads: rows of ``REPORT_COLUMNS``, JSON with money as numbers with two decimals, and
CSV cells (``csv_value``).
"""

import csv
import json
import re
from datetime import date
from decimal import Decimal

from .definitions import CENTS, FIGURES
from .employment import SUSTAINED_FIGURES
from .followups import FOLLOWUP_FIGURES
from .pathway import PATHWAY_FIGURES

# What is read beside the cached figures (``with_after_support``) comes last, each new set
# after the one before, so that files read by column position keep their meaning.
REPORT_COLUMNS = (
    "scope",
    "slug",
    "name",
    *FIGURES,
    *SUSTAINED_FIGURES,
    *FOLLOWUP_FIGURES,
    *PATHWAY_FIGURES,
)
NETWORK_NAME = "All boroughs"


def report_rows(report, total_name=NETWORK_NAME):
    """
    The report as rows of ``REPORT_COLUMNS``: the boroughs together first, named
    ``total_name`` (a report of part of the network names the boroughs it covers; with
    None, as for one borough, that row is left out), then each borough.
    """
    if total_name is not None:
        yield {"scope": "network", "slug": "", "name": total_name, **report["network"]}
    for borough in report["boroughs"]:
        yield {"scope": "borough", **borough}


# json writes floats as repr() does (2000.0); money goes through as a marked string that is
# then unquoted, so it reads 2000.00. No text in a report can hold the NUL of the marker.
_MONEY_MARK = "\x00money:"
_MONEY = re.compile(r'"\\u0000money:(-?\d+\.\d\d)"')


def _json_value(value):
    if isinstance(value, Decimal):
        return f"{_MONEY_MARK}{value.quantize(CENTS)}"
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def report_json(report, indent=2):
    """
    The report as JSON: dates as YYYY-MM-DD, money as numbers with two decimals
    (``2030.43``, ``1001000.00``), rates as fractions, null where there is no value.
    """
    return _MONEY.sub(r"\1", json.dumps(report, default=_json_value, indent=indent))


# A cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV Injection"):
# a name written as =HYPERLINK(...) by an import or an admin would run when opened.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value, float_places=None):
    """
    A cell of the CSVs the app writes: empty for no value, true/false, money to the penny;
    fractions whole (the report agrees with its JSON to the last digit) or, for the tables
    under the charts, to ``float_places`` decimals. Text that a spreadsheet would run as a
    formula starts with an apostrophe, which shows it as text; numbers stay numbers.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value.quantize(CENTS)}"
    if isinstance(value, float) and float_places is not None:
        return round(value, float_places)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def write_csv(stream, columns, rows, float_places=None):
    """
    The one way the app writes a CSV: a header of ``columns``, then each row (a mapping)
    through ``csv_value``. Every download and report goes through here.
    """
    writer = csv.writer(stream)
    writer.writerow([csv_value(column) for column in columns])
    for row in rows:
        writer.writerow([csv_value(row.get(column), float_places) for column in columns])


def write_report_csv(report, stream, total_name=NETWORK_NAME):
    """The report as CSV, one row per scope: empty cells where a figure has no value."""
    write_csv(stream, REPORT_COLUMNS, report_rows(report, total_name))
