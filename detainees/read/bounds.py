"""Bounds on query-string parameters, and the checks against them.

Every value a request sends is held to a length before it reaches a parser, a search or the
database. The fields that read a parameter (the FilterSets here in read/, the pages, the API)
hold it to its own, tighter bound and say so in the page's or the API's own error (a date to
100 characters, a name search to 200, and so on; see the README's "Limits").
`detainees.web.params.ParameterBoundsMiddleware` is the floor under all of them: a parameter
no field reads, or a page that forgets one, still never sees more than MAX_VALUE_LENGTH
characters.

A value no view can use is refused too: one with a NUL character (PostgreSQL text cannot hold
it, so the database would refuse the query) or one that was not UTF-8 (it arrives with
replacement characters, which match nothing stored).
"""

from detainees.domain.fuzzydates import MAX_LENGTH as MAX_DATE_LENGTH

# Any query-string value, unless named below.
MAX_VALUE_LENGTH = 1000
# A parameter's name.
MAX_NAME_LENGTH = 100
# Page cursors carry the last row's sort key: for a sort by name, a 200-character name in
# JSON's \u escapes and base64. Decoding one is linear in its length.
CURSOR_PARAMS = ("after", "cursor", "held_after")
MAX_CURSOR_LENGTH = 4096
# Free text that goes to the name search.
SEARCH_PARAMS = ("q", "search")
MAX_SEARCH_LENGTH = 200
# Each value of a facet (a slug, a country code, a year): the longest slug is 100 characters.
MAX_CHOICE_LENGTH = 100

__all__ = [
    "MAX_CHOICE_LENGTH",
    "MAX_CURSOR_LENGTH",
    "MAX_DATE_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_SEARCH_LENGTH",
    "MAX_VALUE_LENGTH",
    "first_overlong",
    "too_long",
]


def limit_for(name: str) -> int:
    # `<list>_after`: the cursor of a list on a record's page (detainees/read/pages.py).
    is_cursor = name in CURSOR_PARAMS or name.endswith("_after")
    return MAX_CURSOR_LENGTH if is_cursor else MAX_VALUE_LENGTH


def unreadable(text: str) -> str | None:
    if "\x00" in text:
        return "This parameter must not contain a NUL character."
    if "\ufffd" in text:
        return "This parameter must be UTF-8 text."
    return None


def too_long(limit: int, length: int) -> str:
    return f"At most {limit:,} characters are read here (this value has {length:,})."


def first_overlong(query) -> tuple[str, str] | None:
    """(parameter, message) for the first parameter over its bound or unreadable, or None."""
    for name in query:
        if len(name) > MAX_NAME_LENGTH:
            return (
                name[:MAX_NAME_LENGTH] + "…",
                f"A parameter's name has at most {MAX_NAME_LENGTH} characters.",
            )
        if problem := unreadable(name):
            return name.replace("\x00", "\\x00"), problem
        limit = limit_for(name)
        for value in query.getlist(name):
            if len(value) > limit:
                return name, too_long(limit, len(value))
            if problem := unreadable(value):
                return name, problem
    return None
