"""Without Chromium the browser tests are skipped, unless REQUIRE_BROWSER says they must run."""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import missing_chromium

# Each test runs pytest itself for some seconds.
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTALL = "apt-get install chromium"


def test_chromium_present_runs_the_browser_tests():
    assert missing_chromium("/usr/bin/chromium", required=False) is None
    assert missing_chromium("/usr/bin/chromium", required=True) is None


def test_chromium_missing_skips_them_with_the_install_command_or_fails_them_in_ci():
    action, reason = missing_chromium(None, required=False)
    assert action == "skip"
    assert INSTALL in reason
    action, reason = missing_chromium(None, required=True)
    assert action == "fail"
    assert INSTALL in reason


def run_browser_tests(require: str | None) -> subprocess.CompletedProcess:
    """pytest on the browser smoke tests in a subprocess, with Chromium nowhere to be found."""
    env = {key: value for key, value in os.environ.items() if key != "REQUIRE_BROWSER"}
    env["CHROMIUM"] = "/nonexistent/chromium"
    # Should a fixture ever reach the database, it is another one than this run's.
    url = urlsplit(os.environ["DATABASE_URL"])
    env["DATABASE_URL"] = url._replace(path="/browser_switch_check").geturl()
    if require is not None:
        env["REQUIRE_BROWSER"] = require
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/browser/test_smoke.py", "-p", "no:cacheprovider"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_chromium_the_browser_tests_are_skipped_and_the_run_passes():
    result = run_browser_tests(require=None)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert re.search(r"\b\d+ skipped\b", summary), summary
    assert not re.search(r"passed|failed|error", summary), summary
    assert "SKIPPED [" in result.stdout and INSTALL in result.stdout


def test_with_require_browser_a_missing_chromium_fails_the_run():
    result = run_browser_tests(require="1")
    assert result.returncode != 0
    summary = result.stdout.strip().splitlines()[-1]
    assert re.search(r"\b\d+ errors?\b", summary), summary
    assert not re.search(r"skipped|passed", summary), summary
    assert "REQUIRE_BROWSER is set" in result.stdout and INSTALL in result.stdout
