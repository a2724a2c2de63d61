"""
Pages for coordinators, mentors and managers.

Every object comes through ``access`` (scoped to the user, else 404); every write goes
through ``services`` in one transaction. Querysets carry everything a template shows, so
templates run no queries and each page costs a fixed number of them.
"""

from collections import defaultdict
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    Sum,
    Value,
    When,
    Window,
)
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.next_page import page_to_return_to

from . import access, history, services, subject_access
from .forms import (
    AssignMentorForm,
    BecomesMentorForm,
    ClientEditForm,
    CloseCaseForm,
    EndAssignmentForm,
    FollowUpForm,
    GoalForm,
    GoalStatusForm,
    MilestoneForm,
    OffenceForm,
    PathwayStepForm,
    PlacementForm,
    ReferralForm,
    SafeguardingFollowUpForm,
    StartSupportForm,
    SupportSessionForm,
    TransferForm,
)
from .metrics.windows import (
    ACTIVITY_DAYS,
    FOLLOWUP_QUEUE_AHEAD_DAYS,
    FOLLOWUP_QUEUE_PAST_DAYS,
    HOME_RECENT_DAYS,
    NEEDS_CONTACT_DAYS,
)
from .models import (
    AccessLog,
    Assignment,
    Borough,
    Client,
    Employer,
    FollowUp,
    FormerReference,
    Goal,
    Mentor,
    Milestone,
    Offence,
    PathwayStep,
    Placement,
    SupportSession,
    per_row,
)

CLIENTS_PER_PAGE = 25
SAFEGUARDING_FOLLOWED_UP_SHOWN = 10
MENTORS_PER_PAGE = 100
# The home page lists the clients longest without contact, up to this many, and links to
# all of them in the client list: a London borough's coordinator may have hundreds.
NEEDS_CONTACT_SHOWN = 25
# The coordinator's queues (referrals to decide on, active clients with no mentor,
# offences awaiting an outcome) show the longest waiting, up to this many, and link to
# the rest in the client list.
QUEUE_SHOWN = 10
# The client list's mentor filter for clients with no open assignment.
NO_MENTOR = "none"

CLIENT_SORTS = {
    "reference": "reference",
    "name": "last_name",
    "borough": "borough__name",
    "status": "status",
    "referred": "referred_on",
    "started": "started_on",
    "last_contact": "last_attended_on",
    "risk": "risk_rank",
}
# Sorts on values that may be empty (no attended session yet, no risk recorded, not started).
NULLABLE_SORTS = {"last_contact", "risk", "started"}
# Risk sorts by severity, not alphabetically.
RISK_RANK = Case(
    *(When(risk_level=level, then=Value(rank)) for rank, level in enumerate(Client.RiskLevel)),
    output_field=IntegerField(),
)


def _today():
    return timezone.localdate()


def _posted(request):
    """The POST data for a bound form (even when empty), or None for a GET."""
    return request.POST if request.method == "POST" else None


def _id_param(value):
    """A primary key from the query string, or None for anything that is not one."""
    if value and value.isascii() and value.isdecimal() and len(value) <= 18:
        return int(value)
    return None


# Home ---------------------------------------------------------------------------------


def home(request):
    if access.home_is_dashboard(request.user):
        return redirect("network_dashboard")
    if not access.can_do_casework(request.user):
        raise PermissionDenied(access.NO_ROLE)
    today = _today()
    clients = Client.objects.for_user(request.user)
    needing_contact = list(
        clients.needing_contact(today)
        .with_last_attended()
        .with_current_mentor()
        # How many there are in all, counted before the limit, in the same query.
        .annotate(needing_contact_total=Window(Count("pk")))
        .select_related("borough")
        .order_by(F("last_attended_on").asc(nulls_first=True), "started_on", "reference")[
            :NEEDS_CONTACT_SHOWN
        ]
    )
    sessions = SupportSession.objects.for_user(request.user).select_related("client", "mentor")
    context = {
        "needing_contact": needing_contact,
        "needing_contact_total": (
            needing_contact[0].needing_contact_total if needing_contact else 0
        ),
        # Open concerns, however old, the longest waiting first; and those followed up
        # lately, to see what was done.
        "safeguarding": sessions.filter(pk__in=_open_concerns())
        .select_related("logged_by")
        .order_by("date", "pk"),
        "safeguarding_followed_up": sessions.filter(
            safeguarding_handled_at__gte=timezone.now() - timedelta(days=HOME_RECENT_DAYS)
        )
        .select_related("safeguarding_handled_by")
        .order_by("-safeguarding_handled_at", "-pk")[:SAFEGUARDING_FOLLOWED_UP_SHOWN],
        "can_follow_up": access.can_manage_cases(request.user),
        # Logged in the last 14 days: the walk down the created_at index stops there, so
        # a borough with few sessions lately does not read every session ever logged.
        "recent_sessions": sessions.filter(
            created_at__gte=timezone.now() - timedelta(days=HOME_RECENT_DAYS)
        ).order_by("-created_at", "-pk")[:10],
        "needs_contact_days": NEEDS_CONTACT_DAYS,  # needing_contact's rule
        "recent_days": HOME_RECENT_DAYS,
        "today": today,
    }
    if context["can_follow_up"]:
        context.update(_queues(clients))
        context.update(_followups_due(clients, today))
    if access.sees_own_clients_only(request.user):
        context["my_clients"] = (
            clients.filter(status=Client.Status.ACTIVE)
            .with_last_attended()
            .select_related("borough")
            .order_by("last_name", "first_name")
        )
    return render(request, "mentoring/home.html", context)


def _open_concerns():
    """
    The ids of every open safeguarding concern, read alone from their partial index. The
    home page then reads its user's among them by id. Asked in one query with the user's
    boroughs, the planner cannot know how few are open (the two conditions are
    correlated: most concerns are followed up), overestimates them by far, and may pick a
    plan that reads a borough's clients, or every client, to probe for them. A list of
    ids leaves it nothing to guess. Open concerns are a backlog that coordinators work
    down, so the list stays short.
    """
    return list(
        SupportSession.objects.filter(
            safeguarding_concern=True, safeguarding_handled_at__isnull=True
        ).values_list("pk", flat=True)
    )


def _queues(clients):
    """
    The coordinator's work waiting on them: referrals not yet started or declined, oldest
    first, active clients with no mentor, longest first, and offences awaiting their
    outcome, oldest first; each with its full count,
    taken in the same query by a window over the rows before the limit.
    """
    waiting = clients.select_related("borough").annotate(waiting_total=Window(Count("pk")))
    queues = {
        "awaiting_decision": waiting.filter(status=Client.Status.REFERRED).order_by(
            "referred_on", "reference"
        ),
        "without_mentor": waiting.filter(status=Client.Status.ACTIVE)
        .without_mentor()
        .order_by("started_on", "reference"),
    }
    # Offences still awaiting their outcome, the oldest first: until a conviction is
    # recorded it cannot count as a proven reoffence (read from the pending offences'
    # partial index, which holds only those).
    queues["awaiting_outcome"] = (
        Offence.objects.filter(client__in=clients, disposal=Offence.Disposal.PENDING)
        .select_related("client__borough")
        .annotate(waiting_total=Window(Count("pk")))
        .order_by("offence_date", "pk")
    )
    context = {"no_mentor": NO_MENTOR}
    for name, queryset in queues.items():
        shown = list(queryset[:QUEUE_SHOWN])
        context[name] = shown
        context[f"{name}_total"] = shown[0].waiting_total if shown else 0
    return context


def _followups_due(clients, today):
    """
    The check-ins after completed cases due in the last 30 days or the next 7 and not yet
    recorded (``followup_due``), the oldest due first, up to QUEUE_SHOWN, with their full
    count taken in the same query.
    """
    due = list(
        clients.followup_due(today)
        .select_related("borough")
        .annotate(due_total=Window(Count("pk")))
        .order_by("due_day", "reference")[:QUEUE_SHOWN]
    )
    return {
        "followups_due": [
            {"client": client, **_check_in(client, client.followup_point, today)} for client in due
        ],
        "followups_due_total": due[0].due_total if due else 0,
        "followup_window": (FOLLOWUP_QUEUE_PAST_DAYS, FOLLOWUP_QUEUE_AHEAD_DAYS),
    }


# Clients ------------------------------------------------------------------------------


PERSON_SEARCH = ("reference", "first_name", "last_name", "preferred_name")


def _search(records, q, fields=PERSON_SEARCH, also=None):
    """
    The ``records`` with each of the first five words of ``q`` in one of ``fields``: by
    default a client's or mentor's name or reference. ``also(term)``, if given, is one
    more condition a word may meet instead.
    """
    for term in q.split()[:5]:
        match = Q()
        for name in fields:
            match |= Q(**{f"{name}__icontains": term})
        if also is not None:
            match |= also(term)
        records = records.filter(match)
    return records


def _formerly(term):
    """Clients that a record with reference ``term`` was brought into."""
    return Exists(FormerReference.objects.filter(client=OuterRef("pk"), reference__iexact=term))


@access.casework
def client_list(request):
    user = request.user
    clients = (
        Client.objects.for_user(user)
        .with_last_attended()
        .with_current_mentor()
        .annotate(risk_rank=RISK_RANK)
        .select_related("borough")
    )
    params = request.GET
    q = params.get("q", "").strip()
    clients = _search(clients, q, also=_formerly)
    boroughs = list(Borough.objects.for_user(user).order_by("name"))
    if borough := params.get("borough"):
        clients = clients.filter(borough__slug=borough)
    if (status := params.get("status")) in Client.Status.values:
        clients = clients.filter(status=status)
    if (risk := params.get("risk")) in Client.RiskLevel.values:
        clients = clients.filter(risk_level=risk)
    mentors = list(Mentor.objects.for_user(user).order_by("last_name", "first_name"))
    if params.get("mentor") == NO_MENTOR:
        clients = clients.without_mentor()
    elif (mentor := _id_param(params.get("mentor"))) is not None:
        clients = clients.filter(current_mentor_id=mentor)
    if params.get("needs_contact") == "1":
        clients = clients.filter(pk__in=Client.objects.needing_contact(_today()).values("pk"))
    if params.get("outcome_awaited") == "1":
        clients = clients.awaiting_outcome()
    if params.get("followup_due") == "1":
        clients = clients.filter(pk__in=Client.objects.followup_due(_today()).values("pk"))
    sort = params.get("sort", "-referred")
    field = CLIENT_SORTS.get(sort.lstrip("-"))
    if field is None:
        sort, field = "-referred", CLIENT_SORTS["referred"]
    if sort.lstrip("-") in NULLABLE_SORTS:
        # Never-contacted clients sort with the oldest contact, the same on every database.
        order = (
            F(field).desc(nulls_last=True)
            if sort.startswith("-")
            else F(field).asc(nulls_first=True)
        )
    else:
        # A plain order, so that the default (newest referral first) walks the index
        # mentoring_client_referred instead of sorting a whole borough's clients.
        order = F(field).desc() if sort.startswith("-") else F(field).asc()
    # Equal last contacts (never, most often) longest on the programme first, as on the
    # home page, whose "see all" link lands here.
    tiebreak = ("started_on",) if sort.lstrip("-") == "last_contact" else ()
    clients = clients.order_by(order, *tiebreak, "reference")
    page = Paginator(clients, CLIENTS_PER_PAGE).get_page(params.get("page"))
    return render(
        request,
        "mentoring/client_list.html",
        {
            "page": page,
            "q": q,
            "sort": sort,
            "boroughs": boroughs,
            "mentors": mentors,
            "no_mentor": NO_MENTOR,
            "statuses": Client.Status.choices,
            "risks": Client.RiskLevel.choices,
            "filters": params,
            "can_refer": access.can_manage_cases(user),
            "columns": [
                ("reference", "Reference"),
                ("name", "Name"),
                ("borough", "Borough"),
                ("status", "Status"),
                ("risk", "Risk"),
                ("referred", "Referred"),
                ("last_contact", "Last contact"),
            ],
        },
    )


@access.case_management
def client_new(request):
    form = ReferralForm(_posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        client = form.save(commit=False)
        client.status = Client.Status.REFERRED
        with transaction.atomic():  # the record and its needs, together or not at all
            services.client_save(client=client, by=request.user)
            form.save_m2m()
        messages.success(request, f"Referral saved: {client.reference} {client.full_name}.")
        return redirect("client_detail", reference=client.reference)
    return render(
        request,
        "mentoring/form_page.html",
        {"form": form, "title": "New referral", "submit": "Save referral"},
    )


TIMELINE_PAGE = 50
# Within one day, entries are listed in the reverse of the order things happen (the
# timeline is newest first): a case is referred, then started; a mentor leaves before the
# next is assigned, and a match ends before the case closes; a session's outcome is
# recorded after it. A match ended by the case's closure is "match_closed".
SAME_DAY_ORDER = (
    "closed",
    "match_closed",
    "placement_end",
    "goal_reviewed",
    "milestone",
    "offence",
    "session",
    "goal",
    "placement_start",
    "assignment_start",
    "assignment_end",
    "started",
    "referred",
)
_SAME_DAY_RANK = {kind: rank for rank, kind in enumerate(SAME_DAY_ORDER)}


def _timeline_order(entry):
    """Newest day first; within a day by ``SAME_DAY_ORDER``, then sessions by their start
    time, latest first (those with no time after), then the latest record first."""
    day, kind, pk, item = entry
    if kind == "assignment_end" and item.end_reason == Assignment.EndReason.CASE_CLOSED:
        kind = "match_closed"
    start = item.start_time if kind == "session" else None
    untimed = kind == "session" and start is None
    minutes = start.hour * 60 + start.minute if start else 0
    return (-day.toordinal(), _SAME_DAY_RANK[kind], untimed, -minutes, -pk)


def _timeline_page(client, session_count, number):
    """
    One page of the client's timeline (referral, start and closure, sessions, offences,
    milestones, goals, mentor changes and placements, newest first) and its Page-like
    facts. Only the sessions up to this page are loaded: a client of several years has
    hundreds, and drawing them all would make the page's cost grow with them. The other
    kinds are few and come whole.
    """
    entries = [(client.referred_on, "referred", 0, client)]
    if client.started_on:
        entries.append((client.started_on, "started", 0, client))
    if client.ended_on:
        entries.append((client.ended_on, "closed", 0, client))
    for o in client.offences.all():
        entries.append((o.offence_date, "offence", o.pk, o))
    for m in client.milestones.all():
        entries.append((m.achieved_on, "milestone", m.pk, m))
    for g in client.goals.all():
        entries.append((g.set_on, "goal", g.pk, g))
        if g.reviewed_on:
            entries.append((g.reviewed_on, "goal_reviewed", g.pk, g))
    for a in client.assignments.all():
        entries.append((a.started_on, "assignment_start", a.pk, a))
        if a.ended_on:
            entries.append((a.ended_on, "assignment_end", a.pk, a))
    for p in client.placements.all():
        entries.append((p.started_on, "placement_start", p.pk, p))
        if p.ended_on:
            entries.append((p.ended_on, "placement_end", p.pk, p))
    pages = max(1, -(-(session_count + len(entries)) // TIMELINE_PAGE))
    number = min(max(number, 1), pages)
    # The first number * TIMELINE_PAGE entries hold at most that many sessions.
    sessions = client.sessions.select_related(
        "mentor", "logged_by", "safeguarding_handled_by"
    ).order_by("-date", "-pk")[: number * TIMELINE_PAGE]
    entries += [(s.date, "session", s.pk, s) for s in sessions]
    # Newest day first; within a day in SAME_DAY_ORDER; the latest record of a kind first.
    entries.sort(key=_timeline_order)
    shown = entries[(number - 1) * TIMELINE_PAGE : number * TIMELINE_PAGE]
    _attach_area_names([item for _d, kind, _pk, item in shown if kind == "session"])
    return (
        [{"date": d, "kind": kind, "item": item} for d, kind, _pk, item in shown],
        {"number": number, "pages": pages, "previous": number - 1, "next": number + 1},
    )


def _attach_area_names(sessions):
    """
    Give each session ``area_names``, its support areas' names in the areas' order, in one
    query, for the page's sessions only: a prefetch would build a related manager per
    session, several times over in the template, and read the areas of every session
    fetched rather than of the page's.
    """
    if not sessions:
        return
    names = defaultdict(list)
    links = SupportSession.support_areas.through.objects.filter(
        supportsession_id__in=[s.pk for s in sessions]
    ).order_by("supportarea__sort_order", "supportarea__name")
    for session_id, name in links.values_list("supportsession_id", "supportarea__name"):
        names[session_id].append(name)
    for session in sessions:
        session.area_names = names[session.pk]


def _page_number(request, name):
    try:
        return int(request.GET.get(name, 1))
    except ValueError:
        return 1


@access.casework
@access.follows_former_reference
@require_GET
def client_detail(request, reference):
    queryset = Client.objects.prefetch_related(
        "needs",
        "former_references",
        "offences",
        "milestones",
        Prefetch("goals", queryset=Goal.objects.select_related("support_area")),
        Prefetch("assignments", queryset=Assignment.objects.select_related("mentor")),
        Prefetch("placements", queryset=Placement.objects.select_related("employer")),
        Prefetch("pathway_steps", queryset=PathwayStep.objects.order_by("reached_on", "pk")),
    ).select_related("became_mentor")
    client = access.get_client_or_404(request.user, reference, queryset)
    services.log_access(
        user=request.user, client=client, action=AccessLog.Action.VIEW, path=request.path
    )
    today = _today()
    current = next((a for a in client.assignments.all() if a.ended_on is None), None)
    moved_from, moved_to = Client.objects.transfer_partners(client)
    attended = Q(attendance__in=SupportSession.ATTENDED_VALUES)
    contact = client.sessions.aggregate(
        last_attended=Max("date", filter=attended),
        sessions_28=Count(
            "pk", filter=attended & Q(date__gt=today - timedelta(days=ACTIVITY_DAYS))
        ),
        sessions=Count("pk"),
    )
    timeline, timeline_page = _timeline_page(
        client, contact.pop("sessions"), _page_number(request, "timeline")
    )
    for entry in timeline:
        if entry["kind"] == "session":
            entry["item"].correctable = access.can_correct_session(
                request.user, entry["item"], today
            )
    return render(
        request,
        "mentoring/client_detail.html",
        {
            "client": client,
            "current_assignment": current,
            # The mentor this client became on the peer pathway, if any (selected above).
            "became_mentor": getattr(client, "became_mentor", None),
            "moved_from": moved_from,
            "moved_to": moved_to,
            "timeline": timeline,
            "timeline_page": timeline_page,
            **contact,
            "can_manage": access.can_manage_cases(request.user),
            "can_change_records": access.may_change_records(request.user, client),
            "goal_status_choices": Goal.Status.choices,
            # Offences whose outcome is still to come: until it is recorded, a conviction
            # within the follow-up does not count as a proven reoffence.
            "awaiting_outcome": [
                o for o in client.offences.all() if o.disposal == Offence.Disposal.PENDING
            ],
            "followups": _followup_rows(client, today),
        },
    )


def _followup_rows(client, today):
    """A completed case's three check-ins, each recorded or with when it falls due; None
    for any other case. One query, for a completed case only."""
    if not client.is_completed:
        return None
    recorded = {f.point: f for f in client.followups.all()}
    rows = []
    for point in FollowUp.Point:
        row = _check_in(client, point, today)
        row["record"] = recorded.get(point)
        row["open"] = row["due_on"] <= today + timedelta(days=FOLLOWUP_QUEUE_AHEAD_DAYS)
        rows.append(row)
    return rows


def _check_in(client, point, today):
    """A completed case's check-in at ``point`` as the pages show it: when it is due."""
    due_on = FollowUp.due_on_for(client.ended_on, point)
    return {
        "point": int(point),
        "label": FollowUp.Point(point).label,
        "due_on": due_on,
        "overdue": due_on < today,
    }


@access.case_management
@access.follows_former_reference
@require_GET
def client_export(request, reference):
    """Subject access: everything held about one client, as a page or as JSON. Logged."""
    client = access.get_client_or_404(
        request.user, reference, Client.objects.prefetch_related("needs")
    )
    services.log_access(
        user=request.user,
        client=client,
        action=AccessLog.Action.EXPORT,
        path=request.get_full_path(),
    )
    data = subject_access.subject_access(client)
    if request.GET.get("format") == "json":
        response = HttpResponse(subject_access.as_json(data), content_type="application/json")
        response["Content-Disposition"] = (
            f'attachment; filename="subject-access-{client.reference}.json"'
        )
        return response
    return render(request, "mentoring/client_export.html", {"client": client, "data": data})


HISTORY_PER_PAGE = 50
PRINT_REPEAT_WINDOW = timedelta(seconds=10)


@access.casework
@access.follows_former_reference
@require_POST
def client_printed(request, reference):
    """
    The browser says a page about this client is being printed (its print dialog opened):
    one line in the access log. Sent by sos.js on ``beforeprint``; answers 204.
    """
    client = access.get_client_or_404(request.user, reference)
    page = request.POST.get("page", "")
    prefix = f"/clients/{client.reference}/"
    # Only one of this client's own addresses is kept, and only printable text (a NUL
    # would reach the database).
    path = page[:300] if page.startswith(prefix) and page.isprintable() else prefix
    # One print dialog is one line, even when the browser sends the beacon twice (Chromium
    # may repeat a POST whose connection closed): the same page within seconds is a repeat.
    repeated = AccessLog.objects.filter(
        user=request.user,
        client=client,
        action=AccessLog.Action.PRINT,
        path=path,
        at__gte=timezone.now() - PRINT_REPEAT_WINDOW,
    ).exists()
    if not repeated:
        services.log_access(
            user=request.user, client=client, action=AccessLog.Action.PRINT, path=path
        )
    return HttpResponse(status=204)


@access.case_management
@access.follows_former_reference
@require_GET
def client_history(request, reference):
    """Who changed what in this client's case, and when: for its coordinators and admins."""
    client = access.get_client_or_404(request.user, reference)
    services.log_access(
        user=request.user, client=client, action=AccessLog.Action.VIEW, path=request.path
    )
    page = Paginator(history.client_changes(client), HISTORY_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "mentoring/client_history.html", {"client": client, "page": page})


def _client_form_view(
    request, reference, form_class, title, save, *, status, refusal, context=None
):
    """
    Shared shape of the small case-management forms on one client. The action only
    applies to a client in ``status``; otherwise the page says why (``refusal``) and goes
    back to the client.
    """
    client = access.get_client_or_404(request.user, reference)
    if client.status != status:
        messages.error(request, refusal)
        return redirect("client_detail", reference=client.reference)
    form = form_class(_posted(request), client=client)
    if request.method == "POST" and form.is_valid():
        messages.success(request, save(client, form))
        return redirect("client_detail", reference=client.reference)
    return render(
        request,
        "mentoring/form_page.html",
        {"form": form, "client": client, "title": title, "submit": title, **(context or {})},
    )


def _fields_saved_differently(form, current):
    """Labels of the form's fields whose saved value in ``current`` differs from the form's."""
    labels = []
    for name, field in form.fields.items():
        skip = name in ("version", "submission_token") or not hasattr(current, name)
        if skip or name not in form.cleaned_data:
            continue
        mine = form.cleaned_data[name]
        if isinstance(field, forms.ModelMultipleChoiceField):
            saved = set(getattr(current, name).values_list("pk", flat=True))
            mine = {obj.pk for obj in mine}
        elif isinstance(field, forms.ModelChoiceField):
            saved = getattr(current, f"{name}_id")
            mine = mine.pk if mine else None
        else:
            saved = getattr(current, name)
        if saved != mine:
            labels.append(str(field.label))
    return labels


def _refuse_crossed_edit(form, current, noun):
    """
    Someone saved the record after this person opened it. Keep what they typed, say which
    fields the saved version holds differently, and take the saved version's number so that
    saving again is a deliberate choice to replace it.
    """
    changed = ", ".join(_fields_saved_differently(form, current)) or "nothing you can see here"
    data = form.data.copy()
    data["version"] = current.version
    form.data = data
    form.add_error(
        None,
        f"Someone else saved this {noun} while you were editing it, so your changes were not "
        f"saved. The saved version differs from yours in: {changed}. Check the record, then "
        "save again to replace their version with yours.",
    )


def _refuse_anonymised(request, client):
    """
    A redirect to the client page, saying why, if the client was anonymised under the
    retention policy: their records stay as they are, with no new details or free text.
    Else None.
    """
    if client.anonymised_on is None:
        return None
    messages.error(request, "This client's details were removed under the retention policy.")
    return redirect("client_detail", reference=client.reference)


@access.case_management
@access.follows_former_reference
def client_edit(request, reference):
    client = access.get_client_or_404(request.user, reference)
    if refused := _refuse_anonymised(request, client):
        return refused
    form = ClientEditForm(_posted(request), instance=client, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # the record and its needs, together or not at all
                services.client_update(
                    client=form.save(commit=False), expected_version=form.cleaned_data["version"]
                )
                form.save_m2m()
        except services.EditConflict as conflict:
            _refuse_crossed_edit(form, conflict.current, "client")
        else:
            messages.success(request, "Client details saved.")
            return redirect("client_detail", reference=client.reference)
    return render(
        request,
        "mentoring/form_page.html",
        {"form": form, "client": client, "title": "Edit client", "submit": "Save changes"},
    )


@access.case_management
@access.follows_former_reference
def client_start(request, reference):
    def save(client, form):
        services.client_start(
            client=client,
            started_on=form.cleaned_data["started_on"],
            release_date=form.cleaned_data["release_date"],
        )
        return f"Support started for {client.reference}. Next: assign a mentor."

    return _client_form_view(
        request,
        reference,
        StartSupportForm,
        "Start support",
        save,
        status=Client.Status.REFERRED,
        refusal="Support can only start for a client who is referred and not yet started.",
    )


@access.case_management
@access.follows_former_reference
@require_POST
def client_decline(request, reference):
    client = access.get_client_or_404(request.user, reference)
    if client.status != Client.Status.REFERRED:
        messages.error(request, "Only a referral that has not started can be declined.")
    else:
        services.client_decline(client=client)
        messages.success(request, f"Referral {client.reference} declined.")
    return redirect("client_detail", reference=client.reference)


@access.case_management
@access.follows_former_reference
def client_assign(request, reference):
    client = access.get_client_or_404(request.user, reference)
    if client.status != Client.Status.ACTIVE:
        messages.error(request, "A mentor can only be assigned to an active client.")
        return redirect("client_detail", reference=client.reference)
    current = client.assignments.filter(ended_on__isnull=True).select_related("mentor").first()
    form = AssignMentorForm(_posted(request), client=client, user=request.user, current=current)
    if request.method == "POST" and form.is_valid():
        assignment = services.assignment_change(
            client=client,
            mentor=form.cleaned_data["mentor"],
            started_on=form.cleaned_data["started_on"],
            end_reason=form.cleaned_data.get("end_reason") or None,
        )
        messages.success(request, f"{assignment.mentor.full_name} is now the mentor.")
        return redirect("client_detail", reference=client.reference)
    title = "Reassign mentor" if current else "Assign a mentor"
    return render(
        request,
        "mentoring/assign.html",
        {
            "form": form,
            "client": client,
            "title": title,
            "submit": title,
            "intro": f"Current mentor: {current.mentor.full_name}" if current else "",
            # What matching needs in view: the client's needs, and who they were with
            # before and why it ended (not the mentor they asked to change from).
            "needs": list(client.needs.all()),
            "past": list(
                client.assignments.filter(ended_on__isnull=False)
                .select_related("mentor")
                .order_by("-ended_on", "-pk")
            ),
        },
    )


@access.case_management
@access.follows_former_reference
def assignment_end(request, reference):
    """End the client's match with their mentor, leaving them to wait for a new one."""
    client = access.get_client_or_404(request.user, reference)
    current = client.assignments.filter(ended_on__isnull=True).select_related("mentor").first()
    if client.status != Client.Status.ACTIVE or current is None:
        messages.error(request, "This client has no mentor now: there is no match to end.")
        return redirect("client_detail", reference=client.reference)
    current.client = client
    form = EndAssignmentForm(_posted(request), current=current)
    if request.method == "POST" and form.is_valid():
        ended = services.assignment_end(
            assignment=current,
            ended_on=form.cleaned_data["ended_on"],
            reason=form.cleaned_data["end_reason"],
        )
        if ended is None:
            messages.error(
                request,
                "Someone else changed this client's mentor while you were on the form: "
                "nothing was ended. Check the mentor below.",
            )
        else:
            messages.success(
                request,
                f"{current.mentor.full_name} no longer mentors {client.reference}. The client "
                "waits for a new mentor on the home page.",
            )
        return redirect("client_detail", reference=client.reference)
    return render(
        request,
        "mentoring/form_page.html",
        {
            "form": form,
            "client": client,
            "title": f"End the match with {current.mentor.full_name}",
            "submit": "End the match",
            "intro": f"Mentor since {current.started_on:%d/%m/%Y}. The client keeps their "
            "case open and waits for a new mentor; the mentor no longer sees their record.",
        },
    )


@access.case_management
@access.follows_former_reference
def client_close(request, reference):
    def save(client, form):
        services.client_close(
            client=client,
            ended_on=form.cleaned_data["ended_on"],
            reason=form.cleaned_data["closure_reason"],
        )
        return f"Case {client.reference} closed."

    return _client_form_view(
        request,
        reference,
        CloseCaseForm,
        "Close case",
        save,
        status=Client.Status.ACTIVE,
        refusal="Only an active case can be closed.",
        context={"offer_transfer": True},
    )


@access.case_management
@access.follows_former_reference
def client_transfer(request, reference):
    def save(client, form):
        referral = services.client_transfer(
            client=client,
            borough=form.cleaned_data["borough"],
            on=form.cleaned_data["transferred_on"],
            note=form.cleaned_data["note"],
            by=request.user,
        )
        return (
            f"Case {client.reference} closed: transferred to {referral.borough.name}, where "
            f"{referral.reference} awaits its coordinators' decision."
        )

    return _client_form_view(
        request,
        reference,
        TransferForm,
        "Transfer to another area",
        save,
        status=Client.Status.ACTIVE,
        refusal="Only an active case can be transferred.",
    )


def _add_record(request, reference, form_class, title, noun):
    client = access.get_client_or_404(request.user, reference)
    if refused := _refuse_anonymised(request, client):
        return refused
    form = form_class(_posted(request), instance=form_class._meta.model(client=client))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"{noun} added.")
        return redirect("client_detail", reference=client.reference)
    return render(
        request,
        "mentoring/form_page.html",
        {"form": form, "client": client, "title": title, "submit": f"Save {noun.lower()}"},
    )


@access.case_management
@access.follows_former_reference
def offence_new(request, reference):
    return _add_record(request, reference, OffenceForm, "Record an offence", "Offence")


@access.case_management
@access.follows_former_reference
def milestone_new(request, reference):
    return _add_record(request, reference, MilestoneForm, "Record a milestone", "Milestone")


@access.case_management
@access.follows_former_reference
def placement_new(request, reference):
    return _add_record(request, reference, PlacementForm, "Record a placement", "Placement")


@access.case_management
@access.follows_former_reference
def goal_new(request, reference):
    return _add_record(request, reference, GoalForm, "Add a goal", "Goal")


def _edit_record(request, record, form_class, title, noun, intro=""):
    """
    Correct or complete one of a client's records (an offence, milestone, placement or
    goal). The hidden version refuses a save that crosses another person's; the change is
    kept in the client's change history. An anonymised client's records stay as they are.
    """
    client = record.client
    if refused := _refuse_anonymised(request, client):
        return refused
    form = form_class(_posted(request), instance=record)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_update(
                record=form.save(commit=False), expected_version=form.cleaned_data["version"]
            )
        except services.EditConflict as conflict:
            _refuse_crossed_edit(form, conflict.current, noun.lower())
        else:
            messages.success(request, f"{noun} saved.")
            return redirect("client_detail", reference=client.reference)
    return render(
        request,
        "mentoring/form_page.html",
        {"form": form, "client": client, "title": title, "submit": "Save changes", "intro": intro},
    )


@access.case_management
@access.follows_former_reference
def pathway_step_new(request, reference):
    return _add_record(request, reference, PathwayStepForm, "Add a pathway step", "Pathway step")


@access.case_management
def pathway_step_edit(request, pk):
    step = access.get_client_record_or_404(request.user, PathwayStep, pk)
    return _edit_record(request, step, PathwayStepForm, "Correct a pathway step", "Pathway step")


@access.case_management
@access.follows_former_reference
def client_becomes_mentor(request, reference):
    """
    The peer pathway's step from client to mentor: a mentor record made from the client's
    (``services.client_becomes_mentor``), then the new mentor's page.
    """
    client = access.get_client_or_404(request.user, reference)
    if refusal := services.becomes_mentor_refusal(client):
        messages.error(request, refusal)
        return redirect("client_detail", reference=client.reference)
    form = BecomesMentorForm(_posted(request), client=client)
    if request.method == "POST" and form.is_valid():
        try:
            mentor = services.client_becomes_mentor(
                client=client,
                started_on=form.cleaned_data["started_on"],
                confirmed=form.cleaned_data.get("confirm", False),
                by=request.user,
            )
        except ValidationError as refused:
            # Someone else acted on the record since the page was read (it is locked and
            # checked again): their change stands, and the form says what it was.
            for field, errors in refused.update_error_dict({}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(
                request,
                f"{mentor.full_name} is now a mentor, {mentor.reference}. Record their "
                "vetting check before they are matched with a client.",
            )
            return redirect("mentor_detail", pk=mentor.pk)
    return render(
        request,
        "mentoring/becomes_mentor.html",
        {
            "form": form,
            "client": client,
            "title": "Becomes a mentor",
            "submit": "Create the mentor record",
            "case_open": "confirm" in form.fields,
        },
    )


@access.case_management
def offence_edit(request, pk):
    offence = access.get_client_record_or_404(request.user, Offence, pk)
    if offence.disposal == Offence.Disposal.PENDING:
        title = "Record the outcome"
        intro = (
            f"{offence.get_offence_type_display()} on {offence.offence_date:%d/%m/%Y}, "
            "awaiting its outcome. Choose the disposal and give the date of the conviction, "
            "caution or decision: a conviction or caution within the follow-up counts as a "
            "proven reoffence in the figures."
        )
    else:
        title, intro = "Correct an offence", ""
    return _edit_record(request, offence, OffenceForm, title, "Offence", intro)


@access.case_management
def placement_edit(request, pk):
    placement = access.get_client_record_or_404(request.user, Placement, pk)
    title = "End or correct a placement" if placement.is_current else "Correct a placement"
    return _edit_record(request, placement, PlacementForm, title, "Placement")


@access.case_management
def milestone_edit(request, pk):
    milestone = access.get_client_record_or_404(request.user, Milestone, pk)
    return _edit_record(request, milestone, MilestoneForm, "Correct a milestone", "Milestone")


@access.case_management
def goal_edit(request, pk):
    """A support-plan review: the goal's wording, area, target date and status."""
    goal = access.get_client_record_or_404(request.user, Goal, pk)
    return _edit_record(request, goal, GoalForm, "Review a goal", "Goal")


@access.case_management
@require_POST
def goal_status(request, pk):
    goal = access.get_client_record_or_404(request.user, Goal, pk)
    if refused := _refuse_anonymised(request, goal.client):
        return refused
    form = GoalStatusForm(request.POST, instance=goal)
    if form.is_valid():
        services.versioned_save(form.save(commit=False))
        messages.success(request, f"Goal marked {goal.get_status_display().lower()}.")
    else:
        messages.error(request, "Choose a valid goal status.")
    return redirect("client_detail", reference=goal.client.reference)


@access.case_management
@access.follows_former_reference
def followup_record(request, reference, point):
    """
    Record a check-in after a completed case (3, 6 or 12 months). One per point: a second
    is refused, and the person is taken to the one already recorded to correct it.
    """
    client = access.get_client_or_404(request.user, reference)
    if point not in FollowUp.Point.values:
        raise Http404("Check-ins are at 3, 6 and 12 months.")
    if refused := _refuse_anonymised(request, client):
        return refused
    if not client.is_completed:
        messages.error(request, "Check-ins follow a case closed as completed.")
        return redirect("client_detail", reference=client.reference)
    if done := client.followups.filter(point=point).first():
        return _followup_already_recorded(request, done)
    back = page_to_return_to(request, reverse("client_detail", args=[client.reference]))
    followup = FollowUp(client=client, point=point)
    form = FollowUpForm(_posted(request), instance=followup)
    if request.method == "POST" and form.is_valid():
        try:
            services.followup_record(followup=form.save(commit=False), by=request.user)
        except services.AlreadyRecorded as recorded:
            return _followup_already_recorded(request, recorded.record)
        messages.success(request, f"The {followup.name} is recorded for {client.reference}.")
        return redirect(back)
    due_on = FollowUp.due_on_for(client.ended_on, point)
    return render(
        request,
        "mentoring/form_page.html",
        {
            "form": form,
            "client": client,
            "title": f"Record the {followup.name}",
            "intro": f"The case closed as completed on {client.ended_on:%d/%m/%Y}; this "
            f"check-in is due on {due_on:%d/%m/%Y}. If the young person could not be "
            "reached, say so: that is recorded too.",
            "submit": "Save check-in",
        },
    )


def _followup_already_recorded(request, followup):
    who = followup.recorded_by
    messages.info(
        request,
        f"The {followup.name} was already recorded"
        + (f" by {who.get_username()}" if who else "")
        + f" on {timezone.localtime(followup.recorded_at):%d/%m/%Y}: correct it here if need be.",
    )
    return redirect("followup_edit", pk=followup.pk)


@access.case_management
def followup_edit(request, pk):
    followup = access.get_client_record_or_404(request.user, FollowUp, pk)
    return _edit_record(
        request,
        followup,
        FollowUpForm,
        f"Correct the {followup.name}",
        "Check-in",
    )


# Sessions -----------------------------------------------------------------------------


def _session_form_page(request, form, client, title):
    return render(
        request,
        "mentoring/session_form.html",
        {"form": form, "client": client, "title": title},
    )


@access.casework
@access.follows_former_reference
def session_new(request, reference=None):
    client = None
    if reference is not None:
        client = access.get_client_or_404(request.user, reference)
        if client.status != Client.Status.ACTIVE:
            messages.error(request, "Sessions can only be logged for an active client.")
            return redirect("client_detail", reference=client.reference)
    form = SupportSessionForm(_posted(request), user=request.user, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            session, created = services.session_log(
                session=form.save(commit=False),
                support_areas=form.cleaned_data["support_areas"],
                by=request.user,
            )
        except services.SubmissionReused:
            messages.error(
                request,
                "This form had already been used by someone else. Nothing was saved: "
                "fill in this fresh form to log the session.",
            )
            form = SupportSessionForm(user=request.user, client=client)
            return _session_form_page(request, form, client, "Log a session")
        if created:
            messages.success(request, f"Session on {session.date:%d/%m/%Y} saved.")
        else:
            messages.info(request, "That session was already saved; it was not saved twice.")
        return redirect("client_detail", reference=session.client.reference)
    return _session_form_page(request, form, client, "Log a session")


@access.casework
def session_edit(request, pk):
    session = access.get_session_or_404(request.user, pk)
    if not access.can_correct_session(request.user, session, _today()):
        raise PermissionDenied(
            "Sessions can be corrected for 7 days, by whoever logged them or a coordinator."
        )
    form = SupportSessionForm(_posted(request), instance=session, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_update(
                session=form.save(commit=False),
                support_areas=form.cleaned_data["support_areas"],
                expected_version=form.cleaned_data["version"],
            )
        except services.EditConflict as conflict:
            _refuse_crossed_edit(form, conflict.current, "session")
        else:
            messages.success(request, "Session corrected.")
            return redirect("client_detail", reference=session.client.reference)
    return _session_form_page(request, form, session.client, "Correct a session")


def _already_followed_up(request, session):
    who = session.safeguarding_handled_by
    messages.info(
        request,
        "This concern was already followed up"
        + (f" by {who.get_username()}" if who else "")
        + f" on {timezone.localtime(session.safeguarding_handled_at):%d/%m/%Y at %H:%M}.",
    )
    return redirect("client_detail", reference=session.client.reference)


@access.case_management
def safeguarding_follow_up(request, pk):
    """Record what was done about a session's safeguarding concern: it then leaves the
    coordinators' list of open concerns."""
    session = access.get_session_or_404(request.user, pk)
    if not session.safeguarding_concern:
        raise Http404("This session raised no safeguarding concern.")
    if session.safeguarding_handled_at is not None:
        return _already_followed_up(request, session)
    # Back to the page the coordinator came from (their home or the client's page).
    back = page_to_return_to(request, reverse("client_detail", args=[session.client.reference]))
    form = SafeguardingFollowUpForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.safeguarding_handle(
                session=session, action=form.cleaned_data["action"], by=request.user
            )
        except services.AlreadyHandled as handled:
            return _already_followed_up(request, handled.session)
        messages.success(
            request,
            f"Safeguarding concern of {session.date:%d/%m/%Y} for {session.client.reference} "
            "marked as followed up.",
        )
        return redirect(back)
    return render(
        request,
        "mentoring/safeguarding_form.html",
        {"form": form, "session": session, "client": session.client, "back": back},
    )


# The employer network -----------------------------------------------------------------

EMPLOYERS_PER_PAGE = 50


@access.roles_required(*access.DASHBOARD_ROLES)
@require_GET
def employer_list(request):
    """
    The employers of the network serving the user's boroughs (or all of them), with their
    contact, and how many of the user's clients they have given placements: now, and in
    all. Counts only: a manager reads no client's name here, and another borough's
    placements with a shared employer are not counted.
    """
    user = request.user
    params = request.GET
    show_all = params.get("show") == "all"
    employers = Employer.objects.for_user(user)
    if not show_all:
        employers = employers.filter(is_active=True)
    q = params.get("q", "").strip()
    employers = _search(employers, q, fields=("name", "sector"))
    # Sorted and paged on the employers alone; the counts are read for one page of them.
    page = Paginator(
        employers.order_by("name", "pk").values_list("pk", flat=True), EMPLOYERS_PER_PAGE
    ).get_page(params.get("page"))
    placements = Placement.objects.for_user(user)
    shown = (
        Employer.objects.filter(pk__in=list(page.object_list))
        .select_related("borough")
        .annotate(
            placements_now=per_row(
                placements.filter(ended_on__isnull=True), "employer", Count("*")
            ),
            placements_all=per_row(placements, "employer", Count("*")),
        )
        .order_by("name", "pk")
    )
    return render(
        request,
        "mentoring/employer_list.html",
        {"page": page, "employers": list(shown), "q": q, "show_all": show_all},
    )


# Mentors ------------------------------------------------------------------------------


def _mentor_activity(queryset, today):
    """Open caseload, and attended sessions and minutes in the last 28 days, per mentor."""
    recent = SupportSession.objects.attended_within(today, ACTIVITY_DAYS)
    return queryset.with_open_caseload().annotate(
        sessions_28=per_row(recent, "mentor", Count("*")),
        minutes_28=per_row(recent, "mentor", Sum("duration_minutes")),
    )


def mentor_list(request):
    """
    The mentors serving the user's boroughs, a page at a time (a borough's fit on one; a
    London-wide manager's hundreds would make one page slow to draw), with the figures of
    ``_mentor_activity``; found by name or reference, and by a borough they serve.
    """
    access.programme_role(request.user)
    today = _today()
    params = request.GET
    show_all = params.get("show") == "all"
    mentors = Mentor.objects.for_user(request.user)
    if not show_all:
        mentors = mentors.active_on(today)
    boroughs = []
    if not access.sees_own_clients_only(request.user):
        boroughs = list(Borough.objects.for_user(request.user).order_by("name"))
    slug = params.get("borough", "")
    borough = next((b for b in boroughs if b.slug == slug), None)
    if borough is not None:
        mentors = mentors.filter(pk__in=Mentor.objects.serving(borough).values("pk"))
    vetting_due = params.get("vetting") == "due"
    if vetting_due:
        mentors = mentors.vetting_not_current(today)
    q = params.get("q", "").strip()
    mentors = _search(mentors, q)
    # Counted and sliced without the figures, which are worked out for one page's mentors.
    page = Paginator(
        mentors.order_by("home_borough__name", "last_name", "first_name", "pk").values_list(
            "pk", flat=True
        ),
        MENTORS_PER_PAGE,
    ).get_page(params.get("page"))
    on_page = (
        _mentor_activity(Mentor.objects.all(), today)
        .select_related("home_borough")
        .in_bulk(page.object_list)
    )
    return render(
        request,
        "mentoring/mentor_list.html",
        {
            "mentors": [on_page[pk] for pk in page.object_list],
            "page": page,
            "q": q,
            "show_all": show_all,
            "vetting_due": vetting_due,
            "boroughs": boroughs if len(boroughs) > 1 else [],
            "borough": borough,
        },
    )


def mentor_detail(request, pk):
    access.programme_role(request.user)
    today = _today()
    mentor = _mentor_activity(
        Mentor.objects.for_user(request.user).filter(pk=pk), today
    ).select_related("home_borough", "former_client__borough")
    mentor = mentor.prefetch_related("other_boroughs").first()
    if mentor is None:
        raise Http404("No such mentor.")
    caseload = (
        Client.objects.for_user(request.user)
        .filter(assignments__mentor=mentor, assignments__ended_on__isnull=True)
        .with_last_attended()
        .select_related("borough")
        .order_by("last_name")
    )
    return render(
        request,
        "mentoring/mentor_detail.html",
        {
            "mentor": mentor,
            "caseload": caseload,
            "show_names": access.may_see_names(request.user),
            "hours_28": mentor.minutes_28 / 60,
        },
    )
