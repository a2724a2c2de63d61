from django.utils.http import url_has_allowed_host_and_scheme


def page_to_return_to(request, default):
    """
    The page of this site named by ``next`` (in the form or the address), else ``default``
    (a URL): never another site, so a crafted link cannot send a signed-in person away.
    """
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default
