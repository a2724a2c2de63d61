"""Security headers on every page: CSP, no caching of personal data, referrer, framing."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from ..helpers import PROJECT_ROOT


def directives(response):
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ") if part}


@pytest.mark.parametrize("url_name", ["login", "home", "client_list", "network_dashboard"])
def test_every_page_has_a_strict_content_security_policy(client, admin_user, url_name):
    client.force_login(admin_user)
    response = client.get(reverse(url_name))
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-inline'" not in policy["style-src"]


def test_pages_send_no_inline_script_or_style(client, coordinator_a):
    """Templates use static files only, so the policy needs no nonce in practice."""
    client.force_login(coordinator_a)
    for url in [reverse("home"), reverse("client_list"), reverse("network_dashboard")]:
        page = client.get(url).content.decode()
        assert "<script>" not in page
        assert " style=" not in page
        assert "<style" not in page


def test_signed_in_pages_are_not_stored(client, coordinator_a):
    client.force_login(coordinator_a)
    cache_control = client.get(reverse("client_list"))["Cache-Control"]
    assert "no-store" in cache_control
    assert "private" in cache_control


def test_referrer_and_framing_headers(client, db):
    response = client.get(reverse("login"))
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_deploy_checks_pass_with_production_settings():
    """`manage.py check --deploy --fail-level WARNING` with production settings."""
    # Without the development and test-only switches (the browser tests' async one too).
    test_only = {"SOS_DEV_MODE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    env.update(
        SECRET_KEY="x" * 20 + "production-like-secret-key-for-the-check-0123456789",
        ALLOWED_HOSTS="sos.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
