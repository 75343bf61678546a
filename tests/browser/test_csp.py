"""The pages work in a real browser under the Content-Security-Policy: nothing is blocked."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from detainees.domain.models import Person
from detainees.write.demo import PERSON_NAME, load_demo
from tests.browser.conftest import screenshot

PASSWORD = "browser-pass-4821"


@pytest.fixture
def demo(transactional_db):
    load_demo()


@pytest.fixture
def blocked(page):
    """Everything the browser refused because of the CSP, and every script error, as text."""
    seen = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: seen.append(f"script error: {error}"))
    return seen


def test_the_public_pages_run_under_the_policy(page, demo, blocked):
    person = Person.objects.get(names__name=PERSON_NAME, names__is_primary=True)
    for path in [
        "/",
        "/people/",
        "/events/",
        "/map/",
        "/figures/",
        person.get_absolute_url(),
        "/data/",
    ]:
        response = page.goto(path)
        assert response is not None and response.ok, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
    assert blocked == []


def test_swagger_ui_renders_under_the_policy(page, blocked):
    response = page.goto("/api/docs/")
    assert response is not None and response.ok
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Detainee-release tracker API")
    # The operations are drawn from the schema, which the start-up script fetched.
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    screenshot(page, "api-docs", widths=(1280,))
    assert blocked == []


def test_the_admin_scripts_run_under_the_policy(page, demo, blocked):
    get_user_model().objects.create_superuser("browser", "browser@example.org", PASSWORD)
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("browser")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/admin/detainees/person/")
    # actions.js: ticking "select all" updates the counter.
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text(
        re.compile(r"[1-9]\d* of [1-9]\d* selected")
    )
    person = Person.objects.get(names__name=PERSON_NAME, names__is_primary=True)
    page.goto(f"/admin/detainees/person/{person.pk}/change/")
    expect(page.locator("#content h1, #content h2").first).to_be_visible()
    screenshot(page, "admin-person-change-under-csp", widths=(1280,))
    assert blocked == []
