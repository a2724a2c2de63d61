"""
Two-factor sign-in: a time-based code (TOTP) from an authenticator app, or a single-use
recovery code.

Built on django-otp. ``TwoFactorMiddleware`` holds every signed-in user who has not
passed the second step on the set-up or verify page, the Django admin included, whenever
``SOS_REQUIRE_2FA`` is on (always outside development mode). Pages that need no sign-in
(login, password reset, health check) stay open, as does signing out.

A TOTP code is accepted once: django-otp keeps the last accepted time step and refuses
that step and earlier ones. A recovery code is deleted when used. Wrong codes slow the
device down (django-otp's throttling doubles the wait after each failure).
"""

import base64
import logging
from urllib.parse import quote

import segno
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .forms import CodeForm
from .next_page import page_to_return_to

# Under "mentoring": settings.LOGGING prints that logger's INFO lines (sign-ins passed,
# codes replaced), where other loggers print warnings only.
logger = logging.getLogger("mentoring.security")

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"
APP_DEVICE_NAME = "Authenticator app"
# The URL names a signed-in but unverified user may still reach.
OPEN_TO_UNVERIFIED = {"two_factor_setup", "two_factor_verify", "logout"}


def is_verified(user):
    return user.is_authenticated and user.is_verified()


class TwoFactorMiddleware:
    """Send signed-in users who have not passed the second step to set-up or verify."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.SOS_REQUIRE_2FA or not request.user.is_authenticated:
            return None
        if request.user.is_verified():
            return None
        # Pages open to anonymous visitors (login, password reset, health) stay open.
        if not getattr(view_func, "login_required", True):
            return None
        match = request.resolver_match
        if match is not None and match.url_name in OPEN_TO_UNVERIFIED and not match.namespace:
            return None
        target = "two_factor_verify" if user_has_device(request.user) else "two_factor_setup"
        return redirect(f"{reverse(target)}?next={quote(request.get_full_path(), safe='/')}")


def _next_url(request, default="home"):
    return page_to_return_to(request, reverse(default))


def _grouped_key(device):
    key = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _new_recovery_codes(user):
    """Replace the user's recovery codes with a fresh set and return them."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@require_http_methods(["GET", "POST"])
def setup(request):
    """Enrol an authenticator app: QR code and text key, then a first code to confirm."""
    user = request.user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        # Re-enrolling needs the current device; an admin can reset a lost one.
        return redirect("two_factor" if is_verified(user) else "two_factor_verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
            if device.verify_token(form.cleaned_data["code"]):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                codes = _new_recovery_codes(user)
                otp_login(request, device)
                logger.info("Two-factor set up by user %s", user.pk)
                return render(
                    request,
                    "registration/two_factor_codes.html",
                    {"codes": codes, "next": _next_url(request), "first_time": True},
                )
        form.add_error(
            "code", "That code did not match. Check the time on your phone and try the newest code."
        )
        logger.warning("Two-factor set-up: wrong code for user %s", user.pk)
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr_data_uri": qr.svg_data_uri(scale=5, border=2),
            "text_key": _grouped_key(device),
            "next": _next_url(request),
        },
    )


@require_http_methods(["GET", "POST"])
def verify(request):
    """The second step at sign-in: an app code or a recovery code."""
    user = request.user
    if not user_has_device(user):
        return redirect("two_factor_setup")
    if is_verified(user):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        # Six digits are an app code; anything else can only be a recovery code. Trying a
        # code only on its own kind of device keeps one kind's failures from throttling
        # the other.
        kind = TOTPDevice if len(code) == 6 and code.isdigit() else StaticDevice
        with transaction.atomic():
            devices = devices_for_user(user, confirmed=True, for_verify=True)
            for device in (d for d in devices if isinstance(d, kind)):
                allowed, detail = device.verify_is_allowed()
                if not allowed:
                    form.add_error(
                        "code",
                        "Too many wrong codes. Wait a minute before trying again.",
                    )
                    logger.warning("Two-factor: user %s throttled (%s)", user.pk, detail)
                    break
                if device.verify_token(code):
                    otp_login(request, device)
                    used_recovery = isinstance(device, StaticDevice)
                    logger.info(
                        "Two-factor passed by user %s with %s",
                        user.pk,
                        "a recovery code" if used_recovery else "the app",
                    )
                    if used_recovery:
                        left = device.token_set.count()
                        messages.warning(
                            request,
                            f"You used a recovery code; {left} left. "
                            "If you lost your phone, ask an administrator to reset your "
                            "two-factor sign-in.",
                        )
                    return redirect(_next_url(request))
            else:
                form.add_error("code", "That code is not valid, or it has already been used.")
                logger.warning("Two-factor: wrong code for user %s", user.pk)
    return render(
        request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)}
    )


@require_http_methods(["GET", "POST"])
def overview(request):
    """Two-factor status, and a fresh set of recovery codes on request."""
    user = request.user
    enrolled = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    if request.method == "POST":
        if not enrolled or not is_verified(user):
            messages.error(request, "Sign in with your two-factor code first.")
            return redirect("two_factor")
        with transaction.atomic():
            codes = _new_recovery_codes(user)
        logger.info("Recovery codes replaced by user %s", user.pk)
        return render(
            request,
            "registration/two_factor_codes.html",
            {"codes": codes, "next": reverse("home"), "first_time": False},
        )
    recovery = StaticDevice.objects.filter(user=user, name=RECOVERY_DEVICE_NAME).first()
    return render(
        request,
        "registration/two_factor.html",
        {
            "enrolled": enrolled,
            "verified": is_verified(user),
            "codes_left": recovery.token_set.count() if recovery else 0,
            "required": settings.SOS_REQUIRE_2FA,
        },
    )
