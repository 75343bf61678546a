"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Fixtures: `browser` (one Chromium for all the browser tests) and `page` (a fresh browser context
per test, with `base_url` set to the live server, so `page.goto("/admin/")` works). Every test
that uses `page` runs against `live_server` with `transactional_db`: rows the test creates are
committed, so the server thread sees them, and the tables are emptied after the test.

Without Chromium (CHROMIUM, default /usr/bin/chromium) the browser tests are skipped, the reason
saying how to install it; with REQUIRE_BROWSER=1, as in CI, they fail instead.

Helpers for the tests: `screenshot(page, name)` saves full-page PNGs at phone and desktop widths
under test-artifacts/screenshots/, and `axe_violations(page)` runs axe-core in the page and
returns the serious and critical accessibility violations; `pretty(violations)` formats them for
an assertion message.
"""

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the tests may run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_WIDTHS = (375, 1280)
DEFAULT_TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    skip = missing_chromium(_chromium_executable(), _browser_required())
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if skip is not None and skip[0] == "skip":
                item.add_marker(pytest.mark.skip(reason=skip[1]))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # With REQUIRE_BROWSER set, a missing Chromium fails each browser test before any fixture
    # (the live server, the test database) is set up.
    if item.get_closest_marker("browser") is None:
        return
    outcome = missing_chromium(_chromium_executable(), _browser_required())
    if outcome is not None and outcome[0] == "fail":
        pytest.fail(outcome[1], pytrace=False)


def missing_chromium(executable: str | None, required: bool) -> tuple[str, str] | None:
    """What to do about the browser tests: None to run them, else ("skip" or "fail", reason).

    Without Chromium they are skipped, so that `make test` needs nothing but Python and make;
    CI sets REQUIRE_BROWSER=1, where a missing Chromium fails them instead.
    """
    if executable is not None:
        return None
    reason = (
        f"Chromium was not found at {CHROMIUM}. The browser tests use Debian's Chromium: "
        "install it with `sudo apt-get install chromium`, or set CHROMIUM to the path of "
        "a Chromium executable."
    )
    if required:
        return "fail", f"{reason} REQUIRE_BROWSER is set, so a missing Chromium is an error."
    return "skip", reason


def _browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes", "on"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # Lets the `page` fixture see whether the test failed, to keep a screenshot of it.
    setattr(item, f"report_{report.when}", report)
    return report


def _chromium_executable() -> str | None:
    return shutil.which(CHROMIUM) or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else None)


@pytest.fixture(scope="package")
def playwright():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio event loop marked as running in this thread for as
    # long as it is started. Django refuses ORM calls from a thread with a running loop
    # (SynchronousOnlyOperation), although these tests call it synchronously and never from the
    # loop. The variable lifts that check only while Playwright runs, that is for the tests in
    # this package (the fixture is package-scoped, and pytest-django runs them one after
    # another), and is restored afterwards.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="package")
def browser(playwright):
    executable = _chromium_executable()
    outcome = missing_chromium(executable, _browser_required())
    if outcome is not None:
        pytest.fail(outcome[1], pytrace=False)
    # Screenshots describe the latest run only.
    shutil.rmtree(SCREENSHOT_DIR, ignore_errors=True)
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(request, browser, live_server, transactional_db):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        _save(page, f"FAILED-{request.node.name}")
    context.close()


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "page"


def _save(page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{_slug(name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def screenshot(page, name: str, widths: Iterable[int] = SCREENSHOT_WIDTHS) -> list[Path]:
    """Save full-page PNGs of the page as it is now, one per width: NAME-375.png, NAME-1280.png.

    The viewport is put back to its size before the call afterwards.
    """
    original = page.viewport_size or {"width": 1280, "height": 800}
    paths = []
    try:
        for width in widths:
            page.set_viewport_size({"width": width, "height": original["height"]})
            paths.append(_save(page, f"{name}-{width}"))
    finally:
        page.set_viewport_size(original)
    return paths


def axe_violations(
    page,
    impacts: Iterable[str] = ("serious", "critical"),
    context: str | list | dict | None = None,
    options: dict | None = None,
) -> list[dict]:
    """Run axe-core in the page and return its violations of the given impacts.

    `context` and `options` go to `axe.run` unchanged (e.g. context={"exclude": [["#footer"]]},
    options={"rules": {"color-contrast": {"enabled": False}}}). Each violation is a dict with
    id, impact, help, help_url and nodes, each node with its CSS target, html and summary.
    """
    from axe_playwright_python.sync_playwright import Axe

    run_options = {"resultTypes": ["violations"], **(options or {})}
    results = Axe().run(page, context=context, options=run_options)
    wanted = set(impacts)
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "help_url": violation.get("helpUrl", ""),
            "nodes": [
                {
                    "target": node.get("target", []),
                    "html": node.get("html", ""),
                    "summary": node.get("failureSummary", ""),
                }
                for node in violation["nodes"]
            ],
        }
        for violation in results.response["violations"]
        if violation["impact"] in wanted
    ]


def pretty(violations: list[dict]) -> str:
    """A readable listing of `axe_violations` output, for an assertion message."""
    lines = [f"{len(violations)} accessibility violation(s):"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        if violation["help_url"]:
            lines.append(f"  {violation['help_url']}")
        for node in violation["nodes"]:
            lines.append(f"  * {', '.join(map(str, node['target']))}: {node['html']}")
            for summary_line in node["summary"].splitlines():
                lines.append(f"      {summary_line}")
    return "\n".join(lines)
