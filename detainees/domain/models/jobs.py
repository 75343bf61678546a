"""Imports run in the background: who started which file, how far it got, what it did."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from .common import choices_check


class ImportEncoding(models.TextChoices):
    """The encodings the admin offers (the command takes any Python codec name)."""

    UTF8 = "utf-8", "UTF-8 (with or without BOM)"
    CP1252 = "cp1252", "Windows-1252"
    LATIN1 = "latin-1", "Latin-1 (ISO 8859-1)"
    UTF16 = "utf-16", "UTF-16 (with BOM)"
    DETECT = "detect", "Detect (the result says which)"


class ImportJob(models.Model):
    """One run of the import engine on an uploaded file, as a queued background job.

    A preview is a dry run; confirming a preview that found no problem queues an apply job for
    the same file. The file lives under IMPORT_UPLOAD_DIR while a job needs it.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    Encoding = ImportEncoding

    # Random: the job's page address is not guessable from another's.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="import_jobs",
        help_text="Who started it; the job runs with this user's rights.",
    )
    username = models.CharField(max_length=150, help_text="Kept if the account is deleted.")
    file_path = models.CharField(max_length=500, help_text="The stored upload (private).")
    file_name = models.CharField(max_length=255, help_text="The upload's own name.")
    table = models.CharField(max_length=40, blank=True)
    system = models.CharField(max_length=100)
    publish = models.BooleanField(default=False)
    date_order = models.CharField(
        max_length=3, blank=True, default="", help_text="dmy, mdy, ymd or blank: refuse 03/04."
    )
    locales = models.CharField(
        max_length=20, blank=True, default="", help_text="Languages of date words: es,pt,fr."
    )
    column_date_orders = models.CharField(
        max_length=500,
        blank=True,
        default="",
        help_text="Date columns in another order than the file's: events.end_date=mdy, ...",
    )
    century = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="The century of two-digit years (19: 1900-1999); blank: the latest year up to "
        "now that ends in them.",
    )
    encoding = models.CharField(
        max_length=10,
        choices=Encoding.choices,
        default=Encoding.UTF8,
        help_text="The text encoding of the file's CSV and JSON files.",
    )
    notes = models.JSONField(
        default=list, blank=True, help_text="What the import chose, e.g. the encoding detected."
    )
    dry_run = models.BooleanField(help_text="A preview: checked and rolled back, nothing written.")
    preview = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applied_by",
        help_text="For an apply job: the preview it confirms (each preview is confirmed once).",
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    summary = models.JSONField(
        default=list, blank=True, help_text="[table, created, updated, unchanged] per table."
    )
    errors = models.JSONField(default=list, blank=True, help_text="[where, problem] per problem.")
    queue_job_id = models.BigIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["-created"], name="importjob_created_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(century__isnull=True) | Q(century__gte=1, century__lte=99),
                name="importjob_century_range",
                violation_error_message="The century of two-digit years is from 1 to 99.",
            ),
            choices_check("encoding", ImportEncoding, "importjob_encoding_valid"),
        ]

    def __str__(self):
        return f"{'preview' if self.dry_run else 'import'} of {self.file_name} ({self.state})"

    @property
    def done(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return None
        return min(100, self.rows_done * 100 // self.rows_total)
