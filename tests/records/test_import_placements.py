"""
``import_records`` with ``employers.csv`` and ``placements.csv``: the employer network and
clients' placements load with the other files, all or nothing, and a second run changes
nothing.
"""

import shutil
from datetime import date

import pytest

from mentoring.models import Borough, Employer, Placement

from ..factories import EmployerFactory
from ..helpers import CLEAN_IMPORT
from .test_import_records import append, failure, replace, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "import"
    shutil.copytree(CLEAN_IMPORT, target)
    return target


def placements():
    return sorted(
        Placement.objects.values_list(
            "client__reference", "employer__name", "kind", "started_on", "ended_on"
        )
    )


def test_employers_and_placements_import_with_the_other_files(folder):
    output = run(folder)
    assert "employers.csv: 3 rows: 3 created" in output
    assert "placements.csv: 3 rows: 3 created" in output
    employers = {e.name: e for e in Employer.objects.select_related("borough")}
    assert employers["Bermondsey Builders"].borough == Borough.objects.get(slug="southwark")
    assert employers["Bermondsey Builders"].sector == "Construction"
    assert employers["City Rail Partners"].borough is None  # the whole network
    assert placements() == [
        ("BRS-00001", "Harbourside Cafe", "WORK_EXPERIENCE", date(2024, 11, 1), date(2024, 11, 15)),
        ("SWK-00001", "Bermondsey Builders", "JOB", date(2019, 6, 3), date(2019, 8, 30)),
        ("SWK-00001", "City Rail Partners", "APPRENTICESHIP", date(2019, 10, 7), None),
    ]
    placement = Placement.objects.get(kind="JOB")
    assert placement.history.get().history_change_reason == "import_records import"


def test_reimporting_changes_nothing(folder):
    run(folder)
    before = (placements(), list(Employer.objects.values_list("name", "sector", "borough")))
    output = run(folder)
    assert "employers.csv: 3 rows: 3 already present" in output
    assert "placements.csv: 3 rows: 3 already present" in output
    assert "Nothing to change" in output
    assert (placements(), list(Employer.objects.values_list("name", "sector", "borough"))) == (
        before
    )


def test_an_end_date_added_later_updates_the_placement(folder):
    run(folder)
    replace(
        folder,
        "placements.csv",
        "City Rail Partners,APPRENTICESHIP,2019-10-07,",
        "City Rail Partners,APPRENTICESHIP,2019-10-07,2020-10-06",
    )
    replace(folder, "employers.csv", "Hospitality,bristol", "Catering,bristol")
    output = run(folder)
    assert "placements.csv: 3 rows: 1 updated, 2 already present" in output
    assert "employers.csv: 3 rows: 1 updated, 2 already present" in output
    apprenticeship = Placement.objects.get(kind="APPRENTICESHIP")
    assert apprenticeship.ended_on == date(2020, 10, 6)
    assert apprenticeship.version == 2
    assert Placement.objects.count() == 3
    assert Employer.objects.get(name="Harbourside Cafe").sector == "Catering"


def test_placements_may_name_employers_already_on_record(tmp_path, borough_a, southwark_client):
    EmployerFactory(name="Peckham Print Works", borough=None)
    (tmp_path / "placements.csv").write_text(
        "client,employer,kind,started_on,ended_on\n"
        f"{southwark_client.reference},Peckham Print Works,JOB,{southwark_client.referred_on},\n"
    )
    assert "placements.csv: 1 rows: 1 created" in run(tmp_path)
    assert Placement.objects.get().employer.name == "Peckham Print Works"


@pytest.mark.parametrize(
    ("name", "line", "expected"),
    [
        pytest.param(
            "employers.csv",
            "Deptford Docks,Logistics,atlantis",
            "employers.csv:5: borough: no borough with slug 'atlantis'",
            id="unknown-borough",
        ),
        pytest.param(
            "employers.csv",
            "Bermondsey Builders,Roofing,southwark",
            "employers.csv:5: name: duplicate of line 2",
            id="duplicate-employer-name",
        ),
        pytest.param(
            "employers.csv",
            ",Logistics,",
            "employers.csv:5: name: is required",
            id="no-employer-name",
        ),
        pytest.param(
            "employers.csv",
            f"{'x' * 201},Logistics,",
            "employers.csv:5: name: is longer than 200 characters",
            id="employer-name-too-long",
        ),
        pytest.param(
            "placements.csv",
            "SWK-99999,Bermondsey Builders,JOB,2020-01-06,",
            "placements.csv:5: client: no client with reference 'SWK-99999'",
            id="unknown-client",
        ),
        pytest.param(
            "placements.csv",
            "SWK-00001,Acme Ltd,JOB,2020-01-06,",
            "placements.csv:5: employer: no employer named 'Acme Ltd'",
            id="unknown-employer",
        ),
        pytest.param(
            "placements.csv",
            "SWK-00001,Bermondsey Builders,VOLUNTEERING,2020-01-06,",
            "placements.csv:5: kind: 'VOLUNTEERING' is not one of JOB, APPRENTICESHIP, "
            "WORK_EXPERIENCE, TRAINING",
            id="bad-kind",
        ),
        pytest.param(
            "placements.csv",
            "SWK-00001,Bermondsey Builders,JOB,2020-02-30,",
            "placements.csv:5: started_on: '2020-02-30' is not a date (use YYYY-MM-DD or "
            "DD/MM/YYYY)",
            id="bad-start-date",
        ),
        pytest.param(
            "placements.csv",
            "SWK-00001,Bermondsey Builders,JOB,,",
            "placements.csv:5: started_on: is required",
            id="no-start-date",
        ),
        pytest.param(
            "placements.csv",
            "SWK-00001,Bermondsey Builders,JOB,2020-01-06,2019-12-31",
            "placements.csv:5: ended_on: 2019-12-31 is before started_on (2020-01-06)",
            id="ended-before-started",
        ),
        pytest.param(
            "placements.csv",
            "SWK-00001,Bermondsey Builders,JOB,2020-01-06,2999-01-01",
            "placements.csv:5: ended_on: 2999-01-01 is in the future",
            id="future-end",
        ),
        pytest.param(
            "placements.csv",
            "SWK-00001,Bermondsey Builders,JOB,2018-12-31,",
            "placements.csv:5: started_on: is before SWK-00001 was referred (2019-01-07)",
            id="before-referral",
        ),
        pytest.param(
            "placements.csv",
            "BRS-00001,Bermondsey Builders,JOB,2025-01-06,",
            "placements.csv:5: employer: Bermondsey Builders serves 'southwark', not "
            "BRS-00001's borough 'bristol'",
            id="employer-of-another-borough",
        ),
        pytest.param(
            "placements.csv",
            "SWK-00001,Bermondsey Builders,JOB,2019-06-03,",
            "placements.csv:5: started_on: the same placement as line 2",
            id="same-placement-twice",
        ),
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_written(folder, name, line, expected):
    append(folder, name, line)
    message = failure(folder)
    assert expected in message.splitlines()
    assert "1 problem(s) found, so nothing was imported" in message
    assert not Employer.objects.exists()
    assert not Placement.objects.exists()


def test_placements_of_a_rejected_employer_are_not_reported_twice(folder):
    replace(folder, "employers.csv", "Construction,southwark", "Construction,atlantis")
    message = failure(folder)
    assert message.splitlines()[1:] == ["employers.csv:2: borough: no borough with slug 'atlantis'"]
