"""`POST /api/v1/bulk/`: many records in one request, through the importer, all or nothing.

The body is what the importer reads from a file: a JSON array of records or JSON Lines, each
record `{"table": "persons", "id": ..., <columns>}` as in the data package's `records.jsonl`
(`detainees.write.exports.tables` lists the tables and columns). Records refer to each other
by their `id`, the script's own keys, remembered for `?system=` so that sending the same body
again changes nothing.

The records are written by `import_rows()`, the importer the admin's import and
`manage.py import_records` use: every record is checked first, then all are written in one
transaction, a chunk at a time, so the queries grow with the number of chunks, not of records.
Each record is held to the user's role as the admin's import holds it (a researcher may not
change a published record, nor publish). Any problem refuses the whole body: a 400 listing every
problem by the record's position, table and id, and nothing written.

The import runs within the request: bodies are bounded by `API_BULK_MAX_BYTES` (checked before
the body is read) and `API_BULK_MAX_RECORDS` (before the records are checked), both a 413
naming the setting.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from drf_spectacular.plumbing import build_array_type, build_object_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError, PermissionDenied, ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from detainees.api import schema
from detainees.api.parsers import BodyTooLarge, read_bounded
from detainees.domain.fuzzydates import DATE_ORDERS, LOCALES, DateReading
from detainees.write import services
from detainees.write.exports.tables import BY_NAME
from detainees.write.history import acting
from detainees.write.importers.generic import (
    DEFAULT_SYSTEM,
    ImportRefused,
    RowError,
    import_rows,
    may_import,
    read_json,
    read_jsonl,
)

JSON = "application/json"
JSON_LINES = "application/x-ndjson"
# The name the importer gives the body in its messages ("body, record 3", "body, line 3").
BODY = "body"
TRUE = {"true", "1", "yes"}
FALSE = {"false", "0", "no"}
PARAMETERS = ("system", "publish", "dry_run", "date_order", "locale", "century", "format")
POSITION = re.compile(r"(?:record|line) (\d+)$")


class BodyOverLimit(BodyTooLarge):
    default_detail = "The request body is larger than API_BULK_MAX_BYTES."


@dataclass(frozen=True)
class Body:
    media_type: str
    content: bytes


class BoundedBodyParser(BaseParser):
    """The body's bytes, unparsed (the importer reads them), at most `API_BULK_MAX_BYTES`."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = read_bounded(
            stream,
            parser_context,
            settings.API_BULK_MAX_BYTES,
            refuse=BodyOverLimit,
            setting="API_BULK_MAX_BYTES",
        )
        return Body(self.media_type, raw)


class JSONBodyParser(BoundedBodyParser):
    media_type = JSON


class JSONLinesBodyParser(BoundedBodyParser):
    media_type = JSON_LINES


class MayImport(BasePermission):
    """Who may import in the admin (`may_import`): staff who may add and change every table."""

    message = "Your role may not import records."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and may_import(user))


def _flag(params, name: str, problems: dict) -> bool:
    value = params.get(name)
    if value is None:
        return False
    if value.lower() in TRUE:
        return True
    if value.lower() not in FALSE:
        problems[name] = ["true or false."]
    return False


def read_options(params) -> dict:
    """The import's options from the query string; a 400 naming each bad or unknown one."""
    problems = {
        name[:100]: ["Not a parameter of this operation."]
        for name in sorted(set(params) - set(PARAMETERS))[:20]
    }
    problems.update(
        {
            name: ["Give a value, or leave the parameter out."]
            for name in PARAMETERS
            if "" in params.getlist(name)
        }
    )
    if problems:
        raise ValidationError(problems)
    system = params.get("system", DEFAULT_SYSTEM)
    if len(system) > 100:
        problems["system"] = ["At most 100 characters."]
    publish = _flag(params, "publish", problems)
    dry_run = _flag(params, "dry_run", problems)
    century = params.get("century")
    if century is not None:
        if not century.isascii() or not century.isdigit() or not 1 <= int(century) <= 99:
            problems["century"] = ["A whole number from 1 to 99 (19 reads 76 as 1976)."]
            century = None
        else:
            century = int(century)
    date_order = params.get("date_order")
    if date_order is not None and date_order not in DATE_ORDERS:
        problems["date_order"] = [f"One of {', '.join(DATE_ORDERS)}."]
        date_order = None
    locales = [loc for value in params.getlist("locale") for loc in value.split(",") if loc]
    if any(loc not in LOCALES for loc in locales):
        problems["locale"] = [f"One or more of {', '.join(LOCALES)}."]
        locales = []
    if problems:
        raise ValidationError(problems)
    reading = DateReading(order=date_order, locales=tuple(locales), century=century)
    return {"system": system, "publish": publish, "dry_run": dry_run, "reading": reading}


def read_body(body: Body, errors: list[RowError]):
    """The body's records as the importer's rows; unreadable records are added to `errors`."""
    if body.media_type == JSON_LINES:
        return read_jsonl(BODY, body.content, errors)
    return read_json(BODY, body.content, errors)


def count_records(body: Body) -> int:
    """How many records the body holds, counted before they are checked (a JSON array's items
    are counted once it is parsed, by the importer's reader)."""
    if body.media_type == JSON_LINES:
        return sum(1 for line in body.content.split(b"\n") if line.strip())
    return -1


def refusal(errors: list[RowError], rows) -> dict:
    """`{"errors": [...]}`: each problem with the record's position, table and id."""
    by_where = {row.where: row for row in rows}
    out = []
    for error in errors:
        row = by_where.get(error.where)
        match = POSITION.search(error.where)
        table = row.table.name if row is not None else None
        field = error.message.split(":", 1)[0] if ":" in error.message else None
        columns = {c.name for c in BY_NAME[table].columns} if table else set()
        out.append(
            {
                "record": int(match[1]) if match else None,
                "table": table,
                "id": (row.raw.get("id") if row is not None else None),
                "field": field if field in columns else None,
                "message": error.message,
            }
        )
    return {"errors": out}


REPORT = build_object_type(
    properties={
        "dry_run": {"type": "boolean", "description": "true: nothing was written."},
        "tables": build_object_type(
            description="Per table: records created, updated and left unchanged.",
            additionalProperties=build_object_type(
                properties={
                    "created": {"type": "integer"},
                    "updated": {"type": "integer"},
                    "unchanged": {"type": "integer"},
                },
                required=["created", "updated", "unchanged"],
            ),
        ),
        "ids": build_object_type(
            description=(
                "Per table, each record's `id` as sent (the script's key) and the public id "
                "(UUID) of the record it wrote or matched."
            ),
            additionalProperties=build_object_type(
                additionalProperties=schema.string(format="uuid")
            ),
        ),
    },
    required=["dry_run", "tables", "ids"],
)
ERRORS = build_object_type(
    description=(
        "`errors`: every problem of the records, each with the record's position (its number "
        "in the array from 1, or its line in JSON Lines; null for the body as a whole), table, "
        "`id` as sent, the column when one is at fault, and the message. A bad query "
        'parameter is named instead, as elsewhere: `{"century": ["..."]}`.'
    ),
    properties={
        "errors": build_array_type(
            build_object_type(
                properties={
                    "record": {"type": "integer", "nullable": True},
                    "table": {"type": "string", "nullable": True},
                    "id": {},
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                },
                required=["record", "table", "id", "field", "message"],
            )
        )
    },
    additionalProperties=build_array_type(schema.string()),
)
RECORDS = build_array_type(
    build_object_type(
        description=(
            'One record: `{"table": "persons", "id": "p1", <columns>}`, the columns of the '
            "data package's table (see the README's Tables and columns)."
        ),
        properties={"table": schema.string(enum=list(BY_NAME)), "id": schema.string()},
        required=["table"],
        additionalProperties=True,
    ),
)


def _parameter(name, type_, description, **extra):
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, description=description, **extra)


class BulkView(APIView):
    """Create and update many records at once, all or nothing (see the module's docstring)."""

    parser_classes = [JSONBodyParser, JSONLinesBodyParser]
    permission_classes = [MayImport]
    # It answers a report, not a record: no ETag, Location or links to a record's operations.
    answers_a_record = False
    error_schemas = {
        "400": (
            "A problem with a record (every one is listed) or a query parameter; nothing was "
            "written.",
            "BulkErrors",
            ERRORS,
        ),
        "413": (
            "More bytes than `API_BULK_MAX_BYTES` (32 MiB unless configured otherwise) or more "
            "records than `API_BULK_MAX_RECORDS` (50,000): send them in several requests.",
            "TooLarge",
            schema.DETAIL,
        ),
        "415": (
            f"The body is neither `{JSON}` nor `{JSON_LINES}`.",
            "UnsupportedMediaType",
            schema.DETAIL,
        ),
    }

    @extend_schema(
        operation_id="bulk_write",
        summary="Create and update many records at once, all or nothing",
        description=(
            "The importer's formats: a JSON array of records or JSON Lines "
            f"(`{JSON_LINES}`), each record as a line of the export's `records.jsonl`. "
            "Records refer to each other by `id` (the script's keys, remembered per `system`); "
            "sending the same body again changes nothing. Every record is checked before "
            "anything is written; any problem refuses the whole body. At most "
            "`API_BULK_MAX_RECORDS` records and `API_BULK_MAX_BYTES` bytes."
        ),
        parameters=[
            _parameter("system", str, f"Whose keys the ids are (default `{DEFAULT_SYSTEM}`)."),
            _parameter("publish", bool, "Publish every record (editors only)."),
            _parameter("dry_run", bool, "Check and report, then write nothing."),
            _parameter("date_order", str, "How numeric days are written.", enum=DATE_ORDERS),
            _parameter(
                "locale",
                {"type": "array", "items": {"type": "string", "enum": list(LOCALES)}},
                "Languages of month names and date words (repeat for several).",
            ),
            _parameter("century", int, "The century of two-digit years (19: 1900-1999)."),
        ],
        request={JSON: RECORDS, JSON_LINES: OpenApiTypes.STR},
        responses={
            200: OpenApiResponse(REPORT, description="Nothing created: the report and ids."),
            201: OpenApiResponse(REPORT, description="Records created: the report and ids."),
        },
    )
    def post(self, request):
        options = read_options(request.query_params)
        if options["publish"] and not services.may_publish(request.user):
            raise PermissionDenied("Your role may not publish records.")
        body = request.data
        if not isinstance(body, Body):
            raise ParseError("Send the records as a JSON array or JSON Lines.")
        limit = settings.API_BULK_MAX_RECORDS
        if count_records(body) > limit:
            raise BodyOverLimit(f"More than API_BULK_MAX_RECORDS ({limit}) records.")
        errors: list[RowError] = []
        rows = read_body(body, errors)
        if len(rows) + len(errors) > limit:
            raise BodyOverLimit(f"More than API_BULK_MAX_RECORDS ({limit}) records.")
        if errors:
            return Response(refusal(errors, rows), status=status.HTTP_400_BAD_REQUEST)
        try:
            with acting(request.user, "API bulk write"):
                report = import_rows(
                    rows,
                    publish=options["publish"],
                    dry_run=options["dry_run"],
                    system=options["system"],
                    user=request.user,
                    reading=options["reading"],
                )
        except ImportRefused as exc:
            return Response(refusal(exc.errors, rows), status=status.HTTP_400_BAD_REQUEST)
        tables = {
            name: {"created": created, "updated": updated, "unchanged": unchanged}
            for name, created, updated, unchanged in report.rows()
        }
        ids: dict[str, dict[str, str]] = {}
        for row in rows:
            ids.setdefault(row.table.name, {})[row.key] = str(row.public_id)
        created = not report.dry_run and any(t["created"] for t in tables.values())
        return Response(
            {"dry_run": report.dry_run, "tables": tables, "ids": ids},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
