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

REPORT_COLUMNS = ("scope", "slug", "name", *FIGURES)
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


def csv_value(value, float_places=None):
    """
    A cell of the CSVs the app writes: empty for no value, true/false, money to the penny;
    fractions whole (the report agrees with its JSON to the last digit) or, for the tables
    under the charts, to ``float_places`` decimals.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value.quantize(CENTS)}"
    if isinstance(value, float) and float_places is not None:
        return round(value, float_places)
    return value


def write_report_csv(report, stream, total_name=NETWORK_NAME):
    """The report as CSV, one row per scope: empty cells where a figure has no value."""
    writer = csv.writer(stream)
    writer.writerow(REPORT_COLUMNS)
    for row in report_rows(report, total_name):
        writer.writerow([csv_value(row[column]) for column in REPORT_COLUMNS])
