"""
Follow-up check-ins after a completed case: the coordinator's "Follow-ups due" queue on
the home page, the form that records one, its correction, the client page's section, and
the dashboards' figures. Scoped like every client record.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from mentoring import retention, services
from mentoring.models import Client, FollowUp

from .. import factories
from ..helpers import count_queries, days_ago, dmy, inline_errors, messages_of, snapshot, today

pytestmark = pytest.mark.django_db


def completed(borough, ended_days_ago, **extra):
    ended = days_ago(ended_days_ago)
    return factories.ClientFactory(
        borough=borough,
        status=Client.Status.CLOSED,
        referred_on=ended - timedelta(days=300),
        started_on=ended - timedelta(days=290),
        ended_on=ended,
        **{"closure_reason": Client.ClosureReason.COMPLETED, **extra},
    )


def due_in(borough, days_from_now, point=3, **extra):
    """A completed case whose check-in at ``point`` months is due ``days_from_now``."""
    offset = {3: 91, 6: 182, 12: 365}[point]
    return completed(borough, offset - days_from_now, **extra)


def reached(**overrides):
    return {
        "done_on": dmy(today()),
        "reached": "True",
        "in_ete": "True",
        "stable_accommodation": "False",
        "new_offence_told": "False",
        "note": "Working at the depot; sofa-surfing at a cousin's.",
        **overrides,
    }


def record_url(client, point=3):
    return reverse("followup_record", args=[client.reference, point])


def queue(page_client):
    return [
        (entry["client"].reference, entry["point"])
        for entry in page_client.get(reverse("home")).context["followups_due"]
    ]


class TestQueue:
    @pytest.mark.parametrize(
        ("days_from_now", "shown"),
        [
            pytest.param(-31, False, id="due-31-days-ago"),
            pytest.param(-30, True, id="due-30-days-ago"),
            pytest.param(0, True, id="due-today"),
            pytest.param(7, True, id="due-in-7-days"),
            pytest.param(8, False, id="due-in-8-days"),
        ],
    )
    @pytest.mark.parametrize("point", [3, 6, 12])
    def test_due_in_the_last_30_days_or_the_next_7(
        self, client, coordinator_a, borough_a, days_from_now, shown, point
    ):
        case = due_in(borough_a, days_from_now, point)
        client.force_login(coordinator_a)
        assert queue(client) == ([(case.reference, point)] if shown else [])

    def test_oldest_due_first_across_points(self, client, coordinator_a, borough_a):
        late_12 = due_in(borough_a, -20, 12)
        soon_3 = due_in(borough_a, 5, 3)
        late_6 = due_in(borough_a, -10, 6)
        today_3 = due_in(borough_a, 0, 3)
        client.force_login(coordinator_a)
        assert queue(client) == [
            (late_12.reference, 12),
            (late_6.reference, 6),
            (today_3.reference, 3),
            (soon_3.reference, 3),
        ]
        page = client.get(reverse("home")).content.decode()
        assert "Follow-ups due" in page
        assert "Overdue" in page

    def test_a_recorded_check_in_leaves_the_queue(self, client, coordinator_a, borough_a):
        case = due_in(borough_a, -3)
        FollowUp.objects.create(client=case, point=3, done_on=today(), reached=False)
        client.force_login(coordinator_a)
        assert queue(client) == []

    def test_only_completed_cases_and_only_the_users_areas(
        self, client, coordinator_a, borough_a, borough_b
    ):
        mine = due_in(borough_a, -1)
        due_in(borough_b, -1)
        due_in(borough_a, -1, closure_reason=Client.ClosureReason.DISENGAGED)
        client.force_login(coordinator_a)
        assert queue(client) == [(mine.reference, 3)]

    def test_the_count_covers_more_than_are_shown(self, client, coordinator_a, borough_a):
        for n in range(12):
            due_in(borough_a, -n)
        client.force_login(coordinator_a)
        response = client.get(reverse("home"))
        assert len(response.context["followups_due"]) == 10
        assert response.context["followups_due_total"] == 12
        link = f'<a href="{reverse("client_list")}?followup_due=1">See all 12</a>'
        assert link in response.content.decode()

    def test_the_client_list_shows_every_one_due_in_the_users_areas(
        self, client, coordinator_a, borough_a, borough_b
    ):
        due = [due_in(borough_a, -n, point) for n, point in ((30, 3), (0, 6), (-7, 12))]
        recorded = due_in(borough_a, -3)
        FollowUp.objects.create(client=recorded, point=3, done_on=today(), reached=False)
        due_in(borough_a, 8)  # not yet
        due_in(borough_a, -31)  # long overdue: not in the window
        due_in(borough_b, -1)  # another area
        factories.ClientFactory(borough=borough_a, active=True)
        client.force_login(coordinator_a)
        response = client.get(reverse("client_list"), {"followup_due": "1"})
        listed = {c.reference for c in response.context["page"].object_list}
        assert listed == {c.reference for c in due}
        assert 'name="followup_due" value="1" checked' in response.content.decode()

    def test_the_list_filter_adds_no_query(self, client, coordinator_a, borough_a):
        for n in range(3):
            due_in(borough_a, -n)
        client.force_login(coordinator_a)
        counts = [
            count_queries(client, reverse("client_list") + query)
            for query in ("", "?followup_due=1")
        ]
        assert counts[0] == counts[1]

    def test_a_mentor_has_no_queue(self, client, mentor_a, borough_a):
        due_in(borough_a, -1)
        client.force_login(mentor_a.user)
        assert "followups_due" not in client.get(reverse("home")).context

    def test_the_record_button_comes_back_home(self, client, coordinator_a, borough_a):
        case = due_in(borough_a, -2)
        client.force_login(coordinator_a)
        page = client.get(reverse("home")).content.decode()
        link = record_url(case) + "?next=/"
        assert link in page
        response = client.post(link, reached(next="/"))
        assert response.status_code == 302
        assert response["Location"] == "/"
        assert queue(client) == []


class TestRecord:
    def test_a_check_in_that_reached_them(self, client, coordinator_a, borough_a):
        case = due_in(borough_a, -2)
        client.force_login(coordinator_a)
        assert client.get(record_url(case)).status_code == 200
        response = client.post(record_url(case), reached())
        assert response.status_code == 302
        assert response["Location"] == reverse("client_detail", args=[case.reference])
        assert messages_of(response) == [
            ("success", f"The 3-month check-in is recorded for {case.reference}.")
        ]
        done = FollowUp.objects.get()
        assert (done.client, done.point, done.done_on, done.reached) == (case, 3, today(), True)
        assert (done.in_ete, done.stable_accommodation, done.new_offence_told) == (
            True,
            False,
            False,
        )
        assert done.recorded_by == coordinator_a
        assert done.history.count() == 1

    def test_not_reached_keeps_no_answers(self, client, coordinator_a, borough_a):
        case = due_in(borough_a, -2)
        client.force_login(coordinator_a)
        response = client.post(record_url(case), reached(reached="False", note="No answer."))
        assert response.status_code == 302
        done = FollowUp.objects.get()
        assert done.reached is False
        assert (done.in_ete, done.stable_accommodation, done.new_offence_told) == (
            None,
            None,
            None,
        )

    @pytest.mark.parametrize("field", ["in_ete", "stable_accommodation", "new_offence_told"])
    def test_reached_needs_every_answer(self, client, coordinator_a, borough_a, field):
        case = due_in(borough_a, -2)
        client.force_login(coordinator_a)
        response = client.post(record_url(case), reached(**{field: ""}))
        assert response.status_code == 200
        assert inline_errors(response, field) == ["Answer yes or no: they were reached."]
        assert not FollowUp.objects.exists()

    def test_reached_must_be_answered(self, client, coordinator_a, borough_a):
        case = due_in(borough_a, -2)
        client.force_login(coordinator_a)
        response = client.post(record_url(case), reached(reached=""))
        assert inline_errors(response, "reached") == ["Answer yes or no."]
        assert not FollowUp.objects.exists()

    @pytest.mark.parametrize(
        ("done_on", "error"),
        [
            pytest.param(lambda case: case.ended_on, "A check-in comes after", id="on-close"),
            pytest.param(lambda case: today() + timedelta(days=1), "in the future", id="future"),
        ],
    )
    def test_dates_after_the_close_and_not_in_the_future(
        self, client, coordinator_a, borough_a, done_on, error
    ):
        case = due_in(borough_a, -2)
        client.force_login(coordinator_a)
        response = client.post(record_url(case), reached(done_on=dmy(done_on(case))))
        assert response.status_code == 200
        assert error in " ".join(inline_errors(response, "done_on"))
        assert not FollowUp.objects.exists()

    def test_a_second_record_goes_to_the_first(self, client, coordinator_a, borough_a):
        case = due_in(borough_a, -2)
        first = FollowUp.objects.create(client=case, point=3, done_on=today(), reached=False)
        client.force_login(coordinator_a)
        before = snapshot()
        response = client.post(record_url(case), reached())
        assert response.status_code == 302
        assert response["Location"] == reverse("followup_edit", args=[first.pk])
        assert "already recorded" in messages_of(response)[0][1]
        assert snapshot() == before

    def test_two_people_recording_at_once(self, coordinator_a, borough_a):
        """The second save meets the first's row (past the form's check, which both
        passed): it gets the first's, and writes nothing."""
        case = due_in(borough_a, -2)
        first = FollowUp.objects.create(client=case, point=3, done_on=today(), reached=False)
        before = snapshot()
        second = FollowUp(client=case, point=3, done_on=today(), reached=True)
        with pytest.raises(services.AlreadyRecorded) as raised:
            services.followup_record(followup=second, by=coordinator_a)
        assert raised.value.record == first
        assert snapshot() == before

    @pytest.mark.parametrize("point", [0, 1, 9, 24])
    def test_points_are_3_6_and_12_months(self, client, coordinator_a, borough_a, point):
        case = due_in(borough_a, -2)
        client.force_login(coordinator_a)
        assert client.get(record_url(case, point)).status_code == 404

    @pytest.mark.parametrize("reason", ["DISENGAGED", "CUSTODY", "TRANSFERRED"])
    def test_only_a_completed_case(self, client, coordinator_a, borough_a, reason):
        case = due_in(borough_a, -2, closure_reason=reason)
        client.force_login(coordinator_a)
        response = client.post(record_url(case), reached())
        assert response.status_code == 302
        assert messages_of(response) == [("error", "Check-ins follow a case closed as completed.")]
        assert not FollowUp.objects.exists()

    def test_an_active_client_has_none(self, client, coordinator_a, borough_a):
        case = factories.ClientFactory(borough=borough_a, active=True)
        client.force_login(coordinator_a)
        response = client.get(record_url(case))
        assert response.status_code == 302
        assert not FollowUp.objects.exists()

    def test_an_anonymised_client(self, client, coordinator_a, borough_a):
        case = due_in(borough_a, -2)
        Client.objects.filter(pk=case.pk).update(anonymised_on=today())
        client.force_login(coordinator_a)
        response = client.post(record_url(case), reached())
        assert messages_of(response) == [
            ("error", "This client's details were removed under the retention policy.")
        ]
        assert not FollowUp.objects.exists()

    def test_another_areas_coordinator_gets_404(self, client, coordinator_b, borough_a):
        case = due_in(borough_a, -2)
        client.force_login(coordinator_b)
        assert client.get(record_url(case)).status_code == 404
        assert client.post(record_url(case), reached()).status_code == 404
        assert not FollowUp.objects.exists()

    @pytest.mark.parametrize("who", ["manager", "mentor_a"])
    def test_managers_and_mentors_may_not(self, client, request, borough_a, who):
        case = due_in(borough_a, -2)
        person = request.getfixturevalue(who)
        client.force_login(getattr(person, "user", person))
        assert client.post(record_url(case), reached()).status_code in (403, 404)
        assert not FollowUp.objects.exists()


class TestCorrect:
    def test_a_correction_with_the_version(self, client, coordinator_a, borough_a):
        case = due_in(borough_a, -2)
        done = FollowUp.objects.create(client=case, point=3, done_on=today(), reached=False)
        client.force_login(coordinator_a)
        url = reverse("followup_edit", args=[done.pk])
        assert client.get(url).status_code == 200
        response = client.post(url, reached(version=done.version))
        assert response.status_code == 302
        done.refresh_from_db()
        assert (done.reached, done.in_ete, done.version) == (True, True, 2)

    def test_a_crossed_correction_is_refused(self, client, coordinator_a, borough_a):
        case = due_in(borough_a, -2)
        done = FollowUp.objects.create(client=case, point=3, done_on=today(), reached=False)
        FollowUp.objects.filter(pk=done.pk).update(version=2)
        client.force_login(coordinator_a)
        response = client.post(reverse("followup_edit", args=[done.pk]), reached(version=1))
        assert response.status_code == 200
        done.refresh_from_db()
        assert done.reached is False

    def test_another_areas_coordinator_gets_404(self, client, coordinator_b, borough_a):
        done = FollowUp.objects.create(
            client=due_in(borough_a, -2), point=3, done_on=today(), reached=False
        )
        client.force_login(coordinator_b)
        assert client.get(reverse("followup_edit", args=[done.pk])).status_code == 404


class TestClientPage:
    def test_the_three_check_ins_and_what_each_is(self, client, coordinator_a, borough_a):
        case = completed(borough_a, 190)  # 3 months recorded, 6 months due, 12 not yet
        FollowUp.objects.create(
            client=case,
            point=3,
            done_on=days_ago(95),
            reached=True,
            in_ete=True,
            stable_accommodation=True,
            new_offence_told=True,
            note="Says he was cautioned.",
        )
        client.force_login(coordinator_a)
        response = client.get(reverse("client_detail", args=[case.reference]))
        page = response.content.decode()
        assert "Check-ins after support" in page
        assert "tells of a new offence" in page
        assert "Says he was cautioned." in page
        assert record_url(case, 6) in page
        assert record_url(case, 12) not in page
        assert "not yet due" in page
        rows = response.context["followups"]
        assert [row["point"] for row in rows] == [3, 6, 12]
        assert rows[0]["record"].point == 3
        assert rows[1]["overdue"] is True

    def test_no_section_for_other_cases(self, client, coordinator_a, borough_a):
        case = factories.ClientFactory(borough=borough_a, active=True)
        client.force_login(coordinator_a)
        response = client.get(reverse("client_detail", args=[case.reference]))
        assert response.context["followups"] is None
        assert "Check-ins after support" not in response.content.decode()


class TestFiguresPages:
    def test_dashboards_show_the_check_ins(self, client, manager, borough_a):
        case = completed(borough_a, 100)
        FollowUp.objects.create(
            client=case,
            point=3,
            done_on=days_ago(5),
            reached=True,
            in_ete=True,
            stable_accommodation=False,
            new_offence_told=False,
        )
        completed(borough_a, 120)
        client.force_login(manager)
        for url in (
            reverse("network_dashboard"),
            reverse("borough_dashboard", args=[borough_a.slug]),
        ):
            page = client.get(url).content.decode()
            assert "After support ends: check-ins" in page
            assert "1 of 2" in page  # done of due, a small number shown as such
            assert case.first_name not in page.split("<main", 1)[-1]

    def test_the_figures_download_has_the_columns(self, client, manager, borough_a):
        completed(borough_a, 100)
        client.force_login(manager)
        response = client.get(reverse("network_dashboard") + "?download=figures")
        header = response.content.decode().splitlines()[0].split(",")
        assert header[header.index("followups_due") - 1] == "sustained_job_26w_of"
        assert "followup_housed_share_12m" in header


def test_retention_removes_the_note(borough_a):
    case = completed(borough_a, 7 * 365)
    FollowUp.objects.create(
        client=case,
        point=3,
        done_on=case.ended_on + timedelta(days=91),
        reached=False,
        note="Mum says he moved to Leeds.",
    )
    assert retention.anonymise(case.pk, on=today())
    done = FollowUp.objects.get()
    assert done.note == ""
    assert done.reached is False
    assert not FollowUp.history.filter(note__contains="Leeds").exists()
