"""What every record's admin shares: state, audit fields, citations, the editorial trail."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.contenttypes.admin import GenericStackedInline
from django.core import validators
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.html import format_html, format_html_join

from detainees.admin.history import HistoryAdmin, HistoryMixin
from detainees.domain import permissions
from detainees.domain.decimals import rounded
from detainees.domain.fuzzydates import AS_WRITTEN, FuzzyDateFormField, as_written
from detainees.domain.models import Citation, Correction, PublicationStatus, ReviewComment
from detainees.write import services

RECORD_FIELDS = ("status", "withdrawal_reason", "internal_notes")
AUDIT_FIELDS = ("public_id", "created", "updated")
CORRECTION_FIELDS = ("is_correction", "correction_note")


class RoundedDecimalField(forms.DecimalField):
    """A decimal rounded (half to even) to the places its column keeps, rather than refused for
    having more: a register's 34.9461234 is stored as 34.94612. Only a value that is not a
    number, or out of the column's range (its model validators), is an error."""

    def __init__(self, *, max_digits=None, decimal_places=None, **kwargs):
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)
        # The number of digits is the range's business: no "digits" error beside it.
        self.validators = [
            v for v in self.validators if not isinstance(v, validators.DecimalValidator)
        ]

    def to_python(self, value):
        value = super().to_python(value)
        if value is None or self.decimal_places is None:
            return value
        return rounded(value, self.decimal_places)


def rounded_decimal_formfield(db_field, **kwargs) -> RoundedDecimalField:
    """The form field for a DecimalField column: rounding, with its model validators' range."""
    for validator in db_field.validators:
        if isinstance(validator, validators.MinValueValidator):
            kwargs.setdefault("min_value", validator.limit_value)
        elif isinstance(validator, validators.MaxValueValidator):
            kwargs.setdefault("max_value", validator.limit_value)
    return db_field.formfield(form_class=RoundedDecimalField, **kwargs)


class RuleForm(forms.ModelForm):
    """Refuses, as a form error, a change the user's role may not make: a row added to, changed
    in or moved to a published record, a source's confidentiality. The reasons are
    `detainees.write.services.row_refusals`', which `save_row` refuses on too.

    `user` is set on the class the admin builds for each request (see RuleAdminMixin.get_form
    and RuleInlineMixin.get_formset); without one the form checks nothing.
    """

    user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # What the rules compare the save against, read before the form sets its values.
        stored = self.instance.pk is not None
        self.old_status = getattr(self.instance, "status", None) if stored else None
        self.old_confidential = getattr(self.instance, "is_confidential", None) if stored else None
        # A date read from words shows them, since the field itself holds the EDTF made of them.
        for name, field in self.fields.items():
            written = getattr(self.instance, f"{name}{AS_WRITTEN}", "")
            if isinstance(field, FuzzyDateFormField) and written:
                # Escaped: the admin shows help text as HTML, and the words came from a file.
                field.help_text = format_html(
                    "As the source wrote it: “{}”. {}", written, field.help_text
                )

    def clean(self):
        cleaned = super().clean()
        self.keep_dates_as_written(cleaned)
        if self.user is None or not self.has_changed():
            return cleaned
        refusals = services.row_refusals(
            user=self.user,
            row=self.instance,
            values=cleaned,
            delete=bool(self.cleaned_data.get("DELETE")),
        )
        for field, reason in refusals:
            self.add_error(field, reason)
        return cleaned

    def keep_dates_as_written(self, cleaned):
        """A date typed in words ("spring 2011") keeps those words beside its EDTF; a date
        typed as EDTF clears them. An unchanged date keeps what it had."""
        for name, field in self.fields.items():
            if isinstance(field, FuzzyDateFormField) and name in self.changed_data:
                if name in cleaned:
                    written = as_written(self[name].data, cleaned[name])
                    setattr(self.instance, f"{name}{AS_WRITTEN}", written)


class StatusForm(RuleForm):
    """Offers only the publication states the user may pick, and refuses any other one posted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("status")
        if field is not None and self.user is not None:
            allowed = services.allowed_statuses(self.user, self.instance)
            field.choices = [(v, label) for v, label in PublicationStatus.choices if v in allowed]

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        if status and self.user is not None and self.has_changed():
            reason = services.status_refusal(
                user=self.user, record=self.instance, old_status=self.old_status, new=status
            )
            if reason:
                self.add_error("status" if "status" in self.fields else None, reason)
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
            refused = services.correction_refusal(
                user=self.user,
                record=self.instance,
                old_status=self.old_status,
                note=cleaned.get("correction_note", ""),
            )
            if refused:
                self.add_error(*refused)
        return cleaned

    def correction(self) -> str:
        """The public correction note this save records, if any."""
        if not self.cleaned_data.get("is_correction"):
            return ""
        return self.cleaned_data["correction_note"]


def save_form_row(request, form, row):
    """Save the row a form has set through `services.save_row`: the role checked again, the
    row validated and written, with its correction note, as every other way in writes."""
    try:
        return services.save_row(
            row=row,
            by=request.user,
            stored_status=getattr(form, "old_status", None),
            stored_confidential=getattr(form, "old_confidential", None),
            # The fields the form validated the row without, as its own full_clean() did.
            exclude=form._get_validation_exclusions(),
            correction_note=form.correction() if hasattr(form, "correction") else "",
        )
    except (services.RoleNotAllowed, services.TransitionNotAllowed) as exc:
        # The form refused what the role may not do; this holds if a form ever forgets to.
        raise PermissionDenied(str(exc)) from exc


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
    rules the API and the importer follow. Every write (a save, an inline row, a delete, a bulk
    delete) goes through `detainees.write.services`, which asks them again of every row."""

    form = RuleForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user  # a class built for this request by modelform_factory
        return form

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.DecimalField):
            return rounded_decimal_formfield(db_field, **kwargs)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

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
        save_form_row(request, form, obj)

    def save_formset(self, request, form, formset, change):
        """The inline rows go through the services as the record does: deletions first (so a
        replacement never meets the row it replaces), then changed rows, then new ones."""
        formset.save(commit=False)  # sets the rows' values; writes nothing
        forms_by_row = {id(f.instance): f for f in formset.forms}
        deleted = list(formset.deleted_objects)
        if deleted:
            delete_or_deny(request, deleted)
        for row in [obj for obj, _ in formset.changed_objects] + formset.new_objects:
            save_form_row(request, forms_by_row[id(row)], row)
        formset.save_m2m()

    def delete_model(self, request, obj):
        delete_or_deny(request, [obj])

    def delete_queryset(self, request, queryset):
        delete_or_deny(request, queryset)


def delete_or_deny(request, rows) -> None:
    try:
        services.delete_rows(rows=rows, by=request.user)
    except services.RoleNotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc


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


class StatusActionForm(ActionForm):
    """The action bar of a record list: a withdrawal needs its public reason."""

    withdrawal_reason = forms.CharField(
        required=False,
        label="Public reason (to withdraw):",
        widget=forms.TextInput(attrs={"size": 40}),
    )


# Action name -> (the state it moves the selected records to, the permission action it needs
# of the type to be offered, what the message says was done).
STATUS_ACTIONS = {
    "publish_selected": (PublicationStatus.PUBLISHED, permissions.PUBLISH, "published"),
    "send_selected_to_review": (PublicationStatus.IN_REVIEW, permissions.CHANGE, "sent to review"),
    "return_selected_to_draft": (PublicationStatus.DRAFT, permissions.CHANGE, "returned to draft"),
    "withdraw_selected": (PublicationStatus.WITHDRAWN, permissions.WITHDRAW, "withdrawn"),
}


def change_status_of(modeladmin, request, queryset, action: str) -> None:
    """Move each selected record through `services.change_status`; say what moved and why the
    others did not. Each record is its own transaction: one refusal does not undo the rest."""
    status, _, done = STATUS_ACTIONS[action]
    withdrawal_reason = request.POST.get("withdrawal_reason", "")
    if status == PublicationStatus.WITHDRAWN and not withdrawal_reason.strip():
        modeladmin.message_user(
            request, "Give the public reason for withdrawing in the box.", messages.ERROR
        )
        return
    moved, refused = 0, []
    for record in queryset.order_by("pk"):
        if record.status == status:
            continue
        try:
            services.change_status(
                record=record, status=status, by=request.user, withdrawal_reason=withdrawal_reason
            )
        except services.InvalidRecord as exc:
            problems = [m for messages_ in exc.errors.values() for m in messages_]
            refused.append(f"{record}: {' '.join(map(str, problems))}")
        except services.TrackerError as exc:
            refused.append(f"{record}: {exc}")
        else:
            moved += 1
    noun = modeladmin.opts.verbose_name if moved == 1 else modeladmin.opts.verbose_name_plural
    if moved:
        modeladmin.message_user(request, f"{moved} {noun} {done}.", messages.SUCCESS)
    for problem in refused:
        modeladmin.message_user(request, f"Not {done}: {problem}", messages.ERROR)


@admin.action(description="Publish the selected records")
def publish_selected(modeladmin, request, queryset):
    change_status_of(modeladmin, request, queryset, "publish_selected")


@admin.action(description="Send the selected records to review")
def send_selected_to_review(modeladmin, request, queryset):
    change_status_of(modeladmin, request, queryset, "send_selected_to_review")


@admin.action(description="Return the selected records to draft")
def return_selected_to_draft(modeladmin, request, queryset):
    change_status_of(modeladmin, request, queryset, "return_selected_to_draft")


@admin.action(description="Withdraw the selected records (give the public reason)")
def withdraw_selected(modeladmin, request, queryset):
    change_status_of(modeladmin, request, queryset, "withdraw_selected")


class RecordAdmin(RuleAdminMixin, HistoryMixin, admin.ModelAdmin):
    """Shared by every publishable record: state filter, audit fields read-only, history."""

    form = EditorialForm
    action_form = StatusActionForm
    actions = (
        publish_selected,
        send_selected_to_review,
        return_selected_to_draft,
        withdraw_selected,
    )
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

    def get_actions(self, request):
        """The state actions the role may take on this type; each record is asked again."""
        actions = super().get_actions(request)
        for name, (_, action, _) in STATUS_ACTIONS.items():
            if not permissions.may(request.user, action, self.model):
                actions.pop(name, None)
        return actions

    def save_formset(self, request, form, formset, change):
        if formset.model is ReviewComment:
            written = formset.save(commit=False)
            services.keep_review_comments(
                comments=written, deleted=formset.deleted_objects, by=request.user
            )
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
