from . import access


def sos(request):
    """The signed-in user's role, for the navigation bar."""
    user = getattr(request, "user", None)
    role = access.role_of(user) if user is not None else None
    return {
        "sos_role": role,
        "sos_can_casework": role in access.CASEWORK_ROLES,
        "sos_can_manage_cases": role in access.CASE_MANAGEMENT_ROLES,
        "sos_can_see_dashboards": role in access.DASHBOARD_ROLES,
    }
