"""The person page in a real browser, on a phone and a desktop: the summary first, the timeline
with dates in a column where there is room, notes that lead back to their facts, and a print
version fit for a PDF."""

import pytest
from playwright.sync_api import expect

from detainees.domain.models import Source
from detainees.write.demo import load_demo
from tests.browser.conftest import SCREENSHOT_DIR, axe_violations, pretty, screenshot

PATH = "/people/qari-bilal/"
ARTICLE = "https://example.org/2014/senior-imu-leader-now-leads-fight"


@pytest.fixture
def demo(transactional_db):
    load_demo()


@pytest.mark.parametrize("width", [375, 1280])
def test_a_note_leads_back_to_each_fact_it_supports(page, demo, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(PATH)
    release = page.locator("li.event-release").last
    fact_id = release.get_attribute("id")
    marker = release.locator("sup.fn a").first
    number = marker.inner_text()
    marker.click()
    assert page.url.endswith(f"#note-{number}")
    note = page.locator(f"#note-{number}")
    expect(note).to_be_focused()
    expect(note).to_be_in_viewport()

    back = note.locator(f'.backlinks a[href="#{fact_id}"]')
    expect(back).to_have_count(1)
    # The first release is supported by the same passage: the note leads back to both.
    first_release = page.locator("li.event-release").first.get_attribute("id")
    expect(note.locator(f'.backlinks a[href="#{first_release}"]')).to_have_count(1)
    back.click()
    assert page.url.endswith(f"#{fact_id}")
    expect(release).to_be_focused()
    expect(release).to_be_in_viewport()
    expect(release).to_contain_text("Second release")


def test_the_summary_comes_first_and_the_timeline_puts_dates_in_a_column_on_wide_screens(
    page, demo
):
    page.goto(PATH)
    summary = page.locator("section.summary")
    expect(summary).to_contain_text("Released")
    expect(summary).to_contain_text("Last known custodian")
    expect(summary).to_contain_text("Parwan Detention Facility")
    expect(summary).to_contain_text("independent publishers")
    timeline_top = page.locator("#h-timeline").bounding_box()["y"]
    assert summary.bounding_box()["y"] < timeline_top

    capture = page.locator("li.event-capture").first
    when = capture.locator(".event-when").bounding_box()
    body = capture.locator(".event-body").bounding_box()
    assert when["x"] + when["width"] <= body["x"]  # side by side
    assert abs(when["y"] - body["y"]) < 5

    page.set_viewport_size({"width": 375, "height": 800})
    when = capture.locator(".event-when").bounding_box()
    body = capture.locator(".event-body").bounding_box()
    assert when["y"] + when["height"] <= body["y"]  # stacked
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_the_marks_lead_to_their_explanation_on_the_page(page, demo):
    page.goto(PATH)
    mark = page.locator("li.event-custody.inferred .claim-link")
    expect(mark).to_have_text("Inferred, not stated by a source")
    mark.click()
    explanation = page.locator("#claim-inferred")
    expect(explanation).to_be_in_viewport()
    expect(page.locator("#claim-inferred + dd")).to_contain_text("No source says it")


def test_the_person_page_has_no_serious_accessibility_violations(page, demo):
    page.goto(PATH)
    violations = axe_violations(page)
    assert not violations, pretty(violations)
    screenshot(page, "person-page")


def test_the_printed_page_is_the_record_alone_with_the_sources_addresses(page, demo):
    lwj = Source.objects.filter(title__startswith="Senior IMU leader captured by ISAF")
    assert lwj.update(url=ARTICLE) == 1
    page.goto(PATH)
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".site-footer")).to_be_hidden()
    expect(page.locator(".backlinks").first).to_be_hidden()
    expect(page.locator("section.summary")).to_be_visible()
    # A source's own address where it has one, and each note's page on this site: in full.
    link = page.locator(".footnotes a.source-link").first
    assert link.get_attribute("href") == ARTICLE
    assert ARTICLE in link.evaluate("a => getComputedStyle(a, '::after').content")
    here = page.locator(".footnotes a.all-facts").first
    printed = here.evaluate("a => getComputedStyle(a, '::after').content")
    assert f"{page.url.split('/people/')[0]}{here.get_attribute('href')}" in printed
    screenshot(page, "person-page-print")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    pdf = SCREENSHOT_DIR / "person-page.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=False)
    assert pdf.read_bytes().startswith(b"%PDF")
