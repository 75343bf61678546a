"""The OpenAPI description of the read API: what drf-spectacular cannot infer by itself.

Custom fields, method fields, the person list's facets and fuzzy date bounds, error bodies and the
CSV alternative are described here, so the schema matches what the endpoints really send.
"""

from django.db import models
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import (
    ResolvedComponent,
    build_array_type,
    build_object_type,
    get_manager,
    get_view_model,
)

from detainees.domain.models import (
    EventOrganization,
    EventPerson,
    Nationality,
    Person,
    PersonName,
    Relationship,
)
from detainees.read.filters import FacetFilter, FuzzyBoundFilter
from detainees.read.listing import CurrentStatus

# --- Shapes -------------------------------------------------------------------------------------


def string(description: str = "", **extra) -> dict:
    schema = {"type": "string", **extra}
    if description:
        schema["description"] = description
    return schema


def choice(model: type[models.Model], field_name: str, description: str = "") -> dict:
    """A model field's codes as an enum, with "" when the field may be left blank."""
    field = model._meta.get_field(field_name)
    values = [value for value, _ in field.choices]
    if field.blank and "" not in values:
        values.append("")
    return string(description or str(field.help_text), enum=values)


def component(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


COUNTRY_CODE = string("ISO 3166-1 alpha-2 country code, e.g. `AF`.", minLength=2, maxLength=2)
COUNTRY_CODES = build_array_type(COUNTRY_CODE)
COUNTRY_FACETS = {"nationality", "country"}

FUZZY_DATE = build_object_type(
    description=(
        "A date known only as precisely as the sources allow. Empty `edtf` (with null bounds) "
        "means the date is unknown."
    ),
    properties={
        "edtf": string("As recorded, in EDTF: `2011`, `2013-03`, `2011-04-20/2014`, `2011~`."),
        "earliest": string("The earliest day it can mean.", format="date", nullable=True),
        "latest": string("The latest day it can mean.", format="date", nullable=True),
        "text": string("In words, e.g. `between 20 April 2011 and 2014`, or `date unknown`."),
        "as_written": string(
            "The date as the source wrote it (`principios de MAR/1976`), when that was not "
            "plain EDTF; empty when it was."
        ),
    },
    required=["edtf", "earliest", "latest", "text", "as_written"],
)

EVENT_PEOPLE = build_array_type(
    build_object_type(
        properties={
            "id": string("The person's public id.", format="uuid"),
            "name": string("Display name."),
            "role": choice(EventPerson, "role", "The person's part in the event."),
            "capacity": string(str(EventPerson._meta.get_field("capacity").help_text)),
            "note": string(str(EventPerson._meta.get_field("note").help_text)),
            "age": {
                "type": "integer",
                "nullable": True,
                "minimum": 0,
                "maximum": 120,
                "description": str(EventPerson._meta.get_field("age").help_text),
            },
        },
        required=["id", "name", "role", "capacity", "note", "age"],
    )
)

EVENT_ORGANIZATIONS = build_array_type(
    build_object_type(
        properties={
            "id": string("The organization's public id.", format="uuid"),
            "name": string(),
            "role": choice(EventOrganization, "role", "The organization's part in the event."),
            "note": string(),
        },
        required=["id", "name", "role", "note"],
    )
)

PERSON_NAMES = build_array_type(
    build_object_type(
        properties={
            "name": string(str(PersonName._meta.get_field("name").help_text)),
            "given": string(str(PersonName._meta.get_field("given").help_text)),
            "family": string(str(PersonName._meta.get_field("family").help_text)),
            "kind": choice(PersonName, "kind", "What sort of name it is."),
            "is_primary": {"type": "boolean", "description": "The name the record is shown by."},
            "language": string(str(PersonName._meta.get_field("language").help_text)),
            "claim_status": choice(PersonName, "claim_status", "How well the name is supported."),
            "citations": {
                **build_array_type(component("Citation")),
                "description": "Where the name comes from: its public citations.",
            },
        },
        required=[
            "name",
            "given",
            "family",
            "kind",
            "is_primary",
            "language",
            "claim_status",
            "citations",
        ],
    )
)

WITHHELD = {
    **build_array_type({"type": "string", "enum": list(Person.Withheld.values)}),
    "description": "What the source withholds (a name kept back for the person's protection), "
    "as opposed to what it does not know.",
}

AGE_AT_EVENT = build_object_type(
    description="The person's age at the event: as the source gives it (`stated`), or the range "
    "of whole years the birth date and the event date allow; null when neither says.",
    properties={
        "from": {"type": "integer", "minimum": 0},
        "to": {"type": "integer", "minimum": 0},
        "stated": {"type": "boolean", "description": "Given by the source, not derived."},
    },
    required=["from", "to", "stated"],
)

NATIONALITIES = build_array_type(
    build_object_type(
        properties={
            "country": COUNTRY_CODE,
            "claim_status": choice(Nationality, "claim_status"),
            "citations": build_array_type(component("Citation")),
        },
        required=["country", "claim_status", "citations"],
    )
)

RELATIONSHIPS = build_array_type(
    build_object_type(
        properties={
            "id": string("The relationship's public id.", format="uuid"),
            "kind": choice(
                Relationship,
                "kind",
                "How the two are tied (`parent`: the first person is the other's parent).",
            ),
            "label": string(
                "What this person is to the other, in words: `mother of`, `son of`, "
                "`sibling of`; gendered when the person's gender is known."
            ),
            "person": build_object_type(
                description="The other person (always a public one).",
                properties={
                    "id": string("The person's public id.", format="uuid"),
                    "name": string("Display name."),
                    "url": string("The person's public page (a path)."),
                },
                required=["id", "name", "url"],
            ),
            "start": FUZZY_DATE,
            "end": FUZZY_DATE,
            "claim_status": choice(Relationship, "claim_status"),
            "note": string(str(Relationship._meta.get_field("note").help_text)),
            "citations": build_array_type(component("Citation")),
        },
        required=[
            "id",
            "kind",
            "label",
            "person",
            "start",
            "end",
            "claim_status",
            "note",
            "citations",
        ],
    )
)

CUSTODIANS = build_array_type(
    build_object_type(
        properties={
            "id": string("The organization's public id.", format="uuid"),
            "name": string(),
            "start": string("EDTF: when this custodian's part began (empty if unknown)."),
            "end": string("EDTF: when it ended (empty if unknown)."),
            "via_facility": {
                "type": "boolean",
                "description": "Inferred from who controlled the facility, not named by a source.",
            },
        },
        required=["id", "name", "start", "end", "via_facility"],
    )
)

TIMELINE = build_array_type(
    {
        "allOf": [
            component("Event"),
            build_object_type(
                properties={
                    "custodians": {
                        **CUSTODIANS,
                        "description": "Custody events only: who held the person, and when.",
                    },
                    "age_at_event": {**AGE_AT_EVENT, "nullable": True},
                },
                required=["age_at_event"],
            ),
        ]
    }
)

CLAIM_STATUS = string(
    "How sure the record is of the fact.",
    enum=["confirmed", "reported", "inferred", "disputed", "retracted"],
)

SUMMARY = build_object_type(
    properties={
        "status": string("The person's status: `current_status`.", enum=CurrentStatus.values),
        "event": string(
            "The timeline event that decided the status (its id); null when none did.",
            format="uuid",
            nullable=True,
        ),
        "since": string(
            "EDTF: from when the status holds: that event's date, or the end of a custody "
            "episode that ended (empty if unknown or none)."
        ),
        "claim_status": {
            **CLAIM_STATUS,
            "enum": [*CLAIM_STATUS["enum"], ""],
            "description": "How sure the record is of that event (empty when none).",
        },
        "custody": build_object_type(
            description=(
                "The last custody episode on the timeline (null when there is none), its last "
                "custodian as the timeline derives it, and its facility."
            ),
            nullable=True,
            properties={
                "current": {
                    "type": "boolean",
                    "description": "The person is in custody and this episode has not ended.",
                },
                "event": string("The custody episode (its id).", format="uuid"),
                "claim_status": CLAIM_STATUS,
                "custodian": {
                    **CUSTODIANS["items"],
                    "nullable": True,
                    "description": "Null when no custodian is known.",
                },
                "facility": build_object_type(
                    properties={"id": string(format="uuid"), "name": string()},
                    required=["id", "name"],
                    nullable=True,
                ),
            },
            required=["current", "event", "claim_status", "custodian", "facility"],
        ),
        "sources": {"type": "integer", "minimum": 0, "description": "Distinct public sources."},
        "independent_sources": {
            "type": "integer",
            "minimum": 0,
            "description": (
                "Distinct publishers among them: sources from one publisher count once, a "
                "source with no known publisher on its own."
            ),
        },
    },
    required=[
        "status",
        "event",
        "since",
        "claim_status",
        "custody",
        "sources",
        "independent_sources",
    ],
)

ERRORS = build_object_type(
    description=(
        "Each invalid parameter with what is wrong with it, e.g. "
        '`{"page_size": ["A whole number from 1 to 500."]}`.'
    ),
    additionalProperties=build_array_type(string()),
)
DETAIL = build_object_type(properties={"detail": string()}, required=["detail"])
WRITE_ERRORS = build_object_type(
    description=(
        "Each field with what is wrong with it; a list field (`names`, `people`) has one entry "
        "per row, the row's errors by field (`{}` for a valid row). Problems of the body as a "
        "whole (JSON that does not parse, a rule joining several fields) are under "
        "`non_field_errors`."
    ),
    additionalProperties={
        "anyOf": [
            build_array_type({"anyOf": [string(), build_object_type()]}),
            build_object_type(),
        ]
    },
)
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "description": (
        'The `ETag` a GET of this record answered (JSON), e.g. `"3f2a…"`. Without it (or with '
        "`*`) the answer is 428; when the record has changed since, 412."
    ),
    "schema": string(pattern=r'^\s*(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*\s*$'),
}
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "description": "An `ETag` from an earlier GET: 304 without a body if the record is unchanged.",
    "schema": string(),
}
# A write by key's URL (detainees.api.writes): the script's system and its key for the record.
SYSTEM_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
KEY_PATTERN = r"(?!\.\.?$)[^/\s\x00-\x1f\x7f](?:[^/\x00-\x1f\x7f]{0,298}[^/\s\x00-\x1f\x7f])?"
IF_MATCH_OPTIONAL = {
    **IF_MATCH,
    "required": False,
    "description": (
        "Optional on a write by key: without it the record the key names is replaced (the key "
        "is the script's own, and a re-run writes what it wrote); with it, 412 when the record "
        "has changed since that `ETag` was read or when the key names no record yet, and 400 "
        "when it holds no quoted ETag."
    ),
}
DUPLICATE = build_object_type(
    description=(
        "A unique rule the record would break (an organization's name, a source's URL, a "
        "publisher's reference number, a place's name under its parent): `existing` is the "
        "record that holds the values, to read or edit instead."
    ),
    properties={
        "detail": string("The rule, in words."),
        "existing": build_object_type(
            properties={
                "id": string("The existing record's id.", format="uuid"),
                "url": string("The existing record's URL in this API.", format="uri"),
            },
            required=["id", "url"],
        ),
        "errors": build_object_type(
            description="Every problem the values have, by field, as a 400 gives them.",
            additionalProperties=True,
        ),
    },
    required=["detail", "existing"],
)
PUBLICATION_STATUS = {
    "in": "query",
    "name": "publication_status",
    "required": False,
    "description": (
        "Staff only: list records in these publication states instead of the published ones "
        "(`draft`, `in_review`, `published`, `withdrawn`; repeat the parameter or separate "
        "with commas). Needs a token whose role may view the type: 401 without one, 403 for "
        "another role. Filters read from the public list's stored facets (the people's and "
        "events' facets) match published records only."
    ),
    "schema": build_array_type(
        {"type": "string", "enum": ["draft", "in_review", "published", "withdrawn"]}
    ),
    "style": "form",
    "explode": True,
}
KEY_PARAMETERS = {
    "system": (
        "Whose keys these are, e.g. `lwj-desk`: 1 to 100 letters, digits, `.`, `_` or `-`, "
        "starting with a letter or digit (the importer's `--system`)."
    ),
    "key": (
        "The record's key in that system, e.g. `P-17`: 1 to 300 characters, no `/`, no control "
        "characters, no space at either end, not `.` or `..`."
    ),
}
ETAG = {
    "description": "A strong tag of the record's body; send it as `If-Match` to edit it.",
    "schema": string(),
    "required": True,
}
RETRY_AFTER = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
WRITTEN = {
    "200": "The record as saved; `ETag` is the tag a GET of it now answers.",
    "201": "The record as created; `Location` is its URL and `ETag` the tag its GET answers.",
    "204": "Deleted. If it was published, the changes feed lists it as `deleted`.",
}
WITHDRAWN = build_object_type(
    properties={
        "detail": string(),
        "reason": string("Why the record was withdrawn, as published."),
    },
    required=["detail", "reason"],
)
FORMAT = "`json` (the default) or `csv`; the same as sending `Accept: text/csv`."
CSV = string(
    "The JSON rows as a table: one column per field; lists joined with `; `, links by name, "
    "fuzzy dates as EDTF."
)


class FuzzyDateFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "detainees.api.serializers.FuzzyDateField"

    def map_serializer_field(self, auto_schema, direction):
        return register(auto_schema, "FuzzyDate", FUZZY_DATE)


class PublicCitationsExtension(OpenApiSerializerFieldExtension):
    target_class = "detainees.api.serializers.PublicCitations"

    def map_serializer_field(self, auto_schema, direction):
        # The field names its serializer, so this module needs no import of the serializers
        # (which import the shapes above).
        citation = auto_schema.resolve_serializer(self.target.citation_serializer, direction)
        return build_array_type(citation.ref)


def register(auto_schema, name: str, schema: dict) -> dict:
    resolved = ResolvedComponent(
        name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
    )
    auto_schema.registry.register_on_missing(resolved)
    return resolved.ref


# --- Filters ------------------------------------------------------------------------------------


class FilterSetExtension(DjangoFilterExtension):
    """Also the filters a FilterSet adds when built (the facets), and the fuzzy date bounds."""

    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        model = get_view_model(auto_schema.view)
        if not model:
            return []
        queryset = get_manager(model).none()
        filterset_class = self.target.get_filterset_class(auto_schema.view, queryset)
        if not filterset_class:
            return []
        # An instance, not base_filters: its filters are bound to a model, which labels need.
        filterset = filterset_class(queryset=queryset)
        parameters = []
        for name, filter_field in filterset.filters.items():
            parameters += self.resolve_filter_field(
                auto_schema, model, filterset_class, name, filter_field
            )
        return parameters

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        if isinstance(filter_field, FacetFilter):
            return [facet_parameter(field_name, filter_field)]
        if isinstance(filter_field, FuzzyBoundFilter):
            return [fuzzy_bound_parameter(field_name, filter_field)]
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        for parameter in parameters:
            described = parameter.get("description", "")
            if not described or described.startswith("* `"):
                label = str(filter_field.label or field_name.replace("_", " ").capitalize())
                parameter["description"] = f"{label}\n\n{described}".strip()
        return parameters


def facet_parameter(name: str, facet_filter) -> dict:
    facet = facet_filter.facet
    labels = facet.labels()
    rows = "people" if facet.key == "person_key" else "events"
    if name in COUNTRY_FACETS:
        values = "Values are ISO 3166-1 alpha-2 country codes, e.g. `AF`."
    elif name == "year":
        values = "Values are years, e.g. `2011`."
    elif labels:
        values = "Values: " + ", ".join(f"`{code}` ({label})" for code, label in labels.items())
    else:
        values = "Values are the `slug`s of published records."
    return {
        "in": "query",
        "name": name,
        "description": (
            f"{facet.label}. Repeat the parameter to match {rows} with any of several values; "
            f"a value none has matches none. {values}"
        ),
        "schema": build_array_type(string()),
        "style": "form",
        "explode": True,
    }


def fuzzy_bound_parameter(name: str, bound_filter) -> dict:
    side = "latest" if bound_filter.end else "earliest"
    example = bound_filter.extra.get("help") or "e.g. 2011, March 2013, 2013-03"
    return {
        "in": "query",
        "name": name,
        "description": (
            f"{bound_filter.label}: a date in words or EDTF ({example}); its {side} day is used. "
            "With the matching `_reading`: `possibly` (default) keeps people whose event dates "
            "overlap the range, `certainly` those whose dates lie inside it."
        ),
        "schema": string(),
    }


# --- Operations ---------------------------------------------------------------------------------


def refuse_empty(schema: dict) -> None:
    """A query parameter's value is never "" (detainees.api.errors.RefuseEmptyParameters), nor
    holds a NUL or a replacement character (tracker.params refuses both)."""
    if schema.get("type") == "array":
        refuse_empty(schema.get("items", {}))
    elif schema.get("type") == "string":
        if "enum" in schema:
            schema["enum"] = [value for value in schema["enum"] if value != ""]
        else:
            schema.setdefault("minLength", 1)
            schema.setdefault("pattern", "^[^\\x00\\ufffd]*$")


class AutoSchema(SpectacularAutoSchema):
    """Adds every error an operation can answer, in the API's one error shape (JSON whatever
    format was asked for), the conditional-request headers, CSV as text, anonymous reads, and
    links from a created record to the operations on it."""

    def get_auth(self):
        # Scripts authenticate with a token. (The admin's session also works, for people trying
        # the API in a browser; it needs a CSRF token and is not part of the scripted contract.)
        tokens = [auth for auth in super().get_auth() if "tokenAuth" in auth]
        if self.method == "GET":
            # Reads are public; a token only lets staff read drafts by id.
            return [{}, *tokens]
        return tokens

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if not operation:
            return operation
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "format" and parameter["in"] == "query":
                parameter["description"] = FORMAT
            elif not parameter.get("description") and "description" in parameter["schema"]:
                parameter["description"] = parameter["schema"].pop("description")
            if parameter["in"] == "query":
                refuse_empty(parameter["schema"])
        responses = operation["responses"]
        for response in responses.values():
            if "text/csv" in response.get("content", {}):
                response["content"]["text/csv"] = {"schema": CSV}
        if self.method == "GET":
            self.add_read_responses(operation, responses)
        else:
            self.add_write_responses(operation, responses)
        if getattr(self.view, "action", None) == "by_key":
            self.by_key_operation(operation, responses)
        elif (
            self._is_list_view()
            and hasattr(self.view, "list_statuses")
            and getattr(self.view, "lists_unpublished", True)
        ):
            operation.setdefault("parameters", []).append(PUBLICATION_STATUS)
            responses["403"] = self.error_response(
                "`publication_status` from a role that may not see unpublished records.",
                "Forbidden",
                DETAIL,
            )
        responses["401"] = self.error_response(
            "A token that is not valid (reads need none), or a write without credentials: send "
            "`Authorization: Token <key>`.",
            "NotAuthenticated",
            DETAIL,
        )
        responses["406"] = self.error_response(
            "`Accept` names no format this operation answers in.", "NotAcceptable", DETAIL
        )
        if getattr(self.view, "throttle_classes", None):
            responses["429"] = self.error_response(
                "Too many requests: try again after `Retry-After` seconds.",
                "Throttled",
                DETAIL,
                headers={"Retry-After": RETRY_AFTER},
            )
        responses["503"] = self.error_response(
            "The database is out of reach: try again after `Retry-After` seconds.",
            "Unavailable",
            DETAIL,
            headers={"Retry-After": RETRY_AFTER},
        )
        return operation

    def add_read_responses(self, operation, responses):
        invalid = self.error_response(
            "An invalid parameter; the body names each one.", "Errors", ERRORS
        )
        if getattr(self.view, "action", None) == "facets":
            responses["200"]["description"] = (
                "Per facet, its values and how many records have each."
            )
            responses["400"] = invalid
            return
        if getattr(self.view, "action", None) == "places":
            responses["200"]["description"] = (
                "The selection's places and facilities, as a GeoJSON FeatureCollection."
            )
            responses["400"] = invalid
            return
        if "200" in responses and not responses["200"].get("description"):
            responses["200"]["description"] = (
                "A page of rows; `next` is the following page's URL, null on the last."
                if self._is_list_view()
                else "The record."
            )
        responses["400"] = invalid
        if self._is_list_view():
            return
        responses["200"]["headers"] = {"ETag": ETAG}
        responses["304"] = {
            "description": "Not modified: `If-None-Match` names the record's current `ETag`.",
            "headers": {"ETag": ETAG},
        }
        if getattr(self.view, "redirects_merged", False):
            responses["301"] = {
                "description": "A merged record's old id: `Location` is the surviving record's.",
                "headers": {"Location": {"schema": string(format="uri"), "required": True}},
            }
        responses["404"] = self.error_response(
            "No published record has this id.", "NotFound", DETAIL
        )
        responses["410"] = self.error_response(
            "The record was published and has been withdrawn; only the reason is given.",
            "Withdrawn",
            WITHDRAWN,
        )
        operation.setdefault("parameters", []).append(IF_NONE_MATCH)

    def add_write_responses(self, operation, responses):
        for code, text in WRITTEN.items():
            if code in responses and not responses[code].get("description"):
                responses[code]["description"] = text
        # A record's write answers the record, with its ETag (the bulk write answers a report).
        answers_a_record = getattr(self.view, "answers_a_record", True)
        if "200" in responses and answers_a_record:
            responses["200"]["headers"] = {"ETag": ETAG}
        if "201" in responses and answers_a_record:
            responses["201"]["headers"] = {
                "ETag": ETAG,
                "Location": {**ETAG, "description": "The new record's URL."},
            }
            responses["201"]["links"] = self.links_to_the_record()
        if self.method == "DELETE":
            responses["400"] = self.error_response(
                "An invalid `format`; the body names it.", "Errors", ERRORS
            )
        else:
            responses["400"] = self.error_response(
                "Invalid, unknown or read-only fields, a rule the record breaks, a change of "
                "state that does not exist, or a body that is not JSON; the body names each "
                "field (list fields row by row).",
                "WriteErrors",
                WRITE_ERRORS,
            )
            responses["413"] = self.error_response(
                "The body is larger than the limit (2 MiB unless configured otherwise).",
                "TooLarge",
                DETAIL,
            )
            responses["415"] = self.error_response(
                "The body is not `application/json`.", "UnsupportedMediaType", DETAIL
            )
        responses["403"] = self.error_response(
            "The user's role may not do this (e.g. a researcher publishing, or editing a "
            "published record).",
            "Forbidden",
            DETAIL,
        )
        if self.method != "DELETE" and getattr(self.view, "answers_a_record", True):
            responses["409"] = self.error_response(
                "Another record already holds values a unique rule allows once; `existing` "
                "names it.",
                "Duplicate",
                DUPLICATE,
            )
        # An endpoint whose errors differ (the bulk write's) says how: {status: (text, name, shape)}.
        for code, (text, name, shape) in getattr(self.view, "error_schemas", {}).items():
            responses[code] = self.error_response(text, name, shape)
        if self.method == "POST":
            return
        responses["404"] = self.error_response("No record has this id.", "NotFound", DETAIL)
        responses["412"] = self.error_response(
            "The record changed since the ETag in `If-Match` was read: GET it again.",
            "PreconditionFailed",
            DETAIL,
        )
        responses["428"] = self.error_response(
            "`If-Match` is missing, `*`, or holds no quoted ETag.", "PreconditionRequired", DETAIL
        )
        if self.method == "DELETE":
            responses["409"] = self.error_response(
                "Other records still link to this one.", "Conflict", DETAIL
            )
        operation.setdefault("parameters", []).append(IF_MATCH)

    def get_operation_id(self):
        # The map's points, `places.geojson` under each list: named after the list.
        if getattr(self.view, "action", None) == "places":
            return f"v1_{self.view.external_table}_places_geojson"
        return super().get_operation_id()

    def _is_list_view(self, serializer=None):
        if getattr(self.view, "action", None) == "by_key":
            return False  # one record
        return super()._is_list_view(serializer)

    def get_response_serializers(self):
        if getattr(self.view, "action", None) == "by_key" and self.method == "GET":
            return self.view.read_serializer_class()
        return super().get_response_serializers()

    def by_key_operation(self, operation, responses):
        """A read or write by the script's own key: its parameters and the answers only it gives."""
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"] in KEY_PARAMETERS:
                parameter["description"] = KEY_PARAMETERS[parameter["name"]]
                pattern = SYSTEM_PATTERN if parameter["name"] == "system" else KEY_PATTERN
                parameter["schema"] = string(pattern=f"^{pattern}$")
        gone = self.error_response(
            "The record the key named was deleted; the key is not used again.", "KeyGone", DETAIL
        )
        if self.method == "GET":
            responses["403"] = self.error_response(
                "The user's role may not see unpublished records of this type.",
                "Forbidden",
                DETAIL,
            )
            responses["404"] = self.error_response("No record has this key.", "NotFound", DETAIL)
            responses["410"] = gone
            return
        operation["parameters"] = [
            IF_MATCH_OPTIONAL if p is IF_MATCH else p for p in operation["parameters"]
        ]
        responses.pop("428", None)
        responses.pop("404", None)
        responses["200"]["description"] = "The record the key named, replaced; `ETag` as saved."
        responses["201"] = {
            **responses["200"],
            "description": "No record had the key: created, and the key kept for it.",
            "headers": {
                "ETag": ETAG,
                "Location": {**ETAG, "description": "The new record's URL."},
            },
        }
        responses["410"] = gone

    def links_to_the_record(self) -> dict:
        """OpenAPI links from a created record's `id` (and `ETag`) to its detail operations."""
        base = self.get_operation_id().removesuffix("_create")
        record = {"id": "$response.body#/id"}
        tagged = {**record, "header.If-Match": "$response.header.ETag"}
        return {
            "Read": {"operationId": f"{base}_retrieve", "parameters": record},
            "Replace": {"operationId": f"{base}_update", "parameters": tagged},
            "Edit": {"operationId": f"{base}_partial_update", "parameters": tagged},
            "Delete": {"operationId": f"{base}_destroy", "parameters": tagged},
        }

    def error_response(self, description, name, schema, headers=None) -> dict:
        """An error: JSON whatever format was asked for (detainees/api/errors.py)."""
        response = {
            "description": description,
            "content": {"application/json": {"schema": register(self, name, schema)}},
        }
        if headers:
            response["headers"] = headers
        return response


def closed_request_bodies(result, generator, request, public):
    """Request shapes allow no other properties: writes refuse unknown fields with a 400."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result
