"""
Every URL pattern, as every role, with GET and POST: DESIGN.md's "Roles and data scope"
table checked against what the app really answers.

The patterns come from the URL resolver, the Django admin's included, so a new page is
walked without anyone writing a test for it. It must first be given a row in ``EXPECTED``
(or, for a model newly registered in the admin, a line in ``ADMIN_MODELS``) saying what
each role gets: a pattern without one fails, with a message saying where to add it.

Every URL is built against borough A's records. The cast: anonymous, borough A's
coordinator, borough B's coordinator, a manager of every borough, a mentor in borough A
(assigned to borough A's active client) and an admin. Besides the status, every answer
is searched for what that role must never see: another borough's clients, the names,
contact details and notes a manager never sees, a mentor's other clients.

The records are built once per module (and test process) inside a transaction that is
rolled back at the end, and each test runs in a savepoint of it (pytest-django's ``db``),
so a POST that writes is undone before the next test, and nothing is left behind.
"""

import re
import sys
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from http.cookies import SimpleCookie
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as SignInLog
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import redirect_to_login
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.templatetags.static import static
from django.test import Client as Browser
from django.test.utils import override_settings
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from mentoring.models import (
    AccessLog,
    Client,
    ImpactReportLog,
    JusticeDataLabResult,
    Offence,
    SafeguardingAlert,
    StaffProfile,
    SupportArea,
)

from .. import factories

# What a role gets from a page ---------------------------------------------------------

OK = "allowed"  # 200 or 204, a redirect that is not a bounce to a sign-in page, or 400
# 302 to the sign-in page, coming back to this URL after; the admin's own pages (but not
# its model pages) send visitors to the admin's sign-in page instead.
SIGN_IN = "sent to sign in"
ADMIN_SIGN_IN = "sent to the admin sign-in"  # signed in but not staff, on an admin page
FORBIDDEN = "403"  # the role may not do this at all
NOT_FOUND = "404"  # the record is outside the user's scope, or does not exist
NOT_ALLOWED = "405"  # wrong method for this page


class Redirect(str):
    """302 to exactly this URL name."""


ROLES = ["anonymous", "coordinator_a", "coordinator_b", "manager", "mentor_a", "admin"]
METHODS = ["GET", "POST"]


def roles(anonymous, coordinator_a, coordinator_b, manager, mentor_a, admin):
    answers = [anonymous, coordinator_a, coordinator_b, manager, mentor_a, admin]
    return dict(zip(ROLES, answers, strict=True))


def same(answers):
    """The page answers GET and POST alike."""
    return {"GET": answers, "POST": answers}


def post_only(answers):
    """Roles that get past the role check are told GET is the wrong method."""
    get = {role: NOT_ALLOWED if a in (OK, NOT_FOUND) else a for role, a in answers.items()}
    return {"GET": get, "POST": answers}


def get_only(answers):
    """The page answers GET only: roles that get past the role check may not POST."""
    post = {role: NOT_ALLOWED if a in (OK, NOT_FOUND) else a for role, a in answers.items()}
    return {"GET": answers, "POST": post}


# The rows of DESIGN.md's role table, as answers for a page about borough A.
EVERY_SIGNED_IN = roles(SIGN_IN, OK, OK, OK, OK, OK)
PUBLIC_PAGE = roles(OK, OK, OK, OK, OK, OK)
# Client records: coordinators in their boroughs, mentors for their own clients, admins.
CASEWORK = roles(SIGN_IN, OK, OK, FORBIDDEN, OK, OK)
CASEWORK_ON_A = roles(SIGN_IN, OK, NOT_FOUND, FORBIDDEN, OK, OK)
# Changing client records: coordinators in their boroughs and admins.
CASE_MANAGEMENT = roles(SIGN_IN, OK, OK, FORBIDDEN, FORBIDDEN, OK)
CASE_MANAGEMENT_ON_A = roles(SIGN_IN, OK, NOT_FOUND, FORBIDDEN, FORBIDDEN, OK)
# Dashboards: coordinators and managers in their scope, admins; not mentors.
DASHBOARD = roles(SIGN_IN, OK, OK, OK, FORBIDDEN, OK)
DASHBOARD_ON_A = roles(SIGN_IN, OK, NOT_FOUND, OK, FORBIDDEN, OK)
# Mentor pages: staff of the mentor's boroughs, managers, and the mentor themself.
MENTOR_ON_A = roles(SIGN_IN, OK, NOT_FOUND, OK, OK, OK)
# The Django admin: admins only.
ADMIN_ONLY = roles(SIGN_IN, ADMIN_SIGN_IN, ADMIN_SIGN_IN, ADMIN_SIGN_IN, ADMIN_SIGN_IN, OK)

# Pages anyone may open without signing in. Anything else a visitor reaches is a failure.
# Static files are served before URL resolution: see test_static_files_need_no_sign_in.
PUBLIC = {
    "login",
    "admin:login",
    "health",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}

# Every named URL pattern (namespace:name) and unnamed one ([route]), and what each role
# gets from it with GET and with POST (empty body) for borough A's records.
EXPECTED = {
    # Signing in and out, passwords, two-factor, health.
    "login": same(PUBLIC_PAGE),
    "logout": post_only(EVERY_SIGNED_IN),
    "password_change": same(EVERY_SIGNED_IN),
    "password_change_done": get_only(EVERY_SIGNED_IN),
    "password_reset": same(PUBLIC_PAGE),
    "password_reset_done": get_only(PUBLIC_PAGE),
    "password_reset_confirm": same(PUBLIC_PAGE),
    "password_reset_complete": get_only(PUBLIC_PAGE),
    "two_factor": same(EVERY_SIGNED_IN),
    "two_factor_setup": same(EVERY_SIGNED_IN),
    "two_factor_verify": same(EVERY_SIGNED_IN),
    "health": get_only(PUBLIC_PAGE),
    # Home: a manager's home is their dashboard.
    "home": same(roles(SIGN_IN, OK, OK, Redirect("network_dashboard"), OK, OK)),
    # Clients.
    "client_list": same(CASEWORK),
    "client_new": same(CASE_MANAGEMENT),
    "client_detail": get_only(CASEWORK_ON_A),
    "client_edit": same(CASE_MANAGEMENT_ON_A),
    "client_history": get_only(CASE_MANAGEMENT_ON_A),
    # The browser's note that a client's page is being printed, for the access log.
    "client_printed": post_only(CASEWORK_ON_A),
    "client_export": get_only(CASE_MANAGEMENT_ON_A),
    "client_start": same(CASE_MANAGEMENT_ON_A),
    "client_decline": post_only(CASE_MANAGEMENT_ON_A),
    "client_assign": same(CASE_MANAGEMENT_ON_A),
    "assignment_end": same(CASE_MANAGEMENT_ON_A),
    "client_close": same(CASE_MANAGEMENT_ON_A),
    "client_transfer": same(CASE_MANAGEMENT_ON_A),
    "offence_new": same(CASE_MANAGEMENT_ON_A),
    "milestone_new": same(CASE_MANAGEMENT_ON_A),
    "goal_new": same(CASE_MANAGEMENT_ON_A),
    "goal_status": post_only(CASE_MANAGEMENT_ON_A),
    "offence_edit": same(CASE_MANAGEMENT_ON_A),
    "milestone_edit": same(CASE_MANAGEMENT_ON_A),
    "placement_new": same(CASE_MANAGEMENT_ON_A),
    "goal_edit": same(CASE_MANAGEMENT_ON_A),
    "placement_edit": same(CASE_MANAGEMENT_ON_A),
    # Check-ins after a completed case.
    "followup_record": same(CASE_MANAGEMENT_ON_A),
    "followup_edit": same(CASE_MANAGEMENT_ON_A),
    # The peer pathway: its steps, and a client who becomes a mentor (borough A's active
    # client: the form asks for a confirmation, and an empty POST is its errors).
    "pathway_step_new": same(CASE_MANAGEMENT_ON_A),
    "pathway_step_edit": same(CASE_MANAGEMENT_ON_A),
    "client_becomes_mentor": same(CASE_MANAGEMENT_ON_A),
    # Sessions.
    "client_session_new": same(CASEWORK_ON_A),
    "session_new": same(CASEWORK),
    "session_edit": same(CASEWORK_ON_A),
    # Following up a safeguarding concern is the coordinators' (and admins') job.
    "safeguarding_follow_up": same(CASE_MANAGEMENT_ON_A),
    # Mentors and dashboards.
    "employer_list": get_only(DASHBOARD),
    "mentor_list": same(EVERY_SIGNED_IN),
    "mentor_detail": same(MENTOR_ON_A),
    "network_dashboard": same(DASHBOARD),
    "borough_dashboard": same(DASHBOARD_ON_A),
    "replication_dashboard": same(DASHBOARD),
    # The impact report of borough A (QUERIES): B's coordinator may not choose it (400).
    # A GET page that reads only the query string: a POST is answered as a GET is.
    "impact_report": same(DASHBOARD),
    # The admin site's own pages (the pages of each model are in ADMIN_MODELS).
    "admin:index": same(ADMIN_ONLY),
    "admin:login": same(PUBLIC_PAGE),
    # Signing out of the admin without being staff goes back to the admin's front page.
    "admin:logout": {
        "GET": {
            **ADMIN_ONLY,
            **dict.fromkeys(ROLES[1:5], Redirect("admin:index")),
            "admin": NOT_ALLOWED,
        },
        "POST": {**ADMIN_ONLY, **dict.fromkeys(ROLES[1:5], Redirect("admin:index"))},
    },
    "admin:password_change": same(ADMIN_ONLY),
    "admin:password_change_done": get_only(ADMIN_ONLY),
    "admin:autocomplete": get_only(ADMIN_ONLY),
    "admin:jsi18n": get_only(ADMIN_ONLY),
    # No model here has a page outside the admin to show.
    "admin:view_on_site": same({**ADMIN_ONLY, "admin": NOT_FOUND}),
    "admin:app_list": same(ADMIN_ONLY),
    "admin:auth_user_password_change": same(ADMIN_ONLY),
    # Two client records side by side to bring together (a POST without a form: errors).
    "admin:mentoring_client_merge": same(ADMIN_ONLY),
    # The Justice Data Lab submission (a POST without a form: its errors).
    "admin:mentoring_client_jdl": same(ADMIN_ONLY),
    # Separating a record that was never brought into this one: there is nothing to find.
    "admin:mentoring_client_separate": same({**ADMIN_ONLY, "admin": NOT_FOUND}),
    "[admin/(?P<url>.*)$]": same({**ADMIN_ONLY, "admin": NOT_FOUND}),
}

# Every model registered in the admin, with the admin pages that refuse even an admin,
# on purpose: the access logs are evidence, two-factor secrets are never shown.
# "change" refused means the page is read-only: it opens, and a POST is a 403.
ADMIN_MODELS = {
    "auth.user": set(),
    "mentoring.staffprofile": set(),
    "mentoring.supportarea": set(),
    "mentoring.borough": set(),
    "mentoring.mentor": set(),
    "mentoring.client": set(),
    "mentoring.assignment": set(),
    "mentoring.supportsession": set(),
    "mentoring.offence": set(),
    "mentoring.milestone": set(),
    "mentoring.goal": set(),
    "mentoring.funder": set(),
    "mentoring.grant": set(),
    "mentoring.justicedatalabresult": set(),
    "mentoring.employer": set(),
    "mentoring.placement": set(),
    "mentoring.followup": set(),
    "mentoring.pathwaystep": set(),
    "mentoring.accesslog": {"add", "change", "delete"},
    "mentoring.impactreportlog": {"add", "change", "delete"},
    "mentoring.safeguardingalert": {"add", "change", "delete"},
    "axes.accessattempt": {"add"},
    "axes.accesslog": {"add"},
    "axes.accessfailurelog": {"add"},
    "otp_totp.totpdevice": {"add", "change"},
    "otp_static.staticdevice": {"add", "change"},
}
# The pages the admin serves for every registered model, then those only some have:
# django-simple-history's view of one past version, for models that keep a history.
ADMIN_MODEL_PAGES = ["changelist", "add", "change", "history", "delete", "object_redirect"]
ADMIN_OPTIONAL_PAGES = ["simple_history"]


def admin_model_row(label, page):
    refused = ADMIN_MODELS[label]
    if page not in refused:
        return same(ADMIN_ONLY)
    if page == "change":
        return {"GET": ADMIN_ONLY, "POST": {**ADMIN_ONLY, "admin": FORBIDDEN}}
    return same({**ADMIN_ONLY, "admin": FORBIDDEN})


# The URL patterns --------------------------------------------------------------------


class Pattern(SimpleNamespace):
    """One URL pattern: ``key`` names it in EXPECTED, ``route`` is its full route."""

    def __repr__(self):
        return self.key


def _admin_models_by_route():
    prefix = reverse("admin:index").lstrip("/")
    return {
        f"{prefix}{model._meta.app_label}/{model._meta.model_name}/": model
        for model in admin.site._registry
    }


def _walk(resolver, prefix="", namespace=None):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace])) or None
            yield from _walk(entry, _join(prefix, entry), inner)
        else:
            yield _join(prefix, entry), namespace, entry


def _join(prefix, entry):
    """The full route as the resolver reports it (ResolverMatch.route)."""
    route = str(entry.pattern)
    return prefix + route.removeprefix("^") if prefix else route


def url_patterns():
    """Every URL pattern the project serves, the admin's included, in resolver order."""
    by_route = _admin_models_by_route()
    patterns = []
    for route, namespace, entry in _walk(get_resolver()):
        model = page = None
        for model_route, candidate in by_route.items():
            if not route.startswith(model_route):
                continue
            label = f"{candidate._meta.app_label}_{candidate._meta.model_name}"
            rest = route[len(model_route) :]
            if entry.name and entry.name.startswith(f"{label}_"):
                page = entry.name[len(label) + 1 :]
            elif entry.name is None and rest == "<path:object_id>/":
                page = "object_redirect"
            if page in ADMIN_MODEL_PAGES or page in ADMIN_OPTIONAL_PAGES:
                model = candidate
                break
            page = None
        if entry.name:
            key = f"{namespace}:{entry.name}" if namespace else entry.name
        else:
            key = f"[{route}]"
        if model is not None:
            key = f"{namespace}:{model._meta.app_label}_{model._meta.model_name}_{page}"
        patterns.append(
            Pattern(
                key=key,
                route=route,
                model=model,
                page=page,
                login_required=getattr(entry.callback, "login_required", True),
            )
        )
    return patterns


PATTERNS = url_patterns()


def expected_row(pattern):
    """The row of EXPECTED for ``pattern``, or a failure telling the developer what to add."""
    if pattern.model is not None:
        label = pattern.model._meta.label_lower
        if label not in ADMIN_MODELS:
            pytest.fail(
                f"{label} is registered in the admin but not in ADMIN_MODELS of "
                f"{__name__}: add it, with the admin pages that refuse even an admin."
            )
        return admin_model_row(label, pattern.page)
    if pattern.key not in EXPECTED:
        pytest.fail(
            f"The URL pattern {pattern.key!r} ({pattern.route}) has no row in EXPECTED of "
            f"{__name__}. Add one saying what each role gets with GET and POST (see "
            "DESIGN.md, 'Roles and data scope'), and teach url_for() to fill its arguments."
        )
    return EXPECTED[pattern.key]


# The records: one of every kind in borough A and in borough B ------------------------

# Every free-text and name field of borough B's records holds this marker followed by
# what the field is, so a leak names its source; borough A's contact details and notes
# hold PRIVATE, which managers never see.
MARKER = "ZZLEAKMARKER"
PRIVATE = "YYPRIVATE"
# Markers in these records are a client's data (names, contact details, notes); the
# others (mentors, staff, employers, money) are data of borough B but not of a client.
CLIENT_DATA = [
    "client",
    "other",
    "referral",
    "session",
    "offence",
    "milestone",
    "goal",
    "placement",
    "pathway",
]
# Borough A's clients: the one assigned to mentor_a, another mentor's, and a referral.
A_NAMES = {
    "client": ("Tyrese", "Okafor", "Reesey"),
    "other": ("Callum", "Abernathy", ""),
    "referral": ("Kwame", "Mensah", ""),
    "completed": ("Jaden", "Oduya", ""),
}


def marked(side, category, field):
    """The text stored in ``field`` of a ``category`` record of borough ``side``."""
    if side == "b":
        return f"{MARKER}-{category}-{field}"
    if category in CLIENT_DATA:
        return f"{PRIVATE}-{category}-{field}"
    return f"Southwark {category} {field}"


def _person(side, category):
    if side == "a":
        first, last, preferred = A_NAMES[category]
        return {"first_name": first, "last_name": last, "preferred_name": preferred}
    return {
        "first_name": marked(side, category, "first"),
        "last_name": marked(side, category, "last"),
        "preferred_name": marked(side, category, "preferred"),
    }


def _contact(side, category):
    return {
        "phone": marked(side, category, "phone")[:30],
        "email": f"{marked(side, category, 'email').lower()}@example.org",
        "address": marked(side, category, "address"),
    }


def _staff(username, role, borough=None, **names):
    return factories.StaffProfileFactory(
        user__username=username,
        boroughs=[borough] if borough else [],
        role=role,
        **{f"user__{field}": value for field, value in names.items()},
    )


def _side(side, borough, code, today):
    """Borough ``side``'s staff, mentors, clients and every record a client can have."""
    names = {} if side == "a" else {"first_name": marked(side, "staff", "first")}
    if side == "b":
        names["last_name"] = marked(side, "staff", "last")
    coordinator = _staff(f"coord_{side}", StaffProfile.Role.COORDINATOR, borough, **names)
    mentor_user = _staff(f"mentor_{side}", StaffProfile.Role.MENTOR, borough, **names).user
    mentor_names = (
        {"first_name": "Andre", "last_name": "Baptiste"}
        if side == "a"
        else {
            "first_name": marked(side, "mentor", "first"),
            "last_name": marked(side, "mentor", "last"),
            "preferred_name": marked(side, "mentor", "preferred"),
        }
    )
    mentor = factories.MentorFactory(
        reference=f"M-{code}-001",
        user=mentor_user,
        home_borough=borough,
        qualification=marked(side, "mentor", "qualification"),
        **mentor_names,
    )
    # Mentor of the "other" client. Borough B's also serves borough A (see build_world),
    # so borough A's staff may see his name, but not his borough B client's.
    other_mentor = factories.MentorFactory(
        reference=f"M-{code}-002",
        home_borough=borough,
        **(
            {"first_name": "Leon", "last_name": "Spare"}
            if side == "a"
            else {"last_name": "Visitor"}
        ),
    )
    person = factories.ClientFactory(
        reference=f"{code}-00001",
        borough=borough,
        active=True,
        **_person(side, "client"),
        **_contact(side, "client"),
    )
    referral = factories.ClientFactory(
        reference=f"{code}-00002",
        borough=borough,
        **_person(side, "referral"),
        **_contact(side, "referral"),
    )
    other = factories.ClientFactory(
        reference=f"{code}-00003",
        borough=borough,
        active=True,
        **_person(side, "other"),
    )
    assignment = factories.AssignmentFactory(client=person, mentor=mentor)
    factories.AssignmentFactory(client=other, mentor=other_mentor)
    ended = today - timedelta(days=200)
    completed = factories.ClientFactory(
        reference=f"{code}-00004",
        borough=borough,
        closed=True,
        referred_on=ended - timedelta(days=300),
        ended_on=ended,
        **_person(side, "completed"),
    )
    # The mentor was once a client (the "other" client stands in for their own record):
    # their page names that record to those who may open it, and to no one else.
    mentor.former_client, mentor.was_client = other, True
    mentor.client_support_started_on = other.started_on
    mentor.save()
    session = factories.SupportSessionFactory(
        client=person,
        mentor=mentor,
        date=today - timedelta(days=1),
        notes=marked(side, "session", "notes"),
        safeguarding_concern=True,
        logged_by=mentor_user,
    )
    session.support_areas.set(SupportArea.objects.order_by("pk")[:2])
    offence_on = person.started_on + timedelta(days=30)
    offence = factories.OffenceFactory(
        client=person,
        offence_date=offence_on,
        outcome_date=offence_on + timedelta(days=60),
        disposal=Offence.Disposal.CAUTION,
        offence_type=marked(side, "offence", "type")[:30] if side == "b" else "THEFT",
        notes=marked(side, "offence", "notes"),
    )
    employer = factories.EmployerFactory(
        name=marked(side, "employer", "name"),
        sector=marked(side, "employer", "sector"),
        borough=borough,
        contact_name=marked(side, "employer", "contact"),
        contact_email=f"{marked(side, 'employer', 'email').lower()}@example.org",
        contact_phone=marked(side, "employer", "phone")[:30],
    )
    funder = factories.FunderFactory(
        name=marked(side, "funder", "name"), notes=marked(side, "funder", "notes")
    )
    # Two-factor devices, for the coordinator: enrolled, so their set-up page moves on.
    owner = coordinator.user
    totp = owner.totpdevice_set.create(name=marked(side, "device", "totp"), confirmed=True)
    recovery = owner.staticdevice_set.create(
        name=marked(side, "device", "recovery"), confirmed=True
    )
    recovery.token_set.create(token=f"code{side}0001")
    return SimpleNamespace(
        borough=borough,
        coordinator=coordinator.user,
        coordinator_profile=coordinator,
        mentor_user=mentor_user,
        mentor=mentor,
        other_mentor=other_mentor,
        client=person,
        referral=referral,
        other=other,
        assignment=assignment,
        session=session,
        offence=offence,
        milestone=factories.MilestoneFactory(
            client=person, evidence=marked(side, "milestone", "evidence")
        ),
        goal=factories.GoalFactory(client=person, description=marked(side, "goal", "text")),
        employer=employer,
        placement=factories.PlacementFactory(
            client=person, employer=employer, notes=marked(side, "placement", "notes")
        ),
        pathway_step=factories.PathwayStepFactory(
            client=person, reached_on=person.started_on, note=marked(side, "pathway", "note")
        ),
        funder=funder,
        grant=factories.GrantFactory(
            funder=funder,
            borough=borough,
            reference=marked(side, "grant", "reference"),
            notes=marked(side, "grant", "notes"),
        ),
        jdl_result=JusticeDataLabResult.objects.create(
            borough=borough,
            period_start=today - timedelta(days=800),
            period_end=today - timedelta(days=435),
            people_matched=84,
            treatment_rate=Decimal("0.21"),
            comparison_rate=Decimal("0.33"),
            p_value=Decimal("0.012"),
            published_on=today - timedelta(days=30),
        ),
        safeguarding_alert=SafeguardingAlert.objects.create(
            session=session, kind=SafeguardingAlert.Kind.ALERT, sent_at=timezone.now()
        ),
        impact_report_log=ImpactReportLog.objects.create(
            user=coordinator.user,
            username=coordinator.user.username,
            scope=ImpactReportLog.Scope.AREA,
            scope_name=borough.name,
            borough=borough,
            period_start=today - timedelta(days=365),
            period_end=today,
            as_of=today,
            format=ImpactReportLog.Format.PDF,
        ),
        access_log=AccessLog.objects.create(
            user=coordinator.user,
            username=coordinator.user.username,
            client=person,
            client_reference=person.reference,
            action=AccessLog.Action.VIEW,
            path=f"/clients/{person.reference}/",
        ),
        sign_in_attempt=AccessAttempt.objects.create(
            username=coordinator.user.username,
            ip_address=f"192.0.2.{1 if side == 'a' else 2}",
            user_agent="pytest",
            failures_since_start=1,
        ),
        sign_in_log=SignInLog.objects.create(
            username=coordinator.user.username,
            ip_address=f"192.0.2.{1 if side == 'a' else 2}",
            user_agent="pytest",
        ),
        sign_in_failure=AccessFailureLog.objects.create(
            username=coordinator.user.username,
            ip_address=f"192.0.2.{1 if side == 'a' else 2}",
            user_agent="pytest",
            locked_out=False,
        ),
        totp_device=totp,
        recovery_device=recovery,
        completed=completed,
        followup=factories.FollowUpFactory(client=completed, note=marked(side, "followup", "note")),
    )


def build_world():
    """Borough A and B with one record of every kind each, the cast, and their sessions."""
    today = timezone.localdate()
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        borough_a = factories.BoroughFactory(name="Southwark", slug="southwark", code="SWK")
        borough_b = factories.BoroughFactory(name="Croydon", slug="croydon", code="CRO")
        a = _side("a", borough_a, "SWK", today)
        b = _side("b", borough_b, "CRO", today)
        b.other_mentor.other_boroughs.add(borough_a)
        users = {
            "coordinator_a": a.coordinator,
            "coordinator_b": b.coordinator,
            "manager": _staff("manager", StaffProfile.Role.MANAGER).user,
            "manager_a": _staff("manager_a", StaffProfile.Role.MANAGER, borough_a).user,
            "mentor_a": a.mentor_user,
            "admin": factories.UserFactory(username="sos_admin", is_staff=True, is_superuser=True),
        }
    cookies = {}
    for role, user in users.items():
        browser = Browser()
        browser.force_login(user)
        cookies[role] = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return SimpleNamespace(a=a, b=b, users=users, cookies=cookies, browsers={}, today=today)


@contextmanager
def rolled_back_world(django_db_blocker):
    """
    build_world() inside a transaction that is rolled back when the block ends. Two-factor
    sign-in is tested on its own: here every signed-in user has passed the second step.
    """
    with override_settings(SOS_REQUIRE_2FA=False):
        with django_db_blocker.unblock():
            block = transaction.atomic()
            block.__enter__()
            try:
                world = build_world()
            except BaseException:
                transaction.set_rollback(True)
                block.__exit__(*sys.exc_info())
                raise
        try:
            yield world
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                block.__exit__(None, None, None)


def browser_for(world, role):
    """
    The test client (CSRF not enforced) of ``role``, with only its session cookie, or
    none for anonymous. One per role and module: a new client sets up every middleware
    again, WhiteNoise's scan of the static files included.
    """
    if role not in world.browsers:
        world.browsers[role] = Browser(raise_request_exception=False)
    browser = world.browsers[role]
    browser.cookies = SimpleCookie()
    if role != "anonymous":
        browser.cookies[settings.SESSION_COOKIE_NAME] = world.cookies[role]
    return browser


# Concrete URLs -----------------------------------------------------------------------

PATH_ARGUMENT = re.compile(r"<(?:[^>:]+:)?(?P<name>[^>]+)>")
REGEX_ARGUMENT = re.compile(r"\((?:\?P<(?P<name>\w+)>)?[^)]*\)")
# What the unnamed groups of a regex route are, in order, per admin page.
POSITIONAL_ARGUMENTS = {"simple_history": ["object_id", "history_id"]}
# Which record an <int:pk> means, per page.
PK_RECORDS = {
    "goal_status": "goal",
    "offence_edit": "offence",
    "milestone_edit": "milestone",
    "placement_edit": "placement",
    "pathway_step_edit": "pathway_step",
    "goal_edit": "goal",
    "session_edit": "session",
    "safeguarding_follow_up": "session",  # the world's sessions raise a concern
    "mentor_detail": "mentor",
    "followup_edit": "followup",
}
# Pages about a case closed as completed: its check-ins.
COMPLETED_PAGES = {"followup_record"}
# Pages about a referral (not yet started) rather than an active client.
REFERRAL_PAGES = {"client_start", "client_decline"}


def admin_record(world, side, model):
    """The record of ``model`` that belongs to borough ``side`` (or the only one)."""
    records = vars(getattr(world, side))
    for name in ("coordinator", "coordinator_profile", *records):
        record = records[name]
        if isinstance(record, model):
            return record
    shared = model._default_manager.order_by("pk").first()
    if shared is None:
        pytest.fail(f"build_world() makes no {model._meta.label}: add one per borough.")
    return shared


def argument(world, pattern, name, side):
    """The value of URL argument ``name`` of ``pattern`` for borough ``side``'s records."""
    records = getattr(world, side)
    key = pattern.key.split(":")[-1]
    if pattern.model is not None and name == "object_id":
        return admin_record(world, side, pattern.model).pk
    if pattern.model is not None and name == "history_id":
        return admin_record(world, side, pattern.model).history.latest("history_id").pk
    if key == "mentoring_client_separate":
        return records.client.pk if name == "pk" else records.other.reference
    if name == "reference":
        if key in COMPLETED_PAGES:
            return records.completed.reference
        return (records.referral if key in REFERRAL_PAGES else records.client).reference
    if key == "followup_record" and name == "point":
        return 6  # the 3-month check-in is recorded already
    if key == "mentoring_client_merge":
        return (records.client if name == "pk" else records.other).pk
    if name == "pk" and key in PK_RECORDS:
        return getattr(records, PK_RECORDS[key]).pk
    if name == "slug":
        return records.borough.slug
    if key == "view_on_site":
        if name == "content_type_id":
            return ContentType.objects.get_for_model(Client).pk
        return records.client.pk
    if key == "auth_user_password_change" and name == "id":
        return records.coordinator.pk
    if key == "app_list" and name == "app_label":
        return "mentoring"
    if name == "url":
        return "zz-no-such-page/"
    if key == "password_reset_confirm":
        user = records.coordinator
        if name == "uidb64":
            return urlsafe_base64_encode(force_bytes(user.pk))
        return default_token_generator.make_token(user)
    return pytest.fail(
        f"url_for() cannot fill argument {name!r} of {pattern.key!r} ({pattern.route}): "
        f"teach argument() in {__name__} which record it means."
    )


# Query strings some pages need to answer at all, or to show more than a form.
QUERIES = {
    # Borough A's clients started in 2020 (the factories' dates): the report, not the form.
    "impact_report": {
        "scope": "area:southwark",
        "from": "01/01/2020",
        "to": "31/12/2020",
    },
    "admin:autocomplete": {
        "app_label": "mentoring",
        "model_name": "assignment",
        "field_name": "client",
        "term": "",
    },
}


def url_for(world, pattern, side="a", query=None):
    """``pattern`` as a URL about borough ``side``'s records, checked to resolve to it."""

    def fill(match):
        return str(argument(world, pattern, match["name"], side))

    positional = iter(POSITIONAL_ARGUMENTS.get(pattern.page, []))

    def fill_group(match):
        name = match["name"] or next(positional, f"group {match.group()}")
        return str(argument(world, pattern, name, side))

    path = PATH_ARGUMENT.sub(fill, REGEX_ARGUMENT.sub(fill_group, pattern.route))
    path = "/" + path.replace("^", "").replace("$", "")
    assert resolve(path).route == pattern.route, f"{path} does not resolve to {pattern.route}"
    query = QUERIES.get(pattern.key) if query is None else query
    return f"{path}?{urlencode(query, doseq=True)}" if query else path


# What each role must never see -------------------------------------------------------


def client_names(*clients):
    return [
        name
        for person in clients
        for name in (person.first_name, person.last_name, person.preferred_name)
        if name
    ]


def never_shown_to(world, role):
    """Text that must not appear in anything ``role`` is sent, whatever the page."""
    a = world.a
    a_names = client_names(a.client, a.other, a.referral)
    client_markers = [f"{MARKER}-{category}-" for category in CLIENT_DATA]
    return {
        # Nothing about anyone before signing in.
        "anonymous": [*a_names, PRIVATE, MARKER],
        # Nothing of borough B at all.
        "coordinator_a": [MARKER],
        "manager_a": [*a_names, PRIVATE, MARKER],
        # Nothing of borough A's clients.
        "coordinator_b": [*a_names, PRIVATE],
        # Aggregates and reference numbers only: no names, contact details or notes.
        "manager": [*a_names, PRIVATE, *client_markers],
        # Their own client only.
        "mentor_a": [*client_names(a.other, a.referral), f"{PRIVATE}-referral-", MARKER],
        "admin": [],
    }[role]


def body_of(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def leaks(body, needles):
    """
    The needles found in ``body`` (case-insensitive), each with the text around it. A
    needle that starts or ends with a letter or digit is not found inside a longer run of
    them: a random CSRF token once held "kWamE". Markers ending in "-" are prefixes.
    """
    found = []
    for needle in needles:
        before = r"(?<![^\W_])" if needle[0].isalnum() else ""
        after = r"(?![^\W_])" if needle[-1].isalnum() else ""
        match = re.search(before + re.escape(needle) + after, body, re.IGNORECASE)
        if match:
            at = match.start()
            found.append(f"{needle!r} in ...{body[max(0, at - 60) : at + 80]!r}...")
    return found


# The matrix --------------------------------------------------------------------------

CASES = [
    pytest.param(pattern, role, method, id=f"{pattern.key}-{role}-{method}")
    for pattern in PATTERNS
    for role in ROLES
    for method in METHODS
]


def check_answer(response, expected, url, role):
    """Assert that ``response`` is the ``expected`` answer for ``url``."""
    status = response.status_code
    location = response.get("Location", "")
    error = getattr(response, "exc_info", None)
    assert status != 500, f"500 for {role} at {url}: {error and error[1]!r}"
    sign_in = redirect_to_login(url, reverse("login")).url
    admin_sign_in = redirect_to_login(url, reverse("admin:login")).url
    summary = f"{role} at {url} got {status} {location}, expected {expected}"
    if isinstance(expected, Redirect):
        assert (status, location) == (302, reverse(expected)), summary
    elif expected == OK:
        assert status in (200, 204, 302, 400), summary
        assert location not in (sign_in, admin_sign_in), summary
    elif expected == SIGN_IN and url.startswith(reverse("admin:index")):
        assert status == 302, summary
        assert location in (sign_in, admin_sign_in), summary
    elif expected == SIGN_IN:
        assert (status, location) == (302, sign_in), summary
    elif expected == ADMIN_SIGN_IN:
        assert (status, location) == (302, admin_sign_in), summary
    else:
        assert str(status) == expected, summary


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with rolled_back_world(django_db_blocker) as records:
        yield records


class TestEveryUrlEveryRoleEveryMethod:
    @pytest.mark.parametrize(("pattern", "role", "method"), CASES)
    def test_answer_matches_the_role_table(self, db, world, pattern, role, method):
        """
        The answer is the one EXPECTED gives the role, never a 500, and holds nothing
        the role must never see.
        """
        expected = expected_row(pattern)[method][role]
        url = url_for(world, pattern)
        browser = browser_for(world, role)
        response = browser.get(url) if method == "GET" else browser.post(url, {})
        check_answer(response, expected, url, role)
        found = leaks(body_of(response), never_shown_to(world, role))
        assert not found, f"{role} {method} {url} shows what it must not: {found}"


# The table itself ---------------------------------------------------------------------


def test_every_url_pattern_has_a_row():
    """A new URL pattern fails here, once, with the list of what to add."""
    missing = [
        f"{p.key} ({p.route})"
        for p in PATTERNS
        if (p.model is None and p.key not in EXPECTED)
        or (p.model is not None and p.model._meta.label_lower not in ADMIN_MODELS)
    ]
    assert not missing, (
        "URL patterns without a row in EXPECTED (or ADMIN_MODELS) of "
        f"{__name__}: {missing}. Say what each role gets from them."
    )


def test_every_row_is_a_url_pattern():
    """Rows for pages that no longer exist are removed, so the table says what is served."""
    keys = {p.key for p in PATTERNS if p.model is None}
    labels = {m._meta.label_lower for m in admin.site._registry}
    assert set(EXPECTED) - keys == set()
    assert set(ADMIN_MODELS) - labels == set()


def test_every_pattern_has_its_own_key():
    keys = [p.key for p in PATTERNS]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_every_registered_admin_model_has_all_its_pages_walked():
    for model in admin.site._registry:
        pages = {p.page for p in PATTERNS if p.model is model}
        assert set(ADMIN_MODEL_PAGES) <= pages, model
        assert pages <= {*ADMIN_MODEL_PAGES, *ADMIN_OPTIONAL_PAGES}, model


def test_pages_open_without_sign_in_are_exactly_the_allow_list():
    """
    What the project marks as needing no sign-in (``login_not_required``) and what the
    table lets a visitor open are both the short PUBLIC list.
    """
    marked_public = {p.key for p in PATTERNS if not p.login_required}
    open_in_table = {
        key
        for key, row in EXPECTED.items()
        if row["GET"]["anonymous"] != SIGN_IN or row["POST"]["anonymous"] != SIGN_IN
    }
    assert marked_public == PUBLIC
    assert open_in_table == PUBLIC


def test_another_borough_is_told_not_found_never_forbidden():
    """
    Borough B's coordinator has every right borough A's coordinator has, so wherever a
    page about a borough A record lets A's coordinator in, B's is told it does not exist.
    """
    for pattern in PATTERNS:
        if pattern.model is not None or not PATH_ARGUMENT.search(pattern.route):
            continue
        row = expected_row(pattern)
        for method in METHODS:
            if row[method]["coordinator_a"] == OK and pattern.key not in PUBLIC:
                assert row[method]["coordinator_b"] in (NOT_FOUND, NOT_ALLOWED), pattern.key


def test_managers_and_mentors_change_no_client_record():
    """Managers read aggregates and mentors read their clients: no case management."""
    for key in [
        "client_new",
        "client_edit",
        "client_start",
        "client_decline",
        "client_assign",
        "assignment_end",
        "client_close",
        "client_transfer",
        "offence_new",
        "milestone_new",
        "goal_new",
        "goal_status",
        "offence_edit",
        "milestone_edit",
        "placement_new",
        "placement_edit",
        "goal_edit",
        "followup_record",
        "followup_edit",
        "pathway_step_new",
        "pathway_step_edit",
        "client_becomes_mentor",
    ]:
        assert EXPECTED[key]["POST"]["manager"] == FORBIDDEN, key
        assert EXPECTED[key]["POST"]["mentor_a"] == FORBIDDEN, key


def served_routes(resolver, prefix=""):
    """
    Every route the URLconf serves, the admin's included, joined as Django joins them for
    ResolverMatch.route: found apart from url_patterns(), to check what it found.
    """
    for entry in resolver.url_patterns:
        route = URLResolver._join_route(prefix, str(entry.pattern))
        if isinstance(entry, URLResolver):
            yield from served_routes(entry, route)
        else:
            yield route


def test_every_served_route_is_walked_by_every_role_with_get_and_post(record_property):
    """
    The cases are every route the project serves, each once, for every role, with GET
    and with POST: a route that url_patterns() misses or a method dropped from CASES
    fails here. (Static files are not in the URLconf: see the last test.) The number of
    cases goes in the test report.
    """
    record_property("url_matrix_cases", len(CASES))
    served = Counter(served_routes(get_resolver()))
    assert served[reverse("client_list").lstrip("/")] == 1
    assert served[reverse("admin:index").lstrip("/")] == 1
    expected = Counter(
        {
            (route, role, method): times
            for route, times in served.items()
            for role in ROLES
            for method in ("GET", "POST")
        }
    )
    walked = Counter((case.values[0].route, *case.values[1:]) for case in CASES)
    assert sorted(expected - walked) == [], "served, but not walked"
    assert sorted(walked - expected) == [], "walked, but not served (or walked twice)"


def test_the_impact_report_walked_is_a_report(db, world):
    """
    QUERIES makes the matrix read a report, not its form: it answers 200 with the figures
    where the role may choose borough A, and 400 (a choice refused) for borough B's
    coordinator, as "allowed" alone cannot tell.
    """
    pattern = next(p for p in PATTERNS if p.key == "impact_report")
    url = url_for(world, pattern)
    for role in ("coordinator_a", "manager", "admin"):
        response = browser_for(world, role).get(url)
        assert response.status_code == 200, role
        assert '<article class="impact"' in body_of(response), role
    response = browser_for(world, "coordinator_b").get(url)
    assert response.status_code == 400
    assert "Select a valid choice" in body_of(response)


def test_the_roles_are_the_whole_cast(db, world):
    """
    ROLES walks every kind of user there is: a visitor, each staff role of
    StaffProfile.Role (a new role fails here until the matrix says what it gets), an
    admin, and a coordinator of another borough than the records'.
    """
    assert "anonymous" in ROLES
    users = [world.users[role] for role in ROLES if role != "anonymous"]
    profiles = [user.staff_profile for user in users if hasattr(user, "staff_profile")]
    assert {profile.role for profile in profiles} == set(StaffProfile.Role)
    assert any(user.is_staff and user.is_superuser for user in users), "no admin"
    assert any(
        profile.role == StaffProfile.Role.COORDINATOR
        and profile.boroughs.exists()
        and not profile.boroughs.filter(pk=world.a.borough.pk).exists()
        for profile in profiles
    ), "no coordinator of another borough"


def test_static_files_need_no_sign_in(settings):
    """
    Stylesheets and scripts load on the sign-in page, before anyone signs in: WhiteNoise
    answers before any sign-in check. Tests have no collectstatic folder, so WhiteNoise
    (set up afresh by a new test client) is told to read the static folders directly.
    """
    settings.WHITENOISE_USE_FINDERS = True
    response = Browser().get(static("css/sos.css"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)
