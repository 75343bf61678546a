"""CSV for every list: the list's JSON rows, flattened, with the serializer's fields as columns.

Text cells go through `csv_cell` (formula injection); the serializer's number fields are
numbers, written as they are, even where the JSON gives a decimal as a string ("-58.40000").
"""

import csv
import io

from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer

from detainees.read.csvcells import csv_cell

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
        return value.get("name") or value.get("id") or value.get("country") or ""
    if value is None:
        return ""
    return value


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
            columns = list(rows[0].keys())
        else:
            columns = list(fields)
        numbers = {c for c in columns if isinstance(fields.get(c), NUMBER_FIELDS)}
        writer = csv.writer(out)
        writer.writerow([csv_cell(c) for c in columns])
        for row in rows:
            writer.writerow(
                [
                    flatten(row.get(c)) if c in numbers else csv_cell(flatten(row.get(c)))
                    for c in columns
                ]
            )
        return out.getvalue().encode(self.charset)


class GeoJSONRenderer(JSONRenderer):
    """GeoJSON (RFC 7946) under its own media type, for the map's points."""

    media_type = "application/geo+json"
    format = "geojson"
