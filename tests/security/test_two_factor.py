"""
Two-factor sign-in: TOTP from an authenticator app or a single-use recovery code, for
every role and the Django admin, enforced whenever SOS_REQUIRE_2FA is on (always outside
development mode).
"""

import base64
import re

import pytest
import time_machine
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.two_factor import RECOVERY_CODE_COUNT

from ..helpers import sign_in
from .test_settings import run_python

pytestmark = pytest.mark.django_db

START = "2026-11-02 09:00:00+00:00"


@pytest.fixture(autouse=True)
def require_2fa(settings):
    settings.SOS_REQUIRE_2FA = True


def code_for(device, at_offset_steps=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + at_offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def enrol(user):
    """A confirmed authenticator app and recovery codes for ``user``."""
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="Recovery codes")
    StaticToken.objects.create(device=static, token="abcd2345")
    return device


# --- enforcement -----------------------------------------------------------------------


def test_password_alone_reaches_only_the_set_up_page(client, coordinator_a):
    sign_in(client, coordinator_a)
    response = client.get(reverse("client_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_setup"))
    assert "next=/clients/" in response.url


@pytest.mark.parametrize(
    "user_fixture", ["coordinator_a", "manager", "mentor_a", "admin_user"], ids=str
)
def test_every_role_with_a_device_is_sent_to_verify(client, request, user_fixture):
    user = request.getfixturevalue(user_fixture)
    user = getattr(user, "user", None) or user  # mentor_a is a Mentor with a login
    enrol(user)
    sign_in(client, user)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_verify"))


def test_admin_is_behind_the_same_check(client, admin_user):
    enrol(admin_user)
    sign_in(client, admin_user)
    for url in (reverse("admin:index"), reverse("admin:mentoring_client_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("two_factor_verify")), url


def test_pages_open_to_anonymous_visitors_stay_open_before_the_second_step(client, coordinator_a):
    sign_in(client, coordinator_a)
    for name in ("login", "password_reset", "health", "two_factor_setup"):
        assert client.get(reverse(name)).status_code == 200, name
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_development_mode_without_the_setting_does_not_ask(client, coordinator_a, settings):
    settings.SOS_REQUIRE_2FA = False
    client.force_login(coordinator_a)
    assert client.get(reverse("home")).status_code == 200


def test_production_settings_require_two_factor_and_refuse_to_switch_it_off():
    show = "from django.conf import settings; print(settings.SOS_REQUIRE_2FA)"
    secret = "a-long-random-test-value-" * 3
    on = run_python("-c", f"import django; django.setup(); {show}", SECRET_KEY=secret)
    assert on.returncode == 0, on.stderr
    assert on.stdout.strip() == "True"
    off = run_python(
        "-c", f"import django; django.setup(); {show}", SECRET_KEY=secret, SOS_REQUIRE_2FA="0"
    )
    assert off.returncode != 0
    assert "SOS_REQUIRE_2FA cannot be switched off outside development mode" in off.stderr
    dev = run_python(
        "-c", f"import django; django.setup(); {show}", SOS_DEV_MODE="1", SOS_REQUIRE_2FA="0"
    )
    assert dev.stdout.strip() == "False"


# --- enrolment -------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_text_key_then_recovery_codes(client, coordinator_a):
    sign_in(client, coordinator_a)
    page = client.get(reverse("two_factor_setup") + "?next=/clients/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html
    device = TOTPDevice.objects.get(user=coordinator_a, confirmed=False)
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    shown = re.search(r'id="text-key">([A-Z2-7 ]+)<', html).group(1)
    assert shown.replace(" ", "") == key

    # Reloading keeps the same key, so a half-finished enrolment is not wasted.
    client.get(reverse("two_factor_setup"))
    assert TOTPDevice.objects.filter(user=coordinator_a).count() == 1

    response = client.post(
        reverse("two_factor_setup"), {"code": code_for(device), "next": "/clients/"}
    )
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(codes) == RECOVERY_CODE_COUNT
    assert set(codes) == set(
        StaticToken.objects.filter(device__user=coordinator_a).values_list("token", flat=True)
    )
    # The session passed the second step.
    assert client.get(reverse("client_list")).status_code == 200


def test_a_wrong_enrolment_code_leaves_the_device_unconfirmed(client, coordinator_a):
    sign_in(client, coordinator_a)
    client.get(reverse("two_factor_setup"))
    response = client.post(reverse("two_factor_setup"), {"code": "000000"})
    assert response.status_code == 200
    assert "That code did not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=coordinator_a, confirmed=True).exists()
    assert not StaticToken.objects.filter(device__user=coordinator_a).exists()
    assert client.get(reverse("home")).status_code == 302


def test_an_enrolled_user_cannot_enrol_a_second_app_without_passing_the_first(
    client, coordinator_a
):
    enrol(coordinator_a)
    sign_in(client, coordinator_a)
    response = client.get(reverse("two_factor_setup"))
    assert response.status_code == 302
    assert response.url == reverse("two_factor_verify")


# --- verification ----------------------------------------------------------------------


def test_a_correct_code_opens_the_app_and_a_used_code_cannot_be_reused(
    client, coordinator_a, django_user_model
):
    device = enrol(coordinator_a)
    with time_machine.travel(START, tick=False):
        code = code_for(device)
        sign_in(client, coordinator_a)
        response = client.post(
            reverse("two_factor_verify"), {"code": code, "next": reverse("client_list")}
        )
        assert response.status_code == 302
        assert response.url == reverse("client_list")
        assert client.get(reverse("client_list")).status_code == 200

        # The same code in another browser, within the same 30 seconds, is refused.
        from django.test import Client

        other = Client()
        sign_in(other, coordinator_a)
        replay = other.post(reverse("two_factor_verify"), {"code": code})
        assert replay.status_code == 200
        assert "already been used" in replay.content.decode()
        assert other.get(reverse("home")).status_code == 302


def test_codes_with_spaces_are_accepted(client, coordinator_a):
    device = enrol(coordinator_a)
    with time_machine.travel(START, tick=False):
        code = code_for(device)
        sign_in(client, coordinator_a)
        response = client.post(reverse("two_factor_verify"), {"code": f"{code[:3]} {code[3:]}"})
    assert response.status_code == 302


def test_a_recovery_code_works_once(client, coordinator_a):
    enrol(coordinator_a)
    sign_in(client, coordinator_a)
    response = client.post(reverse("two_factor_verify"), {"code": "ABCD-2345"})
    assert response.status_code == 302
    assert not StaticToken.objects.filter(token="abcd2345").exists()
    client.post(reverse("logout"))

    sign_in(client, coordinator_a)
    response = client.post(reverse("two_factor_verify"), {"code": "abcd2345"})
    assert response.status_code == 200
    assert "already been used" in response.content.decode()


def test_wrong_codes_are_throttled_then_allowed_again(client, coordinator_a):
    device = enrol(coordinator_a)
    sign_in(client, coordinator_a)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(3):
            client.post(reverse("two_factor_verify"), {"code": "111111"})
        # Even the right code waits out the back-off after repeated failures.
        response = client.post(reverse("two_factor_verify"), {"code": code_for(device)})
        assert response.status_code == 200
        assert "Too many wrong codes" in response.content.decode()
        clock.shift(120)
        response = client.post(reverse("two_factor_verify"), {"code": code_for(device)})
    assert response.status_code == 302


def test_next_cannot_send_the_user_to_another_site(client, coordinator_a):
    device = enrol(coordinator_a)
    with time_machine.travel(START, tick=False):
        sign_in(client, coordinator_a)
        response = client.post(
            reverse("two_factor_verify"),
            {"code": code_for(device), "next": "https://evil.example/steal"},
        )
    assert response.status_code == 302
    assert response.url == reverse("home")


# --- recovery codes and the admin ------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones(client, coordinator_a):
    enrol(coordinator_a)
    sign_in(client, coordinator_a)
    client.post(reverse("two_factor_verify"), {"code": "abcd2345"})
    StaticToken.objects.create(
        device=StaticDevice.objects.get(user=coordinator_a), token="oldcode7"
    )
    page = client.get(reverse("two_factor"))
    assert "1</strong> unused recovery code" in page.content.decode()
    response = client.post(reverse("two_factor"))
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(codes) == RECOVERY_CODE_COUNT
    assert not StaticToken.objects.filter(token="oldcode7").exists()


def test_the_admin_can_reset_a_device_but_never_read_a_secret(client, admin_user, coordinator_a):
    device = enrol(coordinator_a)
    admin_device = enrol(admin_user)
    sign_in(client, admin_user)
    client.post(reverse("two_factor_verify"), {"code": code_for(admin_device)})
    change = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    assert change.status_code == 200
    html = change.content.decode()
    assert device.key not in html
    assert base64.b32encode(device.bin_key).decode().rstrip("=") not in html
    static = client.get(
        reverse(
            "admin:otp_static_staticdevice_change",
            args=[StaticDevice.objects.get(user=coordinator_a).pk],
        )
    )
    assert "abcd2345" not in static.content.decode()
    assert client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403

    response = client.post(
        reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
