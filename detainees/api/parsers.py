"""The API's JSON body parser, bounded before and after parsing.

A body larger than `API_MAX_BODY_BYTES` is refused (413) before it is read; a body nested deeper
than `MAX_DEPTH` is refused (400) once parsed, by a walk without recursion; JSON that Python's
parser cannot take (nesting past its recursion limit) is a 400 like any other syntax error.
"""

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

# The deepest body a write takes is a record with lists of objects (a person's names, an
# event's people with their citations): about 4 levels. 32 leaves room and stops abuse.
MAX_DEPTH = 32


class BodyTooLarge(ParseError):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "too_large"


def depth(value) -> int:
    """How deeply `value` nests lists and objects (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def read_bounded(stream, parser_context, limit: int, refuse=BodyTooLarge, setting="") -> bytes:
    """The body's bytes, refused (`refuse`, a 413) when its declared length is over `limit`,
    before reading, or when more than `limit` bytes arrive; `setting` names the limit."""
    request = (parser_context or {}).get("request")
    length = request.META.get("CONTENT_LENGTH") if request is not None else None
    try:
        length = int(length) if length else 0
    except ValueError:
        length = 0
    name = setting or "the limit"
    if length > limit:
        raise refuse(f"The request body is {length} bytes; {name} is {limit}.")
    raw = stream.read(limit + 1) if stream is not None else b""
    if len(raw) > limit:
        raise refuse(f"The request body is larger than {name} ({limit} bytes).")
    return raw


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = read_bounded(stream, parser_context, settings.API_MAX_BODY_BYTES)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            # DRF's loads: NaN and Infinity are refused, as JSON has no such numbers.
            data = json.loads(raw.decode(encoding)) if raw else None
        except RecursionError as exc:
            raise ParseError(f"JSON parse error: nested deeper than {MAX_DEPTH} levels.") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error: {exc}") from exc
        if depth(data) > MAX_DEPTH:
            raise ParseError(f"JSON parse error: nested deeper than {MAX_DEPTH} levels.")
        return data
