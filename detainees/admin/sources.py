"""Sources and citations."""

from django.contrib import admin

from detainees.admin.common import (
    AUDIT_FIELDS,
    PartAdmin,
    RecordAdmin,
)
from detainees.domain.models import (
    Citation,
    Source,
)
from detainees.domain.models.sources import CITED_FACTS


@admin.register(Source)
class SourceAdmin(RecordAdmin):
    list_display = ("title", "kind", "publisher", "published", "reference_number", "status")
    list_filter = ("status", "kind", "is_confidential", "language")
    search_fields = ("title", "reference_number", "url", "author", "publisher__name")
    autocomplete_fields = ("publisher",)
    list_select_related = ("publisher",)
    # Set by importers, which find the source again by it; editing it would make a duplicate.
    readonly_fields = (*AUDIT_FIELDS, "import_key")


@admin.register(Citation)
class CitationAdmin(PartAdmin):
    """A citation is its fact's record's content: a published event's citations are the
    editors' to change, as on the event's page."""

    list_display = ("__str__", "aspect", "attribution", "accessed_on")
    list_filter = ("source__kind",)
    search_fields = ("quote", "attribution", "source__title", "aspect")
    autocomplete_fields = ("source", *CITED_FACTS)
    list_select_related = ("source",)
