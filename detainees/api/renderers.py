"""CSV for every list: the list's JSON rows, flattened, with the serializer's fields as columns.

A row's `citations` become the numbered source columns at its end (`source_1_title`, ...,
`sources_more`: `detainees.read.citing`), so that every row can be cited from a spreadsheet; a
row whose citations are on its parts (a facility's periods of control) cites those, each with
the part's claim status and, in `supports`, the part. A person or organization in an event
reads as its name and its part ("ISAF (capturing_force)"), a part naming a record as that
record's name and its role ("US Forces (controller)").
Text cells go through `csv_cell` (formula injection); the serializer's number fields are
numbers, written as they are, even where the JSON gives a decimal as a string ("-58.40000").
"""

import csv
import io
import re

import orjson
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from detainees.read.citing import csv_columns, source_cells, supports
from detainees.read.csvcells import SUSPECT_FIRST, csv_cell

NUMBER_FIELDS = (serializers.IntegerField, serializers.FloatField, serializers.DecimalField)


def serializer_fields(view) -> dict:
    get_class = getattr(view, "get_serializer_class", None)
    return dict(get_class()().fields) if get_class is not None else {}


def flatten(value):
    if isinstance(value, list):
        return "; ".join(str(flatten(v)) for v in value)
    if isinstance(value, dict):
        if "edtf" in value:  # a fuzzy date: its EDTF text (earliest/latest are in the JSON)
            return value["edtf"]
        name = value.get("name") or value.get("id") or value.get("country") or linked_name(value)
        if name and value.get("role"):  # a person or organization in an event, and its part
            return f"{name} ({value['role']})"
        return name
    if value is None:
        return ""
    return value


def linked_name(value: dict) -> str:
    """The name of the first record a part links to (a control period's controller), or ""."""
    return next((v["name"] for v in value.values() if isinstance(v, dict) and v.get("name")), "")


def cited_parts(fields: dict, keys: list[str]) -> list[str]:
    """The columns that are lists of parts with their own citations (a facility's controls)."""
    return [
        key
        for key in keys
        if isinstance(fields.get(key), serializers.ListSerializer)
        and "citations" in getattr(fields[key].child, "fields", {})
    ]


def parts_citations(row: dict, parts: list[str]) -> list[dict]:
    """The citations of a row's parts, each saying which part it supports and how sure the
    record is of it."""
    found = []
    for key in parts:
        for part in row.get(key) or []:
            label = flatten(part)
            for citation in part.get("citations") or []:
                found.append(
                    {
                        **citation,
                        "claim_status": part.get("claim_status") or "",
                        "supports": supports(label, citation.get("aspect") or ""),
                    }
                )
    return found


def row_cells(row: dict, plan: list[tuple[str, bool]]) -> list:
    """A row's cells before its sources: for each (column, is a number) of `plan`,
    `flatten(value)` if the column is a number, else `csv_cell(flatten(value))`. A page holds
    up to 500 rows of 20 to 30 columns, most of them plain text that needs no guard, so text
    is looked at before the general functions are called (tests/test_api_fast.py compares
    the two on every CSV the API writes)."""
    get = row.get
    cells = []
    append = cells.append
    for column, number in plan:
        value = get(column)
        if value is None:
            append("")
        elif value.__class__ is str:
            append(value if number or value[:1] not in SUSPECT_FIRST else csv_cell(value))
        else:
            value = flatten(value)
            append(value if number else csv_cell(value))
    return cells


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:  # a body-less answer (204 after a DELETE asked for as CSV)
            return b""
        if isinstance(data, dict) and "results" in data:
            rows = data["results"]
        elif isinstance(data, list):
            rows = data
        else:
            rows = [data]
        out = io.StringIO()
        fields = serializer_fields((renderer_context or {}).get("view"))
        if rows and isinstance(rows[0], dict):
            keys = list(rows[0].keys())
        else:
            keys = list(fields)
        cited = "citations" in keys
        parts = [] if cited else cited_parts(fields, keys)
        if cited:
            keys.remove("citations")
        cited = cited or bool(parts)
        numbers = {c for c in keys if isinstance(fields.get(c), NUMBER_FIELDS)}
        writer = csv.writer(out)
        writer.writerow([csv_cell(c) for c in csv_columns([*keys, *(["citations"] * cited)])])
        plan = [(c, c in numbers) for c in keys]
        for row in rows:
            cells = row_cells(row, plan)
            if cited:
                citations = parts_citations(row, parts) if parts else row.get("citations") or []
                sources = source_cells(citations, row.get("claim_status") or "")
                cells += [csv_cell(cell) for cell in sources[:-1]] + [sources[-1]]
            writer.writerow(cells)
        return out.getvalue().encode(self.charset)


# A number orjson writes in full where Python's json writes an exponent (below 1e-4: 0.00001
# against 1e-05), after the character that precedes any value in compact JSON.
SMALL_NUMBER = re.compile(rb"[:,\[]-?0\.0000")
ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class JSONRenderer(DRFJSONRenderer):
    """DRF's JSON, byte for byte, written by orjson: several times faster on a page of 500 rows.

    orjson writes what DRF's compact, unescaped (UNICODE_JSON) output writes, given DRF's
    encoder for what orjson would write its own way (dates and times); where the two could
    differ it leaves the work to DRF's renderer: an indented answer (the browsable API's
    `; indent=`), a value orjson refuses (a non-string key, an integer beyond 64 bits, text
    that is not valid Unicode, a type only DRF's encoder knows) and a number below 1e-4, which
    orjson writes in full. Both escape the line and paragraph separators as DRF does.
    tests/test_api_fast.py compares the bytes of both over every endpoint's data.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        indent = self.get_indent(accepted_media_type, renderer_context or {})
        if indent is not None or self.ensure_ascii or not self.compact or not self.strict:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=self.encoder_class().default, option=ORJSON_OPTIONS)
        except (TypeError, ValueError):  # orjson.JSONEncodeError is a TypeError
            return super().render(data, accepted_media_type, renderer_context)
        if SMALL_NUMBER.search(out):
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in out or b"\xe2\x80\xa9" in out:
            out = out.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return out


class GeoJSONRenderer(JSONRenderer):
    """GeoJSON (RFC 7946) under its own media type, for the map's points."""

    media_type = "application/geo+json"
    format = "geojson"
