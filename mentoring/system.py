"""
Pages that sit outside the case records: the health check for load balancers and the
error page for a database outage.
"""

import logging
import sys

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from mentoring import replica

logger = logging.getLogger("mentoring.system")


@login_not_required
@require_GET
@never_cache
def health(request):
    """
    For load balancers and monitoring: 200 when this process can run a query, 503 when it
    cannot. Says nothing about the data, so it needs no sign-in. With a read replica it
    also says whether the replica answers; one that does not leaves the status 200, as the
    dashboards then read from the primary.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("Health check: database unavailable (%s)", exc.__class__.__name__)
        return JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503)
    body = {"status": "ok", "database": "ok"}
    if (replica_status := replica.status()) is not None:
        body["replica"] = replica_status
    return JsonResponse(body)


def _is_outage(exc):
    """A database error raised while connecting or talking to the server (not a bad query)."""
    while exc is not None:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request):
    """
    handler500: a database outage gets a plain "try again shortly" page with 503 and
    Retry-After, so users know it is temporary; anything else gets the ordinary 500 page.
    Neither template touches the database or the request's user.
    """
    exc = sys.exc_info()[1]
    if _is_outage(exc):
        logger.error("Database unavailable while serving %s", request.path)
        response = HttpResponseServerError(loader.get_template("503.html").render())
        response.status_code = 503
        response["Retry-After"] = "30"
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())


def bad_request(request, exception):
    """
    handler400: the same page frame as "not found", with the signed-in user's menu
    (Django's own handler draws the template without the request).
    """
    return render(request, "400.html", status=400)
