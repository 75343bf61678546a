"""Bulk export: every published record as JSON Lines, streamed in constant memory.

Each line is one record: `{"type": "person", ...}` followed by the fields the API gives it.
People come in their detail shape, everything the person page shows (names and their kinds,
birth, biography, affiliations, batches, the timeline), because the export stands in for
fetching every record: the list row is a summary of that, and affiliations are in no list.
Everything else comes in its list shape, which for those types is also the detail shape.

Rows are read by keyset (`pk > last`), `CHUNK_SIZE` at a time, with each chunk's related rows
read in one query per relation: the number of queries grows with the number of chunks, never
with the number of rows, and memory holds one chunk. Events, most of the export, are built
from plain tuples (`detainees.read.event_lines`), and so are people
(`detainees.read.person_lines`); the other types go through their serializer. A person's chunk
holds the whole timeline of each of its people (every event with its people, organizations,
facility and citations), so people come `PERSON_CHUNK_SIZE` at a time. The export is not a snapshot: a record changed while it
streams may come in its old or new state, so start the next incremental sync (see
`detainees.api.changes`) from the time the export started.

The last line is a trailer, `{"type": "end", "counts": {"person": 1811, ...}}`, giving the
number of record lines of each requested type: a client that has it, and as many lines of each
type, has the whole export. A failure part-way ends the stream without the trailer (and, under
HTTP/1.1, without the closing chunk); see `tracker.streaming`.
"""

import orjson
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from detainees.api import views
from detainees.read.event_lines import event_chunks
from detainees.read.person_lines import person_chunks
from tracker.streaming import download

CHUNK_SIZE = 1000
# A person's detail holds their timeline with its citations: 500 of them as dicts took 87 MiB at
# full size (the whole export's peak 161 MiB, over its 150 MB bound), 250 take 44 MiB.
PERSON_CHUNK_SIZE = 250
MEDIA_TYPE = "application/x-ndjson"
# The last line's "type": it closes a complete export (see export_lines).
END_TYPE = "end"

# `?types=` name (as in the list URLs): the lines' "type", the viewset whose published queryset
# and serializer the lines use, and the action choosing that viewset's shape.
EXPORTS = {
    "persons": ("person", views.PersonViewSet, "retrieve"),
    "events": ("event", views.EventViewSet, "list"),
    "organizations": ("organization", views.OrganizationViewSet, "list"),
    "places": ("place", views.PlaceViewSet, "list"),
    "facilities": ("facility", views.FacilityViewSet, "list"),
    "batches": ("batch", views.ReleaseBatchViewSet, "list"),
    "sources": ("source", views.SourceViewSet, "list"),
}


# Types whose lines are built from tuples rather than through their serializer.
TUPLE_CHUNKS = {
    "persons": lambda: person_chunks(chunk_size=PERSON_CHUNK_SIZE),
    "events": event_chunks,
}


def json_line(data: dict) -> str:
    """One compact JSON line, as the API's JSON renders it; U+2028/9 escaped so no tool splits it.

    orjson writes what `json.dumps(data, ensure_ascii=False, separators=(",", ":"))` writes for
    the serializers' output (strings, integers, lists and dicts), several times faster; anything
    else, dates and times included, goes through the API's own encoder. Only a float in exponent
    notation would read differently (1e-7 against 1e-07), and no serializer gives floats: the
    API's decimals are strings.
    """
    text = orjson.dumps(data, default=ENCODER.default, option=orjson.OPT_PASSTHROUGH_DATETIME)
    return text.decode().replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


ENCODER = JSONEncoder()


class JSONLinesRenderer(BaseRenderer):
    """Lets clients ask for `application/x-ndjson`; an error body is then a single JSON line."""

    media_type = MEDIA_TYPE
    format = "jsonl"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json_line(data).encode(self.charset)


def export_lines(request, names: list[str]):
    """Yield each published record of each type in `names` as JSON lines, by primary key, a
    chunk of lines per string, then the trailer line: `{"type": "end", "counts": {<type>:
    <records>, ...}}`, every requested type in `counts` (0 if none), in the order they came.

    Events, a million at full size, and people are built from plain tuples
    (`detainees.read.event_lines`, `detainees.read.person_lines`); the other types through
    their viewset's serializer (`serializer_lines`), which the tests hold those lines to."""
    counts = {EXPORTS[name][0]: 0 for name in names}
    for name in names:
        record_type = EXPORTS[name][0]
        if name in TUPLE_CHUNKS:
            chunks = (
                [{"type": record_type, **row} for row in rows] for rows in TUPLE_CHUNKS[name]()
            )
            for chunk in chunks:
                yield "".join(map(json_line, chunk))
                counts[record_type] += len(chunk)
            continue
        for chunk in serializer_chunks(request, name):
            yield "".join(map(json_line, chunk))
            counts[record_type] += len(chunk)
    yield json_line({"type": END_TYPE, "counts": counts})


def serializer_chunks(request, name: str):
    """Lists of the records of `EXPORTS[name]` as its viewset's serializer gives them, by
    primary key: each chunk read by keyset (`pk > last`), its related rows prefetched in one
    query per relation. No cursor is held across chunks: a held cursor makes PostgreSQL
    materialize the whole result (with every annotation) before the first row."""
    record_type, viewset_class, action = EXPORTS[name]
    view = viewset_class(request=request, action=action, format_kwarg=None, args=(), kwargs={})
    # One serializer for all rows: its fields are built once, not per record.
    serializer = view.get_serializer_class()(context=view.get_serializer_context())
    chunk_size = PERSON_CHUNK_SIZE if name == "persons" else CHUNK_SIZE
    records = view.get_queryset().order_by("pk")
    last = 0
    while True:
        chunk = list(records.filter(pk__gt=last)[:chunk_size])
        if not chunk:
            return
        last = chunk[-1].pk
        yield [{"type": record_type, **serializer.to_representation(r)} for r in chunk]


def serializer_lines(request, names: list[str]):
    """The export as the serializers alone write it, a line per string: the reference the
    tests compare `export_lines` with."""
    counts = {EXPORTS[name][0]: 0 for name in names}
    for name in names:
        for chunk in serializer_chunks(request, name):
            for record in chunk:
                yield json_line(record)
                counts[record["type"]] += 1
    yield json_line({"type": END_TYPE, "counts": counts})


class ExportView(APIView):
    """`GET /api/v1/export.jsonl[?types=persons,events]`: published records as JSON Lines."""

    renderer_classes = [JSONRenderer, JSONLinesRenderer]

    @extend_schema(exclude=True)
    def get(self, request):
        raw = request.query_params.get("types", "")
        names = list(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip())) or list(EXPORTS)
        unknown = [n for n in names if n not in EXPORTS]
        if unknown:
            choices = ", ".join(EXPORTS)
            raise ValidationError({"types": [f"Unknown: {', '.join(unknown)}. Use: {choices}."]})
        return download(
            export_lines(request, names),
            content_type=MEDIA_TYPE,
            filename="tracker-export.jsonl",
            disposition="inline",
        )
