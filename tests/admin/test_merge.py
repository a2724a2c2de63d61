"""
Two records of one young person brought together by an admin: everything the other record
held moves to the one kept, nothing else changes, the history says so, and a merge that
would break a rule writes nothing. Two records brought together by mistake are separated
again: the record brought in comes back as it was, with what the merge moved, and what was
added to the kept record since stays there.
"""

import datetime
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client as Browser
from django.urls import reverse

from mentoring import history, metrics, services, subject_access, summaries
from mentoring.models import (
    AccessLog,
    Assignment,
    Borough,
    Client,
    FormerReference,
    Goal,
    Milestone,
    Offence,
    PathwayStep,
    Placement,
    SupportArea,
    SupportSession,
)

from .. import factories
from ..helpers import fresh_dashboard

pytestmark = pytest.mark.django_db

BORN = datetime.date(2004, 3, 1)
REASON = "same young person, referred again by the YOT"


def merge_url(first, second):
    return reverse("admin:mentoring_client_merge", args=[first.pk, second.pk])


@pytest.fixture
def pair(borough_a, borough_b, admin_user):
    """
    Kai Brown's record in borough A (kept) and a second one in borough B, "kai Browne",
    with a past mentor, sessions, an offence, a milestone, a goal, a placement, a support
    need and a line in the access log.
    """
    keep = factories.ClientFactory(
        borough=borough_a,
        first_name="Kai",
        last_name="Brown",
        date_of_birth=BORN,
        referred_on=datetime.date(2023, 1, 10),
        active=True,
    )
    other = factories.ClientFactory(
        borough=borough_b,
        first_name="kai",
        last_name="Browne",
        date_of_birth=BORN,
        referred_on=datetime.date(2023, 2, 1),
        active=True,
    )
    mentor = factories.MentorFactory(home_borough=borough_b)
    records = {
        "assignment": factories.AssignmentFactory(
            client=other,
            mentor=mentor,
            ended_on=datetime.date(2023, 6, 1),
            end_reason=Assignment.EndReason.CLIENT_REQUEST,
        ),
        "sessions": [
            factories.SupportSessionFactory(
                client=other, mentor=mentor, date=other.started_on + datetime.timedelta(weeks=n)
            )
            for n in range(3)
        ],
        "offence": factories.OffenceFactory(
            client=other,
            offence_date=datetime.date(2023, 9, 1),
            outcome_date=datetime.date(2023, 10, 1),
        ),
        "milestone": factories.MilestoneFactory(
            client=other, achieved_on=datetime.date(2023, 5, 1)
        ),
        "goal": factories.GoalFactory(client=other, set_on=datetime.date(2023, 3, 1)),
        "placement": factories.PlacementFactory(client=other, started_on=datetime.date(2023, 4, 3)),
    }
    need = SupportArea.objects.order_by("pk").last()
    other.needs.add(need)
    services.log_access(user=admin_user, client=other, action=AccessLog.Action.VIEW)
    return keep, other, records, need


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_everything_moves_to_the_record_kept_and_the_other_is_deleted(admin_client, pair):
    keep, other, records, need = pair
    version = keep.version
    page = admin_client.get(merge_url(keep, other))
    assert page.status_code == 200
    body = page.content.decode()
    assert keep.reference in body and other.reference in body
    response = admin_client.post(merge_url(keep, other), {"keep": keep.pk, "reason": REASON})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:mentoring_client_change", args=[keep.pk])
    assert not Client.objects.filter(pk=other.pk).exists()
    moved = [
        records["assignment"],
        *records["sessions"],
        records["offence"],
        records["milestone"],
        records["goal"],
        records["placement"],
    ]
    for record in moved:
        record.refresh_from_db()
        assert record.client_id == keep.pk, record
        latest = type(record).history.filter(id=record.pk).latest("history_id")
        assert latest.history_change_reason == (
            f"{other.reference} brought into {keep.reference}: {REASON}"
        )
    keep.refresh_from_db()
    assert keep.version == version + 1  # a form opened on it before is refused
    assert (keep.first_name, keep.last_name, keep.borough_id) == ("Kai", "Brown", keep.borough_id)
    assert need in keep.needs.all()
    [line] = AccessLog.objects.filter(client=keep)
    assert line.client_reference == other.reference  # the log still says what was read
    gone = Client.history.filter(id=other.pk).latest("history_id")
    assert gone.history_type == "-" and keep.reference in gone.history_change_reason
    follow = admin_client.get(response["Location"]).content.decode()
    assert (
        f"{other.reference} was brought into {keep.reference} (1 assignment, 3 sessions, "
        "1 offence, 1 milestone, 1 goal, 1 placement moved) and deleted." in follow
    )


def test_pathway_steps_and_the_mentor_follow_the_young_person(pair):
    """Nothing of the peer pathway is lost with the record deleted."""
    keep, other, _, _ = pair
    step = factories.PathwayStepFactory(client=other, reached_on=datetime.date(2024, 2, 5))
    mentor = services.client_becomes_mentor(
        client=other, started_on=datetime.date(2024, 9, 2), confirmed=True
    )
    moved = services.clients_merge(keep=keep, other=other, reason=REASON)
    assert moved["pathway steps"] == 2  # volunteering, and the step "peer mentor"
    step.refresh_from_db()
    mentor.refresh_from_db()
    assert step.client == keep
    assert mentor.former_client == keep and mentor.was_client


@pytest.mark.parametrize("clash", ["same step", "both mentors"])
def test_a_pathway_that_clashes_writes_nothing(pair, clash):
    keep, other, _, _ = pair
    if clash == "same step":
        for person in (keep, other):
            factories.PathwayStepFactory(client=person, reached_on=datetime.date(2024, 2, 5))
        message = f"{keep.reference} has this step of the pathway too"
    else:
        for person in (keep, other):
            services.client_becomes_mentor(
                client=person, started_on=datetime.date(2024, 9, 2), confirmed=True
            )
        message = "became mentors"
    before = everything(keep, other)
    with pytest.raises(ValidationError, match=message):
        services.clients_merge(keep=keep, other=other, reason=REASON)
    assert Client.objects.filter(pk=other.pk).exists()
    assert everything(keep, other) == before


def test_the_figures_follow_the_records_into_the_other_borough(admin_client, pair):
    """The summaries and each borough's cached figures are kept by triggers on the move."""
    keep, other, _, _ = pair
    network = Borough.objects.all()
    today = datetime.date.today()
    metrics.dashboard(network, today)  # cached before
    services.clients_merge(keep=keep, other=other, reason=REASON)
    assert summaries.differences() == []
    assert metrics.dashboard(network, today) == fresh_dashboard(network, today)
    assert {keep.borough, other.borough} == set(network)
    for borough in network:
        assert metrics.dashboard(borough, today) == fresh_dashboard(borough, today)


def everything(*clients):
    ids = [c.pk for c in clients]
    return {
        model.__name__: sorted(model.objects.filter(client__in=ids).values_list("pk", "client"))
        for model in (Assignment, SupportSession, Offence, Milestone, Goal, Placement, PathwayStep)
    }


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"last_name": "Smith", "first_name": "Jo"},
            "do not share a date of birth and a first or last name",
        ),
        (
            {"referred_on": datetime.date(2023, 6, 1), "started_on": datetime.date(2023, 6, 15)},
            "would break a rule on",
        ),
        ("both mentored", "Both"),
        ("closed with a mentor", "would break a rule on"),
    ],
)
def test_a_merge_that_would_break_a_rule_writes_nothing(admin_client, pair, change, message):
    keep, other, records, _ = pair
    if change == "both mentored":
        factories.AssignmentFactory(client=keep, mentor=factories.MentorFactory())
        factories.AssignmentFactory(client=other, mentor=records["assignment"].mentor)
    elif change == "closed with a mentor":
        factories.AssignmentFactory(client=other, mentor=records["assignment"].mentor)
        Client.objects.filter(pk=keep.pk).update(
            status=Client.Status.CLOSED,
            ended_on=datetime.date(2025, 1, 1),
            closure_reason=Client.ClosureReason.COMPLETED,
        )
    else:
        Client.objects.filter(pk=keep.pk).update(**change)
    before = everything(keep, other)
    response = admin_client.post(merge_url(keep, other), {"keep": keep.pk, "reason": REASON})
    assert response.status_code == 200
    [error, *details] = response.context["form"].non_field_errors()
    assert message in error
    if change == "closed with a mentor":
        assert any(f"{keep.reference}'s case is not active" in d for d in details)
    elif "break a rule" in message:
        # Sessions, a milestone and a goal before the new referral date, each named.
        assert any(
            d.startswith(f"{other.reference}: ")
            and "Milestones count from the referral date onwards." in d
            for d in details
        )
    assert Client.objects.filter(pk=other.pk).exists()
    assert everything(keep, other) == before


def test_the_reason_is_required(admin_client, pair):
    keep, other, _, _ = pair
    response = admin_client.post(merge_url(keep, other), {"keep": keep.pk, "reason": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert Client.objects.filter(pk=other.pk).exists()


def test_the_other_record_can_be_the_one_kept(admin_client, pair):
    keep, other, records, _ = pair
    response = admin_client.post(
        merge_url(keep, other), {"keep": other.pk, "reason": REASON}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(
        "admin:mentoring_client_change", args=[other.pk]
    )
    assert (
        f"{keep.reference} was brought into {other.reference} (it held no other records)"
        in response.content.decode()
    )
    assert not Client.objects.filter(pk=keep.pk).exists()
    records["goal"].refresh_from_db()
    assert records["goal"].client_id == other.pk


def test_the_list_action_opens_the_page_with_the_earlier_referral_first(admin_client, pair):
    keep, other, _, _ = pair
    url = reverse("admin:mentoring_client_changelist")
    chosen = {"action": "bring_together", "_selected_action": [other.pk, keep.pk]}
    response = admin_client.post(url, chosen)
    assert response.status_code == 302
    assert response["Location"] == merge_url(keep, other)
    response = admin_client.post(url, {**chosen, "_selected_action": [keep.pk]}, follow=True)
    assert "Choose exactly two records" in response.content.decode()


def test_staff_without_the_right_to_delete_clients_cannot_merge(client, pair):
    keep, other, _, _ = pair
    clerk = factories.UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_client", "change_client"])
    )
    client.force_login(clerk)
    assert client.get(merge_url(keep, other)).status_code == 403
    assert (
        client.post(merge_url(keep, other), {"keep": keep.pk, "reason": REASON}).status_code == 403
    )
    assert Client.objects.filter(pk=other.pk).exists()


def test_an_unknown_or_repeated_record_is_not_found(admin_client, pair):
    keep, _, _, _ = pair
    assert admin_client.get(merge_url(keep, keep)).status_code == 404
    missing = reverse("admin:mentoring_client_merge", args=[keep.pk, 999999])
    assert admin_client.get(missing).status_code == 404


def test_the_kept_records_history_shows_what_was_brought_in_and_from_where(pair):
    keep, other, records, _ = pair
    session = records["sessions"][0]
    session.notes = "Met at the library."
    session.save()  # a change made on the other record, before the merge
    services.clients_merge(keep=keep, other=other, reason=REASON)
    changes = [c for c in history.client_changes(keep) if c.record == session_label(session)]
    moved, edited, created = changes  # newest first
    assert moved.reason == f"{other.reference} brought into {keep.reference}: {REASON}"
    assert moved.fields == [("Client record", other.reference, keep.reference)]
    assert ("Notes", "—", "Met at the library.") in edited.fields
    assert created.action == "Created"


def session_label(session):
    return f"Session of {session.date:%d/%m/%Y}"


def test_a_record_moved_away_takes_its_later_history_with_it(pair):
    """Moved by hand to another client: what happens to it there is not shown here."""
    keep, other, records, _ = pair
    session = records["sessions"][0]
    session.client = keep
    session.save()
    session.notes = "Written after the move."
    session.save()
    before = [c for c in history.client_changes(other) if c.record == session_label(session)]
    assert [c.action for c in before] == ["Created"]
    after = [c for c in history.client_changes(keep) if c.record == session_label(session)]
    assert [c.fields[0][0] for c in after[:2]] == ["Notes", "Client record"]


# The reference of the record brought in ------------------------------------------------


def an_earlier_record(borough):
    """A third record of Kai Brown, referred before both of the pair."""
    return factories.ClientFactory(
        borough=borough,
        first_name="Kai",
        last_name="Brown",
        date_of_birth=BORN,
        referred_on=datetime.date(2022, 12, 1),
    )


@pytest.fixture
def merged(pair):
    keep, other, records, _ = pair
    services.clients_merge(keep=keep, other=other, reason=REASON)
    return keep, other.reference, records


def test_an_old_link_leads_to_the_record_kept_for_those_who_may_see_it(
    client, merged, coordinator_a, coordinator_b
):
    keep, old, _ = merged
    old_link = reverse("client_detail", args=[old])
    client.force_login(coordinator_a)
    response = client.get(old_link)
    assert response.status_code == 302
    assert response["Location"] == reverse("client_detail", args=[keep.reference])
    page = client.get(response["Location"]).content.decode()
    assert f"{keep.reference} (formerly {old})" in page
    # Borough B's coordinator saw the old record, but may not see the one kept.
    client.force_login(coordinator_b)
    assert client.get(old_link).status_code == 404


def client_pages():
    """Every URL pattern of one client's pages: the ones addressed by its reference."""
    from mentoring.urls import urlpatterns

    return [p.name for p in urlpatterns if "<str:reference>" in str(p.pattern)]


# The pages addressed by more than the reference: what follows it in their address.
MORE_ARGS = {"followup_record": [3]}


def client_page(name, reference):
    return reverse(name, args=[reference, *MORE_ARGS.get(name, [])])


def test_every_page_of_a_client_follows_an_old_link(client, merged, coordinator_a, coordinator_b):
    """
    Not only the client page: a bookmarked form or the history page by the old reference
    leads to the same page of the record kept, query string and all. Pages that only take
    a POST answer 405 to a GET whatever the reference; a POST to the old address is not
    sent on, since it was meant for a record that is no longer there.
    """
    keep, old, _ = merged
    pages = client_pages()
    assert len(pages) == 19
    client.force_login(coordinator_a)
    followed = []
    for name in pages:
        response = client.get(client_page(name, old), {"page": "2"})
        if response.status_code == 405:
            continue
        assert response.status_code == 302, name
        assert response["Location"] == client_page(name, keep.reference) + "?page=2", name
        followed.append(name)
    assert len(followed) >= 12
    assert "client_history" in followed and "client_session_new" in followed
    assert client.post(reverse("client_edit", args=[old]), {}).status_code == 404
    client.force_login(coordinator_b)
    for name in followed:
        assert client.get(client_page(name, old)).status_code == 404, name


def test_the_old_reference_finds_the_record_kept(admin_client, merged, coordinator_a):
    keep, old, _ = merged
    coordinator = Browser()
    coordinator.force_login(coordinator_a)
    response = coordinator.get(reverse("client_list"), {"q": old.lower()})
    assert [c.pk for c in response.context["page"].object_list] == [keep.pk]
    response = admin_client.get(reverse("admin:mentoring_client_changelist"), {"q": old})
    assert list(response.context["cl"].result_list) == [keep]
    change = admin_client.get(reverse("admin:mentoring_client_change", args=[keep.pk]))
    assert old in change.content.decode()


def test_bringing_the_kept_record_into_a_third_takes_its_former_references_along(merged, borough_a):
    keep, old, _ = merged
    third = an_earlier_record(borough_a)
    services.clients_merge(keep=third, other=keep, reason=REASON)
    assert sorted(third.former_references.values_list("reference", flat=True)) == sorted(
        [old, keep.reference]
    )


def test_a_reimport_of_the_record_brought_in_changes_nothing_and_says_so(
    merged, tmp_path, borough_b
):
    keep, old, records = merged
    session = records["sessions"][0]
    (tmp_path / "clients.csv").write_text(
        "reference,first_name,last_name,date_of_birth,borough,referral_source,referred_on\n"
        f"{old},kai,Browne,2004-03-01,{borough_b.slug},PROBATION,2023-02-01\n"
    )
    (tmp_path / "sessions.csv").write_text(
        "client,mentor,date,duration_minutes\n"
        f"{old},{session.mentor.reference},{session.date.isoformat()},{session.duration_minutes}\n"
    )
    before = everything(keep)
    out = io.StringIO()
    call_command("import_records", str(tmp_path), stdout=out, stderr=io.StringIO())
    output = out.getvalue()
    assert f"clients.csv:2: {old} was brought into {keep.reference}" in output
    assert "sessions.csv: 1 rows: 1 already present" in output
    assert not Client.objects.filter(reference=old).exists()
    assert everything(keep) == before


def test_the_subject_access_export_names_the_former_references(merged):
    keep, old, records = merged
    data = subject_access.subject_access(keep)
    assert data["client"]["former references"] == [old]
    assert len(data["support sessions"]) == len(records["sessions"])


# Separating two records brought together by mistake ------------------------------------

WHY = "two young people: twins, told apart by the YOT"


def separate_url(keep, reference):
    return reverse("admin:mentoring_client_separate", args=[keep.pk, reference])


def state(client):
    """A client record's own details, as a form or an export would read them."""
    client = Client.objects.get(pk=client.pk)
    return {
        "row": {
            f.attname: getattr(client, f.attname)
            for f in Client._meta.concrete_fields
            if f.attname not in ("version", "updated_at")
        },
        "needs": sorted(client.needs.values_list("pk", flat=True)),
        "formerly": sorted(client.former_references.values_list("reference", flat=True)),
        "log": sorted(AccessLog.objects.filter(client=client).values_list("pk", flat=True)),
    }


@pytest.fixture
def before(pair):
    """The pair's state before they are brought together, then brought together."""
    keep, other, records, _ = pair
    keep.needs.add(SupportArea.objects.order_by("pk").first())
    taken = {"keep": state(keep), "other": state(other), "records": everything(keep, other)}
    services.clients_merge(keep=keep, other=other, reason=REASON)
    return keep, other, records, taken


def test_separating_restores_both_records_as_they_were(before):
    keep, other, records, taken = before
    restored, moved = services.clients_separate(keep=keep, reference=other.reference, reason=WHY)
    assert restored.pk == other.pk and restored.reference == other.reference
    assert moved == {
        "assignments": 1,
        "sessions": 3,
        "offences": 1,
        "milestones": 1,
        "goals": 1,
        "placements": 1,
        "check-ins": 0,
        "pathway steps": 0,
    }
    assert state(other) == taken["other"]
    assert state(keep) == taken["keep"]
    assert everything(keep, other) == taken["records"]
    note = f"{other.reference} separated from {keep.reference}: {WHY}"
    for record in records["sessions"]:
        assert record.history.latest("history_id").history_change_reason == note
    assert Client.history.filter(id=other.pk).latest("history_id").history_change_reason == note
    assert keep.history.latest("history_id").history_change_reason == note


def test_records_added_to_the_kept_record_since_stay_there(before):
    keep, other, records, taken = before
    mentor = records["sessions"][0].mentor
    later = factories.SupportSessionFactory(client=keep, mentor=mentor, date=datetime.date.today())
    services.clients_separate(keep=keep, reference=other.reference, reason=WHY)
    later.refresh_from_db()
    assert later.client_id == keep.pk
    assert everything(other) == {
        name: [row for row in rows if row[1] == other.pk] for name, rows in taken["records"].items()
    }


def test_the_old_reference_is_the_records_own_again(client, before, coordinator_a):
    keep, other, _, _ = before
    services.clients_separate(keep=keep, reference=other.reference, reason=WHY)
    assert not FormerReference.objects.filter(reference=other.reference).exists()
    client.force_login(coordinator_a)  # borough A's: the restored record is borough B's
    assert client.get(reverse("client_detail", args=[other.reference])).status_code == 404


def test_the_figures_follow_the_records_back(before):
    keep, other, _, _ = before
    network = Borough.objects.all()
    today = datetime.date.today()
    metrics.dashboard(network, today)
    services.clients_separate(keep=keep, reference=other.reference, reason=WHY)
    assert summaries.differences() == []
    assert metrics.dashboard(network, today) == fresh_dashboard(network, today)
    assert {keep.borough, other.borough} == set(network)
    for borough in network:
        assert metrics.dashboard(borough, today) == fresh_dashboard(borough, today)


def test_the_history_of_the_restored_record_shows_both_moves(before):
    keep, other, records, _ = before
    restored, _ = services.clients_separate(keep=keep, reference=other.reference, reason=WHY)
    changes = history.client_changes(restored)
    assert [c.action for c in changes if c.record == "Client record"][:2] == ["Created", "Deleted"]
    moves = [
        row
        for c in changes
        if c.record.startswith("Session")
        for row in c.fields
        if row[0] == "Client record"
    ]
    assert ("Client record", other.reference, keep.reference) in moves  # brought in
    assert ("Client record", keep.reference, other.reference) in moves  # and back
    assert len(moves) == 2 * len(records["sessions"])


def test_records_separate_in_the_reverse_order_of_bringing_them_together(before, borough_a):
    keep, other, _, taken = before
    third = an_earlier_record(borough_a)
    services.clients_merge(keep=third, other=keep, reason=REASON)
    with pytest.raises(ValidationError, match="only the latest record brought into"):
        services.clients_separate(keep=third, reference=other.reference, reason=WHY)
    restored, _ = services.clients_separate(keep=third, reference=keep.reference, reason=WHY)
    # keep takes back the former reference it had brought along, then gives it up.
    assert list(restored.former_references.values_list("reference", flat=True)) == [other.reference]
    services.clients_separate(keep=restored, reference=other.reference, reason=WHY)
    assert everything(keep, other) == taken["records"]


def test_a_record_changed_since_so_that_it_breaks_a_rule_writes_nothing(before):
    keep, other, records, _ = before
    session = records["sessions"][0]
    session.refresh_from_db()  # on keep now
    session.date = other.referred_on - datetime.timedelta(days=3)  # before other's referral
    session.save()
    stamp = everything(keep)
    with pytest.raises(ValidationError, match="would break a rule on"):
        services.clients_separate(keep=keep, reference=other.reference, reason=WHY)
    assert not Client.objects.filter(pk=other.pk).exists()
    assert everything(keep) == stamp
    assert FormerReference.objects.filter(reference=other.reference, client=keep).exists()


def test_a_reference_that_was_never_brought_in_is_refused(before):
    keep, _, _, _ = before
    with pytest.raises(ValidationError, match="was not brought into"):
        services.clients_separate(keep=keep, reference="SWK-99999", reason=WHY)


# The admin page --------------------------------------------------------------------------


def test_the_admin_separates_from_the_kept_records_page(admin_client, before):
    keep, other, _, taken = before
    change = admin_client.get(reverse("admin:mentoring_client_change", args=[keep.pk]))
    assert separate_url(keep, other.reference) in change.content.decode()
    page = admin_client.get(separate_url(keep, other.reference))
    assert page.status_code == 200
    assert ("Sessions", 3) in page.context["records"]
    assert "kai Browne" in page.content.decode()
    assert admin_client.post(separate_url(keep, other.reference), {"reason": ""}).status_code == 200
    assert not Client.objects.filter(pk=other.pk).exists()
    response = admin_client.post(separate_url(keep, other.reference), {"reason": WHY})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:mentoring_client_change", args=[other.pk])
    assert everything(keep, other) == taken["records"]
    follow = admin_client.get(response["Location"]).content.decode()
    assert f"{other.reference} was separated from {keep.reference} again" in follow


def test_the_admin_page_names_a_refusal(admin_client, before):
    keep, other, records, _ = before
    session = records["sessions"][0]
    session.refresh_from_db()  # on keep now
    session.date = other.referred_on - datetime.timedelta(days=3)
    session.save()
    page = admin_client.post(separate_url(keep, other.reference), {"reason": WHY})
    assert page.status_code == 200
    assert "would break a rule on" in page.content.decode()
    assert admin_client.get(separate_url(keep, "SWK-99999")).status_code == 404


def test_staff_without_the_right_to_add_and_change_clients_cannot_separate(client, before):
    keep, other, _, _ = before
    staff = factories.UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="change_client"))
    client.force_login(staff)
    assert client.get(separate_url(keep, other.reference)).status_code == 403
    assert client.post(separate_url(keep, other.reference), {"reason": WHY}).status_code == 403
    assert not Client.objects.filter(pk=other.pk).exists()


def completed_record(borough, ended_on):
    """A record of Kai Brown whose case closed as completed on ``ended_on``."""
    return factories.ClientFactory(
        borough=borough,
        first_name="Kai",
        last_name="Brown",
        date_of_birth=BORN,
        referred_on=ended_on - datetime.timedelta(days=300),
        started_on=ended_on - datetime.timedelta(days=290),
        ended_on=ended_on,
        status="CLOSED",
        closure_reason="COMPLETED",
    )


def test_check_ins_move_with_the_record_brought_in(borough_a):
    ended = datetime.date(2025, 1, 10)
    keep, other = completed_record(borough_a, ended), completed_record(borough_a, ended)
    factories.FollowUpFactory(client=keep, point=3)
    moved = factories.FollowUpFactory(client=other, point=6, note="At college.")
    counts = services.clients_merge(keep=keep, other=other, reason=REASON)
    assert counts["check-ins"] == 1
    moved.refresh_from_db()
    assert moved.client == keep
    assert sorted(keep.followups.values_list("point", flat=True)) == [3, 6]


def test_two_check_ins_at_one_point_are_refused_and_nothing_moves(borough_a):
    ended = datetime.date(2025, 1, 10)
    keep, other = completed_record(borough_a, ended), completed_record(borough_a, ended)
    factories.FollowUpFactory(client=keep, point=3)
    factories.FollowUpFactory(client=other, point=3)
    with pytest.raises(ValidationError) as refused:
        services.clients_merge(keep=keep, other=other, reason=REASON)
    assert f"{keep.reference} has its 3-month check-in already" in " ".join(refused.value.messages)
    assert other.followups.count() == 1
    assert Client.objects.filter(pk=other.pk).exists()
