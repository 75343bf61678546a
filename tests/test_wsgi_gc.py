"""The server's worker keeps what it loads at start out of the garbage collector's full passes."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_loading_the_application_freezes_what_it_loaded():
    # A process of its own: nothing else in it has frozen anything.
    code = (
        "import gc; assert gc.get_freeze_count() == 0; import tracker.wsgi; "
        "print(gc.get_freeze_count())"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tracker.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    # Django, the apps and every view module (the URL patterns are resolved before freezing).
    assert int(out.stdout) > 10_000
