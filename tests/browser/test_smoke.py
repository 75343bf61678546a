"""The admin in a real browser: login, the people list and its search, accessibility, the demo."""

import re

from django.contrib import admin
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from detainees.write.demo import PERSON_NAME, load_demo
from tests import factories as f
from tests.browser.conftest import axe_violations, pretty, screenshot

PASSWORD = "browser-pass-4821"


def make_superuser():
    return get_user_model().objects.create_superuser("browser", "browser@example.org", PASSWORD)


def log_in(page, username, password=PASSWORD):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(admin.site.index_title)


def test_login_page_loads(page):
    response = page.goto("/admin/login/")
    assert response is not None and response.ok
    expect(page).to_have_title(re.compile(r"Log in"))
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    paths = screenshot(page, "admin-login")
    assert [p.name for p in paths] == ["admin-login-375.png", "admin-login-1280.png"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_login_page_has_no_serious_accessibility_violations(page):
    page.goto("/admin/login/")
    violations = axe_violations(page)
    assert not violations, pretty(violations)


def test_wrong_password_is_refused(page):
    make_superuser()
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("browser")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".errornote")).to_contain_text("Please enter the correct username")
    expect(page).to_have_url(re.compile(r"/admin/login/"))


def test_superuser_logs_in_and_searches_people(page):
    make_superuser()
    f.PersonFactory(name="Abdul Rahman Zahid")
    f.PersonFactory(name="Mullah Nasir")

    log_in(page, "browser")
    expect(page).to_have_title(re.compile(admin.site.index_title))
    expect(page.locator("#user-tools")).to_contain_text("browser")
    screenshot(page, "admin-index")

    page.get_by_role("link", name="People", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/admin/detainees/person/$"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)

    page.locator("#searchbar").fill("Zahid")
    page.locator("#searchbar").press("Enter")
    expect(page).to_have_url(re.compile(r"\?q=Zahid"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Abdul Rahman Zahid")
    expect(page.locator("#result_list")).not_to_contain_text("Mullah Nasir")
    screenshot(page, "admin-people-search")


def test_demo_case_is_listed_in_the_admin(page):
    load_demo()
    make_superuser()

    log_in(page, "browser")
    page.goto("/admin/detainees/person/")
    expect(page.locator("#result_list")).to_contain_text(PERSON_NAME)
    assert PERSON_NAME == "Qari Bilal"
    page.get_by_role("link", name=PERSON_NAME).click()
    expect(page.get_by_role("heading", level=2, name=PERSON_NAME)).to_be_visible()
    screenshot(page, "admin-demo-person")
