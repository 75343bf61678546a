from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from detainees.api import bulk, changes, errors, export, views

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_format_suffixes = False
router.register("persons", views.PersonViewSet, basename="person")
router.register("events", views.EventViewSet, basename="event")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("places", views.PlaceViewSet, basename="place")
router.register("facilities", views.FacilityViewSet, basename="facility")
router.register("batches", views.ReleaseBatchViewSet, basename="batch")
router.register("sources", views.SourceViewSet, basename="source")
router.register("affiliations", views.AffiliationViewSet, basename="affiliation")
router.register("relationships", views.RelationshipViewSet, basename="relationship")
router.register("changes", changes.ChangeViewSet, basename="change")


def map_view(viewset):
    return viewset.as_view({"get": "places"}, **viewset.map_view_options)


urlpatterns = [
    # The map's points: where the selected events happened, or the selected people's events.
    path("places.geojson", map_view(views.EventViewSet), name="event-places"),
    path("persons/places.geojson", map_view(views.PersonViewSet), name="person-places"),
    *router.urls,
    path("export.jsonl", export.ExportView.as_view(), name="export"),
    path("bulk/", bulk.BulkView.as_view(), name="bulk"),
    # Last: anything else under the API is a JSON 404 (a write without its slash included).
    re_path(r"^(?P<rest>.*)$", errors.not_found, name="not-found"),
]
