"""The API keeps one contract: one error shape, parameters that do what they say, no lost writes,
and a schema that says all of it (reads anonymous, writes by token, If-Match, ETag)."""

import pytest
from django.core.cache import cache
from django.test import override_settings

from detainees.domain.models import Event, Person, Place, PublicationStatus
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

SCHEMA = "application/vnd.oai.openapi+json"
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def document(client):
    return client.get("/api/schema/", HTTP_ACCEPT=SCHEMA).json()


# --- One error shape ----------------------------------------------------------------------------


def test_json_that_does_not_parse_is_a_400_in_the_validation_shape(as_editor):
    response = as_editor.post("/api/v1/places/", "{bad", content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["non_field_errors"]
    assert body["non_field_errors"][0].startswith("JSON parse error")
    assert not Place.objects.exists()


def test_an_unknown_format_is_a_400_naming_format(client):
    for url in ("/api/v1/persons/", f"/api/v1/persons/{MISSING}/", "/api/v1/events/facets/"):
        response = client.get(url, {"format": "xml"})
        assert response.status_code == 400, url
        assert response["Content-Type"] == "application/json"
        assert list(response.json()) == ["format"], url


def test_a_missing_record_asked_for_as_csv_is_a_json_404(client):
    for path in (f"/api/v1/persons/{MISSING}/", "/api/v1/persons/not-an-id.x/"):
        response = client.get(path, {"format": "csv"})
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json"
        assert set(response.json()) == {"detail"}


def test_an_error_asked_for_as_csv_is_json(client):
    response = client.get("/api/v1/persons/", {"format": "csv", "page_size": "abc"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["page_size"]


@override_settings(API_ANON_RATE="2/minute")
def test_throttling_answers_429_with_detail_and_retry_after(client):
    cache.clear()
    statuses = [client.get("/api/v1/places/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.get("/api/v1/places/")
    assert set(response.json()) == {"detail"}
    assert int(response["Retry-After"]) > 0


# --- Parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name,api_name", [("q", "search"), ("sort", "ordering")])
def test_the_sites_parameter_names_are_refused_by_the_api_naming_its_own(client, name, api_name):
    for url in ("/api/v1/persons/", "/api/v1/persons/facets/"):
        response = client.get(url, {name: "name"})
        assert response.status_code == 400, url
        assert api_name in response.json()[name][0]


def test_search_and_ordering_do_what_they_say(client):
    for name in ("Abdul Rahman", "Zabihullah", "Mohammad Nabi"):
        PersonFactory(name=name, status=PublicationStatus.PUBLISHED)
    found = client.get("/api/v1/persons/", {"search": "Zabihulah"}).json()["results"]
    assert [p["name"] for p in found] == ["Zabihullah"]
    ordered = client.get("/api/v1/persons/", {"ordering": "-name"}).json()["results"]
    assert [p["name"] for p in ordered] == ["Zabihullah", "Mohammad Nabi", "Abdul Rahman"]


def test_a_documented_parameter_sent_empty_is_a_400_naming_it(client):
    for params in ({"kind": ""}, {"ordering": ""}, {"updated_since": ""}):
        response = client.get("/api/v1/places/", params)
        assert response.status_code == 400, params
        assert list(response.json()) == list(params)


def test_unknown_parameters_are_ignored(client):
    assert client.get("/api/v1/places/", {"utm_source": "x"}).status_code == 200


@pytest.mark.parametrize("size", ["abc", "0", "9999", "-1"])
def test_the_html_lists_refuse_a_bad_size_naming_it(client, size):
    for url in ("/people/", "/events/"):
        response = client.get(url, {"size": size})
        assert response.status_code == 400, url
        assert b"size" in response.content


def test_the_html_list_takes_a_good_size(client):
    for name in ("A", "B", "C"):
        PersonFactory(name=name, status=PublicationStatus.PUBLISHED)
    response = client.get("/people/", {"size": "2", "who": "all"})
    assert response.status_code == 200
    assert len(response.context["page"].rows) == 2


# --- Writes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_write_without_the_trailing_slash_is_a_json_404_and_writes_nothing(as_editor, method):
    place = {"name": "Kabul", "kind": "province", "country": "AF"}
    url = "/api/v1/places" if method == "post" else f"/api/v1/places/{MISSING}"
    response = getattr(as_editor, method)(url, place, content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"detail": f"Not found. The URL ends with a slash: {url}/"}
    assert not Place.objects.exists()


def test_a_read_without_the_trailing_slash_is_still_redirected(client):
    response = client.get("/api/v1/places", {"kind": "province"})
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/places/?kind=province"


def test_an_empty_code_is_refused_naming_the_field_and_null_means_none(as_editor):
    event = {"kind": "release", "summary": "Released", "release_kind": ""}
    response = as_editor.post("/api/v1/events/", event, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == ["release_kind"]
    assert not Event.objects.exists()

    place = {"name": "Somewhere", "kind": "province", "country": ""}
    response = as_editor.post("/api/v1/places/", place, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == ["country"]

    event["release_kind"] = None
    response = as_editor.post("/api/v1/events/", event, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["release_kind"] is None
    assert Event.objects.get().release_kind == ""


# --- The schema says so -------------------------------------------------------------------------


def test_reads_need_no_credentials_and_writes_need_a_token(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "get":
                assert {} in operation["security"], path
            else:
                assert operation["security"] == [{"tokenAuth": []}], (method, path)


def test_conditional_requests_are_documented(document):
    detail = document["paths"]["/api/v1/persons/{id}/"]
    read = detail["get"]
    assert "ETag" in read["responses"]["200"]["headers"]
    assert "304" in read["responses"]
    assert "If-None-Match" in [p["name"] for p in read["parameters"] if p["in"] == "header"]
    for method in ("put", "patch", "delete"):
        responses = detail[method]["responses"]
        assert {"412", "428"} <= set(responses), method
    assert "Location" in read["responses"]["301"]["headers"]  # a merged person's old id
    created = document["paths"]["/api/v1/persons/"]["post"]["responses"]["201"]
    assert {"ETag", "Location"} <= set(created["headers"])
    assert created["links"]["Edit"]["parameters"]["header.If-Match"] == "$response.header.ETag"


def test_every_write_documents_its_error_statuses(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "get":
                continue
            expected = {"400", "401", "403", "406", "429", "503"}
            expected |= {"413", "415"} if method != "delete" else {"404", "409"}
            assert expected <= set(operation["responses"]), (method, path)


def test_write_shapes_refuse_unknown_fields_in_the_schema_too(document, as_editor):
    assert document["components"]["schemas"]["PersonWriteRequest"]["additionalProperties"] is False
    response = as_editor.post(
        "/api/v1/persons/", {"nickname": "x"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nickname" in response.json()
    assert not Person.objects.exists()


def test_if_match_is_read_tag_by_tag_even_when_a_tag_holds_a_comma(as_editor):
    place = {"name": "Afghanistan", "kind": "country", "country": "AF"}
    created = as_editor.post("/api/v1/places/", place, content_type="application/json")
    assert created.status_code == 201, created.json()
    url, etag = f"/api/v1/places/{created.json()['id']}/", created["ETag"]
    for header, status in [
        ("abc", 428),  # no quoted tag: as good as none
        ('"a,b", W/"c"', 412),
        (f'"x,y" , {etag}', 200),
    ]:
        response = as_editor.patch(
            url, {"name": "Afghanistan"}, content_type="application/json", HTTP_IF_MATCH=header
        )
        assert response.status_code == status, header
