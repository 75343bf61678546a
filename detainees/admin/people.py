"""People: names, nationalities, affiliations."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.template.loader import render_to_string
from django.utils.html import format_html_join

from detainees.admin.common import (
    AUDIT_FIELDS,
    RECORD_FIELDS,
    CitationInline,
    PartAdmin,
    RecordAdmin,
    StatusInlineMixin,
)
from detainees.models import (
    Affiliation,
    Nationality,
    Person,
    PersonName,
)


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


class AffiliationInline(StatusInlineMixin, admin.StackedInline):
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
class PersonNameAdmin(PartAdmin):
    record_field = "person"
    list_display = ("name", "person", "kind", "is_primary", "claim_status")
    list_filter = ("kind", "is_primary", "claim_status")
    search_fields = ("name",)
    autocomplete_fields = ("person",)
    list_select_related = ("person",)
    inlines = (CitationInline,)


@admin.register(Nationality)
class NationalityAdmin(PartAdmin):
    record_field = "person"
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
