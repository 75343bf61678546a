"""Keyset pagination: each page starts after the last row of the previous one.

No OFFSET and no COUNT(*): page 1,000 costs what page 1 costs, given an index on the sort key.
"""

import base64
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db.models import (
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    F,
    FloatField,
    IntegerField,
    Q,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce


class BadCursor(ValueError):
    pass


# A cursor's text value is a row's sort key (a name): longer than any stored name is an edit.
MAX_CURSOR_LENGTH = 2048
_BAD_CURSOR = "This page link is not valid; start again from the first page."


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    size: int


def encode_cursor(value, pk: int) -> str:
    if isinstance(value, datetime):  # before date: a datetime is a date too
        value = {"t": value.isoformat()}
    elif isinstance(value, date):
        value = {"d": value.isoformat()}
    raw = json.dumps([value, pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str):
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadCursor(_BAD_CURSOR)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        if isinstance(value, dict) and "t" in value:
            value = datetime.fromisoformat(value["t"])
        elif isinstance(value, dict):
            value = date.fromisoformat(value["d"])
        # A cursor can be edited by hand: keep to what PostgreSQL accepts (no NUL in text, a
        # bigint pk, offsets within ±15:59, which UTC always is).
        if (isinstance(value, str) and "\x00" in value) or not 0 < int(pk) < 2**63:
            raise ValueError("out of range")
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value, int(pk)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise BadCursor(_BAD_CURSOR) from exc


def _fits(value, output) -> bool:
    """Whether a decoded cursor value can be compared with a sort key of field type `output`;
    an edited cursor may hold any JSON value, which PostgreSQL would refuse with an error."""
    if value is None:
        return False
    if isinstance(output, DateTimeField):
        return isinstance(value, datetime)
    if isinstance(output, DateField):
        return isinstance(value, date) and not isinstance(value, datetime)
    if isinstance(output, CharField | TextField):
        return isinstance(value, str)
    if isinstance(value, bool):
        return False
    if isinstance(output, IntegerField):
        return isinstance(value, int) and -(2**63) < value < 2**63
    if isinstance(output, FloatField | DecimalField):
        return isinstance(value, int | float) and math.isfinite(value) and abs(value) < 1e300
    return isinstance(value, str)


def keyset_page(queryset, *, field: str, descending: bool, after: str | None, size: int) -> Page:
    """One page of `queryset` ordered by `field` then pk; missing values always come last."""
    output = queryset.query.annotations.get(field) or queryset.model._meta.get_field(field)
    output = getattr(output, "output_field", output)
    # Timestamps (created, updated) are never null: only plain dates need a sentinel.
    is_date = isinstance(output, DateField) and not isinstance(output, DateTimeField)
    if is_date:
        sentinel = date.min if descending else date.max
        key = Coalesce(F(field), Value(sentinel), output_field=DateField())
    else:
        key = F(field)
    queryset = queryset.annotate(sort_key=key)
    if after:
        value, pk = decode_cursor(after)
        if not _fits(value, output):
            raise BadCursor(_BAD_CURSOR)
        # The first condition repeats what the second implies: it bounds the index scan, which
        # then starts at the cursor instead of reading every row before it.
        if descending:
            queryset = queryset.filter(sort_key__lte=value).filter(
                Q(sort_key__lt=value) | Q(sort_key=value, pk__lt=pk)
            )
        else:
            queryset = queryset.filter(sort_key__gte=value).filter(
                Q(sort_key__gt=value) | Q(sort_key=value, pk__gt=pk)
            )
    order = ("-sort_key", "-pk") if descending else ("sort_key", "pk")
    rows = list(queryset.order_by(*order)[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = encode_cursor(rows[-1].sort_key, rows[-1].pk)
    return Page(rows=rows, next_cursor=next_cursor, size=size)
