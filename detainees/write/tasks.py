"""Background jobs, run by `manage.py procrastinate worker` from procrastinate's queue.

The queue lives in the same PostgreSQL database (procrastinate's own tables), so a job is
queued in the same transaction as the ImportJob row that describes it: both or neither.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from procrastinate.contrib.django import app

from detainees.domain.fuzzydates import DateReading
from detainees.domain.models import ImportJob
from detainees.write import services
from detainees.write.history import acting
from detainees.write.importers.encodings import Decoder
from detainees.write.importers.generic import (
    ImportRefused,
    RowError,
    column_date_orders,
    import_rows,
    may_import,
    read_file,
)

logger = logging.getLogger(__name__)
QUEUE = "imports"


def queue_import(job: ImportJob) -> None:
    """Queue `job` to run; call inside the transaction that saves it (both commit, or neither)."""
    queue_job_id = run_import.defer(job_id=str(job.pk))
    ImportJob.objects.filter(pk=job.pk).update(queue_job_id=queue_job_id)


class Progress:
    """The `progress` of import_rows(): writes rows done to the job at most every N rows.

    The import writes inside one transaction that only commits at the end (and a preview's
    never does), so progress goes through a connection of its own, in a thread of its own
    (Django keeps one connection per thread): people watching see it while the job runs.
    """

    def __init__(self, job: ImportJob, every: int):
        self.job_id, self.every = job.pk, every
        self.done = self.written = 0
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-progress")

    def update(self, rows: int) -> None:
        self.done += rows
        if self.done - self.written >= self.every:
            self.flush()

    def flush(self) -> None:
        """Write the rows done; a failure to report progress does not fail the import."""
        self.written = self.done
        try:
            self.writer.submit(self._write, self.done).result()
        except Exception:
            logger.exception("Writing the progress of import job %s", self.job_id)

    def _write(self, done: int) -> None:
        ImportJob.objects.filter(pk=self.job_id).update(rows_done=done)

    def close(self) -> None:
        """Close the thread's connection; never raises (the import's outcome stands)."""
        try:
            self.writer.submit(self._close_connection).result()
        except Exception:
            logger.exception("Closing the progress connection of import job %s", self.job_id)
        self.writer.shutdown()

    @staticmethod
    def _close_connection() -> None:
        connection.close()  # the calling thread's own connection


def _finish(job: ImportJob, state, *, errors=(), report=None) -> None:
    job.state = state
    job.finished = timezone.now()
    job.errors = [[e.where, e.message] for e in errors]
    if report is not None:
        job.summary = [list(row) for row in report.rows()]
        job.rows_done = job.rows_total or 0
    job.save(update_fields=["state", "finished", "errors", "summary", "rows_done"])


def _refusal(job: ImportJob) -> str | None:
    """Why the job's user may not run it now (rights can change while a job waits), or None."""
    user = job.user
    if user is None or not may_import(user):
        return f"{job.username or 'The user who started it'} may no longer import records."
    if job.publish and not services.may_publish(user):
        return f"{job.username} may no longer publish records."
    return None


@app.task(name="detainees.run_import", queue=QUEUE)
def run_import(job_id: str) -> None:
    """Run one import job: a preview (dry run) or the import itself, all or nothing.

    The job's state, progress, result and errors are written to its ImportJob row. The file is
    deleted when the job ends, except after a preview that found no problem: its apply job
    needs it, and deletes it in turn (abandoned ones are cleared after a day).
    """
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",)).select_related("user").get(pk=job_id)
        )
        if job.state != ImportJob.State.QUEUED:
            return  # already run (a job queued twice runs once)
        job.state, job.started = ImportJob.State.RUNNING, timezone.now()
        job.save(update_fields=["state", "started"])
    path = Path(job.file_path)
    keep_file = False
    try:
        refusal = _refusal(job)
        if refusal:
            _finish(job, ImportJob.State.FAILED, errors=[RowError(job.file_name, refusal)])
            return
        try:
            decoder = Decoder(job.encoding)
            rows = read_file(path, table=job.table, name=job.file_name, decoder=decoder)
            job.rows_total, job.notes = len(rows), decoder.notes()
            job.save(update_fields=["rows_total", "notes"])
            progress = Progress(job, every=settings.IMPORT_PROGRESS_ROWS)
            try:
                reason = f"{'preview of' if job.dry_run else 'import of'} {job.file_name}"
                with acting(job.user, reason, import_job=str(job.pk)):
                    report = import_rows(
                        rows,
                        publish=job.publish,
                        dry_run=job.dry_run,
                        system=job.system,
                        progress=progress,
                        user=job.user,
                        reading=DateReading(
                            order=job.date_order or None,
                            locales=tuple(filter(None, job.locales.split(","))),
                            century=job.century,
                            columns=column_date_orders(
                                filter(None, job.column_date_orders.split(","))
                            ),
                        ),
                    )
            finally:
                progress.close()
        except ImportRefused as refused:
            _finish(job, ImportJob.State.FAILED, errors=refused.errors)
            return
        except OSError as exc:
            error = RowError(job.file_name, f"the stored file could not be read ({exc})")
            _finish(job, ImportJob.State.FAILED, errors=[error])
            return
        except Exception:
            logger.exception("Import job %s failed", job.pk)
            error = RowError(
                job.file_name, "an unexpected error stopped the job; nothing was written"
            )
            _finish(job, ImportJob.State.FAILED, errors=[error])
            return
        _finish(job, ImportJob.State.SUCCEEDED, report=report)
        keep_file = job.dry_run
    finally:
        if not keep_file:
            path.unlink(missing_ok=True)
