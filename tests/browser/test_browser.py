"""
Real-browser tests: the journeys coordinators and mentors take through SOS, driven in
Chromium by Playwright, and an axe-core accessibility scan of every page for each role.

Everything a person would do is done through the page: typing into fields, choosing from
lists, clicking buttons. Only the final checks read the database. Screenshots of each key
step go to tests/screenshots/ (git-ignored), with the accessibility report.
"""

import datetime
import json
import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from mentoring.models import (
    AccessLog,
    Assignment,
    Borough,
    Client,
    Offence,
    StaffProfile,
    SupportArea,
    SupportSession,
)

from .. import factories
from .support import (
    BLOCKING_IMPACTS,
    DESKTOP,
    SCREENSHOTS,
    field,
    new_context,
    require_chromium,
    sign_in,
    slug,
)

require_chromium()

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def _dmy(day):
    return f"{day:%d/%m/%Y}"


# Fixtures -----------------------------------------------------------------------------


@pytest.fixture
def page(browser, live_server):
    context = new_context(browser, live_server, viewport=DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def screenshots():
    """tests/screenshots/, cleared of the pictures an earlier run of these tests left."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for old in SCREENSHOTS.glob("test-*.png"):
        old.unlink(missing_ok=True)  # another test process may have removed it
    return SCREENSHOTS


@pytest.fixture
def shoot(page, request, screenshots):
    """``shoot("step")`` saves a full-page screenshot named after the test and the step."""

    def shoot(step):
        name = f"{slug(request.node.name)}--{slug(step)}.png"
        page.screenshot(path=screenshots / name, full_page=True)

    return shoot


@pytest.fixture
def cast(transactional_db, settings):
    """
    Two boroughs and everyone who works in them, with clients in every state. The data is
    committed (``transactional_db``) so that the live server's thread can see it.
    """
    # The real hasher spends half a second on each password made and each sign-in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    today = timezone.localdate()
    factories.seed_support_areas()
    southwark = factories.BoroughFactory(name="Southwark", slug="southwark", code="SWK")
    croydon = factories.BoroughFactory(name="Croydon", slug="croydon", code="CRO")

    coordinator = factories.StaffProfileFactory(
        user__username="coord_a",
        user__first_name="Chloe",
        role=StaffProfile.Role.COORDINATOR,
        boroughs=[southwark],
    ).user
    manager = factories.StaffProfileFactory(
        user__username="manager", role=StaffProfile.Role.MANAGER
    ).user
    admin = factories.UserFactory(username="sos_admin", is_staff=True, is_superuser=True)
    mentor_user = factories.StaffProfileFactory(
        user__username="mentor_a", role=StaffProfile.Role.MENTOR, boroughs=[southwark]
    ).user
    mentor = factories.MentorFactory(user=mentor_user, home_borough=southwark, first_name="Andre")
    spare_mentor = factories.MentorFactory(
        home_borough=southwark, first_name="Dee", last_name="Campbell", listener_trained=True
    )
    factories.MentorFactory(
        home_borough=southwark, first_name="Ola", ended_on=datetime.date(2024, 3, 31)
    )

    jordan = factories.ClientFactory(
        borough=southwark, first_name="Jordan", last_name="Reyes", active=True
    )
    factories.AssignmentFactory(client=jordan, mentor=mentor)
    recent = factories.SupportSessionFactory(
        client=jordan,
        mentor=mentor,
        date=today - datetime.timedelta(days=3),
        notes="Went to the job centre together.\nBooked a CSCS card test.",
        safeguarding_concern=True,
        logged_by=mentor_user,
    )
    recent.support_areas.set(SupportArea.objects.all()[:2])
    old = factories.SupportSessionFactory(
        client=jordan,
        mentor=mentor,
        date=today - datetime.timedelta(days=20),
        attendance=SupportSession.Attendance.DID_NOT_ATTEND,
        logged_by=mentor_user,
    )
    # Past the 7-day correction window: correcting it is a 403.
    SupportSession.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=10)
    )
    factories.OffenceFactory(
        client=jordan,
        offence_date=today - datetime.timedelta(days=40),
        outcome_date=today - datetime.timedelta(days=10),
    )
    pending = factories.OffenceFactory(
        client=jordan,
        offence_date=today - datetime.timedelta(days=20),
        disposal=Offence.Disposal.PENDING,
        outcome_date=None,
    )
    milestone = factories.MilestoneFactory(
        client=jordan, achieved_on=today - datetime.timedelta(days=30)
    )
    goal = factories.GoalFactory(
        client=jordan,
        set_on=today - datetime.timedelta(days=60),
        target_date=today - datetime.timedelta(days=5),
    )
    placement = factories.PlacementFactory(
        client=jordan,
        employer=factories.EmployerFactory(name="Builders Ltd", sector="Construction"),
        started_on=today - datetime.timedelta(days=25),
    )

    kai = factories.ClientFactory(
        borough=southwark, first_name="Kai", last_name="Turner", active=True
    )
    leah = factories.ClientFactory(borough=southwark, first_name="Leah", last_name="Morgan")
    factories.ClientFactory(borough=southwark, first_name="Sam", last_name="Okafor", closed=True)
    # Enough referrals for the client list to need a second page.
    factories.ClientFactory.create_batch(24, borough=southwark)

    tyler = factories.ClientFactory(
        borough=croydon, first_name="Tyler", last_name="Brooks", active=True
    )
    croydon_mentor = factories.MentorFactory(home_borough=croydon, first_name="Nia")
    factories.AssignmentFactory(client=tyler, mentor=croydon_mentor)
    croydon_session = factories.SupportSessionFactory(client=tyler, mentor=croydon_mentor)

    return SimpleNamespace(
        today=today,
        southwark=southwark,
        coordinator=coordinator,
        manager=manager,
        admin=admin,
        mentor_user=mentor_user,
        mentor=mentor,
        spare_mentor=spare_mentor,
        jordan=jordan,
        kai=kai,
        leah=leah,
        tyler=tyler,
        recent_session=recent,
        old_session=old,
        pending_offence=pending,
        placement=placement,
        goal=goal,
        milestone=milestone,
        croydon_session=croydon_session,
    )


def timeline(page):
    return page.locator("ol.timeline")


# Journeys -----------------------------------------------------------------------------


def test_coordinator_takes_a_client_from_referral_to_closure(page, cast, shoot):
    """Referral, start, mentor, a session on the timeline and closure, all in the browser."""
    today = _dmy(cast.today)
    sign_in(page, "coord_a")
    shoot("home")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    page.get_by_role("link", name="New referral").click()
    expect(page.get_by_role("heading", name="New referral")).to_be_visible()
    field(page, "First name").fill("Precious")
    field(page, "Last name").fill("Adeyemi")
    field(page, "Date of birth").fill(_dmy(datetime.date(cast.today.year - 19, 1, 15)))
    field(page, "Gender").select_option(label="Female")
    field(page, "Referral source").select_option(label="Youth offending team")
    field(page, "Accommodation").check()
    expect(field(page, "Referred on")).to_have_value(today)
    shoot("referral-filled")
    page.get_by_role("button", name="Save referral").click()

    expect(page.get_by_role("status")).to_contain_text("Referral saved: SWK-00001")
    expect(page.get_by_role("heading", level=1)).to_have_text("Precious Adeyemi")
    shoot("referral-saved")

    page.get_by_role("link", name="Start support").click()
    expect(field(page, "Support started on")).to_have_value(today)
    page.get_by_role("button", name="Start support").click()
    expect(page.get_by_role("status")).to_contain_text("Next: assign a mentor")
    shoot("support-started")

    page.get_by_role("link", name="Assign a mentor").click()
    field(page, "Mentor").select_option(str(cast.spare_mentor.pk))
    field(page, "From").fill(today)
    shoot("assign-filled")
    page.get_by_role("button", name="Assign a mentor").click()
    expect(page.get_by_role("status")).to_contain_text("Dee Campbell is now the mentor")
    expect(timeline(page)).to_contain_text("Mentor Dee Campbell assigned")

    page.get_by_role("main").get_by_role("link", name="Log a session").click()
    expect(field(page, "Mentor")).to_have_value(str(cast.spare_mentor.pk))
    field(page, "Date").fill(today)
    field(page, "Duration (minutes)").fill("90")
    field(page, "Mode").select_option(label="Home visit")
    field(page, "ID & documents").check()
    field(page, "Notes").fill("Applied for a birth certificate.")
    shoot("session-filled")
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_role("status")).to_contain_text(f"Session on {today} saved.")
    session_entry = timeline(page).locator("li.timeline-session")
    expect(session_entry).to_have_count(1)
    expect(session_entry).to_contain_text("Session with Dee Campbell, 90 min, home visit")
    expect(session_entry).to_contain_text("Applied for a birth certificate.")
    shoot("session-on-timeline")

    page.get_by_role("link", name="Close case").click()
    expect(field(page, "Case closed on")).to_have_value(today)
    field(page, "Closure reason").select_option(label="Completed")
    page.get_by_role("button", name="Close case").click()
    expect(page.get_by_role("status")).to_contain_text("Case SWK-00001 closed.")
    expect(page.get_by_role("main")).to_contain_text(f"Closed{today} (completed)")
    shoot("case-closed")

    client = Client.objects.get(reference="SWK-00001")
    assert (client.status, client.closure_reason, client.ended_on) == (
        Client.Status.CLOSED,
        Client.ClosureReason.COMPLETED,
        cast.today,
    )
    assignment = Assignment.objects.get(client=client)
    assert (assignment.mentor, assignment.ended_on, assignment.end_reason) == (
        cast.spare_mentor,
        cast.today,
        Assignment.EndReason.CASE_CLOSED,
    )
    session = SupportSession.objects.get(client=client)
    assert (session.mentor, session.duration_minutes, session.logged_by) == (
        cast.spare_mentor,
        90,
        cast.coordinator,
    )
    assert [area.name for area in session.support_areas.all()] == ["ID & documents"]


def test_mentor_logs_a_session_for_their_client_from_home(page, cast, shoot):
    """From "My clients" on the home page to the confirmation on the client's page."""
    sign_in(page, "mentor_a")
    my_clients = page.get_by_role("region", name="My clients")
    expect(my_clients).to_contain_text("Jordan Reyes")
    shoot("home")

    my_clients.get_by_role("link", name="Log a session for Jordan Reyes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a session for Jordan Reyes")
    expect(field(page, "Mentor")).to_have_value(str(cast.mentor.pk))
    field(page, "Duration (minutes)").fill("45")
    field(page, "Mode").select_option(label="Phone")
    field(page, "Notes").fill("Talked through the interview on Friday.")
    shoot("form-filled")
    page.get_by_role("button", name="Save session").click()

    expect(page).to_have_url(re.compile(rf"/clients/{cast.jordan.reference}/$"))
    expect(page.get_by_role("status")).to_have_text(f"Session on {_dmy(cast.today)} saved.")
    expect(timeline(page).locator("li.timeline-session").first).to_contain_text(
        f"{_dmy(cast.today)} · Session with {cast.mentor.full_name}, 45 min, phone"
    )
    shoot("confirmation")
    session = SupportSession.objects.get(notes="Talked through the interview on Friday.")
    assert (session.client, session.mentor, session.logged_by, session.duration_minutes) == (
        cast.jordan,
        cast.mentor,
        cast.mentor_user,
        45,
    )


def test_printing_a_client_page_is_logged(page, cast, shoot):
    """The browser's print dialog (button or menu) writes one PRINT line to the access log."""
    sign_in(page, "coord_a")
    page.goto(f"/clients/{cast.jordan.reference}/")
    page.evaluate("window.print = () => window.dispatchEvent(new Event('beforeprint'))")
    with page.expect_response(re.compile(r"/printed/$")) as logged:
        page.get_by_role("button", name="Print").click()
    assert logged.value.status == 204
    page.wait_for_timeout(500)  # a repeated beacon, if any, has arrived
    printed = AccessLog.objects.filter(action=AccessLog.Action.PRINT)
    assert [(p.username, p.client_reference) for p in printed] == [
        ("coord_a", cast.jordan.reference)
    ]


def test_two_factor_enrolment_and_sign_in(page, cast, shoot, settings):
    """With two-factor on, a first sign-in enrols an app from the text key, then verifies."""
    settings.SOS_REQUIRE_2FA = True
    page.goto("/accounts/login/")
    page.fill("#id_username", "coord_a")
    page.fill("#id_password", factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/"))
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    shoot("set-up")
    key = page.locator("#text-key").inner_text().replace(" ", "")
    page.fill("#id_code", totp_now(key))
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    shoot("recovery-codes")
    page.get_by_role("link", name="I have saved them, continue").click()
    expect(page).to_have_url(re.compile(r"/$"))

    # Next sign-in: password, then a recovery code (the app code of this 30 s was used).
    page.get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    page.fill("#id_username", "coord_a")
    page.fill("#id_password", factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/"))
    shoot("verify")
    page.fill("#id_code", codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("status")).to_contain_text("9 left")


def totp_now(base32_key):
    import base64

    from django_otp.oath import TOTP

    padded = base32_key + "=" * (-len(base32_key) % 8)
    return f"{TOTP(base64.b32decode(padded)).token():06d}"


def test_coordinator_gets_not_found_for_another_borough(page, cast, shoot):
    """Typing the address of a Croydon record shows the 404 page, and nothing of the record."""
    sign_in(page, "coord_a")
    tyler = cast.tyler.reference
    for path in (
        f"/clients/{tyler}/",
        f"/clients/{tyler}/sessions/new/",
        f"/clients/{tyler}/close/",
        f"/sessions/{cast.croydon_session.pk}/edit/",
    ):
        response = page.goto(path)
        assert response.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        expect(page.get_by_role("main")).not_to_contain_text("Tyler")
        shoot(f"not-found-{path}")


def test_admin_brings_two_records_of_one_young_person_together(page, cast, shoot):
    """
    Jordan Reyes was referred again in Croydon. The admin finds both records with the
    list's filter, picks them, compares them and keeps Southwark's: Croydon's session moves.
    Then it turns out they are cousins, and the admin separates them again.
    """
    croydon = Borough.objects.get(code="CRO")
    again = factories.ClientFactory(
        borough=croydon,
        first_name="Jordan",
        last_name="Reyes",
        date_of_birth=cast.jordan.date_of_birth,
        referred_on=datetime.date(2021, 1, 5),
        active=True,
    )
    session = factories.SupportSessionFactory(
        client=again, mentor=factories.MentorFactory(home_borough=croydon)
    )
    sign_in(page, "sos_admin")
    page.goto("/admin/mentoring/client/?known_twice=yes&q=Reyes")
    for client in (cast.jordan, again):
        page.get_by_role("row").filter(has_text=client.reference).get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option(
        label="Bring two records of one young person together"
    )
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Bring two records of one young person together"
    )
    expect(page.get_by_label(f"{cast.jordan.reference}: Jordan Reyes, Southwark")).to_be_checked()
    shoot("the two records side by side")
    page.get_by_label("Why they are one young person").fill("Referred again by Croydon YOT")
    page.get_by_role("button", name="Bring the records together").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"{again.reference} was brought into {cast.jordan.reference}"
    )
    shoot("the record kept")
    session.refresh_from_db()
    assert session.client_id == cast.jordan.pk
    assert not Client.objects.filter(pk=again.pk).exists()
    # They were two young people after all: the kept record's page separates them again.
    page.get_by_role("link", name="separate again").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Separate {again.reference} from {cast.jordan.reference}"
    )
    shoot("separating them again")
    page.get_by_label("Why they are two young people").fill("Cousins, told apart by the YOT")
    page.get_by_role("button", name="Separate the records").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"{again.reference} was separated from {cast.jordan.reference} again (1 session moved"
    )
    session.refresh_from_db()
    assert session.client_id == again.pk


def test_double_clicked_session_form_saves_one_session(page, cast, shoot):
    sign_in(page, "coord_a")
    page.goto(f"/clients/{cast.kai.reference}/sessions/new/")
    field(page, "Mentor").select_option(str(cast.spare_mentor.pk))
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request))
    with page.expect_navigation():
        page.get_by_role("button", name="Save session").dblclick()
    expect(page.get_by_role("status")).to_contain_text("saved")
    shoot("after-double-click")
    # sos.js swallows the second submit event, so the browser sends one request.
    assert len(posts) == 1
    assert SupportSession.objects.filter(client=cast.kai).count() == 1


def test_resubmitted_session_form_saves_one_session(page, cast, shoot):
    """
    Without the JavaScript guard (a second tab, a retry after a timeout), the same form
    reaches the server twice with the same submission token: the second is turned away.
    """
    sign_in(page, "coord_a")
    page.goto(f"/clients/{cast.kai.reference}/sessions/new/")
    field(page, "Mentor").select_option(str(cast.spare_mentor.pk))
    fields = page.eval_on_selector(
        "#session-form", "form => Object.fromEntries(new FormData(form).entries())"
    )
    assert fields["submission_token"]
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_role("status")).to_contain_text("saved")

    replay = page.request.post(f"/clients/{cast.kai.reference}/sessions/new/", form=fields)
    assert replay.ok
    assert "That session was already saved; it was not saved twice." in replay.text()
    page.goto(f"/clients/{cast.kai.reference}/")
    shoot("after-replay")
    assert SupportSession.objects.filter(client=cast.kai).count() == 1


def test_session_form_sent_twice_past_the_script_guard_saves_one_session(page, cast, shoot):
    """
    ``form.submit()`` fires no submit event, so sos.js cannot stop it: the same form goes
    once into a new tab and then again from the page itself, as two full POSTs.
    """
    sign_in(page, "coord_a")
    page.goto(f"/clients/{cast.kai.reference}/sessions/new/")
    field(page, "Mentor").select_option(str(cast.spare_mentor.pk))
    posts = []
    page.context.on("request", lambda request: request.method == "POST" and posts.append(request))

    with page.context.expect_page() as new_tab:
        page.eval_on_selector("#session-form", "form => { form.target = '_blank'; form.submit(); }")
    first = new_tab.value
    expect(first.get_by_role("status")).to_have_text(f"Session on {_dmy(cast.today)} saved.")
    with page.expect_navigation(url=re.compile(rf"/clients/{cast.kai.reference}/$")):
        page.eval_on_selector("#session-form", "form => { form.target = '_self'; form.submit(); }")
    expect(page.get_by_role("status")).to_have_text(
        "That session was already saved; it was not saved twice."
    )
    shoot("after-second-submission")
    assert len(posts) == 2
    assert posts[0].post_data == posts[1].post_data
    assert SupportSession.objects.filter(client=cast.kai).count() == 1


# The focused element, unless an outline or a box-shadow ring shows where it is. Focus on
# a native control's inner parts (a time input's picker button) is drawn by the browser.
UNMARKED_FOCUS = """
() => {
  const el = document.activeElement;
  if (!el.matches(":focus")) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const ring = style.boxShadow !== "none" && !/^rgba\\(0, 0, 0, 0\\)/.test(style.boxShadow);
  return outline || ring ? null : el.outerHTML.slice(0, 120);
}
"""


def test_coordinator_logs_a_session_with_the_keyboard_alone(page, cast, shoot):
    """Tab, Enter, arrow keys and typing only; every stop on the way shows where focus is."""
    sign_in(page, "coord_a")
    page.goto("/")
    unmarked = []

    def tab_to(locator, limit=40):
        for _ in range(limit):
            page.keyboard.press("Tab")
            if element := page.evaluate(UNMARKED_FOCUS):
                unmarked.append(f"{page.url}: {element}")
            if locator.evaluate("el => document.activeElement === el"):
                return
        pytest.fail(f"Tab never reached {locator}")

    tab_to(page.get_by_role("link", name="Log a session").first)
    shoot("log-link-focused")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/sessions/new/$"))

    client_select = field(page, "Client")
    tab_to(client_select)
    for _ in range(5):
        page.keyboard.press("ArrowDown")
        if client_select.evaluate("s => s.selectedOptions[0].text").endswith("Jordan Reyes"):
            break
    expect(client_select).to_have_value(str(cast.jordan.pk))
    tab_to(field(page, "Notes"))
    page.keyboard.type("Logged without a mouse.")
    tab_to(page.get_by_role("button", name="Save session"))
    shoot("save-focused")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/clients/{cast.jordan.reference}/$"))
    expect(page.get_by_role("status")).to_contain_text("saved")
    shoot("saved")
    session = SupportSession.objects.get(notes="Logged without a mouse.")
    # Left blank, the mentor is the client's current one.
    assert (session.client, session.mentor, session.date) == (cast.jordan, cast.mentor, cast.today)
    assert not unmarked, "Focused without a visible indicator:\n" + "\n".join(unmarked)


def test_logging_a_session_from_home_takes_at_most_three_clicks(page, cast, shoot):
    """
    Counted: clicks on links and buttons, from the home page to the saved session. The
    client is chosen from a select, counted as no click here; with a mouse that is one
    click to open the list and one to pick, so four pointer actions in all.
    """
    sign_in(page, "coord_a")
    clicks = 0

    def click(locator):
        nonlocal clicks
        clicks += 1
        locator.click()

    click(page.get_by_role("main").get_by_role("link", name="Log a session", exact=True))
    field(page, "Client").select_option(label=f"{cast.jordan.reference} Jordan Reyes")
    shoot("client-chosen")
    click(page.get_by_role("button", name="Save session"))

    expect(page.get_by_role("status")).to_contain_text("saved")
    shoot("saved")
    assert SupportSession.objects.filter(client=cast.jordan, date=cast.today).count() == 1
    assert clicks <= 3


# Accessibility ------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """One page to scan: where it is, the status it answers with, and an optional button
    to press first (a form sent empty, to scan the page re-rendered with its errors)."""

    name: str
    path: str
    status: int = 200
    submit: str | None = None
    fill: tuple = ()


def _screens(role, cast):
    jordan, kai, leah = cast.jordan.reference, cast.kai.reference, cast.leah.reference
    mentor = cast.mentor.pk
    common_casework = [
        Screen("home", "/"),
        Screen("client list", "/clients/"),
        Screen("client detail", f"/clients/{jordan}/"),
        Screen("log session from client", f"/clients/{jordan}/sessions/new/"),
        Screen("log session", "/sessions/new/"),
        Screen(
            "log session with errors",
            "/sessions/new/",
            submit="Save session",
            fill=(("Duration (minutes)", "1"),),
        ),
        Screen("session correction", f"/sessions/{cast.recent_session.pk}/edit/"),
        Screen("mentor list", "/mentors/"),
        Screen("mentor detail", f"/mentors/{mentor}/"),
        Screen("password change", "/accounts/password/"),
        Screen("two-factor sign-in", "/accounts/two-factor/"),
        Screen("two-factor set-up", "/accounts/two-factor/setup/"),
        Screen("not found", f"/clients/{cast.tyler.reference}/", status=404),
    ]
    case_management = [
        Screen("client list page 2", "/clients/?page=2"),
        Screen("referred client detail", f"/clients/{leah}/"),
        Screen("new referral", "/clients/new/"),
        Screen("new referral with errors", "/clients/new/", submit="Save referral"),
        Screen(
            "new referral of a young person on record",
            "/clients/new/",
            submit="Save referral",
            fill=(
                ("First name", cast.jordan.first_name),
                ("Last name", cast.jordan.last_name),
                ("Date of birth", f"{cast.jordan.date_of_birth:%d/%m/%Y}"),
            ),
        ),
        Screen("edit client", f"/clients/{jordan}/edit/"),
        Screen("start support", f"/clients/{leah}/start/"),
        Screen("assign mentor", f"/clients/{kai}/assign/"),
        Screen("reassign mentor", f"/clients/{jordan}/assign/"),
        Screen("end match", f"/clients/{jordan}/assign/end/"),
        Screen("close case", f"/clients/{jordan}/close/"),
        Screen("close case with errors", f"/clients/{jordan}/close/", submit="Close case"),
        Screen("add offence", f"/clients/{jordan}/offences/new/"),
        Screen("add milestone", f"/clients/{jordan}/milestones/new/"),
        Screen("add goal", f"/clients/{jordan}/goals/new/"),
        Screen("record an outcome", f"/offences/{cast.pending_offence.pk}/edit/"),
        Screen(
            "record an outcome with errors",
            f"/offences/{cast.pending_offence.pk}/edit/",
            submit="Save changes",
            fill=(("Outcome date", "01/01/2020"),),
        ),
        Screen("correct a milestone", f"/milestones/{cast.milestone.pk}/edit/"),
        Screen("add placement", f"/clients/{jordan}/placements/new/"),
        Screen("end a placement", f"/placements/{cast.placement.pk}/edit/"),
        Screen("review a goal", f"/goals/{cast.goal.pk}/edit/"),
        Screen("add a pathway step", f"/clients/{jordan}/pathway/new/"),
        Screen(
            "becomes a mentor with errors",
            f"/clients/{jordan}/becomes-mentor/",
            submit="Create the mentor record",
        ),
        Screen("former mentors", "/mentors/?show=all"),
        Screen("change history", f"/clients/{jordan}/history/"),
        Screen("subject access export", f"/clients/{jordan}/export/"),
    ]
    dashboards = [
        Screen("network dashboard", "/dashboard/"),
        Screen("borough dashboard", "/dashboard/southwark/"),
        Screen("dashboard with a date in the future", "/dashboard/?as_of=2999-01-01", status=400),
        Screen("employer network", "/employers/"),
        Screen("replication", "/dashboard/replication/"),
    ]
    if role == "coordinator":
        return [
            *common_casework,
            *case_management,
            *dashboards,
            Screen("forbidden", f"/sessions/{cast.old_session.pk}/edit/", status=403),
        ]
    if role == "admin":
        # An admin sees every borough: the 404 is a mentor who does not exist.
        return [
            *[s for s in common_casework if s.status == 200],
            *case_management,
            *dashboards[:2],
            *dashboards[3:],
            Screen("not found", "/mentors/999999/", status=404),
        ]
    if role == "mentor":
        return [
            *common_casework,
            Screen("forbidden", "/clients/new/", status=403),
        ]
    if role == "manager":
        return [
            Screen("home (network dashboard)", "/"),
            *dashboards[1:],
            Screen("mentor list", "/mentors/"),
            Screen("mentor detail", f"/mentors/{mentor}/"),
            Screen("password change", "/accounts/password/"),
            Screen("password change with errors", "/accounts/password/", submit="Change password"),
            Screen("forbidden", "/clients/", status=403),
            Screen("not found", "/mentors/999999/", status=404),
        ]
    return [
        Screen("login", "/accounts/login/"),
        Screen("password reset", "/accounts/password/reset/"),
        Screen(
            "login with errors",
            "/accounts/login/",
            submit="Sign in",
            fill=(("Username", "coord_a"), ("Password", "not-the-password")),
        ),
    ]


# What sticks out past the right edge of a 375 px page. Content inside a .table-responsive
# wrapper scrolls within it and is fine, unless it is absolutely positioned: that escapes
# the wrapper (which is not positioned) and widens the page itself.
OVERFLOW_SCRIPT = """
limit => {
  const wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= limit) continue;
    const position = getComputedStyle(el).position;
    const wrapped = el.parentElement && el.parentElement.closest(".table-responsive");
    if (wrapped && position !== "absolute" && position !== "fixed") continue;
    const classes = typeof el.className === "string" && el.className.trim()
      ? "." + el.className.trim().split(/\\s+/).join(".") : "";
    wide.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${classes}`
      + ` "${el.textContent.trim().slice(0, 40)}" (${position}, right edge`
      + ` ${Math.round(box.right)} px${wrapped ? ", inside .table-responsive" : ""})`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(-5)};
}
"""


@pytest.fixture(scope="module")
def scan_report(screenshots):
    """Every scanned page's findings, written to tests/screenshots/ when the module ends."""
    report = {}
    yield report
    pages = sum(len(role["pages"]) for role in report.values())
    blocking = sum(len(role["blocking"]) for role in report.values())
    summary = {"pages_scanned": pages, "blocking_violations": blocking, "roles": report}
    (screenshots / "accessibility-report.json").write_text(json.dumps(summary, indent=2))


def _audit(page, axe, role, screen, shot_path):
    """Scan the current page with axe at desktop and phone widths; check phone reflow."""
    findings = []
    overflow = None
    for label, viewport in (("desktop", DESKTOP), ("375px", PHONE)):
        page.set_viewport_size(viewport)
        for violation in axe.run(page).response["violations"]:
            findings.append(
                {
                    "page": f"{role} / {screen.name} ({screen.path})",
                    "width": label,
                    "rule": violation["id"],
                    "impact": violation["impact"],
                    "help": violation["help"],
                    "targets": [" ".join(node["target"]) for node in violation["nodes"]],
                    "why": " ".join(violation["nodes"][0]["failureSummary"].split()),
                }
            )
        page.screenshot(path=f"{shot_path}--{label}.png", full_page=True)
        if viewport is PHONE:
            measured = page.evaluate(OVERFLOW_SCRIPT, PHONE["width"] + 1)
            if measured["scrollWidth"] > PHONE["width"] + 1:
                overflow = {
                    "page": f"{role} / {screen.name} ({screen.path})",
                    "scroll_width": measured["scrollWidth"],
                    "widest": measured["wide"],
                }
    page.set_viewport_size(DESKTOP)
    return findings, overflow


def _describe(finding):
    targets = ", ".join(finding["targets"][:5])
    more = len(finding["targets"]) - 5
    return (
        f"- {finding['page']} at {finding['width']}: {finding['rule']} ({finding['impact']}) "
        f"{finding['help']} -> {targets}{f' and {more} more' if more > 0 else ''}. "
        f"{finding['why']}"
    )


USERNAMES = {
    "coordinator": "coord_a",
    "mentor": "mentor_a",
    "manager": "manager",
    "admin": "sos_admin",
    "anonymous": None,
}


@pytest.mark.parametrize("role", list(USERNAMES))
def test_every_page_passes_axe_and_reflows_at_375px(
    page, cast, role, scan_report, screenshots, request
):
    """
    axe finds no serious or critical violation on any page the role can reach, at desktop
    width and at 375 px, and no page scrolls sideways at 375 px (tables scroll inside their
    .table-responsive wrapper, which is allowed).
    """
    if USERNAMES[role]:
        sign_in(page, USERNAMES[role])
    axe = Axe()
    scanned, findings, overflows = [], [], []
    for screen in _screens(role, cast):
        response = page.goto(screen.path)
        assert response.status == screen.status, f"{screen.name}: {screen.path}"
        if screen.submit:
            for label, value in screen.fill:
                field(page, label).fill(value)
            with page.expect_navigation():
                page.get_by_role("button", name=screen.submit).click()
            expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
        shot_path = screenshots / f"{slug(request.node.name)}--{slug(screen.name)}"
        page_findings, overflow = _audit(page, axe, role, screen, shot_path)
        scanned.append(screen.name)
        findings.extend(page_findings)
        if overflow:
            overflows.append(overflow)

    assert scanned, f"{role}: no page to scan"
    blocking = [f for f in findings if f["impact"] in BLOCKING_IMPACTS]
    scan_report[role] = {
        "pages": scanned,
        "blocking": blocking,
        "other": [f for f in findings if f["impact"] not in BLOCKING_IMPACTS],
        "overflow_at_375px": overflows,
    }
    problems = [_describe(f) for f in blocking] + [
        f"- {o['page']} scrolls sideways at 375 px (scrollWidth {o['scroll_width']}); "
        f"widest elements: {'; '.join(o['widest'])}"
        for o in overflows
    ]
    assert not problems, (
        f"{role}: scanned {len(scanned)} pages, found {len(blocking)} serious or critical axe "
        f"violations and {len(overflows)} pages wider than 375 px:\n" + "\n".join(problems)
    )
