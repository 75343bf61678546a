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


@register.filter
def as_written(value) -> str:
    """` (source: “principios de MAR/1976”)` after a date read from words; "" for plain EDTF.

    `{{ e.date|fuzzydate }}{{ e.date_as_written|as_written }}`: the date as we say it, then as
    the source said it, so a reader sees both the reading and what it was read from."""
    return f" (source: “{value}”)" if value else ""
