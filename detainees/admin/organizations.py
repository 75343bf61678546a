"""Organizations and their names."""

from django.contrib import admin

from detainees.admin.common import (
    AUDIT_FIELDS,
    PartAdmin,
    RecordAdmin,
    RuleInlineMixin,
)
from detainees.domain.models import (
    Organization,
    OrganizationName,
)


class OrganizationNameInline(RuleInlineMixin, admin.TabularInline):
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
class OrganizationNameAdmin(PartAdmin):
    list_display = ("name", "organization", "kind", "language")
    list_filter = ("kind",)
    search_fields = ("name", "organization__name")
    autocomplete_fields = ("organization",)
