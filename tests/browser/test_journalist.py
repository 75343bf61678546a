"""The journalist's path in a real browser: search, narrow, read, cite, download."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from detainees.domain.models import Facility
from detainees.write.demo import load_demo
from tests.browser.conftest import axe_violations, pretty, screenshot


@pytest.fixture
def demo(transactional_db):
    load_demo()


def test_a_misspelled_name_leads_to_the_person_page(page, demo):
    page.goto("/")
    page.get_by_label("Name, group, place or source").fill("Qari Belal")
    page.get_by_role("button", name="Search").last.click()
    people = page.locator("section[aria-labelledby=h-people] li")
    expect(people.first).to_contain_text("Qari Bilal")
    people.first.get_by_role("link", name="Qari Bilal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Qari Bilal")
    expect(page.locator(".status-line")).to_contain_text("re-engaged, confirmed")


def test_the_journalists_question_narrows_the_list_and_a_shared_url_reproduces_it(page, demo):
    page.goto("/people/")
    page.locator("details.filters-panel > summary").click()
    page.get_by_role("group", name="Release ordered by").get_by_label(
        re.compile("Government of Afghanistan")
    ).check()
    page.get_by_label("Released from").fill("2013")
    page.get_by_label("Released to").fill("2014")
    page.get_by_label("Release date is").select_option("possibly")
    page.get_by_role("group", name="Re-engaged").get_by_label(re.compile("Confirmed")).check()
    page.get_by_role("button", name="Apply").last.click()
    rows = page.locator("table.people tbody th")
    expect(rows).to_have_text(["Qari Bilal"])
    shared = page.url
    screenshot(page, "people-filtered")

    other = page.context.new_page()
    other.goto(shared)
    expect(other.locator("table.people tbody th")).to_have_text(["Qari Bilal"])
    expect(other.get_by_label("Released from")).to_have_value("2013")

    # The panel stays open while filters are in use; Apply at its top submits too.
    page.get_by_label("Release date is").select_option("certainly")
    page.get_by_role("button", name="Apply").first.click()
    expect(page.locator("table.people tbody")).to_contain_text("Nobody matches")


def test_the_csv_holds_exactly_the_rows_on_screen(page, demo):
    page.goto("/people/?sort=-name&who=all")
    on_screen = page.locator("table.people tbody th").all_inner_texts()
    href = page.get_by_role("link", name="Download CSV").get_attribute("href")
    response = page.request.get(href)
    assert response.ok
    rows = list(csv.DictReader(io.StringIO(response.text())))
    assert [r["name"] for r in rows] == on_screen
    assert len(on_screen) == 3


def test_footnotes_lead_to_the_source_that_says_it(page, demo):
    page.goto("/people/qari-bilal/")
    capture = page.locator("li.event-capture").first
    marker = capture.locator("sup.fn a").nth(1)
    number = marker.inner_text().strip("[]")
    marker.click()
    assert page.url.endswith(f"#note-{number}")
    note = page.locator(f"#note-{number}")
    expect(note).to_contain_text("Pajhwok")
    expect(note).to_contain_text("Kunduz police chief")
    expect(page.locator(".cite code")).to_contain_text("/id/")


MAIN_PAGES = [
    "/",
    "/people/",
    "/people/qari-bilal/",
    "/events/",
    "/figures/",
    "/search/?q=Bilal",
]


@pytest.mark.parametrize("path", MAIN_PAGES)
def test_main_pages_have_no_serious_accessibility_violations(page, demo, path):
    page.goto(path)
    violations = axe_violations(page)
    assert not violations, pretty(violations)
    name = path.strip("/").replace("/", "-").replace("?q=", "-") or "home"
    screenshot(page, name)


def test_the_facility_page_answers_who_was_held_on_a_date(page, demo):
    parwan = Facility.objects.get(name="Parwan Detention Facility")
    page.goto(parwan.get_absolute_url())
    page.get_by_label(re.compile("^Date")).fill("June 2012")
    page.get_by_role("button", name="Show").click()
    section = page.locator("#held-on ~ table").first
    expect(section).to_contain_text("Qari Bilal")
    assert not axe_violations(page), pretty(axe_violations(page))
    screenshot(page, "facility")


def test_pages_fit_a_375_pixel_screen(page, demo):
    page.set_viewport_size({"width": 375, "height": 800})
    for path in MAIN_PAGES:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide"


def test_the_imu_captures_in_kunduz_are_two_ticks_away_on_the_events_page(page, demo):
    from detainees.write.importers.isaf import import_isaf

    import_isaf()
    page.goto("/events/")
    page.locator("details.filters-panel > summary").click()
    page.get_by_role("group", name="What happened").get_by_label(
        re.compile("Capture or arrest")
    ).check()
    group = page.get_by_role("group", name="Target group, or group acted for")
    group.get_by_label(re.compile("Islamic Movement of Uzbekistan")).check()
    page.get_by_role("group", name="Province").get_by_label(re.compile("Kunduz")).check()
    page.get_by_role("button", name="Apply").last.click()
    # ISAF's four unnamed captures, and Qari Bilal's own (the IMU its target group).
    expect(page.locator(".summary")).to_contain_text("5 events match")
    rows = page.locator("table.events tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.filter(has_text="Captured by ISAF and Afghan forces")).to_contain_text("Qari Bilal")
    expect(rows.first).to_contain_text("Kunduz")
    rows.first.locator("td").last.get_by_role("link").first.click()
    expect(page.locator(".rights")).to_contain_text("CC BY-SA 4.0")
    assert not axe_violations(page), pretty(axe_violations(page))
    screenshot(page, "isaf-source")
