"""
Safeguarding concerns: raised in a session, they stay on the coordinators' home page until
a coordinator of the client's borough (or an admin) records what was done about it. Who,
when and what are kept, in the session and in the client's change history.
"""

import datetime
import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from mentoring import history, retention
from mentoring.models import SupportSession

from .. import factories
from ..helpers import days_ago, messages_of

pytestmark = pytest.mark.django_db

URL_NAMES = {"safeguarding_follow_up"}
HOME = reverse("home")
ACTION = "Referred to the youth offending team's safeguarding lead; police informed."


def follow_up_url(session):
    return reverse("safeguarding_follow_up", args=[session.pk])


@pytest.fixture
def concern(borough_a, mentor_a):
    """An active client of borough A with a session, 40 days ago, that raised a concern."""
    person = factories.ClientFactory(
        borough=borough_a, active=True, started_on=days_ago(200), referred_on=days_ago(220)
    )
    factories.AssignmentFactory(client=person, mentor=mentor_a, started_on=days_ago(200))
    return factories.SupportSessionFactory(
        client=person,
        mentor=mentor_a,
        date=days_ago(40),
        safeguarding_concern=True,
        notes="Said an older boy is making him carry things.",
    )


def state(session):
    session.refresh_from_db()
    return (
        session.safeguarding_handled_at,
        session.safeguarding_handled_by_id,
        session.safeguarding_action,
    )


def test_an_open_concern_stays_on_the_home_page_however_old(client, concern, coordinator_a):
    client.force_login(coordinator_a)
    response = client.get(HOME)
    assert list(response.context["safeguarding"]) == [concern]
    assert follow_up_url(concern) in response.content.decode()


def test_the_form_shows_the_concern_and_recording_the_follow_up_closes_it(
    client, concern, coordinator_a
):
    client.force_login(coordinator_a)
    page = client.get(follow_up_url(concern)).content.decode()
    assert "Said an older boy is making him carry things." in page
    assert concern.client.reference in page
    response = client.post(follow_up_url(concern), {"action": f"  {ACTION}  "})
    assert response.status_code == 302
    # With no page to return to, the follow-up leads to the client's page.
    assert response["Location"] == reverse("client_detail", args=[concern.client.reference])
    handled_at, handled_by, action = state(concern)
    assert handled_by == coordinator_a.pk
    assert action == ACTION
    assert timezone.now() - handled_at < datetime.timedelta(minutes=1)
    home = client.get(HOME)
    assert list(home.context["safeguarding"]) == []
    assert list(home.context["safeguarding_followed_up"]) == [concern]
    assert ACTION.replace("'", "&#x27;") in home.content.decode()


def test_the_follow_up_is_in_the_change_history_and_on_the_client_page(
    client, concern, coordinator_a
):
    client.force_login(coordinator_a)
    client.post(follow_up_url(concern), {"action": ACTION})
    latest = history.client_changes(concern.client)[0]
    assert latest.who == "coord_a"
    fields = {label: new for label, _old, new in latest.fields}
    assert fields["What was done about the safeguarding concern"] == ACTION
    assert fields["Safeguarding concern handled by"] == "coord_a"
    page = client.get(reverse("client_detail", args=[concern.client.reference]))
    assert f"by coord_a: {ACTION}".replace("'", "&#x27;") in page.content.decode()


@pytest.mark.parametrize("action", ["", "   ", "x" * 2001])
def test_the_follow_up_must_say_what_was_done(client, concern, coordinator_a, action):
    client.force_login(coordinator_a)
    response = client.post(follow_up_url(concern), {"action": action})
    assert response.status_code == 200
    assert response.context["form"].errors["action"]
    assert state(concern) == (None, None, "")


def test_a_concern_is_followed_up_once(client, concern, coordinator_a, admin_user):
    client.force_login(coordinator_a)
    client.post(follow_up_url(concern), {"action": ACTION})
    first = state(concern)
    client.force_login(admin_user)
    for response in (
        client.get(follow_up_url(concern)),
        client.post(follow_up_url(concern), {"action": "Something else"}),
    ):
        assert response.status_code == 302
        assert response["Location"] == reverse("client_detail", args=[concern.client.reference])
        level, message = messages_of(response)[-1]
        assert level == "info"
        assert message.startswith("This concern was already followed up by coord_a on ")
    assert state(concern) == first


def test_two_coordinators_racing_record_one_follow_up(concern, coordinator_a, admin_user):
    from mentoring import services

    stale = SupportSession.objects.get(pk=concern.pk)  # opened before the first one saved
    services.safeguarding_handle(session=concern, action=ACTION, by=coordinator_a)
    with pytest.raises(services.AlreadyHandled) as raced:
        services.safeguarding_handle(session=stale, action="Later", by=admin_user)
    assert raced.value.session.safeguarding_action == ACTION


def test_a_session_without_a_concern_has_nothing_to_follow_up(client, concern, coordinator_a):
    plain = factories.SupportSessionFactory(client=concern.client, mentor=concern.mentor)
    client.force_login(coordinator_a)
    assert client.get(follow_up_url(plain)).status_code == 404
    assert client.post(follow_up_url(plain), {"action": ACTION}).status_code == 404
    assert state(plain) == (None, None, "")


@pytest.mark.parametrize(
    ("who", "status"),
    [("coordinator_b", 404), ("manager", 403), ("mentor_a", 403)],
)
def test_only_the_boroughs_coordinators_and_admins_follow_up(client, concern, request, who, status):
    user = request.getfixturevalue(who)
    client.force_login(getattr(user, "user", user))
    assert client.get(follow_up_url(concern)).status_code == status
    assert client.post(follow_up_url(concern), {"action": ACTION}).status_code == status
    assert state(concern) == (None, None, "")


def test_an_admin_may_follow_up(client, concern, admin_user):
    client.force_login(admin_user)
    assert client.post(follow_up_url(concern), {"action": ACTION}).status_code == 302
    assert state(concern)[1] == admin_user.pk


def test_a_mentor_sees_their_clients_concerns_but_no_follow_up_button(client, concern, mentor_a):
    client.force_login(mentor_a.user)
    response = client.get(HOME)
    assert list(response.context["safeguarding"]) == [concern]
    assert follow_up_url(concern) not in response.content.decode()


def test_retention_removes_what_was_done_with_the_other_free_text(concern, coordinator_a):
    from mentoring import services

    services.safeguarding_handle(session=concern, action=ACTION, by=coordinator_a)
    client_record = concern.client
    client_record.status = client_record.Status.CLOSED
    client_record.ended_on = days_ago(30)
    client_record.closure_reason = client_record.ClosureReason.COMPLETED
    client_record.save()
    retention.anonymise(client_record.pk, on=timezone.localdate())
    concern.refresh_from_db()
    assert concern.safeguarding_action == ""
    assert not SupportSession.history.filter(id=concern.pk, safeguarding_action=ACTION).exists()


def test_the_migration_keeps_the_last_14_days_open_and_closes_older_ones(concern, mentor_a):
    migration = importlib.import_module("mentoring.migrations.0020_safeguarding_follow_up")
    recent = factories.SupportSessionFactory(
        client=concern.client, mentor=mentor_a, date=days_ago(13), safeguarding_concern=True
    )
    migration.close_old_concerns(apps, None)
    assert state(recent) == (None, None, "")
    handled_at, handled_by, action = state(concern)
    # Closed as of the day it left the home page, so not among the recent follow-ups.
    assert timezone.localtime(handled_at).date() == concern.date + datetime.timedelta(days=14)
    assert handled_by is None
    assert action == migration.BEFORE_FOLLOW_UPS
    assert not SupportSession.objects.filter(
        safeguarding_handled_at__gte=timezone.now() - datetime.timedelta(days=14)
    ).exists()
