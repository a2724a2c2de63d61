"""
The logins the generated data sets create, and the password they have in development mode:
one for each role in the demo, and for benchmarks and load tests (``scale.`` names) a
coordinator for each of the busiest areas, two managers and a mentor.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import Count, Q

from mentoring import models as m

User = get_user_model()

DEMO_PASSWORD = "sos-demo-2026"

DEMO_USERS = [
    # username, role, borough codes, description
    ("admin", "ADMIN", [], "admin: everything, through /admin/"),
    ("coordinator", "COORDINATOR", ["SWK"], "coordinator for Southwark"),
    ("coordinator.sw", "COORDINATOR", ["BRS", "DOR"], "coordinator for Bristol and Dorset"),
    ("manager", "MANAGER", [], "manager: all areas, aggregates only"),
    ("mentor", "MENTOR", ["SWK"], "mentor in Southwark, their own clients"),
]
# The people behind the demo logins (the mentor login takes its mentor's name), so that
# the pages greet and the change history names someone.
DEMO_NAMES = {
    "admin": ("Sam", "Okoye"),
    "coordinator": ("Grace", "Mensah"),
    "coordinator.sw": ("Rhian", "Evans"),
    "manager": ("Adaeze", "Clarke"),
}

SCALE_USERS_PREFIX = "scale."
COORDINATOR_LOGINS = 10  # one coordinator login for each of the busiest areas


def existing_demo_logins():
    """The demo users already in the database, as (username, description) pairs."""
    present = set(
        User.objects.filter(username__in=[u[0] for u in DEMO_USERS]).values_list(
            "username", flat=True
        )
    )
    return [(u, description) for u, _r, _c, description in DEMO_USERS if u in present]


def create_demo_logins(areas):
    """
    The demo's logins, one for each role, with the boroughs ``areas`` (Borough objects by
    code); returns (username, description) pairs.
    """
    usable = DEMO_PASSWORD if settings.DEV_MODE else None
    created = []
    for username, role, codes, description in DEMO_USERS:
        first, last = DEMO_NAMES.get(username, (username.title(), ""))
        user = User(username=username, first_name=first, last_name=last)
        user.set_password(usable) if usable else user.set_unusable_password()
        if role == "ADMIN":
            user.is_staff = user.is_superuser = True
        user.save()
        if role != "ADMIN":
            profile = m.StaffProfile.objects.create(user=user, role=role)
            profile.boroughs.set([areas[c] for c in codes])
        if role == "COORDINATOR":
            # The concerns followed up in their boroughs were theirs to follow up.
            m.SupportSession.objects.filter(
                safeguarding_handled_at__isnull=False,
                client__borough__in=[areas[c] for c in codes],
            ).update(safeguarding_handled_by=user)
        created.append((username, description))
    # The demo mentor login belongs to the Southwark mentor with the most current clients.
    busiest = (
        m.Mentor.objects.filter(home_borough=areas["SWK"], ended_on__isnull=True)
        .annotate(open=Count("assignments", filter=Q(assignments__ended_on__isnull=True)))
        .order_by("-open", "reference")
        .first()
    )
    login = User.objects.get(username="mentor")
    login.first_name, login.last_name = busiest.first_name, busiest.last_name
    login.save(update_fields=["first_name", "last_name"])
    busiest.user = login
    busiest.save(update_fields=["user"])
    return created


def create_scale_logins(areas, mentors):
    """
    Logins for benchmarks and load tests, created or kept: a coordinator for each of the
    COORDINATOR_LOGINS busiest of the planned ``areas``, a manager over every area, a
    manager over the London boroughs and a mentor of ``mentors`` in the busiest area.
    Returns (username, description) pairs.
    """
    busiest = sorted(areas, key=lambda a: (-a.clients, a.index))
    role = m.StaffProfile.Role
    prefix = SCALE_USERS_PREFIX
    wanted = [
        (
            f"{prefix}coordinator.{a.code.lower()}",
            role.COORDINATOR,
            [a],
            f"coordinator for {a.name} ({_plural(a.clients, 'client')})",
        )
        for a in busiest[:COORDINATOR_LOGINS]
    ]
    london = [a for a in areas if a.region == "London"]
    wanted.append((f"{prefix}manager", role.MANAGER, [], "manager: all areas"))
    if london:
        description = f"manager: London only ({_plural(len(london), 'area')})"
        wanted.append((f"{prefix}manager.london", role.MANAGER, london, description))
    top = busiest[0]
    mentor = max(
        (x for x in mentors if x.area is top and x.ended is None),
        key=lambda x: (x.open, -x.id),
    )
    current = _plural(mentor.open, "current client")
    description = f"mentor in {top.name} ({mentor.row[3]}, {current})"
    wanted.append((f"{prefix}mentor", role.MENTOR, [top], description))
    # One hash for all: the password is the same, and hashing is slow by design.
    password = make_password(DEMO_PASSWORD if settings.DEV_MODE else None)
    users = []
    for username, login_role, served, description in wanted:
        user, _created = User.objects.get_or_create(username=username)
        user.first_name = username.split(".")[1].title()
        user.password = password
        user.is_active = True
        user.save()
        profile, _created = m.StaffProfile.objects.update_or_create(
            user=user, defaults={"role": login_role}
        )
        profile.boroughs.set([a.id for a in served])
        if login_role == m.StaffProfile.Role.MENTOR:
            m.Mentor.objects.filter(user=user).update(user=None)
            m.Mentor.objects.filter(pk=mentor.id).update(user=user)
        users.append((username, description))
    return users


def _plural(count, noun):
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
