"""
Property-based tests for ``manage.py import_records``: folders of CSV files spoiled by
hypothesis, imported in-process with call_command.

Each example starts from the clean folder (tests/data/import/clean), sometimes with that
folder already imported, and applies a few mutations: cells replaced by HTML payloads,
10,000+ character and oversized (CSV field limit) values, control characters, unicode,
impossible and far-off dates, numbers out of range and garbage; columns dropped, added
twice or unknown; rows short, long, duplicated, or of raw bytes; files removed, emptied,
reduced to their header, or written in another encoding.

For every example the command either succeeds or raises CommandError whose report
names a file, a line and a field for each problem; any other exception fails the test.
When it fails nothing was written: every row of every mentoring table is compared
before and after. When it succeeds, payloads it stored are shown escaped on the pages
that show them.

NUL characters are among the generated cells: the importer refuses them, naming the cell
(test_nul_in_a_text_cell_is_reported_with_file_line_and_field).
"""

import csv
import io
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client as Browser
from django.urls import reverse
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

from mentoring.importer import FILES
from mentoring.models import Borough, Client, Mentor, SupportSession

from ..helpers import CLEAN_IMPORT, snapshot
from .test_fuzz_forms import (
    BAD_DATES,
    EXAMPLES,
    FUZZ,
    HTML_PAYLOADS,
    NASTY_DATE,
    NASTY_NUMBER,
    NASTY_TEXT,
    PAYLOAD,
    WORD,
    _long,
    assert_no_raw_payload,
    oddities,
)

pytestmark = pytest.mark.django_db

NAMES = list(FILES)


def _read(name):
    with (CLEAN_IMPORT / name).open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


BASE = {name: _read(name) for name in NAMES}
# csv's default field size limit is 131,072 characters.
OVERSIZED = 140_000

# Cell values ---------------------------------------------------------------------------


ENUM_CODES = st.sampled_from(
    [
        "PROBATION",
        "probation",
        "CLOSED",
        "ACTIVE",
        "DECLINED",
        "PENDING",
        "FINE",
        "THEFT",
        "POLICE",
        "COMPLETED",
        "LOW",
        "HIGH",
        "BOTH",
        "PHONE",
        "LATE",
        "MALE",
        "NOT_STATED",
    ]
)
REFERENCES = st.sampled_from(
    [
        "SWK-00001",
        "SWK-00002",
        "BRS-00001",
        "M-SWK-001",
        "M-SWK-002",
        "M-BRS-001",
        "southwark",
        "bristol",
        "SWK-99999",
        "M-XXX-001",
        "Bristol",
        "SOUTHWARK",
    ]
)
CELL = st.one_of(
    NASTY_TEXT,
    NASTY_DATE,
    NASTY_NUMBER,
    st.sampled_from(BAD_DATES),
    PAYLOAD,
    st.builds(lambda a, p: f"{a} {p}", WORD, PAYLOAD),
    ENUM_CODES,
    REFERENCES,
    st.sampled_from(["£2,100.50", "2000.001", "-1", "1e9", "NaN", "sNaN", "Infinity", "0"]),
    st.sampled_from(["accommodation;health", "juggling", ";;", "Legal & court"]),
    st.builds(_long, PAYLOAD),
    st.just("x" * OVERSIZED),
    st.just('"unclosed'),
)
RAW_LINE = st.binary(min_size=1, max_size=60)
COLUMN_NAME = st.one_of(
    st.sampled_from(["colour", "", " ", "NAME", "notes", "reference", "id", "<b>x</b>"]),
    WORD,
    PAYLOAD,
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-16-le"])


def _file_mutation(name):
    rows = len(BASE[name]) - 1
    header = BASE[name][0]
    row = st.integers(min_value=1, max_value=rows)
    column = st.integers(min_value=0, max_value=len(header) - 1)
    return st.one_of(
        st.tuples(st.just("cell"), st.just(name), row, column, CELL),
        st.tuples(st.just("cell"), st.just(name), row, column, CELL),
        st.tuples(st.just("cell"), st.just(name), row, column, CELL),
        st.tuples(st.just("drop column"), st.just(name), column),
        st.tuples(st.just("add column"), st.just(name), COLUMN_NAME, CELL),
        st.tuples(st.just("duplicate column"), st.just(name), column),
        st.tuples(st.just("drop file"), st.just(name)),
        st.tuples(st.just("empty file"), st.just(name)),
        st.tuples(st.just("header only"), st.just(name)),
        st.tuples(st.just("short row"), st.just(name), row),
        st.tuples(st.just("long row"), st.just(name), row, CELL),
        st.tuples(st.just("duplicate row"), st.just(name), row),
        st.tuples(st.just("blank lines"), st.just(name)),
        st.tuples(st.just("raw line"), st.just(name), RAW_LINE),
        st.tuples(st.just("raw file"), st.just(name), st.binary(max_size=200)),
        st.tuples(st.just("encoding"), st.just(name), ENCODINGS),
        st.tuples(st.just("line endings"), st.just(name), st.sampled_from(["\r\n", "\r"])),
        st.tuples(st.just("payload row"), st.just(name), row, PAYLOAD),
    )


# Text columns that may hold anything within their length, to put payloads in whole rows.
TEXT_COLUMNS = {
    "boroughs.csv": ("name", "region"),
    "mentors.csv": ("first_name", "last_name"),
    "clients.csv": ("first_name", "last_name"),
    "sessions.csv": ("notes",),
    "offences.csv": (),
    # An employer's name is how placements refer to it: a payload there is a new employer.
    "employers.csv": ("sector",),
    "placements.csv": (),
}


MUTATION = st.one_of(*[_file_mutation(name) for name in NAMES])
# Changes a good import survives: payloads in names and notes, other line endings, a BOM.
BENIGN = st.one_of(
    *[
        st.tuples(
            st.just("payload row"), st.just(name), st.integers(1, len(BASE[name]) - 1), PAYLOAD
        )
        for name in NAMES
        if TEXT_COLUMNS[name]
    ],
    st.tuples(st.just("line endings"), st.sampled_from(NAMES), st.sampled_from(["\r\n", "\r"])),
    st.tuples(st.just("encoding"), st.sampled_from(NAMES), st.just("utf-8-sig")),
    st.tuples(st.just("blank lines"), st.sampled_from(NAMES)),
)
FOLDERS = st.fixed_dictionaries(
    {
        "preloaded": st.booleans(),
        "mutations": st.one_of(
            st.lists(MUTATION, max_size=4),
            st.lists(BENIGN, min_size=1, max_size=3),
            st.tuples(st.lists(BENIGN, max_size=2), MUTATION).map(lambda t: [*t[0], t[1]]),
        ),
    }
)


def build_folder(mutations):
    """The clean files with ``mutations`` applied: {name: bytes}; absent files left out."""
    tables = {name: [list(r) for r in rows] for name, rows in BASE.items()}
    encoding = dict.fromkeys(NAMES, "utf-8")
    newline = dict.fromkeys(NAMES, "\n")
    raw = {}
    extra_lines = {name: [] for name in NAMES}
    for kind, name, *args in mutations:
        rows = tables.get(name)
        if kind not in ("raw file", "empty file", "drop file") and (rows is None or name in raw):
            continue  # the file was dropped, or replaced by raw bytes, earlier
        if kind == "cell":
            index, column, value = args
            if index < len(rows) and column < len(rows[index]):
                rows[index][column] = value
        elif kind == "drop column":
            (column,) = args
            for r in rows:
                if column < len(r):
                    del r[column]
        elif kind == "add column":
            column_name, value = args
            rows[0].append(column_name)
            for r in rows[1:]:
                r.append(value)
        elif kind == "duplicate column":
            (column,) = args
            for r in rows:
                if column < len(r):
                    r.append(r[column])
        elif kind == "drop file":
            tables[name] = None
            raw.pop(name, None)
        elif kind == "empty file":
            tables[name] = []
            raw[name] = b""
        elif kind == "header only":
            del rows[1:]
        elif kind == "short row":
            (index,) = args
            if index < len(rows) and rows[index]:
                rows[index].pop()
        elif kind == "long row":
            index, value = args
            if index < len(rows):
                rows[index].append(value)
        elif kind == "duplicate row":
            (index,) = args
            if index < len(rows):
                rows.append(list(rows[index]))
        elif kind == "blank lines":
            rows.insert(1, [])
            rows.append(["", ""])
        elif kind == "raw line":
            extra_lines[name].append(args[0])
        elif kind == "raw file":
            tables[name] = []
            raw[name] = args[0]
        elif kind == "encoding":
            encoding[name] = args[0]
        elif kind == "line endings":
            newline[name] = args[0]
        elif kind == "payload row":
            index, payload = args
            if index < len(rows) and rows[0] == BASE[name][0] and len(rows[index]) == len(rows[0]):
                new = list(rows[index])
                for column in TEXT_COLUMNS[name]:
                    position = rows[0].index(column)
                    new[position] = f"{new[position]} {payload}"[:100]
                rows[index] = new
    folder = {}
    for name in NAMES:
        if tables[name] is None:
            continue
        if name in raw:
            folder[name] = raw[name]
            continue
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator=newline[name]).writerows(tables[name])
        data = out.getvalue().encode(encoding[name], errors="replace")
        folder[name] = data + b"".join(line + b"\n" for line in extra_lines[name])
    return folder


# The checks ----------------------------------------------------------------------------

PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<field>.+?): (?P<reason>.+)$")


def assert_reports_file_line_and_field(message, directory):
    """The CommandError's report: a count, then ``file:line: field: reason`` per problem."""
    # Split on newlines only: a vertical tab in a reported column name is not a new line.
    first, *lines = message.split("\n")
    count = re.fullmatch(r"(\d+) problem\(s\) found, so nothing was imported:", first)
    assert count, f"unexpected report: {message[:500]!r}"
    assert int(count[1]) >= 1
    assert len(lines) == int(count[1]), f"report lines do not match the count: {message!r}"
    for line in lines:
        problem = PROBLEM.match(line)
        assert problem, f"problem without file, line and field: {line!r}"
        assert problem["file"] in NAMES or problem["file"] == str(directory), line
        assert problem["field"].strip(), line
        # A refusal by the database means the checks missed a rule: the report then names
        # no line or field of the file (importer.RecordImport.run).
        assert problem["field"] != "database", f"a row got past the checks: {line!r}"


def import_folder(directory):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_records", str(directory), stdout=out, stderr=err)
    return out.getvalue()


def write_folder(directory, files):
    for name, data in files.items():
        (directory / name).write_bytes(data)


def shown_values():
    """The imported text the pages below show: names, borough names and regions, notes."""
    return [
        *Client.objects.values_list("first_name", "last_name"),
        *Mentor.objects.values_list("first_name", "last_name"),
        *Borough.objects.values_list("name", "region"),
        *SupportSession.objects.values_list("notes", flat=False),
    ]


def pages_showing():
    """Every page that shows imported text, for every client and borough (a few of each)."""
    pages = [reverse("client_list"), reverse("mentor_list") + "?show=all"]
    for reference in Client.objects.values_list("reference", flat=True):
        pages.append(reverse("client_detail", args=[reference]))
        pages.append(reverse("client_export", args=[reference]))
        pages.append(reverse("client_history", args=[reference]))
    for slug in Borough.objects.values_list("slug", flat=True):
        pages.append(reverse("borough_dashboard", args=[slug]))
    for pk in Mentor.objects.values_list("pk", flat=True):
        pages.append(reverse("mentor_detail", args=[pk]))
    return pages


def import_or_refuse(directory, tally):
    """
    Import ``directory``: True if it imported; if refused, nothing was written and the
    report names a file, line and field for each problem.
    """
    before = snapshot()
    try:
        import_folder(directory)
    except CommandError as error:
        tally["refused"] += 1
        assert snapshot() == before, "a refused import wrote rows"
        assert_reports_file_line_and_field(str(error), directory)
        return False
    tally["imported"] += 1
    return True


def test_import_records_survives_fuzzing(admin_user):
    tally = Counter()
    seen = set()
    browser = Browser()
    browser.force_login(admin_user)

    @FUZZ
    @given(folder=FOLDERS)
    def example(folder):
        tally["examples"] += 1
        files = build_folder(folder["mutations"])
        with transaction.atomic(), tempfile.TemporaryDirectory() as tmp:
            if folder["preloaded"]:
                import_folder(CLEAN_IMPORT)
            directory = Path(tmp) / "import"
            directory.mkdir()
            write_folder(directory, files)
            before = snapshot()
            if import_or_refuse(directory, tally):
                odd = oddities(before, snapshot()) - seen
                if any(kind == "html" for _, _, kind in odd):
                    tally["payloads imported, pages checked"] += 1
                    bodies = []
                    for page in pages_showing():
                        shown = browser.get(page)
                        assert shown.status_code == 200, f"{page} answered {shown.status_code}"
                        bodies.append(shown.content.decode())
                        assert_no_raw_payload(bodies[-1], page)
                    values = [v for row in shown_values() for v in row if v]
                    for payload in HTML_PAYLOADS:
                        if any(payload in v for v in values):
                            assert any(escape(payload) in body for body in bodies), payload
                    # Only once the pages passed, so that a failing example fails again
                    # when hypothesis replays it.
                    seen.update(odd)
            transaction.set_rollback(True)

    example()
    print("import_records", dict(tally))
    assert tally["examples"] >= EXAMPLES
    assert tally["imported"] >= 10 and tally["refused"] >= 10, tally


def test_folders_of_random_bytes_are_refused_cleanly(tmp_path):
    """Whole files of arbitrary bytes, under every file name: refused, never a crash."""
    tally = Counter()

    @FUZZ
    @given(
        files=st.dictionaries(
            st.sampled_from(NAMES),
            st.one_of(
                st.binary(max_size=300),
                st.text(max_size=300).map(lambda t: t.encode("utf-8")),
            ),
            min_size=1,
        )
    )
    def example(files):
        tally["examples"] += 1
        with transaction.atomic(), tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            write_folder(directory, files)
            import_or_refuse(directory, tally)
            transaction.set_rollback(True)

    example()
    print("random files", dict(tally))
    assert tally["examples"] >= EXAMPLES
    assert tally["refused"] >= EXAMPLES // 2, tally


def test_nul_in_a_text_cell_is_reported_with_file_line_and_field(tmp_path):
    rows = [list(r) for r in BASE["clients.csv"]]
    rows[1][1] = "Ja\x00mal"
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    files = {name: (CLEAN_IMPORT / name).read_bytes() for name in NAMES}
    files["clients.csv"] = out.getvalue().encode("utf-8")
    write_folder(tmp_path, files)
    before = snapshot()
    with pytest.raises(CommandError, match=r"clients\.csv:2: first_name: "):
        import_folder(tmp_path)
    assert snapshot() == before


def test_unknown_column_with_a_newline_is_one_line_of_the_report(tmp_path):
    (tmp_path / "offences.csv").write_text(
        'client,offence_date,disposal,offence_type,source,"colour\n\x1b[2Jred"\n',
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as raised:
        import_folder(tmp_path)
    assert_reports_file_line_and_field(str(raised.value), tmp_path)
    assert "\x1b" not in str(raised.value)


def test_a_blank_column_twice_is_reported_with_a_field_name(tmp_path):
    rows = [[*r, "", ""] for r in BASE["mentors.csv"]]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    (tmp_path / "mentors.csv").write_text(out.getvalue(), encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        import_folder(tmp_path)
    assert "mentors.csv:1: (a column with no name): column appears twice" in str(raised.value)
    assert_reports_file_line_and_field(str(raised.value), tmp_path)


def test_the_clean_folder_still_imports(tmp_path):
    """The base every example spoils is itself clean."""
    write_folder(tmp_path, build_folder([]))
    assert "Import complete." in import_folder(tmp_path)
    assert Client.objects.count() == 5
    assert connection.vendor in {"sqlite", "postgresql"}
