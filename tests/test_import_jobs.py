"""Imports as background jobs, and the limits that keep a zip from exhausting the worker."""

import tracemalloc
import zipfile
from concurrent.futures import ThreadPoolExecutor
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from detainees.domain.models import ImportJob, Person, PublicationStatus
from detainees.write.importers.generic import ImportRefused, read_file
from detainees.write.tasks import Progress, run_import
from tests.test_import import DESK_FILES, run_queued_jobs

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
PERSONS_CSV = (
    "id,gender,birth,biography,is_placeholder\nP1,male,1975~,IMU commander,true\nP2,,,,true\n"
)


def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return path


def zeros_bomb(path: Path, megabytes: int = 100) -> Path:
    """One member of `megabytes` MB of zeros, packed to about a thousandth of that."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("persons.csv", "w") as member:
            for _ in range(megabytes):
                member.write(bytes(MB))
    return path


def refusal(path: Path) -> tuple[str, float]:
    """(the refusal's message, peak MB of Python memory allocated while refusing)."""
    tracemalloc.start()
    try:
        with pytest.raises(ImportRefused) as refused:
            read_file(path)
        peak = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    return str(refused.value.errors[0]), peak


# --- The zip limits ----------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_by_its_ratio_without_unpacking_it(tmp_path):
    bomb = zeros_bomb(tmp_path / "bomb.zip")
    assert bomb.stat().st_size < 500 * 1024

    message, peak = refusal(bomb)

    assert "IMPORT_MAX_RATIO" in message and "persons.csv" in message
    assert peak < 4, f"{peak:.1f} MB allocated while refusing"


def test_a_zip_of_ten_thousand_entries_is_refused_before_its_directory_is_read(tmp_path):
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(10_000):
            zf.writestr(f"persons/{i:05}.csv", "")

    message, peak = refusal(many)

    assert "10,000 entries" in message and "IMPORT_MAX_MEMBERS" in message
    assert peak < 2, f"{peak:.1f} MB allocated while refusing"


@override_settings(IMPORT_MAX_UNCOMPRESSED_BYTES=3 * MB, IMPORT_MAX_RATIO=10_000)
def test_the_unpacked_total_is_capped_across_members(tmp_path):
    path = zip_of(tmp_path / "big.zip", {f"notes/{i}.txt": bytes(2 * MB) for i in range(2)})

    message, peak = refusal(path)

    assert "IMPORT_MAX_UNCOMPRESSED_BYTES" in message and "3 MB" in message
    assert peak < 4


@override_settings(IMPORT_MAX_UNCOMPRESSED_BYTES=3 * MB, IMPORT_MAX_RATIO=10_000)
def test_a_zip_that_understates_its_sizes_is_stopped_while_unpacking(tmp_path):
    """The limits hold against what comes out, not only against what the archive declares."""
    path = zeros_bomb(tmp_path / "liar.zip", megabytes=20)
    data = bytearray(path.read_bytes())
    # Rewrite the declared size (local header and central directory) to 1 KB.
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
    size = info.file_size.to_bytes(4, "little")
    assert data.count(size) == 2
    data = data.replace(size, (1024).to_bytes(4, "little"))
    path.write_bytes(bytes(data))

    message, peak = refusal(path)

    # zipfile stops at the declared 1 KB, and its checksum then refuses the entry.
    assert "Bad CRC-32 for file 'persons.csv'" in message
    assert peak < 6
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    "name", ["../persons.csv", "/etc/persons.csv", "data/../../persons.csv", "C:/persons.csv"]
)
def test_names_leading_outside_the_archive_are_refused(tmp_path, name):
    path = zip_of(tmp_path / "escape.zip", {name: PERSONS_CSV.encode()})

    message, _ = refusal(path)

    assert "points outside the archive" in message and name in message


def test_a_zip_inside_the_zip_is_refused_by_name_and_by_content(tmp_path):
    inner = zip_of(tmp_path / "inner.zip", {"persons.csv": PERSONS_CSV.encode()}).read_bytes()

    by_name, _ = refusal(zip_of(tmp_path / "a.zip", {"inner.zip": inner}))
    by_content, _ = refusal(zip_of(tmp_path / "b.zip", {"persons.csv": inner}))

    assert "holds another zip ('inner.zip')" in by_name
    assert "holds another zip ('persons.csv')" in by_content


def test_a_zip_within_the_limits_still_imports(tmp_path):
    path = zip_of(tmp_path / "desk.zip", {n: t.encode() for n, t in DESK_FILES.items()})

    rows = read_file(path)

    assert {row.table.name for row in rows} >= {"persons", "events"}


def test_the_import_command_refuses_a_zip_bomb_naming_the_limit(tmp_path):
    bomb = zeros_bomb(tmp_path / "bomb.zip")
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("import_records", str(bomb), stdout=StringIO(), stderr=err)

    assert "IMPORT_MAX_RATIO" in err.getvalue() and not Person.objects.exists()


# --- The admin: upload, jobs, rights -----------------------------------------------------------


def upload(client, path: Path, **fields):
    with path.open("rb") as file:
        return client.post(
            reverse("admin-import-records"), {"file": file, "system": "desk", **fields}
        )


def test_an_upload_over_the_size_limit_is_refused_on_the_form(admin_client, tmp_path, settings):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    path = tmp_path / "persons.csv"
    path.write_text(PERSONS_CSV + "P3,male,,A biography of some length,true\n" * 60)

    response = upload(admin_client, path)

    assert response.status_code == 200
    assert "IMPORT_MAX_UPLOAD_BYTES" in str(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists()
    assert not any((tmp_path / "uploads").glob("*"))


def test_a_zip_bomb_uploaded_fails_its_preview_and_leaves_nothing(admin_client, tmp_path, settings):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    queued = upload(admin_client, zeros_bomb(tmp_path / "bomb.zip"))
    assert queued.status_code == 302, queued.context["form"].errors
    run_queued_jobs()

    page = admin_client.get(queued.url)

    job = page.context["job"]
    assert job.state == "failed" and "IMPORT_MAX_RATIO" in page.content.decode()
    assert 'name="confirm"' not in page.content.decode()
    assert not any((tmp_path / "uploads").glob("*")) and not Person.objects.exists()


def test_a_job_records_who_started_it_its_result_and_removes_its_file(
    admin_client, superuser, unnamed_people, settings, tmp_path
):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    preview_page = upload(admin_client, unnamed_people)
    preview = ImportJob.objects.get()
    assert (preview.state, preview.user, preview.dry_run) == ("queued", superuser, True)
    assert Path(preview.file_path).parent == tmp_path / "uploads"
    run_queued_jobs()
    preview.refresh_from_db()
    # A clean preview keeps its file for the import it may be confirmed into.
    assert preview.state == "succeeded" and Path(preview.file_path).is_file()
    assert preview.summary == [["persons", 2, 0, 0]] and preview.rows_total == 2

    apply_page = admin_client.post(preview_page.url, {"confirm": "1"})
    run_queued_jobs()

    applied = ImportJob.objects.get(preview=preview)
    assert apply_page.url == reverse("admin-import-job", args=[applied.pk])
    assert (applied.state, applied.dry_run, applied.rows_done) == ("succeeded", False, 2)
    assert applied.started and applied.finished and applied.errors == []
    assert not Path(applied.file_path).exists()
    assert Person.objects.filter(status=PublicationStatus.DRAFT).count() == 2
    assert "Imported persons.csv" in admin_client.get(apply_page.url).content.decode()


def test_a_job_runs_with_its_users_rights_at_the_time_it_runs(
    client, unnamed_people, settings, tmp_path
):
    from django.contrib.auth.models import Group

    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    user = get_user_model().objects.create_user("clerk", password="x-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    client.force_login(user)
    upload(client, unnamed_people, publish="on")
    # The account loses its role while the preview waits in the queue.
    user.groups.clear()

    run_queued_jobs()

    job = ImportJob.objects.get()
    assert job.state == "failed" and "may no longer import" in job.errors[0][1]
    assert not Person.objects.exists() and not any((tmp_path / "uploads").glob("*"))


def test_a_failed_import_job_writes_nothing(admin_client, tmp_path, settings):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    path = tmp_path / "persons.csv"
    path.write_text(PERSONS_CSV)
    page = upload(admin_client, path)
    run_queued_jobs()
    # Between preview and import, a row of the file changes to one that breaks a rule.
    stored = Path(ImportJob.objects.get().file_path)
    stored.write_text(PERSONS_CSV + "P3,alien,,,true\n")

    admin_client.post(page.url, {"confirm": "1"})
    run_queued_jobs()

    applied = ImportJob.objects.get(dry_run=False)
    assert applied.state == "failed" and applied.errors
    assert applied.errors[0][0].startswith("persons.csv, line 4")
    assert not Person.objects.exists() and not stored.exists()


def test_someone_elses_job_page_is_not_found(client, admin_client, unnamed_people, researcher):
    page = upload(admin_client, unnamed_people)
    client.force_login(researcher)

    assert client.get(page.url).status_code == 404


def test_the_admin_lists_jobs_read_only(admin_client, unnamed_people):
    upload(admin_client, unnamed_people)
    job = ImportJob.objects.get()

    listing = admin_client.get(reverse("admin:detainees_importjob_changelist"))
    change = admin_client.post(
        reverse("admin:detainees_importjob_change", args=[job.pk]), {"state": "succeeded"}
    )

    assert "persons.csv" in listing.content.decode()
    page = admin_client.get(reverse("admin:detainees_importjob_change", args=[job.pk]))
    assert page.status_code == 200 and job.username in page.content.decode()
    assert change.status_code == 403
    job.refresh_from_db()
    assert job.state == "queued"
    assert admin_client.get(reverse("admin:detainees_importjob_add")).status_code == 403


# --- Progress, and the real queue --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_others_while_the_import_runs(tmp_path, settings, monkeypatch):
    """Seen from another connection, as the job page's reader sees it: rows done, as they go."""
    from bench.importfile import write_import_file
    from detainees.domain.models import ImportJob as Job

    settings.IMPORT_PROGRESS_ROWS = 50
    write_import_file(tmp_path / "package", rows=300)
    package = tmp_path / "package.zip"
    with zipfile.ZipFile(package, "w") as zf:
        for file in (tmp_path / "package").rglob("*"):
            zf.write(file, file.relative_to(tmp_path / "package").as_posix())
    user = get_user_model().objects.create_superuser("boss", "boss@example.org", "x-pass-123")
    job = Job.objects.create(
        user=user,
        username="boss",
        file_path=str(package),
        file_name="package.zip",
        system="desk",
        dry_run=True,
    )
    seen = []
    write = Progress._write

    def look(job_id):
        try:
            return Job.objects.get(pk=job_id).rows_done
        finally:
            connection.close()

    def write_and_look(self, done):
        write(self, done)
        # From a third connection, neither the import's nor the progress writer's.
        with ThreadPoolExecutor(max_workers=1) as reader:
            seen.append(reader.submit(look, self.job_id).result())

    monkeypatch.setattr(Progress, "_write", write_and_look)

    run_import(str(job.pk))

    job.refresh_from_db()
    assert job.state == "succeeded", job.errors
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] <= job.rows_total
    assert all(b - a >= 50 for a, b in zip(seen, seen[1:], strict=False))
    assert not Person.objects.exists()  # a preview


@pytest.mark.django_db(transaction=True)
def test_a_job_goes_through_the_postgresql_queue_to_a_worker(
    client, unnamed_people, settings, tmp_path
):
    from procrastinate.contrib.django import app
    from procrastinate.contrib.django.models import ProcrastinateJob

    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    user = get_user_model().objects.create_superuser("boss", "boss@example.org", "x-pass-123")
    client.force_login(user)
    upload(client, unnamed_people)
    job = ImportJob.objects.get()
    queued = ProcrastinateJob.objects.get(id=job.queue_job_id)
    assert (queued.task_name, queued.status, queued.queue_name) == (
        "detainees.run_import",
        "todo",
        "imports",
    )

    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
        worker_app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False)

    job.refresh_from_db()
    queued.refresh_from_db()
    assert job.state == "succeeded" and job.summary == [["persons", 2, 0, 0]]
    assert queued.status == "succeeded"


def test_make_runs_worker_stops_with_the_server(monkeypatch):
    """`make run`'s supervisor: the worker beside the server ends when the server does."""
    import subprocess
    import sys

    from tracker import with_worker

    started = []
    popen = subprocess.Popen

    def recording_popen(args, **kwargs):
        process = popen(args, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(
        with_worker, "WORKER", [sys.executable, "-c", "import time; time.sleep(60)"]
    )
    monkeypatch.setattr(with_worker.subprocess, "Popen", recording_popen)
    monkeypatch.setattr(with_worker.signal, "signal", lambda *args: None)

    code = with_worker.main([sys.executable, "-c", "raise SystemExit(3)"])

    worker, server = started
    assert code == 3 and server.returncode == 3
    assert worker.returncode is not None  # stopped, not left running
