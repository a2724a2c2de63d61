"""
Proven reoffending computed by the database (metrics._reoffending: one grouped query of the
observed clients and one join of offences with clients; metrics._awaiting_counts: the
offences still awaiting an outcome) against the definition written out in plain Python,
client by client and offence by offence, on random case histories: every index date,
offence date, outcome date and disposal, and any "as of" date.
"""

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mentoring import metrics
from mentoring.models import Borough, Client, Offence

from .. import factories

pytestmark = pytest.mark.django_db

# Clients start within days of it, so that they fall in two referral years: two shards.
START = date(2021, 12, 30)

# Days either side of every limit of the definition (365 days to offend, 548 to be proven,
# 183 days' lag of the curve), and anything in between.
# The limits are drawn twice as often as the days between them.
OFFENCE_DAY = st.one_of(
    *[st.sampled_from([-1, 0, 1, 182, 183, 364, 365, 366])] * 2, st.integers(-30, 400)
)
OUTCOME_DAY = st.one_of(*[st.sampled_from([0, 1, 547, 548, 549])] * 2, st.integers(0, 700))
CLIENT = st.fixed_dictionaries(
    {
        "borough": st.integers(0, 1),
        # Starts close together, so that one "as of" date meets several clients' limits.
        "started": st.one_of(st.none(), st.integers(0, 3)),
        "released_after": st.one_of(st.none(), st.integers(0, 2)),
        "offences": st.lists(
            st.tuples(
                OFFENCE_DAY,  # from the index date
                OUTCOME_DAY,  # from the index date; none while pending
                st.sampled_from(Offence.Disposal.values),
            ),
            max_size=3,
        ),
    }
)
AS_OF_DAY = st.one_of(
    *[st.sampled_from([182, 183, 184, 365 + 183, 365 + 184, 547, 548, 549, 550, 551])] * 2,
    st.integers(0, 1200),
)


def make(spec, boroughs):
    started = None if spec["started"] is None else START + timedelta(days=spec["started"])
    released = None
    if started and spec["released_after"] is not None:
        released = started + timedelta(days=spec["released_after"])
    client = factories.ClientFactory(
        borough=boroughs[spec["borough"]],
        referred_on=started or START,
        started_on=started,
        release_date=released,
        status=Client.Status.ACTIVE if started else Client.Status.REFERRED,
    )
    index = released or started
    for offence_day, outcome_day, disposal in spec["offences"] if started else []:
        factories.OffenceFactory(
            client=client,
            offence_date=index + timedelta(days=offence_day),
            outcome_date=(
                None
                if disposal == Offence.Disposal.PENDING
                else index + timedelta(days=max(offence_day, outcome_day))
            ),
            disposal=disposal,
        )
    return client


def by_definition(as_of):
    """
    {(borough id, referral year): (Counter of reoffenders and reoffences, Kaplan-Meier
    histogram)}.
    """
    today = metrics.epoch_day(as_of)
    result = {}
    for client in Client.objects.prefetch_related("offences"):
        shard = (client.borough_id, client.referred_on.year)
        counts, histogram = result.setdefault(shard, (Counter(), Counter()))
        if client.started_on is None or client.started_on > as_of:
            continue
        index = metrics.epoch_day(client.release_date or client.started_on)
        proven = [
            metrics.epoch_day(o.offence_date)
            for o in client.offences.all()
            if o.outcome_date is not None
            and o.outcome_date <= as_of
            and o.disposal not in Offence.NOT_PROVEN
            and index < metrics.epoch_day(o.offence_date) <= index + metrics.FOLLOW_UP_DAYS
            and metrics.epoch_day(o.outcome_date) <= index + metrics.WAITING_DAYS
        ]
        if index <= today - metrics.WAITING_DAYS and proven:
            counts.update(reoffenders=1, cohort_reoffences=len(proven))
        # Committed in the follow-up year and by A, no outcome known on A, and the 548
        # days for a proof not over: it may still count.
        awaiting = [
            o
            for o in client.offences.all()
            if (o.outcome_date is None or o.outcome_date > as_of)
            and o.offence_date <= as_of
            and index < metrics.epoch_day(o.offence_date) <= index + metrics.FOLLOW_UP_DAYS
            and today < index + metrics.WAITING_DAYS
        ]
        if awaiting:
            counts.update(awaiting_outcome=len(awaiting))
        end = min(metrics.FOLLOW_UP_DAYS, today - metrics.KM_LAG_DAYS - index)
        if end <= 0:
            continue
        if proven and min(proven) - index <= end:
            histogram[(min(proven) - index, True)] += 1
        else:
            histogram[(end, False)] += 1
    return result


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,  # the same cases on every run: a mutant caught once is caught always
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(clients=st.lists(CLIENT, max_size=8), as_of_day=AS_OF_DAY)
# A reoffender whose index date is exactly 548 days before A: in the cohort.
@example(
    clients=[
        {"borough": 0, "started": 0, "released_after": None, "offences": [(100, 200, "FINE")]}
    ],
    as_of_day=548,
)
# An offence awaiting its outcome, the day before the 548 days are over and on the day.
@example(
    clients=[
        {"borough": 0, "started": 0, "released_after": None, "offences": [(365, 0, "PENDING")]}
    ],
    as_of_day=547,
)
@example(
    clients=[
        {"borough": 0, "started": 0, "released_after": None, "offences": [(365, 0, "PENDING")]}
    ],
    as_of_day=548,
)
# Convicted after A: still awaited on A.
@example(
    clients=[{"borough": 1, "started": 1, "released_after": 1, "offences": [(30, 400, "CUSTODY")]}],
    as_of_day=200,
)
def test_reoffending_equals_its_definition(db, clients, as_of_day):
    as_of = START + timedelta(days=as_of_day)
    with transaction.atomic():
        boroughs = [factories.BoroughFactory(), factories.BoroughFactory()]
        for spec in clients:
            make(spec, boroughs)
        expected = by_definition(as_of)
        ids = [b.pk for b in boroughs]
        shards = {(pk, year) for pk in ids for year in (START.year, START.year + 1)}
        ways = [
            metrics.Cases.of(Client.objects.all()),
            metrics.Cases.of_boroughs(Borough.objects.filter(pk__in=ids)),
            metrics.Cases.of_shards(dict.fromkeys(ids)),
            metrics.Cases.of_shards({pk: [START.year, START.year + 1] for pk in ids}),
        ]
        for cases in ways:
            cases = replace(cases, by_year=True)  # rows by shard, like the definition
            counts, histograms = metrics._reoffending(cases, as_of)
            awaiting = metrics._awaiting_counts(cases, as_of)
            counts = {s: counts.get(s, Counter()) + awaiting.get(s, Counter()) for s in shards}
            for shard in shards:
                want_counts, want_histogram = expected.get(shard, (Counter(), Counter()))
                assert counts.get(shard, Counter()) == want_counts
                assert histograms.get(shard, Counter()) == want_histogram
                # No day is left with no one on it (the Kaplan-Meier table would show it).
                assert all(n > 0 for n in histograms.get(shard, Counter()).values())
        # One year's shard alone.
        counts, histograms = metrics._reoffending(
            metrics.Cases.of_shards({ids[0]: [START.year]}), as_of
        )
        assert set(counts) | set(histograms) <= {(ids[0], START.year)}
        # The per-client flags the client pages use agree with the join.
        flags = dict(
            metrics.with_outcome_flags(Client.objects.all(), as_of).values_list(
                "pk", "reoffence_count"
            )
        )
        everyone = metrics.Cases.of(Client.objects.all())
        joined = {row[0]: row[5] for row in metrics.reoffenders(everyone, as_of)}
        assert {pk: n for pk, n in flags.items() if n} == joined
        transaction.set_rollback(True)
