"""
A realistic, entirely fictional demo data set built from the SOS case study.

Seven areas with their launch dates (Southwark in 2006 first), about 30 mentors and about
550 clients referred since then, with weekly-ish support sessions over a few months to
more than a year, offence histories, reoffences, milestones, goals, grants and employer
placements. Proportions are set so that the 12-month proven reoffending rate lands in the
case study's 15-20% band and about 80% of closed cases complete.

The same ``seed`` and ``today`` always give the same data. Rows are written with
``bulk_create`` so that ``--scale`` builds large data sets quickly.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mentoring import metrics
from mentoring import models as m
from mentoring.services import (
    CLIENT_REFERENCE_FORMAT,
    MENTOR_REFERENCE_FORMAT,
    mentor_from_client,
)

from . import weights
from .areas import CASE_STUDY_AREAS
from .logins import create_demo_logins, existing_demo_logins
from .names import (
    CONFIRMED_BY_LETTER,
    FIRST_NAMES_FEMALE,
    FIRST_NAMES_MALE,
    FUNDER_NAMES,
    GOAL_DESCRIPTION,
    LAST_NAMES,
    MENTOR_FIRST_NAMES,
    PHONE_FORMAT,
    SAFEGUARDING_ACTIONS,
    SEEN_BY_MENTOR,
    SESSION_NOTES,
)
from .reset import delete_programme, has_programme_data
from .timestamps import logged_at, opening_time, own_timestamps

MENTORS_PER_AREA = {"SWK": 8, "KNC": 5, "EAL": 4, "GRE": 4, "CRO": 4, "BRS": 3, "DOR": 3}
BASE_CLIENTS = 550
EMPLOYERS = [
    ("Bankside Builders Ltd", "Construction", "SWK"),
    ("Thameside Catering", "Hospitality", "SWK"),
    ("Westway Motors", "Motor trade", "KNC"),
    ("Ealing Green Landscapes", "Landscaping", "EAL"),
    ("Greenwich Riverside Hotel", "Hospitality", "GRE"),
    ("Croydon Logistics Hub", "Warehousing", "CRO"),
    ("Harbourside Print Works", "Printing", "BRS"),
    ("Jurassic Coast Boatyard", "Marine", "DOR"),
]


@dataclass
class PlannedClient:
    """A client before it is written, with what the generator decided about it."""

    client: m.Client
    needs: list
    mentor_plan: list = field(default_factory=list)  # (mentor, start, end, end_reason)
    reoffends: bool = False


class DemoBuilder:
    def __init__(self, *, seed=2006, scale=1.0, today, stdout=None):
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.rng = random.Random(seed)
        # The check-ins draw from their own generator: the rest of the data stays the
        # same for a seed whatever they draw.
        self.followup_rng = random.Random(f"{seed}-followups")
        self.scale = scale
        self.today = today
        self.stdout = stdout
        self.counts = {}

    # Entry points ---------------------------------------------------------------------

    has_data = staticmethod(has_programme_data)
    existing_logins = staticmethod(existing_demo_logins)
    reset = staticmethod(delete_programme)

    @transaction.atomic
    def build(self):
        self.areas = self._boroughs()
        self.support_areas = list(m.SupportArea.objects.order_by("sort_order"))
        self.mentors = self._mentors()
        planned = self._clients()
        self._assignments_and_sessions(planned)
        self._offences(planned)
        self._milestones_goals_placements(planned)
        self._grants(planned)
        self._justice_data_lab()
        self._referred_twice()
        self._followups(planned)
        self._peer_pathway(planned)
        self.users = create_demo_logins(self.areas)
        record_creation()
        return self.counts

    def _log(self, message):
        if self.stdout is not None:
            self.stdout.write(message)

    # Boroughs and mentors -------------------------------------------------------------

    def _boroughs(self):
        boroughs = m.Borough.objects.bulk_create(
            m.Borough(
                name=name,
                slug=slug,
                code=code,
                region=region,
                launched_on=launched,
                cost_per_client=Decimal(cost),
            )
            for name, slug, code, region, launched, _size, cost in CASE_STUDY_AREAS
        )
        self.counts["boroughs"] = len(boroughs)
        return {b.code: b for b in boroughs}

    def _mentors(self):
        rng = self.rng
        vetted = weights.FIRST_VETTING_DAYS
        mentors = []
        for code, base in MENTORS_PER_AREA.items():
            borough = self.areas[code]
            span = (self.today - borough.launched_on).days
            for i in range(max(weights.FOUNDING_MENTORS, round(base * self.scale))):
                if i < weights.FOUNDING_MENTORS:
                    started = borough.launched_on
                    ended = None
                else:
                    started = borough.launched_on + timedelta(days=rng.randrange(span - 30))
                    ended = None
                    if rng.random() < weights.MENTOR_LEAVER_SHARE:
                        service = rng.randrange(*weights.MENTOR_SERVICE_DAYS)
                        ended = started + timedelta(days=service)
                        if ended >= self.today:
                            ended = None
                number = len([x for x in mentors if x.home_borough_id == borough.pk]) + 1
                first = rng.choice(MENTOR_FIRST_NAMES)
                mentors.append(
                    m.Mentor(
                        reference=MENTOR_REFERENCE_FORMAT.format(code=code, number=number),
                        first_name=first,
                        last_name=rng.choice(LAST_NAMES),
                        home_borough=borough,
                        lived_experience=rng.random() < weights.LIVED_EXPERIENCE_SHARE,
                        listener_trained=rng.random() < weights.LISTENER_TRAINED_SHARE,
                        qualification=rng.choice(weights.QUALIFICATIONS),
                        vetting_checked_on=self._vetting(
                            min(self.today, started + timedelta(days=rng.randrange(*vetted))),
                            ended,
                            lapsed=i == 1,
                        ),
                        started_on=started,
                        ended_on=ended,
                        max_caseload=rng.choice(weights.CASELOAD_LIMITS),
                    )
                )
        mentors = m.Mentor.objects.bulk_create(mentors)
        for borough in self.areas.values():
            borough.last_mentor_number = sum(1 for x in mentors if x.home_borough_id == borough.pk)
        m.Borough.objects.bulk_update(self.areas.values(), ["last_mentor_number"])
        # Some Southwark mentors also cover the neighbouring south London boroughs.
        through = m.Mentor.other_boroughs.through
        links = []
        for mentor in mentors[:8]:
            if mentor.home_borough_id == self.areas["SWK"].pk and rng.random() < 0.5:
                for code in ("GRE", "CRO"):
                    links.append(through(mentor_id=mentor.pk, borough_id=self.areas[code].pk))
        through.objects.bulk_create(links)
        self.serves = {x.pk: {x.home_borough_id} for x in mentors}
        for link in links:
            self.serves[link.mentor_id].add(link.borough_id)
        self.counts["mentors"] = len(mentors)
        return mentors

    # Clients ---------------------------------------------------------------------------

    def _vetting(self, first, ended, *, lapsed):
        """
        The last vetting check of a mentor first checked on ``first``: renewed two weeks
        before each falls due while they mentor. In each area one long-serving mentor
        (``lapsed``) is three weeks past renewal, so the flags and the confirmation show.
        """
        years = settings.SOS_VETTING_RENEWAL_YEARS
        until = ended or self.today
        checked = first
        while (renewed := m.years_after(checked, years) - timedelta(days=14)) <= until:
            checked = renewed
        if lapsed and ended is None:
            overdue = m.years_before(self.today - timedelta(days=21), years)
            if first <= overdue:
                checked = overdue
        return checked

    def _clients(self):
        rng = self.rng
        total_weight = sum(
            size * (self.today - launched).days for *_, launched, size, _cost in CASE_STUDY_AREAS
        )
        planned = []
        for _name, _slug, code, *_rest, launched, size, _cost in CASE_STUDY_AREAS:
            borough = self.areas[code]
            span = (self.today - launched).days
            n = round(BASE_CLIENTS * self.scale * size * span / total_weight)
            # Referral density grows over time (sqrt of a uniform), as the programme did.
            referred = sorted(
                launched + timedelta(days=int(span * rng.random() ** 0.5) - 1) for _ in range(n)
            )
            # Every area took its first referral within weeks of launching, and its
            # latest yesterday: a referral awaiting a decision on the coordinator's home.
            referred[0] = launched + timedelta(days=rng.randint(*weights.FIRST_REFERRAL_DAYS))
            referred[-1] = self.today - timedelta(days=1)
            referred.sort()
            for number, referred_on in enumerate(referred, start=1):
                planned.append(self._plan_client(borough, code, number, referred_on))
            borough.last_client_number = n
        m.Borough.objects.bulk_update(self.areas.values(), ["last_client_number"])
        self._set_closures(planned)
        m.Client.objects.bulk_create([p.client for p in planned], batch_size=2000)
        through = m.Client.needs.through
        through.objects.bulk_create(
            (
                through(client_id=p.client.pk, supportarea_id=area.pk)
                for p in planned
                for area in p.needs
            ),
            batch_size=5000,
        )
        self.counts["clients"] = len(planned)
        return planned

    def _plan_client(self, borough, code, number, referred_on):
        rng, today = self.rng, self.today
        female = rng.random() < weights.FEMALE_SHARE
        if rng.random() < weights.OUTSIDE_AGE_SHARE:
            age = rng.choice(weights.OUTSIDE_AGES)
        else:
            age = int(rng.triangular(*weights.AGE_TRIANGLE))
        born = referred_on - timedelta(days=age * 365 + rng.randrange(*weights.BIRTHDAY_DAYS))
        client = m.Client(
            reference=CLIENT_REFERENCE_FORMAT.format(code=code, number=number),
            first_name=rng.choice(FIRST_NAMES_FEMALE if female else FIRST_NAMES_MALE),
            last_name=rng.choice(LAST_NAMES),
            date_of_birth=born,
            gender=m.Client.Gender.FEMALE if female else m.Client.Gender.MALE,
            ethnicity=rng.choice(m.Client.Ethnicity.values),
            borough=borough,
            referral_source=weights.weighted_choice(rng, weights.REFERRAL_WEIGHTS),
            referred_on=referred_on,
            risk_level=weights.weighted_choice(rng, weights.RISK_WEIGHTS),
            consent_recorded_on=referred_on,
            phone=PHONE_FORMAT.format(rng.randrange(1000)),
        )
        client.gang_affiliated = rng.random() < (
            weights.GANG_SHARE_HIGH_RISK
            if client.risk_level == m.Client.RiskLevel.HIGH
            else weights.GANG_SHARE_OTHERS
        )
        needs = rng.sample(self.support_areas, rng.randint(*weights.NEEDS))
        started = referred_on + timedelta(days=rng.randint(*weights.START_DAYS))
        declined_before = today - timedelta(days=weights.DECISION_DAYS)
        if rng.random() < weights.DECLINED_SHARE and referred_on < declined_before:
            client.status = m.Client.Status.DECLINED
        elif started > today:
            client.status = m.Client.Status.REFERRED
        else:
            client.status = m.Client.Status.ACTIVE
            client.started_on = started
            if (
                client.referral_source == m.Client.ReferralSource.PRISON
                or rng.random() < weights.RELEASE_SHARE
            ):
                client.release_date = started + timedelta(days=rng.randint(*weights.RELEASE_DAYS))
            length = int(rng.triangular(*weights.CASE_TRIANGLE))
            ended = started + timedelta(days=length)
            if ended <= today:
                client.ended_on = ended
        return PlannedClient(client=client, needs=needs)

    def _set_closures(self, planned):
        """Give exactly weights.COMPLETION_SHARE of ended cases a COMPLETED closure."""
        rng = self.rng
        ended = [p for p in planned if p.client.ended_on]
        rng.shuffle(ended)
        completers = round(weights.COMPLETION_SHARE * len(ended))
        for i, p in enumerate(ended):
            p.client.status = m.Client.Status.CLOSED
            if i < completers:
                p.client.closure_reason = m.Client.ClosureReason.COMPLETED
            else:
                p.client.closure_reason = rng.choice(weights.NON_COMPLETION_REASONS)

    # Assignments and sessions ----------------------------------------------------------

    def _mentor_for(self, client, start, end, exclude=None):
        candidates = [
            x
            for x in self.mentors
            if client.borough_id in self.serves[x.pk]
            and x.started_on <= start
            and (x.ended_on is None or x.ended_on >= end)
            and x is not exclude
        ]
        if not candidates:  # the two founding mentors of each area are always there
            candidates = [
                x
                for x in self.mentors
                if x.home_borough_id == client.borough_id
                and x.ended_on is None
                and x is not exclude
            ]
        return self.rng.choice(candidates)

    def _assignments_and_sessions(self, planned):
        rng, today, now = self.rng, self.today, timezone.now()
        assignments, sessions, session_areas = [], [], []
        between_mentors = set()
        for p in planned:
            c = p.client
            if not c.started_on:
                continue
            end = c.ended_on or today
            first = self._mentor_for(c, c.started_on, end)
            days = (end - c.started_on).days
            if days > weights.SWITCH_AFTER_DAYS and rng.random() < weights.SWITCH_SHARE:
                switch = c.started_on + timedelta(days=rng.randint(40, days - 30))
                second = self._mentor_for(c, switch, end, exclude=first)
                p.mentor_plan = [
                    (first, c.started_on, switch, rng.choice(weights.SWITCH_REASONS)),
                    (second, switch, c.ended_on, "CASE_CLOSED" if c.ended_on else ""),
                ]
            else:
                p.mentor_plan = [
                    (first, c.started_on, c.ended_on, "CASE_CLOSED" if c.ended_on else "")
                ]
            # In each area one current client is between mentors: they asked for a change
            # four days ago and are waiting for a new match, so the coordinator's home
            # shows its queue of active clients without a mentor. (No draw from the random
            # generator, so that every later draw is the same for a seed.)
            if (
                not c.ended_on
                and c.borough_id not in between_mentors
                and len(p.mentor_plan) == 1
                and (today - c.started_on).days > 60
            ):
                between_mentors.add(c.borough_id)
                mentor, start, _stop, _reason = p.mentor_plan[0]
                p.mentor_plan = [(mentor, start, today - timedelta(days=4), "CLIENT_REQUEST")]
            for mentor, start, stop, reason in p.mentor_plan:
                assignments.append(
                    m.Assignment(
                        client=c, mentor=mentor, started_on=start, ended_on=stop, end_reason=reason
                    )
                )
            # A fifth of current clients have drifted: no contact for over two weeks.
            last = end
            if not c.ended_on and rng.random() < weights.DRIFT_SHARE:
                last = today - timedelta(days=rng.randint(*weights.DRIFT_DAYS))
            if p.mentor_plan[-1][2] and not c.ended_on:  # no sessions without a mentor
                last = min(last, p.mentor_plan[-1][2] - timedelta(days=1))
            day = c.started_on
            while day <= last:
                mentor = next(x for x, s, e, _ in reversed(p.mentor_plan) if s <= day)
                in_custody = c.release_date is not None and day < c.release_date
                area_pool = p.needs
                session = m.SupportSession(
                    client=c,
                    mentor=mentor,
                    date=day,
                    duration_minutes=rng.choice(weights.SESSION_MINUTES),
                    kind=weights.weighted_choice(rng, weights.SESSION_KIND_WEIGHTS),
                    mode=m.SupportSession.Mode.PRISON_VISIT
                    if in_custody
                    else weights.weighted_choice(rng, weights.MODE_WEIGHTS),
                    attendance=weights.weighted_choice(rng, weights.ATTENDANCE_WEIGHTS),
                    safeguarding_concern=rng.random() < weights.SAFEGUARDING_SHARE,
                )
                if session.safeguarding_concern and day <= today - timedelta(
                    days=weights.SAFEGUARDING_OPEN_DAYS
                ):
                    session.safeguarding_handled_at = opening_time(day + timedelta(days=1))
                    session.safeguarding_action = rng.choice(SAFEGUARDING_ACTIONS)
                covered = rng.sample(area_pool, min(len(area_pool), rng.randint(1, 2)))
                session.notes = SESSION_NOTES[covered[0].slug].format(name=c.first_name)
                session.created_at = session.updated_at = logged_at(
                    opening_time(day), len(sessions), now
                )
                sessions.append(session)
                session_areas.append(covered)
                day += timedelta(days=rng.randint(4, 11))
        self._open_concern_in_every_area(sessions)
        m.Assignment.objects.bulk_create(assignments, batch_size=2000)
        with own_timestamps(m.SupportSession):
            m.SupportSession.objects.bulk_create(sessions, batch_size=2000)
        through = m.SupportSession.support_areas.through
        through.objects.bulk_create(
            (
                through(supportsession_id=s.pk, supportarea_id=area.pk)
                for s, areas in zip(sessions, session_areas, strict=True)
                for area in areas
            ),
            batch_size=5000,
        )
        self.counts["assignments"] = len(assignments)
        self.counts["sessions"] = len(sessions)

    def _open_concern_in_every_area(self, sessions):
        """
        Every area's coordinator has a safeguarding concern to follow up on the home
        page: where none of the area's sessions of the last two weeks raised one, its
        latest attended session does. (No draw from the random generator.)
        """
        since = self.today - timedelta(days=weights.SAFEGUARDING_OPEN_DAYS)
        latest, raised = {}, set()
        for session in sessions:
            if session.date <= since:
                continue
            area = session.client.borough_id
            if session.safeguarding_concern:
                raised.add(area)
            elif session.attendance in m.SupportSession.ATTENDED_VALUES and (
                area not in latest or session.date >= latest[area].date
            ):
                latest[area] = session
        for area, session in latest.items():
            if area not in raised:
                session.safeguarding_concern = True

    # Offences --------------------------------------------------------------------------

    def _offences(self, planned):
        rng, today = self.rng, self.today
        offences = []
        cohort_line = today - timedelta(days=weights.COHORT_DAYS)
        by_borough = {}
        for p in planned:
            if p.client.started_on:
                by_borough.setdefault(p.client.borough_id, []).append(p)
        for group in by_borough.values():
            # Exactly weights.REOFFENDING_SHARE of each area's cohort reoffends, so the demo
            # lands in the case study's band for every area, not only on average.
            share = weights.REOFFENDING_SHARE
            cohort = [p for p in group if p.client.index_date <= cohort_line]
            rng.shuffle(cohort)
            for p in cohort[: round(share * len(cohort))]:
                p.reoffends = True
            for p in group:
                if p.client.index_date > cohort_line and rng.random() < share:
                    p.reoffends = True
        for p in planned:
            c = p.client
            offences.extend(self._history(c))
            index = c.index_date
            if index is None:
                continue
            if p.reoffends:
                for _ in range(2 if rng.random() < weights.SECOND_REOFFENCE_SHARE else 1):
                    offence_day = index + timedelta(days=rng.randint(*weights.REOFFENCE_DAYS))
                    outcome_day = offence_day + timedelta(days=rng.randint(*weights.OUTCOME_DAYS))
                    disposal = rng.choice(weights.PROVEN_DISPOSALS)
                    offences.append(self._offence(c, offence_day, outcome_day, disposal))
            elif rng.random() < weights.NOT_PROVEN_SHARE:
                # Arrested in the follow-up year, but no further action or acquitted.
                offence_day = index + timedelta(days=rng.randint(*weights.REOFFENCE_DAYS))
                outcome_day = offence_day + timedelta(days=rng.randint(*weights.NOT_PROVEN_DAYS))
                disposal = rng.choice(weights.NOT_PROVEN_DISPOSALS)
                offences.append(self._offence(c, offence_day, outcome_day, disposal))
            elif rng.random() < weights.LATER_OFFENCE_SHARE:
                # Convicted of an offence committed after the 12-month follow-up.
                offence_day = index + timedelta(days=rng.randint(*weights.LATER_OFFENCE_DAYS))
                outcome_day = offence_day + timedelta(days=rng.randint(*weights.OUTCOME_DAYS))
                disposal = rng.choice(weights.PROVEN_DISPOSALS)
                offences.append(self._offence(c, offence_day, outcome_day, disposal))
        offences = [o for o in offences if o.offence_date <= today]
        m.Offence.objects.bulk_create(offences, batch_size=2000)
        self.counts["offences"] = len(offences)

    def _offence(self, client, offence_day, outcome_day, disposal):
        if outcome_day > self.today:
            disposal, outcome_day = m.Offence.Disposal.PENDING, None
        return m.Offence(
            client=client,
            offence_date=offence_day,
            outcome_date=outcome_day,
            disposal=disposal,
            offence_type=self.rng.choice(m.Offence.OffenceType.values),
            source=self.rng.choice(m.Offence.Source.values),
        )

    def _history(self, client):
        """One to four proven offences before the referral: why they were referred."""
        rng = self.rng
        earliest = client.date_of_birth + timedelta(days=12 * 365)
        latest = client.referred_on - timedelta(days=10)
        history = []
        for _ in range(rng.randint(*weights.HISTORY_OFFENCES)):
            offence_day = earliest + timedelta(days=rng.randrange(max(1, (latest - earliest).days)))
            outcome_day = offence_day + timedelta(days=rng.randint(*weights.HISTORY_OUTCOME_DAYS))
            outcome_day = max(min(latest, outcome_day), offence_day)
            disposal = rng.choice(weights.PROVEN_DISPOSALS)
            history.append(self._offence(client, offence_day, outcome_day, disposal))
        return history

    # Milestones, goals, placements, grants ------------------------------------------

    def _milestones_goals_placements(self, planned):
        rng, today = self.rng, self.today
        employers = m.Employer.objects.bulk_create(
            m.Employer(name=name, sector=sector, borough=self.areas[code])
            for name, sector, code in EMPLOYERS
        )
        local_employer = {e.borough_id: e for e in employers}
        milestones, goals, placements = [], [], []
        for p in planned:
            c = p.client
            if not c.started_on:
                continue
            end = c.ended_on or today
            span = max(1, (end - c.started_on).days)
            completed = c.closure_reason == m.Client.ClosureReason.COMPLETED
            how_many = rng.randint(
                *(weights.MILESTONES_IF_COMPLETED if completed else weights.MILESTONES_OTHERWISE)
            )
            for kind in weights.as_recorded(rng.sample(weights.MILESTONE_KINDS, how_many)):
                achieved = c.started_on + timedelta(days=rng.randrange(span))
                seen = rng.random() < weights.SEEN_BY_MENTOR_SHARE
                if kind is None:
                    rng.random()  # the draw of "verified", as for a milestone recorded
                    continue
                milestones.append(
                    m.Milestone(
                        client=c,
                        kind=kind,
                        achieved_on=achieved,
                        evidence=SEEN_BY_MENTOR if seen else CONFIRMED_BY_LETTER,
                        verified=rng.random() < weights.VERIFIED_SHARE,
                    )
                )
                if (
                    kind == m.Milestone.Kind.ENTERED_EMPLOYMENT
                    and rng.random() < weights.PLACEMENT_SHARE
                ):
                    placement_kind = rng.choice(weights.PLACEMENT_KINDS)
                    # Work experience and training run their course; jobs and
                    # apprenticeships go on (no draw from the random generator).
                    weeks = weights.PLACEMENT_WEEKS.get(placement_kind)
                    ends = achieved + timedelta(weeks=weeks) if weeks else None
                    # The employer of the client's own area (each area has one), as the
                    # placement form offers. The draw of any area's employer is kept, so
                    # that every later draw is the same for a seed.
                    drawn = rng.choice(employers)
                    placements.append(
                        m.Placement(
                            client=c,
                            employer=local_employer.get(c.borough_id, drawn),
                            kind=placement_kind,
                            started_on=achieved,
                            ended_on=ends if ends and ends <= today else None,
                        )
                    )
            for area in p.needs[: weights.GOALS_AT_MOST]:
                if not c.ended_on:
                    status = m.Goal.Status.OPEN
                elif completed:
                    status = rng.choice(weights.GOALS_IF_COMPLETED)
                else:
                    status = rng.choice(weights.GOALS_OTHERWISE)
                goals.append(
                    m.Goal(
                        client=c,
                        support_area=area,
                        description=GOAL_DESCRIPTION.format(area=area.name.lower()),
                        set_on=c.started_on,
                        target_date=c.started_on + timedelta(days=rng.choice(weights.GOAL_DAYS)),
                        status=status,
                    )
                )
        m.Milestone.objects.bulk_create(milestones, batch_size=2000)
        m.Goal.objects.bulk_create(goals, batch_size=2000)
        m.Placement.objects.bulk_create(placements, batch_size=2000)
        self.counts.update(
            milestones=len(milestones),
            goals=len(goals),
            placements=len(placements),
            employers=len(employers),
        )

    def _followups(self, planned):
        """Check-ins after the completed cases (``weights.check_ins``)."""
        followups = [
            m.FollowUp(client=p.client, **check_in)
            for p in planned
            if p.client.closure_reason == m.Client.ClosureReason.COMPLETED
            for check_in in weights.check_ins(p.client.ended_on, self.today, self.followup_rng)
        ]
        m.FollowUp.objects.bulk_create(followups, batch_size=2000)
        self.counts["followups"] = len(followups)

    def _referred_twice(self):
        """
        One young person on two records: Southwark's latest active client referred again,
        yesterday, by the police in Ealing, whose coordinator cannot see Southwark's
        records. The admin's client list finds the pair ("same person on another
        record?") and brings them together.
        """
        known = (
            m.Client.objects.filter(borough=self.areas["SWK"], status=m.Client.Status.ACTIVE)
            .order_by("-referred_on", "reference")
            .first()
        )
        if known is None:
            return
        ealing = self.areas["EAL"]
        ealing.last_client_number += 1
        ealing.save(update_fields=["last_client_number"])
        referred_on = self.today - timedelta(days=1)
        m.Client.objects.bulk_create(
            [
                m.Client(
                    reference=CLIENT_REFERENCE_FORMAT.format(
                        code="EAL", number=ealing.last_client_number
                    ),
                    first_name=known.first_name,
                    last_name=known.last_name,
                    date_of_birth=known.date_of_birth,
                    gender=known.gender,
                    borough=ealing,
                    referral_source=m.Client.ReferralSource.POLICE,
                    referred_on=referred_on,
                    consent_recorded_on=referred_on,
                )
            ]
        )
        self.counts["clients"] += 1

    # The peer pathway ------------------------------------------------------------------

    def _peer_pathway(self, planned):
        """
        In every area a mentor who was once a client there, made as a coordinator makes
        one (``mentor_from_client``), with the steps that led there and the milestone;
        and clients part-way along the pathway: two who completed and trained, and one
        still supported who volunteers. Chosen and dated by rule, with no draw from the
        random generator, so that the rest of the demo stays as it was.
        """
        today = self.today
        marked = set(
            m.Milestone.objects.filter(kind=m.Milestone.Kind.BECAME_PEER_MENTOR).values_list(
                "client_id", flat=True
            )
        )
        mentors, steps, milestones = [], [], []
        for code, borough in self.areas.items():
            mine = [p for p in planned if p.client.borough_id == borough.pk]
            # Completed long enough ago for the whole pathway, with no reoffence, and no
            # "became a peer mentor" milestone of their own already.
            settled = sorted(
                (
                    p.client
                    for p in mine
                    if p.client.closure_reason == m.Client.ClosureReason.COMPLETED
                    and not p.reoffends
                    and p.client.pk not in marked
                    and p.client.ended_on <= today - timedelta(days=weights.PATHWAY_SETTLED_DAYS)
                ),
                key=lambda c: (c.ended_on, c.reference),
            )
            if not settled:  # a very small --scale
                continue
            former, *others = settled
            became = former.ended_on + timedelta(
                days=weights.PATHWAY_DAYS[m.PathwayStep.Step.PEER_MENTOR]
            )
            for step, days in weights.PATHWAY_DAYS.items():
                reached = former.ended_on + timedelta(days=days)
                if reached <= today:
                    steps.append(m.PathwayStep(client=former, step=step, reached_on=reached))
            borough.last_mentor_number += 1
            mentor = mentor_from_client(former, became)
            mentor.reference = MENTOR_REFERENCE_FORMAT.format(
                code=code, number=borough.last_mentor_number
            )
            mentor.qualification = "IAG Level 3"
            mentor.vetting_checked_on = self._vetting(
                became - timedelta(days=weights.PATHWAY_VETTED_BEFORE_DAYS), None, lapsed=False
            )
            mentors.append(mentor)
            milestones.append(
                m.Milestone(
                    client=former,
                    kind=m.Milestone.Kind.BECAME_PEER_MENTOR,
                    achieved_on=became,
                    evidence=f"Mentor record {mentor.reference}",
                    verified=True,
                )
            )
            for client, reached in zip(others, weights.PATHWAY_PART_WAY, strict=False):
                for step, days in reached:
                    steps.append(
                        m.PathwayStep(
                            client=client,
                            step=step,
                            reached_on=client.ended_on + timedelta(days=days),
                        )
                    )
            supported = sorted(
                (p.client for p in mine if p.client.status == m.Client.Status.ACTIVE),
                key=lambda c: (c.started_on, c.reference),
            )
            if supported:
                client = supported[0]  # the longest supported
                after = min(
                    weights.PATHWAY_VOLUNTEERS_AFTER_DAYS, (today - client.started_on).days // 2
                )
                steps.append(
                    m.PathwayStep(
                        client=client,
                        step=m.PathwayStep.Step.VOLUNTEERING,
                        reached_on=client.started_on + timedelta(days=after),
                    )
                )
        m.Mentor.objects.bulk_create(mentors)
        m.Borough.objects.bulk_update(self.areas.values(), ["last_mentor_number"])
        m.PathwayStep.objects.bulk_create(steps)
        m.Milestone.objects.bulk_create(milestones)
        self.counts["mentors"] += len(mentors)
        self.counts["milestones"] += len(milestones)
        self.counts["pathway steps"] = len(steps)

    def _justice_data_lab(self):
        """
        The Lab's answer to a submission of the clients who started five calendar years
        ago: the people supported reoffend as the demo's own figures say, the comparison
        group near the juvenile baseline. Drawn from nothing random, so the rest of the
        demo is unchanged.
        """
        year = self.today.year - 5
        start, end = date(year, 1, 1), date(year, 12, 31)
        figures = metrics.outcomes(
            m.Client.objects.filter(started_on__range=(start, end)), self.today
        )
        m.JusticeDataLabResult.objects.create(
            period_start=start,
            period_end=end,
            people_matched=figures["cohort"],
            treatment_rate=Decimal(f"{figures['reoffending_rate'] or 0:.4f}"),
            comparison_rate=Decimal("0.3160"),
            p_value=Decimal("0.00800"),
            published_on=end + timedelta(days=800),
        )

    def _grants(self, planned):
        rng = self.rng
        residents = m.Funder.objects.create(
            name=FUNDER_NAMES[m.Funder.Kind.RESIDENTS_GROUP],
            kind=m.Funder.Kind.RESIDENTS_GROUP,
            notes="Local residents who paid for the first replication, as in the case study.",
        )
        others = {
            kind: m.Funder.objects.create(name=FUNDER_NAMES[kind], kind=kind)
            for kind in (m.Funder.Kind.POLICE, m.Funder.Kind.TRUST, m.Funder.Kind.CORPORATE)
        }
        councils = {
            code: m.Funder.objects.create(
                name=f"{name} Council", kind=m.Funder.Kind.LOCAL_AUTHORITY
            )
            for name, _slug, code, *_ in CASE_STUDY_AREAS
        }
        starts = {}
        for p in planned:
            if p.client.started_on:
                key = (p.client.borough_id, p.client.started_on.year)
                starts[key] = starts.get(key, 0) + 1
        grants = []
        for code, borough in self.areas.items():
            for year in range(borough.launched_on.year, self.today.year + 1):
                clients = starts.get((borough.pk, year), 0)
                if not clients:
                    continue
                need = clients * borough.cost_per_client
                funders = {**others, m.Funder.Kind.LOCAL_AUTHORITY: councils[code]}
                funder = rng.choice([funders[kind] for kind in weights.GRANT_FUNDERS_DEMO])
                if code == "KNC" and year == borough.launched_on.year:
                    funder = residents
                cover = Decimal(rng.choice(weights.GRANT_COVER))
                grants.append(
                    m.Grant(
                        funder=funder,
                        borough=borough,
                        amount=(need * cover).quantize(Decimal("1")),
                        starts_on=date(year, 1, 1),
                        ends_on=date(year, 12, 31),
                        reference=f"{code}-{year}",
                    )
                )
        m.Grant.objects.bulk_create(grants)
        self.counts["grants"] = len(grants)


# The records the demo writes in bulk, and the day each was made on when it has no
# ``created_at`` of its own.
CREATED_ON = {
    m.Client: None,
    m.Assignment: "started_on",
    m.SupportSession: None,
    m.Offence: "offence_date",
    m.Milestone: "achieved_on",
    m.Goal: "set_on",
    m.Placement: "started_on",
    m.FollowUp: "done_on",
    m.PathwayStep: "reached_on",
}


def record_creation():
    """
    Give every record written in bulk the creation entry a form would have left in its
    change history (``bulk_create`` writes none), at the time it was made, so that the
    demo's history pages show where each case began. Records saved one by one have theirs.
    """
    for model, day_field in CREATED_ON.items():
        recorded = model.history.values("id")
        records = list(model.objects.exclude(pk__in=recorded).order_by("pk"))
        for record in records:
            record._history_date = (
                record.created_at if day_field is None else opening_time(getattr(record, day_field))
            )
        model.history.bulk_history_create(
            records, batch_size=2000, default_change_reason="Demo data"
        )
