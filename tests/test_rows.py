"""One row spec per list (detainees.read.rows): the API's rows, the streamed CSVs and the data
package's tables agree on every shared column, and every enum column allows exactly the model
field's choices."""

import csv
import io

import pytest

from detainees.api.serializers import EventSerializer, PersonListSerializer
from detainees.domain.models import Event, Person, PersonListing
from detainees.read.citing import source_cells, source_columns
from detainees.read.listing import CurrentStatus
from detainees.read.rows import (
    DATE,
    ENUM,
    EVENT_ROW,
    FUZZY,
    LIST,
    PERSON_ROW,
    REF,
    ROWS,
    field_type,
)
from detainees.write.exports.package import collect, render
from detainees.write.exports.tables import TABLES, field_schema

pytestmark = pytest.mark.django_db


def model_choices(model, name) -> list[str]:
    return [value for value, _ in model._meta.get_field(name).choices]


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def api_json(client, path: str) -> list[dict]:
    response = client.get(path, {"page_size": 500})
    assert response.status_code == 200
    assert not response.json()["next"]
    return response.json()["results"]


def streamed(client, path: str) -> list[dict[str, str]]:
    response = client.get(path)
    assert response.status_code == 200
    return csv_rows(b"".join(response.streaming_content).decode())


def item(value) -> str:
    """A list item as its CSV text: a name, and for a person or organization, its part."""
    if not isinstance(value, dict):
        return value
    return f"{value['name']} ({value['role']})" if value.get("role") else value["name"]


def cell(column, value) -> str:
    """A JSON value of the list row as its CSV cell."""
    if value is None:
        return ""
    if column.type == LIST:
        return "; ".join(item(v) for v in value)
    if column.type == FUZZY:
        return value["edtf"]
    if column.type == REF:
        return value["name"]
    return str(value)


def sources(row: dict) -> list[str]:
    """A row's source columns as CSV text: from its JSON citations, or the CSV's own cells."""
    if "citations" in row:
        cells = source_cells(row["citations"], row.get("claim_status") or "")
        return [str(c) for c in cells]
    return [row[name] for name in source_columns()]


def test_every_enum_column_allows_exactly_its_model_fields_choices():
    checked = 0
    for spec in ROWS:
        for column in spec.columns:
            if column.type != ENUM:
                continue
            if column.enum is CurrentStatus:
                assert column.choices == tuple(CurrentStatus.values)
            else:
                assert list(column.choices) == model_choices(column.model, column.source)
            checked += 1
    for table in TABLES:
        for column in table.columns:
            if column.type != ENUM:
                continue
            expected = model_choices(table.model, column.field)
            assert list(column.choices) == expected, (table.name, column.name)
            assert field_schema(column)["constraints"]["enum"] == expected
            checked += 1
    assert checked >= 20


def test_the_api_serializers_have_the_row_specs_columns_in_order():
    assert tuple(PersonListSerializer().fields) == PERSON_ROW.names
    assert tuple(EventSerializer().fields) == EVENT_ROW.names


def test_a_person_row_reads_the_same_in_the_api_the_csv_and_the_stored_list(client, demo):
    api = {row["id"]: row for row in api_json(client, "/api/v1/persons/")}
    # The site's CSV lists detainees by default; the API everyone, as `who=all` does.
    stream = {row["id"]: row for row in streamed(client, "/people.csv?who=all")}
    assert api and api.keys() == stream.keys()
    stored = {
        str(listing.person.public_id): listing
        for listing in PersonListing.objects.select_related("person")
    }
    for public_id, row in api.items():
        assert list(row) == list(PERSON_ROW.names)
        for column in PERSON_ROW.columns:
            if column.name == "citations":
                assert sources(row) == sources(stream[public_id]), public_id
                continue
            assert cell(column, row[column.name]) == stream[public_id][column.name], column.name
            if column.is_scalar and hasattr(stored[public_id], column.source):
                value = getattr(stored[public_id], column.source)
                value = value.isoformat() if column.type == DATE and value else value
                assert row[column.name] == value, column.name


def test_an_event_row_reads_the_same_in_the_api_the_csv_and_the_data_package(client, demo):
    api = {row["id"]: row for row in api_json(client, "/api/v1/events/")}
    stream = {row["id"]: row for row in streamed(client, "/events.csv")}
    package = {row["id"]: row for row in csv_rows(render(collect())["events.csv"].decode())}
    assert api and api.keys() == stream.keys() == package.keys()
    shared = [c for c in EVENT_ROW.columns if c.name in package[next(iter(package))]]
    assert len(shared) >= 15
    for public_id, row in api.items():
        assert list(row) == list(EVENT_ROW.names)
        for column in EVENT_ROW.columns:
            if column.name == "citations":
                assert sources(row) == sources(stream[public_id]), public_id
                continue
            assert cell(column, row[column.name]) == stream[public_id][column.name], column.name
        for column in shared:
            value = row[column.name]
            # The package refers to a record by its id, where the list names it.
            expected = (value or {}).get("id", "") if column.type == REF else cell(column, value)
            assert expected == package[public_id][column.name], column.name


def test_a_model_fields_column_takes_its_type_from_the_field():
    types = {
        (model.__name__, name): field_type(model._meta.get_field(name))
        for model, name in [
            (Person, "public_id"),
            (Person, "slug"),
            (Person, "updated"),
            (Event, "kind"),
            (Event, "date"),
            (Event, "place"),
            (Event, "unnamed_count"),
        ]
    }
    assert types == {
        ("Person", "public_id"): "uuid",
        ("Person", "slug"): "text",
        ("Person", "updated"): "datetime",
        ("Event", "kind"): ENUM,
        ("Event", "date"): FUZZY,
        ("Event", "place"): REF,
        ("Event", "unnamed_count"): "integer",
    }
    for spec in ROWS:
        for column in spec.columns:
            if column.model is not None:
                assert column.type == field_type(column.model._meta.get_field(column.source))
