"""Keyset pagination: each page starts after the last row of the previous one.

No OFFSET and no COUNT(*): page 1,000 costs what page 1 costs, given an index on the sort key.
"""

import base64
import json
from dataclasses import dataclass
from datetime import date

from django.db.models import DateField, F, Q, Value
from django.db.models.functions import Coalesce


class BadCursor(ValueError):
    pass


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    size: int


def encode_cursor(value, pk: int) -> str:
    if isinstance(value, date):
        value = {"d": value.isoformat()}
    raw = json.dumps([value, pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        if isinstance(value, dict):
            value = date.fromisoformat(value["d"])
        return value, int(pk)
    except (ValueError, TypeError, KeyError) as exc:
        raise BadCursor("This page link is not valid; start again from the first page.") from exc


def keyset_page(queryset, *, field: str, descending: bool, after: str | None, size: int) -> Page:
    """One page of `queryset` ordered by `field` then pk; missing values always come last."""
    output = queryset.query.annotations.get(field) or queryset.model._meta.get_field(field)
    is_date = isinstance(getattr(output, "output_field", output), DateField)
    if is_date:
        sentinel = date.min if descending else date.max
        key = Coalesce(F(field), Value(sentinel), output_field=DateField())
    else:
        key = F(field)
    queryset = queryset.annotate(sort_key=key)
    if after:
        value, pk = decode_cursor(after)
        if descending:
            queryset = queryset.filter(Q(sort_key__lt=value) | Q(sort_key=value, pk__lt=pk))
        else:
            queryset = queryset.filter(Q(sort_key__gt=value) | Q(sort_key=value, pk__gt=pk))
    order = ("-sort_key", "-pk") if descending else ("sort_key", "pk")
    rows = list(queryset.order_by(*order)[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = encode_cursor(rows[-1].sort_key, rows[-1].pk)
    return Page(rows=rows, next_cursor=next_cursor, size=size)
