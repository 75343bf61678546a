from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Detainee-release tracker"
admin.site.site_title = "Detainee-release tracker"
admin.site.index_title = "Records"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("detainees.api.urls")),
    path("", include("detainees.urls")),
]
