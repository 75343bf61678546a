from html import escape as html_escape

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from detainees.read.listing import CurrentStatus

register = template.Library()
STATUS_LABELS = dict(CurrentStatus.choices)


@register.filter
def status_label(code: str) -> str:
    """The words for a current-status code: 'released' -> 'Released'."""
    return STATUS_LABELS.get(code, code)


# The markup of a filter field left empty, by what decides it: the same on every request.
_EMPTY_FIELDS: dict[tuple, str] = {}


@register.simple_tag
def filter_field(filterset, name: str) -> str:
    """`{{ field.label_tag }} {{ field }}` of the field `name` of a filter set's form. Django
    draws each through its form renderer's templates, several a field, which cost the people
    list and the figures a good part of their time; a field left empty (nearly every field of
    nearly every request) draws the same markup on every request of its filter set's class, so
    that is drawn once and kept (keyed by that class: django-filter makes a form class afresh
    for every filter set). A field with a value or an error is drawn afresh.
    tests/test_fast_html.py compares both with the template's."""
    form = filterset.form
    bound = form[name]
    data = bound.data
    if data not in (None, "") or bound.errors:
        return format_html("{} {}", bound.label_tag(), bound)
    key = (type(filterset), name, form.prefix, form.auto_id, form.is_bound, data, get_language())
    html = _EMPTY_FIELDS.get(key)
    if html is None:
        html = _EMPTY_FIELDS[key] = format_html("{} {}", bound.label_tag(), bound)
    return html


@register.filter
def short_label(label: str) -> str:
    """A choice label without its explanation: 'Related person (e.g. ...)' -> 'Related person'."""
    return str(label).split(" (")[0]


@register.filter
def person_name(person) -> str:
    """How a person is named in a list: the name, or, for someone unnamed, the description
    `detainees.read.unnamed.describe_unnamed` gave them ("unnamed associate, captured with
    ..."); never empty."""
    described = getattr(person, "described_as", "")
    if described:
        return described
    # A list row's name reads surname first (its `sort_name`), as the list sorts it.
    return getattr(person, "sort_name", None) or person.display_name


FACET_OPTION = (
    '<label class="facet-option"><input type="checkbox" name="{}" value="{}"{}> {} '
    '<span class="count">({})</span></label>'
)


def escaped(value) -> str:
    """conditional_escape(value) as plain text: safe text as it is, anything else escaped."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html_escape(str(value))


@register.simple_tag
def facet_options(field, counts):
    """A facet's checkboxes with their counts, built in one pass: a list page can hold hundreds
    of values, and a template loop per value costs more than the page's queries. Each value is
    escaped as format_html_join() escapes it (tests/test_fast_html.py compares the two), without
    its per-value calls."""
    if not counts:
        return mark_safe('<p class="none">None in this selection</p>')  # a constant
    selected = {str(v) for v in (field.value() or [])}
    name = escaped(field.html_name)
    return mark_safe(  # every value escaped by escaped()
        "\n".join(
            FACET_OPTION.format(
                name,
                escaped(value),
                " checked" if str(value) in selected else "",
                escaped(label),
                escaped(n),
            )
            for value, label, n in counts
        )
    )


def facet_options_reference(field, counts):
    """facet_options() as format_html_join() writes it: the reference the tests hold it to."""
    if not counts:
        return mark_safe('<p class="none">None in this selection</p>')
    selected = {str(v) for v in (field.value() or [])}
    return format_html_join(
        "\n",
        FACET_OPTION,
        (
            (
                field.html_name,
                value,
                mark_safe(" checked") if str(value) in selected else "",
                label,
                n,
            )
            for value, label, n in counts
        ),
    )


@register.simple_tag(takes_context=True)
def next_section_url(context, name: str, cursor: str) -> str:
    """The link to the next page of the list `name` on a record's page: the same query with
    `<name>_after` set to `cursor` (other lists keep their pages), at the list's heading."""
    query = context["request"].GET.copy()
    query[f"{name}_after"] = cursor
    return f"?{query.urlencode()}#{name}"
