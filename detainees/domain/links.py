"""Record URLs by string formatting: `reverse()` once per route, then the key put in its place.

A list page links every row to its record, and a person page links hundreds of facts, sources
and people: `reverse()` walks the URL resolver each time (a fifth of a millisecond), which the
page paid per link. Here each route is reversed once with a placeholder key, per script prefix
and URL configuration (both can change between requests), and a key is put where the
placeholder was. A key the route's converter would refuse is given to `reverse()` itself, so
the answer (a URL, or NoReverseMatch) is always `reverse()`'s; tests/test_fast_html.py holds
every record's URL to it.
"""

import re
from functools import lru_cache

from django.urls import get_script_prefix, get_urlconf, reverse

# What the `slug` and `uuid` path converters accept; such text is never quoted by `reverse()`.
SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
PLACEHOLDERS = {SLUG: "zz-slug-placeholder-zz", UUID: "00000000-0000-4000-8000-00000000fa57"}


@lru_cache(maxsize=128)
def _around(name: str, placeholder: str, prefix: str, urlconf) -> tuple[str, str] | None:
    """The text before and after the key in the route's URL; None if the placeholder cannot be
    told apart from the rest. `prefix` is only part of the cache key (reverse() reads it)."""
    url = reverse(name, args=[placeholder], urlconf=urlconf)
    head, found, tail = url.partition(placeholder)
    if not found or placeholder in tail:
        return None
    return head, tail


def record_url(name: str, key, converter: re.Pattern = SLUG) -> str:
    """`reverse(name, args=[key])` for a route of one `slug` (or `uuid`) argument."""
    text = str(key)
    if converter.match(text):
        around = _around(name, PLACEHOLDERS[converter], get_script_prefix(), get_urlconf())
        if around is not None:
            return f"{around[0]}{text}{around[1]}"
    return reverse(name, args=[key])
