"""
What the real-browser tests share: Debian's Chromium and how it is started, a fresh
browser context per test, signing in through the real form, finding a field by its label,
and where screenshots go.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .. import factories

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
# axe impacts that fail the build; "moderate" and "minor" go to the report only.
BLOCKING_IMPACTS = {"serious", "critical"}


def require_chromium():
    """Skip the calling test module without Chromium; in CI, where it must be, fail."""
    if CHROMIUM.exists():
        return
    missing = (
        f"The browser tests need Chromium at {CHROMIUM}: "
        "install it with `apt-get install -y chromium chromium-driver`."
    )
    # CI installs Chromium and sets SOS_REQUIRE_BROWSER, so there a missing browser fails.
    if os.environ.get("SOS_REQUIRE_BROWSER") == "1":
        raise RuntimeError(missing)
    pytest.skip(missing, allow_module_level=True)


def new_context(browser, live_server, **options):
    """A fresh context (cookies, storage) on the live server, in British English."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        timezone_id="Europe/London",
        # Bootstrap animates focus rings and the menu; without motion, what a screenshot
        # or a style check sees does not depend on timing.
        reduced_motion="reduce",
        **options,
    )
    context.set_default_timeout(10_000)
    return context


def slug(text):
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def sign_in(page, username):
    """Sign in through the real login form and land on the home page."""
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))


def field(page, label):
    """The form field labelled ``label``; crispy-forms marks required ones with a "*"."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))
