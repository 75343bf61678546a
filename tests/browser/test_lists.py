"""The lists on a phone and a desktop: results before the filters on a phone, a filters panel that
opens without JavaScript, pages that fit 375 pixels, words that are never cut in two."""

import re

import pytest
from playwright.sync_api import expect

from detainees.domain.models import Facility, Person, Source
from detainees.write.demo import load_demo
from tests.browser.conftest import axe_violations, pretty, screenshot

PHONE = {"width": 375, "height": 800}
NAME_FIELD = re.compile(r"^Name:?$")  # the filters' name field, not the header's search


@pytest.fixture
def demo(transactional_db):
    load_demo()


def test_on_a_phone_the_first_result_comes_before_the_filters(page, demo):
    page.set_viewport_size(PHONE)
    page.goto("/people/?who=all")
    first = page.locator("table.people tbody tr").first.bounding_box()
    panel = page.locator("details.filters-panel").bounding_box()
    assert first["y"] + first["height"] <= panel["y"]
    # On a desktop the filters sit beside the results, to their left.
    page.set_viewport_size({"width": 1280, "height": 800})
    first = page.locator("table.people tbody tr").first.bounding_box()
    panel = page.locator("details.filters-panel").bounding_box()
    assert panel["x"] + panel["width"] <= first["x"]
    screenshot(page, "people-list")


def test_the_filters_panel_opens_and_apply_at_its_top_submits(page, demo):
    page.goto("/people/?who=all")
    name = page.get_by_label(NAME_FIELD)
    expect(name).to_be_hidden()
    page.locator("details.filters-panel > summary").click()
    expect(name).to_be_visible()
    name.fill("Karzai")
    apply_top, apply_bottom = page.get_by_role("button", name="Apply").all()
    assert apply_top.bounding_box()["y"] < name.bounding_box()["y"]
    assert apply_bottom.bounding_box()["y"] > name.bounding_box()["y"]
    apply_top.click()
    expect(page.locator("table.people tbody th")).to_have_text(["Hamid Karzai"])
    assert "who=all" in page.url and "q=Karzai" in page.url
    # Filters in use: the panel opens on its own, showing them.
    expect(page.get_by_label(NAME_FIELD)).to_have_value("Karzai")
    page.get_by_role("link", name="Detainees", exact=True).click()
    expect(page.locator("table.people tbody")).to_contain_text("Nobody matches")
    assert not axe_violations(page), pretty(axe_violations(page))


def test_the_default_list_is_the_detainees(page, demo):
    page.goto("/people/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Detainees")
    expect(page.locator("table.people tbody th")).to_have_text(["Qari Bilal"])
    page.get_by_role("link", name="All people").click()
    expect(page.locator("table.people tbody")).to_contain_text("Hamid Karzai")


def phone_pages() -> list[str]:
    return [
        "/",
        "/people/",
        "/people/?who=all",
        "/events/",
        "/figures/",
        "/search/?q=Bilal",
        Person.objects.get(slug="qari-bilal").get_absolute_url(),
        Source.objects.public().filter(is_confidential=False).first().get_absolute_url(),
        Facility.objects.get(name="Parwan Detention Facility").get_absolute_url(),
    ]


def test_no_page_scrolls_sideways_on_a_phone(page, demo):
    page.set_viewport_size(PHONE)
    for path in phone_pages():
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide"
        violations = axe_violations(page)
        assert not violations, f"{path}: {pretty(violations)}"
    page.goto("/events/")
    screenshot(page, "events-list-phone", widths=(375,))


LINES = """(el) => {
    const style = getComputedStyle(el);
    const inner = el.getBoundingClientRect().height
        - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom)
        - parseFloat(style.borderTopWidth) - parseFloat(style.borderBottomWidth);
    return Math.round(inner / parseFloat(style.lineHeight));
}"""


@pytest.mark.parametrize("width", [375, 1280])
def test_no_word_is_cut_in_two(page, demo, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto("/")
    button = page.locator("form.big-search").get_by_role("button", name="Search")
    assert button.evaluate(LINES) == 1
    page.goto("/figures/")
    label = page.locator(".bar-label", has_text="Government of Afghanistan").first
    if width == 375:
        assert label.evaluate(LINES) == 1
    else:
        # A narrow label column wraps between words, never inside one.
        text = label.inner_text()
        assert all(word in text.split() for word in "Government of Afghanistan".split())
        assert label.evaluate("(el) => el.scrollWidth <= el.clientWidth")


def test_the_figures_have_axis_labels(page, demo):
    page.goto("/figures/")
    figure = page.locator(
        "section.figure", has=page.get_by_role("heading", name="Captures per year")
    )
    axis = figure.locator(".bar-axis")
    expect(axis).to_contain_text("Year")
    expect(axis).to_contain_text("Count")
    assert not axe_violations(page), pretty(axe_violations(page))
    screenshot(page, "figures")
    page.goto("/")
    screenshot(page, "home")


def test_a_table_wider_than_a_phone_scrolls_in_its_own_box(page, demo):
    page.set_viewport_size(PHONE)
    page.goto("/figures/")
    region = page.get_by_role("region", name="Captures per year: numbers")
    expect(region).to_be_visible()
    overflow = region.evaluate("(el) => getComputedStyle(el).overflowX")
    assert overflow == "auto"
    assert region.get_attribute("tabindex") == "0"
