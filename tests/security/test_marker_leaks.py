"""
Nothing of borough B reaches borough A's staff, and no client's name reaches a manager.

Every free-text and name field of borough B's records holds a marker (test_url_matrix's
MARKER, followed by the record and field it is in): client names and contact details,
session notes, offence type and notes, milestone evidence, goal text, placement notes,
mentor, staff and employer names, grant references. Then every page the URL resolver
serves is read, about borough A's records and about borough B's, plain and with the
queries that could pull other records in (a search for the marker, filters naming
borough B, every CSV and JSON download, the impact report of each scope on the page and
as a PDF's text, admin autocompletes), by:

- borough A's coordinator, who must never see the marker;
- a manager of borough A only, who must never see it either, nor any client's name,
  contact details or notes;
- a manager of every borough, who sees borough B's figures, mentors and money, but never
  a client's name, contact details or notes, of borough A or B.

The outcomes report command, for borough A and for the network, is read the same way.
"""

import io

import pypdf
import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from mentoring import dashboards

from . import test_url_matrix as matrix

VIEWERS = ["coordinator_a", "manager_a", "manager"]
SEARCH = {"q": matrix.MARKER[:6]}
JSON = {"format": "json"}


def autocomplete_queries():
    """One query per autocomplete field in the admin, searching for the marker."""
    queries = []
    for model, model_admin in admin.site._registry.items():
        for inline in [model_admin, *(i(model, admin.site) for i in model_admin.inlines)]:
            for field in inline.autocomplete_fields:
                queries.append(
                    {
                        "app_label": inline.model._meta.app_label,
                        "model_name": inline.model._meta.model_name,
                        "field_name": field,
                        "term": SEARCH["q"],
                    }
                )
    return queries


def queries_for(world, pattern):
    """The query strings to read ``pattern`` with: plain, searched, and its own extras."""
    key = pattern.key
    if key == "admin:autocomplete":
        return autocomplete_queries()
    if pattern.model is not None or key.startswith(("admin:", "[admin")):
        return [{}]
    queries = [{}, SEARCH]
    if key == "client_list":
        queries += [
            {"borough": world.b.borough.slug},
            {"mentor": world.b.mentor.pk},
            {"q": world.b.client.reference},
            {"needs_contact": "1"},
            {"status": "ACTIVE", "sort": "name"},
        ]
    elif key in ("network_dashboard", "borough_dashboard"):
        queries += [{"download": table} for table in [*dashboards.TABLES, "figures"]]
    elif key == "replication_dashboard":
        queries.append({"download": "csv"})
    elif key == "impact_report":
        queries += impact_reports(world)
    elif key == "client_export":
        queries.append(JSON)
    elif key == "mentor_list":
        queries.append({"show": "all"})
    return queries


def impact_reports(world):
    """
    The impact report of the network, each borough and each borough's grant (its own
    period), of the clients started in 2020 (the factories' dates), on the page and as a
    PDF. A borough the viewer may not choose is refused (400), which is read too.
    """
    period = {"from": "01/01/2020", "to": "31/12/2020"}
    choices = [{"scope": "network", **period}]
    for side in (world.a, world.b):
        choices += [{"scope": f"area:{side.borough.slug}", **period}]
        choices += [{"scope": f"grant:{side.grant.pk}"}]
    return [{**choice, "format": output} for choice in choices for output in ("html", "pdf")]


def pdf_text(response):
    """The text of a PDF's pages and its title, as pypdf reads them."""
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    title = reader.metadata.title if reader.metadata else ""
    return "\n".join([title or "", *(page.extract_text() for page in reader.pages)])


def shown(response):
    """
    What the response holds: its body (a PDF's text, its bytes being compressed), and for
    a redirect where it goes.
    """
    if response.get("Content-Type") == "application/pdf":
        return pdf_text(response)
    return matrix.body_of(response) + response.get("Location", "")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with matrix.rolled_back_world(django_db_blocker) as records:
        yield records


class TestNoPageShowsWhatItMustNot:
    @pytest.mark.parametrize(
        ("pattern", "viewer"),
        [
            pytest.param(pattern, viewer, id=f"{pattern.key}-{viewer}")
            for pattern in matrix.PATTERNS
            for viewer in VIEWERS
        ],
    )
    def test_page_about_either_borough(self, db, world, pattern, viewer):
        """Borough A's and B's version of the page, plain and queried: nothing leaks."""
        never = matrix.never_shown_to(world, viewer)
        seen = set()
        found = []
        for side in ("a", "b"):
            for query in queries_for(world, pattern):
                url = matrix.url_for(world, pattern, side=side, query=query)
                if url in seen:
                    continue
                seen.add(url)
                response = matrix.browser_for(world, viewer).get(url)
                error = getattr(response, "exc_info", None)
                assert response.status_code != 500, f"500 at {url}: {error and error[1]!r}"
                # Signed out, every page would be the sign-in page, holding nothing to leak.
                sent_to = response.get("Location", "").split("?")[0]
                assert sent_to != reverse("login"), f"{viewer} is not signed in at {url}"
                found += [f"{url}: {leak}" for leak in matrix.leaks(shown(response), never)]
        assert not found, f"{viewer} is shown what they must not see:\n" + "\n".join(found)


class TestVisitingMentor:
    @pytest.mark.parametrize("viewer", ["coordinator_a", "manager_a"])
    def test_borough_a_sees_only_the_borough_a_part_of_the_caseload(self, db, world, viewer):
        """
        A borough B mentor who also serves borough A is on borough A's mentor pages, with
        capacity counted over all their clients but no borough B client named.
        """
        browser = matrix.browser_for(world, viewer)
        visitor = world.b.other_mentor
        for url in [reverse("mentor_detail", args=[visitor.pk]), reverse("mentor_list")]:
            response = browser.get(url)
            assert response.status_code == 200
            body = matrix.body_of(response)
            assert visitor.last_name in body
            assert not matrix.leaks(body, matrix.never_shown_to(world, viewer))


class TestOutcomesReport:
    @pytest.mark.parametrize("output_format", ["json", "csv"])
    def test_borough_a_report_holds_nothing_of_borough_b_and_no_names(
        self, db, world, output_format
    ):
        out = io.StringIO()
        call_command(
            "outcomes_report",
            "--borough",
            world.a.borough.slug,
            "--format",
            output_format,
            stdout=out,
        )
        report = out.getvalue()
        assert world.a.borough.name in report
        assert not matrix.leaks(report, matrix.never_shown_to(world, "manager_a"))

    @pytest.mark.parametrize("output_format", ["json", "csv"])
    def test_network_report_holds_no_client_names_or_notes(self, db, world, output_format):
        out = io.StringIO()
        call_command("outcomes_report", "--format", output_format, stdout=out)
        report = out.getvalue()
        assert world.b.borough.name in report
        assert not matrix.leaks(report, matrix.never_shown_to(world, "manager"))


class TestTheMarkerIsThereToFind:
    """The searches above find the marker for those allowed to see it: they can fail."""

    @pytest.mark.parametrize("viewer", ["coordinator_b", "admin"])
    def test_search_for_the_marker_finds_borough_b_clients(self, db, world, viewer):
        url = matrix.url_for(world, pattern_named("client_list"), query=SEARCH)
        body = matrix.body_of(matrix.browser_for(world, viewer).get(url))
        assert f"{matrix.MARKER}-client-last" in body

    def test_borough_b_subject_access_export_holds_every_marked_record(self, db, world):
        url = matrix.url_for(world, pattern_named("client_export"), side="b", query=JSON)
        body = matrix.body_of(matrix.browser_for(world, "coordinator_b").get(url))
        for category in matrix.CLIENT_DATA:
            if category not in ("referral", "other"):
                assert f"{matrix.MARKER}-{category}-" in body, category

    def test_the_impact_reports_pdf_text_is_read(self, db, world):
        """
        The PDF's text is searched, not its compressed bytes: borough B's grant report
        names its funder, marked, for a manager of every borough (not client data).
        """
        grant = {"scope": f"grant:{world.b.grant.pk}", "format": "pdf"}
        url = matrix.url_for(world, pattern_named("impact_report"), query=grant)
        response = matrix.browser_for(world, "manager").get(url)
        assert response["Content-Type"] == "application/pdf"
        assert f"{matrix.MARKER}-funder-name grant for Croydon" in shown(response)
        assert f"{matrix.MARKER}-funder-name" not in response.content.decode(errors="replace")


def pattern_named(key):
    return next(p for p in matrix.PATTERNS if p.key == key)
