from django.urls import path

from detainees.web import views
from detainees.web.feeds import PersonChangesFeed, ReleasesFeed

app_name = "detainees"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("people/", views.person_list, name="person-list"),
    path("people.csv", views.person_list_csv, name="person-list-csv"),
    path("people/<slug:slug>/", views.person_detail, name="person-detail"),
    path("events/", views.event_list, name="event-list"),
    path("events.csv", views.event_list_csv, name="event-list-csv"),
    path("map/", views.map_page, name="map"),
    path("figures/", views.figures_view, name="figures"),
    path("data/", views.data_download, name="data"),
    path("data/tracker-data.zip", views.data_archive, name="data-archive"),
    path("organizations/<slug:slug>/", views.organization_detail, name="organization-detail"),
    path("facilities/<slug:slug>/", views.facility_detail, name="facility-detail"),
    path("sources/<uuid:public_id>/", views.source_detail, name="source-detail"),
    path("batches/<slug:slug>/", views.batch_detail, name="batch-detail"),
    path("places/<slug:slug>/", views.place_detail, name="place-detail"),
    path("people/<slug:slug>/feed/", PersonChangesFeed(), name="person-feed"),
    path("feeds/releases/", ReleasesFeed(), name="releases-feed"),
    path("id/<uuid:public_id>/", views.permalink, name="permalink"),
]
