"""
Dashboards on a read replica (``SOS_REPLICA_URL``, mentoring/replica.py): their figures are
read from the replica, and everything else, every write included, from the primary. A
replica that fails costs time, never a page.

The replica here is a second connection to the test database, as a standby is a second
server with the same data. A second connection sees only what is committed, so these
tests commit their data (``transaction=True``).
"""

import copy
import logging
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import OperationalError, ProgrammingError, connections
from django.test.utils import CaptureQueriesContext

from mentoring import metrics, replica
from mentoring.models import Borough, SupportSession

from .. import factories
from ..helpers import fresh_dashboard_page
from .test_summaries import TODAY, make_world, new_session

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", replica.REPLICA])

FIGURES_TABLES = ("mentoring_boroughversion", "mentoring_caseshardversion", "GROUP BY")


@pytest.fixture
def add_replica(monkeypatch, settings):
    """
    ``add_replica(**changes)``: dashboards read from the "replica" alias (tests/conftest.py,
    the test database's own), its settings changed by ``changes`` for this test.
    """
    monkeypatch.setattr(replica, "_retry_at", 0.0)
    monkeypatch.setattr(replica, "_lag_checked_at", float("-inf"))
    monkeypatch.setattr(replica, "_problem", "unavailable")
    monkeypatch.setattr(replica, "_lag", replica.Lag())
    standby = connections[replica.REPLICA]
    saved = copy.deepcopy(standby.settings_dict)

    def add(**changes):
        settings.REPLICA_URL = "the test database"  # as SOS_REPLICA_URL does
        standby.settings_dict.update(changes)
        standby.close()  # after the change: SQLite keeps a connection to memory open
        return standby

    yield add
    standby.close()
    standby.settings_dict.clear()
    standby.settings_dict.update(saved)


def unreachable():
    """Settings changes that leave the replica alias unable to connect."""
    if connections["default"].vendor == "postgresql":
        return {"HOST": "127.0.0.1", "PORT": "1"}  # nothing listens on port 1
    return {"NAME": "/nonexistent-folder/replica.sqlite3"}


@pytest.fixture
def world():
    factories.seed_support_areas()  # an earlier transactional test's flush took them
    world = make_world()
    clients = world["clients"]
    new_session(world, clients[0], 1, "ATTENDED", 60, world["areas"][:2])
    new_session(world, clients[1], 3, "ATTENDED", 45, world["areas"][:1])
    return world


@contextmanager
def on_both():
    """The queries run meanwhile on the primary and on the replica."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[replica.REPLICA]) as standby,
    ):
        yield primary, standby


def reads_figures(queries):
    return [q["sql"] for q in queries if any(t in q["sql"] for t in FIGURES_TABLES)]


def test_a_dashboards_figures_come_from_the_replica_and_the_rest_from_the_primary(
    world, client, manager, add_replica
):
    """
    The versions that key the figures cache are read from the replica with the data they
    key, so a lagging replica can never cache old figures under new versions.
    """
    borough = world["boroughs"][0]
    add_replica()
    client.force_login(manager)
    with on_both() as (primary, standby):
        response = client.get(f"/dashboard/{borough.slug}/?as_of={TODAY.isoformat()}")
    assert response.status_code == 200
    assert reads_figures(primary.captured_queries) == []
    on_replica = reads_figures(standby.captured_queries)
    assert len(on_replica) >= 15
    first_aggregate = next(i for i, sql in enumerate(on_replica) if "GROUP BY" in sql)
    for versions in ("mentoring_boroughversion", "mentoring_caseshardversion"):
        assert any(versions in sql for sql in on_replica[:first_aggregate]), versions
    data = response.context["data"]
    assert data == fresh_dashboard_page(borough, TODAY)
    assert sum(area["sessions"] for area in data["support_areas"]) == 2  # one session, two areas


def test_the_network_dashboard_and_its_downloads_read_from_the_replica(
    world, client, manager, add_replica
):
    add_replica()
    client.force_login(manager)
    for query in ("", "&download=figures", "&download=monthly"):
        with on_both() as (primary, standby):
            response = client.get(f"/dashboard/?as_of={TODAY.isoformat()}{query}")
        assert response.status_code == 200, query
        assert reads_figures(primary.captured_queries) == [], query
        assert reads_figures(standby.captured_queries), query


def test_who_may_see_which_borough_is_decided_on_the_primary(
    borough_a, borough_b, client, coordinator_a, add_replica
):
    """A lagging replica never widens a user's scope: their boroughs come from the primary."""
    add_replica()
    client.force_login(coordinator_a)
    with on_both() as (primary, standby):
        response = client.get(f"/dashboard/?as_of={TODAY.isoformat()}")
    assert response.status_code == 200
    assert [b["slug"] for b in response.context["data"]["boroughs"]] == ["southwark"]
    scope = "mentoring_staffprofile_boroughs"
    assert any(scope in q["sql"] for q in primary.captured_queries)
    assert not any(scope in q["sql"] for q in standby.captured_queries)
    assert reads_figures(standby.captured_queries)


def test_case_pages_stay_on_the_primary(borough_a, client, coordinator_a, add_replica):
    """A coordinator sees at once what they saved: nothing of theirs is read from a replica."""
    add_replica()
    case = factories.ClientFactory(borough=borough_a, active=True)
    client.force_login(coordinator_a)
    with CaptureQueriesContext(connections[replica.REPLICA]) as standby:
        assert client.get(f"/clients/{case.reference}/").status_code == 200
        assert client.get("/clients/").status_code == 200
    assert standby.captured_queries == []


def test_an_object_read_from_the_replica_is_saved_to_the_primary(world, add_replica):
    add_replica()
    pk = world["boroughs"][0].pk
    borough = replica.on_replica(Borough.objects.get, pk=pk)
    assert borough._state.db == replica.REPLICA
    borough.name = "Renamed on the primary"
    with on_both() as (primary, standby):
        replica.on_replica(borough.save)
    assert any(q["sql"].startswith("UPDATE") for q in primary.captured_queries)
    assert not any(q["sql"].startswith("UPDATE") for q in standby.captured_queries)
    assert Borough.objects.get(pk=pk).name == "Renamed on the primary"


def test_an_unreachable_replica_costs_time_not_the_page(
    world, client, manager, add_replica, caplog
):
    """The page is computed on the primary, and the replica left alone for a while."""
    borough = world["boroughs"][0]
    add_replica(**unreachable())
    client.force_login(manager)
    url = f"/dashboard/{borough.slug}/?as_of={TODAY.isoformat()}"
    with caplog.at_level(logging.WARNING, logger="mentoring.replica"):
        first = client.get(url)
        second = client.get(url)
    assert first.status_code == second.status_code == 200
    assert first.context["data"] == fresh_dashboard_page(borough, TODAY)
    failures = [r for r in caplog.records if "Read replica failed" in r.getMessage()]
    assert len(failures) == 1  # the second view did not try the replica again


def test_the_replica_is_tried_again_after_a_while(world, add_replica, monkeypatch):
    add_replica()
    clock = {"now": 1000.0}
    monkeypatch.setattr(replica.time, "monotonic", lambda: clock["now"])
    tried = []

    def compute():
        tried.append(replica._reads.get())
        return metrics.dashboard(None, TODAY)

    def fail_on_replica():
        if replica._reads.get() == replica.REPLICA:
            raise OperationalError("could not connect to server")
        return compute()

    replica.on_replica(fail_on_replica)
    replica.on_replica(compute)  # within RETRY_AFTER: the primary at once
    clock["now"] += replica.RETRY_AFTER
    replica.on_replica(compute)  # then the replica again
    assert tried == [None, None, replica.REPLICA]


@pytest.mark.parametrize("fail_after", [0, 10])
@pytest.mark.parametrize(
    "error",
    [
        OperationalError("canceling statement due to conflict with recovery"),
        ProgrammingError('relation "mentoring_caseshardversion" does not exist'),
    ],
    ids=["recovery conflict", "schema not yet replayed"],
)
def test_a_query_failing_on_the_replica_is_run_again_on_the_primary(
    world, client, manager, add_replica, caplog, fail_after, error
):
    """
    A standby cancels queries that conflict with its recovery, and lacks a table until it
    has replayed the migration that made it; the page still shows, from the primary, at
    once or after figures already cached from the replica, and stays right afterwards.
    """
    borough = world["boroughs"][0]
    standby = add_replica()
    ran = []

    def failing(execute, sql, params, many, context):
        ran.append(sql)
        if len(ran) > fail_after:
            raise error
        return execute(sql, params, many, context)

    client.force_login(manager)
    url = f"/dashboard/{borough.slug}/?as_of={TODAY.isoformat()}"
    with (
        standby.execute_wrapper(failing),
        CaptureQueriesContext(connections["default"]) as primary,
        caplog.at_level(logging.WARNING, logger="mentoring.replica"),
    ):
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["data"] == fresh_dashboard_page(borough, TODAY)
    assert reads_figures(primary.captured_queries)
    assert str(error) in caplog.text
    assert client.get(url).context["data"] == fresh_dashboard_page(borough, TODAY)


def test_a_query_that_fails_on_the_primary_too_raises_its_error(world, add_replica):
    """A bad query is a bug: it is tried again on the primary, and its error raised there."""
    add_replica()
    tried = []

    def faulty():
        tried.append(replica._reads.get())
        raise ProgrammingError("column does not exist")

    with pytest.raises(ProgrammingError):
        replica.on_replica(faulty)
    assert tried == [replica.REPLICA, None]


def test_the_fallback_reads_from_the_primary_even_inside_another_replica_read(add_replica):
    add_replica()
    tried = []

    def inner():
        tried.append(replica._reads.get())
        if replica._reads.get() == replica.REPLICA:
            raise OperationalError("server closed the connection unexpectedly")

    replica.on_replica(replica.on_replica, inner)
    assert tried == [replica.REPLICA, None]


def test_a_replica_too_far_behind_is_not_read(world, client, manager, add_replica, monkeypatch):
    """A standby that stopped replaying would show frozen figures: the primary's instead."""
    add_replica()
    monkeypatch.setattr(replica, "lag", lambda: replica.MAX_LAG + 1.0)
    client.force_login(manager)
    with on_both() as (primary, standby):
        response = client.get(f"/dashboard/?as_of={TODAY.isoformat()}")
    assert response.status_code == 200
    assert reads_figures(primary.captured_queries)
    assert reads_figures(standby.captured_queries) == []
    assert client.get("/health/").json()["replica"] == "lagging"


def test_the_lag_is_checked_now_and_then_not_on_every_view(world, add_replica, monkeypatch):
    add_replica()
    clock = {"now": 1000.0}
    monkeypatch.setattr(replica.time, "monotonic", lambda: clock["now"])
    checks = []
    monkeypatch.setattr(replica, "lag", lambda: checks.append(clock["now"]) or 0.0)
    for _ in range(3):
        replica.on_replica(metrics.dashboard, None, TODAY)
    clock["now"] += replica.CHECK_LAG_EVERY
    replica.on_replica(metrics.dashboard, None, TODAY)
    assert checks == [1000.0, 1000.0 + replica.CHECK_LAG_EVERY]


def test_a_replica_is_behind_from_when_it_lacked_what_the_primary_had_written():
    """
    Behind since the first check that found it without the primary's latest writes, until
    it has replayed them; progress past those starts the count again.
    """
    lag = replica.Lag()
    assert lag.seen(0, "0/A", in_recovery=True, caught_up=True, past_mark=True) == 0
    assert lag.seen(5, "0/B", in_recovery=True, caught_up=False, past_mark=False) == 0
    assert lag.since == (5, "0/B")
    assert lag.seen(15, "0/C", in_recovery=True, caught_up=False, past_mark=False) == 10
    assert lag.seen(70, "0/D", in_recovery=True, caught_up=False, past_mark=False) == 65
    assert lag.seen(80, "0/E", in_recovery=True, caught_up=False, past_mark=True) == 0
    assert lag.since == (80, "0/E")
    assert lag.seen(90, "0/F", in_recovery=True, caught_up=True, past_mark=True) == 0
    assert lag.since is None
    assert lag.seen(95, "0/G", in_recovery=False, caught_up=False, past_mark=False) == 0


def test_the_lag_of_a_database_that_is_not_a_standby_is_none(add_replica):
    """The real query (on PostgreSQL, against the primary's write position) runs here."""
    add_replica()
    assert replica.lag() == 0.0


def test_health_says_whether_the_replica_answers(client, add_replica):
    assert client.get("/health/").json() == {"status": "ok", "database": "ok"}
    add_replica()
    assert client.get("/health/").json()["replica"] == "ok"


def test_health_stays_ok_when_only_the_replica_is_down(client, add_replica):
    add_replica(**unreachable())
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "replica": "unavailable"}


def test_a_replica_found_down_by_the_health_check_is_left_alone_for_a_while(
    world, client, manager, add_replica, monkeypatch
):
    """A load balancer's checks do not each wait on a replica that is down."""
    clock = {"now": 1000.0}
    monkeypatch.setattr(replica.time, "monotonic", lambda: clock["now"])
    standby = add_replica()
    working = {key: standby.settings_dict[key] for key in unreachable()}
    add_replica(**unreachable())
    assert client.get("/health/").json()["replica"] == "unavailable"
    add_replica(**working)  # repaired, but not tried before its time
    client.force_login(manager)
    with CaptureQueriesContext(standby) as on_standby:
        assert client.get("/health/").json()["replica"] == "unavailable"
        assert client.get(f"/dashboard/?as_of={TODAY.isoformat()}").status_code == 200
    assert on_standby.captured_queries == []
    clock["now"] += replica.RETRY_AFTER
    assert client.get("/health/").json()["replica"] == "ok"


def test_warm_figures_reads_from_the_replica(world, add_replica, capsys):
    add_replica()
    with on_both() as (primary, standby):
        call_command("warm_figures", "--as-of", TODAY.isoformat())
    assert reads_figures(primary.captured_queries) == []
    assert reads_figures(standby.captured_queries)
    assert "for 3 boroughs and the network" in capsys.readouterr().out


def test_the_outcomes_report_reads_from_the_replica(world, add_replica, capsys):
    add_replica()
    with on_both() as (primary, standby):
        call_command("outcomes_report", "--as-of", TODAY.isoformat(), "--format", "csv")
    assert reads_figures(primary.captured_queries) == []
    assert reads_figures(standby.captured_queries)
    assert capsys.readouterr().out.count("\n") == 1 + 1 + 3  # header, network, 3 boroughs


def test_the_outcomes_report_looks_a_borough_up_where_it_reads_the_figures(world, add_replica):
    add_replica()
    slug = world["boroughs"][0].slug
    with on_both() as (primary, standby):
        call_command("outcomes_report", "--as-of", TODAY.isoformat(), "--borough", slug)
    assert not any("mentoring_borough" in q["sql"] for q in primary.captured_queries)
    assert any(slug in q["sql"] and "LIMIT 1" in q["sql"] for q in standby.captured_queries)


def test_without_a_replica_everything_reads_from_the_primary(world, client, manager):
    assert not replica.configured()
    client.force_login(manager)
    with CaptureQueriesContext(connections["default"]) as primary:
        assert client.get(f"/dashboard/?as_of={TODAY.isoformat()}").status_code == 200
    assert reads_figures(primary.captured_queries)
    assert replica.on_replica(SupportSession.objects.count) == 2


def test_the_replica_is_never_migrated():
    router = replica.Router()
    assert router.allow_migrate(replica.REPLICA, "mentoring") is False
    assert router.allow_migrate("default", "mentoring") is True


def test_objects_read_from_either_database_may_be_related(world, add_replica):
    add_replica()
    borough = replica.on_replica(Borough.objects.get, pk=world["boroughs"][0].pk)
    case = world["clients"][0]
    assert replica.Router().allow_relation(borough, case) is True
    other = Borough(name="Elsewhere")
    other._state.db = "archive"
    assert replica.Router().allow_relation(other, case) is None
