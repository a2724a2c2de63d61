"""
The funders' impact report in Chromium: on the screen under the strict Content Security
Policy, printed (the print stylesheet leaves the report and nothing of the page around
it), on a phone, and downloaded as a PDF.

A manager opens the report of the whole network for the financial year 2024-25, a period
with enough young people in it for every figure to be published. Screenshots go to
tests/screenshots/impact-*.png (git-ignored), to look at.
"""

import datetime
import io
import re
from types import SimpleNamespace

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from pypdf import PdfReader

from mentoring.models import (
    ImpactReportLog,
    Milestone,
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
    new_context,
    require_chromium,
    sign_in,
)

require_chromium()

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PERIOD_START = datetime.date(2024, 4, 1)
PERIOD_END = datetime.date(2025, 3, 31)
REPORT = "/reports/impact/?scope=network&from=01/04/2024&to=31/03/2025"
SCOPE_NAME = "All boroughs"  # metrics.NETWORK_NAME: a manager's network is every area
SECTIONS = ["The work", "Outcomes", "Cost", "Who was supported", "Methods"]

# Each Content Security Policy violation, kept on the window to be read after the page
# has loaded. An init script runs before the page's own scripts and is not subject to
# the page's policy.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", event => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || "?"}:${event.lineNumber}`
  );
});
"""


# Fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def screenshots():
    """tests/screenshots/, cleared of the pictures an earlier run of these tests left."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for old in SCREENSHOTS.glob("impact-*.png"):
        old.unlink(missing_ok=True)  # another test process may have removed it
    return SCREENSHOTS


@pytest.fixture
def page(browser, live_server):
    context = new_context(browser, live_server, viewport=DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser, live_server):
    """A page in a phone: 390 px wide, touch screen, the page's own viewport tag obeyed."""
    context = new_context(browser, live_server, viewport=PHONE, has_touch=True, is_mobile=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def cast(transactional_db, settings):
    """
    A manager, and two areas whose young people started support in 2024-25: sessions,
    milestones, placements, closures, proven reoffences, a grant and the Justice Data
    Lab's answer. Committed (``transactional_db``) so that the live server's thread can
    see it.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    factories.seed_support_areas()
    areas = list(SupportArea.objects.all())
    southwark = factories.BoroughFactory(name="Southwark", slug="southwark", code="SWK")
    kensington = factories.BoroughFactory(
        name="Kensington & Chelsea", slug="kensington-chelsea", code="KNC"
    )
    factories.StaffProfileFactory(user__username="manager", role=StaffProfile.Role.MANAGER)

    for borough, count in ((southwark, 16), (kensington, 12)):
        mentor = factories.MentorFactory(home_borough=borough)
        for n in range(count):
            referred_on = PERIOD_START + datetime.timedelta(days=18 * n)
            client = factories.ClientFactory(
                borough=borough,
                referred_on=referred_on,
                date_of_birth=datetime.date(2005 - n % 6, 6, 1),
                **({"closed": True} if n % 4 == 3 else {"active": True}),
            )
            factories.AssignmentFactory(client=client, mentor=mentor)
            for month in range(4):
                session = factories.SupportSessionFactory(
                    client=client,
                    mentor=mentor,
                    date=client.started_on + datetime.timedelta(days=7 + 28 * month),
                    attendance=SupportSession.Attendance.ATTENDED,
                )
                session.support_areas.set(areas[(n + month) % len(areas) :][:2])
            factories.MilestoneFactory(
                client=client,
                kind=list(Milestone.Kind)[n % 3],
                achieved_on=client.started_on + datetime.timedelta(days=60),
            )
            if n % 2 == 0:
                factories.PlacementFactory(
                    client=client,
                    kind=Placement.Kind.WORK_EXPERIENCE,
                    started_on=client.started_on + datetime.timedelta(days=90),
                )
            if n % 5 == 1:
                factories.OffenceFactory(
                    client=client,
                    offence_date=client.started_on + datetime.timedelta(days=120),
                    outcome_date=client.started_on + datetime.timedelta(days=200),
                )
    factories.GrantFactory(
        funder=factories.FunderFactory(name="Riverside Youth Trust"),
        borough=southwark,
        reference="SWK-2024",
        amount=30_000,
        starts_on=PERIOD_START,
        ends_on=PERIOD_END,
    )
    # Long names, as funders' and areas' names are: the grants table must still fit.
    factories.GrantFactory(
        funder=factories.FunderFactory(name="Safer Neighbourhoods Police Fund"),
        borough=kensington,
        reference="KNC-2024",
        amount=15_400,
        starts_on=datetime.date(2024, 1, 1),
        ends_on=datetime.date(2024, 12, 31),
    )
    factories.JusticeDataLabResultFactory(borough=None)
    return SimpleNamespace(southwark=southwark, kensington=kensington)


def _watch(page):
    """Collect the page's console errors and uncaught exceptions, and CSP violations."""
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.add_init_script(WATCH_CSP)
    return errors


def _open_report(page):
    response = page.goto(REPORT)
    assert response.status == 200
    expect(page.get_by_role("heading", level=1, name=SCOPE_NAME)).to_be_visible()
    return response


# The report on the screen -------------------------------------------------------------


def test_the_report_renders_under_the_strict_csp(page, cast, screenshots):
    """
    The report of a period with data shows its figures, chart and tables with no console
    error and nothing blocked by the Content Security Policy, and axe finds nothing
    serious in it.
    """
    errors = _watch(page)
    sign_in(page, "manager")
    response = _open_report(page)
    page.screenshot(path=screenshots / "impact-desktop.png", full_page=True)

    policy = response.headers.get("content-security-policy", "")
    # Scripts and styles only from SOS itself (or with the response's nonce).
    assert re.search(r"script-src 'self'( 'nonce-[^']+')?;", policy), policy
    assert re.search(r"style-src 'self'( 'nonce-[^']+')?;", policy), policy
    assert "unsafe" not in policy
    report = page.get_by_role("article", name=SCOPE_NAME)
    for section in SECTIONS:
        expect(report.get_by_role("heading", level=2, name=section)).to_be_visible()
    expect(report).to_contain_text("Young people whose support started from 1 April 2024")
    expect(report).to_contain_text("to 31 March 2025")
    work = report.get_by_role("region", name="The work")
    expect(work.get_by_text("Young people who started support")).to_be_visible()
    expect(work.get_by_role("definition").nth(1)).to_have_text("28")
    expect(report.get_by_role("figure")).to_be_visible()  # the Kaplan-Meier curve
    expect(report.get_by_role("table", name="Grants of the period")).to_contain_text(
        "Riverside Youth Trust"
    )
    expect(report.get_by_role("note", name="Justice Data Lab result")).to_be_visible()

    violations = page.evaluate("window.__cspViolations")
    assert not violations, "Blocked by the Content Security Policy:\n" + "\n".join(violations)
    assert not errors, "\n".join(errors)
    blocking = [
        f"{v['id']} ({v['impact']}) {v['help']} -> "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in Axe().run(page).response["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]
    assert not blocking, "axe, serious or critical:\n" + "\n".join(blocking)
    logged = ImpactReportLog.objects.get()
    assert (logged.username, logged.format, logged.period_start, logged.period_end) == (
        "manager",
        "HTML",
        PERIOD_START,
        PERIOD_END,
    )


def test_printing_shows_the_report_and_nothing_around_it(page, cast, screenshots):
    """
    In print media the menu, the choices and the buttons are gone; the report's headings
    and tables remain. Chromium prints it to an A4 PDF that still names the scope.
    """
    sign_in(page, "manager")
    _open_report(page)
    page.emulate_media(media="print")
    page.screenshot(path=screenshots / "impact-print.png", full_page=True)

    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.locator("main form")).to_be_hidden()
    for button in ("Show the report", "Download as PDF", "Sign out"):
        expect(page.get_by_role("button", name=button)).to_be_hidden()
    page_title = page.get_by_role("heading", name="Impact report for funders and partners")
    expect(page_title).to_be_hidden()
    expect(page.get_by_text("Printing: use your browser's Print")).to_be_hidden()

    report = page.get_by_role("article", name=SCOPE_NAME)
    expect(report.get_by_role("heading", level=1, name=SCOPE_NAME)).to_be_visible()
    for section in SECTIONS:
        expect(report.get_by_role("heading", level=2, name=section)).to_be_visible()
    tables = report.get_by_role("table")
    assert tables.count() >= 8  # support areas, milestones, placements, grants, 4 breakdowns
    for table in tables.all():
        expect(table).to_be_visible()

    assert SCOPE_NAME in page.locator("body").inner_text()
    printed = page.pdf(format="A4")
    assert printed.startswith(b"%PDF")
    pdf = PdfReader(io.BytesIO(printed))
    first_page = pdf.pages[0]
    # A4 is 210 x 297 mm: 595 x 842 points, give or take Chromium's rounding.
    assert (round(float(first_page.mediabox.width)), round(float(first_page.mediabox.height))) in {
        (595, 842),
        (596, 843),
    }
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert SCOPE_NAME in text
    for section in SECTIONS:
        assert section in text
    assert "Show the report" not in text


def test_the_report_fits_a_phone(phone, cast, screenshots):
    """At 390 x 844 the choices and the report fit the screen: no sideways scrolling."""
    sign_in(phone, "manager")
    _open_report(phone)
    phone.screenshot(path=screenshots / "impact-phone.png", full_page=True)
    expect(phone.get_by_label(re.compile(r"^\s*Report on"))).to_be_visible()
    expect(phone.get_by_role("button", name="Download as PDF")).to_be_in_viewport(ratio=1)
    # With is_mobile, Chromium widens the layout viewport to fit content that is too
    # wide, and window.innerWidth with it: compare with the screen's width as well.
    scroll_width, inner_width = phone.evaluate(
        "[document.scrollingElement.scrollWidth, window.innerWidth]"
    )
    wide = phone.evaluate(
        """width => [...document.querySelectorAll("main *")]
          .filter(el => el.getBoundingClientRect().right > width + 0.5)
          .map(el => el.tagName.toLowerCase() + (el.getAttribute("aria-label")
            ? `[aria-label="${el.getAttribute("aria-label")}"]` : ""))
          .slice(0, 5)""",
        PHONE["width"],
    )
    assert scroll_width <= min(inner_width, PHONE["width"]), (
        f"The page is {scroll_width} px wide on a {PHONE['width']} px screen "
        f"(innerWidth {inner_width}); widest: {', '.join(wide)}"
    )


# The PDF --------------------------------------------------------------------------------


def test_download_as_pdf_gives_a_pdf_of_the_report(page, cast, screenshots):
    """The "Download as PDF" button downloads WeasyPrint's PDF of the same report."""
    sign_in(page, "manager")
    _open_report(page)
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Download as PDF").click()
    download = waiting.value
    assert download.failure() is None
    assert download.suggested_filename == "sos-impact-network-2024-04-01-to-2025-03-31.pdf"
    with open(download.path(), "rb") as downloaded:
        content = downloaded.read()
    assert content[:4] == b"%PDF"
    pdf = PdfReader(io.BytesIO(content))
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert SCOPE_NAME in text
    assert "Riverside Youth Trust" in text
    assert [log.format for log in ImpactReportLog.objects.order_by("pk")] == ["HTML", "PDF"]
