"""
How long a sign-in lasts: 30 minutes idle, 12 hours at most, and one sign-out ends every
session of the user (Django's sessions, which hold a sign-in; not support sessions).

Django already gives a new session key at sign-in and ends other sessions when the
password changes (the session carries a hash of the password). This adds the timeouts and
ends every session of a user who signs out or is deactivated.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.models import Session
from django.db.models.signals import post_save

from .models import SignedInSession

SIGNED_IN_AT = "sos_signed_in_at"
LAST_SEEN = "sos_last_seen"
# Writing the session on every request costs a query; a minute's slack is harmless
# against a 30-minute idle limit.
TOUCH_EVERY_SECONDS = 60


def end_sessions_of(user, keep=None):
    """Delete every session of ``user`` except ``keep`` (a session key)."""
    keys = SignedInSession.objects.filter(user=user).exclude(session_key=keep or "")
    key_list = list(keys.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=key_list).delete()
    keys.delete()


def record_sign_in(sender, request, user, **kwargs):
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now
    request.session.save()  # the key must exist to be recorded
    SignedInSession.objects.get_or_create(
        session_key=request.session.session_key, defaults={"user": user}
    )


def record_sign_out(sender, request, user, **kwargs):
    if user is not None:
        end_sessions_of(user)


def end_sessions_of_deactivated(sender, instance, **kwargs):
    # A signal, because an admin deactivates people from the stock user admin page.
    if not instance.is_active:
        end_sessions_of(instance)


user_logged_in.connect(record_sign_in, dispatch_uid="sos_record_sign_in")
post_save.connect(
    end_sessions_of_deactivated, sender=get_user_model(), dispatch_uid="sos_deactivated"
)
user_logged_out.connect(record_sign_out, dispatch_uid="sos_record_sign_out")


class SessionTimeoutMiddleware:
    """Sign out a session idle for SOS_SESSION_IDLE_SECONDS or older than ..._MAX_SECONDS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            signed_in = request.session.get(SIGNED_IN_AT, now)
            last_seen = request.session.get(LAST_SEEN, now)
            idle = now - last_seen > settings.SOS_SESSION_IDLE_SECONDS
            too_old = now - signed_in > settings.SOS_SESSION_MAX_SECONDS
            if idle or too_old:
                # A timeout ends this session only; signing out on purpose ends them all.
                SignedInSession.objects.filter(session_key=request.session.session_key).delete()
                request.session.flush()
                request.user = AnonymousUser()
                messages.info(
                    request,
                    "You were signed out after 30 minutes without activity."
                    if idle
                    else "You were signed out: a session lasts at most 12 hours.",
                )
                return redirect_to_login(request.get_full_path())
            if now - last_seen > TOUCH_EVERY_SECONDS or LAST_SEEN not in request.session:
                request.session[LAST_SEEN] = now
                request.session.setdefault(SIGNED_IN_AT, now)
        return self.get_response(request)
