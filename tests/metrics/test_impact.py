"""
The funders' impact report's figures (``metrics.impact``) on hand-built data with known
answers, and the rules for figures that leave the programme (``published``,
``breakdown``): 1 to 9 people never printed, a lone hidden group covered by the
next-smallest, a total under 10 hidden. DESIGN.md, "Outcome metrics" and "Spreading the
model".
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from mentoring import metrics
from mentoring.metrics.impact import AGE_BANDS, age_band, breakdown, hidden, published
from mentoring.models import (
    Borough,
    Client,
    Milestone,
    Placement,
    SessionDay,
    SupportArea,
    SupportSession,
    age_on,
)

from ..factories import (
    BoroughFactory,
    ClientFactory,
    GrantFactory,
    MentorFactory,
    MilestoneFactory,
    OffenceFactory,
    PlacementFactory,
    SupportSessionFactory,
)

START, END = date(2023, 4, 1), date(2024, 3, 31)  # a financial year
AS_OF = date(2026, 6, 1)  # every start of the period has had its 548 days: all in the cohort
MID = date(2023, 10, 2)  # a day inside the period

# Written out here rather than read from AGE_BANDS, so that a renamed band fails the tests.
BAND_NAMES = ["under 16", "16-17", "18-20", "21-25", "over 25"]

HIDDEN = {"people": None, "suppressed": True, "note": "fewer than 10"}
# Hidden only so that a smaller group cannot be worked out.
NOT_SHOWN = {"people": None, "suppressed": True, "note": "not shown"}


def shown(n):
    return {"people": n, "suppressed": False, "note": None}


def day(n):
    return START + timedelta(days=n)


def impact(scope=None, start=START, end=END, as_of=AS_OF):
    return metrics.impact(scope, start, end, as_of)


def started(borough, on, n=1, **fields):
    """``n`` active clients of ``borough`` whose support started ``on`` (referred that day)."""
    fields.setdefault("referred_on", on)
    fields.setdefault("status", Client.Status.ACTIVE)
    return [ClientFactory(borough=borough, started_on=on, **fields) for _ in range(n)]


def closed(borough, on, ended_on, reason=Client.ClosureReason.COMPLETED, n=1):
    return started(
        borough, on, n, status=Client.Status.CLOSED, ended_on=ended_on, closure_reason=reason
    )


def referred(borough, on, n=1, **fields):
    return [ClientFactory(borough=borough, referred_on=on, **fields) for _ in range(n)]


def by_group(result):
    """A breakdown's people by group: of ``breakdown`` (a dict) or a report's list."""
    rows = result["groups"] if isinstance(result, dict) else result
    return {row["group"]: row["people"] for row in rows}


def by_kind(rows):
    return {row["kind"]: (row["people"], row["suppressed"], row["records"]) for row in rows}


# The publishing rules ----------------------------------------------------------------------


def groups(*counts):
    return [(f"G{i}", f"Group {i}", n) for i, n in enumerate(counts)]


def people_of(result):
    return [row["people"] for row in result["groups"]]


class TestPublished:
    @pytest.mark.parametrize("n", range(1, 10))
    def test_one_to_nine_people_are_never_printed(self, n):
        assert hidden(n)
        assert published(n) == HIDDEN
        result = breakdown(groups(40, n, 25))
        assert result["groups"][1] == {
            "group": "G1",
            "label": "Group 1",
            "people": None,
            "suppressed": True,
            "note": "fewer than 10",
        }

    @pytest.mark.parametrize("n", [0, 10, 11, 520])
    def test_zero_and_ten_or_more_are_shown(self, n):
        assert not hidden(n)
        assert published(n) == shown(n)
        result = breakdown(groups(40, n, 25))
        assert people_of(result) == [40, n, 25]
        assert not any(row["suppressed"] for row in result["groups"])
        assert result["total"] == shown(65 + n)

    def test_groups_keep_their_code_label_and_order(self):
        result = breakdown([("POLICE", "Police", 12), ("SELF", "Self-referral", 30)])
        assert result["groups"] == [
            {"group": "POLICE", "label": "Police", "people": 12, "suppressed": False, "note": None},
            {
                "group": "SELF",
                "label": "Self-referral",
                "people": 30,
                "suppressed": False,
                "note": None,
            },
        ]


class TestBreakdown:
    def test_one_small_group_hides_the_next_smallest_non_zero_group(self):
        result = breakdown(groups(30, 3, 0, 12, 25))
        assert people_of(result) == [30, None, 0, None, 25]
        assert [row["suppressed"] for row in result["groups"]] == [
            False,
            True,
            False,
            True,
            False,
        ]
        assert result["total"] == shown(70)

    def test_between_equal_next_smallest_the_first_listed_is_hidden(self):
        result = breakdown(groups(40, 15, 3, 15))
        assert people_of(result) == [40, None, None, 15]

    def test_a_zero_group_is_never_the_second_one_hidden(self):
        result = breakdown(groups(0, 4, 0, 10, 0))
        assert people_of(result) == [0, None, 0, None, 0]
        assert result["total"] == shown(14)

    def test_a_lone_small_group_with_only_zeros_beside_it_has_its_total_hidden(self):
        result = breakdown(groups(0, 4, 0))
        assert people_of(result) == [0, None, 0]
        assert result["total"] == HIDDEN

    def test_two_small_groups_hide_no_third(self):
        result = breakdown(groups(2, 5, 11, 40))
        assert people_of(result) == [None, None, 11, 40]
        assert result["total"] == shown(58)

    def test_two_small_groups_can_make_a_total_of_ten_that_is_shown(self):
        result = breakdown(groups(4, 6))
        assert people_of(result) == [None, None]
        assert result["total"] == shown(10)

    @pytest.mark.parametrize("counts", [(3, 4), (9,), (0, 0, 9), (1, 1, 1)])
    def test_a_total_under_ten_is_hidden(self, counts):
        assert breakdown(groups(*counts))["total"] == HIDDEN

    @pytest.mark.parametrize("counts", [(), (0,), (0, 0, 0)])
    def test_a_total_of_zero_is_shown_as_zero(self, counts):
        result = breakdown(groups(*counts))
        assert result["total"] == shown(0)
        assert all(row["people"] == 0 for row in result["groups"])

    @given(st.lists(st.integers(0, 60), max_size=12))
    def test_no_hidden_group_can_be_worked_out_from_a_shown_total(self, counts):
        result = breakdown(groups(*counts))
        rows = result["groups"]
        hidden_rows = [row for row in rows if row["suppressed"]]
        # Every group of 1 to 9 is hidden; every hidden group has its people withheld.
        assert {row["group"] for row in rows if 0 < counts[int(row["group"][1:])] < 10} <= {
            row["group"] for row in hidden_rows
        }
        assert all(row["people"] is None for row in hidden_rows)
        assert all(
            row["people"] == counts[i] for i, row in enumerate(rows) if row not in hidden_rows
        )
        total = sum(counts)
        if 0 < total < 10:
            assert result["total"] == HIDDEN
        else:
            assert result["total"] == shown(total)
            # Total minus the shown groups is the sum of the hidden ones: one hidden group
            # alone would be given away by it.
            assert len(hidden_rows) != 1


class TestAgeBand:
    def test_the_bands_are_the_designs_five(self):
        assert [name for name, _low, _high in AGE_BANDS] == BAND_NAMES

    @pytest.mark.parametrize(
        ("age", "band"),
        [
            (10, "under 16"),
            (15, "under 16"),
            (16, "16-17"),
            (17, "16-17"),
            (18, "18-20"),
            (20, "18-20"),
            (21, "21-25"),
            (25, "21-25"),
            (26, "over 25"),
            (60, "over 25"),
        ],
    )
    def test_the_edges_of_each_band(self, age, band):
        assert age_band(age) == band


# Age at referral, counted in SQL ------------------------------------------------------------


class TestAgeAtReferral:
    """Ten people of each case, so that the band's count is printed."""

    REFERRED = date(2023, 6, 15)

    def age_bands(self, borough, born, referred_on, n=10):
        # Started in the period; referred in it, or before it for the earlier referrals.
        started(borough, max(referred_on, START), n, referred_on=referred_on, date_of_birth=born)
        return by_group(impact()["breakdowns"]["age_band"])

    @pytest.mark.parametrize(
        ("age", "band"),
        [
            (15, "under 16"),
            (16, "16-17"),
            (17, "16-17"),
            (18, "18-20"),
            (20, "18-20"),
            (21, "21-25"),
            (25, "21-25"),
            (26, "over 25"),
        ],
    )
    def test_the_edges_of_each_band_on_the_birthday(self, borough_a, age, band):
        born = self.REFERRED.replace(year=self.REFERRED.year - age)
        bands = self.age_bands(borough_a, born, self.REFERRED)
        assert bands == {name: 10 if name == band else 0 for name in BAND_NAMES}

    @pytest.mark.parametrize(
        ("birthday_offset", "band"),
        [(-1, "18-20"), (0, "18-20"), (1, "16-17")],
        ids=["eighteen-the-day-before", "eighteen-that-day", "eighteen-the-day-after"],
    )
    def test_a_birthday_counts_from_its_day(self, borough_a, birthday_offset, band):
        eighteenth = self.REFERRED + timedelta(days=birthday_offset)
        born = eighteenth.replace(year=eighteenth.year - 18)
        assert self.age_bands(borough_a, born, self.REFERRED)[band] == 10

    @pytest.mark.parametrize(
        ("born", "referred_on", "band"),
        [
            # Not a leap year: 28 February is still 17, 1 March is 18.
            (date(2004, 2, 29), date(2022, 2, 28), "16-17"),
            (date(2004, 2, 29), date(2022, 3, 1), "18-20"),
            # A leap year: 29 February is the birthday itself.
            (date(2008, 2, 29), date(2024, 2, 28), "under 16"),
            (date(2008, 2, 29), date(2024, 2, 29), "16-17"),
            # Born on 28 February or 1 March, referred on 29 February.
            (date(2006, 2, 28), date(2024, 2, 29), "18-20"),
            (date(2006, 3, 1), date(2024, 2, 29), "16-17"),
        ],
    )
    def test_29_february(self, borough_a, born, referred_on, band):
        assert age_band(age_on(born, referred_on)) == band  # the Python rule agrees
        bands = self.age_bands(borough_a, born, referred_on)
        assert bands == {name: 10 if name == band else 0 for name in BAND_NAMES}

    def test_no_birth_date_is_age_not_known(self, borough_a):
        started(borough_a, MID, 10, date_of_birth=None)
        report = impact()
        ages = report["breakdowns"]["age_band"]
        assert by_group(ages) == dict.fromkeys(BAND_NAMES, 0)
        assert report["age_not_known"] == {
            "group": "not known",
            "label": "Not known",
            "people": 10,
            "suppressed": False,
            "note": None,
        }
        assert report["breakdown_totals"]["age_band"] == shown(
            10
        )  # the bands and the unknown add up to the total

    def test_a_few_not_known_hide_the_next_smallest_band_too(self, borough_a):
        started(borough_a, MID, 12, date_of_birth=date(2004, 1, 1))  # 19: 18-20
        started(borough_a, MID, 30, date_of_birth=date(2000, 1, 1))  # 23: 21-25
        started(borough_a, MID, 2, date_of_birth=None)
        report = impact()
        assert report["age_not_known"]["suppressed"]
        assert report["age_not_known"]["people"] is None
        bands = by_group(report["breakdowns"]["age_band"])
        assert bands == {"under 16": 0, "16-17": 0, "18-20": None, "21-25": 30, "over 25": 0}
        assert report["breakdown_totals"]["age_band"] == shown(44)


# The period ----------------------------------------------------------------------------------


class TestPeriod:
    def test_starts_on_the_first_and_last_day_count_and_the_days_either_side_not(self, borough_a):
        started(borough_a, MID, 10)
        started(borough_a, START)
        started(borough_a, END)
        started(borough_a, START - timedelta(days=1))
        started(borough_a, END + timedelta(days=1))
        report = impact()
        assert report["work"]["starts"] == shown(12)
        assert report["cost"]["clients_started"] == shown(12)
        assert report["breakdown_totals"]["gender"] == shown(12)
        assert (report["from"], report["to"], report["as_of"]) == (START, END, AS_OF)

    def test_starts_after_as_of_are_ignored_when_the_period_runs_past_it(self, borough_a):
        started(borough_a, day(5), 10)
        started(borough_a, MID)  # on as_of
        started(borough_a, MID + timedelta(days=1))
        report = impact(as_of=MID)
        assert report["work"]["starts"] == shown(11)
        assert report["breakdown_totals"]["gender"] == shown(11)
        assert report["breakdown_totals"]["age_band"] == shown(11)
        assert report["work"]["active_on"] == MID
        assert report["to"] == END  # the period asked for is kept

    def test_fewer_than_ten_starts_are_not_printed(self, borough_a):
        started(borough_a, MID, 9)
        report = impact()
        assert report["work"]["starts"] == HIDDEN
        assert report["breakdown_totals"]["gender"] == HIDDEN


class TestWork:
    def test_referrals_are_counted_by_their_date_in_the_period(self, borough_a):
        referred(borough_a, MID, 10)
        referred(borough_a, START)
        referred(borough_a, END)
        referred(borough_a, START - timedelta(days=1))
        referred(borough_a, END + timedelta(days=1))
        # Referred in the period, started after it: a referral of the period all the same.
        started(borough_a, END + timedelta(days=3), referred_on=END - timedelta(days=3))
        assert impact()["work"]["referrals"] == shown(13)
        # As of a day inside the period: referrals after it are not known yet.
        assert impact(as_of=MID)["work"]["referrals"] == shown(11)

    def test_the_active_caseload_is_counted_on_the_last_day_of_the_period(self, borough_a):
        earlier = START - timedelta(days=300)
        started(borough_a, earlier, 10)  # started before the period and still active
        closed(borough_a, earlier, END)  # ended on the day: not active
        closed(borough_a, earlier, END + timedelta(days=1))  # still active on it
        closed(borough_a, earlier, START + timedelta(days=5))
        started(borough_a, END + timedelta(days=1))  # not started yet
        work = impact()["work"]
        assert work["active_on"] == END
        assert work["active_caseload"] == shown(11)

    def test_the_active_caseload_is_counted_on_as_of_when_it_comes_first(self, borough_a):
        started(borough_a, START, 10)
        closed(borough_a, START, MID)  # ended on as_of: not active
        closed(borough_a, START, MID + timedelta(days=1))
        started(borough_a, MID + timedelta(days=1))
        work = impact(as_of=MID)["work"]
        assert work["active_on"] == MID
        assert work["active_caseload"] == shown(11)

    def test_sessions_and_hours_of_the_period_are_the_attended_ones(self, borough_a):
        # Started long before the period: the whole work of the period counts, not only
        # the work with those who started in it.
        [person] = started(borough_a, START - timedelta(days=400))
        mentor = MentorFactory(home_borough=borough_a)
        attendance = SupportSession.Attendance

        def session(on, minutes=60, attended=attendance.ATTENDED):
            return SupportSessionFactory(
                client=person,
                mentor=mentor,
                date=on,
                duration_minutes=minutes,
                attendance=attended,
            )

        session(START - timedelta(days=1))
        session(START, 60)
        session(START, 30, attendance.LATE)
        session(MID, 45, attendance.DID_NOT_ATTEND)
        session(MID, 45, attendance.CANCELLED_BY_CLIENT)
        session(MID, 45, attendance.CANCELLED_BY_MENTOR)
        session(MID + timedelta(days=1), 60)
        session(END, 90)
        session(END + timedelta(days=1))
        work = impact()["work"]
        assert work["sessions_attended"] == 4
        assert work["hours_attended"] == 4.0
        # Read from the summary the database keeps of attended sessions per borough and day.
        days = SessionDay.objects.filter(borough=borough_a, date__range=(START, END))
        assert sum(d.sessions for d in days) == 4
        assert sum(d.minutes for d in days) == 240
        # As of a day inside the period: sessions after it are not known yet.
        assert impact(as_of=MID)["work"]["sessions_attended"] == 2
        assert impact(as_of=MID)["work"]["hours_attended"] == 1.5

    def test_support_areas_count_the_attended_sessions_that_covered_them(self, borough_a):
        [person] = started(borough_a, START)
        areas = list(SupportArea.objects.order_by("pk")[:2])
        for on, attended in ((MID, "ATTENDED"), (MID, "DID_NOT_ATTEND"), (END, "LATE")):
            session = SupportSessionFactory(client=person, date=on, attendance=attended)
            session.support_areas.set(areas[:1] if on == END else areas)
        counted = {a["slug"]: a["sessions"] for a in impact()["work"]["support_areas"]}
        assert counted[areas[0].slug] == 2
        assert counted[areas[1].slug] == 1
        assert len(counted) == SupportArea.objects.count()


# Outcomes ------------------------------------------------------------------------------------


class TestOutcomes:
    def cohort(self, borough):
        """28 started in the period: 25 in the cohort, 11 of them reoffenders; 3 pending."""
        clean = started(borough, day(10), 14)
        # Offences that are not proven reoffences: before the index date, acquitted,
        # proven too late.
        OffenceFactory(client=clean[0], offence_date=day(5), outcome_date=day(8))
        OffenceFactory(
            client=clean[1], offence_date=day(60), outcome_date=day(90), disposal="ACQUITTED"
        )
        OffenceFactory(client=clean[2], offence_date=day(60), outcome_date=day(10 + 549))
        for n, person in enumerate(started(borough, day(20), 11)):
            OffenceFactory(client=person, offence_date=day(80), outcome_date=day(120))
            if n == 0:
                OffenceFactory(client=person, offence_date=day(90), outcome_date=day(130))
        # Released from custody in 2025: their 548 days are not over on AS_OF.
        started(borough, day(30), 3, release_date=date(2025, 6, 1))
        # Started before the period, reoffended: not one of the period's clients.
        [before] = started(borough, START - timedelta(days=1))
        OffenceFactory(client=before, offence_date=day(60), outcome_date=day(90))

    def test_the_cohort_and_its_reoffending(self, borough_a):
        self.cohort(borough_a)
        outcomes = impact()["outcomes"]
        # 25 in the cohort and a few still followed: the cohort is hidden with them.
        assert outcomes["cohort"] == NOT_SHOWN
        assert outcomes["reoffenders"] == shown(11)
        assert outcomes["pending"] == HIDDEN
        assert outcomes["reoffending_rate"] == pytest.approx(0.44)
        assert (outcomes["wilson_low"], outcomes["wilson_high"]) == metrics.wilson_interval(11, 25)
        assert outcomes["small_cohort"] is False

    def test_the_figures_agree_with_the_outcomes_of_the_same_clients(self, borough_a):
        self.cohort(borough_a)
        same = metrics.outcomes(
            Client.objects.filter(started_on__gte=START, started_on__lte=END), AS_OF
        )
        outcomes = impact()["outcomes"]
        for key in ("cohort", "pending", "reoffenders", "clients_ended", "clients_completed"):
            assert outcomes[key]["people"] in (same[key], None), key
        for key in (
            "reoffending_rate",
            "wilson_low",
            "wilson_high",
            "small_cohort",
            "km_reoffending_12m",
            "completion_rate",
        ):
            assert outcomes[key] == same[key], key
        assert same["km_at_risk_12m"] == 14
        assert outcomes["km_at_risk_12m"] == shown(14)

    def test_the_curve_stops_where_fewer_than_ten_remain_at_risk(self, borough_a):
        self.cohort(borough_a)
        curve = impact()["outcomes"]["km_curve"]
        assert curve[0] == {"day": 0, "at_risk": 28, "survival": 1.0}
        assert all(point["at_risk"] >= 10 for point in curve)
        assert all(set(point) == {"day", "at_risk", "survival"} for point in curve)

    def test_a_small_cohort_hides_its_counts_and_is_marked(self, borough_a):
        for person in started(borough_a, MID, 4):
            OffenceFactory(
                client=person,
                offence_date=MID + timedelta(days=9),
                outcome_date=MID + timedelta(days=40),
            )
        outcomes = impact()["outcomes"]
        assert outcomes["cohort"] == HIDDEN
        assert outcomes["reoffenders"] == HIDDEN
        assert outcomes["small_cohort"] is True

    def test_completion_counts_the_cases_ended_by_as_of(self, borough_a):
        closed(borough_a, day(1), day(200), n=12)
        closed(borough_a, day(1), day(250), Client.ClosureReason.DISENGAGED, n=10)
        closed(borough_a, day(1), AS_OF + timedelta(days=1), n=10)  # ended after as_of
        closed(borough_a, START - timedelta(days=1), day(100))  # started before the period
        outcomes = impact()["outcomes"]
        assert outcomes["clients_ended"] == shown(22)
        assert outcomes["clients_completed"] == shown(12)
        assert outcomes["completion_rate"] == pytest.approx(12 / 22)

    def test_a_few_completions_are_not_printed(self, borough_a):
        closed(borough_a, day(1), day(200), n=3)
        closed(borough_a, day(1), day(250), Client.ClosureReason.DISENGAGED, n=10)
        outcomes = impact()["outcomes"]
        assert outcomes["clients_ended"] == shown(13)
        assert outcomes["clients_completed"] == HIDDEN

    def test_milestones_per_kind_with_few_people_hidden_with_their_count(self, borough_a):
        people = started(borough_a, MID, 10)
        kind = Milestone.Kind
        for person in people:
            MilestoneFactory(client=person, kind=kind.OBTAINED_ID, achieved_on=MID)
        MilestoneFactory(client=people[0], kind=kind.OBTAINED_ID, achieved_on=END)
        for person in people[:3]:  # 3 people, 4 milestones
            MilestoneFactory(client=person, kind=kind.ENTERED_EMPLOYMENT, achieved_on=END)
        MilestoneFactory(client=people[0], kind=kind.ENTERED_EMPLOYMENT, achieved_on=AS_OF)
        # Achieved after as_of; of someone who started before the period: not counted.
        MilestoneFactory(
            client=people[1], kind=kind.SECURED_ACCOMMODATION, achieved_on=AS_OF + timedelta(days=1)
        )
        [before] = started(borough_a, START - timedelta(days=1))
        MilestoneFactory(client=before, kind=kind.OBTAINED_ID, achieved_on=MID)
        rows = impact()["outcomes"]["milestones"]
        assert [(row["kind"], row["label"]) for row in rows] == list(kind.choices)
        counted = by_kind(rows)
        assert counted[kind.OBTAINED_ID] == (10, False, 11)
        assert counted[kind.ENTERED_EMPLOYMENT] == (None, True, None)
        assert counted[kind.SECURED_ACCOMMODATION] == (0, False, 0)
        assert counted[kind.OTHER] == (0, False, 0)

    def test_placements_per_kind_with_few_people_hidden_with_their_count(self, borough_a):
        people = started(borough_a, MID, 11)
        kind = Placement.Kind
        for person in people:
            PlacementFactory(client=person, kind=kind.JOB, started_on=MID)
        for person in people[:2]:
            PlacementFactory(client=person, kind=kind.APPRENTICESHIP, started_on=END)
        PlacementFactory(client=people[0], kind=kind.TRAINING, started_on=AS_OF)
        PlacementFactory(
            client=people[0], kind=kind.WORK_EXPERIENCE, started_on=AS_OF + timedelta(days=1)
        )
        [before] = started(borough_a, START - timedelta(days=1))
        PlacementFactory(client=before, kind=kind.JOB, started_on=MID)
        rows = impact()["outcomes"]["placements"]
        assert [(row["kind"], row["label"]) for row in rows] == list(kind.choices)
        counted = by_kind(rows)
        assert counted[kind.JOB] == (11, False, 11)
        assert counted[kind.APPRENTICESHIP] == (None, True, None)
        assert counted[kind.TRAINING] == (None, True, None)
        assert counted[kind.WORK_EXPERIENCE] == (0, False, 0)

    def test_a_count_of_people_followed_for_a_year_is_a_count_of_people(self, borough_a):
        """
        The number of people followed for the full year is a count of people: three are
        followed here, and the report says "fewer than 10" on the page, the PDF and the JSON.
        """
        started(borough_a, START, 3)  # followed for a full year by AS_OF - 183
        started(borough_a, date(2025, 3, 5), 9, referred_on=date(2025, 1, 1))  # not yet
        outcomes = impact(end=date(2025, 12, 31))["outcomes"]
        assert outcomes["km_at_risk_12m"] in (None, HIDDEN)


# Cost and grants -------------------------------------------------------------------------------


class TestCost:
    @pytest.fixture
    def areas(self, borough_a, borough_b):
        Borough.objects.filter(pk=borough_a.pk).update(cost_per_client=Decimal("2000.00"))
        Borough.objects.filter(pk=borough_b.pk).update(cost_per_client=Decimal("2500.00"))
        return borough_a, borough_b

    def test_the_cost_is_each_areas_price_times_its_starts(self, areas):
        a, b = areas
        started(a, MID, 11)
        started(b, END, 10)
        started(b, END + timedelta(days=1), 4)  # after the period
        GrantFactory(borough=a, amount=Decimal("10000.00"), starts_on=START, ends_on=END)
        cost = impact()["cost"]
        assert cost["clients_started"] == shown(21)
        assert cost["cost_of_clients_started"] == Decimal("47000.00")  # 11 x 2,000 + 10 x 2,500
        assert cost["grants_total"] == Decimal("10000.00")
        assert cost["funding_gap"] == Decimal("37000.00")
        assert cost["benchmark_cost_per_client"] == Decimal("2000.00")

    def test_the_cost_per_client_is_the_cost_over_the_starts(self, areas):
        """
        The cost per young person is the period's cost over its starts, not the dashboards'
        figure, whose money the period's tally does not carry.
        """
        a, b = areas
        started(a, MID, 11)
        started(b, END, 10)
        cost = impact()["cost"]
        assert cost["cost_of_clients_started"] == Decimal("47000.00")
        assert cost["cost_per_client"] == Decimal("2238.10")  # 47,000 / 21

    def test_an_area_with_a_few_starts_and_another_price_withholds_the_cost(self, areas):
        """
        12 starts at 2,000 and 2,500: 7 x 2,000 + 5 x 2,500 = 26,500, and only one split
        of 12 gives it, so the cost would tell both areas' hidden counts.
        """
        a, b = areas
        started(a, MID, 7)
        started(b, END, 5)
        cost = impact()["cost"]
        assert cost["clients_started"] == shown(12)
        assert cost["cost_of_clients_started"] is None
        assert cost["cost_per_client"] is None
        assert cost["funding_gap"] is None

    def test_a_few_starts_at_one_price_keep_the_cost(self, borough_a, borough_b):
        """Areas at one price: the cost tells only the total of starts, which is shown."""
        started(borough_a, MID, 7)
        started(borough_b, END, 5)
        cost = impact()["cost"]
        price = Borough.objects.get(pk=borough_a.pk).cost_per_client
        assert Borough.objects.get(pk=borough_b.pk).cost_per_client == price
        assert cost["cost_of_clients_started"] == price * 12

    @pytest.mark.parametrize("n", [1, 9])
    def test_the_cost_of_fewer_than_ten_starts_is_withheld(self, areas, n):
        a, _b = areas
        started(a, MID, n)
        GrantFactory(borough=a, amount=Decimal("10000.00"), starts_on=START, ends_on=END)
        cost = impact()["cost"]
        assert cost["clients_started"] == HIDDEN
        assert cost["cost_of_clients_started"] is None
        assert cost["cost_per_client"] is None
        assert cost["funding_gap"] is None
        # What the funders gave is not a count of people.
        assert cost["grants_total"] == Decimal("10000.00")

    def test_no_starts_cost_nothing(self, areas):
        cost = impact()["cost"]
        assert cost["clients_started"] == shown(0)
        assert cost["cost_of_clients_started"] == Decimal("0.00")
        assert cost["cost_per_client"] is None
        assert cost["funding_gap"] == Decimal("0.00")


class TestGrants:
    def grant(self, borough, starts_on, ends_on, amount, reference=""):
        return GrantFactory(
            borough=borough,
            starts_on=starts_on,
            ends_on=ends_on,
            amount=Decimal(amount),
            reference=reference,
        )

    def test_the_grants_that_overlap_the_period(self, borough_a):
        before = START - timedelta(days=1)
        self.grant(borough_a, date(2022, 4, 1), before, "1.00")  # ends the day before
        self.grant(borough_a, date(2022, 4, 1), START, "100.00", "ends-on-start")
        self.grant(borough_a, END, date(2025, 3, 31), "20.00", "starts-on-end")
        self.grant(borough_a, END + timedelta(days=1), date(2025, 3, 31), "2.00")
        self.grant(borough_a, date(2020, 1, 1), date(2030, 1, 1), "3000.00", "spans")
        cost = impact()["cost"]
        assert [g["reference"] for g in cost["grants"]] == [
            "spans",
            "ends-on-start",
            "starts-on-end",
        ]
        assert cost["grants_total"] == Decimal("3120.00")
        first = cost["grants"][1]
        assert first["borough"] == "southwark"
        assert first["borough_name"] == "Southwark"
        assert first["amount"] == Decimal("100.00")
        assert (first["starts_on"], first["ends_on"]) == (date(2022, 4, 1), START)
        assert first["funder"].startswith("Funder")

    def test_a_grant_counts_once_it_has_started_by_as_of(self, borough_a):
        self.grant(borough_a, MID, END, "500.00", "on-as-of")
        self.grant(borough_a, MID + timedelta(days=1), END, "7.00", "after-as-of")
        cost = impact(as_of=MID)["cost"]
        assert [g["reference"] for g in cost["grants"]] == ["on-as-of"]
        assert cost["grants_total"] == Decimal("500.00")

    def test_no_grants(self, borough_a):
        cost = impact()["cost"]
        assert cost["grants"] == []
        assert cost["grants_total"] == Decimal("0.00")


# Scope ---------------------------------------------------------------------------------------


class TestScope:
    def test_only_the_boroughs_of_the_scope_are_counted(self, borough_a, borough_b):
        mine = started(borough_a, MID, 10, gender="MALE", referral_source="PROBATION")
        theirs = started(borough_b, MID, 12, gender="FEMALE", referral_source="POLICE")
        referred(borough_b, MID, 5)
        SupportSessionFactory(client=mine[0], date=MID)
        SupportSessionFactory(client=theirs[0], date=MID)
        SupportSessionFactory(client=theirs[1], date=MID)
        MilestoneFactory(client=theirs[0], kind="OBTAINED_ID", achieved_on=MID)
        PlacementFactory(client=theirs[0], kind="JOB", started_on=MID)
        GrantFactory(borough=borough_a, amount=Decimal("100.00"), starts_on=START, ends_on=END)
        GrantFactory(borough=borough_b, amount=Decimal("900.00"), starts_on=START, ends_on=END)
        for scope in (Borough.objects.filter(pk=borough_a.pk), borough_a, [borough_a.pk]):
            report = impact(scope)
            work = report["work"]
            assert work["starts"] == shown(10)
            assert work["referrals"] == shown(10)
            assert work["active_caseload"] == shown(10)
            assert work["sessions_attended"] == 1
            assert report["cost"]["grants_total"] == Decimal("100.00")
            assert report["cost"]["cost_of_clients_started"] == Decimal("20000.00")
            assert [g["borough"] for g in report["cost"]["grants"]] == ["southwark"]
            assert by_kind(report["outcomes"]["milestones"])["OBTAINED_ID"] == (0, False, 0)
            assert by_kind(report["outcomes"]["placements"])["JOB"] == (0, False, 0)
            assert by_group(report["breakdowns"]["gender"])["FEMALE"] == 0
            assert by_group(report["breakdowns"]["referral_source"])["POLICE"] == 0
            assert report["breakdown_totals"]["gender"] == shown(10)

    def test_the_whole_network(self, borough_a, borough_b):
        started(borough_a, MID, 10)
        started(borough_b, MID, 12)
        assert impact(None)["work"]["starts"] == shown(22)
        assert impact(Borough.objects.all())["work"]["starts"] == shown(22)


# Who was supported -------------------------------------------------------------------------


class TestBreakdowns:
    def test_each_breakdown_lists_every_stored_code(self, borough_a):
        started(borough_a, MID, 10)
        breakdowns = impact()["breakdowns"]
        assert set(breakdowns) == {"age_band", "gender", "ethnicity", "referral_source"}
        assert [r["group"] for r in breakdowns["gender"]] == Client.Gender.values
        # The factories leave ethnicity empty: "Not recorded" comes last.
        assert [r["group"] for r in breakdowns["ethnicity"]] == [*Client.Ethnicity.values, ""]
        assert [r["group"] for r in breakdowns["referral_source"]] == (Client.ReferralSource.values)
        assert [r["group"] for r in breakdowns["age_band"]] == BAND_NAMES
        assert [r["label"] for r in breakdowns["gender"]] == Client.Gender.labels

    def test_a_lone_small_group_hides_the_next_smallest(self, borough_a):
        started(borough_a, MID, 3, gender="FEMALE", ethnicity="BLACK")
        started(borough_a, MID, 12, gender="MALE", ethnicity="WHITE")
        started(borough_a, MID, 11, gender="NOT_STATED", ethnicity="BLACK")
        gender = impact()["breakdowns"]["gender"]
        assert by_group(gender) == {
            "FEMALE": None,
            "MALE": 12,
            "NON_BINARY": 0,
            "OTHER": 0,
            "NOT_STATED": None,
        }
        assert impact()["breakdown_totals"]["gender"] == shown(26)

    def test_everyone_started_is_in_the_ethnicity_breakdown(self, borough_a):
        """
        Ethnicity is optional: those with none recorded are a group of their own, so the
        breakdown adds up to the starts like every other (a total of 11 beside 12 starts
        would tell that 1 person has none).
        """
        started(borough_a, MID, 11, ethnicity="WHITE")
        started(borough_a, MID, 1, ethnicity="")
        report = impact()
        assert report["work"]["starts"] == shown(12)
        assert report["breakdown_totals"]["gender"] == shown(12)
        assert report["breakdown_totals"]["ethnicity"] == shown(12)


# Queries --------------------------------------------------------------------------------------

IMPACT_QUERIES = 18


def with_data(per_borough):
    """Two areas, each with ``per_borough`` clients of the period and all their records."""
    for slug in ("one", "two"):
        borough = BoroughFactory(slug=slug)
        GrantFactory(borough=borough, starts_on=START, ends_on=END)
        mentor = MentorFactory(home_borough=borough)
        for person in started(borough, MID, per_borough):
            SupportSessionFactory(client=person, mentor=mentor, date=MID)
            MilestoneFactory(client=person, achieved_on=MID)
            PlacementFactory(client=person, started_on=END)
            OffenceFactory(
                client=person,
                offence_date=MID + timedelta(days=30),
                outcome_date=MID + timedelta(days=60),
            )
        closed(borough, day(3), day(90), n=per_borough)
        referred(borough, MID, per_borough, date_of_birth=None)


@pytest.mark.django_db
@pytest.mark.parametrize("per_borough", [1, 12])
def test_the_report_takes_a_fixed_number_of_queries(per_borough):
    with_data(per_borough)
    with CaptureQueriesContext(connection) as queries:
        report = impact(Borough.objects.all())
    assert report["work"]["starts"] == published(4 * per_borough)
    assert report["cost"]["grants"]
    assert len(queries) == IMPACT_QUERIES, "\n".join(q["sql"] for q in queries)
