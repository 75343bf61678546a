"""A downloaded CSV cites its sources, and the events list names who each event is about: as a
journalist meets them in a real browser."""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from detainees.write.demo import load_demo
from tests.browser.conftest import axe_violations, pretty, screenshot


@pytest.fixture
def demo(transactional_db):
    load_demo()


def test_the_people_csv_downloaded_from_the_list_cites_qari_bilals_sources(page, demo):
    page.goto("/people/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    saved = Path(download.value.path())
    assert download.value.suggested_filename == "people.csv"
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"), newline="")))

    bilal = next(row for row in rows if row["name"] == "Qari Bilal")
    assert bilal["source_1_title"] == (
        "ISAF statement announcing the capture of a senior IMU leader in Khanabad, Kunduz"
    )
    assert bilal["source_1_publisher"] == "International Security Assistance Force (ISAF)"
    assert bilal["source_1_date"] == "2011-04"
    assert bilal["source_1_quote"].startswith("Three years ago, ISAF announced the capture")
    assert bilal["source_1_claim_status"] == "confirmed"
    assert bilal["source_1_supports"].startswith("first capture (capture, 2011-04-20)")
    assert int(bilal["sources_more"]) >= 0


def test_the_events_list_names_qari_bilal_and_the_imu_on_his_capture(page, demo):
    page.goto("/events/?group=imu&province=kunduz-province")
    row = page.locator("table.events tbody tr").filter(
        has_text="Captured by ISAF and Afghan forces"
    )
    expect(row).to_have_count(1)
    expect(row.get_by_role("link", name="Qari Bilal")).to_have_attribute(
        "href", "/people/qari-bilal/"
    )
    expect(row.locator(".event-who")).to_contain_text(
        "Target group: Islamic Movement of Uzbekistan"
    )
    expect(row.locator(".event-who")).to_contain_text("Capturing force:")
    screenshot(page, "events-list")
    violations = axe_violations(page)
    assert violations == [], pretty(violations)
