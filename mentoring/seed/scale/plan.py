"""
The scale data set decided in memory, before anything is written: its areas with their
launch dates, mentors, clients with their cases (dates, status, mentors), how many sessions
each case has and who reoffends. Drawn from the builder's random generator in a fixed
order, so that the same seed, sizes and today give the same plan.
"""

from bisect import bisect
from datetime import timedelta
from decimal import Decimal
from heapq import heappop, heappush

from mentoring import models as m
from mentoring.services import CLIENT_REFERENCE_FORMAT, MENTOR_REFERENCE_FORMAT

from .. import weights
from ..areas import AREAS, LATER_LAUNCHES
from ..names import (
    FIRST_NAMES_FEMALE,
    FIRST_NAMES_MALE,
    LAST_NAMES,
    MENTOR_FIRST_NAMES,
    PHONE_FORMAT,
)
from .sizes import MIN_MENTORS_PER_BOROUGH

CASELOAD_USE = 6.5  # current clients of an average mentor, against the demo's limits of 6-10
INTENSIVE_SHARE = 0.04  # long, intensive cases: a year to three of frequent contact
INTENSIVE_WEIGHT = 3
VISITING_SHARE = 0.1  # mentors who also serve a neighbouring area


class _Area:
    __slots__ = (
        *("clients", "code", "cost", "id", "index", "launched"),
        *("mentors", "name", "region", "serving", "size", "slug"),
    )

    def __init__(self, index, name, slug, code, region, launched, size, cost):
        self.index, self.name, self.slug, self.code = index, name, slug, code
        self.region, self.launched, self.size, self.cost = region, launched, size, cost
        self.id = None
        self.clients = 0
        self.mentors = 0
        self.serving = []  # mentors whose home area this is, or who also serve it


class _Mentor:
    __slots__ = ("area", "ended", "id", "load", "open", "row", "started")

    def __init__(self, area, started, ended):
        self.area, self.started, self.ended = area, started, ended
        self.id = None
        self.row = None
        self.load = []  # heap of the end days of the assignments given to this mentor
        self.open = 0  # open assignments on today


class _Client:
    __slots__ = (
        *("area", "born", "closure", "ended", "first_name", "id", "intensive", "last"),
        *("last_name", "needs", "plan", "referred", "release", "reoffends", "row"),
        *("sessions", "source", "started", "status"),
    )

    def __init__(self):
        self.id = None
        self.started = self.release = self.ended = None
        self.closure = ""
        self.plan = ()  # ((mentor, from day, to day or None, end reason), ...)
        self.reoffends = False
        self.sessions = 0
        self.intensive = False

    @property
    def index_date(self):
        return self.release or self.started


def _largest_remainder(total, shares):
    """Integers proportional to ``shares`` that add up to exactly ``total``."""
    share_sum = sum(shares)
    if not share_sum:
        return [0] * len(shares)
    quotas = [total * w / share_sum for w in shares]
    counts = [int(q) for q in quotas]
    short = total - sum(counts)
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - quotas[i])
    for i in by_remainder[:short]:
        counts[i] += 1
    return counts


class Plan:
    """
    The areas, mentors and clients of the data set, planned when it is made. ``rng`` draws
    everything; ``reserve_ids(model, count)`` gives the first of ``count`` primary keys, so
    that the plan's rows can refer to each other before they are written.
    """

    def __init__(self, sizes, *, rng, today, support_areas, reserve_ids):
        self.sizes, self.rng, self.today = sizes, rng, today
        self.support_areas = support_areas
        self.reserve_ids = reserve_ids
        self.areas = self._areas()
        self.mentors = self._mentors()
        self.clients = self._clients()
        self._assignments()
        self._sessions()
        self._reoffending()

    def _areas(self):
        rng, today = self.rng, self.today
        chosen = AREAS[: self.sizes.boroughs]
        later = [a for a in chosen if a[4] is None]
        first, last = LATER_LAUNCHES
        last = min(last, today - timedelta(days=weights.COHORT_DAYS))
        span = max(1, (last - first).days)
        days = sorted(rng.randrange(span) for _ in later)
        order = list(range(len(later)))
        rng.shuffle(order)
        launches = {}
        for position, day in zip(order, days, strict=True):
            launched = first + timedelta(days=day)
            launches[later[position][2]] = launched - timedelta(days=launched.weekday())
        areas = []
        for index, (name, slug, code, region, launched, size, cost) in enumerate(chosen):
            launched = launched or launches[code]
            areas.append(_Area(index, name, slug, code, region, launched, size, Decimal(cost)))
        return areas

    def _client_counts(self):
        referral_weights = [a.size * (self.today - a.launched).days for a in self.areas]
        return _largest_remainder(self.sizes.clients, referral_weights)

    def _mentors(self):
        rng, today = self.rng, self.today
        vetted = weights.FIRST_VETTING_DAYS
        client_counts = self._client_counts()
        spare = self.sizes.mentors - MIN_MENTORS_PER_BOROUGH * len(self.areas)
        extra = _largest_remainder(spare, client_counts)
        mentors = []
        for area, more in zip(self.areas, extra, strict=True):
            area.clients = 0
            span = (today - area.launched).days
            for i in range(MIN_MENTORS_PER_BOROUGH + more):
                # The first two in each area start at launch and are still mentoring, so
                # every area has cover from its first day.
                if i < MIN_MENTORS_PER_BOROUGH:
                    started, ended = area.launched, None
                else:
                    started = area.launched + timedelta(days=rng.randrange(max(1, span - 30)))
                    ended = None
                    if rng.random() < weights.MENTOR_LEAVER_SHARE:
                        service = rng.randint(*weights.MENTOR_SERVICE_DAYS)
                        ended = started + timedelta(days=service)
                        if ended >= today:
                            ended = None
                mentor = _Mentor(area, started, ended)
                area.mentors += 1
                mentor.row = [
                    rng.choice(MENTOR_FIRST_NAMES),
                    rng.choice(LAST_NAMES),
                    "",
                    MENTOR_REFERENCE_FORMAT.format(code=area.code, number=area.mentors),
                    rng.random() < weights.LIVED_EXPERIENCE_SHARE,
                    rng.random() < weights.LISTENER_TRAINED_SHARE,
                    rng.choice(weights.QUALIFICATIONS),
                    min(today, started + timedelta(days=rng.randrange(*vetted))),
                    started,
                    ended,
                    rng.choice(weights.CASELOAD_LIMITS),
                ]
                mentors.append(mentor)
                area.serving.append(mentor)
        # Some mentors also serve a neighbouring area of the same region.
        self.visits = []
        by_region = {}
        for area in self.areas:
            by_region.setdefault(area.region, []).append(area)
        for mentor in mentors:
            neighbours = [a for a in by_region[mentor.area.region] if a is not mentor.area]
            if neighbours and rng.random() < VISITING_SHARE:
                other = rng.choice(neighbours)
                other.serving.append(mentor)
                self.visits.append((mentor, other))
        first_id = self.reserve_ids(m.Mentor, len(mentors))
        for offset, mentor in enumerate(mentors):
            mentor.id = first_id + offset
        return mentors

    def _clients(self):
        rng, today = self.rng, self.today
        rnd = rng.random
        areas = [a.id for a in self.support_areas]
        sources, source_cum, source_total = weights.cumulative(weights.REFERRAL_WEIGHTS)
        risks, risk_cum, risk_total = weights.cumulative(weights.RISK_WEIGHTS)
        ethnicities = m.Client.Ethnicity.values
        declined_before = today - timedelta(days=weights.DECISION_DAYS)
        clients = []
        for area, n in zip(self.areas, self._client_counts(), strict=True):
            if not n:
                continue
            span = (today - area.launched).days
            # Referral density grows over time (sqrt of a uniform), as the programme did.
            referred = sorted(
                area.launched + timedelta(days=max(0, min(span - 1, int(span * rnd() ** 0.5))))
                for _ in range(n)
            )
            # Every area took its first referral within weeks of launching.
            first_referral = timedelta(days=rng.randint(*weights.FIRST_REFERRAL_DAYS))
            referred[0] = min(today, area.launched + first_referral)
            referred.sort()
            for number, referred_on in enumerate(referred, start=1):
                c = _Client()
                c.area = area
                c.referred = referred_on
                female = rnd() < weights.FEMALE_SHARE
                if rnd() < weights.OUTSIDE_AGE_SHARE:
                    age = rng.choice(weights.OUTSIDE_AGES)
                else:
                    age = int(rng.triangular(*weights.AGE_TRIANGLE))
                birthday = rng.randrange(*weights.BIRTHDAY_DAYS)
                c.born = referred_on - timedelta(days=age * 365 + birthday)
                c.first_name = rng.choice(FIRST_NAMES_FEMALE if female else FIRST_NAMES_MALE)
                c.last_name = rng.choice(LAST_NAMES)
                c.source = sources[bisect(source_cum, rnd() * source_total)]
                risk = risks[bisect(risk_cum, rnd() * risk_total)]
                high_risk = risk == m.Client.RiskLevel.HIGH
                gang_share = (
                    weights.GANG_SHARE_HIGH_RISK if high_risk else weights.GANG_SHARE_OTHERS
                )
                c.needs = tuple(rng.sample(areas, min(len(areas), rng.randint(*weights.NEEDS))))
                started = referred_on + timedelta(days=rng.randint(*weights.START_DAYS))
                if rnd() < weights.DECLINED_SHARE and referred_on < declined_before:
                    c.status = m.Client.Status.DECLINED
                elif started > today:
                    c.status = m.Client.Status.REFERRED
                else:
                    c.status = m.Client.Status.ACTIVE
                    c.started = started
                    if c.source == m.Client.ReferralSource.PRISON or rnd() < weights.RELEASE_SHARE:
                        c.release = started + timedelta(days=rng.randint(*weights.RELEASE_DAYS))
                    if rnd() < INTENSIVE_SHARE:
                        c.intensive = True
                        length = rng.randint(365, 1100)
                    else:
                        length = int(rng.triangular(*weights.CASE_TRIANGLE))
                    ended = started + timedelta(days=length)
                    if ended <= today:
                        c.ended = ended
                c.row = [
                    c.first_name,
                    c.last_name,
                    "",
                    CLIENT_REFERENCE_FORMAT.format(code=area.code, number=number),
                    c.born,
                    m.Client.Gender.FEMALE if female else m.Client.Gender.MALE,
                    rng.choice(ethnicities),
                    c.source,
                    referred_on,
                    risk,
                    rnd() < gang_share,
                    referred_on,
                    PHONE_FORMAT.format(rng.randrange(1000)),
                ]
                clients.append(c)
            area.clients = n
        # Exactly weights.COMPLETION_SHARE of ended cases close as completed.
        ended = [c for c in clients if c.ended]
        rng.shuffle(ended)
        completers = round(weights.COMPLETION_SHARE * len(ended))
        for i, c in enumerate(ended):
            c.status = m.Client.Status.CLOSED
            if i < completers:
                c.closure = m.Client.ClosureReason.COMPLETED
            else:
                c.closure = rng.choice(weights.NON_COMPLETION_REASONS)
        first_id = self.reserve_ids(m.Client, len(clients))
        for offset, c in enumerate(clients):
            c.id = first_id + offset
        return clients

    def _mentor_for(self, c, start, end, exclude=None):
        """
        A mentor serving the client's area for all of [start, end]: the less loaded of two
        picked at random, so caseloads stay even-ish without being uniform.
        """
        rng = self.rng
        candidates = [
            x
            for x in c.area.serving
            if x.started <= start and (x.ended is None or x.ended >= end) and x is not exclude
        ]
        if not candidates:  # the two founding mentors of each area are always there
            candidates = [
                x
                for x in c.area.serving
                if x.area is c.area and x.ended is None and x is not exclude
            ]
        day = start.toordinal()
        picks = [rng.choice(candidates), rng.choice(candidates)]
        for x in picks:
            while x.load and x.load[0] < day:
                heappop(x.load)
        return min(picks, key=lambda x: len(x.load))

    def _assignments(self):
        rng, today = self.rng, self.today
        count = 0
        for c in self.clients:
            if not c.started:
                continue
            end = c.ended or today
            first = self._mentor_for(c, c.started, end)
            days = (end - c.started).days
            if days > weights.SWITCH_AFTER_DAYS and rng.random() < weights.SWITCH_SHARE:
                switch = c.started + timedelta(days=rng.randint(40, days - 30))
                second = self._mentor_for(c, switch, end, exclude=first)
                reason = rng.choice(weights.SWITCH_REASONS)
                c.plan = ((first, c.started, switch, reason), (second, switch, c.ended, ""))
                heappush(first.load, switch.toordinal())
            else:
                c.plan = ((first, c.started, c.ended, ""),)
            last_mentor = c.plan[-1][0]
            heappush(last_mentor.load, (c.ended or today + timedelta(days=1)).toordinal())
            if not c.ended:
                last_mentor.open += 1
            count += len(c.plan)
            # A fifth of current clients have drifted: no contact for over two weeks.
            c.last = end
            if not c.ended and rng.random() < weights.DRIFT_SHARE:
                c.last = today - timedelta(days=rng.randint(*weights.DRIFT_DAYS))
        self.assignment_count = count
        # The demo's caseload limits (6 to 10) suit its load; with more clients per mentor
        # they grow in proportion (up to the 30 allowed), so that most mentors are within
        # their limit today and some are over, rather than nearly all.
        current = [x.open for x in self.mentors if x.ended is None]
        factor = max(1.0, sum(current) / len(current) / CASELOAD_USE)
        for x in self.mentors:
            x.row[-1] = min(30, round(x.row[-1] * factor))

    def _sessions(self):
        """Share the sessions out in proportion to each case's length (intensive ones x3)."""
        started = [c for c in self.clients if c.started]
        lengths = [
            max(0, (c.last - c.started).days + 1) * (INTENSIVE_WEIGHT if c.intensive else 1)
            for c in started
        ]
        if self.sizes.sessions and not any(lengths):
            raise ValueError(
                "No client has started support yet, so there is nobody to give sessions to: "
                "use more clients or --sessions 0."
            )
        for c, n in zip(started, _largest_remainder(self.sizes.sessions, lengths), strict=True):
            c.sessions = n

    def _reoffending(self):
        """Exactly weights.REOFFENDING_SHARE of each area's cohort reoffends, as in the demo."""
        rng, share = self.rng, weights.REOFFENDING_SHARE
        cohort_line = self.today - timedelta(days=weights.COHORT_DAYS)
        by_area = {}
        for c in self.clients:
            if c.started:
                by_area.setdefault(c.area.index, []).append(c)
        for group in by_area.values():
            cohort = [c for c in group if c.index_date <= cohort_line]
            rng.shuffle(cohort)
            for c in cohort[: round(share * len(cohort))]:
                c.reoffends = True
            for c in group:
                if c.index_date > cohort_line and rng.random() < share:
                    c.reoffends = True
