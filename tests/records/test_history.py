"""
Change history: who changed what, when, with the old and new values, for clients and
their assignments, sessions, offences, milestones and goals; web edits, admin deletions
and imports alike. Shown to the client's coordinators and to admins, and in the subject
access export.
"""

# The ``case`` fixture is shared with the client page tests.
# ruff: noqa: F811

import importlib
import io
import json
import shutil

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mentoring import history
from mentoring.models import Client, Offence, SupportArea, SupportSession

from .. import factories
from ..admin.test_admin import client_post_data
from ..helpers import CLEAN_IMPORT, dmy, today
from ..helpers import session_correction as correction_data
from ..helpers import session_form as session_data
from ..views.test_clients import case, client_form_data  # noqa: F401

pytestmark = pytest.mark.django_db


def changes_of(client_record):
    return history.client_changes(client_record)


def test_a_web_edit_records_who_when_and_old_and_new_values(client, case, coordinator_a):
    client.force_login(coordinator_a)
    response = client.post(
        reverse("client_edit", args=[case.active.reference]),
        client_form_data(case.active, last_name="Okafor-Smith", risk_level="HIGH"),
    )
    assert response.status_code == 302
    latest = changes_of(case.active)[0]
    assert latest.who == "coord_a"
    assert latest.action == "Changed"
    assert latest.record == "Client record"
    fields = {label: (old, new) for label, old, new in latest.fields}
    assert fields["Last name"] == ("Okafor", "Okafor-Smith")
    assert fields["Risk level"][1] == "High"
    assert "First name" not in fields  # unchanged fields are not listed


def test_sessions_offences_milestones_goals_and_assignments_are_tracked(
    client, case, coordinator_a
):
    client.force_login(coordinator_a)
    ref = case.active.reference
    client.post(
        reverse("client_session_new", args=[ref]),
        session_data(mentor=case.active.assignments.get().mentor_id, duration_minutes="60"),
    )
    session = SupportSession.objects.get(client=case.active)
    client.post(
        reverse("session_edit", args=[session.pk]),
        correction_data(session, duration_minutes="90"),
    )
    client.post(
        reverse("client_assign", args=[ref]),
        {"mentor": case.spare.pk, "started_on": dmy(today()), "end_reason": "CLIENT_REQUEST"},
    )
    factories.OffenceFactory(client=case.active)
    factories.MilestoneFactory(client=case.active)
    records = {(c.action, c.record.split(" ")[0].rstrip(":")) for c in changes_of(case.active)}
    assert ("Created", "Session") in records
    assert ("Changed", "Session") in records
    assert ("Changed", "Assignment") in records  # the old one ended
    assert ("Created", "Assignment") in records
    assert ("Created", "Offence") in records
    assert ("Created", "Milestone") in records
    assert ("Created", "Goal") in records
    edit = next(
        c for c in changes_of(case.active) if c.action == "Changed" and "Session" in c.record
    )
    assert edit.who == "coord_a"
    assert any(
        label.startswith("Duration") and (old, new) == ("60", "90")
        for label, old, new in edit.fields
    ), edit.fields


def test_an_admin_deletion_is_recorded(client, case, admin_user):
    offence = factories.OffenceFactory(client=case.active)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:mentoring_offence_delete", args=[offence.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Offence.objects.filter(pk=offence.pk).exists()
    deleted = changes_of(case.active)[0]
    assert (deleted.action, deleted.who) == ("Deleted", "sos_admin")


def test_imports_are_recorded_with_the_file_they_came_from(tmp_path):
    folder = tmp_path / "batch-2026-11"
    shutil.copytree(CLEAN_IMPORT, folder)
    call_command("import_records", str(folder), stdout=io.StringIO())
    imported = Client.objects.get(reference="SWK-00002")
    created = changes_of(imported)
    assert {c.reason for c in created} == {"import_records batch-2026-11"}
    assert {c.who for c in created} == {"system"}
    assert any(c.record.startswith("Session") for c in created)

    # A bulk update by a second import is recorded too, with old and new values.
    clients_csv = folder / "clients.csv"
    clients_csv.write_text(clients_csv.read_text().replace("Kyle,Brown", "Kyle,Browne"))
    call_command("import_records", str(folder), stdout=io.StringIO())
    latest = changes_of(imported)[0]
    assert latest.action == "Changed"
    assert ("Last name", "Brown", "Browne") in latest.fields


@pytest.mark.parametrize(
    ("user", "status"),
    [("coordinator_a", 200), ("admin_user", 200), ("coordinator_b", 404), ("manager", 403)],
)
def test_the_history_page_is_for_the_clients_coordinators_and_admins(
    client, case, request, user, status
):
    client.force_login(request.getfixturevalue(user))
    response = client.get(reverse("client_history", args=[case.active.reference]))
    assert response.status_code == status
    if status == 200:
        assert "Change history" in response.content.decode()


def test_mentors_do_not_see_the_history_of_their_clients(client, case, mentor_a):
    client.force_login(mentor_a.user)
    assert client.get(reverse("client_history", args=[case.active.reference])).status_code == 403


def test_the_client_page_links_to_its_history(client, case, coordinator_a):
    client.force_login(coordinator_a)
    page = client.get(reverse("client_detail", args=[case.active.reference]))
    assert reverse("client_history", args=[case.active.reference]) in page.content.decode()


def test_history_page_shows_old_and_new_values_escaped(client, case, coordinator_a):
    client.force_login(coordinator_a)
    client.post(
        reverse("client_edit", args=[case.active.reference]),
        client_form_data(case.active, address="<script>alert(1)</script>"),
    )
    html = client.get(reverse("client_history", args=[case.active.reference])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_history_page_queries_do_not_grow_with_the_number_of_records(client, case, coordinator_a):
    client.force_login(coordinator_a)
    url = reverse("client_history", args=[case.active.reference])
    mentor = case.active.assignments.get().mentor
    factories.SupportSessionFactory(client=case.active, mentor=mentor)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(30):
        factories.SupportSessionFactory(client=case.active, mentor=mentor)
        factories.OffenceFactory(client=case.active)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_admin_history_view_lists_who_changed_a_client(client, case, coordinator_a, admin_user):
    client.force_login(coordinator_a)
    client.post(
        reverse("client_edit", args=[case.active.reference]),
        client_form_data(case.active, last_name="Okafor-Smith"),
    )
    client.force_login(admin_user)
    response = client.get(reverse("admin:mentoring_client_history", args=[case.active.pk]))
    assert response.status_code == 200
    assert "coord_a" in response.content.decode()


def test_subject_access_export_includes_the_history(client, case, coordinator_a):
    client.force_login(coordinator_a)
    client.post(
        reverse("client_edit", args=[case.active.reference]),
        client_form_data(case.active, last_name="Okafor-Smith"),
    )
    response = client.get(reverse("client_export", args=[case.active.reference]) + "?format=json")
    data = json.loads(
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    changes = data["change history"]
    assert any(
        {"field": "Last name", "from": "Okafor", "to": "Okafor-Smith"} in c["changes"]
        for c in changes
    )
    page = client.get(reverse("client_export", args=[case.active.reference]))
    assert "Okafor-Smith" in page.content.decode()


# Many-to-many links: a client's support needs and a session's support areas ---------------


def areas(*names):
    return [SupportArea.objects.get(name=name) for name in names]


def area_names():
    return list(SupportArea.objects.order_by("name").values_list("name", flat=True))


def snapshots(record):
    return type(record).history.filter(id=record.pk).count()


def test_a_change_of_needs_is_one_change_with_the_other_fields(client, case, coordinator_a):
    first, second, third = areas(*area_names()[:3])
    case.active.needs.set([first, second])
    client.force_login(coordinator_a)
    before = snapshots(case.active)
    case.active.refresh_from_db()
    response = client.post(
        reverse("client_edit", args=[case.active.reference]),
        client_form_data(case.active, risk_level="HIGH", needs=[first.pk, third.pk]),
    )
    assert response.status_code == 302
    assert snapshots(case.active) == before + 1  # the form's save and its needs: one change
    latest = changes_of(case.active)[0]
    fields = {label: (old, new) for label, old, new in latest.fields}
    assert fields["Support needs"] == (
        f"{first.name}, {second.name}",
        f"{first.name}, {third.name}",
    )
    assert fields["Risk level"][1] == "High"
    assert latest.who == "coord_a"


def test_a_session_records_its_areas_when_logged_and_when_corrected(client, case, coordinator_a):
    first, second = areas(*area_names()[:2])
    client.force_login(coordinator_a)
    client.post(
        reverse("client_session_new", args=[case.active.reference]),
        session_data(
            mentor=case.active.assignments.get().mentor_id, support_areas=[first.pk, second.pk]
        ),
    )
    session = SupportSession.objects.get(client=case.active)
    assert snapshots(session) == 1
    created = changes_of(case.active)[0]
    assert created.action == "Created"
    assert ("Support areas", "—", f"{first.name}, {second.name}") in created.fields

    client.post(
        reverse("session_edit", args=[session.pk]),
        correction_data(session, start_time="14:30", support_areas=[second.pk]),
    )
    assert snapshots(session) == 2
    corrected = changes_of(case.active)[0]
    assert (corrected.action, corrected.who) == ("Changed", "coord_a")
    assert corrected.fields == [("Support areas", f"{first.name}, {second.name}", second.name)]


def test_an_admin_change_of_needs_is_recorded(client, borough_a, admin_user):
    first, second = areas(*area_names()[:2])
    record = factories.ClientFactory(borough=borough_a)
    record.needs.set([first])
    client.force_login(admin_user)
    url = reverse("admin:mentoring_client_change", args=[record.pk])
    data = client_post_data(
        client.get(url), borough_a, version=record.version, needs=[first.pk, second.pk]
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    latest = changes_of(record)[0]
    assert latest.who == "sos_admin"
    assert ("Support needs", first.name, f"{first.name}, {second.name}") in latest.fields


def test_links_changed_without_a_save_are_a_change_of_their_own(
    case, django_capture_on_commit_callbacks
):
    first, second, third = areas(*area_names()[:3])
    fresh = Client.objects.get(pk=case.active.pk)  # no snapshot taken through this object
    before = snapshots(fresh)
    with django_capture_on_commit_callbacks(execute=True):  # each in its own transaction
        fresh.needs.add(first, second)
    with django_capture_on_commit_callbacks(execute=True):
        fresh.needs.remove(first)
    assert snapshots(fresh) == before + 2
    latest, earlier = changes_of(case.active)[:2]
    assert latest.fields == [("Support needs", f"{first.name}, {second.name}", second.name)]
    assert earlier.fields == [("Support needs", "—", f"{first.name}, {second.name}")]
    assert latest.who == "system"
    # set() takes some away and adds others in one transaction: one change.
    with django_capture_on_commit_callbacks(execute=True):
        fresh.needs.set([third])
    assert snapshots(fresh) == before + 3
    assert changes_of(case.active)[0].fields == [("Support needs", second.name, third.name)]


def test_links_changed_from_the_other_side_are_recorded(case):
    [area] = areas(area_names()[0])
    before = snapshots(case.active)
    area.clients.add(case.active)
    assert snapshots(case.active) == before + 1
    assert changes_of(case.active)[0].fields == [("Support needs", "—", area.name)]
    area.clients.clear()
    assert changes_of(case.active)[0].fields == [("Support needs", area.name, "—")]


def test_a_committed_save_is_not_amended_by_a_later_change_of_links(
    case, django_capture_on_commit_callbacks
):
    [area] = areas(area_names()[0])
    record = Client.objects.get(pk=case.active.pk)
    with django_capture_on_commit_callbacks(execute=True):
        record.risk_level = Client.RiskLevel.HIGH
        record.save()
    before = snapshots(record)
    record.needs.add(area)  # after the save's transaction: a change of its own
    assert snapshots(record) == before + 1
    latest, saved = changes_of(case.active)[:2]
    assert latest.fields == [("Support needs", "—", area.name)]
    assert [label for label, _old, _new in saved.fields] == ["Risk level"]


def test_imported_sessions_record_their_areas_and_bulk_updates_keep_the_last_known(
    tmp_path, client, coordinator_a
):
    folder = tmp_path / "batch"
    shutil.copytree(CLEAN_IMPORT, folder)
    call_command("import_records", str(folder), stdout=io.StringIO())
    with_areas = SupportSession.objects.filter(support_areas__isnull=False).distinct()
    assert with_areas.exists()
    for session in with_areas:
        [snapshot] = session.history.all()
        held = sorted(session.support_areas.values_list("pk", flat=True))
        assert snapshot.many_to_many == {"support_areas": held}
    imported = Client.objects.get(reference="SWK-00002")
    assert imported.history.get().many_to_many == {"needs": []}

    # A re-import's bulk update does not record links; the last known ones stand.
    clients_csv = folder / "clients.csv"
    clients_csv.write_text(clients_csv.read_text().replace("Kyle,Brown", "Kyle,Browne"))
    call_command("import_records", str(folder), stdout=io.StringIO())
    assert imported.history.latest().many_to_many is None
    [area] = areas(area_names()[0])
    Client.objects.get(pk=imported.pk).needs.add(area)
    assert changes_of(imported)[0].fields == [("Support needs", "—", area.name)]


def test_the_migration_records_todays_links_without_showing_a_change(case):
    from django.apps import apps

    record_links = importlib.import_module(
        "mentoring.migrations.0019_history_of_links"
    ).record_links
    [area] = areas(area_names()[0])
    record = Client.objects.get(pk=case.active.pk)
    record.needs.add(area)
    Client.history.filter(id=record.pk).update(many_to_many=None)  # as before 0019
    shown = len(changes_of(case.active))
    record_links(apps, None)
    baseline = Client.history.filter(id=record.pk).latest()
    assert baseline.many_to_many == {"needs": [area.pk]}
    assert baseline.history_change_reason.startswith("links recorded")
    assert len(changes_of(case.active)) == shown  # nothing visible changed
    Client.objects.get(pk=record.pk).needs.clear()
    assert changes_of(case.active)[0].fields == [("Support needs", area.name, "—")]


def test_the_subject_access_export_includes_changes_of_needs(client, case, coordinator_a):
    [area] = areas(area_names()[0])
    Client.objects.get(pk=case.active.pk).needs.add(area)
    client.force_login(coordinator_a)
    response = client.get(reverse("client_export", args=[case.active.reference]) + "?format=json")
    data = json.loads(
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    assert any(
        {"field": "Support needs", "from": "—", "to": area.name} in c["changes"]
        for c in data["change history"]
    )


# Access: who could see which boroughs, and who changed it ---------------------------------


def test_a_change_of_a_coordinators_boroughs_is_kept_with_who_and_when(
    client, admin_user, coordinator_a, borough_a, borough_b
):
    profile = coordinator_a.staff_profile
    client.force_login(admin_user)
    url = reverse("admin:mentoring_staffprofile_change", args=[profile.pk])
    response = client.post(
        url,
        {"user": coordinator_a.pk, "role": profile.role, "boroughs": [borough_a.pk, borough_b.pk]},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    latest = profile.history.latest()
    assert latest.history_user == admin_user
    assert latest.many_to_many == {"boroughs": sorted([borough_a.pk, borough_b.pk])}
    assert profile.history.count() == 2  # created, then this change: one snapshot each

    page = client.get(reverse("admin:mentoring_staffprofile_history", args=[profile.pk]))
    html = page.content.decode()
    assert ", ".join(sorted([borough_a.name, borough_b.name])) in html
    assert "sos_admin" in html
    assert f"<td>{profile.get_role_display()}</td>" in html


def assert_history_page_queries_stay_fixed(client, admin_user, record, edit):
    """The record's admin History page costs the same with 2 snapshots as with 12."""
    client.force_login(admin_user)
    url = reverse(f"admin:mentoring_{record._meta.model_name}_history", args=[record.pk])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    edit(1)
    queries()  # the first also fills Django's content type cache
    few = queries()
    edit(10)
    assert record.history.count() >= 12
    assert queries() == few


def test_staff_access_history_reads_the_boroughs_names_once_a_page(
    client, admin_user, coordinator_a, borough_a, borough_b
):
    """The boroughs' names are read once for the page, not once a snapshot."""
    profile = coordinator_a.staff_profile

    def change_boroughs(times):
        for n in range(times):
            profile.boroughs.set([borough_a, borough_b] if n % 2 else [borough_b])
            profile.save()

    assert_history_page_queries_stay_fixed(client, admin_user, profile, change_boroughs)


@pytest.mark.parametrize(
    ("make", "change"),
    [
        (factories.SupportSessionFactory, "notes"),
        (factories.AssignmentFactory, "notes"),
        (factories.OffenceFactory, "notes"),
        (factories.MilestoneFactory, "notes"),
        (factories.GoalFactory, "description"),
    ],
)
def test_admin_history_pages_run_the_same_queries_for_2_snapshots_or_12(
    client, admin_user, make, change
):
    """Each snapshot's name (its client's reference, its mentor) is not read once a row."""
    record = make()

    def edit(times):
        for n in range(times):
            setattr(record, change, f"Edited {n}")
            record.save()

    assert_history_page_queries_stay_fixed(client, admin_user, record, edit)


def test_the_migration_gives_each_profile_a_first_snapshot_of_its_access(coordinator_a, borough_a):
    from django.apps import apps

    record_access = importlib.import_module(
        "mentoring.migrations.0021_staff_access_history"
    ).record_access
    profile = coordinator_a.staff_profile
    profile.history.all().delete()  # as before 0021
    record_access(apps, None)
    [first] = profile.history.all()
    assert first.many_to_many == {"boroughs": [borough_a.pk]}
    assert first.role == profile.role


def test_a_check_in_and_its_correction_are_in_the_clients_history(borough_a):
    person = factories.ClientFactory(borough=borough_a, closed=True)
    check_in = factories.FollowUpFactory(
        client=person, reached=False, in_ete=None, stable_accommodation=None, new_offence_told=None
    )
    check_in.reached, check_in.in_ete = True, True
    check_in.stable_accommodation, check_in.new_offence_told = True, False
    check_in.save()
    changes = [c for c in history.client_changes(person) if "check-in" in c.record]
    assert [c.record for c in changes] == ["The 3-month check-in"] * 2
    assert [c.action for c in changes] == ["Changed", "Created"]
    assert ("Reached", "No", "Yes") in [
        (label.capitalize(), old, new) for label, old, new in changes[0].fields
    ]
