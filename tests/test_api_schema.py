"""The OpenAPI schema: complete, valid, matched by every response; its docs page needs no CDN."""

import base64
import json
import re

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.urls import URLPattern
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from detainees.api import urls as api_urls
from detainees.api.views import PersonAPIFilterSet
from detainees.domain.models import Person
from tracker.wsgi import application

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def demo(demo, wsgi_keeps_test_transaction):
    return demo


# Schemathesis over every operation, with every check, is in tests/test_api_fuzz.py.
def test_every_demo_record_matches_its_schema(demo):
    """Random ids only ever find nothing: the demo's records show what the details really send."""
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    checked = 0
    for path in schema.raw_schema["paths"]:
        if "{id}" not in path:
            continue
        operation = schema[path]["GET"]
        listing = schema[path.replace("{id}/", "")]["GET"].Case(query={"page_size": 500})
        for row in listing.call_and_validate(checks=CHECKS).json()["results"]:
            for fmt in ("json", "csv"):
                case = operation.Case(path_parameters={"id": row["id"]}, query={"format": fmt})
                response = case.call_and_validate(checks=CHECKS)
                assert response.status_code == 200, (path, row["id"])
                checked += 1
    assert checked > 50


@pytest.fixture
def document(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


# The bulk export streams JSON Lines, which schemathesis cannot check; its view leaves it out of
# the schema (extend_schema(exclude=True)). Anything else the API routes must be in the schema.
LEFT_OUT = {("get", "/api/v1/export.jsonl")}
# URLs that only take a write (the bulk write), not a GET.
WRITE_ONLY = {"/api/v1/bulk/"}


def api_operations() -> set[tuple[str, str]]:
    """GET on each of the API's URLs (the router's and the others), parameters as {name}."""
    operations = set()
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern).lstrip("^").rstrip("$")
        if not route or "(?P<rest>" in route:  # the router's root, the JSON 404 for the rest
            continue
        route = re.sub(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>", r"{\1\2}", route)
        path = f"/api/v1/{route.replace(chr(92), '')}"
        operations.add(("post" if path in WRITE_ONLY else "get", path))
    return operations


def test_the_schema_is_openapi_3(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["version"] == "1.0.0"
    assert "/api/schema/" not in document["paths"]


WRITABLE = (
    "persons",
    "events",
    "organizations",
    "places",
    "facilities",
    "batches",
    "sources",
    "affiliations",
    "relationships",
)
WRITES = (
    {("post", f"/api/v1/{name}/") for name in WRITABLE}
    | {
        (method, f"/api/v1/{name}/{{id}}/")
        for name in WRITABLE
        for method in ("put", "patch", "delete")
    }
    | {("post", path) for path in WRITE_ONLY}
)
# Writes by the script's own key: create or replace, If-Match optional.
BY_KEY = {("put", f"/api/v1/{name}/by-key/{{system}}/{{key}}/") for name in WRITABLE}


def test_the_schema_covers_every_operation_of_the_api(document):
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    assert operations == (api_operations() - LEFT_OUT) | WRITES | BY_KEY


def test_writes_by_key_document_creating_replacing_and_duplicates(document):
    for method, path in BY_KEY:
        operation = document["paths"][path][method]
        assert {"200", "201", "400", "401", "403", "409", "410", "412"} <= set(
            operation["responses"]
        )
        assert "428" not in operation["responses"]
        headers = [p for p in operation["parameters"] if p["in"] == "header"]
        assert [(p["name"], p["required"]) for p in headers] == [("If-Match", False)]
        key = next(p for p in operation["parameters"] if p["name"] == "key")
        assert key["schema"]["pattern"] and key["description"]
        read = document["paths"][path]["get"]
        assert {"200", "401", "403", "404", "410"} <= set(read["responses"])
        assert "ETag" in read["responses"]["200"]["headers"]
    for name in WRITABLE:
        listed = document["paths"][f"/api/v1/{name}/"]
        # A relationship has no publication state to list by.
        lists_drafts = name != "relationships"
        assert ("publication_status" in [p["name"] for p in listed["get"]["parameters"]]) is (
            lists_drafts
        )
        duplicate = listed["post"]["responses"]["409"]["content"]["application/json"]["schema"]
        assert duplicate == {"$ref": "#/components/schemas/Duplicate"}


def test_every_write_documents_its_errors_and_needs_if_match_to_edit(document):
    for method, path in WRITES:
        operation = document["paths"][path][method]
        expected = {"400", "401", "403"} if method == "post" else {"401", "403", "412", "428"}
        assert expected <= set(operation["responses"]), (method, path)
        if method != "post":
            headers = [p for p in operation["parameters"] if p["in"] == "header"]
            assert [(p["name"], p["required"]) for p in headers] == [("If-Match", True)]
    schemes = document["components"]["securitySchemes"]
    assert schemes["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }


def test_every_person_filter_is_a_described_parameter(document):
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/persons/"]["get"]["parameters"]}
    filters = PersonAPIFilterSet(queryset=Person.objects.none()).filters
    expected = {*filters, "ordering", "cursor", "page_size", "format"}
    assert expected <= set(parameters)
    for name in expected:
        assert parameters[name].get("description"), name
    assert parameters["nationality"]["schema"]["type"] == "array"
    assert "name" in parameters["ordering"]["schema"]["enum"]
    # One name per meaning: the site's `q` and `sort` are `search` and `ordering` here.
    assert not {"q", "sort"} & set(parameters)


def test_every_parameter_of_every_operation_is_described(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation["parameters"]:
                assert parameter.get("description"), (method, path, parameter["name"])


def test_errors_and_csv_are_documented(document):
    for path, item in document["paths"].items():
        if path in WRITE_ONLY:
            continue
        responses = item["get"]["responses"]
        if path.endswith("/facets/"):  # counts, in JSON only
            assert list(responses["200"]["content"]) == ["application/json"]
        elif path.endswith("/places.geojson"):  # the map's points, GeoJSON only
            assert list(responses["200"]["content"]) == ["application/geo+json"]
        else:
            assert responses["200"]["content"]["text/csv"]["schema"]["type"] == "string"
        errors = {"400", "401", "406", "429", "503"}
        if "{id}" in path:
            errors |= {"404", "410"}
        assert errors <= set(responses), path
        for status in errors:  # JSON whatever format was asked for
            assert list(responses[status]["content"]) == ["application/json"], (path, status)


def test_the_docs_page_loads_its_assets_locally(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"(https?:)?//[\w.-]+\.\w+", html), "nothing may come from another host"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(url.endswith("swagger-ui-bundle.js") for url in assets)
    # Swagger UI's start-up script is served by the view itself (no inline script, for the CSP).
    assert "/api/docs/?script=" in assets
    for url in assets:
        if url == "/api/docs/?script=":
            continue
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), f"{url} is not a local static file"
    script = client.get("/api/docs/?script=").content.decode()
    assert not re.search(r"(https?:)?//[\w.-]+\.\w+", script), "nothing from another host"
    assert '"validatorUrl": null' in script  # or Swagger UI sends the schema to swagger.io
    assert '"/api/schema/"' in script


def test_the_schema_is_served_as_json_and_yaml(client):
    assert client.get("/api/schema/?format=json").json()["openapi"].startswith("3.")
    assert client.get("/api/schema/").content.startswith(b"openapi: 3.")


@pytest.mark.parametrize(
    "moment,status",
    [
        ("2020-01-01T00:00:00+20:22", 200),  # legal in ISO 8601, beyond what PostgreSQL accepts
        ("0001-01-01T00:00:00+01:00", 400),  # before year 1 once in UTC
    ],
)
def test_updated_since_takes_any_iso_offset_without_a_server_error(client, db, moment, status):
    response = client.get("/api/v1/sources/", {"updated_since": moment})
    assert response.status_code == status
    if status == 400:
        assert "updated_since" in response.json()


@pytest.mark.parametrize("text", ["50%", "%d", "%(reason)s", "spring 2011 %"])
def test_a_percent_sign_in_a_date_bound_is_a_400_naming_it(client, db, text):
    response = client.get("/api/v1/persons/", {"released_to": text})
    assert response.status_code == 400
    assert "released_to" in response.json()


def test_a_nul_in_a_facet_value_is_a_400_naming_the_facet(client, db):
    response = client.get("/api/v1/persons/", {"claim_status": ["confirmed", "con\x00firmed"]})
    assert response.status_code == 400
    assert "claim_status" in response.json()


def handmade_cursor(value, pk) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, pk]).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "ordering,value,pk",
    [
        ("name", "A\x00", 1),
        ("name", "A", 2**70),
        ("updated", {"t": "2020-01-01T00:00:00+20:00"}, 1),
        ("updated", {"t": "0001-01-01T00:00:00+01:00"}, 1),
        ("captured", {"d": "not a date"}, 1),
    ],
)
def test_a_handmade_cursor_is_a_400_or_a_page_never_a_server_error(client, db, ordering, value, pk):
    cursor = handmade_cursor(value, pk)
    response = client.get("/api/v1/persons/", {"ordering": ordering, "cursor": cursor})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "cursor" in response.json()
