"""Places, facilities, their other names and who controlled, operated or owned them."""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet

from detainees.admin.common import (
    AUDIT_FIELDS,
    CitationInline,
    PartAdmin,
    RecordAdmin,
    RuleInlineMixin,
)
from detainees.domain.fuzzydates import FuzzyDateError
from detainees.domain.models import (
    Facility,
    FacilityControl,
    FacilityName,
    Place,
)
from detainees.domain.models.places import (
    CONTROL_OVERLAP_MESSAGE,
    certain_days,
    certainly_overlap,
)


@admin.register(Place)
class PlaceAdmin(RecordAdmin):
    list_display = ("name", "kind", "parent", "country", "status")
    list_filter = ("status", "kind", "country")
    search_fields = ("name", "parent__name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    readonly_fields = ("slug", *AUDIT_FIELDS)


class FacilityNameInline(RuleInlineMixin, admin.TabularInline):
    model = FacilityName
    extra = 1
    fields = ("name", "kind", "language")


class ControlPeriodsFormSet(BaseInlineFormSet):
    """Two rows of one role entered together that certainly overlap are a form error: the
    database's exclusion constraint, which each row's validation asks, sees only the rows
    already written."""

    def clean(self):
        super().clean()
        seen = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or form.errors or not data.get("controller"):
                continue
            try:
                period = certain_days(data.get("start") or "", data.get("end") or "")
            except FuzzyDateError:
                continue  # the date field has said so
            role = data.get("role") or FacilityControl.Role.CONTROLLER
            for other_role, other in seen:
                if role == other_role and certainly_overlap(period, other):
                    form.add_error(None, CONTROL_OVERLAP_MESSAGE)
                    break
            seen.append((role, period))


class FacilityControlInline(RuleInlineMixin, admin.TabularInline):
    model = FacilityControl
    formset = ControlPeriodsFormSet
    extra = 1
    autocomplete_fields = ("controller",)
    fields = ("role", "controller", "start", "end", "claim_status", "note")
    show_change_link = True


@admin.register(Facility)
class FacilityAdmin(RecordAdmin):
    list_display = ("name", "kind", "place", "status")
    list_filter = ("status", "kind")
    search_fields = ("name", "names__name", "place__name")
    autocomplete_fields = ("place",)
    list_select_related = ("place",)
    inlines = (FacilityNameInline, FacilityControlInline)
    readonly_fields = ("slug", *AUDIT_FIELDS)


@admin.register(FacilityName)
class FacilityNameAdmin(PartAdmin):
    list_display = ("name", "facility", "kind", "language")
    list_filter = ("kind",)
    search_fields = ("name", "facility__name")
    autocomplete_fields = ("facility",)
    list_select_related = ("facility",)


@admin.register(FacilityControl)
class FacilityControlAdmin(PartAdmin):
    list_display = ("facility", "role", "controller", "start", "end", "claim_status")
    list_filter = ("role", "claim_status", "controller")
    search_fields = ("facility__name", "controller__name")
    autocomplete_fields = ("facility", "controller")
    list_select_related = ("facility", "controller")
    inlines = (CitationInline,)


# --- Events -----------------------------------------------------------------------------------
