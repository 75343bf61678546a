"""Places, facilities and who controlled them."""

from django.contrib import admin

from detainees.admin.common import (
    AUDIT_FIELDS,
    CitationInline,
    PartAdmin,
    RecordAdmin,
    RuleInlineMixin,
)
from detainees.domain.models import (
    Facility,
    FacilityControl,
    Place,
)


@admin.register(Place)
class PlaceAdmin(RecordAdmin):
    list_display = ("name", "kind", "parent", "country", "status")
    list_filter = ("status", "kind", "country")
    search_fields = ("name", "parent__name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    readonly_fields = ("slug", *AUDIT_FIELDS)


class FacilityControlInline(RuleInlineMixin, admin.TabularInline):
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
class FacilityControlAdmin(PartAdmin):
    list_display = ("facility", "controller", "start", "end", "claim_status")
    list_filter = ("claim_status", "controller")
    search_fields = ("facility__name", "controller__name")
    autocomplete_fields = ("facility", "controller")
    list_select_related = ("facility", "controller")
    inlines = (CitationInline,)


# --- Events -----------------------------------------------------------------------------------
