"""
``manage.py import_records DIR``: a clean folder imports, a second run changes nothing,
and any bad row stops everything with its file, line and field.
"""

import io
import shutil
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mentoring import importer
from mentoring.models import (
    Assignment,
    Borough,
    Client,
    Mentor,
    Offence,
    SupportSession,
)
from mentoring.services import allocate_client_references

from ..factories import BoroughFactory, ClientFactory, MentorFactory
from ..helpers import CLEAN_IMPORT

MODELS = (Borough, Mentor, Client, Assignment, SupportSession, Offence)

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(tmp_path):
    """A copy of the clean folder that a test may spoil."""
    target = tmp_path / "import"
    shutil.copytree(CLEAN_IMPORT, target)
    return target


def run(folder, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_records", str(folder), *args, stdout=out, stderr=err)
    return out.getvalue()


def failure(folder):
    """The problem report of an import that must fail, after checking it wrote nothing."""
    before = counts()
    with pytest.raises(CommandError) as raised:
        run(folder)
    assert raised.value.returncode != 0
    assert counts() == before
    return str(raised.value)


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def append(folder, name, *lines):
    with (folder / name).open("a", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)


def replace(folder, name, old, new):
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_clean_folder_imports_every_file(folder):
    output = run(folder)
    assert counts() == {
        "Borough": 2,
        "Mentor": 3,
        "Client": 5,
        "Assignment": 4,
        "SupportSession": 6,
        "Offence": 3,
    }
    assert "clients.csv: 5 rows: 5 created" in output
    bristol = Borough.objects.get(slug="bristol")
    assert bristol.launched_on == date(2012, 6, 4)  # DD/MM/YYYY
    assert bristol.cost_per_client == Decimal("2100.00")
    assert sorted(Borough.objects.values_list("code", flat=True)) == ["BRI", "SOU"]
    assert Mentor.objects.get(reference="M-BRS-001").max_caseload == 8  # empty: default

    kyle = Client.objects.get(reference="SWK-00002")
    assert kyle.status == Client.Status.CLOSED
    assert kyle.release_date == date(2020, 6, 1)
    assert kyle.index_date == date(2020, 6, 1)
    assert kyle.closure_reason == Client.ClosureReason.DISENGAGED
    assignment = kyle.assignments.get()
    assert (assignment.mentor.reference, assignment.started_on, assignment.ended_on) == (
        "M-SWK-001",
        date(2020, 3, 16),
        date(2021, 1, 15),
    )
    assert assignment.end_reason == Assignment.EndReason.CASE_CLOSED
    liam = Client.objects.get(reference="BRS-00001")
    assert liam.started_on == date(2024, 10, 15)
    assert liam.risk_level == Client.RiskLevel.MEDIUM
    assert liam.assignments.get().ended_on is None
    assert not Client.objects.get(reference="BRS-00002").assignments.exists()

    first = SupportSession.objects.get(client__reference="SWK-00001", date=date(2019, 1, 21))
    assert sorted(first.support_areas.values_list("slug", flat=True)) == [
        "accommodation",
        "emotional-wellbeing",
    ]
    assert first.notes == "First meeting, went well"
    missed = SupportSession.objects.get(client__reference="SWK-00001", date=date(2019, 2, 4))
    assert missed.notes == "Waited an hour.\nTexted, no reply."
    assert missed.attendance == SupportSession.Attendance.DID_NOT_ATTEND
    by_name = SupportSession.objects.get(client__reference="SWK-00002")
    assert sorted(by_name.support_areas.values_list("slug", flat=True)) == ["health", "legal-court"]
    defaults = SupportSession.objects.filter(client__reference="BRS-00001")
    assert defaults.count() == 2  # two identical rows are two sessions
    assert {(s.kind, s.mode, s.attendance) for s in defaults} == {("BOTH", "IN_PERSON", "ATTENDED")}
    pending = Offence.objects.get(client__reference="BRS-00001")
    assert (pending.disposal, pending.outcome_date) == ("PENDING", None)


def test_reimporting_the_same_files_changes_nothing_and_says_so(folder):
    run(folder)

    def state():
        return counts(), list(Client.objects.order_by("pk").values_list("version", "updated_at"))

    before = state()
    output = run(folder)
    assert state() == before
    assert "Nothing to change: every record is already in the database." in output
    assert "sessions.csv: 6 rows: 6 already present" in output


def test_a_changed_row_updates_its_record(folder):
    run(folder)
    replace(folder, "clients.csv", "2025-09-15,,,,LOW,", "2025-09-15,,,,HIGH,")
    output = run(folder)
    assert "clients.csv: 5 rows: 1 updated, 4 already present" in output
    client = Client.objects.get(reference="SWK-00003")
    assert client.risk_level == Client.RiskLevel.HIGH
    assert client.version == 2
    assert counts()["Client"] == 5


def test_a_session_added_to_the_file_is_imported_once(folder):
    run(folder)
    append(folder, "sessions.csv", "SWK-00003,M-SWK-001,2025-09-20,30,,PHONE,,,Catch-up call")
    assert "sessions.csv: 7 rows: 1 created, 6 already present" in run(folder)
    assert SupportSession.objects.filter(client__reference="SWK-00003").count() == 1


@pytest.mark.parametrize(
    ("name", "line", "expected"),
    [
        pytest.param(
            "clients.csv",
            "SWK-00009,Ann,Lee,2000-01-01,atlantis,PROBATION,2020-01-01,,,,,,,",
            "clients.csv:7: borough: no borough with slug 'atlantis'",
            id="unknown-borough",
        ),
        pytest.param(
            "mentors.csv",
            "M-SWK-009,Ann,Lee,southwark,2020-13-01,,8",
            "mentors.csv:5: started_on: '2020-13-01' is not a date (use YYYY-MM-DD or DD/MM/YYYY)",
            id="bad-date",
        ),
        pytest.param(
            "clients.csv",
            "SWK-00009,Ann,Lee,2000-01-01,southwark,HUNCH,2020-01-01,,,,,,,",
            "clients.csv:7: referral_source: 'HUNCH' is not one of POLICE, PROBATION",
            id="bad-enum",
        ),
        pytest.param(
            "sessions.csv",
            "SWK-00001,M-SWK-001,2019-03-01,60,BOTH,CARRIER_PIGEON,ATTENDED,,",
            "sessions.csv:9: mode: 'CARRIER_PIGEON' is not one of IN_PERSON",
            id="bad-session-enum",
        ),
        pytest.param(
            "mentors.csv",
            "M-SWK-009,Ann,Lee,southwark,2020-01-01,2019-12-31,8",
            "mentors.csv:5: ended_on: 2019-12-31 is before started_on (2020-01-01)",
            id="mentor-ends-before-start",
        ),
        pytest.param(
            "clients.csv",
            "SWK-00009,Ann,Lee,2000-01-01,southwark,PROBATION,2020-01-01,CLOSED,2020-02-01,,"
            "2020-01-15,COMPLETED,,",
            "clients.csv:7: ended_on: 2020-01-15 is before started_on (2020-02-01)",
            id="client-ends-before-start",
        ),
        pytest.param(
            "sessions.csv",
            "SWK-99999,M-SWK-001,2019-03-01,60,BOTH,IN_PERSON,ATTENDED,,",
            "sessions.csv:9: client: no client with reference 'SWK-99999'",
            id="unknown-client",
        ),
        pytest.param(
            "offences.csv",
            "SWK-99999,2019-03-01,2019-05-01,FINE,THEFT,POLICE",
            "offences.csv:5: client: no client with reference 'SWK-99999'",
            id="unknown-client-offence",
        ),
        pytest.param(
            "clients.csv",
            "SWK-00001,Ann,Lee,2000-01-01,southwark,PROBATION,2020-01-01,,,,,,,",
            "clients.csv:7: reference: duplicate of line 2",
            id="duplicate-reference",
        ),
        pytest.param(
            "mentors.csv",
            "M-SWK-002,Ann,Lee,southwark,2020-01-01,,8",
            "mentors.csv:5: reference: duplicate of line 3",
            id="duplicate-mentor-reference",
        ),
        pytest.param(
            "boroughs.csv",
            "Southwark North,southwark,London,2006-04-03,2000",
            "boroughs.csv:4: slug: duplicate of line 2",
            id="duplicate-slug",
        ),
        pytest.param(
            "sessions.csv",
            "SWK-00001,M-SWK-001,2019-03-01,721,BOTH,IN_PERSON,ATTENDED,,",
            "sessions.csv:9: duration_minutes: 721 is not between 5 and 720",
            id="session-too-long",
        ),
        pytest.param(
            "sessions.csv",
            "SWK-00001,M-SWK-001,2019-12-01,60,BOTH,IN_PERSON,ATTENDED,,",
            "sessions.csv:9: date: is after SWK-00001's case ended (2019-09-30)",
            id="session-after-case-closed",
        ),
        pytest.param(
            "sessions.csv",
            "SWK-00001,M-SWK-001,2019-03-01,60,BOTH,IN_PERSON,ATTENDED,juggling,",
            "sessions.csv:9: support_areas: 'juggling' is not a support area",
            id="unknown-support-area",
        ),
        pytest.param(
            "offences.csv",
            "SWK-00001,2019-03-01,2019-05-01,PENDING,THEFT,POLICE",
            "offences.csv:5: outcome_date: a PENDING case has no outcome date",
            id="pending-with-outcome",
        ),
        pytest.param(
            "clients.csv",
            "SWK-00009,Ann,Lee,2000-01-01,southwark,PROBATION,2020-01-01,CLOSED,2020-01-02,,"
            "2020-03-01,,,",
            "clients.csv:7: closure_reason: a CLOSED client needs a closure reason",
            id="closed-without-reason",
        ),
        pytest.param(
            "clients.csv",
            "BRS-00009,Ann,Lee,2000-01-01,bristol,PROBATION,2020-01-01,ACTIVE,2020-01-02,,,,,"
            "M-SWK-001",
            "clients.csv:7: mentor: M-SWK-001 does not serve 'bristol'",
            id="mentor-from-another-borough",
        ),
        pytest.param(
            "clients.csv",
            "SWK-00009,Ann,Lee,2000-01-01,southwark,PROBATION,2099-01-01,,,,,,,",
            "clients.csv:7: referred_on: 2099-01-01 is in the future",
            id="future-date",
        ),
    ],
)
def test_a_bad_row_is_reported_with_file_line_and_field_and_nothing_is_written(
    folder, name, line, expected
):
    append(folder, name, line)
    message = failure(folder)
    assert expected in message
    assert "1 problem(s) found, so nothing was imported" in message


def test_every_problem_is_reported_at_once_in_file_order(folder):
    append(folder, "offences.csv", "SWK-00001,2019-03-01,,FINE,THEFT,POLICE")
    append(folder, "boroughs.csv", "Ealing,ealing,London,30/02/2011,2000")
    append(folder, "mentors.csv", "M-EAL-001,Ann,Lee,ealing,2011-04-04,,40")
    message = failure(folder)
    assert message.splitlines()[1:] == [
        "boroughs.csv:4: launched_on: '30/02/2011' is not a date (use YYYY-MM-DD or DD/MM/YYYY)",
        "mentors.csv:5: max_caseload: 40 is not between 1 and 30",
        "offences.csv:5: outcome_date: is required for a FINE disposal",
    ]


def test_rows_that_refer_to_a_rejected_row_are_not_reported_twice(folder):
    replace(
        folder, "clients.csv", "SWK-00001,Jamal,Smith,2000-05-17", "SWK-00001,Jamal,,2000-05-17"
    )
    message = failure(folder)
    assert message.splitlines()[1:] == ["clients.csv:2: last_name: is required"]


def test_missing_and_unknown_columns_are_reported(folder):
    (folder / "offences.csv").write_text("client,offence_date,disposal,offence_type,colour\n")
    message = failure(folder)
    assert "offences.csv:1: source: column is missing" in message
    assert "offences.csv:1: colour: is not a column of this file" in message


def test_records_already_in_the_database_can_be_referred_to(tmp_path):
    borough = BoroughFactory(slug="ealing", code="EAL")
    ClientFactory(reference="EAL-00001", borough=borough, active=True)
    MentorFactory(reference="M-EAL-001", home_borough=borough)
    (tmp_path / "sessions.csv").write_text(
        "client,mentor,date,duration_minutes\nEAL-00001,M-EAL-001,2020-06-20,45\n"
    )
    assert "sessions.csv: 1 rows: 1 created" in run(tmp_path)
    assert SupportSession.objects.get().duration_minutes == 45


def test_a_second_open_assignment_is_refused(folder):
    run(folder)
    replace(folder, "mentors.csv", "2008-01-14,2015-06-30,6", "2008-01-14,,6")
    replace(folder, "clients.csv", "2025-09-15,,,,LOW,M-SWK-001", "2025-09-15,,,,LOW,M-SWK-002")
    message = failure(folder)
    assert (
        "clients.csv:4: mentor: SWK-00003 already has an open assignment with M-SWK-001" in message
    )


def test_reference_counters_move_past_imported_references(folder):
    (folder / "boroughs.csv").write_text(
        "name,slug,region,launched_on,code\n"
        "Southwark,southwark,London,2006-04-03,SWK\n"
        "Bristol,bristol,South West,2012-06-04,BRS\n"
    )
    run(folder)
    southwark = Borough.objects.get(slug="southwark")
    assert (southwark.last_client_number, southwark.last_mentor_number) == (3, 2)
    assert allocate_client_references(southwark) == ["SWK-00004"]


def test_dry_run_checks_and_writes_nothing(folder):
    output = run(folder, "--dry-run")
    assert "clients.csv: 5 rows: 5 would be created" in output
    assert "Dry run: nothing was written." in output
    assert set(counts().values()) == {0}


def test_progress_is_reported_for_large_files(folder):
    messages = []
    importer.import_records(folder, progress=messages.append, progress_every=3)
    assert "sessions.csv: 3 rows checked" in messages
    assert "sessions.csv: 6 rows checked" in messages
    assert "Writing 6 support sessions" in messages


def test_a_folder_without_any_file_is_an_error(tmp_path):
    with pytest.raises(CommandError, match=r"has none of boroughs\.csv"):
        run(tmp_path)


def test_a_new_client_who_may_be_on_record_already_is_imported_with_a_warning(folder):
    """
    A new reference with the birth date and a name of a client on record, or of an earlier
    row: imported (a new episode after a closed case is a new record), and named.
    """
    borough = BoroughFactory(slug="ealing", code="EAL")
    ClientFactory(
        reference="EAL-00009",
        borough=borough,
        first_name="Jamal",
        last_name="Okoro",
        date_of_birth=date(2000, 5, 17),
    )
    append(
        folder,
        "clients.csv",
        "SWK-00004,JAMAL,Reid,2000-05-17,southwark,POLICE,2024-02-01,,,,,,,",
        "SWK-00005,Tom,Reid,2000-05-17,southwark,POLICE,2024-03-01,,,,,,,",
        "SWK-00006,Jamal,Smith,2000-05-18,southwark,POLICE,2024-03-01,,,,,,,",
    )
    output = run(folder)
    assert Client.objects.filter(reference__in=["SWK-00004", "SWK-00005", "SWK-00006"]).count() == 3
    assert "To look at (3):" in output
    # Line 2's Jamal Smith, new too, has Jamal Okoro's birth date and first name.
    assert "clients.csv:2: SWK-00001 Jamal Smith, born 17/05/2000, has the birth date" in output
    assert (
        "clients.csv:7: SWK-00004 JAMAL Reid, born 17/05/2000, has the birth date and a name "
        "of EAL-00009, SWK-00001" in output
    )
    assert "clients.csv:8: SWK-00005 Tom Reid, born 17/05/2000" in output  # line 7's surname
    assert "SWK-00006" not in output.split("To look at")[1]  # born a day later
    assert "To look at" not in run(folder)  # nothing new the second time
