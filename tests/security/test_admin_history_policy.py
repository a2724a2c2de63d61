"""
The admin's History pages keep the Content Security Policy: the one inline style that
simple_history draws is allowed there by its hash, and nothing else is.
"""

import base64
import hashlib
import re

import pytest
from django.urls import reverse

from .. import factories

pytestmark = pytest.mark.django_db


def _style_src(response):
    policy = response["Content-Security-Policy"]
    return next(part for part in policy.split(";") if part.strip().startswith("style-src"))


def test_every_inline_style_of_a_history_page_is_allowed_by_its_hash(client, admin_user):
    kai = factories.ClientFactory()
    client.force_login(admin_user)
    response = client.get(reverse("admin:mentoring_client_history", args=[kai.pk]))
    assert response.status_code == 200
    styles = re.findall(r'style="([^"]*)"', response.content.decode())
    assert styles, "the page has no inline style: the allowance can go"
    allowed = _style_src(response)
    assert "'unsafe-inline'" not in allowed
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed, style


def test_other_admin_pages_allow_no_inline_style(client, admin_user):
    kai = factories.ClientFactory()
    client.force_login(admin_user)
    response = client.get(reverse("admin:mentoring_client_change", args=[kai.pk]))
    assert "unsafe-hashes" not in _style_src(response)
