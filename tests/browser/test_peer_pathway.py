"""
The peer pathway in a real browser: a coordinator records a client's step on the pathway
and makes the client a mentor, ticking the confirmation their open case asks for, and
lands on the new mentor's page, which links back. Screenshots of each page, at desktop
width and on a 390 px phone, go to tests/screenshots/ (git-ignored).
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mentoring.models import Client, Mentor, Milestone, PathwayStep, StaffProfile

from .. import factories
from .support import DESKTOP, SCREENSHOTS, field, new_context, require_chromium, sign_in

require_chromium()

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _dmy(day):
    return f"{day:%d/%m/%Y}"


@pytest.fixture
def cast(transactional_db, settings):
    """Southwark's coordinator and manager, and Jordan, active for a year, with a mentor."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    today = timezone.localdate()
    factories.seed_support_areas()
    southwark = factories.BoroughFactory(name="Southwark", slug="southwark", code="SWK")
    factories.StaffProfileFactory(
        user__username="coord_a", role=StaffProfile.Role.COORDINATOR, boroughs=[southwark]
    )
    factories.StaffProfileFactory(user__username="manager", role=StaffProfile.Role.MANAGER)
    mentor = factories.MentorFactory(home_borough=southwark, first_name="Andre")
    jordan = factories.ClientFactory(
        borough=southwark,
        first_name="Jordan",
        last_name="Reyes",
        preferred_name="JJ",
        referred_on=today - datetime.timedelta(days=400),
        started_on=today - datetime.timedelta(days=380),
        status=Client.Status.ACTIVE,
    )
    factories.AssignmentFactory(client=jordan, mentor=mentor)
    # A mentor who was a Southwark client, for the dashboards' figures.
    earlier = factories.ClientFactory(borough=southwark, closed=True)
    factories.MentorFactory(
        home_borough=southwark,
        started_on=earlier.ended_on,
        former_client=earlier,
        was_client=True,
        client_support_started_on=earlier.started_on,
    )
    return type("Cast", (), {"today": today, "jordan": jordan})


@pytest.fixture
def page(browser, live_server):
    context = new_context(browser, live_server, viewport=DESKTOP)
    yield context.new_page()
    context.close()


def shoot(page, name, part=None):
    """
    The page (or ``part`` of it) at desktop width and on a 390 px phone, to
    tests/screenshots/ and /tmp.
    """
    SCREENSHOTS.mkdir(exist_ok=True)
    for width, viewport in (("desktop", DESKTOP), ("390px", PHONE)):
        page.set_viewport_size(viewport)
        for folder in (SCREENSHOTS, "/tmp"):
            path = f"{folder}/pathway-{name}-{width}.png"
            if part is None:
                page.screenshot(path=path, full_page=True)
            else:
                part.screenshot(path=path)
    page.set_viewport_size(DESKTOP)


def fits_the_phone(page):
    """No sideways scrolling at 390 px: tables scroll inside their own wrapper."""
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESKTOP)
    return width <= PHONE["width"]


def test_a_coordinator_records_a_step_and_makes_the_client_a_mentor(page, cast):
    today = _dmy(cast.today)
    volunteered = cast.today - datetime.timedelta(days=60)
    jordan = cast.jordan
    sign_in(page, "coord_a")
    page.goto(f"/clients/{jordan.reference}/")
    pathway = page.get_by_role("region", name="Peer pathway")
    expect(pathway).to_contain_text("No step recorded yet")

    page.get_by_role("link", name="Add a pathway step").click()
    expect(page.get_by_role("heading", name="Add a pathway step")).to_be_visible()
    field(page, "Step").select_option(label="Volunteering")
    field(page, "Reached on").fill(_dmy(volunteered))
    field(page, "Note").fill("Food bank at St Mark's, Saturdays")
    page.get_by_role("button", name="Save pathway step").click()
    expect(page.get_by_role("status")).to_contain_text("Pathway step added.")
    expect(pathway.locator("ol")).to_contain_text(
        f"Volunteering, {_dmy(volunteered)}: Food bank at St Mark's, Saturdays"
    )
    expect(pathway.get_by_role("link", name=re.compile("^Correct"))).to_have_count(1)
    assert fits_the_phone(page)
    shoot(page, "client-page")
    shoot(page, "client-section", part=pathway)

    page.get_by_role("link", name="Becomes a mentor").click()
    expect(page.get_by_role("heading", name="Becomes a mentor")).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("own case is still open")
    expect(field(page, "Mentoring from")).to_have_value(today)
    # Without the tick, the form stops and says why.
    page.get_by_role("button", name="Create the mentor record").click()
    expect(page.locator(".error-summary")).to_contain_text("Tick the box to confirm")
    assert not Mentor.objects.filter(former_client=jordan).exists()
    assert fits_the_phone(page)
    shoot(page, "becomes-mentor-form")

    page.get_by_label(re.compile("Confirm: they become a mentor")).check()
    page.get_by_role("button", name="Create the mentor record").click()

    mentor = Mentor.objects.get(former_client=jordan)
    expect(page).to_have_url(re.compile(rf"/mentors/{mentor.pk}/$"))
    expect(page.get_by_role("status")).to_contain_text(
        f"Jordan Reyes is now a mentor, {mentor.reference}."
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jordan (JJ) Reyes")
    back = page.get_by_role("link", name=f"{jordan.reference} (Southwark)")
    expect(back).to_be_visible()
    assert fits_the_phone(page)
    shoot(page, "mentor-page")

    assert (mentor.first_name, mentor.last_name, mentor.preferred_name) == (
        "Jordan",
        "Reyes",
        "JJ",
    )
    assert mentor.was_client and mentor.started_on == cast.today
    assert set(jordan.pathway_steps.values_list("step", flat=True)) == {
        PathwayStep.Step.VOLUNTEERING,
        PathwayStep.Step.PEER_MENTOR,
    }
    assert jordan.milestones.filter(kind=Milestone.Kind.BECAME_PEER_MENTOR).exists()

    back.click()
    expect(pathway).to_contain_text(f"Now a mentor: Jordan Reyes ({mentor.reference})")
    expect(pathway.get_by_role("link", name="Becomes a mentor")).to_have_count(0)
    jordan.refresh_from_db()
    assert jordan.status == Client.Status.ACTIVE


def test_the_dashboards_show_the_pathway(page, cast):
    factories.PathwayStepFactory(client=cast.jordan, reached_on=cast.jordan.started_on)
    sign_in(page, "manager")
    page.goto("/dashboard/")
    section = page.get_by_role("region", name="Peer pathway")
    southwark = section.get_by_role("row", name=re.compile("^Southwark"))
    expect(southwark.locator('[data-label="Volunteering"]')).to_have_text("1")
    expect(southwark).to_contain_text("1 of 2 active (50%)")
    expect(page.locator("body")).not_to_contain_text("Jordan")
    assert fits_the_phone(page)
    shoot(page, "network-dashboard", part=section)
    page.goto("/dashboard/southwark/")
    section = page.get_by_role("region", name="Peer pathway")
    expect(section).to_contain_text("1 of 2 active (50%)")
    assert fits_the_phone(page)
    shoot(page, "borough-dashboard", part=section)
