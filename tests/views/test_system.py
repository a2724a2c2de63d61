"""
The pages outside the case records: the health check, the database-outage page and
password reset by e-mail.
"""

import re
from unittest import mock

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, ProgrammingError, connection
from django.test import Client
from django.urls import reverse

from mentoring.system import server_error

pytestmark = pytest.mark.django_db


def test_health_check_answers_without_sign_in_and_says_nothing_about_data(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_health_check_reports_an_unreachable_database_with_503(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("gone")):
        response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_health_check_is_get_only(client):
    assert client.post(reverse("health")).status_code == 405


def test_health_check_is_exempt_from_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("health")).status_code == 200
    assert client.get(reverse("login")).status_code == 301


def test_a_database_outage_gives_the_plain_503_page(client, coordinator_a, settings):
    settings.DEBUG = False
    client.force_login(coordinator_a)
    browser = Client(raise_request_exception=False)
    browser.cookies = client.cookies
    with mock.patch.object(
        SessionStore, "_get_session_from_db", side_effect=OperationalError("server closed")
    ):
        response = browser.get(reverse("client_list"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "SOS is temporarily unavailable" in response.content.decode()
    # Once the database answers again, the same browser carries on.
    assert browser.get(reverse("client_list")).status_code == 200


def test_other_errors_keep_the_ordinary_500_page(rf):
    for exc in (ProgrammingError("bad query"), ValueError("bug")):
        try:
            raise exc
        except Exception:
            response = server_error(rf.get("/"))
        assert response.status_code == 500
        assert "Something went wrong" in response.content.decode()


def test_password_reset_link_works_once_and_ends_other_sessions(client, coordinator_a, mailoutbox):
    coordinator_a.email = "coord.a@example.org"
    coordinator_a.save()
    other_browser = Client()
    other_browser.force_login(coordinator_a)

    page = client.get(reverse("password_reset"))
    assert "expires after 2 hours" in page.content.decode()
    response = client.post(reverse("password_reset"), {"email": "coord.a@example.org"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mailoutbox[0].body)[1]

    form = client.get(link, follow=True)
    assert form.status_code == 200
    new_password = "a-brand-new-passphrase-42"
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    coordinator_a.refresh_from_db()
    assert coordinator_a.check_password(new_password)
    assert other_browser.get(reverse("home")).status_code == 302

    again = client.get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_password_reset_does_not_say_whether_an_address_is_known(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert mailoutbox == []


def test_sign_in_page_links_to_password_reset(client):
    assert reverse("password_reset") in client.get(reverse("login")).content.decode()
