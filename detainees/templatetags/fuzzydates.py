"""`{% load fuzzydates %}` then `{{ event.date|fuzzydate }}`: "spring 2011", "date unknown"."""

from datetime import date

from django import template

from detainees.domain.fuzzydates import FuzzyDate, humanize

register = template.Library()


@register.filter
def fuzzydate(value) -> str:
    """Stored EDTF text as people say it; also takes a FuzzyDate or a plain date."""
    if isinstance(value, FuzzyDate):
        return value.display()
    if isinstance(value, date):
        return humanize(value.isoformat()[:10])
    return humanize("" if value is None else str(value))
