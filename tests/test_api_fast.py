"""The API's fast paths give what the general ones give: the same JSON bytes from orjson as from
DRF's renderer, the same event rows written directly as through the serializer's fields, the
same citations read as tuples as through the models, for generated data (the demo case:
tests/test_api_fast_demo.py)."""

import datetime
import decimal
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from detainees.api import renderers
from detainees.api.renderers import JSONRenderer, flatten, row_cells
from detainees.api.serializers import EventSerializer, citation_rows
from detainees.api.views import event_queryset
from detainees.domain.models import Event, Person
from detainees.read.citing import (
    deciding_roles,
    deciding_roles_reference,
    event_citation_rows,
    people_row_citations,
    people_row_citations_reference,
)
from detainees.read.csvcells import csv_cell
from detainees.read.person import public_citations
from detainees.synthetic import generate_dataset

pytestmark = pytest.mark.django_db

TRICKY = {
    "text": 'line\u2028para\u2029 \x00\x1f\x7f \b\f\n\r\t "quoted" \\ / é 😀 <b>&amp;</b>',
    "numbers": [0, -1, 2**63 - 1, -(2**63), 0.1, -58.4, 1e16, 1e22, 0.0001, 2.0, -0.0],
    "small": 0.00001,
    "when": datetime.datetime(2011, 4, 1, 12, 30, 5, 123456, tzinfo=datetime.UTC),
    "naive": datetime.datetime(2011, 4, 1, 12, 30, 5),
    "day": datetime.date(2011, 4, 1),
    "time": datetime.time(12, 30, 5, 120000),
    "span": datetime.timedelta(days=2, seconds=5),
    "amount": decimal.Decimal("-58.40000"),
    "id": uuid.UUID("5a1ec6a4-e132-8860-bf8d-e0e1b2ca2bd9"),
    "lazy": gettext_lazy("Not found."),
    "empty": [None, True, False, "", [], {}],
}


def drf(data, media_type="application/json") -> bytes:
    return DRFJSONRenderer().render(data, media_type, {})


@pytest.mark.parametrize(
    "data",
    [
        TRICKY,
        {k: v for k, v in TRICKY.items() if k != "small"},
        [TRICKY["text"]] * 3,
        {1: "a non-string key"},
        {"big": 2**70},
        {"nested": {"deeper": [{"when": TRICKY["when"], "id": TRICKY["id"]}]}},
        "a bare string",
        None,
    ],
)
def test_the_orjson_renderer_writes_drfs_bytes(data):
    assert JSONRenderer().render(data, "application/json", {}) == drf(data)


def test_the_orjson_renderer_indents_as_drf_does():
    media = "application/json; indent=4"
    assert JSONRenderer().render(TRICKY, media, {}) == drf(TRICKY, media)


def test_a_small_number_is_left_to_drf():
    # orjson writes 0.00001 where Python's json writes 1e-05: DRF's renderer does that one.
    assert JSONRenderer().render({"x": 0.00001}, "application/json", {}) == b'{"x":1e-05}'
    assert JSONRenderer().render({"x": 0.0001}, "application/json", {}) == b'{"x":0.0001}'


def generic_event(event) -> dict:
    """The event through EventSerializer's fields: the reference the direct row is held to."""
    return serializers.ModelSerializer.to_representation(EventSerializer(), event)


def check_events_and_people():
    events = list(event_queryset(Event.objects.all()).order_by("pk"))
    assert events
    serializer = EventSerializer()
    for event in events:
        fast = serializer.to_representation(event)
        reference = generic_event(event)
        assert fast == reference, event.pk
        assert list(fast) == list(reference)  # column order
    # A page's parts read by with_event_parts, not prefetched: the same rows.
    plain = Event.objects.select_related("place", "facility", "from_facility", "batch")
    rows = EventSerializer(plain.order_by("pk"), many=True).data
    assert [dict(row) for row in rows] == [generic_event(event) for event in events]
    # The citations read as tuples are the models' public citations, in order.
    found = event_citation_rows([event.pk for event in events])
    for event in events:
        assert found.get(event.pk, []) == citation_rows(public_citations(event)), event.pk
    # A people row's citations read as tuples are those read through the models.
    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    assert people_row_citations(ids) == people_row_citations_reference(ids)
    assert people_row_citations([]) == {}
    # The deciding events read from the stored list (the unpublished computed live) are those
    # the timeline gives.
    roles = deciding_roles(ids)
    assert roles
    assert roles == deciding_roles_reference(ids)
    published = list(Person.objects.public().order_by("pk").values_list("pk", flat=True))
    assert deciding_roles(published) == deciding_roles_reference(published)


@pytest.fixture(scope="module")
def synthetic(module_data):
    module_data(generate_dataset, persons=120, events=1200, seed=11)


def test_direct_rows_and_tuple_citations_equal_the_references_on_generated_data(synthetic):
    values = Event.objects.values_list
    # The data has what the rows must get right: drafts, unnamed counts, empty dates, links.
    assert values("status", flat=True).distinct().count() > 1
    assert Event.objects.filter(date_earliest__isnull=True).exists()
    assert Event.objects.filter(place__isnull=False).exists()
    assert Event.objects.exclude(people=None).exists()
    check_events_and_people()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events/?page_size=500",
        "/api/v1/events/?kind=custody&page_size=100",
        "/api/v1/persons/?page_size=500",
        "/api/v1/persons/?page_size=20&ordering=-updated",
    ],
)
def test_api_lists_answer_drfs_bytes(client, synthetic, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.content == drf(response.data)
    assert response.data["results"]


def test_api_details_answer_drfs_bytes(client, synthetic):
    for model, route in ((Person, "persons"), (Event, "events")):
        for public_id in model.objects.published().values_list("public_id", flat=True)[:10]:
            response = client.get(f"/api/v1/{route}/{public_id}/")
            assert response.status_code == 200
            assert response.content == drf(response.data)


def test_an_event_page_costs_the_same_queries_whatever_its_size(client, synthetic):
    counts = []
    for size in (5, 200):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/api/v1/events/?page_size={size}").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def reference_cells(row: dict, plan) -> list:
    """A row's cells as the CSV renderer wrote them before `row_cells`: the general path."""
    return [flatten(row.get(c)) if number else csv_cell(flatten(row.get(c))) for c, number in plan]


def test_csv_cells_are_the_general_paths():
    values = [
        None,
        "",
        "plain",
        "=1+1",
        "'=x",
        "''+x",
        "'a",
        "-5",
        "+1",
        "@me",
        "\tx",
        "\rx",
        "'",
        5,
        -5,
        0,
        2.5,
        "-58.40000",
        mark_safe("=unsafe"),
        mark_safe("safe"),
        ["a", "=b"],
        [{"name": "=ISAF", "role": "capturing_force"}],
        [],
        {"edtf": "2011-04", "earliest": "2011-04-01"},
        {"id": "x", "name": ""},
        {},
    ]
    row = {f"c{i}": value for i, value in enumerate(values)}
    for number in (False, True):
        plan = [(column, number) for column in row]
        assert row_cells(row, plan) == reference_cells(row, plan)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events/?format=csv&page_size=500",
        "/api/v1/persons/?format=csv&page_size=500",
        "/api/v1/facilities/?format=csv&page_size=500",
        "/api/v1/places/?format=csv&page_size=500",
        "/api/v1/organizations/?format=csv&page_size=500",
        "/api/v1/sources/?format=csv&page_size=500",
    ],
)
def test_api_csvs_are_the_general_paths_bytes(client, synthetic, monkeypatch, path):
    fast = client.get(path)
    assert fast.status_code == 200
    monkeypatch.setattr(renderers, "row_cells", reference_cells)
    reference = client.get(path)
    assert fast.content == reference.content
    assert fast.content.count(b"\n") > 2
