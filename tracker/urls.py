from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from detainees.admin.imports import import_job_view, import_records_view, import_template_view
from detainees.api.schema_view import SchemaView
from tracker.health import healthz, readyz

admin.site.site_header = "Detainee-release tracker"
admin.site.site_title = "Detainee-release tracker"
admin.site.index_title = "Records"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/import/", import_records_view, name="admin-import-records"),
    path("admin/import/<uuid:job_id>/", import_job_view, name="admin-import-job"),
    path("admin/import/template.zip", import_template_view, name="admin-import-template"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("detainees.api.urls")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    # Swagger UI's start-up script as a file of its own: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("detainees.web.urls")),
]

# A database outage answers 503 rather than 500 (tracker/outage.py).
handler500 = "tracker.outage.server_error"
