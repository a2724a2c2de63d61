"""
The session summaries (SessionDay, SessionAreaDay) stay equal to a count made from the
sessions themselves, whatever writes the sessions: the ORM one row at a time, bulk
creation, QuerySet.update(), raw SQL, deletions cascading from a client, a client moved
to another borough, support areas changed, a transaction rolled back, an import, and
(PostgreSQL) TRUNCATE. Hypothesis runs random sequences of those writes; after each
step ``summaries.differences()`` must be empty. The figures the dashboards draw from the
summaries are also checked against plain counts of the sessions.
"""

import datetime
import io
import re
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentoring import metrics, summaries
from mentoring.models import (
    CaseShardVersion,
    Client,
    SessionAreaDay,
    SessionDay,
    SupportArea,
    SupportSession,
)

from .. import factories
from ..helpers import CLEAN_IMPORT

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 26)
ATTENDANCE = [value for value, _label in SupportSession.Attendance.choices]


def assert_summaries_right():
    assert summaries.differences() == []


@pytest.fixture
def world(db):
    return make_world()


def make_world():
    """
    Three boroughs, six active clients across them, a mentor, the support areas. Each
    borough's two clients were referred in different years: two case shards.
    """
    boroughs = [factories.BoroughFactory() for _ in range(3)]
    clients = [
        factories.ClientFactory(
            borough=boroughs[n % 3],
            active=True,
            referred_on=datetime.date(2019 + n % 2, 6, 1),
            started_on=TODAY.replace(year=2024),
        )
        for n in range(6)
    ]
    mentor = factories.MentorFactory(home_borough=boroughs[0])
    return {
        "boroughs": boroughs,
        "clients": clients,
        "mentor": mentor,
        "areas": list(SupportArea.objects.order_by("pk")),
    }


def new_session(world, client, day, attendance, minutes, areas):
    session = SupportSession.objects.create(
        client=client,
        mentor=world["mentor"],
        date=TODAY - datetime.timedelta(days=day),
        attendance=attendance,
        duration_minutes=minutes,
    )
    session.support_areas.set(areas)
    return session


# The writes -----------------------------------------------------------------------------

CLIENT = st.integers(0, 5)
DAY = st.integers(0, 120)
MINUTES = st.sampled_from([5, 30, 60, 90, 720])
ATTEND = st.sampled_from(ATTENDANCE)
AREAS = st.lists(st.integers(0, 9), max_size=4, unique=True)
PICK = st.integers(0, 10_000)

STEP = st.one_of(
    st.tuples(st.just("create"), CLIENT, DAY, ATTEND, MINUTES, AREAS),
    st.tuples(
        st.just("bulk create"), st.lists(st.tuples(CLIENT, DAY, ATTEND, MINUTES), max_size=5)
    ),
    st.tuples(st.just("edit"), PICK, CLIENT, DAY, ATTEND, MINUTES),
    st.tuples(st.just("areas"), PICK, AREAS),
    st.tuples(st.just("update"), DAY, ATTEND),
    st.tuples(st.just("raw update"), PICK, DAY),
    st.tuples(st.just("delete"), PICK),
    st.tuples(st.just("move client"), CLIENT, st.integers(0, 2)),
    st.tuples(st.just("delete client"), CLIENT),
    st.tuples(st.just("rolled back"), CLIENT, DAY, ATTEND),
)


def _pick(number):
    pks = list(SupportSession.objects.order_by("pk").values_list("pk", flat=True))
    return SupportSession.objects.get(pk=pks[number % len(pks)]) if pks else None


def apply(world, step):
    kind, *args = step
    clients = world["clients"]
    areas = world["areas"]
    live = [c for c in clients if Client.objects.filter(pk=c.pk).exists()]
    if not live:
        return
    client_of = lambda n: live[n % len(live)]  # noqa: E731
    if kind == "create":
        n, day, attendance, minutes, chosen = args
        new_session(world, client_of(n), day, attendance, minutes, [areas[i] for i in chosen])
    elif kind == "bulk create":
        (rows,) = args
        made = SupportSession.objects.bulk_create(
            SupportSession(
                client=client_of(n),
                mentor=world["mentor"],
                date=TODAY - datetime.timedelta(days=day),
                attendance=attendance,
                duration_minutes=minutes,
            )
            for n, day, attendance, minutes in rows
        )
        link = SupportSession.support_areas.through
        link.objects.bulk_create(
            link(supportsession_id=s.pk, supportarea_id=areas[i].pk)
            for s in made
            for i in range(s.pk % 3)
        )
    elif kind == "edit":
        number, n, day, attendance, minutes = args
        if session := _pick(number):
            session.client = client_of(n)
            session.date = TODAY - datetime.timedelta(days=day)
            session.attendance = attendance
            session.duration_minutes = minutes
            session.save()
    elif kind == "areas":
        number, chosen = args
        if session := _pick(number):
            session.support_areas.set([areas[i] for i in chosen])
    elif kind == "update":
        day, attendance = args
        SupportSession.objects.filter(date__gte=TODAY - datetime.timedelta(days=day)).update(
            attendance=attendance
        )
    elif kind == "raw update":
        number, day = args
        if session := _pick(number):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {summaries.SESSION} SET date = %s WHERE id = %s",
                    [TODAY - datetime.timedelta(days=day), session.pk],
                )
    elif kind == "delete":
        if session := _pick(args[0]):
            session.delete()
    elif kind == "move client":
        n, borough = args
        client = client_of(n)
        Client.objects.filter(pk=client.pk).update(borough=world["boroughs"][borough])
    elif kind == "delete client":
        if len(live) > 1:
            client_of(args[0]).delete()  # its sessions go with it
    elif kind == "rolled back":
        n, day, attendance = args
        try:
            with transaction.atomic():
                new_session(world, client_of(n), day, attendance, 60, areas[:2])
                raise RuntimeError("roll back")
        except RuntimeError:
            pass


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=10))
def test_summaries_equal_the_sessions_after_any_writes(world, steps):
    with transaction.atomic():
        for step in steps:
            apply(world, step)
            assert_summaries_right()
        transaction.set_rollback(True)


def test_a_new_session_is_counted_in_its_borough_day_and_areas(world):
    client = world["clients"][0]
    areas = world["areas"][:2]
    new_session(world, client, 3, "ATTENDED", 45, areas)
    new_session(world, client, 3, "LATE", 15, areas[:1])
    new_session(world, client, 3, "DID_NOT_ATTEND", 60, areas)
    day = SessionDay.objects.get()
    assert (day.borough, day.date, day.sessions, day.minutes) == (
        client.borough,
        TODAY - datetime.timedelta(days=3),
        2,
        60,
    )
    assert dict(SessionAreaDay.objects.values_list("support_area", "sessions")) == {
        areas[0].pk: 2,
        areas[1].pk: 1,
    }


def test_rows_that_reach_zero_are_removed(world):
    session = new_session(world, world["clients"][0], 1, "ATTENDED", 60, world["areas"][:3])
    session.attendance = "CANCELLED_BY_CLIENT"
    session.save()
    assert not SessionDay.objects.exists()
    assert not SessionAreaDay.objects.exists()


def test_moving_a_client_moves_their_sessions(world):
    client = world["clients"][0]
    new_session(world, client, 1, "ATTENDED", 60, world["areas"][:1])
    other = world["boroughs"][1]
    client.borough = other
    client.save()
    assert list(SessionDay.objects.values_list("borough", flat=True)) == [other.pk]
    assert list(SessionAreaDay.objects.values_list("borough", flat=True)) == [other.pk]
    assert_summaries_right()


def test_an_import_is_counted(db):
    call_command("import_records", str(CLEAN_IMPORT), stdout=io.StringIO())
    assert SessionDay.objects.exists()
    assert_summaries_right()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncate_empties_the_summaries(world):
    new_session(world, world["clients"][0], 1, "ATTENDED", 60, world["areas"][:1])
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no checks
        cursor.execute(f"TRUNCATE {summaries.LINK}")
    assert not SessionAreaDay.objects.exists() and SessionDay.objects.exists()
    assert_summaries_right()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {summaries.SESSION} CASCADE")
    assert not SessionDay.objects.exists()
    assert_summaries_right()


def test_rebuild_restores_a_damaged_summary(world):
    new_session(world, world["clients"][0], 1, "ATTENDED", 60, world["areas"][:2])
    SessionDay.objects.update(sessions=99)
    SessionAreaDay.objects.all().delete()
    assert len(summaries.differences()) == 3
    summaries.rebuild()
    assert_summaries_right()


def test_the_command_checks_and_rebuilds(world):
    new_session(world, world["clients"][0], 1, "ATTENDED", 60, [])
    out = io.StringIO()
    call_command("summaries", "--check", stdout=out)
    assert "match the sessions" in out.getvalue()
    SessionDay.objects.update(minutes=1)
    with pytest.raises(CommandError, match="1 difference"):
        call_command("summaries", "--check", stdout=io.StringIO())
    call_command("summaries", "--rebuild", stdout=out)
    call_command("summaries", "--check", stdout=out)
    client = world["clients"][0]
    CaseShardVersion.objects.filter(borough_id=client.borough_id).delete()
    shard = f"({client.borough_id}, {client.referred_on.year}): has clients and no figures version"
    with pytest.raises(CommandError, match=re.escape(shard)):
        call_command("summaries", "--check", stdout=io.StringIO())
    call_command("summaries", "--rebuild", stdout=out)
    call_command("summaries", "--check", stdout=out)


# The figures drawn from them --------------------------------------------------------------


def test_dashboard_session_figures_equal_plain_counts(world):
    """Monthly sessions and hours, the 28-day counts and the support areas covered."""
    for n in range(40):
        new_session(
            world,
            world["clients"][n % 6],
            (n * 7) % 400,
            ATTENDANCE[n % len(ATTENDANCE)],
            30 + n,
            world["areas"][n % 3 : n % 3 + n % 4],
        )
    attended = SupportSession.objects.filter(attendance__in=SupportSession.ATTENDED_VALUES)
    for scope in [None, world["boroughs"][0], world["boroughs"][1:]]:
        boroughs = metrics.borough_scope(
            [b.pk for b in scope] if isinstance(scope, list) else scope
        )
        mine = attended.filter(client__borough__in=boroughs)
        data = metrics.dashboard(boroughs, TODAY)
        assert sum(month["sessions_attended"] for month in data["monthly"]) > 0, scope
        for month in data["monthly"]:
            in_month = mine.filter(date__year=month["month"].year, date__month=month["month"].month)
            assert month["sessions_attended"] == in_month.count()
            assert month["hours"] * 60 == pytest.approx(sum(s.duration_minutes for s in in_month))
        recent = mine.filter(date__gt=TODAY - datetime.timedelta(days=28))
        assert data["network"]["sessions_last_28_days"] == recent.count()
        window = mine.filter(
            date__gt=TODAY - datetime.timedelta(days=metrics.AREAS_AND_MILESTONES_DAYS)
        )
        covered = Counter(a.slug for s in window for a in s.support_areas.all())
        assert {a["slug"]: a["sessions"] for a in data["support_areas"]} == {
            a.slug: covered.get(a.slug, 0) for a in world["areas"]
        }


@pytest.mark.django_db(transaction=True)
def test_flushing_the_database_leaves_no_summary_behind():
    """
    Django's test flush deletes table by table (on SQLite: the summaries and boroughs may
    go before the sessions); taking a session away must then change nothing, not write a
    row that points at a deleted borough.
    """
    world = make_world()
    new_session(world, world["clients"][0], 1, "ATTENDED", 60, world["areas"][:2])
    call_command("flush", interactive=False, verbosity=0)
    assert not SessionDay.objects.exists()
    assert not SessionAreaDay.objects.exists()


def test_every_trigger_is_on_the_migrated_database():
    """
    A migration that rebuilds a table (SQLite adding a column with a default, say) drops
    its triggers unless it takes them down and puts them back (0020, 0023): then a
    cached figure would silently stop following the data.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {name for (name,) in cursor.fetchall()}
    expected = {name for name, *_rest in summaries._TRIGGERS}
    assert expected
    assert expected - present == set()
