from django.utils.cache import patch_cache_control


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
