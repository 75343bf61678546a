from django import template

from detainees.listing import CurrentStatus

register = template.Library()
STATUS_LABELS = dict(CurrentStatus.choices)


@register.filter
def status_label(code: str) -> str:
    """The words for a current-status code: 'released' -> 'Released'."""
    return STATUS_LABELS.get(code, code)


@register.filter
def short_label(label: str) -> str:
    """A choice label without its explanation: 'Related person (e.g. ...)' -> 'Related person'."""
    return str(label).split(" (")[0]
