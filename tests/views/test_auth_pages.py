"""Sign in, sign out and change password: Django's auth views with the SOS templates."""

from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import SESSION_KEY
from django.template.loader import get_template
from django.urls import reverse

from .. import factories

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
LOGOUT = reverse("logout")
PASSWORD_CHANGE = reverse("password_change")
NEW_PASSWORD = "a-longer-passphrase-2026"


def test_login_page_renders_the_form(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sign in to SOS" in body
    assert 'name="username"' in body
    assert 'name="password"' in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_wrong_password_shows_an_error_and_does_not_sign_in(client, coordinator_a):
    response = client.post(LOGIN, {"username": "coord_a", "password": "wrong-password"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Please enter a correct username and password. Note that both fields may be case-sensitive."
    ]
    assert "Please enter a correct username and password." in response.content.decode()
    assert SESSION_KEY not in client.session


def test_login_redirects_to_home(client, coordinator_a):
    response = client.post(LOGIN, {"username": "coord_a", "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session[SESSION_KEY] == str(coordinator_a.pk)
    assert client.get(reverse("home")).status_code == 200


def test_login_returns_to_the_page_asked_for(client, coordinator_a):
    response = client.post(
        f"{LOGIN}?next=/clients/",
        {"username": "coord_a", "password": factories.PASSWORD, "next": "/clients/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/clients/"


def test_login_does_not_redirect_to_another_site(client, coordinator_a):
    response = client.post(
        LOGIN,
        {"username": "coord_a", "password": factories.PASSWORD, "next": "https://evil.example"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_inactive_user_cannot_sign_in(client, coordinator_a):
    coordinator_a.is_active = False
    coordinator_a.save()
    response = client.post(LOGIN, {"username": "coord_a", "password": factories.PASSWORD})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_logout_by_post_signs_out_and_returns_to_login(client, coordinator_a):
    client.force_login(coordinator_a)
    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert SESSION_KEY not in client.session
    assert client.get(reverse("client_list")).status_code == 302


def test_logout_by_get_is_refused_and_keeps_the_session(client, coordinator_a):
    """A link or an image cannot sign someone out."""
    client.force_login(coordinator_a)
    assert client.get(LOGOUT).status_code == 405
    assert client.session[SESSION_KEY] == str(coordinator_a.pk)


def test_every_page_offers_sign_out_as_a_form(client, coordinator_a):
    client.force_login(coordinator_a)
    body = client.get(reverse("home")).content.decode()
    assert f'<form method="post" action="{LOGOUT}">' in body


def test_password_change_page_needs_sign_in(client):
    response = client.get(PASSWORD_CHANGE)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={PASSWORD_CHANGE}"


def test_password_change_page_renders(client, coordinator_a):
    client.force_login(coordinator_a)
    response = client.get(PASSWORD_CHANGE)
    assert response.status_code == 200
    body = response.content.decode()
    for field in ("old_password", "new_password1", "new_password2"):
        assert f'name="{field}"' in body


def test_password_change_saves_the_new_password(client, coordinator_a):
    client.force_login(coordinator_a)
    response = client.post(
        PASSWORD_CHANGE,
        {
            "old_password": factories.PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    coordinator_a.refresh_from_db()
    assert coordinator_a.check_password(NEW_PASSWORD)
    # The session survives the change, and the done page answers.
    done = client.get(reverse("password_change_done"))
    assert done.status_code == 200
    assert "Your password has been changed." in done.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
            "old_password",
            "Your old password was entered incorrectly. Please enter it again.",
        ),
        (
            {
                "old_password": factories.PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD + "x",
            },
            "new_password2",
            "The two password fields didn\u2019t match.",
        ),
        (
            {
                "old_password": factories.PASSWORD,
                "new_password1": "short-pw",
                "new_password2": "short-pw",
            },
            "new_password2",
            "This password is too short. It must contain at least 12 characters.",
        ),
    ],
    ids=["wrong-old-password", "mismatch", "too-short"],
)
def test_password_change_refuses_bad_input(client, coordinator_a, data, field, message):
    client.force_login(coordinator_a)
    response = client.post(PASSWORD_CHANGE, data)
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    coordinator_a.refresh_from_db()
    assert coordinator_a.check_password(factories.PASSWORD)


def test_account_pages_use_the_accounts_apps_templates_not_the_admins():
    """
    The admin and auth apps ship their own registration/ pages under the same names;
    listing accounts first in INSTALLED_APPS is what makes the account pages SOS's own.
    """
    folder = Path(apps.get_app_config("accounts").path) / "templates" / "registration"
    ours = sorted(path.name for path in folder.iterdir())
    assert "password_change_form.html" in ours and "password_reset_subject.txt" in ours
    for name in ours:
        origin = Path(get_template(f"registration/{name}").origin.name)
        assert origin == folder / name, name
