"""
The fixed cast of users every test can ask for: an admin, a coordinator in borough A,
a coordinator in borough B, a manager over all boroughs and a mentor in borough A.
"""

import copy

import pytest
from django.db import connections

from mentoring import replica
from mentoring.models import StaffProfile

from . import factories

# A read replica for the tests that ask for one (tests/metrics/test_replica.py): the test
# database itself, through a second connection, as a standby is a second server with the
# same data. It replaces any replica SOS_REPLICA_URL configured, and is unused unless a
# test sets REPLICA_URL (``no_replica_unless_asked``).
connections.settings[replica.REPLICA] = {
    **copy.deepcopy(connections.settings["default"]),
    "TEST": {**connections.settings["default"]["TEST"], "MIRROR": "default"},
}


@pytest.fixture(autouse=True)
def no_replica_unless_asked(settings):
    settings.REPLICA_URL = ""


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The cast's passwords are hashed with MD5 in tests: a strong hash costs ~0.5s each."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        # Still able to check passwords hashed outside a test, e.g. by the demo data.
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def empty_figures_cache():
    """
    Each test starts with no cached figures: ids and versions come round again when a
    test's transaction rolls back (SQLite reuses ids), so another test's entry could match.
    """
    from django.core.cache import caches

    caches["figures"].clear()


@pytest.fixture
def borough_a(db):
    return factories.BoroughFactory(name="Southwark", slug="southwark", code="SWK")


@pytest.fixture
def borough_b(db):
    return factories.BoroughFactory(name="Croydon", slug="croydon", code="CRO")


@pytest.fixture
def admin_user(db):
    return factories.UserFactory(username="sos_admin", is_staff=True, is_superuser=True)


@pytest.fixture
def coordinator_a(borough_a):
    return factories.StaffProfileFactory(
        user__username="coord_a", boroughs=[borough_a], role=StaffProfile.Role.COORDINATOR
    ).user


@pytest.fixture
def coordinator_b(borough_b):
    return factories.StaffProfileFactory(
        user__username="coord_b", boroughs=[borough_b], role=StaffProfile.Role.COORDINATOR
    ).user


@pytest.fixture
def manager(db):
    return factories.StaffProfileFactory(
        user__username="manager", role=StaffProfile.Role.MANAGER
    ).user


@pytest.fixture
def mentor_a(borough_a):
    """A mentor record in borough A with a login of its own."""
    user = factories.StaffProfileFactory(
        user__username="mentor_a", role=StaffProfile.Role.MENTOR, boroughs=[borough_a]
    ).user
    return factories.MentorFactory(user=user, home_borough=borough_a, first_name="Andre")


@pytest.fixture(scope="class")
def demo_data(django_db_setup, django_db_blocker):
    """
    The demo data set, loaded once for a test class and removed after it. Tests using it
    also take ``db`` so their own writes are rolled back. Returns the command's output.
    """
    from io import StringIO

    from django.core.management import call_command

    from mentoring.seed.demo import DemoBuilder

    out = StringIO()
    with django_db_blocker.unblock():
        call_command("seed_demo", "--today", "2026-11-26", stdout=out)
    yield out.getvalue()
    with django_db_blocker.unblock():
        DemoBuilder.reset()
