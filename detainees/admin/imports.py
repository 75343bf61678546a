"""The admin's import: upload a file, preview what it would change, confirm, see the result."""

import secrets
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from detainees.exports.tables import TABLES
from detainees.importers.generic import (
    DEFAULT_SYSTEM,
    ImportRefused,
    import_rows,
    may_import,
    may_publish,
    read_file,
)

SESSION_KEY = "detainees_import_uploads"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
ABANDONED_AFTER_SECONDS = 24 * 3600
SUFFIXES = (".csv", ".json", ".jsonl", ".ndjson", ".zip")


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
    publish = forms.BooleanField(
        required=False, help_text="Publish what is imported (editors only). Otherwise: drafts."
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_publish(user):
            del self.fields["publish"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(SUFFIXES):
            raise forms.ValidationError(f"Upload a file ending in {', '.join(SUFFIXES)}.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 50 MB.")
        return upload


def _store(upload) -> tuple[str, Path]:
    """Keep the upload between preview and confirmation under a random, private name."""
    directory = Path(settings.IMPORT_UPLOAD_DIR)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Previews never confirmed leave their file behind: clear those older than a day.
    for stale in directory.iterdir():
        if time.time() - stale.stat().st_mtime > ABANDONED_AFTER_SECONDS:
            stale.unlink(missing_ok=True)
    token = secrets.token_urlsafe(16)
    stored = directory / f"{token}{Path(upload.name).suffix.lower()}"
    with stored.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return token, stored


def _run(pending: dict, *, dry_run: bool, user):
    """(report, errors) of importing a stored upload, held to `user`'s role."""
    try:
        rows = read_file(Path(pending["path"]), table=pending["table"], name=pending["name"])
        report = import_rows(
            rows, publish=pending["publish"], dry_run=dry_run, system=pending["system"], user=user
        )
    except ImportRefused as refused:
        return None, refused.errors
    return report, []


@require_http_methods(["GET", "POST"])
def import_records(request):
    """Upload and preview (a dry run), then confirm the same file: it is checked again."""
    if not may_import(request.user):
        raise PermissionDenied
    context = {**admin.site.each_context(request), "title": "Import records"}
    pending_uploads = request.session.get(SESSION_KEY, {})
    if request.method == "POST" and "confirm" in request.POST:
        pending = pending_uploads.pop(request.POST.get("token", ""), None)
        request.session[SESSION_KEY] = pending_uploads
        if pending is None:
            form = ImportForm(user=request.user)
            context.update(form=form, expired=True)
            return TemplateResponse(request, "admin/detainees/import_records.html", context)
        if pending["publish"] and not may_publish(request.user):
            raise PermissionDenied
        report, errors = _run(pending, dry_run=False, user=request.user)
        Path(pending["path"]).unlink(missing_ok=True)
        context.update(step="result", report=report, errors=errors, pending=pending)
        return TemplateResponse(request, "admin/detainees/import_records.html", context)
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        token, stored = _store(upload)
        pending = {
            "path": str(stored),
            "name": upload.name,
            "table": form.cleaned_data["table"],
            "system": form.cleaned_data["system"],
            "publish": bool(form.cleaned_data.get("publish")),
        }
        report, errors = _run(pending, dry_run=True, user=request.user)
        if errors:
            stored.unlink(missing_ok=True)
        else:
            pending_uploads[token] = pending
            request.session[SESSION_KEY] = pending_uploads
        context.update(step="preview", report=report, errors=errors, pending=pending, token=token)
    context["form"] = form
    return TemplateResponse(request, "admin/detainees/import_records.html", context)


# Served at /admin/import/ (tracker/urls.py): staff only, like every admin page.
import_records_view = admin.site.admin_view(import_records)
