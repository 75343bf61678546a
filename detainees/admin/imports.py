"""The admin's import: upload a file, preview it in the background, confirm, see the result.

Both the preview (a dry run) and the import run as background jobs (detainees/write/tasks.py), so a
file that takes minutes is not cut off with the request. Each job has a page that refreshes
itself while the job runs and then shows what it did or every problem it found.
"""

import secrets
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from detainees.domain.fuzzydates import DATE_ORDERS, LOCALES
from detainees.domain.models import ImportJob
from detainees.write import services
from detainees.write.exports.tables import TABLES
from detainees.write.exports.template import ARCHIVE, template_zip
from detainees.write.importers.generic import (
    DEFAULT_SYSTEM,
    RowError,
    column_date_orders,
    may_import,
)
from detainees.write.tasks import queue_import

ABANDONED_AFTER_SECONDS = 24 * 3600
SUFFIXES = (".csv", ".json", ".jsonl", ".ndjson", ".zip")
# The job page reloads itself this often while its job waits or runs.
REFRESH_SECONDS = 3
TEMPLATE = "admin/detainees/import_records.html"


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV (one table), JSON, JSON Lines, or a data package as a zip "
        "(e.g. the public download)."
    )
    table = forms.ChoiceField(
        required=False,
        choices=[("", "From the file name (persons.csv)")] + [(t.name, t.name) for t in TABLES],
        help_text="CSV only: the table the file holds.",
    )
    system = forms.CharField(
        initial=DEFAULT_SYSTEM,
        max_length=100,
        help_text="Whose identifiers the id columns hold when they are not UUIDs.",
    )
    encoding = forms.ChoiceField(
        required=False,  # UTF-8
        choices=ImportJob.Encoding.choices,
        initial=ImportJob.Encoding.UTF8,
        help_text="The text encoding of the CSV and JSON files; Detect guesses it and says which.",
    )
    date_order = forms.ChoiceField(
        required=False,
        choices=[("", "Refuse a day that could be either (03/04/1976)")]
        + [(o, o) for o in DATE_ORDERS],
        help_text="How the file writes a numeric day: dmy reads 03/04/1976 as 3 April.",
    )
    locales = forms.MultipleChoiceField(
        required=False,
        choices=[(loc, loc) for loc in LOCALES],
        widget=forms.CheckboxSelectMultiple,
        help_text="Languages of the file's month names and date words (NOV/1976, s/f).",
    )
    column_date_orders = forms.CharField(
        required=False,
        max_length=500,
        help_text="Date columns written in another order than the file's other dates, "
        "comma-separated: events.end_date=mdy, persons.birth=ymd.",
    )
    century = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=99,
        help_text="The century of two-digit years (03/04/76, MAR/76): 19 reads 24 as 1924. "
        "Blank: the latest year up to now that ends in them (24: 2024).",
    )
    publish = forms.BooleanField(
        required=False, help_text="Publish what is imported (editors only). Otherwise: drafts."
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not services.may_publish(user):
            del self.fields["publish"]

    def clean_column_date_orders(self):
        texts = [t.strip() for t in self.cleaned_data["column_date_orders"].split(",")]
        try:
            pairs = column_date_orders(t for t in texts if t)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return ",".join(f"{name}={order}" for name, order in pairs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(SUFFIXES):
            raise forms.ValidationError(f"Upload a file ending in {', '.join(SUFFIXES)}.")
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:,.1f} MB; the limit is "
                f"{limit / 1024 / 1024:,.1f} MB (IMPORT_MAX_UPLOAD_BYTES)."
            )
        return upload


def _store(upload) -> Path:
    """Keep the upload for its jobs under a random, private name."""
    directory = Path(settings.IMPORT_UPLOAD_DIR)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Previews never confirmed leave their file behind: clear those older than a day.
    for stale in directory.iterdir():
        if time.time() - stale.stat().st_mtime > ABANDONED_AFTER_SECONDS:
            stale.unlink(missing_ok=True)
    stored = directory / f"{secrets.token_urlsafe(16)}{Path(upload.name).suffix.lower()}"
    with stored.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return stored


@require_http_methods(["GET", "POST"])
def import_records(request):
    """Upload a file: it is stored and its preview (a dry run) queued; on to the job's page."""
    if not may_import(request.user):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        stored = _store(upload)
        try:
            with transaction.atomic():
                job = ImportJob.objects.create(
                    user=request.user,
                    username=request.user.get_username(),
                    file_path=str(stored),
                    file_name=upload.name,
                    table=form.cleaned_data["table"],
                    system=form.cleaned_data["system"],
                    encoding=form.cleaned_data["encoding"] or ImportJob.Encoding.UTF8,
                    date_order=form.cleaned_data["date_order"],
                    locales=",".join(form.cleaned_data["locales"]),
                    century=form.cleaned_data["century"],
                    column_date_orders=form.cleaned_data["column_date_orders"],
                    publish=bool(form.cleaned_data.get("publish")),
                    dry_run=True,
                )
                queue_import(job)
        except BaseException:
            stored.unlink(missing_ok=True)
            raise
        return redirect("admin-import-job", job_id=job.pk)
    context = {
        **admin.site.each_context(request),
        "title": "Import records",
        "form": form,
        "jobs": ImportJob.objects.filter(user=request.user)[:10],
    }
    return TemplateResponse(request, TEMPLATE, context)


@require_http_methods(["GET"])
def import_template(request):
    """The import template (an empty data package with the column spec), as a zip."""
    if not may_import(request.user):
        raise PermissionDenied
    response = HttpResponse(template_zip(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{ARCHIVE}"'
    return response


def _own_job(request, job_id) -> ImportJob:
    job = get_object_or_404(ImportJob.objects.select_related("preview"), pk=job_id)
    if job.user_id != request.user.pk and not request.user.is_superuser:
        raise Http404
    return job


@require_http_methods(["GET", "POST"])
def import_job(request, job_id):
    """A job's progress, then its result; a clean preview offers to run the import."""
    if not may_import(request.user):
        raise PermissionDenied
    job = _own_job(request, job_id)
    expired = False
    if request.method == "POST" and "confirm" in request.POST:
        if job.publish and not services.may_publish(request.user):
            raise PermissionDenied
        applied, expired = _confirm(request, job)
        if applied is not None:
            return redirect("admin-import-job", job_id=applied.pk)
    applied = ImportJob.objects.filter(preview=job).first()
    context = {
        **admin.site.each_context(request),
        "title": f"{'Preview of' if job.dry_run else 'Import of'} {job.file_name}",
        "step": "job",
        "job": job,
        "applied": applied,
        "expired": expired,
        "refresh": None if job.done else REFRESH_SECONDS,
        "report": {"dry_run": job.dry_run, "rows": job.summary},
        "errors": [RowError(where, message) for where, message in job.errors],
        "may_confirm": (
            job.dry_run
            and job.state == ImportJob.State.SUCCEEDED
            and applied is None
            and Path(job.file_path).is_file()
        ),
    }
    return TemplateResponse(request, TEMPLATE, context)


def _confirm(request, preview: ImportJob) -> tuple[ImportJob | None, bool]:
    """(the apply job of a clean preview, queued once however often confirmed, expired)."""
    with transaction.atomic():
        preview = ImportJob.objects.select_for_update().get(pk=preview.pk)
        existing = ImportJob.objects.filter(preview=preview).first()
        if existing is not None:
            return existing, False
        if not (
            preview.dry_run
            and preview.state == ImportJob.State.SUCCEEDED
            and Path(preview.file_path).is_file()
        ):
            return None, True
        job = ImportJob.objects.create(
            user=request.user,
            username=request.user.get_username(),
            file_path=preview.file_path,
            file_name=preview.file_name,
            table=preview.table,
            system=preview.system,
            encoding=preview.encoding,
            date_order=preview.date_order,
            locales=preview.locales,
            century=preview.century,
            column_date_orders=preview.column_date_orders,
            publish=preview.publish,
            dry_run=False,
            preview=preview,
        )
        queue_import(job)
    return job, False


# Served at /admin/import/ and /admin/import/<job>/ (tracker/urls.py): staff only, like every
# admin page.
import_records_view = admin.site.admin_view(import_records)
import_job_view = admin.site.admin_view(import_job)
import_template_view = admin.site.admin_view(import_template)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Every import job, read-only: who ran which file, when, and how it ended."""

    list_display = ("created", "file_name", "kind", "username", "state", "rows", "finished")
    list_filter = ("state", "dry_run")
    search_fields = ("file_name", "username")
    date_hierarchy = "created"
    exclude = ("file_path",)
    readonly_fields = [f.name for f in ImportJob._meta.fields if f.name not in ("file_path",)]

    @admin.display(description="kind")
    def kind(self, job):
        return "preview" if job.dry_run else "import"

    @admin.display(description="rows")
    def rows(self, job):
        return f"{job.rows_done:,} / {job.rows_total:,}" if job.rows_total else "-"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
