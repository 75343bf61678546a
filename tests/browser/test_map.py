"""The map in a real browser: Leaflet draws the selection's points, clustered, over the table
that stands in for it; nothing is blocked by the Content-Security-Policy, and no request leaves
the site (the tile server is refused here, so the test needs no network)."""

import pytest
from playwright.sync_api import expect

from detainees.domain.models import Event, EventPerson, Person, Place
from detainees.write.demo import PERSON_NAME, load_demo
from tests.browser.conftest import axe_violations, pretty, screenshot

WIDTHS = (375, 1280)


@pytest.fixture
def demo(transactional_db):
    """The demo case, and two far-apart places with an event each, so that the map has single
    markers as well as the demo's cluster (Kunduz and Khanabad lie close together)."""
    load_demo()
    afghanistan = Place.objects.get(kind="country", country="AF")
    bilal = Person.objects.get(names__name=PERSON_NAME, names__is_primary=True)
    for name, latitude, longitude in (
        ("Herat", 34.34817, 62.19967),
        ("Kandahar", 31.61332, 65.71013),
    ):
        place = Place.objects.create(
            name=name,
            kind="province",
            parent=afghanistan,
            latitude=latitude,
            longitude=longitude,
            status="published",
        )
        event = Event.objects.create(
            kind=Event.Kind.CUSTODY, date="2012", place=place, status="published"
        )
        EventPerson.objects.create(event=event, person=bilal, role=EventPerson.Role.SUBJECT)


@pytest.fixture
def offline(page, live_server):
    """Refuse every request that would leave the live server (the map's tiles) and collect
    whatever the browser blocked for the CSP, and every script error."""
    left = []

    def route(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            left.append(route.request.url)
            route.abort()

    page.context.route("**/*", route)
    blocked = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: blocked.append(f"script error: {error}"))
    return {"left": left, "blocked": blocked}


def drawn_points(page) -> int:
    """The points Leaflet shows: single markers, plus the points each cluster counts."""
    markers = page.locator(".map .leaflet-marker-icon:not(.marker-cluster)").count()
    clusters = page.locator(".map .marker-cluster").all_inner_texts()
    return markers + sum(int(text.split()[0]) for text in clusters)


def check_map(page, geojson_url_of_page: str) -> None:
    collection = page.request.get(geojson_url_of_page).json()
    features = len(collection["features"])
    assert features >= 3
    expect(page.locator(".map[data-points]")).to_have_attribute("data-points", str(features))
    expect(page.locator(".map .leaflet-marker-icon").first).to_be_visible()
    assert drawn_points(page) == features
    # The marker images load (from their collected names, whatever the static storage).
    page.wait_for_function(
        "() => [...document.querySelectorAll('.map img.leaflet-marker-icon')]"
        ".every(image => image.complete && image.naturalWidth > 0)"
    )
    # The table of the same points: under the map on /map/, a link away on the lists.
    if not page.locator("table.map-points").count():
        expect(page.locator(".not-on-map")).to_contain_text("Pakistan")  # drawn by the script
        page.locator(".map-links a").first.click()
    expect(page.locator("table.map-points tbody tr")).to_have_count(features)
    names = [n.strip() for n in page.locator("table.map-points tbody th").all_text_contents()]
    assert names == [feature["properties"]["name"] for feature in collection["features"]]


@pytest.mark.parametrize(
    ("path", "shot"), [("/map/", "map"), ("/people/", "people-list-map")], ids=["map", "people"]
)
def test_the_map_draws_the_selections_points(page, demo, offline, path, shot):
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        response = page.goto(path)
        assert response is not None and response.ok
        geojson_url = page.locator(".map").get_attribute("data-geojson")
        check_map(page, geojson_url)
        page.goto(path)
        expect(page.locator(".map[data-points]")).to_have_attribute("data-points", "4")
        violations = axe_violations(page)
        assert violations == [], pretty(violations)
    screenshot(page, shot)
    assert offline["blocked"] == []
    assert offline["left"], "the map asked its tile server for tiles"
    assert all(url.startswith("https://tile.openstreetmap.org/") for url in offline["left"])


def test_a_marker_opens_a_popup_linking_to_the_place(page, demo, offline):
    page.goto("/map/")
    expect(page.locator(".map[data-points]")).to_have_attribute("data-points", "4")
    single = page.locator(".map .leaflet-marker-icon:not(.marker-cluster)").first
    name = single.get_attribute("title")
    single.click()
    link = page.locator(".leaflet-popup-content a")
    expect(link).to_have_text(name)
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    assert offline["blocked"] == []


def test_without_javascript_the_table_is_the_map(browser, live_server, demo):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/map/")
        expect(page.locator(".map")).to_be_hidden()  # no empty box where the map would be
        expect(page.locator("table.map-points")).to_be_visible()
        collection = page.request.get(page.locator(".map").get_attribute("data-geojson")).json()
        rows = page.locator("table.map-points tbody tr")
        expect(rows).to_have_count(len(collection["features"]))
        expect(page.locator(".not-on-map")).to_contain_text("Pakistan")
    finally:
        context.close()
