"""make backup / make restore (tracker/backup.py): a restored backup holds the same records."""

import filecmp
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection

REPO_ROOT = Path(__file__).resolve().parent.parent


def url_of(database: str) -> str:
    """A URL for `database` on the server the tests use (libpq's form, as DATABASE_URL)."""
    settings = connection.settings_dict
    user = quote(settings["USER"] or "", safe="")
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings["PASSWORD"] else ""
    host = quote(settings["HOST"] or "", safe="")
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgresql://{user}{password}@{host}{port}/{database}"


def run(*args: str, database: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url_of(database), "DEBUG": "1"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        **kwargs,
    )


def files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


@pytest.fixture
def fresh_database():
    """An empty database beside the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_a_restored_backup_exports_byte_identical_files(tmp_path, fresh_database):
    call_command("load_demo", verbosity=0)
    database = connection.settings_dict["NAME"]
    before = tmp_path / "before"
    call_command("export", str(before), verbosity=0)
    assert "Qari Bilal" in (before / "person_names.csv").read_text(encoding="utf-8")

    backup = tmp_path / "tracker.dump"
    dumped = run("-m", "tracker.backup", "dump", str(backup), database=database)
    assert dumped.returncode == 0, dumped.stderr
    assert backup.stat().st_size > 0

    # Into an empty database, then once more over what it now holds (--clean --if-exists).
    for _ in range(2):
        restored = run(
            "-m", "tracker.backup", "restore", "--yes", str(backup), database=fresh_database
        )
        assert restored.returncode == 0, restored.stderr
    after = tmp_path / "after"
    exported = run("manage.py", "export", str(after), database=fresh_database)
    assert exported.returncode == 0, exported.stderr

    # The export writes no timestamp (its date is only in --archive's tracker-data.json), so
    # every file is compared whole.
    assert files(after) == files(before)
    match, mismatch, errors = filecmp.cmpfiles(before, after, files(before), shallow=False)
    assert (mismatch, errors) == ([], [])
    assert len(match) == len(files(before)) > 10


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_an_unreadable_file_and_an_unconfirmed_restore(tmp_path):
    database = connection.settings_dict["NAME"]
    not_a_backup = tmp_path / "notes.dump"
    not_a_backup.write_text("not a backup\n")
    refused = run("-m", "tracker.backup", "restore", "--yes", str(not_a_backup), database=database)
    assert refused.returncode == 1
    assert "is not a backup pg_restore can read" in refused.stderr

    missing = run("-m", "tracker.backup", "restore", "--yes", "nowhere.dump", database=database)
    assert missing.returncode == 1
    assert "nowhere.dump: no such file" in missing.stderr

    backup = tmp_path / "tracker.dump"
    assert run("-m", "tracker.backup", "dump", str(backup), database=database).returncode == 0
    # Without --yes (YES=1) and without a terminal to ask on, nothing is restored.
    unconfirmed = run(
        "-m", "tracker.backup", "restore", str(backup), database=database, stdin=subprocess.DEVNULL
    )
    assert unconfirmed.returncode == 1
    assert "Not restored" in unconfirmed.stderr
    # An existing file is never overwritten by a backup.
    again = run("-m", "tracker.backup", "dump", str(backup), database=database)
    assert again.returncode == 1
    assert "exists" in again.stderr
