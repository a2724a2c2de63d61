"""
The funders' impact report: who may make it, its figures on the page and in the PDF, the
counts of 1 to 9 people it never prints, the names it never shows, the choices it
refuses, and the log of every report made.
"""

import html
import io
import itertools
import re
from datetime import date, timedelta

import pypdf
import pytest
from django.urls import reverse

from mentoring.models import Client, ImpactReportLog, Milestone, StaffProfile

from .. import factories
from ..helpers import count_queries, dmy, today

pytestmark = pytest.mark.django_db

URL = reverse("impact_report")
# The period (a financial year) and the date the figures are as of: everyone who started
# in May 2023 has finished the year of follow-up and the six months for court outcomes.
FROM, TO, AS_OF = date(2023, 4, 1), date(2024, 3, 31), date(2025, 6, 30)
PERIOD = {"from": dmy(FROM), "to": dmy(TO), "as_of": dmy(AS_OF)}
# In every name, contact detail, reference and note of the report's clients.
MARKER = "Qzvrelkmark"
REFERENCE = "QZREFMK"
_numbers = itertools.count(1)


# The records ----------------------------------------------------------------------------


def started(borough, n, *, on=date(2023, 5, 1), **fields):
    """
    ``n`` clients of ``borough`` whose support started on ``on`` (referred two weeks
    before), each with an attended hour's session on that day; every free-text field and
    the reference carry the markers.
    """
    mentor = factories.MentorFactory(home_borough=borough)
    people = []
    for _ in range(n):
        number = next(_numbers)
        person = factories.ClientFactory(
            borough=borough,
            reference=f"{REFERENCE}{number:05d}",
            first_name=f"{MARKER}first{number}",
            last_name=f"{MARKER}last{number}",
            preferred_name=f"{MARKER}preferred{number}",
            phone="0700 900 123",
            email=f"{MARKER.lower()}{number}@example.org",
            address=f"{number} {MARKER}address Road",
            referred_on=on - timedelta(days=14),
            active=True,
            ethnicity=Client.Ethnicity.WHITE,
            **fields,
        )
        factories.SupportSessionFactory(
            client=person, mentor=mentor, date=on, notes=f"{MARKER}session notes"
        )
        people.append(person)
    return people


def reoffend(person):
    factories.OffenceFactory(
        client=person,
        offence_date=person.started_on + timedelta(days=30),
        outcome_date=person.started_on + timedelta(days=60),
        notes=f"{MARKER}offence notes",
    )


@pytest.fixture
def southwark(borough_a, borough_b):
    """
    Borough A: 25 clients started in the period (12 male, 10 female, 3 non-binary; all
    probation referrals aged 21-25; 10 proven reoffenders; 11 obtained ID, 3 a job), two
    started before it and one after; a grant of £30,000 for the period. Borough B: 6
    clients started in the period.
    """
    male = started(borough_a, 12, gender=Client.Gender.MALE)
    female = started(borough_a, 10, gender=Client.Gender.FEMALE)
    other = started(borough_a, 3, gender=Client.Gender.NON_BINARY)
    people = male + female + other
    for person in people[:10]:
        reoffend(person)
    for person in people[:11]:
        factories.MilestoneFactory(
            client=person,
            kind=Milestone.Kind.OBTAINED_ID,
            achieved_on=person.started_on + timedelta(days=20),
            evidence=f"{MARKER}milestone evidence",
        )
    for person in people[11:14]:
        factories.MilestoneFactory(
            client=person,
            kind=Milestone.Kind.ENTERED_EMPLOYMENT,
            achieved_on=person.started_on + timedelta(days=90),
        )
        factories.GoalFactory(client=person, description=f"{MARKER}goal text")
        factories.PlacementFactory(
            client=person, started_on=date(2023, 9, 1), notes=f"{MARKER}placement notes"
        )
    started(borough_a, 2, on=date(2023, 3, 1))
    started(borough_a, 1, on=date(2024, 5, 1))
    started(borough_b, 6)
    grant = factories.GrantFactory(
        borough=borough_a,
        funder__name="Bridgewell Trust",
        reference="GR-77",
        amount=30000,
        starts_on=FROM,
        ends_on=TO,
    )
    factories.GrantFactory(borough=borough_b, funder__name="Croydon Fund", reference="CR-9")
    return grant


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


def report(client, user, scope="area:southwark", **params):
    return get(client, user, scope=scope, **{**PERIOD, **params})


# What a report says -------------------------------------------------------------------


def scope_values(form):
    """The values the form's scope offers, out of their groups."""
    values = []
    for value, label in form.fields["scope"].choices:
        values += [inner for inner, _ in label] if isinstance(label, list) else [value]
    return values


def words(text):
    """``text`` with its whitespace collapsed, and none before a full stop or comma."""
    return re.sub(r" ([.,;:)])", r"\1", " ".join(text.split()))


def page_text(response):
    """The words of the report on the page (the form above it left out)."""
    body = response.content.decode()
    article = body[body.index('<article class="impact"') :]
    return words(html.unescape(re.sub(r"<[^>]+>", " ", article)))


def pdf_reader(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    return pypdf.PdfReader(io.BytesIO(response.content))


def pdf_text(response):
    """The words of every page of the PDF, as pypdf reads them."""
    return words(" ".join(page.extract_text() for page in pdf_reader(response).pages))


def error_summary(response):
    """The text of the error summary above the form."""
    found = re.search(r"data-error-summary>(.*?)</div>", response.content.decode(), re.S)
    assert found, "no error summary"
    return words(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))))


# The figures of the southwark fixture, as the page and the PDF both print them.
SOUTHWARK_FIGURES = [
    "Southwark",
    "Young people whose support started from 1 April 2023 to 31 March 2024. "
    "Figures as known on 30 June 2025.",
    "Referrals in the period 25",
    "Young people who started support 25",
    "Caseload on 31 March 2024 27",  # the 25 and the two who started before
    "Support sessions attended 25",
    "Hours of support 25",
    "40.0% of the 25 people whose follow-up is over",
    # 11 people obtained ID; 3 found a job: fewer than 10, and so is their count of jobs.
    "Obtained ID 11 11",
    "Entered employment fewer than 10 —",
    "Became a peer mentor 0 0",
    "Apprenticeship fewer than 10 —",
    "Cost of their support £50,000",
    "Bridgewell Trust GR-77 Southwark Apr 2023 to Mar 2024 £30,000",
    "Cost of these starts not covered by those grants £20,000",
    "Age at referral People Under 16 0 16-17 0 18-20 0 21-25 25 Over 25 0 All 25",
    # One group of 1 to 9 (3 non-binary): the next-smallest (10 female) is hidden too, so
    # neither can be worked out from the total, and it says "not shown", not "fewer than
    # 10", which it is not; the 12 male and the empty groups are shown.
    "Gender People Female not shown Male 12 Non-binary fewer than 10 Other 0 "
    "Prefer not to say 0 All 25",
    "Referral source People Police 0 Probation 25 Youth offending team 0",
]


class TestAccess:
    def test_anonymous_is_sent_to_sign_in(self, client):
        for params in ({}, {"scope": "network", **PERIOD}):
            response = client.get(URL, params)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("login"))
        assert not ImpactReportLog.objects.exists()

    def test_mentor_is_forbidden(self, client, southwark, mentor_a):
        assert get(client, mentor_a.user).status_code == 403
        assert report(client, mentor_a.user).status_code == 403
        assert report(client, mentor_a.user, format="pdf").status_code == 403
        assert not ImpactReportLog.objects.exists()

    def test_a_user_with_no_role_is_forbidden(self, client, southwark):
        nobody = factories.UserFactory()
        assert get(client, nobody).status_code == 403
        assert report(client, nobody, scope="network").status_code == 403
        assert not ImpactReportLog.objects.exists()

    @pytest.mark.parametrize("user", ["coordinator_a", "manager", "admin_user"])
    def test_dashboard_roles_make_the_report(self, client, request, southwark, user):
        person = request.getfixturevalue(user)
        assert get(client, person).status_code == 200
        response = report(client, person)
        assert response.status_code == 200
        assert "Young people who started support 25" in page_text(response)


class TestTheForm:
    def test_no_query_string_shows_only_the_form_with_last_financial_year(
        self, client, southwark, manager
    ):
        response = get(client, manager)
        body = response.content.decode()
        year = today().year if today().month >= 4 else today().year - 1
        assert f'name="from" value="01/04/{year - 1}"' in body
        assert f'name="to" value="31/03/{year}"' in body
        assert '<article class="impact"' not in body
        assert "data-error-summary" not in body
        assert not ImpactReportLog.objects.exists()

    def test_coordinator_is_offered_only_their_area_and_its_grants(
        self, client, southwark, coordinator_a
    ):
        form = get(client, coordinator_a).context["form"]
        assert scope_values(form) == ["area:southwark", f"grant:{southwark.pk}"]

    def test_manager_is_offered_the_network_every_area_and_grant(
        self, client, southwark, borough_b, manager
    ):
        form = get(client, manager).context["form"]
        assert scope_values(form) == [
            "network",
            "area:croydon",
            "area:southwark",
            f"grant:{borough_b.grants.get().pk}",
            f"grant:{southwark.pk}",
        ]

    @pytest.mark.parametrize("scope", ["area:croydon", "grant", "network"])
    def test_coordinator_cannot_choose_another_borough(
        self, client, southwark, borough_b, coordinator_a, scope
    ):
        if scope == "grant":
            scope = f"grant:{borough_b.grants.get().pk}"
        for output in ("html", "pdf"):
            response = report(client, coordinator_a, scope=scope, format=output)
            assert response.status_code == 400
            assert response["Content-Type"].startswith("text/html")
            assert "Select a valid choice" in error_summary(response)
            assert "Croydon" not in response.content.decode()
        assert not ImpactReportLog.objects.exists()

    @pytest.mark.parametrize("scope", ["area:croydon", "grant"])
    def test_manager_of_some_boroughs_cannot_choose_another(
        self, client, southwark, borough_a, borough_b, scope
    ):
        lambeth = factories.BoroughFactory(name="Lambeth", slug="lambeth", code="LAM")
        limited = factories.StaffProfileFactory(
            role=StaffProfile.Role.MANAGER, boroughs=[borough_a, lambeth]
        ).user
        if scope == "grant":
            scope = f"grant:{borough_b.grants.get().pk}"
        response = report(client, limited, scope=scope)
        assert response.status_code == 400
        assert "Select a valid choice" in error_summary(response)
        assert not ImpactReportLog.objects.exists()
        # Their "network" is their own areas: borough B's 6 starts are not in it.
        response = report(client, limited, scope="network")
        assert response.status_code == 200
        text = page_text(response)
        assert "Lambeth + Southwark" in text
        assert "Young people who started support 25" in text
        assert response.context["lab_result"] is None  # the Lab answers for areas or all


class TestFigures:
    def test_the_page_prints_the_figures_by_the_rules(self, client, southwark, manager):
        text = page_text(report(client, manager))
        for figure in SOUTHWARK_FIGURES:
            assert figure in text

    def test_the_pdf_prints_the_same_figures(self, client, southwark, manager):
        response = report(client, manager, format="pdf")
        assert response["Content-Disposition"] == (
            'attachment; filename="sos-impact-southwark-2023-04-01-to-2024-03-31.pdf"'
        )
        text = pdf_text(response)
        for figure in SOUTHWARK_FIGURES:
            assert figure in text
        title = pdf_reader(response).metadata.title
        assert title == "SOS impact report: Southwark, 01/04/2023 to 31/03/2024"

    def test_a_total_under_10_is_hidden_and_so_is_the_cost(self, client, southwark, manager):
        """Borough B: 6 male clients started. Every count of them reads "fewer than 10"."""
        expected = [
            "Croydon",
            "Young people who started support fewer than 10",
            "Fewer than 10 young people started: the cost, which would tell how many, "
            "is not shown.",
            "Gender People Female 0 Male fewer than 10 Non-binary 0 Other 0 "
            "Prefer not to say 0 All fewer than 10",
            "Age at referral People Under 16 0 16-17 0 18-20 0 21-25 fewer than 10",
        ]
        page = page_text(report(client, manager, scope="area:croydon"))
        pdf = pdf_text(report(client, manager, scope="area:croydon", format="pdf"))
        for text in (page, pdf):
            for figure in expected:
                assert figure in text
            assert not re.search(r"\b6\b", text.split("Who was supported")[1].split("Methods")[0])
            assert "£12,000" not in text  # 6 x £2,000 would tell how many
            assert "Cost per young person" not in text

    def test_the_network_adds_up_both_areas(self, client, southwark, admin_user):
        text = page_text(report(client, admin_user, scope="network"))
        assert "All boroughs" in text
        assert "Young people who started support 31" in text
        # The 6 male clients of borough B join the 12 of borough A.
        assert "Male 18" in text

    def test_a_period_with_nobody_shows_zeros_not_fewer_than_10(self, client, southwark, manager):
        response = report(client, manager, **{"from": "01/01/2010", "to": "31/12/2010"})
        text = page_text(response)
        assert "Young people who started support 0" in text
        assert "Gender People Female 0 Male 0 Non-binary 0 Other 0 Prefer not to say 0 All 0" in (
            text
        )
        assert "fewer than 10" not in text.split("The work")[1].split("Methods")[0]

    def test_records_after_the_as_of_date_are_left_out(self, client, southwark, manager):
        """As of 31/12/2023, the period's starts are known only up to that day."""
        text = page_text(report(client, manager, as_of="31/12/2023"))
        assert "(starts up to 31 December 2023 only" in text
        assert "Young people who started support 25" in text
        # Nobody had finished the follow-up then.
        assert "there is no rate to report" in text

    def test_cost_per_young_person_is_the_cost_over_the_starts(self, client, southwark, manager):
        """
        The cost per young person is the report's cost over its starts: 25 at £2,000.
        """
        response = report(client, manager)
        assert "Cost of their support £50,000" in page_text(response)
        assert "Cost per young person £2,000" in page_text(response)


class TestWhatTheReportNeverShows:
    @pytest.mark.parametrize("scope", ["network", "area:southwark", "area:croydon", "grant"])
    def test_no_client_names_references_or_notes(self, client, southwark, admin_user, scope):
        if scope == "grant":
            scope = f"grant:{southwark.pk}"
        for output in ("html", "pdf"):
            response = report(client, admin_user, scope=scope, format=output)
            shown = pdf_text(response) if output == "pdf" else response.content.decode()
            assert "Young people who started support" in words(shown)
            for secret in (MARKER, REFERENCE, "0700 900 123"):
                assert secret.lower() not in shown.lower(), (scope, output, secret)
            assert not re.search(r"Client\d", shown)  # the factories' surnames

    def test_the_markers_are_there_to_find(self, client, southwark, coordinator_a):
        """The same records' names are on the client list: the check above can fail."""
        client.force_login(coordinator_a)
        body = client.get(reverse("client_list"), {"q": MARKER}).content.decode()
        assert MARKER in body and REFERENCE in body


class TestGrantScope:
    def test_empty_dates_are_the_grants_period(self, client, southwark, coordinator_a):
        response = get(client, coordinator_a, scope=f"grant:{southwark.pk}", as_of=dmy(AS_OF))
        assert response.status_code == 200
        text = page_text(response)
        assert "Bridgewell Trust grant for Southwark (GR-77)" in text
        assert "started from 1 April 2023 to 31 March 2024" in text
        assert "Young people who started support 25" in text
        entry = ImpactReportLog.objects.get()
        assert (entry.scope, entry.grant, entry.borough) == (
            ImpactReportLog.Scope.GRANT,
            southwark,
            southwark.borough,
        )
        assert (entry.period_start, entry.period_end, entry.as_of) == (FROM, TO, AS_OF)
        assert entry.scope_name == "Bridgewell Trust grant for Southwark (GR-77)"

    def test_one_date_given_keeps_the_grants_other(self, client, southwark, coordinator_a):
        response = get(
            client, coordinator_a, scope=f"grant:{southwark.pk}", to="31/12/2023", as_of=""
        )
        assert response.status_code == 200
        entry = ImpactReportLog.objects.get()
        assert (entry.period_start, entry.period_end, entry.as_of) == (
            FROM,
            date(2023, 12, 31),
            today(),
        )

    def test_the_pdf_is_named_for_the_grant_and_says_so(self, client, southwark, manager):
        response = get(
            client, manager, scope=f"grant:{southwark.pk}", format="pdf", as_of=dmy(AS_OF)
        )
        assert response["Content-Disposition"] == (
            f'attachment; filename="sos-impact-southwark-grant-{southwark.pk}'
            '-2023-04-01-to-2024-03-31.pdf"'
        )
        text = pdf_text(response)
        assert "Bridgewell Trust grant for Southwark (GR-77)" in text
        assert "started from 1 April 2023 to 31 March 2024" in text
        entry = ImpactReportLog.objects.get()
        assert (entry.format, entry.grant, entry.borough) == (
            ImpactReportLog.Format.PDF,
            southwark,
            southwark.borough,
        )


FUTURE = dmy(today() + timedelta(days=1))
BAD_INPUT = {
    "not a real date": ({"from": "31/02/2023"}, "31/02/2023 is not a real date"),
    "not a date at all": ({"to": "banana"}, "Type the date as DD/MM/YYYY"),
    "from after to": (
        {"from": "01/04/2024", "to": "31/03/2023"},
        "Support started up to: The end of the period cannot be before its start.",
    ),
    "as of in the future": (
        {"as_of": FUTURE},
        "Figures as known on: The date cannot be in the future",
    ),
    "as of before 2000": ({"as_of": "31/12/1999"}, "The date cannot be before 01/01/2000."),
    "unknown scope": ({"scope": "area:atlantis"}, "Report on: Select a valid choice."),
    "scope of no kind": ({"scope": "planet"}, "Report on: Select a valid choice."),
    "grant that is not one": ({"scope": "grant:x"}, "Report on: Select a valid choice."),
    "no scope": ({"scope": ""}, "Report on: This field is required."),
    "an area without dates": (
        {"from": ""},
        "Support started from: Enter a date, or choose a grant to use its period.",
    ),
    "format xls": ({"format": "xls"}, "A report is shown on the page or downloaded as a PDF."),
    "from after as of": (
        {"from": "01/07/2025", "to": "31/12/2025"},
        "Support started from: The period starts after the date the figures are as of",
    ),
}


class TestBadInput:
    @pytest.mark.parametrize(("change", "message"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
    def test_refused_with_the_form_and_a_clear_message(
        self, client, southwark, manager, change, message
    ):
        params = {"scope": "area:southwark", **PERIOD, **change}
        response = get(client, manager, **params)
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert message in error_summary(response)
        body = response.content.decode()
        assert '<form method="get"' in body
        assert '<article class="impact"' not in body
        assert not ImpactReportLog.objects.exists()

    @pytest.mark.parametrize(("change", "message"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
    def test_no_pdf_is_made_of_bad_input(self, client, southwark, manager, change, message):
        params = {"scope": "area:southwark", **PERIOD, "format": "pdf", **change}
        response = get(client, manager, **params)
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert message in error_summary(response)
        assert not ImpactReportLog.objects.exists()

    def test_only_a_format_is_no_report(self, client, southwark, manager):
        response = get(client, manager, format="pdf")
        assert response.status_code == 400
        assert "Report on: This field is required." in error_summary(response)
        assert not ImpactReportLog.objects.exists()


class TestLog:
    def test_one_row_per_report_on_the_page_and_as_pdf(self, client, southwark, coordinator_a):
        report(client, coordinator_a)
        report(client, coordinator_a, format="pdf")
        page, pdf = ImpactReportLog.objects.order_by("pk")
        for entry, output in ((page, "HTML"), (pdf, "PDF")):
            assert entry.user == coordinator_a
            assert entry.username == "coord_a"
            assert entry.scope == ImpactReportLog.Scope.AREA
            assert entry.scope_name == "Southwark"
            assert entry.borough == southwark.borough
            assert entry.grant is None
            assert (entry.period_start, entry.period_end, entry.as_of) == (FROM, TO, AS_OF)
            assert entry.format == output
            assert entry.by_command is False

    def test_the_network_is_logged_without_an_area(self, client, southwark, manager):
        report(client, manager, scope="network", as_of="")
        entry = ImpactReportLog.objects.get()
        assert (entry.scope, entry.scope_name, entry.borough, entry.grant) == (
            ImpactReportLog.Scope.NETWORK,
            "All boroughs",
            None,
            None,
        )
        assert entry.as_of == today()  # an empty "as of" is today

    def test_no_row_for_the_form_or_for_refused_input(self, client, southwark, manager):
        get(client, manager)
        report(client, manager, as_of=FUTURE)
        report(client, manager, format="xls")
        assert not ImpactReportLog.objects.exists()
        report(client, manager)
        report(client, manager)
        assert ImpactReportLog.objects.count() == 2


# Counts that can be worked out (product bugs: these fail on purpose) ------------------


def test_the_ethnicity_breakdown_counts_everyone_who_started(client, borough_a, manager):
    """
    Ethnicity may be left empty: those people are a "Not recorded" group, so that the
    table's "All" is the starts. A total one short would tell that one person has none.
    """
    people = started(borough_a, 12)
    Client.objects.filter(pk=people[0].pk).update(ethnicity="")
    response = report(client, manager)
    text = page_text(response)
    assert "Young people who started support 12" in text
    assert response.context["report"]["breakdown_totals"]["ethnicity"]["people"] == 12


def test_those_still_followed_up_cannot_be_worked_out_from_the_starts(client, borough_a, manager):
    """
    25 started, 20 have finished their follow-up and 5 have not. The starts split into
    those two groups as a breakdown: the 5 are hidden, so the 20 are too, or 25 - 20
    would tell them.
    """
    started(borough_a, 20, on=date(2023, 5, 1))
    started(borough_a, 5, on=date(2024, 3, 1))  # their 18 months end after 30/06/2025
    response = report(client, manager)
    outcomes = response.context["report"]["outcomes"]
    assert outcomes["pending"]["suppressed"]
    starts = response.context["report"]["work"]["starts"]["people"]
    cohort = outcomes["cohort"]["people"]
    assert starts is None or cohort is None, (
        f"{starts} started - {cohort} followed up tells the {starts - cohort} hidden"
    )


# Queries ------------------------------------------------------------------------------


def grow(borough_a, borough_b):
    """More of everything the report counts, in both areas, in the period and out of it."""
    for borough in (borough_a, borough_b):
        people = started(borough, 8, on=date(2023, 6, 1), gender=Client.Gender.FEMALE)
        started(borough, 3, on=date(2022, 6, 1))
        for person in people[:4]:
            reoffend(person)
            factories.MilestoneFactory(client=person, kind=Milestone.Kind.REGISTERED_WITH_GP)
            factories.PlacementFactory(client=person, started_on=date(2023, 10, 2))
            factories.SupportSessionFactory(client=person, date=date(2023, 7, 1))
        factories.GrantFactory(
            borough=borough, starts_on=date(2023, 1, 1), ends_on=date(2023, 12, 31)
        )
        factories.JusticeDataLabResultFactory(borough=borough)


# Measured: the session, the user, their staff profile and areas (4); the form's grants
# and areas (2); the figures (18: metrics.impact's docstring says 19) and the Justice
# Data Lab's answer (1); the log's insert (1).
REPORT_QUERIES = 26


@pytest.mark.parametrize("output", ["html", "pdf"])
def test_the_report_runs_the_same_queries_with_more_data(
    client, southwark, borough_a, borough_b, coordinator_a, output
):
    client.force_login(coordinator_a)
    url = f"{URL}?scope=area:southwark&from={PERIOD['from']}&to={PERIOD['to']}"
    url += f"&as_of={PERIOD['as_of']}&format={output}"
    assert count_queries(client, url) == REPORT_QUERIES
    grow(borough_a, borough_b)
    assert count_queries(client, url) == REPORT_QUERIES
    assert ImpactReportLog.objects.count() == 2


def test_the_form_alone_runs_the_same_queries_with_more_data(
    client, southwark, borough_a, borough_b, manager
):
    client.force_login(manager)
    small = count_queries(client, URL)
    grow(borough_a, borough_b)
    assert count_queries(client, URL) == small
