"""
The outcome figures against hand-built data sets with known answers, one boundary at a
time, and the arithmetic (Wilson, Kaplan-Meier, medians) against worked values.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import caches
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mentoring import metrics
from mentoring.models import Borough, Client, Milestone, Offence, SupportArea, SupportSession

from ..factories import (
    AssignmentFactory,
    BoroughFactory,
    ClientFactory,
    GrantFactory,
    MentorFactory,
    MilestoneFactory,
    OffenceFactory,
    SupportSessionFactory,
)

AS_OF = date(2026, 11, 26)
FULL_FOLLOW_UP = AS_OF - timedelta(days=1000)  # an index date well inside the cohort

pytestmark = pytest.mark.django_db


def days(n):
    return timedelta(days=n)


def started_client(borough, started_on, *, release_date=None, ended_on=None, reason="COMPLETED",
                   referred_on=None):  # fmt: skip
    """A client whose support started on ``started_on`` (closed if ``ended_on`` is given)."""
    return ClientFactory(
        borough=borough,
        referred_on=referred_on or started_on,
        started_on=started_on,
        release_date=release_date,
        ended_on=ended_on,
        status=Client.Status.CLOSED if ended_on else Client.Status.ACTIVE,
        closure_reason=reason if ended_on else "",
    )


def offence(client, offence_day, outcome_day, disposal=Offence.Disposal.FINE):
    """An offence ``offence_day`` days after the client's index date, proven on another."""
    index = client.index_date
    return OffenceFactory(
        client=client,
        offence_date=index + days(offence_day),
        outcome_date=None if outcome_day is None else index + days(outcome_day),
        disposal=disposal,
    )


def network(as_of=AS_OF):
    return metrics.outcomes(Client.objects.all(), as_of)


# Proven reoffending: every boundary of the definition ----------------------------------------


@pytest.mark.parametrize(
    ("offence_day", "outcome_day", "disposal", "counted"),
    [
        pytest.param(0, 30, "FINE", False, id="offence-on-index-date"),
        pytest.param(-30, 10, "FINE", False, id="offence-before-index-proven-after"),
        pytest.param(1, 30, "FINE", True, id="offence-day-after-index"),
        pytest.param(365, 400, "CAUTION", True, id="offence-on-day-365"),
        pytest.param(366, 400, "CUSTODY", False, id="offence-on-day-366"),
        pytest.param(100, 548, "COMMUNITY_ORDER", True, id="outcome-on-index-plus-548"),
        pytest.param(100, 549, "COMMUNITY_ORDER", False, id="outcome-on-index-plus-549"),
        pytest.param(100, None, "PENDING", False, id="pending"),
        pytest.param(100, 150, "NO_FURTHER_ACTION", False, id="no-further-action"),
        pytest.param(100, 150, "ACQUITTED", False, id="acquitted"),
    ],
)
def test_proven_reoffence_boundaries(borough_a, offence_day, outcome_day, disposal, counted):
    client = started_client(borough_a, FULL_FOLLOW_UP)
    offence(client, offence_day, outcome_day, disposal)
    figures = network()
    assert figures["cohort"] == 1
    assert figures["reoffenders"] == int(counted)
    assert figures["reoffending_rate"] == int(counted)
    assert figures["reoffences_per_100"] == 100 * int(counted)


def test_reoffences_per_100_counts_every_proven_reoffence(borough_a):
    """Two proven reoffences by one of two cohort members: 1 reoffender, 100 per 100."""
    repeat = started_client(borough_a, FULL_FOLLOW_UP)
    offence(repeat, 10, 40)
    offence(repeat, 200, 260)
    started_client(borough_a, FULL_FOLLOW_UP)
    figures = network()
    assert (figures["cohort"], figures["reoffenders"]) == (2, 1)
    assert figures["reoffending_rate"] == 0.5
    assert figures["success_rate"] == 0.5
    assert figures["reoffences_per_100"] == 100.0


def test_release_date_replaces_start_as_index_date(borough_a):
    start = FULL_FOLLOW_UP - days(200)
    release = FULL_FOLLOW_UP
    in_custody = started_client(borough_a, start, release_date=release)
    OffenceFactory(client=in_custody, offence_date=start + days(50), outcome_date=start + days(80))
    after_release = started_client(borough_a, start, release_date=release)
    # A year after release, so more than a year after the start: counted from release.
    OffenceFactory(
        client=after_release, offence_date=release + days(365), outcome_date=release + days(400)
    )
    flags = dict(
        metrics.with_outcome_flags(Client.objects.all(), AS_OF).values_list("pk", "has_reoffence")
    )
    assert flags == {in_custody.pk: False, after_release.pk: True}
    assert network()["reoffenders"] == 1


def test_cohort_waits_548_days_from_release_not_start(borough_a):
    line = AS_OF - days(metrics.WAITING_DAYS)
    started_client(borough_a, line)  # index + 548 == A: in the cohort
    started_client(borough_a, line - days(100), release_date=line + days(1))  # released later
    started_client(borough_a, line + days(1))
    figures = network()
    assert figures["clients_started"] == 3
    assert figures["cohort"] == 1
    assert figures["pending"] == 2


def test_clients_still_pending_are_counted_but_never_successes(borough_a):
    started_client(borough_a, AS_OF - days(300))
    started_client(borough_a, AS_OF - days(10))
    ClientFactory(borough=borough_a, referred_on=AS_OF - days(5))  # referred, not started
    ClientFactory(borough=borough_a, referred_on=AS_OF + days(1))  # after A: not yet known
    figures = network()
    assert figures["clients_referred"] == 3
    assert figures["clients_started"] == 2
    assert figures["pending"] == 2
    assert figures["cohort"] == 0
    assert figures["reoffending_rate"] is None
    assert figures["success_rate"] is None
    assert figures["wilson_low"] is None and figures["wilson_high"] is None
    assert figures["reoffences_per_100"] is None
    assert figures["small_cohort"] is True


def test_borough_with_no_cohort_has_null_rates_and_no_error(borough_a, borough_b):
    for _ in range(10):
        started_client(borough_a, FULL_FOLLOW_UP)
    started_client(borough_b, AS_OF - days(30))
    empty = BoroughFactory(name="Dorset", slug="dorset", code="DOR")
    report = metrics.report(None, AS_OF)
    by_slug = {b["slug"]: b for b in report["boroughs"]}
    assert list(by_slug) == ["croydon", "dorset", "southwark"]  # by name, empty ones too
    assert by_slug["southwark"]["reoffending_rate"] == 0.0
    assert by_slug["southwark"]["small_cohort"] is False
    for slug in ("croydon", empty.slug):
        figures = by_slug[slug]
        assert figures["cohort"] == 0
        assert figures["small_cohort"] is True
        for rate in (
            "reoffending_rate",
            "wilson_low",
            "wilson_high",
            "success_rate",
            "reoffences_per_100",
            "km_reoffending_12m",
            "completion_rate",
        ):
            assert figures[rate] is None, (slug, rate)
    assert by_slug["dorset"]["median_days_referral_to_start"] is None
    assert by_slug["dorset"]["engagement_rate"] is None
    assert by_slug["dorset"]["cost_per_client"] is None
    assert by_slug["dorset"]["cost_of_clients_started"] == Decimal("0.00")
    assert report["network"]["cohort"] == 10


def test_small_cohort_marks_fewer_than_ten(borough_a):
    for _ in range(9):
        started_client(borough_a, FULL_FOLLOW_UP)
    assert network()["small_cohort"] is True
    started_client(borough_a, FULL_FOLLOW_UP)
    assert network()["small_cohort"] is False


# As of a date: a past A reproduces what was known then ---------------------------------------


def test_past_as_of_ignores_later_closures_and_counts_them_active(borough_a):
    started_client(borough_a, date(2024, 1, 10), ended_on=date(2024, 6, 1))
    started_client(borough_a, date(2024, 1, 10), ended_on=date(2024, 9, 1), reason="DISENGAGED")
    started_client(borough_a, date(2024, 1, 10))
    then = network(as_of=date(2024, 7, 1))
    assert then["active_caseload"] == 2
    assert (then["clients_ended"], then["clients_completed"]) == (1, 1)
    assert then["completion_rate"] == 1.0
    now = network()
    assert now["active_caseload"] == 1
    assert now["completion_rate"] == 0.5
    reasons = {
        r["reason"]: r["clients"] for r in metrics.closures_by_reason(None, date(2024, 7, 1))
    }
    assert reasons["COMPLETED"] == 1
    assert reasons["DISENGAGED"] == 0


def test_active_caseload_counts_end_after_as_of_as_still_active(borough_a):
    started_client(borough_a, AS_OF - days(100), ended_on=AS_OF)  # ended on A: not active
    started_client(borough_a, AS_OF - days(100), ended_on=AS_OF + days(1))
    started_client(borough_a, AS_OF)  # started on A: active
    started_client(borough_a, AS_OF + days(1))  # starts after A: not known yet
    assert network()["active_caseload"] == 2


# Contact, engagement and activity -----------------------------------------------------------


def test_needs_contact_engagement_and_recent_sessions_windows(borough_a):
    mentor = MentorFactory(home_borough=borough_a)
    sessions = [
        # (days before A, attendance, minutes): needs contact?, engaged?
        (13, "ATTENDED", 60),  # no, yes
        (14, "ATTENDED", 30),  # yes: (A - 14, A] excludes A - 14; engaged
        (27, "ATTENDED", 45),  # yes, yes
        (28, "ATTENDED", 50),  # yes, no: (A - 28, A] excludes A - 28
        (1, "DID_NOT_ATTEND", 60),  # yes, no
        (0, "LATE", 90),  # no, yes
        (-1, "ATTENDED", 60),  # after A: yes, no
    ]
    for before, attendance, minutes in sessions:
        client = started_client(borough_a, AS_OF - days(60))
        SupportSessionFactory(
            client=client,
            mentor=mentor,
            date=AS_OF - days(before),
            attendance=attendance,
            duration_minutes=minutes,
        )
    figures = network()
    assert figures["active_caseload"] == 7
    assert figures["needs_contact"] == 5
    assert figures["engaged_clients"] == 4
    assert figures["engagement_rate"] == pytest.approx(4 / 7)
    assert figures["sessions_last_28_days"] == 4
    assert figures["hours_last_28_days"] == pytest.approx((60 + 30 + 45 + 90) / 60)


def test_median_days_referral_to_start_of_clients_started_by_as_of(borough_a):
    for wait in (10, 40, 20):
        started_client(borough_a, AS_OF - days(50), referred_on=AS_OF - days(50 + wait))
    started_client(borough_a, AS_OF + days(3), referred_on=AS_OF - days(2))  # not started by A
    ClientFactory(borough=borough_a, referred_on=AS_OF - days(90))
    figures = network()
    assert figures["median_days_referral_to_start"] == 20.0
    assert figures["referral_to_start_rate"] == pytest.approx(3 / 5)
    started_client(borough_a, AS_OF - days(50), referred_on=AS_OF - days(100))
    assert network()["median_days_referral_to_start"] == 30.0


def test_costs_follow_each_borough_and_grants_started_by_as_of(borough_a, borough_b):
    borough_b.cost_per_client = Decimal("2300.00")
    borough_b.save()
    started_client(borough_a, AS_OF - days(30))
    started_client(borough_a, AS_OF - days(30))
    started_client(borough_b, AS_OF - days(30))
    started_client(borough_b, AS_OF + days(1), referred_on=AS_OF)
    GrantFactory(borough=borough_a, amount=50000, starts_on=date(2026, 4, 1), ends_on=AS_OF)
    GrantFactory(
        borough=borough_a, amount=10000, starts_on=AS_OF + days(1), ends_on=AS_OF + days(300)
    )
    GrantFactory(borough=borough_b, amount="20000.50", starts_on=date(2020, 1, 1))
    report = metrics.report(None, AS_OF)
    assert report["network"]["cost_of_clients_started"] == Decimal("6300.00")
    assert report["network"]["cost_per_client"] == Decimal("2100.00")
    assert report["network"]["grants_total"] == Decimal("70000.50")
    southwark = next(b for b in report["boroughs"] if b["slug"] == "southwark")
    assert southwark["cost_of_clients_started"] == Decimal("4000.00")
    assert southwark["grants_total"] == Decimal("50000.00")


# Kaplan-Meier --------------------------------------------------------------------------------


def test_kaplan_meier_matches_hand_computed_table_with_censoring():
    histogram = {
        (2, True): 1,
        (3, False): 1,
        (5, True): 2,
        (5, False): 1,
        (8, True): 1,
        (10, False): 2,
    }
    table = metrics.kaplan_meier(histogram)
    expected = [
        # day, at risk, events, censored, S(day)
        (2, 8, 1, 0, 7 / 8),
        (3, 7, 0, 1, 7 / 8),
        (5, 6, 2, 1, 7 / 8 * 4 / 6),  # censored on day 5 are at risk on day 5
        (8, 3, 1, 0, 7 / 8 * 4 / 6 * 2 / 3),
        (10, 2, 0, 2, 7 / 8 * 4 / 6 * 2 / 3),
    ]
    assert [
        (r["day"], r["at_risk"], r["events"], r["censored"], pytest.approx(r["survival"]))
        for r in table
    ] == expected
    assert metrics.survival_at(table, 4) == pytest.approx(0.875)
    assert metrics.survival_at(table, 10) == pytest.approx(0.388889, abs=1e-6)
    assert metrics.survival_at(table, 11) is None  # nobody followed that long
    assert metrics.km_median(table) == 8
    assert metrics.kaplan_meier({}) == []


histograms = st.dictionaries(
    st.tuples(st.integers(0, 15), st.booleans()), st.integers(1, 4), max_size=10
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(histogram=histograms, days=st.lists(st.integers(-1, 18), max_size=4).map(sorted))
@example(histogram={(2, True): 1, (5, False): 1}, days=[2, 5, 6])  # on a row; past the last
@example(histogram={(3, True): 2}, days=[3, 4])  # S reaches 0: known beyond the last row
@example(histogram={}, days=[0])
def test_km_summary_is_the_table_read_at_each_day(histogram, days):
    """The one-pass summary the figures use gives what the table's readers give, exactly."""
    table = metrics.kaplan_meier(histogram)
    expected = [(metrics.survival_at(table, day), metrics.at_risk_on(table, day)) for day in days]
    assert metrics.km_summary(histogram, days) == (expected, metrics.km_median(table))


def test_survival_curve_stops_where_fewer_than_ten_remain_at_risk():
    histogram = {(10, True): 1, (20, True): 1, (30, False): 1, (40, True): 1, (365, False): 8}
    points = metrics.survival_curve(metrics.kaplan_meier(histogram))
    assert [(p["day"], p["at_risk"]) for p in points] == [(0, 12), (10, 12), (20, 11), (30, 10)]
    assert points[0]["survival"] == 1.0
    assert metrics.survival_curve(metrics.kaplan_meier({(5, True): 9})) == []
    assert metrics.survival_curve(metrics.kaplan_meier({})) == []


def test_kaplan_meier_reoffending_from_the_database(borough_a):
    """
    Eight clients observed, one left out. Day: 100 event, 150 event, 200 two censored by
    A - 183 (one of them with an offence proven only after A), 365 one event and three
    censored: S(365) = 7/8 * 6/7 * 3/4 = 0.5625.
    """
    lagged = AS_OF - days(metrics.KM_LAG_DAYS + 200)  # observed for 200 days
    full = [started_client(borough_a, FULL_FOLLOW_UP) for _ in range(5)]
    offence(full[0], 100, 130)
    offence(full[1], 300, 320, Offence.Disposal.NO_FURTHER_ACTION)
    offence(full[2], 365, 400)
    offence(full[3], 366, 380)
    short = [started_client(borough_a, lagged) for _ in range(3)]
    offence(short[0], 150, 160)
    OffenceFactory(
        client=short[1], offence_date=lagged + days(190), outcome_date=AS_OF + days(5)
    )  # proven after A: not known on A
    started_client(borough_a, AS_OF - days(100))  # end = A - 183 is before its index
    curve = metrics.reoffending_curve(None, AS_OF)
    assert curve["clients"] == 8
    assert curve["at_risk_12m"] == 4
    assert curve["km_reoffending_12m"] == pytest.approx(1 - 0.5625)
    assert curve["points"] == []  # fewer than 10 at risk from the start
    assert network()["km_reoffending_12m"] == pytest.approx(0.4375)


def test_kaplan_meier_reoffending_is_null_before_anyone_is_followed_for_a_year(borough_a):
    started_client(borough_a, AS_OF - days(400))  # observed 217 days by A - 183
    figures = network()
    assert figures["km_reoffending_12m"] is None
    assert figures["km_at_risk_12m"] == 0


def test_programme_length_censors_open_cases(borough_a):
    started_client(borough_a, AS_OF - days(500), ended_on=AS_OF - days(400))  # ended day 100
    started_client(
        borough_a, AS_OF - days(500), ended_on=AS_OF - days(300), reason="DISENGAGED"
    )  # 200
    started_client(borough_a, AS_OF - days(150))  # open: censored at 150
    started_client(borough_a, AS_OF - days(500), ended_on=AS_OF - days(100))  # ended day 400
    started_client(
        borough_a, AS_OF - days(250), ended_on=AS_OF + days(10), reason="CUSTODY"
    )  # ends after A: censored at 250
    length = metrics.programme_length(None, AS_OF)
    assert length["clients"] == 5
    assert length["reached_6_months"] == pytest.approx(0.8)
    assert length["reached_12_months"] == pytest.approx(0.8 * 2 / 3)
    assert length["median_days"] == 400
    figures = network()
    assert figures["programme_reached_6_months"] == pytest.approx(0.8)
    assert figures["median_programme_days"] == 400
    assert figures["completion_rate"] == pytest.approx(2 / 3)
    reasons = {r["reason"]: r["clients"] for r in metrics.closures_by_reason(None, AS_OF)}
    assert reasons == dict.fromkeys(Client.ClosureReason.values, 0) | {
        "COMPLETED": 2,
        "DISENGAGED": 1,
    }


# Wilson --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (3, 20, 0.052, 0.360),
        # Newcombe (1998), Statistics in Medicine 17:857-872, table I, method 3.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0),
    ],
)
def test_wilson_interval_matches_published_values(successes, n, low, high):
    got_low, got_high = metrics.wilson_interval(successes, n)
    assert got_low == pytest.approx(low, abs=0.0005)
    assert got_high == pytest.approx(high, abs=0.0005)


def test_wilson_interval_is_none_without_a_denominator():
    assert metrics.wilson_interval(0, 0) == (None, None)


def test_histogram_median():
    assert metrics.histogram_median({}) is None
    assert metrics.histogram_median({7: 3}) == 7.0
    assert metrics.histogram_median({1: 1, 2: 3}) == 2.0
    assert metrics.histogram_median({10: 1, 20: 1, 40: 1, 50: 1}) == 30.0


# Dashboard pieces ----------------------------------------------------------------------------


def test_monthly_activity_covers_24_months_up_to_as_of(borough_a):
    mentor = MentorFactory(home_borough=borough_a)
    ClientFactory(borough=borough_a, referred_on=date(2024, 11, 30))  # before the window
    ClientFactory(borough=borough_a, referred_on=date(2024, 12, 1))
    ClientFactory(borough=borough_a, referred_on=AS_OF + days(1))  # after A
    client = started_client(borough_a, date(2026, 10, 5), referred_on=date(2026, 10, 1))
    started_client(borough_a, date(2025, 1, 6), ended_on=date(2025, 6, 15))
    for day, attendance in [(3, "ATTENDED"), (17, "LATE"), (24, "DID_NOT_ATTEND")]:
        SupportSessionFactory(
            client=client,
            mentor=mentor,
            date=date(2026, 10, day),
            attendance=attendance,
            duration_minutes=90,
        )
    series = metrics.monthly_activity(None, AS_OF)
    assert len(series) == 24
    assert (series[0]["month"], series[-1]["month"]) == (date(2024, 12, 1), date(2026, 11, 1))
    by_month = {entry["month"]: entry for entry in series}
    assert by_month[date(2024, 12, 1)]["referrals"] == 1
    assert by_month[date(2025, 1, 1)] | {"month": None} == {
        "month": None,
        "referrals": 1,
        "starts": 1,
        "closures": 0,
        "sessions_attended": 0,
        "hours": 0.0,
    }
    assert by_month[date(2025, 6, 1)]["closures"] == 1
    october = by_month[date(2026, 10, 1)]
    assert (october["referrals"], october["starts"]) == (1, 1)
    assert october["sessions_attended"] == 2
    assert october["hours"] == 3.0
    assert by_month[date(2026, 11, 1)]["referrals"] == 0
    assert sum(entry["referrals"] for entry in series) == 3


def test_mentor_load_counts_assignments_open_on_as_of(borough_a, borough_b):
    busy = MentorFactory(reference="M-SWK-001", home_borough=borough_a, max_caseload=2)
    visiting = MentorFactory(reference="M-CRO-001", home_borough=borough_b)
    visiting.other_boroughs.add(borough_a)
    MentorFactory(reference="M-CRO-002", home_borough=borough_b)  # does not serve A
    MentorFactory(
        reference="M-SWK-002",
        home_borough=borough_a,
        started_on=date(2010, 1, 1),
        ended_on=date(2020, 1, 1),
    )  # left before A
    start = AS_OF - days(100)
    for _ in range(2):
        AssignmentFactory(mentor=busy, client=started_client(borough_a, start), started_on=start)
    AssignmentFactory(
        mentor=busy,
        client=started_client(borough_a, start),
        started_on=start,
        ended_on=AS_OF + days(5),
        end_reason="REASSIGNED",
    )  # ends after A: open on A
    AssignmentFactory(
        mentor=busy,
        client=started_client(borough_a, start),
        started_on=start,
        ended_on=AS_OF,
        end_reason="REASSIGNED",
    )  # ended on A
    AssignmentFactory(
        mentor=busy, client=started_client(borough_a, start), started_on=AS_OF + days(1)
    )  # starts after A
    AssignmentFactory(mentor=visiting, client=started_client(borough_b, start), started_on=start)
    MentorFactory(reference="M-SWK-003", home_borough=borough_a)  # no assignments at all
    load = metrics.mentor_load(Borough.objects.filter(pk=borough_a.pk), AS_OF)
    assert [(m["reference"], m["open_assignments"], m["over_capacity"]) for m in load] == [
        ("M-CRO-001", 1, False),  # capacity is the mentor's, whichever borough
        ("M-SWK-001", 3, True),
        ("M-SWK-003", 0, False),
    ]
    assert load[1]["spare"] == -1
    assert load[1]["home_borough"] == "southwark"
    # Serving both boroughs of the scope (home and other), a mentor is one row, counted once.
    both = metrics.mentor_load(Borough.objects.filter(pk__in=[borough_a.pk, borough_b.pk]), AS_OF)
    assert [(m["reference"], m["open_assignments"]) for m in both] == [
        ("M-CRO-001", 1),
        ("M-CRO-002", 0),
        ("M-SWK-001", 3),
        ("M-SWK-003", 0),
    ]


def test_support_areas_covered_by_attended_sessions_in_the_last_year(borough_a, borough_b):
    areas = {a.slug: a for a in SupportArea.objects.all()}
    mentor = MentorFactory(home_borough=borough_a)
    client = started_client(borough_a, AS_OF - days(400))
    other = started_client(borough_b, AS_OF - days(400))
    for day, attendance, who, slugs in [
        (AS_OF, "ATTENDED", client, ["accommodation", "health"]),
        (AS_OF - days(364), "LATE", client, ["accommodation"]),
        (AS_OF - days(365), "ATTENDED", client, ["accommodation"]),  # outside the year
        (AS_OF - days(3), "DID_NOT_ATTEND", client, ["health"]),
        (AS_OF - days(3), "ATTENDED", other, ["health"]),  # another borough
    ]:
        session = SupportSessionFactory(client=who, mentor=mentor, date=day, attendance=attendance)
        session.support_areas.set([areas[s] for s in slugs])
    covered = {
        a["slug"]: a["sessions"]
        for a in metrics.support_areas_covered(Borough.objects.filter(pk=borough_a.pk), AS_OF)
    }
    assert covered == dict.fromkeys(areas, 0) | {"accommodation": 2, "health": 1}


def test_milestones_achieved_in_the_last_year_per_kind(borough_a):
    client = started_client(borough_a, AS_OF - days(500), referred_on=AS_OF - days(500))
    second = started_client(borough_a, AS_OF - days(500), referred_on=AS_OF - days(500))
    for who, kind, before in [
        (client, "OBTAINED_ID", 0),
        (client, "OBTAINED_ID", 364),
        (second, "OBTAINED_ID", 10),
        (client, "ENTERED_EMPLOYMENT", 365),  # outside the year
        (client, "REGISTERED_WITH_GP", -1),  # after A
    ]:
        MilestoneFactory(client=who, kind=kind, achieved_on=AS_OF - days(before))
    rows = {
        m["kind"]: (m["milestones"], m["clients"]) for m in metrics.milestones_achieved(None, AS_OF)
    }
    assert rows == dict.fromkeys(Milestone.Kind.values, (0, 0)) | {"OBTAINED_ID": (3, 2)}


def test_report_for_a_coordinator_covers_only_their_boroughs(borough_a, borough_b, coordinator_a):
    started_client(borough_a, FULL_FOLLOW_UP)
    started_client(borough_b, FULL_FOLLOW_UP)
    report = metrics.report(Borough.objects.for_user(coordinator_a), AS_OF)
    assert [b["slug"] for b in report["boroughs"]] == ["southwark"]
    assert report["network"]["clients_started"] == 1
    assert report["network"] == {
        k: v for k, v in report["boroughs"][0].items() if k not in ("slug", "name")
    }


def test_scope_accepts_a_borough_ids_or_none(borough_a, borough_b):
    started_client(borough_a, FULL_FOLLOW_UP)
    started_client(borough_b, FULL_FOLLOW_UP)
    assert metrics.report(borough_a, AS_OF)["network"]["clients_started"] == 1
    assert metrics.report([borough_b.pk], AS_OF)["network"]["clients_started"] == 1
    assert metrics.report(None, AS_OF)["network"]["clients_started"] == 2
    with pytest.raises(TypeError):
        metrics.report(Client.objects.all(), AS_OF)


def test_network_is_the_sum_of_the_boroughs(borough_a, borough_b):
    build_data_set(borough_a, borough_b, 3)
    report = metrics.report(None, AS_OF)
    for key in ("clients_referred", "clients_started", "cohort", "reoffenders", "needs_contact"):
        assert report["network"][key] == sum(b[key] for b in report["boroughs"]), key
    assert report["network"] == metrics.outcomes(Client.objects.all(), AS_OF)
    by_id = metrics.outcomes_by_borough(Client.objects.all(), AS_OF)
    assert by_id[borough_a.pk] == {
        k: v for k, v in report["boroughs"][1].items() if k not in ("slug", "name")
    }


def test_every_scope_has_every_figure(borough_a):
    report = metrics.dashboard(None, AS_OF)
    assert list(report["network"]) == list(metrics.FIGURES)
    assert list(report["boroughs"][0]) == ["slug", "name", *metrics.FIGURES]
    assert {b["rate"] for b in report["baselines"]} == {0.75, 0.316, 0.701}


# Query counts do not grow with the data -------------------------------------------------------


def build_data_set(borough_a, borough_b, size):
    """``size`` clients per borough with sessions, offences, milestones and assignments."""
    for borough in (borough_a, borough_b):
        mentor = MentorFactory(home_borough=borough)
        GrantFactory(borough=borough)
        for i in range(size):
            client = started_client(borough, FULL_FOLLOW_UP + days(i * 10))
            AssignmentFactory(client=client, mentor=mentor, started_on=client.started_on)
            for week in range(3):
                session = SupportSessionFactory(
                    client=client, mentor=mentor, date=client.started_on + days(7 * week)
                )
                session.support_areas.set(SupportArea.objects.all()[:2])
            offence(client, 30 + i, 60 + i)
            MilestoneFactory(client=client, achieved_on=AS_OF - days(i))
        ClientFactory(borough=borough, referred_on=AS_OF - days(3))


@pytest.mark.parametrize("size", [3, 30])
def test_metrics_run_a_fixed_number_of_queries(
    borough_a, borough_b, size, django_assert_num_queries
):
    build_data_set(borough_a, borough_b, size)
    assert SupportSession.objects.count() == 2 * 3 * size
    # Nothing cached: the boroughs, their versions and their case shards' versions, then
    # 11 queries for all their cases (by shard), 1 for their money, 4 for their sessions.
    with django_assert_num_queries(19):
        report = metrics.report(None, AS_OF)
    assert report["network"]["clients_started"] == 2 * size
    # The boroughs' parts cached by the report: the boroughs' ids, versions, shards and
    # names, the support areas' names, and the mentors' load, which the report does not hold.
    with django_assert_num_queries(6):
        metrics.dashboard(Borough.objects.all(), AS_OF)
    with django_assert_num_queries(5):  # everything cached
        metrics.dashboard(Borough.objects.all(), AS_OF)
    client = Client.objects.filter(borough=borough_a, assignments__isnull=False).first()
    SupportSessionFactory(client=client, mentor=client.assignments.first().mentor)
    with django_assert_num_queries(5 + 4):  # a session logged: that borough's sessions half
        metrics.dashboard(Borough.objects.all(), AS_OF)
    changed = Client.objects.filter(borough=borough_b, started_on__isnull=False).first()
    MilestoneFactory(client=changed)
    # A milestone: its borough's milestones (by shard, 1 query) and its money.
    with django_assert_num_queries(5 + 1 + 1):
        metrics.dashboard(Borough.objects.all(), AS_OF)
    offence(changed, 40, 70)
    # An offence: its borough's cases (by shard, 10 queries) and its money.
    with django_assert_num_queries(5 + 10 + 1):
        metrics.dashboard(Borough.objects.all(), AS_OF)
    Client.objects.filter(pk=changed.pk).update(release_date=AS_OF)
    # The client itself: both parts of its shard (11), its money, its sessions half (4).
    with django_assert_num_queries(5 + 11 + 1 + 4):
        metrics.dashboard(Borough.objects.all(), AS_OF)
    caches["figures"].clear()
    with django_assert_num_queries(22):  # nothing cached
        metrics.dashboard(Borough.objects.all(), AS_OF)
    with django_assert_num_queries(9):
        metrics.outcomes(Client.objects.all(), AS_OF)
    with django_assert_num_queries(9):
        metrics.outcomes_by_borough(Client.objects.all(), AS_OF)
    with django_assert_num_queries(4):
        metrics.monthly_activity(None, AS_OF)
    with django_assert_num_queries(2):
        metrics.reoffending_curve(None, AS_OF)
    with django_assert_num_queries(1):
        metrics.programme_length(None, AS_OF)
