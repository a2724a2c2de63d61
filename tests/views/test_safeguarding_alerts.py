"""
Safeguarding alerts by e-mail (mentoring/safeguarding.py): a session saved with a concern
e-mails each active coordinator of the client's area once, after the commit, with the
client's reference and a link but never a name or the notes; a concern not followed up
in a day is escalated to the area's managers by ``manage.py safeguarding_reminders``; a
send that fails never loses the session, is kept for admins and tried again, once.
"""

import contextlib
import datetime
import logging
import smtplib
from io import StringIO
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from mentoring import services
from mentoring.models import SafeguardingAlert, StaffProfile, SupportSession

from .. import factories
from ..helpers import days_ago, dmy, session_form
from ..helpers import session_correction as correction_data

pytestmark = pytest.mark.django_db

SITE = "https://sos.example.test"
# Distinctive strings that must never leave the building by e-mail.
FIRST = "Zephyrinax"
LAST = "Quillfeatherby"
PREFERRED = "Zefflet"
NOTES = "NOTES-MARKER-7Q3X: said an older boy makes him carry things."
SECRETS = (FIRST, LAST, PREFERRED, "NOTES-MARKER-7Q3X", "older boy")


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SOS_SITE_URL = SITE


def staff(username, role, boroughs=(), **user):
    return factories.StaffProfileFactory(
        user__username=username, role=role, boroughs=list(boroughs), **user
    ).user


@pytest.fixture
def cast(borough_a, borough_b, coordinator_a, coordinator_b, manager, mentor_a):
    """
    Around borough A: two active coordinators with an address (coord_a, coord_a2), one
    who left (inactive) and one without an address; managers of A, of B only and of all
    areas (``manager``), and an inactive manager of A.
    """
    coord_a2 = staff("coord_a2", StaffProfile.Role.COORDINATOR, [borough_a])
    staff("coord_gone", StaffProfile.Role.COORDINATOR, [borough_a], user__is_active=False)
    staff("coord_nomail", StaffProfile.Role.COORDINATOR, [borough_a], user__email="")
    manager_a = staff("manager_a", StaffProfile.Role.MANAGER, [borough_a])
    staff("manager_b", StaffProfile.Role.MANAGER, [borough_b])
    staff("manager_gone", StaffProfile.Role.MANAGER, [borough_a], user__is_active=False)
    staff("manager_nomail", StaffProfile.Role.MANAGER, [borough_a], user__email="")
    return {
        "coordinators": sorted([coordinator_a.email, coord_a2.email]),
        "managers": sorted([manager.email, manager_a.email]),
    }


@pytest.fixture
def person(borough_a, mentor_a):
    """An active client of borough A, mentored by mentor_a, with distinctive names."""
    client_record = factories.ClientFactory(
        borough=borough_a,
        active=True,
        first_name=FIRST,
        last_name=LAST,
        preferred_name=PREFERRED,
        referred_on=days_ago(200),
        started_on=days_ago(190),
    )
    factories.AssignmentFactory(client=client_record, mentor=mentor_a, started_on=days_ago(190))
    return client_record


def session_data(**overrides):
    """A session with a safeguarding concern as its form posts it."""
    return session_form(
        **{
            "date": dmy(days_ago(1)),
            "duration_minutes": "60",
            "kind": SupportSession.Kind.EMOTIONAL,
            "mode": SupportSession.Mode.IN_PERSON,
            "notes": NOTES,
            "safeguarding_concern": "on",
            **overrides,
        }
    )


def log_session(browser, person, **overrides):
    """Log a session of ``person`` through the session form page; the new session."""
    before = set(SupportSession.objects.values_list("pk", flat=True))
    response = browser.post(
        reverse("client_session_new", args=[person.reference]), session_data(**overrides)
    )
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == reverse("client_detail", args=[person.reference])
    return SupportSession.objects.exclude(pk__in=before).get()


def concern_session(person, mentor, **kwargs):
    """A session with a concern saved in code (a factory, so post_save runs)."""
    kwargs.setdefault("date", days_ago(1))
    return factories.SupportSessionFactory(
        client=person, mentor=mentor, safeguarding_concern=True, notes=NOTES, **kwargs
    )


def link(session):
    return f"{SITE}/sessions/{session.pk}/safeguarding/"


def recipients(outbox):
    """Every address e-mailed, one entry per message and address, sorted."""
    return sorted(address for message in outbox for address in message.to)


def alerts(session, kind=SafeguardingAlert.Kind.ALERT):
    return list(SafeguardingAlert.objects.filter(session=session, kind=kind))


def reminders():
    out = StringIO()
    call_command("safeguarding_reminders", stdout=out)
    return out.getvalue()


def later(hours):
    return time_machine.travel(timezone.now() + datetime.timedelta(hours=hours), tick=False)


def assert_no_secrets(message):
    for text in (message.subject, message.body):
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} is in an e-mail"
    assert not getattr(message, "alternatives", None)
    assert not message.attachments


# The alert to the coordinators ---------------------------------------------------------


def test_a_concern_logged_on_the_page_emails_each_coordinator_of_the_area_once(
    client, cast, person, coordinator_a, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(coordinator_a)
    with django_capture_on_commit_callbacks(execute=True):
        session = log_session(client, person)
    # One message each, to one address each: nobody learns who else was told.
    assert [len(message.to) for message in mailoutbox] == [1, 1]
    assert recipients(mailoutbox) == cast["coordinators"]
    assert all(not message.cc and not message.bcc for message in mailoutbox)
    [alert] = alerts(session)
    assert alert.sent_at is not None
    assert timezone.now() - alert.sent_at < datetime.timedelta(minutes=1)
    assert alert.recipients == 2
    assert alert.error == ""
    assert not alerts(session, SafeguardingAlert.Kind.ESCALATION)


def test_the_email_has_the_reference_and_link_and_no_name_or_notes(
    client, cast, person, coordinator_a, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(coordinator_a)
    with django_capture_on_commit_callbacks(execute=True):
        session = log_session(client, person)
    assert mailoutbox
    for message in mailoutbox:
        assert person.reference in message.subject
        assert person.reference in message.body
        assert link(session) in message.body
        assert message.from_email == settings.DEFAULT_FROM_EMAIL
        assert_no_secrets(message)
    # The link leads to the follow-up page, which shows the concern to a coordinator.
    page = client.get(link(session).removeprefix(SITE))
    assert page.status_code == 200
    assert "NOTES-MARKER-7Q3X" in page.content.decode()


def test_nothing_is_sent_until_the_session_is_committed(
    client, cast, person, coordinator_a, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(coordinator_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        session = log_session(client, person)
    assert mailoutbox == []
    assert alerts(session) == []
    assert callbacks
    for callback in callbacks:
        callback()
    assert recipients(mailoutbox) == cast["coordinators"]


def test_a_session_without_a_concern_sends_nothing(
    client, cast, person, coordinator_a, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(coordinator_a)
    with django_capture_on_commit_callbacks(execute=True):
        session = log_session(client, person, safeguarding_concern=None)
    assert mailoutbox == []
    assert alerts(session) == []


def test_a_second_save_or_edit_of_the_session_sends_nothing(
    client, cast, person, coordinator_a, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(coordinator_a)
    with django_capture_on_commit_callbacks(execute=True):
        session = log_session(client, person)
    assert len(mailoutbox) == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("session_edit", args=[session.pk]),
            correction_data(session, duration_minutes="45"),
        )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.duration_minutes == 45
    with django_capture_on_commit_callbacks(execute=True):
        session.notes = "Corrected again."
        session.save()
    assert len(mailoutbox) == 2
    assert len(alerts(session)) == 1


def test_an_edit_that_ticks_the_concern_alerts_the_coordinators(
    client, cast, person, mentor_a, coordinator_a, mailoutbox, django_capture_on_commit_callbacks
):
    session = factories.SupportSessionFactory(
        client=person, mentor=mentor_a, date=days_ago(2), notes=NOTES, logged_by=coordinator_a
    )
    assert mailoutbox == []
    client.force_login(coordinator_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("session_edit", args=[session.pk]),
            correction_data(session, safeguarding_concern="on"),
        )
    assert response.status_code == 302
    assert recipients(mailoutbox) == cast["coordinators"]
    for message in mailoutbox:
        assert link(session) in message.body
        assert_no_secrets(message)
    assert alerts(session)[0].sent_at is not None


def test_a_concern_added_in_the_admin_alerts_the_coordinators(
    client, cast, person, mentor_a, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    data = {
        "client": person.pk,
        "mentor": mentor_a.pk,
        "date": dmy(days_ago(1)),
        "duration_minutes": "60",
        "kind": SupportSession.Kind.BOTH,
        "mode": SupportSession.Mode.PHONE,
        "attendance": SupportSession.Attendance.ATTENDED,
        "notes": NOTES,
        "safeguarding_concern": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:mentoring_supportsession_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    session = SupportSession.objects.get(client=person)
    assert recipients(mailoutbox) == cast["coordinators"]
    assert all(link(session) in message.body for message in mailoutbox)
    assert alerts(session)[0].recipients == 2


def test_coordinators_of_another_area_get_nothing(
    cast, borough_b, coordinator_a, coordinator_b, mailoutbox, django_capture_on_commit_callbacks
):
    other = factories.ClientFactory(borough=borough_b, active=True, referred_on=days_ago(100))
    mentor_b = factories.MentorFactory(home_borough=borough_b)
    with django_capture_on_commit_callbacks(execute=True):
        concern_session(other, mentor_b)
    assert recipients(mailoutbox) == [coordinator_b.email]
    assert coordinator_a.email not in recipients(mailoutbox)


def test_an_area_with_nobody_to_email_records_it(
    borough_b, mailoutbox, django_capture_on_commit_callbacks
):
    other = factories.ClientFactory(borough=borough_b, active=True, referred_on=days_ago(100))
    with django_capture_on_commit_callbacks(execute=True):
        session = concern_session(other, factories.MentorFactory(home_borough=borough_b))
    assert mailoutbox == []
    [alert] = alerts(session)
    assert alert.recipients == 0
    assert alert.error.startswith("Nobody to e-mail")


def test_a_concern_already_followed_up_sends_nothing(
    cast, person, mentor_a, coordinator_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session = concern_session(
            person, mentor_a, safeguarding_handled_at=timezone.now(), safeguarding_action="Done."
        )
    assert mailoutbox == []
    assert alerts(session) == []


def test_bulk_created_sessions_do_not_alert(
    cast, person, mentor_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        SupportSession.objects.bulk_create(
            [
                SupportSession(
                    client=person,
                    mentor=mentor_a,
                    date=days_ago(day),
                    safeguarding_concern=True,
                    notes=NOTES,
                )
                for day in (3, 4)
            ]
        )
    assert callbacks == []
    assert mailoutbox == []
    assert not SafeguardingAlert.objects.exists()


# A send that fails ---------------------------------------------------------------------


def server_down(*args, **kwargs):
    raise smtplib.SMTPServerDisconnected("mail server down at 10.0.0.9")


FAILURES = {
    "send_messages": lambda: mock.patch.object(EmailBackend, "send_messages", server_down),
    "mailer": lambda: mock.patch(
        "mentoring.safeguarding._mailer", side_effect=ConnectionRefusedError(111, "refused")
    ),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_failed_send_keeps_the_session_logs_and_records_the_error(
    client,
    cast,
    person,
    coordinator_a,
    mailoutbox,
    caplog,
    django_capture_on_commit_callbacks,
    failure,
):
    client.force_login(coordinator_a)
    with (
        FAILURES[failure](),
        caplog.at_level(logging.ERROR, logger="mentoring.safeguarding"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        session = log_session(client, person)  # still redirects: the session is saved
    assert SupportSession.objects.filter(pk=session.pk, safeguarding_concern=True).exists()
    assert mailoutbox == []
    [alert] = alerts(session)
    assert alert.sent_at is None
    assert alert.recipients == 0
    expected = "SMTPServerDisconnected" if failure == "send_messages" else "ConnectionRefused"
    assert expected in alert.error
    logged = [r for r in caplog.records if r.name == "mentoring.safeguarding"]
    assert logged
    assert logged[0].levelno == logging.ERROR
    assert logged[0].exc_info is not None
    assert f"session {session.pk}" in logged[0].getMessage()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fails", [False, True], ids=["sent", "server down"])
def test_with_real_commits_the_session_is_saved_and_then_the_alert_sent(
    client, cast, person, coordinator_a, mailoutbox, fails
):
    """No test transaction: the page's own commit runs the alert, as in production."""
    factories.seed_support_areas()  # a transactional test's flush may have removed them
    client.force_login(coordinator_a)
    with FAILURES["send_messages"]() if fails else contextlib.nullcontext():
        session = log_session(client, person)
    assert SupportSession.objects.filter(pk=session.pk).exists()
    [alert] = alerts(session)
    if fails:
        assert mailoutbox == []
        assert alert.sent_at is None
        assert "mail server down" in alert.error
    else:
        assert recipients(mailoutbox) == cast["coordinators"]
        assert alert.sent_at is not None


def test_the_admin_lists_the_failed_alert_with_its_error(
    client, cast, person, coordinator_a, admin_user, django_capture_on_commit_callbacks
):
    client.force_login(coordinator_a)
    with FAILURES["send_messages"](), django_capture_on_commit_callbacks(execute=True):
        session = log_session(client, person)
    client.force_login(admin_user)
    url = reverse("admin:mentoring_safeguardingalert_changelist")
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "mail server down at 10.0.0.9" in page
    assert person.reference in page
    assert FIRST not in page
    assert "NOTES-MARKER-7Q3X" not in page
    unsent = client.get(url, {"sent_at__isempty": "1"})
    assert unsent.status_code == 200
    assert [a.session_id for a in unsent.context["cl"].result_list] == [session.pk]
    sent = client.get(url, {"sent_at__isempty": "0"})
    assert list(sent.context["cl"].result_list) == []


def test_reminders_send_a_failed_alert_later_once(
    client, cast, person, coordinator_a, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(coordinator_a)
    with FAILURES["send_messages"](), django_capture_on_commit_callbacks(execute=True):
        session = log_session(client, person)
    assert mailoutbox == []
    with later(hours=1):
        output = reminders()
    assert "0 concern(s) escalated to managers; 1 failed alert(s) sent now." in output
    assert recipients(mailoutbox) == cast["coordinators"]
    for message in mailoutbox:
        assert link(session) in message.body
        assert_no_secrets(message)
    [alert] = alerts(session)
    assert alert.sent_at is not None
    assert alert.recipients == 2
    assert alert.error == ""
    with later(hours=2):
        reminders()
        reminders()
    assert len(mailoutbox) == 2
    assert not alerts(session, SafeguardingAlert.Kind.ESCALATION)


def test_a_failed_alert_whose_concern_was_followed_up_is_not_sent(
    client, cast, person, coordinator_a, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(coordinator_a)
    with FAILURES["send_messages"](), django_capture_on_commit_callbacks(execute=True):
        session = log_session(client, person)
    services.safeguarding_handle(session=session, action="Called the YOT.", by=coordinator_a)
    with later(hours=30):
        reminders()
    assert mailoutbox == []
    assert alerts(session)[0].sent_at is None


def test_an_alert_partly_sent_before_the_server_failed_is_not_sent_twice(
    client, cast, person, coordinator_a, mailoutbox, django_capture_on_commit_callbacks
):
    """
    The mail server takes the first coordinator's message, then fails: the alert keeps
    who has it, and the reminders send to the others only, so each coordinator is
    e-mailed once for one concern.
    """
    calls = []

    def first_then_fail(backend, messages):
        calls.append(messages)
        if len(calls) == 1:
            mail.outbox.extend(messages)
            return len(messages)
        raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (550, b"mailbox full")})

    client.force_login(coordinator_a)
    with (
        mock.patch.object(EmailBackend, "send_messages", first_then_fail),
        django_capture_on_commit_callbacks(execute=True),
    ):
        session = log_session(client, person)
    assert len(mailoutbox) == 1
    assert alerts(session)[0].sent_at is None
    with later(hours=1):
        reminders()
    assert recipients(mailoutbox) == cast["coordinators"]


# Escalation to the managers ------------------------------------------------------------


@pytest.fixture
def open_concern(cast, person, mentor_a, mailoutbox, django_capture_on_commit_callbacks):
    """A concern saved now; its coordinators' alert sent, and the outbox emptied."""
    with django_capture_on_commit_callbacks(execute=True):
        session = concern_session(person, mentor_a)
    assert recipients(mailoutbox) == cast["coordinators"]
    mailoutbox.clear()
    return session


def test_a_concern_not_followed_up_in_a_day_emails_the_areas_managers_once(
    cast, open_concern, mailoutbox
):
    with later(hours=25):
        output = reminders()
        assert "1 concern(s) escalated to managers; 0 failed alert(s) sent now." in output
        # Managers of the area and managers of every area; not managers of B only, not
        # the coordinators (already told), not the inactive or address-less.
        assert recipients(mailoutbox) == cast["managers"]
        assert [len(message.to) for message in mailoutbox] == [1, 1]
        [escalation] = alerts(open_concern, SafeguardingAlert.Kind.ESCALATION)
        assert escalation.sent_at == timezone.now()
        assert escalation.recipients == 2
        assert escalation.error == ""
        assert "0 concern(s) escalated" in reminders()
    with later(hours=48):
        reminders()
    assert len(mailoutbox) == 2
    assert len(alerts(open_concern)) == 1


def test_the_escalation_has_the_reference_and_link_and_no_name_or_notes(
    cast, person, open_concern, mailoutbox
):
    with later(hours=25):
        reminders()
    assert mailoutbox
    for message in mailoutbox:
        assert "not followed up" in message.subject
        assert person.reference in message.subject
        assert link(open_concern) in message.body
        assert_no_secrets(message)


@pytest.mark.parametrize("hours", [1, 23.9])
def test_a_concern_under_a_day_old_is_not_escalated(open_concern, mailoutbox, hours):
    with later(hours=hours):
        reminders()
    assert mailoutbox == []
    assert not alerts(open_concern, SafeguardingAlert.Kind.ESCALATION)


def test_a_concern_followed_up_is_not_escalated(open_concern, coordinator_a, mailoutbox):
    services.safeguarding_handle(session=open_concern, action="Told the YOT.", by=coordinator_a)
    with later(hours=72):
        reminders()
    assert mailoutbox == []
    assert not alerts(open_concern, SafeguardingAlert.Kind.ESCALATION)


def test_a_concern_taken_back_is_not_escalated(open_concern, mailoutbox):
    SupportSession.objects.filter(pk=open_concern.pk).update(safeguarding_concern=False)
    with later(hours=72):
        reminders()
    assert mailoutbox == []


def test_an_old_concern_by_created_at_is_escalated(open_concern, cast, mailoutbox):
    """The age is counted from when the session was saved, not from the session's date."""
    SupportSession.objects.filter(pk=open_concern.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=24, minutes=1)
    )
    reminders()
    assert recipients(mailoutbox) == cast["managers"]


def test_a_failed_escalation_is_sent_by_the_next_run_once(cast, open_concern, mailoutbox):
    with later(hours=25), FAILURES["send_messages"]():
        assert "0 concern(s) escalated" in reminders()
    [escalation] = alerts(open_concern, SafeguardingAlert.Kind.ESCALATION)
    assert escalation.sent_at is None
    assert "SMTPServerDisconnected" in escalation.error
    assert mailoutbox == []
    with later(hours=26):
        assert "1 failed alert(s) sent now" in reminders()
        reminders()
    assert recipients(mailoutbox) == cast["managers"]
    escalation.refresh_from_db()
    assert escalation.sent_at is not None
    assert escalation.error == ""


def test_a_bulk_created_concern_is_left_to_the_reminders(cast, person, mentor_a, mailoutbox):
    """
    Bulk-created sessions alert nobody when saved; an open concern among them is picked
    up by the next ``safeguarding_reminders``, as a concern whose alert was never sent.
    """
    [session] = SupportSession.objects.bulk_create(
        [
            SupportSession(
                client=person, mentor=mentor_a, date=days_ago(3), safeguarding_concern=True
            )
        ]
    )
    assert mailoutbox == []
    with later(hours=1):
        assert "1 failed alert(s) sent now" in reminders()
    assert recipients(mailoutbox) == cast["coordinators"]
    assert alerts(session)[0].sent_at is not None
