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


@register.simple_tag
def date_span(start="", start_as_written="", end="", end_as_written="", unknown="dates unknown"):
    """A period as words: "from 2011 until 20 April 2011", "until 20 April 2011", "from 2014",
    or `unknown` when neither end is known (never a dangling "( until")."""
    parts = []
    if start:
        parts.append(f"from {fuzzydate(start)}{as_written(start_as_written)}")
    if end:
        parts.append(f"until {fuzzydate(end)}{as_written(end_as_written)}")
    return " ".join(parts) or unknown


@register.filter
def as_written(value) -> str:
    """` (source: “principios de MAR/1976”)` after a date read from words; "" for plain EDTF.

    `{{ e.date|fuzzydate }}{{ e.date_as_written|as_written }}`: the date as we say it, then as
    the source said it, so a reader sees both the reading and what it was read from."""
    return f" (source: “{value}”)" if value else ""
