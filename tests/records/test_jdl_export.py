"""
``manage.py jdl_export``: the Justice Data Lab submission, to its exact header, at least 60
people or nothing written, and every client in it in the access log with the reason. The
PNC ID it carries is checked wherever it is typed or imported.
"""

import csv
import datetime
import io
import shutil
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from mentoring import retention
from mentoring.fields import clean_pnc_id
from mentoring.models import AccessLog, Client, JusticeDataLabResult

from .. import factories
from ..helpers import CLEAN_IMPORT
from ..views.test_clients import referral_data

pytestmark = pytest.mark.django_db

HEADER = (
    "reference,surname,forename,date_of_birth,gender,pnc_id,index_date,"
    "intervention_start,intervention_end,borough"
)
START, END = datetime.date(2024, 1, 1), datetime.date(2024, 12, 31)
REASON = "Annual submission agreed with the trustees"


def started(borough, n, **fields):
    day = datetime.date(2024, 3, 1)
    return [
        factories.ClientFactory(
            borough=borough,
            active=True,
            referred_on=day - datetime.timedelta(days=10),
            started_on=day,
            **fields,
        )
        for _ in range(n)
    ]


def run(tmp_path, *args, output=None):
    output = output or tmp_path / "jdl.csv"
    out = io.StringIO()
    call_command(
        "jdl_export",
        "--from",
        START.isoformat(),
        "--to",
        END.isoformat(),
        "--reason",
        REASON,
        "--output",
        str(output),
        *args,
        stdout=out,
    )
    return output, out.getvalue()


def test_the_file_has_the_labs_header_and_a_row_per_client(tmp_path, borough_a, borough_b):
    people = started(borough_a, 59)
    released = factories.ClientFactory(
        borough=borough_b,
        closed=True,
        referred_on=datetime.date(2024, 5, 1),
        started_on=datetime.date(2024, 5, 20),
        release_date=datetime.date(2024, 6, 3),
        ended_on=datetime.date(2024, 11, 30),
        gender=Client.Gender.FEMALE,
        pnc_id="2019/0123456X",
        first_name="Amara",
        last_name="Okoye",
    )
    other = factories.ClientFactory(
        borough=borough_a,
        active=True,
        referred_on=datetime.date(2024, 12, 1),
        started_on=END,
        gender=Client.Gender.NON_BINARY,
    )
    # Anonymised under the retention policy, or started after the period: not sent.
    Client.objects.filter(pk=people[0].pk).update(anonymised_on=timezone.localdate())
    factories.ClientFactory(
        borough=borough_a,
        active=True,
        referred_on=datetime.date(2025, 1, 1),
        started_on=datetime.date(2025, 1, 2),
    )
    output, said = run(tmp_path)
    text = output.read_text(encoding="utf-8")
    assert text.splitlines()[0] == HEADER
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 60
    assert "60 people written" in said and "never by e-mail" in said
    by_reference = {r["reference"]: r for r in rows}
    assert people[0].reference not in by_reference
    amara = by_reference[released.reference]
    assert amara == {
        "reference": released.reference,
        "surname": "Okoye",
        "forename": "Amara",
        "date_of_birth": released.date_of_birth.isoformat(),
        "gender": "F",
        "pnc_id": "2019/0123456X",
        "index_date": "2024-06-03",
        "intervention_start": "2024-05-20",
        "intervention_end": "2024-11-30",
        "borough": "croydon",
    }
    assert by_reference[other.reference]["gender"] == "U"
    assert by_reference[other.reference]["intervention_end"] == ""
    assert by_reference[other.reference]["index_date"] == END.isoformat()
    assert {r["gender"] for r in rows} <= {"M", "F", "U"}


def test_every_client_sent_is_in_the_access_log_with_the_reason(tmp_path, borough_a):
    people = started(borough_a, 60)
    run(tmp_path, "--by", "Ada Cole")
    lines = AccessLog.objects.filter(action=AccessLog.Action.EXPORT)
    assert sorted(lines.values_list("client_id", flat=True)) == sorted(p.pk for p in people)
    assert {line.path for line in lines} == {f"Justice Data Lab submission: {REASON}"}
    assert {line.username for line in lines} == {"Ada Cole"}


def test_fewer_than_sixty_is_refused_and_nothing_is_written(tmp_path, borough_a):
    started(borough_a, 59)
    with pytest.raises(CommandError) as raised:
        run(tmp_path)
    assert "Only 59 clients" in str(raised.value)
    assert "at least 60" in str(raised.value)
    assert raised.value.returncode != 0
    assert not (tmp_path / "jdl.csv").exists()
    assert not AccessLog.objects.exists()


def test_one_area_alone(tmp_path, borough_a, borough_b):
    started(borough_a, 60)
    started(borough_b, 5)
    output, _said = run(tmp_path, "--borough", "southwark")
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    assert {r["borough"] for r in rows} == {"southwark"}
    with pytest.raises(CommandError, match="at least 60"):
        run(tmp_path, "--borough", "croydon")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2024-02-30"], "--from must be a date as YYYY-MM-DD"),
        (["--to", "31/12/2024"], "--to must be a date as YYYY-MM-DD"),
        (["--from", "2025-01-01"], "is after --to"),
        (["--reason", "   "], "--reason must say why"),
        (["--borough", "atlantis"], "No borough with slug 'atlantis'"),
    ],
)
def test_bad_input_is_named_and_writes_nothing(tmp_path, borough_a, args, message):
    started(borough_a, 60)
    with pytest.raises(CommandError, match=message):
        run(tmp_path, *args)
    assert not (tmp_path / "jdl.csv").exists()
    assert not AccessLog.objects.exists()


def test_a_file_that_cannot_be_written_leaves_no_log_lines(tmp_path, borough_a):
    started(borough_a, 60)
    with pytest.raises(CommandError, match="Cannot write"):
        run(tmp_path, output=tmp_path / "missing" / "jdl.csv")
    assert not AccessLog.objects.exists()


class TestPNCId:
    @pytest.mark.parametrize(
        "typed, kept",
        [("2019/0123456X", "2019/0123456X"), (" 2019/0123456x ", "2019/0123456X")],
    )
    def test_a_pnc_id_is_kept_in_capitals(self, typed, kept):
        assert clean_pnc_id(typed) == kept

    @pytest.mark.parametrize(
        "typed", ["19/0123456X", "2019/012345X", "2019/01234567", "2019-0123456X", "1800/0123456X"]
    )
    def test_anything_else_is_refused(self, typed):
        with pytest.raises(ValidationError, match="YYYY/NNNNNNNA"):
            clean_pnc_id(typed)

    def test_the_referral_form_takes_an_optional_pnc_id(self, client, coordinator_a, borough_a):
        client.force_login(coordinator_a)
        response = client.post(reverse("client_new"), referral_data(borough_a, pnc_id="bad"))
        assert "YYYY/NNNNNNNA" in str(response.context["form"].errors["pnc_id"])
        assert not Client.objects.exists()
        response = client.post(
            reverse("client_new"), referral_data(borough_a, pnc_id="2020/0000123a")
        )
        assert response.status_code == 302, response.context["form"].errors
        kai = Client.objects.get()
        assert kai.pnc_id == "2020/0000123A"
        page = client.get(reverse("client_detail", args=[kai.reference])).content.decode()
        assert "2020/0000123A" in page
        # Another young person (a different name and birth date), with no PNC ID.
        client.post(
            reverse("client_new"),
            referral_data(
                borough_a, first_name="Zed", last_name="Adeyemi", date_of_birth="02/04/2003"
            ),
        )
        assert Client.objects.get(first_name="Zed").pnc_id is None

    def test_the_import_checks_an_optional_pnc_id_column(self, tmp_path):
        folder = tmp_path / "import"
        shutil.copytree(CLEAN_IMPORT, folder)
        path = folder / "clients.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[0] += ",pnc_id"
        lines[1] += ",2019/0123456X"
        lines[2] += ",not-a-pnc"
        lines[3:] = [line + "," for line in lines[3:]]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with pytest.raises(CommandError) as raised:
            call_command("import_records", str(folder), stdout=io.StringIO())
        assert "clients.csv:3: pnc_id: 'not-a-pnc'" in str(raised.value)
        lines[2] = lines[2].replace("not-a-pnc", "")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        call_command("import_records", str(folder), stdout=io.StringIO())
        assert Client.objects.get(reference=lines[1].split(",")[0]).pnc_id == "2019/0123456X"

    def test_retention_removes_the_pnc_id(self, borough_a):
        kai = factories.ClientFactory(borough=borough_a, closed=True, pnc_id="2019/0123456X")
        retention.anonymise(kai.pk, on=timezone.localdate())
        kai.refresh_from_db()
        assert kai.pnc_id is None


class TestAdminPage:
    URL = reverse("admin:mentoring_client_jdl")

    def post(self, client, **changes):
        data = {"start": "01/01/2024", "end": "31/12/2024", "borough": "", "reason": REASON}
        return client.post(self.URL, {**data, **changes})

    def test_the_page_says_what_the_lab_returns_and_how_the_file_travels(self, client, admin_user):
        client.force_login(admin_user)
        page = client.get(self.URL).content.decode()
        assert "comparison group" in page
        assert "never by e-mail" in page
        assert HEADER in page
        changelist = client.get(reverse("admin:mentoring_client_changelist")).content.decode()
        assert f'href="{self.URL}"' in changelist

    def test_an_admin_downloads_the_submission_and_each_client_is_logged(
        self, client, admin_user, borough_a
    ):
        people = started(borough_a, 60)
        client.force_login(admin_user)
        response = self.post(client)
        assert response["Content-Type"].startswith("text/csv")
        assert 'filename="jdl-2024-01-01-2024-12-31.csv"' in response["Content-Disposition"]
        text = response.content.decode()
        assert text.splitlines()[0] == HEADER
        assert len(text.splitlines()) == 61
        lines = AccessLog.objects.filter(user=admin_user, action=AccessLog.Action.EXPORT)
        assert sorted(lines.values_list("client_id", flat=True)) == sorted(p.pk for p in people)

    def test_fewer_than_sixty_is_a_form_error_and_nothing_is_logged(
        self, client, admin_user, borough_a
    ):
        started(borough_a, 12)
        client.force_login(admin_user)
        response = self.post(client)
        assert response.status_code == 200
        errors = response.context["form"].non_field_errors()
        assert "Only 12 clients" in errors[0] and "at least 60" in errors[0]
        assert not AccessLog.objects.exists()

    def test_a_period_that_ends_before_it_starts_is_refused(self, client, admin_user):
        client.force_login(admin_user)
        response = self.post(client, start="31/12/2024", end="01/01/2024")
        assert "before its start" in str(response.context["form"].errors["end"])

    def test_coordinators_and_managers_are_sent_to_the_admin_sign_in(
        self, client, coordinator_a, manager, borough_a
    ):
        started(borough_a, 60)
        for user in (coordinator_a, manager):
            client.force_login(user)
            response = self.post(client)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))
        assert not AccessLog.objects.exists()


class TestLabResult:
    def result(self, borough=None, published_on=datetime.date(2026, 6, 1), **fields):
        return JusticeDataLabResult.objects.create(
            borough=borough,
            period_start=datetime.date(2023, 1, 1),
            period_end=datetime.date(2023, 12, 31),
            people_matched=fields.pop("people_matched", 84),
            treatment_rate=Decimal("0.214"),
            comparison_rate=Decimal("0.331"),
            p_value=fields.pop("p_value", Decimal("0.012")),
            published_on=published_on,
            link="https://example.org/jdl-report",
        )

    def test_the_dashboards_show_their_scopes_latest_published_answer(
        self, client, manager, borough_a
    ):
        self.result(published_on=datetime.date(2025, 6, 1), people_matched=61)
        self.result(people_matched=84)
        self.result(borough=borough_a, people_matched=70, p_value=Decimal("0.2"))
        client.force_login(manager)
        page = client.get(reverse("network_dashboard"), {"as_of": "2026-07-01"}).content.decode()
        assert "Justice Data Lab: the matched comparison." in page
        assert "Of the 84 people" in page
        assert "21.4%" in page and "33.1%" in page
        assert "statistically significant (p = 0.012)" in page
        # As of a day before the latest was published, the one before it.
        page = client.get(reverse("network_dashboard"), {"as_of": "2026-05-31"}).content.decode()
        assert "Of the 61 people" in page
        page = client.get(
            reverse("borough_dashboard", args=[borough_a.slug]), {"as_of": "2026-07-01"}
        ).content.decode()
        assert "Of the 70 people" in page
        assert "not statistically significant" in page

    def test_without_an_answer_the_dashboards_say_nothing_of_the_lab(self, client, manager):
        client.force_login(manager)
        page = client.get(reverse("network_dashboard")).content.decode()
        assert "Justice Data Lab" not in page

    def test_a_rate_is_a_fraction(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            self.result(p_value=Decimal("1.5"))
