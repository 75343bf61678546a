"""A column the lists and the data package share is declared once, in detainees.read.rows.

The data package's events table takes the type and description of each column the events list
has from `EVENT_ROW` (adding only what an empty cell means, or how to write a fuzzy date), and
the allowed values of an enum from the model field, as the rows do. The people list and the
package's persons table share no column but `id`: the list's is the record's UUID, the
package's may also be an importing desk's own identifier.
"""

import pytest

from detainees.read.rows import EDTF, ENUM, EVENT_ROW, FUZZY, INTEGER, PERSON_ROW, REF, TEXT
from detainees.write.exports import tables
from detainees.write.exports.tables import BY_NAME, CLAIM_STATUS_EMPTY, table_schema

# What the package adds to a list column's description, and nothing else.
EDTF_HOW = tables.edtf("x", "").description.strip()
PACKAGE_NOTES = ("", "Empty: 0.", CLAIM_STATUS_EMPTY, EDTF_HOW)

# Each list column type as the OpenAPI schema gives it: a JSON type, or a component.
OPENAPI = {
    TEXT: {"type": "string"},
    INTEGER: {"type": "integer"},
    FUZZY: "#/components/schemas/FuzzyDate",
    REF: "#/components/schemas/Ref",
}

PAIRS = [("events", EVENT_ROW, "Event"), ("persons", PERSON_ROW, "PersonSummary")]


def shared(table_name, spec) -> list[str]:
    package = {c.name for c in BY_NAME[table_name].exported_columns}
    return [c.name for c in spec.columns if c.name in package and c.name != "id"]


def test_the_events_list_and_the_data_package_share_their_descriptive_columns():
    assert shared("events", EVENT_ROW) == [
        "kind",
        "summary",
        "description",
        "date",
        "end_date",
        "place",
        "facility",
        "from_facility",
        "operation",
        "unnamed_count",
        "unnamed_description",
        "custody_end_reason",
        "release_kind",
        "death_circumstances",
        "batch",
        "reengagement",
        "role",
        "strength_estimate",
        "strength_note",
        "claim_status",
    ]
    assert shared("persons", PERSON_ROW) == []


@pytest.mark.parametrize(("table_name", "spec", "component"), PAIRS)
def test_a_shared_column_has_the_row_specs_type_description_and_values_in_the_package(
    table_name, spec, component
):
    fields = {f["name"]: f for f in table_schema(BY_NAME[table_name])["fields"]}
    for name in shared(table_name, spec):
        row, column, schema = spec.column(name), BY_NAME[table_name].column(name), fields[name]
        assert column.type == tables.LISTED_TYPES[row.type], name
        described = schema["description"]
        assert described == row.description or described.startswith(row.description + " "), name
        assert described[len(row.description) :].strip() in PACKAGE_NOTES, name
        if row.type in (FUZZY, EDTF):
            assert described.endswith(EDTF_HOW), name
        allowed = schema.get("constraints", {}).get("enum", [])
        assert allowed == list(row.choices), name


def resolve(document, schema: dict) -> dict:
    ref = schema.get("$ref")
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def api_values(document, schema: dict) -> list[str]:
    """An enum property's codes, the blank one left aside (an optional enum may be blank)."""
    schema = resolve(document, schema)
    if "enum" in schema:
        return [v for v in schema["enum"] if v != ""]
    for key in ("allOf", "oneOf"):
        for option in schema.get(key, []):
            values = api_values(document, option)
            if values:
                return values
    return []


def api_refs(schema: dict) -> set[str]:
    found = {schema["$ref"]} if "$ref" in schema else set()
    for key in ("allOf", "oneOf"):
        for option in schema.get(key, []):
            found |= api_refs(option)
    return found


@pytest.mark.django_db
@pytest.mark.parametrize(("table_name", "spec", "component"), PAIRS)
def test_a_shared_column_has_the_same_type_and_values_in_the_api_schema(
    client, table_name, spec, component
):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    document = response.json()
    properties = document["components"]["schemas"][component]["properties"]
    for name in shared(table_name, spec):
        row, prop = spec.column(name), properties[name]
        if row.type == ENUM:
            assert api_values(document, prop) == list(row.choices), name
        elif isinstance(OPENAPI[row.type], str):
            assert OPENAPI[row.type] in api_refs(prop), name
        else:
            assert prop["type"] == OPENAPI[row.type]["type"], name
