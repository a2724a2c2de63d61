"""
A coordinator records a check-in after a completed case, in Chromium on a phone: from the
home page's "Follow-ups due" to the form, whose questions for a young person reached hide
while "No" is chosen, and back home with the queue emptied.
"""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mentoring.models import Client, FollowUp, StaffProfile

from .. import factories
from .support import SCREENSHOTS, field, new_context, require_chromium, sign_in

require_chromium()

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def due(transactional_db, settings):
    """Southwark's coordinator, and a case completed 95 days ago: its 3-month check-in due."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    southwark = factories.BoroughFactory(name="Southwark", slug="southwark", code="SWK")
    factories.StaffProfileFactory(
        user__username="coord_a", role=StaffProfile.Role.COORDINATOR, boroughs=[southwark]
    )
    ended = timezone.localdate() - datetime.timedelta(days=95)
    return factories.ClientFactory(
        borough=southwark,
        first_name="Dami",
        last_name="Okoro",
        status=Client.Status.CLOSED,
        closure_reason=Client.ClosureReason.COMPLETED,
        referred_on=ended - datetime.timedelta(days=300),
        started_on=ended - datetime.timedelta(days=290),
        ended_on=ended,
    )


def test_a_check_in_recorded_from_the_home_page(browser, live_server, due):
    context = new_context(browser, live_server, viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    sign_in(page, "coord_a")
    queue = page.locator("section", has=page.locator("#followups-due"))
    expect(queue).to_contain_text("Dami Okoro")
    expect(queue).to_contain_text("3 months, due")
    expect(queue.get_by_text("Overdue")).to_be_visible()
    queue.get_by_role("link", name="Record the 3-month check-in with Dami Okoro").click()
    expect(page.get_by_role("heading", name="Record the 3-month check-in")).to_be_visible()

    answers = page.locator("#div_id_in_ete, #div_id_stable_accommodation, #div_id_new_offence_told")
    expect(answers).to_have_count(3)
    for n in range(3):
        expect(answers.nth(n)).to_be_visible()
    page.locator("#id_reached_1").check()  # No: the questions are not asked
    for n in range(3):
        expect(answers.nth(n)).to_be_hidden()
    page.locator("#id_reached_0").check()  # Yes
    for n in range(3):
        expect(answers.nth(n)).to_be_visible()
    page.locator("#id_in_ete_0").check()
    page.locator("#id_stable_accommodation_1").check()
    page.locator("#id_new_offence_told_1").check()
    field(page, "Note").fill("Working nights at the bakery; staying with his aunt for now.")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "phone-coordinator-check-in-filled.png", full_page=True)
    page.get_by_role("button", name="Save check-in").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(
        page.get_by_text(f"The 3-month check-in is recorded for {due.reference}.")
    ).to_be_visible()
    expect(queue).to_contain_text("No check-ins due.")
    done = FollowUp.objects.get()
    assert (done.point, done.reached, done.in_ete, done.stable_accommodation) == (
        3,
        True,
        True,
        False,
    )
    assert done.new_offence_told is False

    page.goto(f"/clients/{due.reference}/")
    section = page.locator("#followups + p + ul")
    expect(section).to_contain_text("reached")
    expect(section).to_contain_text("not in stable accommodation")
    expect(section).to_contain_text("Working nights at the bakery")
    context.close()
