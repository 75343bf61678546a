"""Events, release batches and who took part."""

from django.contrib import admin

from detainees.admin.common import (
    AUDIT_FIELDS,
    RECORD_FIELDS,
    CitationInline,
    EventCitationInline,
    PartAdmin,
    RecordAdmin,
    RuleInlineMixin,
)
from detainees.domain.models import (
    BatchMembership,
    Event,
    EventOrganization,
    EventPerson,
    ReleaseBatch,
)


class EventPersonInline(RuleInlineMixin, admin.TabularInline):
    model = EventPerson
    extra = 1
    autocomplete_fields = ("person",)
    fields = ("person", "role", "capacity", "age", "note")


class EventOrganizationInline(RuleInlineMixin, admin.TabularInline):
    model = EventOrganization
    extra = 1
    autocomplete_fields = ("organization",)
    fields = ("organization", "role", "note")


@admin.register(Event)
class EventAdmin(RecordAdmin):
    list_display = ("__str__", "kind", "date", "place", "claim_status", "status")
    list_filter = (
        "status",
        "kind",
        "claim_status",
        "release_kind",
        "death_circumstances",
        "reengagement",
    )
    search_fields = ("summary", "description", "people__person__names__name", "operation")
    autocomplete_fields = ("place", "facility", "from_facility", "batch")
    list_select_related = ("place",)
    inlines = (EventPersonInline, EventOrganizationInline, EventCitationInline)
    fieldsets = (
        (None, {"fields": ("kind", "summary", ("date", "order_hint"), "place", "claim_status")}),
        ("Details", {"fields": ("description", "facility", "operation")}),
        ("Unnamed people", {"fields": (("unnamed_count", "unnamed_description"),)}),
        ("Custody episodes", {"fields": ("end_date", "custody_end_reason")}),
        ("Transfers", {"fields": ("from_facility",)}),
        ("Releases", {"fields": ("release_kind", "batch")}),
        ("Deaths", {"fields": ("death_circumstances",)}),
        (
            "Re-engagement",
            {"fields": ("reengagement", "role", ("strength_estimate", "strength_note"))},
        ),
        ("Record", {"fields": (*RECORD_FIELDS, *AUDIT_FIELDS, "import_key")}),
    )
    # Set by importers, which find the event again by it; editing it would make a duplicate.
    readonly_fields = (*AUDIT_FIELDS, "import_key")

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False


class BatchMembershipInline(RuleInlineMixin, admin.TabularInline):
    model = BatchMembership
    extra = 1
    autocomplete_fields = ("person",)
    fields = ("person", "inclusion", "claim_status", "note")


class BatchCitationInline(CitationInline):
    classes = ()


@admin.register(ReleaseBatch)
class ReleaseBatchAdmin(RecordAdmin):
    list_display = ("title", "date", "ordered_by", "declared_considered", "declared_released")
    list_filter = ("status", "claim_status", "ordered_by")
    search_fields = ("title", "description")
    autocomplete_fields = ("ordered_by", "carried_out_by")
    list_select_related = ("ordered_by",)
    inlines = (BatchMembershipInline, BatchCitationInline)
    readonly_fields = ("slug", *AUDIT_FIELDS)


@admin.register(BatchMembership)
class BatchMembershipAdmin(PartAdmin):
    list_display = ("person", "batch", "inclusion", "claim_status")
    list_filter = ("inclusion", "claim_status")
    search_fields = ("person__names__name", "batch__title")
    autocomplete_fields = ("person", "batch")
    list_select_related = ("batch",)
    inlines = (CitationInline,)


# --- Sources ----------------------------------------------------------------------------------
