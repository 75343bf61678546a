"""The researchers' admin: every record, with its facts and their citations on one page."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.template.loader import render_to_string
from django.utils.html import format_html_join

from detainees.models import (
    Affiliation,
    BatchMembership,
    Citation,
    Event,
    EventOrganization,
    EventPerson,
    Facility,
    FacilityControl,
    Nationality,
    Organization,
    OrganizationName,
    Person,
    PersonName,
    Place,
    ReleaseBatch,
    Source,
)

RECORD_FIELDS = ("status", "internal_notes")
AUDIT_FIELDS = ("public_id", "created", "updated")


class RecordAdmin(admin.ModelAdmin):
    """Shared by every publishable record: state filter, audit fields read-only."""

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


class PersonNameFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        primaries = [
            form
            for form in self.forms
            if form.cleaned_data.get("is_primary") and not form.cleaned_data.get("DELETE")
        ]
        if len(primaries) > 1:
            raise ValidationError("A person has exactly one primary name; tick only one.")


class PersonNameInline(admin.TabularInline):
    model = PersonName
    formset = PersonNameFormSet
    extra = 1
    fields = ("name", "kind", "is_primary", "language", "claim_status")


class NationalityInline(admin.TabularInline):
    model = Nationality
    extra = 0
    fields = ("country", "claim_status")


class AffiliationInline(admin.StackedInline):
    model = Affiliation
    extra = 0
    autocomplete_fields = ("organization", "place")
    fields = (
        ("organization", "role"),
        ("start", "end"),
        ("place", "strength_estimate", "strength_note"),
        ("claim_status", "status"),
        "internal_notes",
    )
    show_change_link = True


@admin.register(Person)
class PersonAdmin(RecordAdmin):
    list_display = ("display_name", "status", "gender", "is_placeholder", "updated")
    list_filter = ("status", "gender", "is_placeholder", "nationalities__country")
    search_fields = ("names__name", "slug")
    inlines = (PersonNameInline, NationalityInline, AffiliationInline, CitationInline)
    readonly_fields = (
        "status_line",
        "consistency",
        "timeline",
        "slug",
        *AUDIT_FIELDS,
    )
    fieldsets = (
        (None, {"fields": ("status_line", "consistency", "timeline")}),
        ("Person", {"fields": ("gender", "birth", "biography", "is_placeholder")}),
        ("Record", {"fields": (*RECORD_FIELDS, "slug", *AUDIT_FIELDS)}),
    )

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("_change"):
            return qs.with_timeline()
        return qs.with_primary_name()

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False if may_have_duplicates else may_have_duplicates

    @admin.display(description="Name")
    def display_name(self, obj):
        return obj.display_name

    @admin.display(description="Current status")
    def status_line(self, obj):
        return obj.status_line() if obj.pk else "—"

    @admin.display(description="Consistency warnings")
    def consistency(self, obj):
        if not obj.pk:
            return "—"
        warnings = obj.consistency_warnings()
        if not warnings:
            return "None"
        return format_html_join("", '<p class="errornote">{}</p>', ((w,) for w in warnings))

    @admin.display(description="Timeline")
    def timeline(self, obj):
        if not obj.pk:
            return "—"
        return render_to_string(
            "admin/detainees/person/_timeline.html", {"entries": obj.timeline()}
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.instance.refresh_slug()


@admin.register(PersonName)
class PersonNameAdmin(admin.ModelAdmin):
    list_display = ("name", "person", "kind", "is_primary", "claim_status")
    list_filter = ("kind", "is_primary", "claim_status")
    search_fields = ("name",)
    autocomplete_fields = ("person",)
    list_select_related = ("person",)
    inlines = (CitationInline,)


@admin.register(Nationality)
class NationalityAdmin(admin.ModelAdmin):
    list_display = ("person", "country", "claim_status")
    list_filter = ("country", "claim_status")
    search_fields = ("person__names__name",)
    autocomplete_fields = ("person",)
    inlines = (CitationInline,)


@admin.register(Affiliation)
class AffiliationAdmin(RecordAdmin):
    list_display = ("person", "organization", "role", "start", "end", "claim_status", "status")
    list_filter = ("status", "claim_status", "organization__kind")
    search_fields = ("role", "organization__name", "person__names__name")
    autocomplete_fields = ("person", "organization", "place")
    list_select_related = ("organization",)
    inlines = (CitationInline,)


# --- Organizations and places -----------------------------------------------------------------


class OrganizationNameInline(admin.TabularInline):
    model = OrganizationName
    extra = 1


@admin.register(Organization)
class OrganizationAdmin(RecordAdmin):
    list_display = ("name", "abbreviation", "kind", "parent", "country", "status")
    list_filter = ("status", "kind", "country")
    search_fields = ("name", "abbreviation", "names__name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    inlines = (OrganizationNameInline,)
    readonly_fields = ("slug", *AUDIT_FIELDS)


@admin.register(OrganizationName)
class OrganizationNameAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "kind", "language")
    list_filter = ("kind",)
    search_fields = ("name", "organization__name")
    autocomplete_fields = ("organization",)


@admin.register(Place)
class PlaceAdmin(RecordAdmin):
    list_display = ("name", "kind", "parent", "country", "status")
    list_filter = ("status", "kind", "country")
    search_fields = ("name", "parent__name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    readonly_fields = ("slug", *AUDIT_FIELDS)


class FacilityControlInline(admin.TabularInline):
    model = FacilityControl
    extra = 1
    autocomplete_fields = ("controller",)
    fields = ("controller", "start", "end", "claim_status", "note")
    show_change_link = True


@admin.register(Facility)
class FacilityAdmin(RecordAdmin):
    list_display = ("name", "kind", "place", "status")
    list_filter = ("status", "kind")
    search_fields = ("name", "place__name")
    autocomplete_fields = ("place",)
    list_select_related = ("place",)
    inlines = (FacilityControlInline,)
    readonly_fields = ("slug", *AUDIT_FIELDS)


@admin.register(FacilityControl)
class FacilityControlAdmin(admin.ModelAdmin):
    list_display = ("facility", "controller", "start", "end", "claim_status")
    list_filter = ("claim_status", "controller")
    search_fields = ("facility__name", "controller__name")
    autocomplete_fields = ("facility", "controller")
    list_select_related = ("facility", "controller")
    inlines = (CitationInline,)


# --- Events -----------------------------------------------------------------------------------


class EventPersonInline(admin.TabularInline):
    model = EventPerson
    extra = 1
    autocomplete_fields = ("person",)
    fields = ("person", "role", "capacity", "note")


class EventOrganizationInline(admin.TabularInline):
    model = EventOrganization
    extra = 1
    autocomplete_fields = ("organization",)
    fields = ("organization", "role", "note")


@admin.register(Event)
class EventAdmin(RecordAdmin):
    list_display = ("__str__", "kind", "date", "place", "claim_status", "status")
    list_filter = ("status", "kind", "claim_status", "release_kind", "reengagement")
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
        (
            "Re-engagement",
            {"fields": ("reengagement", "role", ("strength_estimate", "strength_note"))},
        ),
        ("Record", {"fields": (*RECORD_FIELDS, *AUDIT_FIELDS)}),
    )

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False


class BatchMembershipInline(admin.TabularInline):
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
class BatchMembershipAdmin(admin.ModelAdmin):
    list_display = ("person", "batch", "inclusion", "claim_status")
    list_filter = ("inclusion", "claim_status")
    search_fields = ("person__names__name", "batch__title")
    autocomplete_fields = ("person", "batch")
    list_select_related = ("batch",)
    inlines = (CitationInline,)


# --- Sources ----------------------------------------------------------------------------------


@admin.register(Source)
class SourceAdmin(RecordAdmin):
    list_display = ("title", "kind", "publisher", "published", "reference_number", "status")
    list_filter = ("status", "kind", "is_confidential", "language")
    search_fields = ("title", "reference_number", "url", "author", "publisher__name")
    autocomplete_fields = ("publisher",)
    list_select_related = ("publisher",)


@admin.register(Citation)
class CitationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "aspect", "attribution", "accessed_on")
    list_filter = ("source__kind",)
    search_fields = ("quote", "attribution", "source__title", "aspect")
    autocomplete_fields = (
        "source",
        "person",
        "nationality",
        "affiliation",
        "event",
        "facility_control",
        "batch",
        "batch_membership",
        "person_name",
    )
    list_select_related = ("source",)
