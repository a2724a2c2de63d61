"""
Load programme records from a folder of CSV files, all or nothing.

The files, each optional, are read in this order so that later ones can refer to rows of
earlier ones: ``boroughs.csv`` (by slug), ``mentors.csv`` and ``clients.csv`` (by
reference), ``sessions.csv``, ``offences.csv``, ``employers.csv`` (by name; a borough, or
none for the whole network) and ``placements.csv``. The columns are listed in ``FILES``.
Enums are given by their codes (e.g. ``PROBATION``), dates as YYYY-MM-DD or DD/MM/YYYY,
and an empty cell means no value: empty for an optional field, the model's default where
it has one (cost per client 2000.00, maximum caseload 8, medium risk, a session attended
in person covering practical and emotional support).

Every row is checked before anything is written, against in-memory lookups of what the
database already holds plus what the earlier files add, so there is no query per row.
Any problem stops the whole import and is reported as ``file:line: field: reason``.

Re-importing is safe. Boroughs, mentors and clients are matched by slug or reference:
a row that matches changes nothing, one that differs updates the record. Sessions and
offences have no reference, so a row counts as already imported when the database holds
an identical record (same client, mentor, date, duration, kind, mode, attendance and
notes; same client, dates, disposal, type and source); two identical rows in a file are
two records. A client's ``mentor`` is an assignment over started_on..ended_on, matched by
(client, mentor, start). Employers are matched by name. A placement is matched by client,
employer, kind and start date: a row that matches changes nothing, or sets the end date.
"""

import csv
import functools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .fields import TEXT_LIMITS, clean_name, clean_pnc_id
from .models import (
    AGE_AT_REFERRAL_MAX,
    AGE_AT_REFERRAL_MIN,
    DURATION_MAX_MINUTES,
    DURATION_MIN_MINUTES,
    Assignment,
    Borough,
    Client,
    Employer,
    FormerReference,
    Mentor,
    Offence,
    Placement,
    SupportArea,
    SupportSession,
    age_on,
)
from .services import CLIENT_REFERENCE_FORMAT, MENTOR_REFERENCE_FORMAT

# file: (required columns, optional columns)
FILES = {
    "boroughs.csv": (("name", "slug", "region", "launched_on"), ("cost_per_client", "code")),
    "mentors.csv": (
        ("reference", "first_name", "last_name", "borough", "started_on"),
        ("ended_on", "max_caseload"),
    ),
    "clients.csv": (
        ("reference", "first_name", "last_name", "date_of_birth", "borough", "referral_source"),
        (
            "referred_on",
            "status",
            "started_on",
            "release_date",
            "ended_on",
            "closure_reason",
            "risk_level",
            "mentor",
            "gender",
            "pnc_id",
        ),
    ),
    "sessions.csv": (
        ("client", "mentor", "date", "duration_minutes"),
        ("kind", "mode", "attendance", "support_areas", "notes"),
    ),
    "offences.csv": (
        ("client", "offence_date", "disposal", "offence_type", "source"),
        ("outcome_date",),
    ),
    "employers.csv": (("name",), ("sector", "borough")),
    "placements.csv": (("client", "employer", "kind", "started_on"), ("ended_on",)),
}
# referred_on is a required value; it sits with the optional columns only to keep the
# columns in the order the files list them.
REQUIRED_VALUES = {"clients.csv": ("referred_on",)}

BATCH_SIZE = 2000
PROGRESS_EVERY = 10_000
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
CODE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    field: str
    reason: str

    def __str__(self):
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


def _column_label(column):
    """A header cell as the report names it: blank cells and control characters shown."""
    if not column:
        return "(a column with no name)"
    return column if column.isprintable() else repr(column)


class ImportFailed(Exception):
    """The files have problems: nothing was written."""

    def __init__(self, problems):
        order = list(FILES)
        self.problems = sorted(
            problems, key=lambda p: (order.index(p.file) if p.file in order else -1, p.line)
        )
        super().__init__(f"{len(self.problems)} problem(s) found")


@dataclass
class FileResult:
    """What one file did: rows read, and records created, updated or already present."""

    name: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Imported all the same, but worth a look: "file:line: what".
    warnings: list = field(default_factory=list)

    @property
    def changed(self):
        return self.created + self.updated


@functools.cache
def _codes(choices):
    """The codes of a TextChoices enum, computed once: Django rebuilds them on each access."""
    return tuple(choices.values)


class Row:
    """One CSV row: typed access to its cells, recording a problem for each bad one."""

    def __init__(self, importer, file, line, cells):
        self.importer = importer
        self.file = file
        self.line = line
        self.cells = cells
        self.ok = True

    def present(self, values):
        """
        ``values`` without the optional columns this file does not have: an update leaves
        those fields as they are, while a new record takes their defaults.
        """
        optional = FILES[self.file][1]
        return {k: v for k, v in values.items() if k not in optional or k in self.cells}

    def error(self, column, reason):
        self.ok = False
        self.importer.problems.append(Problem(self.file, self.line, column, reason))

    def text(self, column, *, required=True, max_length=None):
        value = self.cells.get(column, "")
        if not value:
            if required:
                self.error(column, "is required")
            return ""
        if max_length and len(value) > max_length:
            self.error(column, f"is longer than {max_length} characters")
        return value

    def name(self, column, *, required=True):
        """A person's name, by the rules of the forms (``fields.clean_name``)."""
        value = self.text(column, required=required, max_length=100)
        if not value:
            return value
        try:
            return clean_name(value)
        except ValidationError as error:
            self.error(column, error.messages[0])
            return value

    def pnc_id(self, column):
        """An optional Police National Computer ID (``fields.clean_pnc_id``), or None."""
        value = self.text(column, required=False)
        if not value:
            return None
        try:
            return clean_pnc_id(value)
        except ValidationError as error:
            self.error(column, f"{value!r}: {error.messages[0]}")
            return None

    def date(self, column, *, required=False, not_future=True):
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            if ISO_DATE.match(value):
                day = date.fromisoformat(value)
            elif match := UK_DATE.match(value):
                d, m, y = (int(part) for part in match.groups())
                day = date(y, m, d)
            else:
                raise ValueError
        except ValueError:
            self.error(column, f"{value!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)")
            return None
        if not_future and day > self.importer.today:
            self.error(column, f"{day:%Y-%m-%d} is in the future")
        return day

    def choice(self, column, choices, *, default=None):
        value = self.text(column, required=default is None).upper()
        if not value:
            return default
        if value not in _codes(choices):
            self.error(column, f"{value!r} is not one of {', '.join(_codes(choices))}")
            return default
        return value

    def integer(self, column, *, low, high, default=None):
        value = self.text(column, required=default is None)
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            self.error(column, f"{value!r} is not a whole number")
            return default
        if not low <= number <= high:
            self.error(column, f"{number} is not between {low} and {high}")
        return number

    def money(self, column, *, default):
        value = self.text(column, required=False).replace(",", "").lstrip("£")
        if not value:
            return default
        try:
            amount = Decimal(value)
        except InvalidOperation:
            self.error(column, f"{value!r} is not an amount of money")
            return default
        if not amount.is_finite() or not 0 <= amount < 10_000_000:
            self.error(column, f"{value!r} is not between 0 and 9,999,999.99")
            return default
        if amount != amount.quantize(Decimal("0.01")):
            self.error(column, f"{value!r} has fractions of a penny")
            return default
        return amount

    def after(self, column, day, *, earlier_column, earlier, reason=None):
        """Check ``day`` is on or after ``earlier``."""
        if day and earlier and day < earlier:
            self.error(
                column,
                reason or f"{day:%Y-%m-%d} is before {earlier_column} ({earlier:%Y-%m-%d})",
            )


@dataclass
class Plan:
    """What the write phase will do, filled in by the checks."""

    boroughs_new: list = field(default_factory=list)
    boroughs_changed: list = field(default_factory=list)
    mentors_new: list = field(default_factory=list)
    mentors_changed: list = field(default_factory=list)
    clients_new: list = field(default_factory=list)
    clients_changed: list = field(default_factory=list)
    assignments_new: list = field(default_factory=list)
    assignments_changed: list = field(default_factory=list)
    sessions_new: list = field(default_factory=list)  # (session, [support area ids])
    offences_new: list = field(default_factory=list)
    employers_new: list = field(default_factory=list)
    employers_changed: list = field(default_factory=list)
    placements_new: list = field(default_factory=list)
    placements_changed: list = field(default_factory=list)


def _changed(instance, values):
    """Set ``values`` on ``instance``; the names of the fields that differed."""
    changed = []
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


class RecordImport:
    def __init__(self, directory, *, progress=None, progress_every=PROGRESS_EVERY):
        self.directory = Path(directory)
        self.progress = progress or (lambda message: None)
        self.progress_every = progress_every
        self.today = timezone.localdate()
        self.problems = []
        self.plan = Plan()
        self.results = {}

    # Entry point ----------------------------------------------------------------------

    def run(self, *, dry_run=False):
        """Check every file, then write everything in one transaction (unless dry_run)."""
        if not self.directory.is_dir():
            raise ImportFailed([Problem(str(self.directory), 0, "directory", "does not exist")])
        present = [name for name in FILES if (self.directory / name).is_file()]
        if not present:
            raise ImportFailed(
                [Problem(str(self.directory), 0, "directory", f"has none of {', '.join(FILES)}")]
            )
        with transaction.atomic():
            self._load_database()
            checks = {
                "boroughs.csv": self._check_boroughs,
                "mentors.csv": self._check_mentors,
                "clients.csv": self._check_clients,
                "sessions.csv": self._check_sessions,
                "offences.csv": self._check_offences,
                "employers.csv": self._check_employers,
                "placements.csv": self._check_placements,
            }
            for name in present:
                self.results[name] = FileResult(name)
                checks[name](name)
            if self.problems:
                raise ImportFailed(self.problems)
            if not dry_run:
                try:
                    self._write()
                except IntegrityError as error:
                    # The checks mirror every constraint, so this is a rule they missed.
                    raise ImportFailed(
                        [Problem(present[0], 0, "database", f"refused the import: {error}")]
                    ) from error
        return list(self.results.values())

    # Reading --------------------------------------------------------------------------

    def _rows(self, name):
        """Yield a Row per data row of ``name``; header problems stop the file."""
        required, optional = FILES[name]
        result = self.results[name]
        line = 1
        try:
            with (self.directory / name).open(encoding="utf-8-sig", newline="") as f:
                reader = csv.reader(f)
                header = [cell.strip().lower() for cell in next(reader, [])]
                if not header:
                    self.problems.append(Problem(name, 1, "header", "the file is empty"))
                    return
                missing = [c for c in required + REQUIRED_VALUES.get(name, ()) if c not in header]
                unknown = [c for c in header if c not in required + optional]
                for column in missing:
                    self.problems.append(Problem(name, 1, column, "column is missing"))
                for column in unknown:
                    if column:
                        reason = "is not a column of this file"
                        self.problems.append(Problem(name, 1, _column_label(column), reason))
                    else:
                        reason = "has a column with no name"
                        self.problems.append(Problem(name, 1, "header", reason))
                duplicated = [c for c, n in Counter(header).items() if n > 1]
                for column in duplicated:
                    self.problems.append(
                        Problem(name, 1, _column_label(column), "column appears twice")
                    )
                if missing or unknown or duplicated:
                    return
                line = reader.line_num + 1
                for cells in reader:
                    if any(cell.strip() for cell in cells):
                        result.rows += 1
                        if len(cells) != len(header):
                            self.problems.append(
                                Problem(
                                    name,
                                    line,
                                    "row",
                                    f"has {len(cells)} cells; the header has {len(header)}",
                                )
                            )
                        else:
                            values = dict(zip(header, (c.strip() for c in cells), strict=True))
                            # No text field accepts NUL (forms refuse it, PostgreSQL cannot
                            # store it): a row holding one goes no further.
                            spoiled = [c for c, value in values.items() if "\x00" in value]
                            for column in spoiled:
                                self.problems.append(
                                    Problem(name, line, column, "contains a NUL character")
                                )
                            if not spoiled:
                                yield Row(self, name, line, values)
                        if result.rows % self.progress_every == 0:
                            self.progress(f"{name}: {result.rows:,} rows checked")
                    line = reader.line_num + 1
        except UnicodeDecodeError:
            self.problems.append(Problem(name, 0, "file", "is not UTF-8 text"))
        except csv.Error as error:
            self.problems.append(Problem(name, line, "row", f"is not valid CSV: {error}"))

    # What the database holds -----------------------------------------------------------

    def _load_database(self):
        self.boroughs = {b.slug: b for b in Borough.objects.all()}
        boroughs_by_id = {b.pk: b for b in self.boroughs.values()}
        self.mentors = {m.reference: m for m in Mentor.objects.all()}
        mentors_by_id = {m.pk: m for m in self.mentors.values()}
        # Related objects are set from the lookups, so comparing them costs no query.
        for mentor in mentors_by_id.values():
            mentor.home_borough = boroughs_by_id[mentor.home_borough_id]
        # The slugs of the boroughs each mentor serves: new mentors and boroughs have no pk.
        self.serves = {m.reference: {m.home_borough.slug} for m in mentors_by_id.values()}
        for mentor_id, borough_id in Mentor.other_boroughs.through.objects.values_list(
            "mentor_id", "borough_id"
        ):
            self.serves[mentors_by_id[mentor_id].reference].add(boroughs_by_id[borough_id].slug)
        self.clients = {c.reference: c for c in Client.objects.all()}
        clients_by_id = {c.pk: c for c in self.clients.values()}
        for client in clients_by_id.values():
            client.borough = boroughs_by_id[client.borough_id]
        # The references of records brought into another: their rows' sessions and
        # offences go to the record kept, and their own rows change nothing.
        self.formerly = {
            reference: clients_by_id[client_id]
            for reference, client_id in FormerReference.objects.values_list(
                "reference", "client_id"
            )
        }
        self.clients.update(self.formerly)
        self.assignments = {}  # (client ref, mentor ref, started_on) -> Assignment
        self.open_assignment = {}  # client ref -> Assignment
        for a in Assignment.objects.all():
            a.client, a.mentor = clients_by_id[a.client_id], mentors_by_id[a.mentor_id]
            key = (a.client.reference, a.mentor.reference, a.started_on)
            self.assignments[key] = a
            if a.ended_on is None:
                self.open_assignment[a.client.reference] = a
        self.support_areas = {}
        for area in SupportArea.objects.all():
            self.support_areas[area.slug.lower()] = area
            self.support_areas[area.name.lower()] = area
        self.employers = {e.name: e for e in Employer.objects.all()}
        employers_by_id = {e.pk: e for e in self.employers.values()}
        for employer in employers_by_id.values():
            employer.borough = boroughs_by_id.get(employer.borough_id)
        # (client ref, employer name, kind, started_on) -> Placement: the key a row matches.
        self.placements = {}
        for p in Placement.objects.order_by("pk"):
            p.client, p.employer = clients_by_id[p.client_id], employers_by_id[p.employer_id]
            key = (p.client.reference, p.employer.name, p.kind, p.started_on)
            self.placements.setdefault(key, p)
        self.references = {"clients": clients_by_id, "mentors": mentors_by_id}
        # Keys of rows rejected earlier in this import: rows referring to them are skipped
        # without a second report, since the first one says what to fix.
        self.rejected = {"boroughs": set(), "mentors": set(), "clients": set(), "employers": set()}

    # Boroughs --------------------------------------------------------------------------

    def _check_boroughs(self, name):
        result = self.results[name]
        seen = {}
        names = {b.name: b for b in self.boroughs.values()}
        codes = {b.code: b for b in self.boroughs.values()}
        for row in self._rows(name):
            slug = row.text("slug", max_length=100)
            if slug and not SLUG.match(slug):
                row.error("slug", f"{slug!r} may only hold letters, digits, - and _")
            if slug in seen:
                row.error("slug", f"duplicate of line {seen[slug]}")
            seen.setdefault(slug, row.line)
            values = {
                "name": row.text("name", max_length=100),
                "region": row.text("region", max_length=100),
                "launched_on": row.date("launched_on", required=True),
                "cost_per_client": row.money("cost_per_client", default=Decimal("2000.00")),
            }
            code = row.text("code", required=False).upper()
            if code and not CODE.match(code):
                row.error("code", f"{code!r} is not three capital letters")
            self._reject("boroughs", slug, row)
            if not row.ok:
                continue
            borough = self.boroughs.get(slug)
            other = names.get(values["name"])
            if other is not None and other is not borough:
                row.error("name", f"{values['name']!r} is already the name of {other.slug!r}")
                self._reject("boroughs", slug, row)
                continue
            if borough is None:
                code = code or self._free_code(values["name"], codes)
                if code is None:
                    row.error("code", "no free three-letter code could be made from the name")
                    self._reject("boroughs", slug, row)
                    continue
                borough = Borough(slug=slug, code=code, **values)
                self.boroughs[slug] = borough
                self.plan.boroughs_new.append(borough)
                result.created += 1
            else:
                if code:
                    values["code"] = code
                names.pop(borough.name, None)
                codes.pop(borough.code, None)
                if _changed(borough, row.present(values)):
                    self.plan.boroughs_changed.append(borough)
                    result.updated += 1
                else:
                    result.unchanged += 1
            clash = codes.get(borough.code)
            if clash is not None and clash is not borough:
                row.error("code", f"{borough.code!r} is already the code of {clash.slug!r}")
            names[borough.name] = codes[borough.code] = borough

    @staticmethod
    def _free_code(name, codes):
        """A three-letter code from the name (SOUTHWARK -> SOU, else S + two later letters)."""
        letters = [c for c in name.upper() if "A" <= c <= "Z"]
        candidates = ["".join(letters[:3])] + [
            letters[0] + b + c for i, b in enumerate(letters[1:], start=1) for c in letters[i + 1 :]
        ]
        return next((c for c in candidates if len(c) == 3 and c not in codes), None)

    def _reject(self, kind, key, row):
        if not row.ok and key and key not in getattr(self, kind):
            self.rejected[kind].add(key)

    def _lookup(self, row, kind, column, label):
        key = row.text(column)
        found = getattr(self, kind).get(key)
        if key and found is None:
            if key in self.rejected[kind]:
                row.ok = False
            else:
                row.error(column, f"no {label} {key!r}")
        return found

    def _borough(self, row, column="borough"):
        return self._lookup(row, "boroughs", column, "borough with slug")

    # Mentors ---------------------------------------------------------------------------

    def _check_mentors(self, name):
        result = self.results[name]
        seen = {}
        for row in self._rows(name):
            reference = _unique_reference(row, seen)
            values = {
                "first_name": row.name("first_name"),
                "last_name": row.name("last_name"),
                "home_borough": self._borough(row),
                "started_on": row.date("started_on", required=True),
                "ended_on": row.date("ended_on"),
                "max_caseload": row.integer("max_caseload", low=1, high=30, default=8),
            }
            row.after(
                "ended_on",
                values["ended_on"],
                earlier_column="started_on",
                earlier=values["started_on"],
            )
            self._reject("mentors", reference, row)
            if not row.ok:
                continue
            mentor = self.mentors.get(reference)
            if mentor is None:
                mentor = Mentor(reference=reference, **values)
                self.mentors[reference] = mentor
                self.serves[reference] = {values["home_borough"].slug}
                self.plan.mentors_new.append(mentor)
                result.created += 1
            else:
                old_home = mentor.home_borough
                if _changed(mentor, row.present(values)):
                    self.plan.mentors_changed.append(mentor)
                    result.updated += 1
                    self.serves[reference].discard(old_home.slug)
                    self.serves[reference].add(mentor.home_borough.slug)
                else:
                    result.unchanged += 1

    # Clients ---------------------------------------------------------------------------

    def _check_clients(self, name):
        result = self.results[name]
        seen = {}
        births = defaultdict(list)  # date of birth -> clients, for the look for the same person
        for client in self.clients.values():
            if client.date_of_birth:
                births[client.date_of_birth].append(client)
        for row in self._rows(name):
            reference = _unique_reference(row, seen)
            values = {
                "first_name": row.name("first_name"),
                "last_name": row.name("last_name"),
                "date_of_birth": row.date("date_of_birth", required=True),
                "borough": self._borough(row),
                "referral_source": row.choice("referral_source", Client.ReferralSource),
                "referred_on": row.date("referred_on", required=True),
                "started_on": row.date("started_on"),
                "release_date": row.date("release_date", not_future=False),
                "ended_on": row.date("ended_on"),
                "closure_reason": row.choice("closure_reason", Client.ClosureReason, default=""),
                "risk_level": row.choice("risk_level", Client.RiskLevel, default="MEDIUM"),
                "gender": row.choice("gender", Client.Gender, default="NOT_STATED"),
                "pnc_id": row.pnc_id("pnc_id"),
            }
            values["status"] = row.choice(
                "status", Client.Status, default=self._status_from_dates(values)
            )
            self._check_client_dates(row, values)
            self._check_age(row, values)
            self._check_transfer(row, reference, values)
            mentor = None
            if row.text("mentor", required=False):
                mentor = self._lookup(row, "mentors", "mentor", "mentor with reference")
            borough = values["borough"]
            if mentor is not None:
                if borough and borough.slug not in self.serves[mentor.reference]:
                    row.error("mentor", f"{mentor.reference} does not serve {borough.slug!r}")
                elif not values["started_on"]:
                    row.error("mentor", "a client who has not started support has no mentor yet")
            self._reject("clients", reference, row)
            if not row.ok:
                continue
            if reference in self.formerly:
                kept = self.formerly[reference]
                result.unchanged += 1
                result.warnings.append(
                    f"{name}:{row.line}: {reference} was brought into {kept.reference}: "
                    f"the row is left as it is (change {kept.reference} instead)"
                )
                continue
            client = self.clients.get(reference)
            if client is None:
                client = Client(reference=reference, **values)
                self.clients[reference] = client
                self.plan.clients_new.append(client)
                result.created += 1
                self._look_for_same_person(row, client, births[client.date_of_birth])
                births[client.date_of_birth].append(client)
            elif _changed(client, row.present(values)):
                self.plan.clients_changed.append(client)
                result.updated += 1
            else:
                result.unchanged += 1
            if mentor is not None:
                self._plan_assignment(row, client, mentor)

    def _look_for_same_person(self, row, client, born_that_day):
        """
        Warn of a new client with the date of birth and first or last name (any case) of a
        client on record or of an earlier row: as a referral form would
        (``Client.objects.named_alike``). Imported all the same, since a new episode of
        support after a closed case is a new record; an admin brings the records of one
        young person together.
        """
        first, last = client.first_name.upper(), client.last_name.upper()
        alike = [
            c.reference
            for c in born_that_day
            if c.first_name.upper() == first or c.last_name.upper() == last
        ]
        if alike:
            self.results[row.file].warnings.append(
                f"{row.file}:{row.line}: {client.reference} {client.first_name} "
                f"{client.last_name}, born {client.date_of_birth:%d/%m/%Y}, has the birth date "
                f"and a name of {', '.join(alike[:3])}{' and more' if len(alike) > 3 else ''} "
                "(imported: if they are one young person, an admin can bring the records "
                "together)"
            )

    @staticmethod
    def _status_from_dates(values):
        if values["ended_on"]:
            return Client.Status.CLOSED
        if values["started_on"]:
            return Client.Status.ACTIVE
        return Client.Status.REFERRED

    @staticmethod
    def _check_client_dates(row, v):
        if v["date_of_birth"] and v["referred_on"] and v["date_of_birth"] >= v["referred_on"]:
            row.error("date_of_birth", "is not before referred_on")
        row.after(
            "started_on",
            v["started_on"],
            earlier_column="referred_on",
            earlier=v["referred_on"],
            reason="support cannot start before the referral",
        )
        row.after("ended_on", v["ended_on"], earlier_column="started_on", earlier=v["started_on"])
        row.after(
            "release_date", v["release_date"], earlier_column="started_on", earlier=v["started_on"]
        )
        if v["release_date"] and not v["started_on"]:
            row.error("release_date", "needs a started_on date")
        status = v["status"]
        if status in (Client.Status.REFERRED, Client.Status.DECLINED):
            for column in ("started_on", "ended_on"):
                if v[column]:
                    row.error(column, f"a {status} client has no {column}")
        elif status == Client.Status.ACTIVE:
            if not v["started_on"]:
                row.error("started_on", "an ACTIVE client needs a start date")
            if v["ended_on"]:
                row.error("ended_on", "an ACTIVE client has no end date")
        elif status == Client.Status.CLOSED:
            for column in ("started_on", "ended_on"):
                if not v[column]:
                    row.error(column, f"a CLOSED client needs {column}")
        if status == Client.Status.CLOSED and not v["closure_reason"]:
            row.error("closure_reason", "a CLOSED client needs a closure reason")
        if status != Client.Status.CLOSED and v["closure_reason"]:
            row.error("closure_reason", "only a CLOSED client has a closure reason")

    def _check_age(self, row, values):
        born, referred = values["date_of_birth"], values["referred_on"]
        # A referral date in the future is reported already; an age from it means nothing.
        if born and referred and referred <= self.today:
            age = age_on(born, referred)
            if not AGE_AT_REFERRAL_MIN <= age <= AGE_AT_REFERRAL_MAX:
                row.error(
                    "date_of_birth",
                    f"makes the client {age} when referred: SOS works with young people "
                    f"aged {AGE_AT_REFERRAL_MIN} to {AGE_AT_REFERRAL_MAX}",
                )

    def _check_transfer(self, row, reference, values):
        """
        A case closes as TRANSFERRED only through a transfer in SOS, which opens the
        referral in the new area: a row cannot close one that way, or the young person
        would leave the programme unseen. A record transferred in SOS keeps its reason.
        """
        if values["closure_reason"] != Client.ClosureReason.TRANSFERRED:
            return
        existing = self.clients.get(reference)
        if existing is None or existing.closure_reason != Client.ClosureReason.TRANSFERRED:
            row.error(
                "closure_reason",
                "TRANSFERRED is set by 'Transfer to another area' on the client's page, "
                "which opens the referral there: import the case open and transfer it, "
                "or close it as MOVED_AWAY",
            )

    def _plan_assignment(self, row, client, mentor):
        key = (client.reference, mentor.reference, client.started_on)
        values = {
            "ended_on": client.ended_on,
            "end_reason": Assignment.EndReason.CASE_CLOSED if client.ended_on else "",
        }
        assignment = self.assignments.get(key)
        if assignment is not None:
            if _changed(assignment, values):
                self.plan.assignments_changed.append(assignment)
            return
        current = self.open_assignment.get(client.reference)
        if values["ended_on"] is None and current is not None:
            row.error(
                "mentor",
                f"{client.reference} already has an open assignment with "
                f"{current.mentor.reference}: change mentors in the app",
            )
            return
        assignment = Assignment(
            client=client, mentor=mentor, started_on=client.started_on, **values
        )
        self.assignments[key] = assignment
        if values["ended_on"] is None:
            self.open_assignment[client.reference] = assignment
        self.plan.assignments_new.append(assignment)

    def _client(self, row):
        return self._lookup(row, "clients", "client", "client with reference")

    def _mentor(self, row):
        return self._lookup(row, "mentors", "mentor", "mentor with reference")

    # Sessions --------------------------------------------------------------------------

    def _check_sessions(self, name):
        result = self.results[name]
        planned = []
        for row in self._rows(name):
            client, mentor = self._client(row), self._mentor(row)
            day = row.date("date", required=True)
            values = {
                "duration_minutes": row.integer(
                    "duration_minutes", low=DURATION_MIN_MINUTES, high=DURATION_MAX_MINUTES
                ),
                "kind": row.choice("kind", SupportSession.Kind, default="BOTH"),
                "mode": row.choice("mode", SupportSession.Mode, default="IN_PERSON"),
                "attendance": row.choice(
                    "attendance", SupportSession.Attendance, default="ATTENDED"
                ),
                "notes": row.text("notes", required=False, max_length=TEXT_LIMITS["notes"]),
            }
            areas = []
            for part in row.text("support_areas", required=False).split(";"):
                if not part.strip():
                    continue
                area = self.support_areas.get(part.strip().lower())
                if area is None:
                    row.error("support_areas", f"{part.strip()!r} is not a support area")
                elif area.pk not in areas:
                    areas.append(area.pk)
            if client is not None and day is not None:
                row.after(
                    "date",
                    day,
                    earlier_column="the referral",
                    earlier=client.referred_on,
                    reason=f"is before {client.reference} was referred ({client.referred_on})",
                )
                if client.ended_on and day > client.ended_on:
                    row.error(
                        "date", f"is after {client.reference}'s case ended ({client.ended_on})"
                    )
            if row.ok:
                planned.append((client, mentor, day, values, areas))
        existing = self._existing(
            SupportSession.objects,
            "date",
            [p[2] for p in planned],
            (
                "client_id",
                "mentor_id",
                "date",
                "duration_minutes",
                "kind",
                "mode",
                "attendance",
                "notes",
            ),
        )
        for client, mentor, day, values, areas in planned:
            key = (
                client.reference,
                mentor.reference,
                day,
                *(values[k] for k in ("duration_minutes", "kind", "mode", "attendance", "notes")),
            )
            if existing[key] > 0:
                existing[key] -= 1
                result.unchanged += 1
            else:
                session = SupportSession(client=client, mentor=mentor, date=day, **values)
                self.plan.sessions_new.append((session, areas))
                result.created += 1

    def _existing(self, manager, date_field, days, fields):
        """
        A multiset of the records already stored in the date range of ``days``, keyed like
        the file's rows: client and mentor by reference. One query.
        """
        if not days:
            return Counter()
        rows = manager.filter(**{f"{date_field}__range": (min(days), max(days))}).values_list(
            *fields
        )
        clients, mentors = self.references["clients"], self.references["mentors"]
        existing = Counter()
        for row in rows:
            key = list(row)
            key[0] = clients[row[0]].reference
            if fields[1] == "mentor_id":
                key[1] = mentors[row[1]].reference
            existing[tuple(key)] += 1
        return existing

    # Offences --------------------------------------------------------------------------

    def _check_offences(self, name):
        result = self.results[name]
        planned = []
        for row in self._rows(name):
            client = self._client(row)
            offence_date = row.date("offence_date", required=True)
            outcome_date = row.date("outcome_date")
            disposal = row.choice("disposal", Offence.Disposal)
            offence_type = row.choice("offence_type", Offence.OffenceType)
            source = row.choice("source", Offence.Source)
            row.after(
                "outcome_date", outcome_date, earlier_column="offence_date", earlier=offence_date
            )
            if disposal == Offence.Disposal.PENDING and outcome_date:
                row.error("outcome_date", "a PENDING case has no outcome date")
            elif disposal and disposal != Offence.Disposal.PENDING and not outcome_date:
                row.error("outcome_date", f"is required for a {disposal} disposal")
            if row.ok:
                planned.append((client, offence_date, outcome_date, disposal, offence_type, source))
        existing = self._existing(
            Offence.objects,
            "offence_date",
            [p[1] for p in planned],
            ("client_id", "offence_date", "outcome_date", "disposal", "offence_type", "source"),
        )
        for client, *values in planned:
            key = (client.reference, *values)
            if existing[key] > 0:
                existing[key] -= 1
                result.unchanged += 1
            else:
                offence_date, outcome_date, disposal, offence_type, source = values
                self.plan.offences_new.append(
                    Offence(
                        client=client,
                        offence_date=offence_date,
                        outcome_date=outcome_date,
                        disposal=disposal,
                        offence_type=offence_type,
                        source=source,
                    )
                )
                result.created += 1

    # Employers and placements -----------------------------------------------------------

    def _check_employers(self, name):
        result = self.results[name]
        seen = {}
        for row in self._rows(name):
            employer_name = row.text("name", max_length=200)
            if employer_name in seen:
                row.error("name", f"duplicate of line {seen[employer_name]}")
            seen.setdefault(employer_name, row.line)
            values = {
                "sector": row.text("sector", required=False, max_length=100),
                "borough": (self._borough(row) if row.text("borough", required=False) else None),
            }
            self._reject("employers", employer_name, row)
            if not row.ok:
                continue
            employer = self.employers.get(employer_name)
            if employer is None:
                employer = Employer(name=employer_name, **values)
                self.employers[employer_name] = employer
                self.plan.employers_new.append(employer)
                result.created += 1
            elif _changed(employer, row.present(values)):
                self.plan.employers_changed.append(employer)
                result.updated += 1
            else:
                result.unchanged += 1

    def _check_placements(self, name):
        result = self.results[name]
        seen = {}
        for row in self._rows(name):
            client = self._client(row)
            employer = self._lookup(row, "employers", "employer", "employer named")
            kind = row.choice("kind", Placement.Kind)
            started_on = row.date("started_on", required=True)
            ended_on = row.date("ended_on")
            row.after("ended_on", ended_on, earlier_column="started_on", earlier=started_on)
            if client is not None and started_on and started_on < client.referred_on:
                row.error(
                    "started_on",
                    f"is before {client.reference} was referred ({client.referred_on})",
                )
            if not row.ok:
                continue
            key = (client.reference, employer.name, kind, started_on)
            if key in seen:
                row.error("started_on", f"the same placement as line {seen[key]}")
                continue
            seen[key] = row.line
            placement = self.placements.get(key)
            if placement is not None:
                if _changed(placement, {"ended_on": ended_on}):
                    self.plan.placements_changed.append(placement)
                    result.updated += 1
                else:
                    result.unchanged += 1
                continue
            if employer.borough is not None and employer.borough.slug != client.borough.slug:
                row.error(
                    "employer",
                    f"{employer.name} serves {employer.borough.slug!r}, not "
                    f"{client.reference}'s borough {client.borough.slug!r}",
                )
                continue
            placement = Placement(
                client=client,
                employer=employer,
                kind=kind,
                started_on=started_on,
                ended_on=ended_on,
            )
            self.placements[key] = placement
            self.plan.placements_new.append(placement)
            result.created += 1

    # Writing ---------------------------------------------------------------------------

    def _bulk_create(self, model, objects, label):
        """
        Insert ``objects``. Case records keep a change history, imports included; the
        snapshots of new records record no many-to-many links (a new client has no needs
        yet; sessions and their areas go through ``_create_sessions``).
        """
        if len(objects) >= self.progress_every:
            self.progress(f"Writing {len(objects):,} {label}")
        if hasattr(model, "history"):
            links = None
            if hasattr(model.history.model, "many_to_many"):
                links = {f.name: [] for f in model._meta.many_to_many}
            return bulk_create_with_history(
                objects,
                model,
                batch_size=BATCH_SIZE,
                default_change_reason=self.change_reason,
                custom_historical_attrs=None if links is None else {"many_to_many": links},
            )
        return model.objects.bulk_create(objects, batch_size=BATCH_SIZE)

    def _create_sessions(self, sessions_new):
        """
        New sessions and their support areas: written in groups of sessions with the same
        areas, so each group's snapshots record those areas.
        """
        if len(sessions_new) >= self.progress_every:
            self.progress(f"Writing {len(sessions_new):,} support sessions")
        groups = {}
        for session, areas in sessions_new:
            groups.setdefault(tuple(sorted(set(areas))), []).append(session)
        through = SupportSession.support_areas.through
        for areas, sessions in groups.items():
            created = bulk_create_with_history(
                sessions,
                SupportSession,
                batch_size=BATCH_SIZE,
                default_change_reason=self.change_reason,
                custom_historical_attrs={"many_to_many": {"support_areas": list(areas)}},
            )
            through.objects.bulk_create(
                (
                    through(supportsession_id=session.pk, supportarea_id=area)
                    for session in created
                    for area in areas
                ),
                batch_size=BATCH_SIZE * 2,
            )

    @property
    def change_reason(self):
        return f"import_records {self.directory.name}"

    def _write(self):
        plan = self.plan
        self._bulk_create(Borough, plan.boroughs_new, "boroughs")
        Borough.objects.bulk_update(
            plan.boroughs_changed, ["name", "code", "region", "launched_on", "cost_per_client"]
        )
        self._bulk_create(Mentor, plan.mentors_new, "mentors")
        Mentor.objects.bulk_update(
            plan.mentors_changed,
            ["first_name", "last_name", "home_borough", "started_on", "ended_on", "max_caseload"],
        )
        self._bulk_create(Client, plan.clients_new, "clients")
        for client in plan.clients_changed:
            client.version = F("version") + 1
        bulk_update_with_history(
            plan.clients_changed,
            Client,
            [
                "first_name",
                "last_name",
                "date_of_birth",
                "borough",
                "referral_source",
                "referred_on",
                "status",
                "started_on",
                "release_date",
                "ended_on",
                "closure_reason",
                "risk_level",
                "gender",
                "version",
            ],
            batch_size=BATCH_SIZE,
            default_change_reason=self.change_reason,
        )
        # Close changed assignments before opening new ones: the one-open-per-client rule.
        bulk_update_with_history(
            plan.assignments_changed,
            Assignment,
            ["ended_on", "end_reason"],
            default_change_reason=self.change_reason,
        )
        self._bulk_create(Assignment, plan.assignments_new, "assignments")
        self._create_sessions(plan.sessions_new)
        self._bulk_create(Offence, plan.offences_new, "offences")
        self._bulk_create(Employer, plan.employers_new, "employers")
        Employer.objects.bulk_update(plan.employers_changed, ["sector", "borough"])
        for placement in plan.placements_changed:
            placement.version = F("version") + 1
        bulk_update_with_history(
            plan.placements_changed,
            Placement,
            ["ended_on", "version"],
            batch_size=BATCH_SIZE,
            default_change_reason=self.change_reason,
        )
        self._bulk_create(Placement, plan.placements_new, "placements")
        self._advance_reference_counters(plan.clients_new, plan.mentors_new)

    @staticmethod
    def _advance_reference_counters(clients, mentors):
        """
        Move each borough's reference counters past the imported references that follow
        its pattern (SWK-00042, M-SWK-007), so references the app allocates later are new.
        """
        highest = {}
        for objects, counter, pattern in (
            (clients, "last_client_number", CLIENT_REFERENCE_FORMAT),
            (mentors, "last_mentor_number", MENTOR_REFERENCE_FORMAT),
        ):
            prefix = pattern.split("{number")[0]
            for obj in objects:
                borough = obj.borough if counter == "last_client_number" else obj.home_borough
                head = prefix.format(code=borough.code)
                number = obj.reference.removeprefix(head)
                if obj.reference.startswith(head) and number.isdigit():
                    key = (borough.pk, counter)
                    highest[key] = max(highest.get(key, 0), int(number))
        for (borough_id, counter), number in highest.items():
            Borough.objects.filter(pk=borough_id).update(**{counter: Greatest(F(counter), number)})


def import_records(directory, *, dry_run=False, progress=None, progress_every=PROGRESS_EVERY):
    """
    Import the CSV files in ``directory`` in one transaction; a FileResult per file found.
    Raises ImportFailed, with every problem, when any row is bad; nothing is written then.
    """
    importer = RecordImport(directory, progress=progress, progress_every=progress_every)
    return importer.run(dry_run=dry_run)


def _unique_reference(row, seen):
    """The row's reference, reported if an earlier line of the same file had it."""
    reference = row.text("reference", max_length=20)
    if reference in seen:
        row.error("reference", f"duplicate of line {seen[reference]}")
    seen.setdefault(reference, row.line)
    return reference
