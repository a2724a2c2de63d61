from django.core.exceptions import BadRequest
from django.http import Http404
from django.utils.cache import patch_cache_control


class RefuseNulMiddleware:
    """
    No address or query string holds a NUL character legitimately, and PostgreSQL cannot
    compare text with one: psycopg2 raises ValueError, a 500, wherever such a value
    reaches a filter (a client reference in the address, the client list's search box,
    the admin's). An address with NUL is no page (404); a query with NUL is a bad request
    (400). Form fields refuse NUL themselves, with a message (Django's
    ProhibitNullCharactersValidator), so posted forms are left to them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            raise Http404("No page has this address.")
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise BadRequest("The address holds a NUL character.")
        return self.get_response(request)


class NoStoreWhenSignedInMiddleware:
    """
    Pages seen by a signed-in user may show criminal-offence data about young people:
    browsers and proxies must not keep a copy (a shared computer's back button, a proxy
    cache). Static files are served before this runs and stay cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response
