"""
SOS on a phone: every page a coordinator, mentor or manager reaches, in Chromium at
390 x 844 with touch, as people use it between meetings.

On each page: nothing that can be clicked lies off the screen and the page does not scroll
sideways; charts fit the screen with labels that can be read; buttons are at least 44 px
tall; axe-core finds no serious or critical violation. A screenshot of each page goes to
tests/screenshots/phone-<role>-<page>.png (git-ignored), to look at. A last test checks
that the desktop layout keeps its tables.
"""

import datetime
import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from mentoring.models import (
    Assignment,
    Goal,
    Milestone,
    Offence,
    Placement,
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

PHONE = {"width": 390, "height": 844}
# Apple's and Android's guidance for something pressed with a finger.
MIN_TARGET = 44
# Chart text smaller than this, once the chart is scaled to the screen, is hard to read.
MIN_CHART_TEXT = 11


# Fixtures -----------------------------------------------------------------------------


@pytest.fixture
def phone(browser, live_server):
    """A page in a phone: 390 px wide, touch screen, the page's own viewport tag obeyed."""
    context = new_context(browser, live_server, viewport=PHONE, has_touch=True, is_mobile=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser, live_server):
    context = new_context(browser, live_server, viewport=DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def screenshots():
    """tests/screenshots/, cleared of the pictures an earlier run of these tests left."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for pattern in ("phone-*.png", "desktop-*.png"):
        for old in SCREENSHOTS.glob(pattern):
            old.unlink(missing_ok=True)  # another test process may have removed it
    return SCREENSHOTS


def _days_ago(today, days):
    return today - datetime.timedelta(days=days)


@pytest.fixture
def cast(transactional_db, settings):
    """
    Three areas with everything a page can show: a client with a long name and a long
    timeline (sessions, offences, milestones, goals, placements, two mentors), queues on
    the home page, and three years of referrals, sessions and reoffences for the charts.
    Committed (``transactional_db``) so that the live server's thread can see it.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    today = timezone.localdate()
    factories.seed_support_areas()
    areas = list(SupportArea.objects.all())
    southwark = factories.BoroughFactory(name="Southwark", slug="southwark", code="SWK")
    kensington = factories.BoroughFactory(
        name="Kensington & Chelsea", slug="kensington-chelsea", code="KNC"
    )
    croydon = factories.BoroughFactory(name="Croydon", slug="croydon", code="CRO")

    coordinator = factories.StaffProfileFactory(
        user__username="coord_a",
        user__first_name="Chloe",
        role=StaffProfile.Role.COORDINATOR,
        boroughs=[southwark],
    ).user
    factories.StaffProfileFactory(user__username="manager", role=StaffProfile.Role.MANAGER)
    mentor_user = factories.StaffProfileFactory(
        user__username="mentor_a", role=StaffProfile.Role.MENTOR, boroughs=[southwark]
    ).user
    mentor = factories.MentorFactory(
        user=mentor_user,
        home_borough=southwark,
        first_name="Andre",
        last_name="Fitzwilliam-Okonkwo",
        lived_experience=True,
        listener_trained=True,
    )
    former_mentor = factories.MentorFactory(
        home_borough=southwark, first_name="Dee", last_name="Campbell"
    )
    factories.MentorFactory(
        home_borough=southwark, first_name="Ola", ended_on=datetime.date(2024, 3, 31)
    )
    factories.MentorFactory(home_borough=southwark, first_name="Sam", vetting_checked_on=None)

    jordan = factories.ClientFactory(
        borough=southwark,
        first_name="Jordan-Alexander",
        last_name="Reyes-Montgomery",
        referred_on=_days_ago(today, 400),
        active=True,
        phone="07700 900123",
        email="jordan.alexander.reyes-montgomery@example.org",
        address="Flat 12, Long Building Name House\n1 Walworth Road\nLondon SE17 1AA",
        gang_affiliated=True,
    )
    factories.AssignmentFactory(
        client=jordan,
        mentor=former_mentor,
        started_on=jordan.started_on,
        ended_on=_days_ago(today, 200),
        end_reason=Assignment.EndReason.MENTOR_LEFT,
    )
    factories.AssignmentFactory(client=jordan, mentor=mentor, started_on=_days_ago(today, 200))
    notes = [
        "Went to the job centre together.\nBooked a CSCS card test for next Tuesday.",
        "Talked through the interview on Friday: what to wear, how to get there, what to "
        "say about the gap in his CV. He wants to practise again on Monday.",
        "",
        "Phone call only: he was at his nan's.",
    ]
    for week in range(14):
        session = factories.SupportSessionFactory(
            client=jordan,
            mentor=mentor if week < 10 else former_mentor,
            date=_days_ago(today, 3 + 7 * week),
            notes=notes[week % len(notes)],
            mode=list(SupportSession.Mode)[week % len(SupportSession.Mode)],
            attendance=(
                SupportSession.Attendance.DID_NOT_ATTEND
                if week % 5 == 4
                else SupportSession.Attendance.ATTENDED
            ),
            safeguarding_concern=week in (0, 6),
            logged_by=mentor_user,
        )
        session.support_areas.set(areas[week % 4 : week % 4 + 3])
    recent = SupportSession.objects.get(client=jordan, date=_days_ago(today, 3))
    old = SupportSession.objects.get(client=jordan, date=_days_ago(today, 45))
    old.safeguarding_action = "Spoke to his YOT worker, who is arranging a housing referral."
    old.safeguarding_handled_at = timezone.now() - datetime.timedelta(days=2)
    old.safeguarding_handled_by = coordinator
    old.save()
    factories.OffenceFactory(
        client=jordan,
        offence_date=_days_ago(today, 380),
        outcome_date=_days_ago(today, 300),
        disposal=Offence.Disposal.YOUTH_REHABILITATION_ORDER,
    )
    pending = factories.OffenceFactory(
        client=jordan,
        offence_date=_days_ago(today, 20),
        disposal=Offence.Disposal.PENDING,
        outcome_date=None,
    )
    milestone = factories.MilestoneFactory(client=jordan, achieved_on=_days_ago(today, 30))
    factories.MilestoneFactory(
        client=jordan,
        kind=Milestone.Kind.OPENED_BANK_ACCOUNT,
        achieved_on=_days_ago(today, 90),
        verified=True,
    )
    goal = factories.GoalFactory(
        client=jordan,
        set_on=_days_ago(today, 60),
        target_date=_days_ago(today, 5),
        description="Get a provisional driving licence as photo ID, then open a bank account",
    )
    factories.GoalFactory(
        client=jordan,
        support_area=areas[3],
        set_on=_days_ago(today, 120),
        status=Goal.Status.ACHIEVED,
    )
    placement = factories.PlacementFactory(
        client=jordan,
        employer=factories.EmployerFactory(
            name="Bankside Builders and Civil Engineering Ltd",
            sector="Construction",
            borough=southwark,
            contact_name="Priya Ramaswamy-Henderson",
            contact_phone="020 7946 0000",
            contact_email="apprenticeships@banksidebuildersandcivilengineering.example.org",
        ),
        started_on=_days_ago(today, 25),
    )
    factories.PlacementFactory(
        client=jordan,
        employer=factories.EmployerFactory(name="Riverside Cafe", sector="Hospitality"),
        kind=Placement.Kind.WORK_EXPERIENCE,
        started_on=_days_ago(today, 150),
        ended_on=_days_ago(today, 120),
    )
    factories.EmployerFactory(name="Old Kent Road Motors", is_active=False)

    kai = factories.ClientFactory(
        borough=southwark,
        first_name="Oluwaseun-Adebayo",
        last_name="Fitzgerald-Brown",
        referred_on=_days_ago(today, 90),
        active=True,
    )
    leah = factories.ClientFactory(
        borough=southwark, first_name="Leah", last_name="Morgan", referred_on=_days_ago(today, 9)
    )
    factories.ClientFactory.create_batch(24, borough=southwark)

    # Three years of referrals, starts, closures, sessions and reoffences in two areas, for
    # the charts: a cohort large enough for a curve in Southwark, a small one elsewhere.
    for borough, count, every in ((southwark, 22, 50), (kensington, 14, 80)):
        area_mentor = factories.MentorFactory(home_borough=borough, first_name="Nia")
        for n in range(count):
            referred_on = _days_ago(today, 40 + every * n)
            if n % 5 == 3:
                client = factories.ClientFactory(
                    borough=borough, referred_on=referred_on, closed=True
                )
            else:
                client = factories.ClientFactory(
                    borough=borough, referred_on=referred_on, active=True
                )
                factories.AssignmentFactory(client=client, mentor=area_mentor)
            for month in range(3):
                session_day = client.started_on + datetime.timedelta(days=10 + 30 * month)
                if session_day < today:
                    factories.SupportSessionFactory(
                        client=client,
                        mentor=area_mentor,
                        date=session_day,
                        duration_minutes=45 + 15 * month,
                    )
            if n % 4 == 1:
                factories.OffenceFactory(
                    client=client,
                    offence_date=client.started_on + datetime.timedelta(days=100),
                    outcome_date=client.started_on + datetime.timedelta(days=160),
                )
    tyler = factories.ClientFactory(borough=croydon, first_name="Tyler", active=True)
    factories.AssignmentFactory(client=tyler)

    # A case completed 200 days ago: its 3-month check-in recorded, its 6-month one due.
    ended = _days_ago(today, 200)
    finished = factories.ClientFactory(
        borough=southwark,
        first_name="Marcus-Anthony",
        last_name="Oyelaran-Whitfield",
        referred_on=ended - datetime.timedelta(days=320),
        ended_on=ended,
        closed=True,
    )
    check_in = factories.FollowUpFactory(
        client=finished, note="Started a Level 2 plumbing course at Lambeth College."
    )

    return SimpleNamespace(
        finished=finished,
        check_in=check_in,
        today=today,
        jordan=jordan,
        kai=kai,
        leah=leah,
        mentor=mentor,
        recent_session=recent,
        pending_offence=pending,
        milestone=milestone,
        goal=goal,
        placement=placement,
    )


# Pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """One page to check: where it is, and an optional form to send first (to check the
    page re-rendered with its errors) or menu to open."""

    name: str
    path: str
    submit: str | None = None
    fill: tuple = ()
    open_menu: bool = False


def _screens(role, cast):
    jordan, kai, leah = cast.jordan.reference, cast.kai.reference, cast.leah.reference
    if role == "coordinator":
        return [
            Screen("home", "/"),
            Screen("home, menu open", "/", open_menu=True),
            Screen("client list", "/clients/"),
            Screen("client list, page 2", "/clients/?page=2"),
            Screen("client", f"/clients/{jordan}/"),
            Screen("client, older timeline", f"/clients/{jordan}/?timeline=2"),
            Screen("referred client", f"/clients/{leah}/"),
            Screen("new referral", "/clients/new/"),
            Screen("new referral with errors", "/clients/new/", submit="Save referral"),
            Screen("edit client", f"/clients/{jordan}/edit/"),
            Screen("start support", f"/clients/{leah}/start/"),
            Screen("close case", f"/clients/{jordan}/close/"),
            Screen("close case with errors", f"/clients/{jordan}/close/", submit="Close case"),
            Screen("transfer", f"/clients/{jordan}/transfer/"),
            Screen("assign mentor", f"/clients/{kai}/assign/"),
            Screen("reassign mentor", f"/clients/{jordan}/assign/"),
            Screen("end match", f"/clients/{jordan}/assign/end/"),
            Screen("log session", "/sessions/new/"),
            Screen("log session for client", f"/clients/{jordan}/sessions/new/"),
            Screen(
                "log session with errors",
                f"/clients/{jordan}/sessions/new/",
                submit="Save session",
                fill=(("Duration (minutes)", "1"),),
            ),
            Screen("session correction", f"/sessions/{cast.recent_session.pk}/edit/"),
            Screen("safeguarding follow-up", f"/sessions/{cast.recent_session.pk}/safeguarding/"),
            Screen("add offence", f"/clients/{jordan}/offences/new/"),
            Screen("record an outcome", f"/offences/{cast.pending_offence.pk}/edit/"),
            Screen("add milestone", f"/clients/{jordan}/milestones/new/"),
            Screen("correct a milestone", f"/milestones/{cast.milestone.pk}/edit/"),
            Screen("add goal", f"/clients/{jordan}/goals/new/"),
            Screen("review a goal", f"/goals/{cast.goal.pk}/edit/"),
            Screen("add placement", f"/clients/{jordan}/placements/new/"),
            Screen("end a placement", f"/placements/{cast.placement.pk}/edit/"),
            Screen("client after support", f"/clients/{cast.finished.reference}/"),
            Screen("record a check-in", f"/clients/{cast.finished.reference}/followups/6/"),
            Screen(
                "record a check-in with errors",
                f"/clients/{cast.finished.reference}/followups/6/",
                submit="Save check-in",
            ),
            Screen("correct a check-in", f"/followups/{cast.check_in.pk}/edit/"),
            Screen("change history", f"/clients/{jordan}/history/"),
            Screen("subject access export", f"/clients/{jordan}/export/"),
            Screen("mentor list", "/mentors/?show=all"),
            Screen("mentor", f"/mentors/{cast.mentor.pk}/"),
            Screen("employers", "/employers/?show=all"),
            Screen("network dashboard", "/dashboard/"),
            Screen("borough dashboard", "/dashboard/southwark/"),
            Screen("replication", "/dashboard/replication/"),
            Screen("password change", "/accounts/password/"),
            Screen("two-factor sign-in", "/accounts/two-factor/"),
        ]
    if role == "mentor":
        return [
            Screen("home", "/"),
            Screen("home, menu open", "/", open_menu=True),
            Screen("client list", "/clients/"),
            Screen("client", f"/clients/{jordan}/"),
            Screen("log session for client", f"/clients/{jordan}/sessions/new/"),
            Screen("session correction", f"/sessions/{cast.recent_session.pk}/edit/"),
            Screen("mentor list", "/mentors/"),
            Screen("mentor", f"/mentors/{cast.mentor.pk}/"),
            Screen("password change", "/accounts/password/"),
        ]
    if role == "manager":
        return [
            Screen("home", "/"),
            Screen("home, menu open", "/", open_menu=True),
            Screen("borough dashboard", "/dashboard/kensington-chelsea/"),
            Screen("replication", "/dashboard/replication/"),
            Screen(
                "impact report",
                "/reports/impact/?scope=network&from=01/04/2024&to=31/03/2025",
            ),
            Screen("employers", "/employers/"),
            Screen("mentor list", "/mentors/"),
            Screen("mentor", f"/mentors/{cast.mentor.pk}/"),
            Screen("password change with errors", "/accounts/password/", submit="Change password"),
        ]
    return [
        Screen("sign in", "/accounts/login/"),
        Screen(
            "sign in with errors",
            "/accounts/login/",
            submit="Sign in",
            fill=(("Username", "coord_a"), ("Password", "not-the-password")),
        ),
        Screen("password reset", "/accounts/password/reset/"),
    ]


# What a phone screen must hold. Returns one line per problem; an empty list is a pass.
PHONE_CHECKS = """
([width, minTarget, minChartText]) => {
  const problems = [];
  const visible = el => {
    const box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1
      && el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  };
  const describe = el => {
    const text = (el.getAttribute("aria-label") || el.textContent || el.value || "")
      .replace(/\\s+/g, " ").trim().slice(0, 40);
    const classes = typeof el.className === "string" && el.className.trim()
      ? "." + el.className.trim().split(/\\s+/).join(".") : "";
    return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${classes} "${text}"`;
  };
  const px = value => Math.round(value);

  const pageWidth = document.documentElement.scrollWidth;
  if (pageWidth > width) problems.push(`the page is ${pageWidth} px wide`);
  for (const el of document.body.querySelectorAll("*")) {
    const overflow = getComputedStyle(el).overflowX;
    if ((overflow === "auto" || overflow === "scroll") && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${describe(el)} scrolls sideways (${el.scrollWidth} px in ${el.clientWidth})`);
    }
  }

  const clickable = "a, button, input, select, textarea, summary, [role=button]";
  for (const el of document.querySelectorAll(clickable)) {
    if (!visible(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.left < -0.5 || box.right > width + 0.5) {
      problems.push(`${describe(el)} is off the screen (${px(box.left)} to ${px(box.right)} px)`);
    }
  }

  const targets = "button, .btn, input[type=submit], input[type=button], [role=button], "
    + ".navbar-toggler, .page-link, .goal-status select";
  for (const el of document.querySelectorAll(targets)) {
    if (!visible(el)) continue;
    const height = el.getBoundingClientRect().height;
    if (height < minTarget - 0.5) problems.push(`${describe(el)} is ${px(height)} px tall`);
  }

  for (const svg of document.querySelectorAll("svg")) {
    if (!visible(svg)) continue;
    const box = svg.getBoundingClientRect();
    if (box.left < -0.5 || box.right > width + 0.5) {
      problems.push(`a chart is off the screen (${px(box.left)} to ${px(box.right)} px)`);
    }
    const view = svg.viewBox && svg.viewBox.baseVal;
    if (!view || !view.width) continue;
    const name = svg.querySelector("title") ? svg.querySelector("title").textContent : "chart";
    const texts = [...svg.querySelectorAll("text")].filter(visible);
    const scale = box.width / view.width;
    for (const text of texts) {
      const size = parseFloat(getComputedStyle(text).fontSize) * scale;
      const edge = text.getBoundingClientRect();
      if (size < minChartText - 0.05) {
        problems.push(`"${text.textContent}" in "${name}" is ${size.toFixed(1)} px`);
      }
      if (edge.left < box.left - 0.5 || edge.right > box.right + 0.5) {
        problems.push(`"${text.textContent}" sticks out of "${name}"`);
      }
    }
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i].getBoundingClientRect(), b = texts[j].getBoundingClientRect();
        const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
          && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
        if (overlap) {
          problems.push(`"${texts[i].textContent}" and "${texts[j].textContent}" `
            + `overlap in "${name}"`);
        }
      }
    }
  }
  return problems;
}
"""


def _open(page, screen):
    response = page.goto(screen.path)
    assert response.status == 200, f"{screen.name}: {screen.path} answered {response.status}"
    if screen.submit:
        for label, value in screen.fill:
            field(page, label).fill(value)
        with page.expect_navigation():
            page.get_by_role("button", name=screen.submit).click()
        expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    if screen.open_menu:
        page.get_by_role("button", name="Show menu").tap()
        expect(page.locator("#nav-links")).to_have_class(re.compile(r"\bshow\b"))
    # What is folded away (a table of monthly figures, a confirmation) must fit too.
    page.evaluate("document.querySelectorAll('main details').forEach(d => { d.open = true; })")


USERNAMES = {
    "coordinator": "coord_a",
    "mentor": "mentor_a",
    "manager": "manager",
    "anonymous": None,
}


@pytest.mark.parametrize("role", list(USERNAMES))
def test_every_page_fits_a_phone(phone, cast, role, screenshots):
    """
    At 390 x 844 with touch, on every page the role reaches: everything clickable is on
    the screen and the page does not scroll sideways, charts fit with readable labels that
    do not overlap, buttons are at least 44 px tall, and axe finds nothing serious.
    """
    if USERNAMES[role]:
        sign_in(phone, USERNAMES[role])
    axe = Axe()
    problems = []
    screens = _screens(role, cast)
    for screen in screens:
        _open(phone, screen)
        shot = screenshots / f"phone-{role}-{slug(screen.name)}.png"
        phone.screenshot(path=shot, full_page=True)
        found = phone.evaluate(PHONE_CHECKS, [PHONE["width"], MIN_TARGET, MIN_CHART_TEXT])
        found += [
            f"axe: {violation['id']} ({violation['impact']}) {violation['help']} -> "
            + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            for violation in axe.run(phone).response["violations"]
            if violation["impact"] in BLOCKING_IMPACTS
        ]
        problems += [f"- {screen.name} ({screen.path}): {problem}" for problem in found]
    assert not problems, f"{role}: {len(screens)} pages checked at 390 px:\n" + "\n".join(problems)


def test_the_phone_layout_leaves_the_desktop_as_it_was(desktop, cast, screenshots):
    """
    At 1280 px with a mouse the lists are still tables with their headings, buttons keep
    Bootstrap's size, and charts are as wide as the page.
    """
    sign_in(desktop, "coord_a")
    pages = {
        "home": "/",
        "client list": "/clients/",
        "client": f"/clients/{cast.jordan.reference}/",
        "network dashboard": "/dashboard/",
    }
    for name, path in pages.items():
        desktop.goto(path)
        desktop.screenshot(path=screenshots / f"desktop-{slug(name)}.png", full_page=True)
        assert desktop.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
        for table in desktop.locator("main table").all():
            if table.is_visible():
                expect(table.locator("thead").first).to_be_visible()
                assert table.evaluate("t => getComputedStyle(t).display") == "table"
    desktop.goto("/")
    assert desktop.locator("main .btn-sm").first.bounding_box()["height"] < MIN_TARGET - 8
    desktop.goto("/dashboard/")
    main = desktop.locator("main").bounding_box()
    for chart in desktop.locator("svg.chart-svg").all():
        assert chart.bounding_box()["width"] > main["width"] * 0.9


def test_a_form_with_errors_takes_the_phone_to_its_summary(phone, cast, screenshots):
    """
    On a phone the first error may be far below the fold: the page comes back with focus
    on the error summary at its top, its title says so, and each link leads to its box.
    """
    sign_in(phone, "coord_a")
    phone.goto("/clients/new/")
    field(phone, "Date of birth").fill("31022004")
    phone.get_by_role("button", name=re.compile("Save|Refer", re.I)).first.click()
    summary = phone.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    assert phone.title().startswith("Error: ")
    assert summary.evaluate("el => document.activeElement === el")
    assert summary.bounding_box()["y"] < PHONE["height"]
    phone.screenshot(path=screenshots / "phone-error-summary-focused.png")
    summary.get_by_role("link", name=re.compile("Date of birth")).click()
    assert phone.evaluate("document.activeElement.id") == "id_date_of_birth"
    expect(summary).to_contain_text("31/02/2004 is not a real date")
