from django import template

from detainees.fuzzydates import humanize

register = template.Library()


@register.filter
def fuzzydate(edtf: str) -> str:
    """`{{ event.date|fuzzydate }}`: "20 April 2011", "spring 2011", "date unknown"."""
    return humanize(edtf)
