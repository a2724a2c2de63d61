from django.contrib import admin
from django.urls import path

admin.site.site_header = "SOS administration"
admin.site.site_title = "SOS admin"
admin.site.index_title = "Southwark Offenders Support programme"

urlpatterns = [
    path("admin/", admin.site.urls),
]
