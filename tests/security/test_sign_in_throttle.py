"""Throttled sign-in: 5 failures lock that username from that address for 15 minutes."""

import datetime
import logging

import time_machine
from axes.models import AccessAttempt
from django.test import Client as BrowserClient
from django.urls import reverse

from ..factories import PASSWORD

WRONG = "not-the-password"


def attempt(user, password, address="10.0.0.1"):
    browser = BrowserClient(REMOTE_ADDR=address)
    return browser.post(reverse("login"), {"username": user.username, "password": password})


def fail_five_times(user, address="10.0.0.1"):
    for _ in range(5):
        response = attempt(user, WRONG, address)
    return response


def test_four_failures_then_the_right_password_signs_in(coordinator_a):
    for _ in range(4):
        assert attempt(coordinator_a, WRONG).status_code == 200
    assert attempt(coordinator_a, PASSWORD).status_code == 302


def test_five_failures_lock_the_pair_even_with_the_right_password(coordinator_a):
    response = fail_five_times(coordinator_a)
    assert response.status_code == 429
    locked = attempt(coordinator_a, PASSWORD)
    assert locked.status_code == 429
    assert "locked for 15 minutes" in locked.content.decode()


def test_other_users_and_other_addresses_are_unaffected(coordinator_a, coordinator_b):
    fail_five_times(coordinator_a, address="10.0.0.1")
    assert attempt(coordinator_b, PASSWORD, address="10.0.0.1").status_code == 302
    assert attempt(coordinator_a, PASSWORD, address="10.0.0.2").status_code == 302


START = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)


def test_the_lock_holds_for_15_minutes(coordinator_a):
    with time_machine.travel(START, tick=False) as clock:
        fail_five_times(coordinator_a)
        clock.shift(datetime.timedelta(minutes=14, seconds=50))
        assert attempt(coordinator_a, PASSWORD).status_code == 429


def test_the_lock_lifts_after_15_minutes(coordinator_a):
    with time_machine.travel(START, tick=False) as clock:
        fail_five_times(coordinator_a)
        clock.shift(datetime.timedelta(minutes=15, seconds=10))
        assert attempt(coordinator_a, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username=coordinator_a.username).exists()


def test_failures_are_logged_with_user_and_address_never_the_password(coordinator_a, caplog):
    with caplog.at_level(logging.WARNING, logger="axes"):
        fail_five_times(coordinator_a)
    text = caplog.text
    assert coordinator_a.username in text
    assert "10.0.0.1" in text
    assert WRONG not in text
    stored = AccessAttempt.objects.get(username=coordinator_a.username)
    assert stored.ip_address == "10.0.0.1"
    assert stored.failures_since_start == 5
    assert WRONG not in str(stored.post_data)


def test_lock_out_setting_matches_the_policy(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
