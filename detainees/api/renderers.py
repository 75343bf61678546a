"""CSV for every list: the list's JSON rows, flattened, with the serializer's fields as columns."""

import csv
import io

from rest_framework.renderers import BaseRenderer


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
        if isinstance(data, dict) and "results" in data:
            rows = data["results"]
        elif isinstance(data, list):
            rows = data
        else:
            rows = [data]
        out = io.StringIO()
        if rows and isinstance(rows[0], dict):
            columns = list(rows[0].keys())
        else:
            view = (renderer_context or {}).get("view")
            columns = list(view.get_serializer_class()().fields) if view is not None else []
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([flatten(row.get(c)) for c in columns])
        return out.getvalue().encode(self.charset)
