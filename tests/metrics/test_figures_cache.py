"""
The figures cache (metrics.borough_parts): a dashboard drawn from cached boroughs equals
the same dashboard computed afresh, after any write to any record the figures are made
from, because every such write raises its borough's version (database triggers).
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mentoring import metrics, summaries
from mentoring.models import (
    Assignment,
    Borough,
    BoroughVersion,
    CaseShardVersion,
    Client,
    Mentor,
    Milestone,
    Offence,
    SupportSession,
)

from .. import factories
from ..helpers import fresh_dashboard
from .test_summaries import STEP, TODAY, apply, make_world, new_session

pytestmark = pytest.mark.django_db
ONE_YEAR = datetime.timedelta(days=366)


@pytest.fixture
def world(db):
    return make_world()


def _client(world, n):
    live = list(Client.objects.filter(pk__in=[c.pk for c in world["clients"]]).order_by("pk"))
    return live[n % len(live)] if live else None


def apply_more(world, step):
    """The other records the figures are made from: offences, milestones, grants, cases."""
    kind, *args = step
    client = _client(world, args[0])
    if client is None:
        return
    if kind == "offence":
        # Within a year of the start: a proven reoffence the figures count.
        day = client.started_on + datetime.timedelta(days=args[1] % 365 + 1)
        Offence.objects.create(
            client=client,
            offence_date=day,
            outcome_date=day + datetime.timedelta(days=10),
            disposal=Offence.Disposal.COMMUNITY_ORDER,
            offence_type=Offence.OffenceType.THEFT,
            source=Offence.Source.POLICE,
        )
    elif kind == "milestone":
        Milestone.objects.create(
            client=client,
            kind=Milestone.Kind.choices[args[1] % len(Milestone.Kind.choices)][0],
            achieved_on=TODAY - datetime.timedelta(days=args[1]),
        )
    elif kind == "close":
        Client.objects.filter(pk=client.pk).update(
            status=Client.Status.CLOSED,
            ended_on=TODAY - datetime.timedelta(days=args[1] % 30),
            closure_reason=Client.ClosureReason.COMPLETED,
        )
    elif kind == "grant":
        factories.GrantFactory(
            borough=client.borough,
            amount=Decimal(1000 + args[1]),
            starts_on=TODAY - datetime.timedelta(days=args[1]),
            ends_on=TODAY + datetime.timedelta(days=365),
        )
    elif kind == "cost":
        Borough.objects.filter(pk=client.borough_id).update(cost_per_client=Decimal(args[1]))
    elif kind == "assign":
        mentor = Mentor.objects.order_by("pk").first()
        open_now = client.assignments.filter(ended_on__isnull=True)
        if open_now.exists():  # one open assignment per client: end it
            open_now.update(ended_on=TODAY, end_reason=Assignment.EndReason.REASSIGNED)
            return
        factories.AssignmentFactory(
            client=client, mentor=mentor, started_on=TODAY - datetime.timedelta(days=args[1])
        )
    elif kind == "mentor leaves":
        Mentor.objects.filter(home_borough=client.borough).update(
            ended_on=TODAY - datetime.timedelta(days=args[1] % 10)
        )
    elif kind == "mentor visits":
        mentor = Mentor.objects.order_by("pk").first()
        mentor.other_boroughs.add(client.borough)


OTHER_WRITES = [
    "offence",
    "milestone",
    "close",
    "grant",
    "cost",
    "assign",
    "mentor leaves",
    "mentor visits",
]
# One branch per kind: hypothesis flattens nested one_of, so a single branch for all eight
# would be drawn as rarely as one kind of session write (a milestone was never drawn).
MORE = st.one_of(
    *[st.tuples(st.just(kind), st.integers(0, 5), st.integers(1, 400)) for kind in OTHER_WRITES]
)


@settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.one_of(STEP, MORE), min_size=1, max_size=6))
@pytest.mark.parametrize("block", [1, 2, metrics.cache.BLOCK])  # the scope's sums in blocks
def test_cached_dashboards_equal_fresh_ones_after_any_writes(world, steps, block, monkeypatch):
    monkeypatch.setattr(metrics.cache, "BLOCK", block)
    network = Borough.objects.all()
    one = world["boroughs"][0]
    with transaction.atomic():
        metrics.dashboard(network, TODAY)  # everything cached before the writes
        for step in steps:
            event(step[0])
            if step[0] in OTHER_WRITES:
                apply_more(world, step)
            else:
                apply(world, step)
            assert metrics.dashboard(network, TODAY) == fresh_dashboard(network, TODAY)
            assert metrics.dashboard(one, TODAY) == fresh_dashboard(one, TODAY)
        transaction.set_rollback(True)


def version_of(borough):
    """
    (its own version, its sessions version, the sums of its case shards' versions and
    milestones versions).
    """
    own, sessions = summaries.versions([borough.pk])[borough.pk]
    shards = summaries.shard_versions([borough.pk]).get(borough.pk, {}).values()
    return own, sessions, sum(v for v, _m in shards), sum(m for _v, m in shards)


# Which of its borough's numbers each write raises: (its own version, its sessions
# version, its case shards' versions, their milestones versions).
WRITES = {
    "session": (False, True, False, False),
    "session areas": (False, True, False, False),
    "bulk update": (False, True, False, False),
    "offence": (False, False, True, False),
    "milestone": (False, False, False, True),
    "grant": (True, False, False, False),
    "borough": (True, False, False, False),
    "client": (False, True, True, True),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_each_write_raises_its_borough_version_and_no_other(world, write):
    mine, other = world["boroughs"][0], world["boroughs"][1]
    client = world["clients"][0]  # in boroughs[0]
    session = new_session(world, client, 3, "DID_NOT_ATTEND", 60, [])
    before = {b.pk: version_of(b) for b in (mine, other)}
    if write == "session":
        new_session(world, client, 2, "DID_NOT_ATTEND", 60, [])
    elif write == "session areas":
        session.support_areas.set(world["areas"][:2])
    elif write == "offence":
        factories.OffenceFactory(client=client)
    elif write == "milestone":
        factories.MilestoneFactory(client=client)
    elif write == "grant":
        factories.GrantFactory(borough=mine)
    elif write == "client":
        Client.objects.filter(pk=client.pk).update(release_date=TODAY)
    elif write == "borough":
        Borough.objects.filter(pk=mine.pk).update(cost_per_client=1)
    elif write == "bulk update":
        SupportSession.objects.filter(client=client).update(duration_minutes=90)
    after = version_of(mine)
    raised = tuple(now > then for now, then in zip(after, before[mine.pk], strict=True))
    assert raised == WRITES[write]
    assert version_of(other) == before[other.pk]


@pytest.mark.parametrize("write", ["assignment", "mentor", "mentor's boroughs", "borough"])
def test_mentor_writes_raise_the_mentors_version(world, write):
    mentor = world["mentor"]
    before = version_of_id(summaries.MENTORS)
    if write == "assignment":
        factories.AssignmentFactory(client=world["clients"][0], mentor=mentor)
    elif write == "mentor":
        Mentor.objects.filter(pk=mentor.pk).update(max_caseload=9)
    elif write == "mentor's boroughs":
        mentor.other_boroughs.add(world["boroughs"][2])
    elif write == "borough":
        Borough.objects.filter(pk=world["boroughs"][0].pk).update(slug="renamed")
    assert version_of_id(summaries.MENTORS) > before


def version_of_id(pk):
    return summaries.versions([pk])[pk][0]


def test_moving_a_client_raises_both_boroughs(world):
    old, new = world["boroughs"][0], world["boroughs"][1]
    before = (version_of(old), version_of(new))
    Client.objects.filter(pk=world["clients"][0].pk).update(borough=new)
    for borough, then in ((old, before[0]), (new, before[1])):
        own, sessions, shards, milestones = version_of(borough)
        raised = (sessions > then[1], shards > then[2], milestones > then[3])
        assert (own, *raised) == (then[0], True, True, True)


def test_only_changed_halves_of_changed_boroughs_are_computed_again(world, monkeypatch):
    client = world["clients"][2]  # boroughs[2]
    # A second shard in that borough: a client referred the year before.
    factories.ClientFactory(
        borough=client.borough, referred_on=client.referred_on.replace(day=1) - ONE_YEAR
    )
    metrics.dashboard(None, TODAY)
    computed = []
    for name in ("_case_parts", "_shard_milestones", "_session_parts"):
        real = getattr(metrics.cache, name)

        def spy(ids, as_of, name=name, real=real, **options):
            computed.append((name, ids if isinstance(ids, dict) else sorted(ids)))
            return real(ids, as_of, **options)

        monkeypatch.setattr(metrics.cache, name, spy)
    metrics.dashboard(None, TODAY)
    assert computed == []
    new_session(world, world["clients"][1], 1, "ATTENDED", 60, [])  # boroughs[1]
    metrics.dashboard(None, TODAY)
    assert computed == [("_session_parts", [world["boroughs"][1].pk])]
    computed.clear()
    pk, year = world["boroughs"][2].pk, client.referred_on.year
    factories.MilestoneFactory(client=client)
    metrics.dashboard(None, TODAY)
    # The first change of the day in that borough: its milestones read by shard, every
    # shard's cached; its cases not read at all.
    assert computed == [("_shard_milestones", {pk: None})]
    computed.clear()
    factories.MilestoneFactory(client=client)
    metrics.dashboard(None, TODAY)
    # The next: the milestones of that client's shard alone.
    assert computed == [("_shard_milestones", {pk: [year]})]
    computed.clear()
    factories.OffenceFactory(client=client)
    metrics.dashboard(None, TODAY)
    # An offence: the cases of the borough, read by shard the first time, no milestones.
    assert computed == [("_case_parts", {pk: None})]
    computed.clear()
    Client.objects.filter(pk=client.pk).update(release_date=TODAY)
    metrics.dashboard(None, TODAY)
    # The client: both parts of its shard, and the borough's sessions half.
    assert computed == [
        ("_case_parts", {pk: [year]}),
        ("_shard_milestones", {pk: [year]}),
        ("_session_parts", [pk]),
    ]
    assert metrics.dashboard(None, TODAY) == fresh_dashboard(None, TODAY)


def test_a_scope_reads_only_the_block_of_a_changed_borough(world, monkeypatch):
    """
    A scope's sum is cached whole and in blocks of boroughs: unchanged, a dashboard reads
    no borough's halves; after a change in one borough, only its block's.
    """
    monkeypatch.setattr(metrics.cache, "BLOCK", 2)
    ids = sorted(b.pk for b in world["boroughs"])
    assert len(ids) == 3
    metrics.dashboard(None, TODAY)
    asked = []
    real = metrics.cache.borough_parts

    def spy(borough_ids, as_of, versions=None, **options):
        asked.append(sorted(borough_ids))
        return real(borough_ids, as_of, versions, **options)

    monkeypatch.setattr(metrics.cache, "borough_parts", spy)
    metrics.dashboard(None, TODAY)
    assert asked == []
    for borough, block in ((ids[2], [ids[2]]), (ids[0], ids[:2])):
        client = Client.objects.filter(borough_id=borough).first()
        new_session(world, client, 1, "ATTENDED", 60, [])
        asked.clear()
        cached = metrics.dashboard(None, TODAY)
        assert asked == [block]
        assert cached == fresh_dashboard(None, TODAY)


def test_a_rebuild_raises_every_borough(world):
    before = {b.pk: version_of(b) for b in world["boroughs"]}
    summaries.rebuild()
    for b in world["boroughs"]:
        assert all(now > was for now, was in zip(version_of(b), before[b.pk], strict=True))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncate_raises_every_borough(world):
    before = {b.pk: version_of(b) for b in world["boroughs"]}
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE mentoring_milestone")
    for b in world["boroughs"]:
        assert all(now > was for now, was in zip(version_of(b), before[b.pk], strict=True))
    assert BoroughVersion.objects.count() >= 3


def test_a_referral_moved_to_another_year_raises_both_shards(world):
    client = world["clients"][0]
    year = client.referred_on.year
    before = summaries.shard_versions([client.borough_id])[client.borough_id]
    Client.objects.filter(pk=client.pk).update(referred_on=client.referred_on - ONE_YEAR)
    after = summaries.shard_versions([client.borough_id])[client.borough_id]
    assert after[year] > before[year]
    assert year - 1 in after  # the new shard has its row


def test_a_shard_with_clients_and_no_version_is_reported_and_rebuilt(world):
    assert summaries.differences() == []
    client = world["clients"][0]
    CaseShardVersion.objects.filter(borough_id=client.borough_id).delete()
    shard = (client.borough_id, client.referred_on.year)
    assert (summaries.SHARD, shard, None, "a client") in summaries.differences()
    summaries.rebuild()
    assert summaries.differences() == []


def test_figures_are_right_even_if_a_borough_has_lost_its_shard_versions(world):
    """
    The safeguard: a borough none of whose shards is cached is read whole, and a shard
    found with records and no version is counted (and nothing of its borough cached).
    Checked against the figures computed without shards or cache (outcomes_by_borough).
    """
    CaseShardVersion.objects.all().delete()
    expected = metrics.outcomes_by_borough(Client.objects.all(), TODAY)
    for _ in range(2):
        report = metrics.report(Borough.objects.all(), TODAY)
        for borough in world["boroughs"]:
            row = next(b for b in report["boroughs"] if b["slug"] == borough.slug)
            assert {k: row[k] for k in metrics.FIGURES} == expected[borough.pk]
