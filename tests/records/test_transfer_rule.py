"""
A case closes as TRANSFERRED only through 'Transfer to another area', which opens the
referral in the new area: not from the close form, the admin or an import, so that a young
person cannot leave the programme unseen. Records already transferred stay valid.
"""

import io
import re
import shutil
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from mentoring import services
from mentoring.models import Client

from .. import factories
from ..helpers import CLEAN_IMPORT, dmy

pytestmark = pytest.mark.django_db


@pytest.fixture
def active(borough_a):
    return factories.ClientFactory(borough=borough_a, active=True, first_name="Kai")


class TestCloseForm:
    def test_the_close_form_does_not_offer_transferred_and_points_to_the_transfer(
        self, client, coordinator_a, active
    ):
        client.force_login(coordinator_a)
        response = client.get(reverse("client_close", args=[active.reference]))
        choices = [
            value for value, _label in response.context["form"].fields["closure_reason"].choices
        ]
        assert "MOVED_AWAY" in choices
        assert "TRANSFERRED" not in choices
        assert reverse("client_transfer", args=[active.reference]) in response.content.decode()

    def test_closing_as_transferred_is_refused_and_writes_nothing(
        self, client, coordinator_a, active
    ):
        client.force_login(coordinator_a)
        response = client.post(
            reverse("client_close", args=[active.reference]),
            {"ended_on": dmy(timezone.localdate()), "closure_reason": "TRANSFERRED"},
        )
        assert response.status_code == 200
        assert response.context["form"].errors["closure_reason"]
        active.refresh_from_db()
        assert active.status == Client.Status.ACTIVE


class TestAdmin:
    def _post(self, client, record, **changes):
        url = reverse("admin:mentoring_client_change", args=[record.pk])
        response = client.get(url)
        form = response.context["adminform"].form
        # The inlines' rows are left as they are: none sent, none changed.
        data = {}
        for prefix in re.findall(r'name="([^"]+)-TOTAL_FORMS"', response.content.decode()):
            data[f"{prefix}-TOTAL_FORMS"] = data[f"{prefix}-INITIAL_FORMS"] = "0"
        for name in form.fields:
            value = form[name].value()
            if value is None:
                continue
            if isinstance(value, date):
                value = dmy(value)
            data[name] = value
        data.update(changes)
        return client.post(url, data)

    def test_the_admin_refuses_to_close_a_case_as_transferred(self, client, admin_user, active):
        client.force_login(admin_user)
        response = self._post(
            client,
            active,
            status="CLOSED",
            ended_on=dmy(timezone.localdate()),
            closure_reason="TRANSFERRED",
        )
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert "Transfer to another area" in str(errors["closure_reason"])
        active.refresh_from_db()
        assert active.status == Client.Status.ACTIVE

    def test_a_record_transferred_through_the_app_stays_editable_in_the_admin(
        self, client, admin_user, active, borough_b
    ):
        services.client_transfer(
            client=active, borough=borough_b, on=timezone.localdate(), note="moved"
        )
        active.refresh_from_db()
        assert active.closure_reason == Client.ClosureReason.TRANSFERRED
        client.force_login(admin_user)
        response = self._post(client, active, phone="07700900123")
        assert response.status_code == 302, response.context["adminform"].form.errors
        active.refresh_from_db()
        assert active.closure_reason == Client.ClosureReason.TRANSFERRED


class TestImport:
    @pytest.fixture
    def folder(self, tmp_path):
        target = tmp_path / "import"
        shutil.copytree(CLEAN_IMPORT, target)
        return target

    def test_an_imported_row_cannot_close_a_case_as_transferred(self, folder):
        path = folder / "clients.csv"
        text = path.read_text(encoding="utf-8")
        line = next(n for n, row in enumerate(text.splitlines(), 1) if ",COMPLETED," in row)
        path.write_text(text.replace(",COMPLETED,", ",TRANSFERRED,", 1), encoding="utf-8")
        with pytest.raises(CommandError) as raised:
            call_command("import_records", str(folder), stdout=io.StringIO())
        report = str(raised.value)
        assert f"clients.csv:{line}" in report or f"clients.csv, line {line}" in report
        assert "closure_reason" in report
        assert "Transfer to another area" in report
        assert not Client.objects.exists()
