"""What every record's admin shares: state, audit fields, citations."""

from django.contrib import admin

from detainees.admin.history import HistoryMixin
from detainees.models import (
    Citation,
)

RECORD_FIELDS = ("status", "withdrawal_reason", "internal_notes")
AUDIT_FIELDS = ("public_id", "created", "updated")


class RecordAdmin(HistoryMixin, admin.ModelAdmin):
    """Shared by every publishable record: state filter, audit fields read-only, history."""

    readonly_fields = AUDIT_FIELDS
    list_filter = ("status",)
    show_full_result_count = False
    list_per_page = 50


class CitationInline(admin.StackedInline):
    model = Citation
    extra = 0
    autocomplete_fields = ("source",)
    fields = (
        "source",
        "aspect",
        "quote",
        "locator",
        "attribution",
        "accessed_on",
        "internal_notes",
    )
    classes = ("collapse",)


class EventCitationInline(CitationInline):
    classes = ()
    extra = 1


# --- People -----------------------------------------------------------------------------------
