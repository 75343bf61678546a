"""People: names, nationalities, affiliations; duplicate warnings and merging."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from detainees.admin.common import (
    AUDIT_FIELDS,
    RECORD_FIELDS,
    CitationInline,
    EditorialForm,
    PartAdmin,
    RecordAdmin,
    RuleInlineMixin,
    StatusInlineMixin,
)
from detainees.domain import permissions
from detainees.domain.models import (
    Affiliation,
    Nationality,
    Person,
    PersonName,
    Relationship,
)
from detainees.domain.models.people import names_problem
from detainees.read import timeline as derived
from detainees.read.search import similar_people
from detainees.write.services import MergeError, merge_persons, plan_merge

NOT_A_DUPLICATE = "not_a_duplicate"


def candidate_links(candidates) -> str:
    """The candidates as links to their admin pages, for a warning."""
    return format_html_join(
        ", ",
        '<a href="{}">{}</a> (as “{}”, {})',
        (
            (
                reverse("admin:detainees_person_change", args=[person.pk]),
                person.display_name,
                name,
                person.get_status_display().lower(),
            )
            for person, name in candidates
        ),
    )


class PersonForm(EditorialForm):
    withheld = forms.TypedMultipleChoiceField(
        choices=Person.Withheld.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Withheld by the source",
        help_text="Tick what the source withholds (a name kept back for the person's "
        "protection), as opposed to what it does not know.",
    )
    not_a_duplicate = forms.BooleanField(
        required=False,
        label="This is a different person",
        help_text="Tick to save a person whose name is close to someone already recorded.",
    )


class PersonNameFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [form for form in self.forms if form.cleaned_data.get("name")]
        kept = [form for form in kept if not form.cleaned_data.get("DELETE")]
        problem = names_problem(
            [bool(form.cleaned_data.get("is_primary")) for form in kept],
            is_placeholder=self.instance.is_placeholder,
            name_withheld=self.instance.is_withheld(Person.Withheld.NAME),
        )
        if problem:
            raise ValidationError(problem)
        self.check_duplicates([f.cleaned_data["name"] for f in kept if f.has_changed()])

    def check_duplicates(self, new_names):
        """Names new or edited in this save that are close to another person's stop the first
        save with the candidates listed; ticking "This is a different person" saves anyway."""
        if not new_names or self.data.get(NOT_A_DUPLICATE):
            return
        candidates = similar_people(new_names, exclude_pk=self.instance.pk)
        if candidates:
            raise ValidationError(
                format_html(
                    "Possible duplicate: {} already recorded. Check them first; if this is a "
                    "different person, tick “This is a different person” and save again.",
                    candidate_links(candidates),
                )
            )


class PersonNameInline(RuleInlineMixin, admin.TabularInline):
    model = PersonName
    formset = PersonNameFormSet
    extra = 1
    fields = ("name", "given", "family", "kind", "is_primary", "language", "claim_status")


class NationalityInline(RuleInlineMixin, admin.TabularInline):
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
        ("claim_status", "status", "withdrawal_reason"),
        "internal_notes",
    )
    show_change_link = True


RELATIONSHIP_FIELDS = (
    ("kind", "claim_status"),
    ("start", "end"),
    "note",
    "internal_notes",
)


class RelationshipInline(RuleInlineMixin, admin.StackedInline):
    """The person's ties where the person is named first (the parent, in "parent of")."""

    model = Relationship
    fk_name = "person"
    extra = 0
    autocomplete_fields = ("other",)
    fields = ("other", *RELATIONSHIP_FIELDS)
    verbose_name = "relationship (this person is the first one: “… of” the other)"
    verbose_name_plural = "relationships where this person is named first"
    show_change_link = True


class RelationshipAsOtherInline(RelationshipInline):
    """The same ties seen from the other side: where another person is named first (the child
    sees "child of", stored as the parent's "parent of"). Each link is stored once."""

    fk_name = "other"
    autocomplete_fields = ("person",)
    fields = ("person", *RELATIONSHIP_FIELDS)
    verbose_name = "relationship (another person is the first one: they are “… of” this person)"
    verbose_name_plural = "relationships where another person is named first"


@admin.register(Person)
class PersonAdmin(RecordAdmin):
    form = PersonForm
    change_form_template = "admin/detainees/person/change_form.html"
    actions = (*RecordAdmin.actions, "merge_selected")
    list_display = ("display_name", "status", "gender", "fate", "is_placeholder", "updated")
    list_filter = ("status", "gender", "fate", "is_placeholder", "nationalities__country")
    search_fields = ("names__name", "slug")
    inlines = (
        PersonNameInline,
        NationalityInline,
        AffiliationInline,
        RelationshipInline,
        RelationshipAsOtherInline,
        CitationInline,
    )
    autocomplete_fields = ("birthplace",)
    readonly_fields = (
        "status_line",
        "consistency",
        "timeline",
        "slug",
        *AUDIT_FIELDS,
    )
    fieldsets = (
        (None, {"fields": ("status_line", "consistency", "timeline")}),
        (
            "Person",
            {
                "fields": (
                    "gender",
                    "birth",
                    "birthplace",
                    "withheld",
                    "biography",
                    ("fate", "fate_claim_status"),
                    "is_placeholder",
                    NOT_A_DUPLICATE,
                )
            },
        ),
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
        return derived.status_line(obj) if obj.pk else "—"

    @admin.display(description="Consistency warnings")
    def consistency(self, obj):
        if not obj.pk:
            return "—"
        warnings = derived.consistency_warnings(obj)
        if not warnings:
            return "None"
        return format_html_join("", '<p class="errornote">{}</p>', ((w,) for w in warnings))

    @admin.display(description="Timeline")
    def timeline(self, obj):
        if not obj.pk:
            return "—"
        return render_to_string(
            "admin/detainees/person/_timeline.html", {"entries": derived.timeline(obj)}
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.instance.refresh_slug()

    # --- Duplicates and merging ---------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        person = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if person is not None:
            names = [n.name for n in person.names.all()]
            context["duplicates"] = similar_people(names, exclude_pk=person.pk)
            context["can_merge"] = self.has_merge_permission(request)
            context["merged_from"] = person.redirects.all()
        return super().change_view(request, object_id, form_url, extra_context=context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_merge_permission(request):
            actions.pop("merge_selected", None)
        return actions

    @admin.action(description="Merge the two selected people…", permissions=["merge"])
    def merge_selected(self, request, queryset):
        people = list(queryset.order_by("pk")[:3])
        if len(people) != 2:
            self.message_user(request, "Select exactly two people to merge.", messages.WARNING)
            return None
        # Keep the named, published, older record; the editor can swap on the next page.
        people.sort(key=lambda p: (p.is_placeholder, not p.is_published, p.pk))
        return redirect(merge_url(survivor=people[0], removed=people[1]))

    def has_merge_permission(self, request):
        return permissions.may(request.user, permissions.MERGE, Person)

    def get_urls(self):
        view = self.admin_site.admin_view(self.merge_view)
        return [path("merge/", view, name="detainees_person_merge"), *super().get_urls()]

    def merge_view(self, request):
        """Confirm a merge, showing what will move and what must be settled first."""
        if not self.has_merge_permission(request):
            raise PermissionDenied
        source = request.POST if request.method == "POST" else request.GET
        survivor = get_object_or_404(Person, pk=source.get("survivor", ""))
        removed = get_object_or_404(Person, pk=source.get("removed", ""))
        reason = source.get("reason", "")
        if request.method == "POST":
            try:
                merged = merge_persons(
                    survivor=survivor, removed=removed, user=request.user, reason=reason
                )
            except MergeError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.log_change(
                    request,
                    survivor,
                    f"Merged {merged.old_name} ({merged.old_public_id}) into this person: {reason}",
                )
                self.message_user(
                    request,
                    f"Merged {removed.display_name} into {survivor.display_name}; "
                    "its old links now lead here.",
                    messages.SUCCESS,
                )
                return redirect("admin:detainees_person_change", survivor.pk)
        plan = None
        if survivor.pk != removed.pk:
            plan = plan_merge(survivor=survivor, removed=removed)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Merge two people",
            "survivor": survivor,
            "removed": removed,
            "plan": plan,
            # Lists, not Counters: a template's `.items` on a Counter finds the key "items".
            "moves": sorted(plan.moves.items()) if plan else [],
            "collapsed": sorted(plan.collapsed.items()) if plan else [],
            "reason": reason,
            "swap_url": merge_url(survivor=removed, removed=survivor),
        }
        return TemplateResponse(request, "admin/detainees/person/merge.html", context)


def merge_url(*, survivor, removed) -> str:
    url = reverse("admin:detainees_person_merge")
    return f"{url}?survivor={survivor.pk}&removed={removed.pk}"


@admin.register(PersonName)
class PersonNameAdmin(PartAdmin):
    list_display = ("name", "person", "kind", "is_primary", "claim_status")
    list_filter = ("kind", "is_primary", "claim_status")
    search_fields = ("name",)
    autocomplete_fields = ("person",)
    list_select_related = ("person",)
    inlines = (CitationInline,)


@admin.register(Nationality)
class NationalityAdmin(PartAdmin):
    list_display = ("person", "country", "claim_status")
    list_filter = ("country", "claim_status")
    search_fields = ("person__names__name",)
    autocomplete_fields = ("person",)
    inlines = (CitationInline,)


@admin.register(Relationship)
class RelationshipAdmin(PartAdmin):
    list_display = ("person", "kind", "other", "start", "end", "claim_status")
    list_filter = ("kind", "claim_status")
    search_fields = ("person__names__name", "other__names__name", "note")
    autocomplete_fields = ("person", "other")
    list_select_related = ("person", "other")
    inlines = (CitationInline,)

    def get_queryset(self, request):
        # The list shows both people by their primary names.
        return super().get_queryset(request).prefetch_related("person__names", "other__names")

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False


@admin.register(Affiliation)
class AffiliationAdmin(RecordAdmin):
    list_display = ("person", "organization", "role", "start", "end", "claim_status", "status")
    list_filter = ("status", "claim_status", "organization__kind")
    search_fields = ("role", "organization__name", "person__names__name")
    autocomplete_fields = ("person", "organization", "place")
    list_select_related = ("organization",)
    inlines = (CitationInline,)


# --- Organizations and places -----------------------------------------------------------------
