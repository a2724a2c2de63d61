"""
Builds the scale data set: plans it in memory (``plan.py``), then writes it in one
transaction, the large tables through a writer (``writers.py``) from the rows that follow
from the plan (``rows.py``), the small ones through the ORM.
"""

import random
import time
from array import array
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from mentoring import models as m

from .. import weights
from ..logins import create_scale_logins
from ..names import FUNDER_NAMES
from ..reset import delete_programme_quickly, has_programme_data
from .plan import Plan
from .rows import check_copy_safe, milestones_goals_placements, offences, session_rows
from .sizes import EARLIEST_TODAY, Sizes
from .writers import OrmWriter, PostgresWriter, Table

EMPLOYERS = [
    ("Builders Ltd", "Construction"),
    ("Catering Co", "Hospitality"),
    ("Logistics", "Warehousing"),
]
PROGRESS_EVERY = 250_000


class DataPresent(Exception):
    """Programme data is already in the database and no reset was asked for."""


def _fields(names):
    """Field names written as one string, for the long column lists."""
    return names.split()


class ScaleBuilder:
    """Plans the data set in memory, then writes it in one transaction."""

    def __init__(self, sizes=None, *, seed=2006, today=None, stdout=None):
        self.sizes = sizes or Sizes()
        problems = self.sizes.problems()
        if problems:
            raise ValueError(" ".join(problems))
        self.today = today or timezone.localdate()
        if self.today < EARLIEST_TODAY:
            raise ValueError(f"today must be {EARLIEST_TODAY:%Y-%m-%d} or later.")
        self.seed = seed
        self.rng = random.Random(seed)
        self.stdout = stdout
        self.counts = {}
        self.timings = {}
        self.users = []
        self.started = time.monotonic()

    # Entry points ---------------------------------------------------------------------

    has_data = staticmethod(has_programme_data)
    reset = staticmethod(delete_programme_quickly)

    def build(self, *, reset=False):
        owns_transaction = not connection.in_atomic_block
        with transaction.atomic():
            if reset:
                started = time.monotonic()
                self.reset()
                self._log_line(
                    f"Deleted all programme records ({time.monotonic() - started:.1f} s)."
                )
            elif self.has_data():
                raise DataPresent
            if connection.vendor == "postgresql":
                self.writer = PostgresWriter(self.log, owns_transaction)
            else:
                self.writer = OrmWriter(self.log)
            self._plan()
            self._write()
            self.users = create_scale_logins(self.plan.areas, self.plan.mentors)
        if connection.vendor == "postgresql":
            started = time.monotonic()
            self.writer.finish(self._loaded_tables())
            self.log(
                "analyze", len(self._loaded_tables()), time.monotonic() - started, unit="tables"
            )
        self.timings["total"] = time.monotonic() - self.started
        return self.counts

    # Output ---------------------------------------------------------------------------

    def _log_line(self, message):
        if self.stdout is not None:
            self.stdout.write(message)
            if hasattr(self.stdout, "flush"):
                self.stdout.flush()

    def log(self, label, count, seconds, unit="rows"):
        self.timings[label] = seconds
        elapsed = time.monotonic() - self.started
        self._log_line(
            f"  {label:<24} {count:>11,} {unit:<8} {seconds:7.1f} s   (elapsed {elapsed:6.1f} s)"
        )

    def _progress(self, label, total):
        """An on_rows callback printing a line every eighth or so of a big table."""
        step = max(PROGRESS_EVERY, -(-total // 8 // PROGRESS_EVERY) * PROGRESS_EVERY)
        state = {"next": step, "start": time.monotonic()}

        def on_rows(count):
            if total >= 2 * PROGRESS_EVERY and count >= state["next"]:
                state["next"] = (count // step + 1) * step
                seconds = time.monotonic() - state["start"]
                self._log_line(
                    f"    {label}: {count:,} of {total:,} ({100 * count / total:.0f}%) "
                    f"{seconds:.1f} s"
                )

        return on_rows

    def _write_table(self, label, model, fields, rows, total=0):
        started = time.monotonic()
        count = self.writer.write(Table(model, fields), rows, self._progress(label, total))
        self.counts[label] = count
        self.log(label, count, time.monotonic() - started)
        return count

    # Planning -------------------------------------------------------------------------

    def _plan(self):
        started = time.monotonic()
        check_copy_safe()
        self.plan = Plan(
            self.sizes,
            rng=self.rng,
            today=self.today,
            support_areas=list(m.SupportArea.objects.order_by("sort_order", "pk")),
            reserve_ids=self.writer.reserve_ids,
        )
        self._log_line(
            f"Planned {self.sizes.boroughs:,} areas, {len(self.plan.mentors):,} mentors, "
            f"{len(self.plan.clients):,} clients and {self.sizes.sessions:,} sessions "
            f"(seed {self.seed}, as of {self.today:%Y-%m-%d}) "
            f"in {time.monotonic() - started:.1f} s."
        )

    # Writing --------------------------------------------------------------------------

    LOADED = (
        m.Mentor,
        m.Mentor.other_boroughs.through,
        m.Client,
        m.Client.needs.through,
        m.Assignment,
        m.SupportSession,
        m.SupportSession.support_areas.through,
        m.Offence,
        m.Milestone,
        m.Goal,
        m.Placement,
        m.FollowUp,
    )

    # Written by the build without COPY: the session summaries (``summaries.rebuild``),
    # their versions, the funding and the benchmark logins. They are ANALYZEd with the
    # loaded tables: until autovacuum comes round, the planner would take the summaries
    # for a small part of what they hold and choose slow plans for the dashboards.
    WRITTEN_OTHERWISE = (
        m.SessionDay,
        m.SessionAreaDay,
        m.BoroughVersion,
        m.CaseShardVersion,
        m.Employer,
        m.Funder,
        m.Grant,
        m.StaffProfile,
        m.StaffProfile.boroughs.through,
        m.StaffProfile.history.model,  # the logins' access is recorded like anyone's
    )

    def _loaded_tables(self):
        models = (m.Borough, *self.LOADED, *self.WRITTEN_OTHERWISE)
        return [model._meta.db_table for model in models]

    def _write(self):
        self.now = timezone.now()
        self._log_line("Writing:")
        self._write_boroughs()
        employers = self._employers()
        with self.writer.bulk_load([model._meta.db_table for model in self.LOADED]):
            self._write_mentors()
            self._write_clients()
            self._write_assignments()
            self._write_sessions()
            self._write_offences()
            self._write_milestones_goals_placements(employers)
            self._write_followups()
        self._grants()

    def _write_boroughs(self):
        started = time.monotonic()
        boroughs = m.Borough.objects.bulk_create(
            m.Borough(
                name=a.name,
                slug=a.slug,
                code=a.code,
                region=a.region,
                launched_on=a.launched,
                cost_per_client=a.cost,
                last_client_number=a.clients,
                last_mentor_number=a.mentors,
            )
            for a in self.plan.areas
        )
        for area, borough in zip(self.plan.areas, boroughs, strict=True):
            area.id = borough.pk
        self.counts["boroughs"] = len(boroughs)
        self.log("boroughs", len(boroughs), time.monotonic() - started)

    def _employers(self):
        wanted = [
            (f"{a.name} {suffix}", sector, a.id)
            for a in self.plan.areas
            for suffix, sector in EMPLOYERS
        ]
        existing = set(
            m.Employer.objects.filter(name__in=[w[0] for w in wanted]).values_list(
                "name", flat=True
            )
        )
        m.Employer.objects.bulk_create(
            m.Employer(name=name, sector=sector, borough_id=borough)
            for name, sector, borough in wanted
            if name not in existing
        )
        self.counts["employers"] = len(wanted)
        by_name = dict(
            m.Employer.objects.filter(name__in=[w[0] for w in wanted]).values_list("name", "pk")
        )
        employers = {}
        for name, _sector, borough in wanted:
            employers.setdefault(borough, []).append(by_name[name])
        return employers

    def _write_mentors(self):
        self._write_table(
            "mentors",
            m.Mentor,
            _fields("""
            id home_borough_id first_name last_name preferred_name reference lived_experience
            listener_trained qualification vetting_checked_on started_on ended_on
            max_caseload"""),
            ((x.id, x.area.id, *x.row) for x in self.plan.mentors),
        )
        self._write_table(
            "mentor other boroughs",
            m.Mentor.other_boroughs.through,
            ["mentor_id", "borough_id"],
            ((x.id, area.id) for x, area in self.plan.visits),
        )

    def _write_clients(self):
        tail = ("", "", None, 1, self.now, self.now, None)
        self._write_table(
            "clients",
            m.Client,
            _fields("""
            id borough_id status started_on release_date ended_on closure_reason first_name
            last_name preferred_name reference date_of_birth gender ethnicity referral_source
            referred_on risk_level gang_affiliated consent_recorded_on phone email address
            anonymised_on version created_at updated_at created_by_id"""),
            (
                (c.id, c.area.id, c.status, c.started, c.release, c.ended, c.closure, *c.row, *tail)
                for c in self.plan.clients
            ),
            total=len(self.plan.clients),
        )
        self._write_table(
            "client needs",
            m.Client.needs.through,
            ["client_id", "supportarea_id"],
            ((c.id, area) for c in self.plan.clients for area in c.needs),
        )

    def _write_assignments(self):
        first_id = self.writer.reserve_ids(m.Assignment, self.plan.assignment_count)

        def rows():
            pk = first_id
            for c in self.plan.clients:
                for mentor, start, stop, reason in c.plan:
                    if stop is not None and not reason:
                        reason = m.Assignment.EndReason.CASE_CLOSED
                    yield (pk, c.id, mentor.id, start, stop, reason)
                    pk += 1

        self._write_table(
            "assignments",
            m.Assignment,
            ["id", "client_id", "mentor_id", "started_on", "ended_on", "end_reason"],
            rows(),
        )

    def _write_sessions(self):
        total = self.sizes.sessions
        first_id = self.writer.reserve_ids(m.SupportSession, total)
        # The support areas each session covered, kept compactly until the sessions are in.
        session_ids, area_ids = array("q"), array("q")
        self._write_table(
            "sessions",
            m.SupportSession,
            _fields("""
            id client_id mentor_id date start_time duration_minutes kind mode attendance notes
            safeguarding_concern safeguarding_handled_at safeguarding_action logged_by_id
            created_at updated_at version submission_token"""),
            session_rows(
                self.plan,
                rng=self.rng,
                now=self.now,
                first_id=first_id,
                session_ids=session_ids,
                area_ids=area_ids,
            ),
            total=total,
        )
        self._write_table(
            "session support areas",
            m.SupportSession.support_areas.through,
            ["supportsession_id", "supportarea_id"],
            zip(session_ids, area_ids, strict=True),
            total=len(session_ids),
        )

    def _write_offences(self):
        total = self.sizes.offences
        rows, reoffences = offences(self.plan, self.rng)
        if reoffences > total:
            self._log_line(
                f"  Note: --offences {total:,} is fewer than the {reoffences:,} reoffences "
                "the reoffending rate needs; it will come out lower."
            )
        first_id = self.writer.reserve_ids(m.Offence, total)
        self._write_table(
            "offences",
            m.Offence,
            _fields("""
            id client_id offence_date outcome_date disposal offence_type source notes
            recorded_at version"""),
            ((first_id + i, *row, "", self.now, 1) for i, row in enumerate(rows)),
            total=total,
        )

    def _write_milestones_goals_placements(self, employers):
        milestones, goals, placements = milestones_goals_placements(self.plan, self.rng, employers)
        for label, model, fields, rows in (
            (
                "milestones",
                m.Milestone,
                "client_id kind achieved_on evidence verified version",
                milestones,
            ),
            (
                "goals",
                m.Goal,
                "client_id support_area_id description set_on target_date status version",
                goals,
            ),
            (
                "placements",
                m.Placement,
                "client_id employer_id kind started_on ended_on notes version",
                placements,
            ),
        ):
            first_id = self.writer.reserve_ids(model, len(rows))
            self._write_table(
                label,
                model,
                ["id", *_fields(fields)],
                ((first_id + i, *row) for i, row in enumerate(rows)),
                total=len(rows),
            )

    def _write_followups(self):
        """Check-ins after the completed cases, drawn as the demo draws them, from their
        own generator: the rest of the data stays the same for a seed."""
        rng = random.Random(f"{self.seed}-followups")
        rows = [
            (
                c.id,
                check_in["point"],
                check_in["done_on"],
                check_in["reached"],
                check_in["in_ete"],
                check_in["stable_accommodation"],
                check_in["new_offence_told"],
                "",
                self.now,
                1,
            )
            for c in self.plan.clients
            if c.closure == m.Client.ClosureReason.COMPLETED
            for check_in in weights.check_ins(c.ended, self.today, rng)
        ]
        first_id = self.writer.reserve_ids(m.FollowUp, len(rows))
        self._write_table(
            "follow-up check-ins",
            m.FollowUp,
            [
                "id",
                *_fields(
                    """client_id point done_on reached in_ete stable_accommodation
                    new_offence_told note recorded_at version"""
                ),
            ],
            ((first_id + i, *row) for i, row in enumerate(rows)),
            total=len(rows),
        )

    def _grants(self):
        """A grant per area and year with starts, as in the demo (small: the ORM)."""
        started = time.monotonic()
        rng = self.rng
        others = {}
        for kind in (m.Funder.Kind.POLICE, m.Funder.Kind.TRUST, m.Funder.Kind.CORPORATE):
            others[kind], _created = m.Funder.objects.get_or_create(
                name=FUNDER_NAMES[kind], defaults={"kind": kind}
            )
        residents = m.Funder.objects.get_or_create(
            name=FUNDER_NAMES[m.Funder.Kind.RESIDENTS_GROUP],
            defaults={"kind": m.Funder.Kind.RESIDENTS_GROUP},
        )[0]
        starts = {}
        for c in self.plan.clients:
            if c.started:
                key = (c.area.index, c.started.year)
                starts[key] = starts.get(key, 0) + 1
        grants = []
        for area in self.plan.areas:
            council = m.Funder.objects.get_or_create(
                name=f"{area.name} Council", defaults={"kind": m.Funder.Kind.LOCAL_AUTHORITY}
            )[0]
            for year in range(area.launched.year, self.today.year + 1):
                clients = starts.get((area.index, year), 0)
                if not clients:
                    continue
                funders = {**others, m.Funder.Kind.LOCAL_AUTHORITY: council}
                funder = rng.choice([funders[kind] for kind in weights.GRANT_FUNDERS_SCALE])
                if area.code == "KNC" and year == area.launched.year:
                    funder = residents
                cover = Decimal(rng.choice(weights.GRANT_COVER))
                grants.append(
                    m.Grant(
                        funder=funder,
                        borough_id=area.id,
                        amount=(clients * area.cost * cover).quantize(Decimal("1")),
                        starts_on=date(year, 1, 1),
                        ends_on=date(year, 12, 31),
                        reference=f"{area.code}-{year}",
                    )
                )
        m.Grant.objects.bulk_create(grants)
        self.counts["grants"] = len(grants)
        self.log("grants", len(grants), time.monotonic() - started)
