"""
Input that makes sense: names that contain a letter and no invisible characters, UK phone
numbers checked and written one way, an age at referral the programme can be for, each
rule at its boundary, in the coordinators' forms, the admin and the import.
"""

import io
import re
import shutil
import uuid
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from mentoring.fields import TEXT_LIMITS, clean_name, clean_phone
from mentoring.models import Client, SupportSession

from .. import factories
from ..helpers import CLEAN_IMPORT, days_ago, dmy
from ..views.test_clients import referral_data


class TestNames:
    @pytest.mark.parametrize(
        "typed, kept",
        [
            ("Kai", "Kai"),
            ("  O'Neil ", "O'Neil"),
            ("\u200bKai\u200b", "Kai"),
            ("Zoë-Mae", "Zoë-Mae"),
            ("محمد", "محمد"),
            ("Ji\u200dn", "Ji\u200dn"),
        ],
    )
    def test_a_name_is_kept_without_invisible_ends(self, typed, kept):
        assert clean_name(typed) == kept

    @pytest.mark.parametrize(
        "typed, message",
        [
            ("\u200b\u200b", "at least one letter"),
            ("---", "at least one letter"),
            ("42", "at least one letter"),
            ("Ka\u200bi", "invisible character"),
            ("Ka\u2066i", "invisible character"),
            ("Ka\ti", "control characters"),
            ("Ka\x07i", "control characters"),
        ],
    )
    def test_a_name_without_a_letter_or_with_hidden_characters_is_refused(self, typed, message):
        with pytest.raises(ValidationError, match=message):
            clean_name(typed)


class TestPhones:
    @pytest.mark.parametrize(
        "typed, kept",
        [
            ("07911123456", "07911 123456"),
            ("+44 7911 123456", "07911 123456"),
            ("(020) 7946 0000", "020 7946 0000"),
            ("07700 900123", "07700 900123"),  # Ofcom's range for drama: the demo's numbers
            ("+33 6 12 34 56 78", "+33 6 12 34 56 78"),
            ("", ""),
        ],
    )
    def test_a_phone_number_is_written_one_way(self, typed, kept):
        assert clean_phone(typed) == kept

    @pytest.mark.parametrize("typed", ["-1+1", "0207 1", "12345", "07911 12345", "phone me"])
    def test_what_cannot_be_dialled_is_refused(self, typed):
        with pytest.raises(ValidationError, match="UK phone number"):
            clean_phone(typed)


@pytest.mark.django_db
class TestReferralForm:
    @pytest.fixture(autouse=True)
    def signed_in(self, client, coordinator_a, borough_a):
        client.force_login(coordinator_a)
        self.client, self.borough = client, borough_a

    def post(self, **changes):
        return self.client.post(reverse("client_new"), referral_data(self.borough, **changes))

    def test_the_phone_box_brings_up_the_phone_keypad(self):
        page = self.client.get(reverse("client_new")).content.decode()
        assert 'type="tel"' in page
        assert 'inputmode="tel"' in page

    def test_a_name_of_zero_width_spaces_is_refused(self):
        response = self.post(first_name="\u200b\u200b")
        assert "at least one letter" in str(response.context["form"].errors["first_name"])
        assert not Client.objects.exists()

    def test_a_phone_number_is_saved_in_one_form(self):
        response = self.post(phone="+447911123456")
        assert response.status_code == 302
        assert Client.objects.get().phone == "07911 123456"

    def test_a_phone_number_that_cannot_be_dialled_is_refused(self):
        response = self.post(phone="-1+1")
        assert "UK phone number" in str(response.context["form"].errors["phone"])
        assert not Client.objects.exists()

    @pytest.mark.parametrize(
        "born, outcome",
        [
            ("16/09/2014", "refused"),  # 9 on the day of referral
            ("15/09/2014", "ask"),  # 10 that day: allowed, outside the target age
            ("16/09/1993", "ask"),  # 30 that day
            ("15/09/1993", "refused"),  # 31 that day
            ("01/01/1900", "refused"),
            ("15/09/2008", "saved"),  # 16 that day
        ],
    )
    def test_the_age_at_referral_at_its_boundaries(self, born, outcome):
        response = self.post(date_of_birth=born)
        if outcome == "saved":
            assert response.status_code == 302
            return
        errors = response.context["form"].errors
        if outcome == "refused":
            assert "SOS works with young people aged 10 to 30" in str(errors["date_of_birth"])
            # Refused outright: ticking the box does not save it.
            response = self.post(date_of_birth=born, confirm_outside_target_age="on")
            assert response.status_code == 200
        else:
            assert "confirm_outside_target_age" in errors
            assert self.post(date_of_birth=born, confirm_outside_target_age="on").status_code == 302
        assert Client.objects.count() == (1 if outcome == "ask" else 0)


@pytest.mark.django_db
def test_the_admin_applies_the_same_name_and_phone_rules(client, admin_user, borough_a):
    client.force_login(admin_user)
    url = reverse("admin:mentoring_client_add")
    page = client.get(url).content.decode()
    data = {
        **referral_data(borough_a, first_name="\u200b", phone="-1+1"),
        "status": Client.Status.REFERRED,
    }
    for prefix in re.findall(r'name="([^"]+)-TOTAL_FORMS"', page):
        data[f"{prefix}-TOTAL_FORMS"] = data[f"{prefix}-INITIAL_FORMS"] = "0"
    response = client.post(url, data)
    errors = response.context["adminform"].form.errors
    assert "at least one letter" in str(errors["first_name"])
    assert "UK phone number" in str(errors["phone"])
    assert not Client.objects.exists()


@pytest.mark.django_db
class TestImport:
    @pytest.fixture
    def folder(self, tmp_path):
        target = tmp_path / "import"
        shutil.copytree(CLEAN_IMPORT, target)
        return target

    def _spoil(self, folder, old, new):
        path = folder / "clients.csv"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def _report(self, folder):
        with pytest.raises(CommandError) as raised:
            call_command("import_records", str(folder), stdout=io.StringIO())
        assert not Client.objects.exists()
        return str(raised.value)

    def test_an_imported_name_without_a_letter_is_refused(self, folder):
        self._spoil(folder, "Jamal", "\u200b\u200b")
        assert "clients.csv:2: first_name: A name must contain at least one letter" in (
            self._report(folder)
        )

    def test_an_imported_age_outside_ten_to_thirty_is_refused(self, folder):
        self._spoil(folder, "2000-05-17", "1900-05-17")
        report = self._report(folder)
        assert "clients.csv:2: date_of_birth: makes the client 118 when referred" in report

    def test_the_clean_folder_still_imports(self, folder):
        call_command("import_records", str(folder), stdout=io.StringIO())
        assert Client.objects.filter(date_of_birth=date(2000, 5, 17)).exists()


@pytest.mark.django_db
class TestFreeTextLimits:
    @pytest.fixture(autouse=True)
    def signed_in(self, client, coordinator_a, borough_a, mentor_a):
        self.kai = factories.ClientFactory(borough=borough_a, active=True)
        factories.AssignmentFactory(client=self.kai, mentor=mentor_a)
        client.force_login(coordinator_a)
        self.client, self.mentor = client, mentor_a

    def post_session(self, notes):
        return self.client.post(
            reverse("client_session_new", args=[self.kai.reference]),
            {
                "mentor": self.mentor.pk,
                "date": dmy(days_ago(1)),
                "duration_minutes": "60",
                "kind": SupportSession.Kind.PRACTICAL,
                "mode": SupportSession.Mode.PHONE,
                "attendance": SupportSession.Attendance.ATTENDED,
                "notes": notes,
                "submission_token": str(uuid.uuid4()),
            },
        )

    def test_session_notes_take_up_to_their_limit_and_say_so(self):
        page = self.client.get(reverse("client_session_new", args=[self.kai.reference]))
        assert f'maxlength="{TEXT_LIMITS["notes"]}"' in page.content.decode()
        assert "Up to 5,000 characters." in page.content.decode()
        assert self.post_session("x" * TEXT_LIMITS["notes"]).status_code == 302
        assert SupportSession.objects.filter(client=self.kai).count() == 1

    def test_session_notes_over_the_limit_are_refused_and_not_stored(self):
        response = self.post_session("x" * (TEXT_LIMITS["notes"] + 1))
        assert response.status_code == 200
        assert "at most 5000 characters" in str(response.context["form"].errors["notes"])
        assert not SupportSession.objects.filter(client=self.kai).exists()

    def test_the_admin_gives_the_address_box_its_limit(self, admin_user):
        self.client.force_login(admin_user)
        url = reverse("admin:mentoring_client_change", args=[self.kai.pk])
        response = self.client.get(url)
        assert f'maxlength="{TEXT_LIMITS["address"]}"' in response.content.decode()
