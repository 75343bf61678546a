"""What every record's admin shares: state, audit fields, citations, the editorial trail."""

from django import forms
from django.contrib import admin
from django.contrib.contenttypes.admin import GenericStackedInline
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html_join

from detainees.admin.history import HistoryAdmin, HistoryMixin
from detainees.domain import permissions
from detainees.domain.models import Citation, Correction, PublicationStatus, ReviewComment
from detainees.write import services

RECORD_FIELDS = ("status", "withdrawal_reason", "internal_notes")
AUDIT_FIELDS = ("public_id", "created", "updated")
CORRECTION_FIELDS = ("is_correction", "correction_note")


class RuleForm(forms.ModelForm):
    """Refuses, as a form error, a change the user's role may not make (detainees.domain.permissions):
    a row added to, changed in or moved to a published record, a source's confidentiality.

    `user` is set on the class the admin builds for each request (see RuleAdminMixin.get_form
    and RuleInlineMixin.get_formset); without one the form checks nothing.
    """

    user = None

    def clean(self):
        cleaned = super().clean()
        if self.user is None or not self.has_changed():
            return cleaned
        adding = self.instance.pk is None
        action = permissions.ADD if adding else permissions.CHANGE
        if self.cleaned_data.get("DELETE"):
            action = permissions.DELETE
        reason = permissions.refusal(self.user, action, self.instance, values=cleaned)
        if reason is None and "is_confidential" in cleaned:
            reason = permissions.confidential_refusal(
                self.user, self.instance, cleaned["is_confidential"]
            )
            if reason:
                self.add_error("is_confidential", reason)
                return cleaned
        if reason:
            self.add_error(None, reason)
        return cleaned


class StatusForm(RuleForm):
    """Offers only the publication states the user may pick, and refuses any other one posted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.old_status = self.instance.status if self.instance.pk else None
        field = self.fields.get("status")
        if field is not None and self.user is not None:
            allowed = services.allowed_statuses(self.user, self.instance)
            field.choices = [(v, label) for v, label in PublicationStatus.choices if v in allowed]

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        if status and self.user is not None and self.has_changed():
            try:
                services.check_transition(
                    user=self.user, record=self.instance, old=self.old_status, new=status
                )
                services.check_edit(
                    user=self.user, record=self.instance, old_status=self.old_status
                )
            except services.TrackerError as exc:
                self.add_error("status" if "status" in self.fields else None, str(exc))
        return cleaned


class EditorialForm(StatusForm):
    """A record's own form: its state, and for a published record, an optional correction note."""

    is_correction = forms.BooleanField(
        required=False,
        label="This change is a correction",
        help_text="Tick when the published record was wrong: a public correction note is added.",
    )
    correction_note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Public correction note",
        help_text="Shown on the public page with today's date, e.g. 'The capture date was 2011.'",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_correction"):
            if not permissions.may(self.user, permissions.CORRECT, self.instance):
                self.add_error("is_correction", "Your role may not record corrections.")
            elif self.old_status != PublicationStatus.PUBLISHED:
                self.add_error("is_correction", "Only a published record is corrected.")
            elif not cleaned.get("correction_note", "").strip():
                self.add_error("correction_note", "Say publicly what was corrected.")
        return cleaned


def offers_correction(request, obj) -> bool:
    return bool(
        obj is not None
        and obj.is_published
        and permissions.may(request.user, permissions.CORRECT, obj)
    )


class ReviewCommentInline(GenericStackedInline):
    """Private remarks between researchers and editors; never shown outside the admin."""

    model = ReviewComment
    extra = 0
    fields = ("text", "author", "created")
    readonly_fields = ("author", "created")
    verbose_name = "reviewer comment (private)"
    verbose_name_plural = "reviewer comments (private)"
    classes = ("collapse",)


class RuleAdminMixin:
    """Every permission question of a ModelAdmin answered by `detainees.domain.permissions`: the same
    rules the API and the importer follow. Bulk deletion asks `has_delete_permission` of every
    row it would delete, so it follows them too."""

    form = RuleForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user  # a class built for this request by modelform_factory
        return form

    def has_view_permission(self, request, obj=None):
        target = obj if obj is not None else self.model
        return permissions.may(request.user, permissions.VIEW, target) or (
            self.has_change_permission(request, obj)
        )

    def has_add_permission(self, request):
        return permissions.may(request.user, permissions.ADD, self.model)

    def has_change_permission(self, request, obj=None):
        target = obj if obj is not None else self.model
        return permissions.may(request.user, permissions.CHANGE, target)

    def has_delete_permission(self, request, obj=None):
        target = obj if obj is not None else self.model
        return permissions.may(request.user, permissions.DELETE, target)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if any(f.name == "is_confidential" for f in self.model._meta.fields):
            clear = obj is not None and obj.is_confidential
            action = permissions.CLEAR_CONFIDENTIAL if clear else permissions.MARK_CONFIDENTIAL
            if not permissions.may(request.user, action, obj if obj is not None else self.model):
                fields.append("is_confidential")
        return fields

    def save_model(self, request, obj, form, change):
        # The form refused what the role may not do; this holds if a form ever forgets to.
        action = permissions.CHANGE if change else permissions.ADD
        reason = permissions.refusal(request.user, action, obj, values={})
        if reason:
            raise PermissionDenied(reason)
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        if not self.has_delete_permission(request, obj):
            raise PermissionDenied
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        if not all(self.has_delete_permission(request, obj) for obj in queryset):
            raise PermissionDenied
        super().delete_queryset(request, queryset)


class RuleInlineMixin:
    """An inline's rows are its record's content: the model's permission, and the right to
    change the record they are shown with (none on a published record, for a researcher)."""

    form = RuleForm

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.user = request.user
        return formset

    def _may(self, request, action, obj) -> bool:
        if not permissions.may(request.user, action, self.model):
            return False
        return obj is None or permissions.may(request.user, permissions.CHANGE, obj)

    def has_add_permission(self, request, obj):
        return self._may(request, permissions.ADD, obj)

    def has_change_permission(self, request, obj=None):
        return self._may(request, permissions.CHANGE, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, permissions.DELETE, obj)


class RecordAdmin(RuleAdminMixin, HistoryMixin, admin.ModelAdmin):
    """Shared by every publishable record: state filter, audit fields read-only, history."""

    form = EditorialForm
    readonly_fields = AUDIT_FIELDS
    list_filter = ("status",)
    show_full_result_count = False
    list_per_page = 50

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (
                name,
                {**options, "fields": [f for f in options["fields"] if f not in CORRECTION_FIELDS]},
            )
            for name, options in super().get_fieldsets(request, obj)
        ]
        if obj is not None:
            fieldsets.append(("Public corrections", {"fields": ("public_corrections",)}))
        if offers_correction(request, obj):
            fieldsets.append(("Correction", {"fields": CORRECTION_FIELDS}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "public_corrections"]

    @admin.display(description="Corrections")
    def public_corrections(self, obj):
        corrections = Correction.objects.for_record(obj).select_related("corrected_by")
        rows = ((c.date, c.note, c.corrected_by or "a former user") for c in corrections)
        return format_html_join("", "<p>{}: {} <small>({})</small></p>", rows) or "None"

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), ReviewCommentInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("is_correction"):
            services.record_correction(
                record=obj, note=form.cleaned_data["correction_note"], by=request.user
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is ReviewComment:
            for comment in formset.save(commit=False):
                if comment.author_id is None:
                    comment.author = request.user
                comment.save()
            for comment in formset.deleted_objects:
                comment.delete()
            return
        super().save_formset(request, form, formset, change)


class PartAdmin(RuleAdminMixin, HistoryAdmin):
    """A row edited on its own page (a name, a nationality, a citation): as editable as the
    record it belongs to (`detainees.domain.permissions.records_of`), here as on the record's page."""


class StatusInlineMixin(RuleInlineMixin):
    """For inlines of records with a state (affiliations): the same limits as the record form."""

    form = StatusForm


class CitationInline(RuleInlineMixin, admin.StackedInline):
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
