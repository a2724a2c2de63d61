from django.contrib import admin
from django.urls import include, path

from mentoring import system

admin.site.site_header = "SOS administration"
admin.site.site_title = "SOS admin"
admin.site.index_title = "Southwark Offenders Support programme"

handler400 = "mentoring.system.bad_request"
handler500 = "mentoring.system.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", system.health, name="health"),
    path("accounts/", include("accounts.urls")),
    path("", include("mentoring.urls")),
]
