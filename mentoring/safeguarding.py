"""
Safeguarding alerts that reach someone: a session saved with a safeguarding concern
e-mails every coordinator of the client's area as soon as it is committed, and a concern
still not followed up after a day e-mails the area's managers (``manage.py
safeguarding_reminders``, run every hour or so).

The e-mails carry the client's reference and a link to the follow-up page, never a name
or the session's notes: e-mail is not a safe channel for this data. Each is recorded as
a ``SafeguardingAlert`` (one per session and kind), so a second run e-mails nobody twice;
a send that fails is logged, kept on the alert for admins, and tried again later, and
never touches the session.
"""

import logging
from contextlib import suppress
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from .models import SafeguardingAlert, StaffProfile, SupportSession

logger = logging.getLogger(__name__)

ESCALATE_AFTER = timedelta(hours=24)


def _addresses(role, borough):
    """The e-mail addresses of the active staff of ``role`` who work in ``borough``."""
    profiles = StaffProfile.objects.filter(role=role, user__is_active=True).exclude(user__email="")
    if role == StaffProfile.Role.MANAGER:
        # A manager with no borough listed sees every one.
        profiles = profiles.filter(boroughs=borough) | profiles.filter(boroughs__isnull=True)
    else:
        profiles = profiles.filter(boroughs=borough)
    return sorted(set(profiles.values_list("user__email", flat=True)))


def _message(session, kind):
    reference = session.client.reference
    link = settings.SOS_SITE_URL + reverse("safeguarding_follow_up", args=[session.pk])
    if kind == SafeguardingAlert.Kind.ALERT:
        subject = f"SOS safeguarding concern: {reference}"
        opening = (
            f"A support session on {session.date:%d/%m/%Y} with {reference} "
            f"({session.client.borough.name}) raised a safeguarding concern."
        )
    else:
        subject = f"SOS safeguarding concern not followed up: {reference}"
        opening = (
            f"The safeguarding concern raised in a support session on {session.date:%d/%m/%Y} "
            f"with {reference} ({session.client.borough.name}) has not been followed up "
            "for more than a day."
        )
    body = (
        f"{opening}\n\nSign in to SOS to read it and record what was done:\n{link}\n\n"
        "For the young person's safety this e-mail holds no name and no notes. If someone "
        "is in immediate danger, call 999.\n"
    )
    return subject, body


def _mailer():
    return mailers.default


def _send(alert, role):
    """
    Send ``alert`` to the staff of ``role`` in the session's area who do not have it yet,
    one message each; record who has it, and the error if a send fails. True when everyone
    to be told has been.
    """
    session = alert.session
    addresses = _addresses(role, session.client.borough)
    if not addresses:
        # Tried again by the reminders, once someone with an address works there.
        alert.error = "Nobody to e-mail: no active staff of the area with an e-mail address."
        alert.save(update_fields=["error"])
        return False
    subject, body = _message(session, alert.kind)
    reached = set(alert.sent_to.split())
    connection = None
    try:
        connection = _mailer()
        connection.open()
        for to in addresses:
            if to in reached:
                continue
            # One message each: nobody learns who else was told.
            if connection.send_messages(
                [EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to])]
            ):
                reached.add(to)
    except Exception as error:  # any failure of the mail server: logged, kept, retried
        logger.exception("Safeguarding alert %s for session %s not sent", alert.kind, session.pk)
        alert.error = f"{type(error).__name__}: {error}"[:2000]
    else:
        alert.error = ""
    finally:
        if connection is not None:
            with suppress(Exception):
                connection.close()
    alert.sent_to = "\n".join(sorted(reached))
    alert.recipients = len(reached)
    done = reached >= set(addresses)
    if done:
        alert.sent_at = timezone.now()
    elif not alert.error:
        alert.error = "Not every message was accepted by the mail server."
    alert.save(update_fields=["sent_at", "recipients", "sent_to", "error"])
    return done


def _claim(session, kind):
    """The alert of ``kind`` for ``session``, made now; None if one was made before."""
    try:
        with transaction.atomic():
            return SafeguardingAlert.objects.create(session=session, kind=kind)
    except IntegrityError:
        return None


def alert_coordinators(session_pk):
    """
    E-mail the coordinators of the session's area about its safeguarding concern, once.
    Called after the session's transaction commits; never raises.
    """
    try:
        session = (
            SupportSession.objects.select_related("client__borough")
            .filter(pk=session_pk, safeguarding_concern=True, safeguarding_handled_at=None)
            .first()
        )
        if session is None:
            return
        alert = _claim(session, SafeguardingAlert.Kind.ALERT)
        if alert is not None:
            _send(alert, StaffProfile.Role.COORDINATOR)
    except Exception:  # the session is saved whatever happens here
        logger.exception("Safeguarding alert for session %s failed", session_pk)


def session_saved(sender, instance, raw=False, **kwargs):
    """
    ``post_save`` of a session: once its transaction commits, alert the coordinators if it
    raises a concern not yet followed up (``alert_coordinators`` sends once per session).
    """
    if raw or not instance.safeguarding_concern or instance.safeguarding_handled_at:
        return
    pk = instance.pk
    transaction.on_commit(lambda: alert_coordinators(pk))


def reminders(now=None):
    """
    Escalate every concern not followed up for ``ESCALATE_AFTER`` to the area's managers,
    once each, and try again the alerts and escalations whose sending failed. Returns
    (escalated, retried) counts of e-mails sent.
    """
    now = now or timezone.now()
    open_concerns = SupportSession.objects.filter(
        safeguarding_concern=True, safeguarding_handled_at=None
    ).select_related("client__borough")
    escalated = retried = 0
    due = open_concerns.filter(created_at__lte=now - ESCALATE_AFTER).exclude(
        safeguarding_alerts__kind=SafeguardingAlert.Kind.ESCALATION
    )
    for session in due:
        alert = _claim(session, SafeguardingAlert.Kind.ESCALATION)
        if alert is not None and _send(alert, StaffProfile.Role.MANAGER):
            escalated += 1
    # A concern saved while the alert could not be claimed or sent: try it again.
    for session in open_concerns.exclude(safeguarding_alerts__kind=SafeguardingAlert.Kind.ALERT):
        alert = _claim(session, SafeguardingAlert.Kind.ALERT)
        if alert is not None and _send(alert, StaffProfile.Role.COORDINATOR):
            retried += 1
    # Those that failed before this run (made now: tried just above).
    failed = SafeguardingAlert.objects.filter(
        sent_at=None, created_at__lt=now, session__in=open_concerns
    ).select_related("session__client__borough")
    for alert in failed:
        role = (
            StaffProfile.Role.COORDINATOR
            if alert.kind == SafeguardingAlert.Kind.ALERT
            else StaffProfile.Role.MANAGER
        )
        if _send(alert, role):
            retried += 1
    return escalated, retried
