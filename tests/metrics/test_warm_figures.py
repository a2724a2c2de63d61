"""
``manage.py warm_figures`` and the shared figures cache: the day's dashboards computed
before anyone asks, and a cache that is down costs the figures' speed, never the page.
"""

import socket

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from mentoring import metrics
from mentoring.models import Borough

from ..helpers import fresh_dashboard
from .test_summaries import TODAY, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    caches["figures"].clear()
    yield make_world()
    caches["figures"].clear()


def queries_of(call):
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return len(captured), result


def test_after_warming_every_dashboard_is_read_from_the_cache(world, capsys):
    call_command("warm_figures", "--as-of", TODAY.isoformat())
    out, err = capsys.readouterr()
    boroughs = Borough.objects.count()
    assert boroughs == len(world["boroughs"]) == 3
    assert f"Figures as of {TODAY.isoformat()} for {boroughs} boroughs and the network" in out
    assert "SOS_FIGURES_CACHE is not set" in err  # local memory: says what it cannot do
    # The counts of a dashboard with everything cached (test_metrics): nothing computed.
    assert queries_of(lambda: metrics.dashboard(None, TODAY))[0] == 5
    for borough in Borough.objects.all():
        n, cached = queries_of(lambda borough=borough: metrics.dashboard(borough, TODAY))
        assert n == 5
        assert cached == fresh_dashboard(borough, TODAY)


def test_a_bad_day_is_refused_by_name(world):
    with pytest.raises(CommandError, match="--as-of must be a date as YYYY-MM-DD"):
        call_command("warm_figures", "--as-of", "27/11/2026")


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the probe goes


def _figures_cache_at(location):
    return override_settings(
        CACHES={
            **django_settings.CACHES,
            "figures": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": location,
                "KEY_PREFIX": "sos-test",
                "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
            },
        }
    )


def test_a_figures_cache_that_is_down_costs_speed_not_the_page(world, client, manager, caplog):
    with _figures_cache_at(f"redis://127.0.0.1:{_closed_port()}/0"):
        assert metrics.dashboard(None, TODAY) == fresh_dashboard(None, TODAY)
        client.force_login(manager)
        assert client.get("/dashboard/").status_code == 200
    assert "figures cache unavailable" in caplog.text


def _redis_reachable():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="needs Redis on 127.0.0.1:6379")
def test_figures_shared_through_redis_equal_fresh_ones(world):
    """The shared cache round-trips every part of a dashboard (pickled through Redis)."""
    from .test_summaries import new_session

    with _figures_cache_at("redis://127.0.0.1:6379/15"):
        caches["figures"].clear()
        try:
            metrics.dashboard(None, TODAY)
            assert queries_of(lambda: metrics.dashboard(None, TODAY))[0] == 5
            new_session(world, world["clients"][0], 1, "ATTENDED", 60, [])
            assert metrics.dashboard(None, TODAY) == fresh_dashboard(None, TODAY)
        finally:
            caches["figures"].clear()
