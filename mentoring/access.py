"""
Who may do what. Views ask here; they never test roles or boroughs themselves.

Every object a view shows or changes is fetched through the model's ``for_user`` scope, so
another borough's record is simply not found (404): its existence is not revealed.
What a role may do at all (a manager logging a session, say) is a 403.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone

from .models import Client, StaffProfile, SupportSession, borough_ids_for, staff_role

ADMIN = "ADMIN"
COORDINATOR = StaffProfile.Role.COORDINATOR
MANAGER = StaffProfile.Role.MANAGER
MENTOR = StaffProfile.Role.MENTOR

# Roles that may open client records (names, notes) and log sessions.
CASEWORK_ROLES = {ADMIN, COORDINATOR, MENTOR}
# Roles that may create and change client records: referrals, starts, closures.
CASE_MANAGEMENT_ROLES = {ADMIN, COORDINATOR}
# Roles that may read dashboards (aggregates only: no client names).
DASHBOARD_ROLES = {ADMIN, COORDINATOR, MANAGER}
# Every role of the programme: an account with none yet reaches no page of it.
PROGRAMME_ROLES = {ADMIN, COORDINATOR, MANAGER, MENTOR}
NO_ROLE = "Your account has no role in the programme yet."


def role_of(user):
    return staff_role(user)


def roles_required(*roles):
    """Allow the view only to users whose role is one of ``roles``; others get 403."""
    allowed = set(roles)

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if role_of(request.user) not in allowed:
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


casework = roles_required(*CASEWORK_ROLES)
case_management = roles_required(*CASE_MANAGEMENT_ROLES)


def get_client_or_404(user, reference, queryset=None):
    """The client with ``reference`` if ``user`` may reach it, else 404."""
    queryset = Client.objects if queryset is None else queryset
    return get_object_or_404(queryset.for_user(user).select_related("borough"), reference=reference)


def client_formerly(user, reference):
    """
    The client ``user`` may reach that a record with ``reference`` was brought into
    (``FormerReference``), or None: an old link leads to the record kept, and to nothing
    for anyone who may not see it.
    """
    return Client.objects.for_user(user).filter(former_references__reference=reference).first()


def follows_former_reference(view):
    """
    A page of a client reached by a reference that was brought into another record
    (``client_formerly``) is sent on to the same page of the record kept, query string
    and all, for a user who may see that record; anyone else keeps the 404. Only reading
    is sent on: a form posted to the old address is refused (404), as its figures belong
    to a record that no longer exists, and the kept record's page is one click away.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Http404:
            reference = kwargs.get("reference")
            if reference is None or request.method not in ("GET", "HEAD"):
                raise
            kept = client_formerly(request.user, reference)
            if kept is None:
                raise
            match = request.resolver_match
            url = reverse(match.view_name, kwargs={**match.kwargs, "reference": kept.reference})
            query = request.META.get("QUERY_STRING")
            return redirect(f"{url}?{query}" if query else url)

    return wrapped


def may_open(user, client):
    """
    Whether ``user`` may open ``client``'s page, from what this request already knows (no
    query): a link to a record in another scope would only lead to a 404. Mentors reach
    the clients they mentor now, which only ``Client.objects.for_user`` can tell: no link.
    """
    if role_of(user) not in CASE_MANAGEMENT_ROLES:
        return False
    ids = borough_ids_for(user)
    return ids is None or client.borough_id in ids


def may_open_mentor(user, mentor):
    """
    Whether ``user`` may open ``mentor``'s page, from what this request already knows:
    those who may open client records, when the mentor is based in one of their boroughs
    (a mentor's page is reached by the boroughs they serve, which would take a query).
    """
    if role_of(user) not in CASE_MANAGEMENT_ROLES:
        return False
    ids = borough_ids_for(user)
    return ids is None or mentor.home_borough_id in ids


def get_session_or_404(user, pk):
    return get_object_or_404(
        SupportSession.objects.for_user(user).select_related("client__borough", "mentor"), pk=pk
    )


def get_client_record_or_404(user, model, pk):
    """A client's record (offence, milestone, placement, goal) if ``user`` may reach the
    client, else 404."""
    return get_object_or_404(model.objects.for_user(user).select_related("client__borough"), pk=pk)


def programme_role(user):
    """The user's role in the programme; 403 for an account that has none yet."""
    role = role_of(user)
    if role not in PROGRAMME_ROLES:
        raise PermissionDenied(NO_ROLE)
    return role


def can_do_casework(user):
    return role_of(user) in CASEWORK_ROLES


def can_manage_cases(user):
    return role_of(user) in CASE_MANAGEMENT_ROLES


def may_change_records(user, client):
    """
    Whether ``user`` may add to or correct ``client``'s records: case managers may, but
    not once retention has anonymised the client, as new free text could bring personal
    data back.
    """
    return can_manage_cases(user) and not client.anonymised_on


def may_see_names(user):
    """Managers read aggregates and references only: no names, contact details or notes."""
    return role_of(user) != MANAGER


def home_is_dashboard(user):
    """Managers have no caseload: their home is their dashboard."""
    return role_of(user) == MANAGER


def sees_own_clients_only(user):
    """Mentors reach only the clients they mentor now, in whatever borough."""
    return role_of(user) == MENTOR


def can_correct_session(user, session, today):
    """
    Sessions logged in the last 7 days can be corrected by whoever logged them or by a
    coordinator of the client's borough (the caller has already scoped ``session``).
    """
    if role_of(user) == ADMIN:
        return True
    recent = (today - timezone.localdate(session.created_at)).days <= 7
    if not recent:
        return False
    return session.logged_by_id == user.pk or role_of(user) == COORDINATOR
