"""Session lifetime: idle and absolute timeouts, sign-out and deactivation end sessions."""

import datetime
import time

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client as BrowserClient
from django.urls import reverse

from accounts import signed_in
from accounts.models import SignedInSession

from ..factories import PASSWORD
from ..helpers import sign_in


@pytest.fixture
def clock():
    """Time stands still at 09:00 until a test moves it on with ``clock.shift(seconds)``."""
    with time_machine.travel(
        datetime.datetime(2026, 11, 2, 9, tzinfo=datetime.UTC), tick=False
    ) as traveller:
        yield traveller


def test_sign_in_gives_a_new_session_key(coordinator_a):
    browser = BrowserClient()
    browser.get(reverse("login"))
    before = browser.cookies.get("sessionid")
    browser.post(reverse("login"), {"username": "coord_a", "password": PASSWORD})
    after = browser.cookies["sessionid"].value
    assert before is None or before.value != after


def test_idle_for_31_minutes_signs_out(coordinator_a, clock):
    browser = sign_in(BrowserClient(), coordinator_a)
    clock.shift(31 * 60)
    response = browser.get(reverse("client_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert browser.get(reverse("client_list")).status_code == 302


def test_activity_within_30_minutes_keeps_the_session(coordinator_a, clock):
    browser = sign_in(BrowserClient(), coordinator_a)
    clock.shift(29 * 60)
    assert browser.get(reverse("client_list")).status_code == 200
    assert browser.session[signed_in.LAST_SEEN] == time.time()
    # Each visit restarts the 30 minutes.
    clock.shift(29 * 60)
    assert browser.get(reverse("client_list")).status_code == 200


def test_twelve_hours_after_sign_in_the_session_ends_even_if_active(coordinator_a, clock):
    browser = sign_in(BrowserClient(), coordinator_a)
    for _ in range(12 * 4):  # a visit every 15 minutes for 12 hours
        clock.shift(15 * 60)
        assert browser.get(reverse("home")).status_code == 200
    clock.shift(1)
    response = browser.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_timeout_ends_only_that_session(coordinator_a, clock):
    first = sign_in(BrowserClient(), coordinator_a)
    clock.shift(20 * 60)
    second = sign_in(BrowserClient(), coordinator_a)
    clock.shift(11 * 60)
    assert first.get(reverse("home")).status_code == 302
    assert second.get(reverse("home")).status_code == 200


def test_signing_out_ends_every_session_of_the_user(coordinator_a, coordinator_b):
    laptop, phone = sign_in(BrowserClient(), coordinator_a), sign_in(BrowserClient(), coordinator_a)
    colleague = sign_in(BrowserClient(), coordinator_b)
    assert SignedInSession.objects.filter(user=coordinator_a).count() == 2
    laptop.post(reverse("logout"))
    assert phone.get(reverse("home")).status_code == 302
    assert colleague.get(reverse("home")).status_code == 200
    assert not SignedInSession.objects.filter(user=coordinator_a).exists()


def test_changing_the_password_ends_other_sessions(coordinator_a):
    laptop, phone = sign_in(BrowserClient(), coordinator_a), sign_in(BrowserClient(), coordinator_a)
    response = laptop.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase-2026",
            "new_password2": "a-new-long-passphrase-2026",
        },
    )
    assert response.status_code == 302
    assert laptop.get(reverse("home")).status_code == 200
    assert phone.get(reverse("home")).status_code == 302


def test_deactivating_a_user_ends_their_sessions(coordinator_a):
    browser = sign_in(BrowserClient(), coordinator_a)
    key = browser.session.session_key
    coordinator_a.is_active = False
    coordinator_a.save()
    assert not Session.objects.filter(session_key=key).exists()
    assert browser.get(reverse("home")).status_code == 302


@pytest.mark.parametrize("setting", ["SESSION_COOKIE_HTTPONLY"])
def test_session_cookie_is_http_only(settings, setting):
    assert getattr(settings, setting) is True
    assert settings.SESSION_COOKIE_SAMESITE in ("Lax", "Strict")
