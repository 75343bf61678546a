"""The map: the GeoJSON of a selection's places and facilities, the table that stands in for the
map without JavaScript, the coordinates of the shipped data, and the map's settings."""

import csv
import json
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import Facility, Place
from detainees.write.gazetteer import Gazetteer, fill_isaf, read_isaf_coordinates
from tests import factories as f

PUBLISHED = "published"
EVENTS_GEOJSON = "/api/v1/places.geojson"
PEOPLE_GEOJSON = "/api/v1/persons/places.geojson"


def geojson(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    return response.json()


def ids(collection) -> set[str]:
    return {feature["id"] for feature in collection["features"]}


def unplaced_ids(collection) -> set[str]:
    return {point["id"] for point in collection["not_on_map"]}


class MapPanel(HTMLParser):
    """The map panel of a page: the GeoJSON URL, the fallback table's rows (cells as text, the
    name's link) and the points listed as not on the map."""

    def __init__(self):
        super().__init__()
        self.geojson_url = None
        self.links: list[str] = []  # the panel's links under the map: its table, its GeoJSON
        self._in_links = False
        self.rows: list[dict] = []
        self.unplaced: list[dict] = []
        self._row = None
        self._cell = None
        self._span = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and "data-geojson" in attrs:
            self.geojson_url = attrs["data-geojson"]
        elif tag == "tr" and "data-id" in attrs:
            self._row = {"id": attrs["data-id"], "kind": attrs["data-kind"], "cells": []}
        elif tag in ("th", "td") and self._row is not None:
            self._cell = []
        elif tag == "span" and "data-id" in attrs:
            self._span = {"id": attrs["data-id"], "kind": attrs["data-kind"]}
        elif tag == "p" and attrs.get("class") == "map-links":
            self._in_links = True
        elif tag == "a" and self._in_links:
            self.links.append(attrs["href"])
        elif tag == "a" and (self._row is not None or self._span is not None):
            (self._row if self._row is not None else self._span)["url"] = attrs["href"]

    def handle_endtag(self, tag):
        if tag == "p":
            self._in_links = False
        if tag in ("th", "td") and self._cell is not None:
            self._row["cells"].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "span" and self._span is not None:
            self.unplaced.append(self._span)
            self._span = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._span is not None and "url" in self._span and "name" not in self._span:
            self._span["name"] = data.strip()


def panel(client, url) -> MapPanel:
    response = client.get(url)
    assert response.status_code == 200
    parsed = MapPanel()
    parsed.feed(response.content.decode())
    return parsed


def assert_table_is_the_geojson(client, url):
    """The no-JS table under the map holds exactly the map's GeoJSON points, in its order, and
    the places listed as not on the map are the GeoJSON's `not_on_map`."""
    page = panel(client, url)
    assert page.geojson_url, url
    collection = geojson(client, page.geojson_url)
    table = [
        {
            "id": row["id"],
            "name": row["cells"][0],
            "kind": row["kind"],
            "url": row["url"],
            "coordinates": [float(row["cells"][3]), float(row["cells"][2])],
            "people": int(row["cells"][4]),
            "events": int(row["cells"][5]),
        }
        for row in page.rows
    ]
    features = [
        {**feature["properties"], "coordinates": feature["geometry"]["coordinates"]}
        for feature in collection["features"]
    ]
    assert table == features, url
    assert table, f"{url} shows no point"
    listed = [(p["id"], p["name"], p["kind"], p["url"]) for p in page.unplaced]
    expected = [(p["id"], p["name"], p["kind"], p["url"]) for p in collection["not_on_map"]]
    assert listed == expected, url
    return collection


# --- The GeoJSON ------------------------------------------------------------------------------


def test_the_geojson_is_a_feature_collection_of_the_demo_places_at_their_coordinates(client, demo):
    collection = geojson(client, EVENTS_GEOJSON)
    assert collection["type"] == "FeatureCollection"
    assert collection["features"]
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        properties = feature["properties"]
        assert set(properties) == {"id", "name", "kind", "url", "people", "events"}
        assert feature["id"] == properties["id"]
        model = Facility if properties["kind"] == "facility" else Place
        record = model.objects.get(public_id=properties["id"])
        # GeoJSON's order: longitude, then latitude.
        assert feature["geometry"]["coordinates"] == [
            float(record.longitude),
            float(record.latitude),
        ]
        assert properties["url"] == record.get_absolute_url()
        assert properties["events"] >= 1
    kunduz = Place.objects.get(name="Kunduz", kind="province")
    assert str(kunduz.public_id) in ids(collection)


def test_places_without_coordinates_are_listed_apart_never_placed(client, demo):
    collection = geojson(client, EVENTS_GEOJSON)
    unplaced = unplaced_ids(collection)
    assert unplaced, "the demo names places without coordinates (its countries)"
    assert not unplaced & ids(collection)
    for point in collection["not_on_map"]:
        model = Facility if point["kind"] == "facility" else Place
        record = model.objects.get(public_id=point["id"])
        assert record.latitude is None and record.longitude is None
    countries = Place.objects.filter(kind="country", events__isnull=False).distinct()
    assert {str(c.public_id) for c in countries} <= unplaced


def test_filters_narrow_the_points(client, demo):
    everything = geojson(client, EVENTS_GEOJSON)
    kunduz = Place.objects.get(name="Kunduz", kind="province")
    in_kunduz = geojson(client, EVENTS_GEOJSON, province=kunduz.slug)

    def shown(collection):
        return ids(collection) | unplaced_ids(collection)

    assert ids(in_kunduz) and shown(in_kunduz) < shown(everything)
    for point in [x["properties"] for x in in_kunduz["features"]] + in_kunduz["not_on_map"]:
        place = Place.objects.get(public_id=point["id"])
        assert kunduz in (place, place.parent, place.parent.parent if place.parent else None)
    within = geojson(client, EVENTS_GEOJSON, within=str(kunduz.public_id))
    assert ids(within) == ids(in_kunduz)
    nobody = geojson(client, PEOPLE_GEOJSON, search="zzzz no such name")
    assert nobody["features"] == [] and nobody["not_on_map"] == []
    bilal = geojson(client, PEOPLE_GEOJSON, search="Qari Bilal")
    assert str(kunduz.public_id) in ids(bilal)
    assert all(f["properties"]["people"] == 1 for f in bilal["features"])


def test_counts_are_the_selections_people_and_events_there(client, db):
    province = f.PlaceFactory(status=PUBLISHED, latitude="36.7", longitude="68.8")
    first = f.PersonFactory(status=PUBLISHED, name="Qari Sibghatullah")
    second = f.PersonFactory(status=PUBLISHED, name="Abdul Rahman")
    capture = f.EventFactory(status=PUBLISHED, place=province)
    f.EventPersonFactory(event=capture, person=first)
    f.EventPersonFactory(event=capture, person=second)
    release = f.EventFactory(status=PUBLISHED, place=province, kind="release")
    f.EventPersonFactory(event=release, person=first)
    f.EventFactory(status=PUBLISHED, place=province, kind="strike")  # names nobody

    (point,) = geojson(client, EVENTS_GEOJSON)["features"]
    assert (point["properties"]["people"], point["properties"]["events"]) == (2, 3)
    (point,) = geojson(client, PEOPLE_GEOJSON)["features"]
    assert (point["properties"]["people"], point["properties"]["events"]) == (2, 2)
    only_first = {"search": "Sibghatullah"}
    (point,) = geojson(client, PEOPLE_GEOJSON, **only_first)["features"]
    assert (point["properties"]["people"], point["properties"]["events"]) == (1, 2)


def test_drafts_and_retracted_events_never_reach_the_map(client, db):
    public = f.PlaceFactory(status=PUBLISHED, latitude="34.5", longitude="69.2")
    draft_place = f.PlaceFactory(status="draft", latitude="31.6", longitude="65.7")
    draft_facility = f.FacilityFactory(status="draft", latitude="34.9", longitude="69.2")
    person = f.PersonFactory(status=PUBLISHED)
    hidden = f.PersonFactory(status="draft")
    at_draft = f.EventFactory(status=PUBLISHED, place=draft_place, facility=draft_facility)
    f.EventPersonFactory(event=at_draft, person=person)
    draft_event = f.EventFactory(status="draft", place=public)
    f.EventPersonFactory(event=draft_event, person=person)
    retracted = f.EventFactory(status=PUBLISHED, place=public, claim_status="retracted")
    f.EventPersonFactory(event=retracted, person=person)
    seen = f.EventFactory(status=PUBLISHED, place=public)
    f.EventPersonFactory(event=seen, person=hidden)

    for url in (EVENTS_GEOJSON, PEOPLE_GEOJSON):
        collection = geojson(client, url)
        shown = ids(collection) | unplaced_ids(collection)
        assert str(draft_place.public_id) not in shown
        assert str(draft_facility.public_id) not in shown
    events = geojson(client, EVENTS_GEOJSON)
    (point,) = events["features"]
    # The one public, unretracted event, and nobody: its subject is a draft.
    assert point["id"] == str(public.public_id)
    assert (point["properties"]["events"], point["properties"]["people"]) == (1, 0)
    assert ids(geojson(client, PEOPLE_GEOJSON)) == set()
    page = client.get("/map/").content.decode()
    assert draft_place.name not in page and draft_facility.name not in page


def test_an_event_at_a_facility_counts_at_the_facility_and_at_its_place(client, db):
    place = f.PlaceFactory(status=PUBLISHED, kind="province", latitude="35.0", longitude="69.1")
    facility = f.FacilityFactory(status=PUBLISHED, place=place)  # no coordinates
    event = f.EventFactory(status=PUBLISHED, kind="custody", place=place, facility=facility)
    f.EventPersonFactory(event=event, person=f.PersonFactory(status=PUBLISHED))
    collection = geojson(client, EVENTS_GEOJSON, facility=str(facility.public_id))
    assert ids(collection) == {str(place.public_id)}
    (unplaced,) = collection["not_on_map"]
    assert unplaced["kind"] == "facility" and unplaced["name"] == facility.name
    page = client.get(f"/map/?facility={facility.public_id}").content.decode()
    assert "Not on the map, for want of coordinates" in page


def test_bad_parameters_are_refused_naming_them(client, db):
    response = client.get(EVENTS_GEOJSON, {"facility": "not-an-id"})
    assert response.status_code == 400 and "facility" in response.json()
    response = client.get(PEOPLE_GEOJSON, {"q": "Bilal"})
    assert response.status_code == 400 and "search" in response.json()["q"][0]
    response = client.get(EVENTS_GEOJSON, {"within": ""})
    assert response.status_code == 400 and "within" in response.json()
    response = client.get("/map/", {"for": "organizations"})
    assert response.status_code == 400 and "for" in response.content.decode()
    response = client.get("/map/", {"for": "events", "facility": "x"})
    assert response.status_code == 400 and "facility" in response.content.decode()


def test_the_geojson_costs_the_same_queries_for_two_places_or_twenty(client, db):
    def add_places(n):
        for i in range(n):
            place = f.PlaceFactory(status=PUBLISHED, latitude=f"3{i % 10}.5", longitude="66.1")
            facility = f.FacilityFactory(status=PUBLISHED, place=place)
            event = f.EventFactory(status=PUBLISHED, place=place, facility=facility)
            f.EventPersonFactory(event=event, person=f.PersonFactory(status=PUBLISHED))

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    urls = (EVENTS_GEOJSON, PEOPLE_GEOJSON, "/map/", "/map/?for=people", "/people/", "/events/")
    add_places(2)
    few = {url: queries(url) for url in urls}
    add_places(18)
    assert len(geojson(client, EVENTS_GEOJSON)["features"]) == 20
    assert {url: queries(url) for url in urls} == few


# --- The table that stands in for the map -----------------------------------------------------


def test_the_table_under_each_map_is_its_geojson(client, demo):
    kunduz = Place.objects.get(name="Kunduz", kind="province")
    for url in (
        "/map/",
        "/map/?for=people",
        "/map/?for=people&q=Qari+Bilal&sort=-name&size=5",
        f"/map/?province={kunduz.slug}",
        f"/map/?within={kunduz.public_id}",
    ):
        assert_table_is_the_geojson(client, url)


def test_each_lists_map_links_to_the_table_of_its_points(client, demo):
    """The lists and record pages draw the map from the GeoJSON and link to /map/ for the
    table: the same selection, so the same points."""
    kunduz = Place.objects.get(name="Kunduz", kind="province")
    parwan = Facility.objects.get(name="Parwan Detention Facility")
    for url in (
        "/people/",
        "/people/?q=Qari+Bilal&sort=-name&size=5&after=",
        "/events/",
        f"/events/?province={kunduz.slug}",
        kunduz.get_absolute_url(),
        parwan.get_absolute_url(),
    ):
        page = panel(client, url)
        assert page.geojson_url and not page.rows, url
        table_url, geojson_url = page.links
        assert geojson_url == page.geojson_url
        assert table_url.startswith("/map/")
        on_map_page = panel(client, table_url)
        assert on_map_page.links[-1] == page.geojson_url, url  # its GeoJSON link
        collection = geojson(client, geojson_url)
        if collection["features"]:
            assert_table_is_the_geojson(client, table_url)
        else:  # the facility's events are at places without coordinates
            unplaced = [p["id"] for p in collection["not_on_map"]]
            assert unplaced and [p["id"] for p in on_map_page.unplaced] == unplaced


def test_the_map_page_without_points_says_so(client, db):
    response = client.get("/map/")
    assert response.status_code == 200
    assert "None of these records names a place or facility." in response.content.decode()


# --- Settings ----------------------------------------------------------------------------------


def test_the_tile_server_is_validated_and_allowed_by_the_policy(monkeypatch, client, db):
    from tracker.settings import (
        CONTENT_SECURITY_POLICY,
        MAP_TILE_URL,
        env_text,
        env_tile_url,
        env_url,
        tile_origin,
    )

    assert tile_origin(MAP_TILE_URL) in CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"]
    monkeypatch.setenv("MAP_TILE_URL", "https://{s}.tiles.example.org:8443/{z}/{x}/{y}{r}.png")
    template = env_tile_url("MAP_TILE_URL", "unused")
    assert tile_origin(template) == "https://*.tiles.example.org:8443"
    for bad in (
        "ftp://tiles.example.org/{z}/{x}/{y}.png",
        "/tiles/{z}/{x}/{y}.png",
        "https://tiles.example.org/{z}/{x}.png",
        "https://tiles.example.org/{z}/{x}/{y}.png?key={key}",
        "https://tiles.example.org/{s}/{z}/{x}/{y}.png",
    ):
        monkeypatch.setenv("MAP_TILE_URL", bad)
        with pytest.raises(ImproperlyConfigured, match="MAP_TILE_URL"):
            env_tile_url("MAP_TILE_URL", "unused")
    monkeypatch.setenv("MAP_TILE_ATTRIBUTION", '<a href="x">Tiles</a>')
    with pytest.raises(ImproperlyConfigured, match="MAP_TILE_ATTRIBUTION"):
        env_text("MAP_TILE_ATTRIBUTION", "unused")
    monkeypatch.setenv("MAP_TILE_ATTRIBUTION_URL", "javascript:alert(1)")
    with pytest.raises(ImproperlyConfigured, match="MAP_TILE_ATTRIBUTION_URL"):
        env_url("MAP_TILE_ATTRIBUTION_URL", "unused")
    assert tile_origin(MAP_TILE_URL) in client.get("/")["Content-Security-Policy"]


def test_the_map_uses_the_tile_settings(client, demo, settings):
    settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "Tiles © Example & contributors"
    settings.MAP_TILE_ATTRIBUTION_URL = "https://tiles.example.org/credits"
    page = client.get("/map/").content.decode()
    assert 'data-tile-url="https://tiles.example.org/{z}/{x}/{y}.png"' in page
    assert 'data-attribution="Tiles © Example &amp; contributors"' in page
    assert 'data-attribution-url="https://tiles.example.org/credits"' in page


# --- Coordinates of the shipped data ----------------------------------------------------------

CITIES = [
    # GeoNames-like populated places: two provinces' capitals, a district's namesake town, and
    # a town of the same name in the other province.
    {"geonameid": 1, "name": "Kunduz", "latitude": 36.72895, "longitude": 68.857,
     "countrycode": "AF", "admin1code": "24", "population": 161902, "alternatenames": []},
    {"geonameid": 2, "name": "Khānābād", "latitude": 36.683041, "longitude": 69.11279,
     "countrycode": "AF", "admin1code": "24", "population": 71531,
     "alternatenames": ["Khan Abad"]},
    {"geonameid": 3, "name": "Charikar", "latitude": 35.01361, "longitude": 69.17139,
     "countrycode": "AF", "admin1code": "40", "population": 53676, "alternatenames": []},
    {"geonameid": 4, "name": "Khanabad", "latitude": 35.1, "longitude": 69.2,
     "countrycode": "AF", "admin1code": "40", "population": 900, "alternatenames": []},
]  # fmt: skip


@pytest.fixture
def gazetteer(monkeypatch):
    from detainees.write import gazetteer as module

    monkeypatch.setattr(module, "PROVINCE_CAPITALS", {("AF", "Kunduz"): 1, ("AF", "Parwan"): 3})
    return Gazetteer(CITIES)


def test_the_gazetteer_places_provinces_at_their_capitals_and_districts_within_them(gazetteer):
    assert gazetteer.province("AF", "Kunduz").geonameid == 1
    khanabad = gazetteer.within("AF", "Kunduz", "Khanabad")
    # Found by its name without accents, in Kunduz: not the Khanabad of Parwan.
    assert khanabad.geonameid == 2
    assert (khanabad.latitude, khanabad.longitude) == (Decimal("36.68304"), Decimal("69.11279"))
    assert gazetteer.within("AF", "Parwan", "Khanabad").geonameid == 4
    assert gazetteer.within("AF", "Kunduz", "Khan Abad").geonameid == 2  # another name
    # Not in the gazetteer: no coordinates, never a guess.
    assert gazetteer.within("AF", "Kunduz", "Chahar Darah") is None
    assert gazetteer.province("AF", "Kapisa") is None
    assert gazetteer.within("AF", "Kapisa", "Tagab") is None


def test_the_isaf_coordinates_file_holds_the_places_found(gazetteer, tmp_path):
    path = tmp_path / "place_coordinates.csv"
    places = {("Kunduz", ""), ("Kunduz", "Khanabad"), ("Kunduz", "Chahar Darah")}
    report = dict(fill_isaf(gazetteer, places, path))
    assert report["Chahar Darah, Kunduz"] is None
    found = read_isaf_coordinates(path)
    assert set(found) == {("Kunduz", ""), ("Kunduz", "Khanabad")}
    assert found[("Kunduz", "Khanabad")] == report["Khanabad, Kunduz"]


def test_the_shipped_coordinates_are_in_range_and_reach_the_database(demo):
    with open("data/demo/places.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    located = [row for row in rows if row["latitude"]]
    assert located and len(located) < len(rows)  # countries, at least, have none
    for row in located:
        place = Place.objects.get(public_id=row["id"])
        assert (place.latitude, place.longitude) == (
            Decimal(row["latitude"]),
            Decimal(row["longitude"]),
        )
    for row in rows:
        if row["kind"] == "country":
            assert not row["latitude"]
    isaf = read_isaf_coordinates()
    assert len(isaf) > 30
    for found in isaf.values():
        assert 29 < found.latitude < 39 and 60 < found.longitude < 75  # Afghanistan's box
    package = json.loads(open("data/demo/datapackage.json", encoding="utf-8").read())
    (places,) = [r for r in package["resources"] if r["name"] == "places"]
    assert [field["name"] for field in places["schema"]["fields"]] == list(rows[0])


def test_a_place_with_places_inside_it_can_be_edited(demo):
    kunduz = Place.objects.get(name="Kunduz", kind="province")
    assert kunduz.children.exists()
    kunduz.latitude, kunduz.longitude = Decimal("36.7"), Decimal("68.9")
    kunduz.full_clean()
    kunduz.kind = "district"  # no longer larger than the districts inside it
    with pytest.raises(ValidationError, match="not smaller"):
        kunduz.full_clean()


def test_the_isaf_import_gives_places_the_files_coordinates_and_keeps_their_own(db):
    from detainees.write.importers.isaf import ImportReport, _Registry

    afghanistan = f.CountryFactory(name="Afghanistan", country="AF", status=PUBLISHED)
    kunduz = f.PlaceFactory(name="Kunduz", parent=afghanistan, status=PUBLISHED)
    kandahar = f.PlaceFactory(
        name="Kandahar", parent=afghanistan, latitude="31.5", longitude="65.5", status=PUBLISHED
    )
    report = ImportReport()
    registry = _Registry(report)
    shipped = read_isaf_coordinates()

    found = registry.province("kunduz")
    assert found == kunduz
    kunduz.refresh_from_db()
    expected = shipped[("Kunduz", "")]
    assert (kunduz.latitude, kunduz.longitude) == (expected.latitude, expected.longitude)
    assert report.tallies["places"].updated == 1
    # Coordinates a place has are never changed.
    registry.province("kandahar")
    kandahar.refresh_from_db()
    assert (kandahar.latitude, kandahar.longitude) == (Decimal("31.5"), Decimal("65.5"))
    # A district the import creates gets its own; one the file lacks gets none.
    khanabad = registry.place(kunduz, Place.Kind.DISTRICT, "Khanabad")
    expected = shipped[("Kunduz", "Khanabad")]
    assert (khanabad.latitude, khanabad.longitude) == (expected.latitude, expected.longitude)
    chahar_darah = registry.place(kunduz, Place.Kind.DISTRICT, "Chahar Darah")
    assert chahar_darah.latitude is None


def test_a_province_spelled_otherwise_in_the_database_finds_its_coordinates(db):
    from detainees.write.importers.isaf import ImportReport, _Registry

    afghanistan = f.CountryFactory(name="Afghanistan", country="AF", status=PUBLISHED)
    paktiya = f.PlaceFactory(name="Paktiya", parent=afghanistan, status=PUBLISHED)
    assert _Registry(ImportReport()).province("paktya") == paktiya
    paktiya.refresh_from_db()
    expected = read_isaf_coordinates()[("Paktia", "")]
    assert (paktiya.latitude, paktiya.longitude) == (expected.latitude, expected.longitude)
