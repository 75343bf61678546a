"""Idempotent scripts: records written by the script's own key, duplicates answered with the
record that exists, and staff lists of drafts."""

import threading

import pytest
from django.db import connection

from detainees.api.writes import WritableMixin
from detainees.domain.models import ExternalId, Organization, Person, Place, Source
from detainees.write.services import merge_persons
from tests import factories as f
from tests.conftest import member_of

BILAL = {
    "gender": "male",
    "names": [{"name": "Qari Bilal", "kind": "common", "is_primary": True}],
}
IMU = {"name": "Islamic Movement of Uzbekistan", "kind": "armed_group"}


def put(client, path, data, **headers):
    return client.put(path, data, content_type="application/json", **headers)


# --- By key --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_put_by_key_creates_then_replaces_the_same_record(as_researcher):
    path = "/api/v1/persons/by-key/lwj-desk/P-17/"
    created = put(as_researcher, path, BILAL)
    assert created.status_code == 201, created.json()
    person_id = created.json()["id"]
    assert created["Location"].endswith(f"/api/v1/persons/{person_id}/")
    assert created.json()["status"] == "draft"

    again = put(as_researcher, path, {**BILAL, "biography": "IMU commander."})
    assert again.status_code == 200, again.json()
    assert again.json()["id"] == person_id
    assert Person.objects.get().biography == "IMU commander."
    assert ExternalId.objects.filter(table="persons", system="lwj-desk", key="P-17").count() == 1

    read = as_researcher.get(path)
    assert read.status_code == 200
    assert read.json()["id"] == person_id
    assert read["ETag"] == again["ETag"]


@pytest.mark.django_db
def test_a_rerun_of_a_half_finished_script_converges(as_researcher):
    rows = {
        "org-1": IMU,
        "org-2": {"name": "Tehrik-i-Taliban Pakistan", "kind": "armed_group"},
        "org-3": {"name": "Haqqani network", "kind": "armed_group"},
    }
    # The first run crashed after its first record.
    assert (
        put(as_researcher, "/api/v1/organizations/by-key/s/org-1/", rows["org-1"]).status_code
        == 201
    )
    answers = [
        put(as_researcher, f"/api/v1/organizations/by-key/s/{key}/", row).status_code
        for key, row in rows.items()
    ]
    assert answers == [200, 201, 201]
    assert sorted(Organization.objects.values_list("name", flat=True)) == sorted(
        row["name"] for row in rows.values()
    )
    assert ExternalId.objects.filter(table="organizations", system="s").count() == 3


@pytest.mark.django_db
def test_a_key_taken_between_lookup_and_insert_replaces_rather_than_duplicates(
    as_researcher, monkeypatch
):
    path = "/api/v1/places/by-key/s/kabul/"
    afghanistan = str(f.CountryFactory().public_id)
    place = {"name": "Kabul", "kind": "district", "parent": afghanistan, "country": "AF"}
    first = put(as_researcher, path, place)
    assert first.status_code == 201, first.json()
    # The second script looked before the first one's key was there.
    real = WritableMixin.find_key
    calls = []

    def late(self, system, key):
        calls.append(key)
        return None if len(calls) == 1 else real(self, system, key)

    monkeypatch.setattr(WritableMixin, "find_key", late)
    second = put(as_researcher, path, {**place, "latitude": "34.5", "longitude": "69.2"})
    assert second.status_code == 200, second.json()
    assert second.json()["id"] == first.json()["id"]
    assert Place.objects.get(name="Kabul").latitude == 34.5
    assert Place.objects.filter(name="Kabul").count() == 1
    assert ExternalId.objects.filter(table="places").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_scripts_putting_one_new_key_at_once_make_one_record(researcher, token_client):
    path = "/api/v1/organizations/by-key/s/race/"
    barrier = threading.Barrier(2)
    codes = []

    def run():
        client = token_client(researcher)
        try:
            barrier.wait(timeout=10)
            codes.append(put(client, path, IMU).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(codes) == [200, 201]
    assert Organization.objects.count() == 1
    assert ExternalId.objects.filter(key="race").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "system, key, field",
    [
        ("-desk", "P-1", "system"),
        ("a" * 101, "P-1", "system"),
        ("desk%20x", "P-1", "system"),
        ("desk", "k" * 301, "key"),
        ("desk", "%20P-1", "key"),
        ("desk", "P%01", "key"),
    ],
)
def test_bad_systems_and_keys_are_400s_naming_them(as_researcher, system, key, field):
    response = put(as_researcher, f"/api/v1/places/by-key/{system}/{key}/", {"name": "X"})
    assert response.status_code == 400
    assert field in response.json()
    assert not Place.objects.exists() and not ExternalId.objects.exists()


@pytest.mark.django_db
def test_an_invalid_body_by_key_writes_neither_record_nor_key(as_researcher):
    response = put(as_researcher, "/api/v1/places/by-key/s/x/", {"kind": "district"})
    assert response.status_code == 400 and "name" in response.json()
    assert not Place.objects.exists() and not ExternalId.objects.exists()


@pytest.mark.django_db
def test_by_key_keeps_the_editorial_rules(as_researcher, as_editor):
    path = "/api/v1/organizations/by-key/s/imu/"
    assert put(as_editor, path, {**IMU, "status": "published"}).status_code == 201
    # A published record is the editors': a researcher's re-run may not change it.
    assert put(as_researcher, path, {**IMU, "description": "x"}).status_code == 403
    stale = put(as_editor, path, {**IMU, "description": "y"}, HTTP_IF_MATCH='"stale"')
    assert stale.status_code == 412
    assert Organization.objects.get().description == ""


@pytest.mark.django_db
def test_reading_by_key_needs_a_role_that_sees_the_type(client, as_researcher):
    path = "/api/v1/persons/by-key/s/p1/"
    assert put(as_researcher, path, BILAL).status_code == 201
    assert client.get(path).status_code == 401
    assert as_researcher.get("/api/v1/persons/by-key/s/other/").status_code == 404
    assert client.put(path, BILAL, content_type="application/json").status_code == 401


# --- Duplicates ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, first, second",
    [
        ("/api/v1/organizations/", IMU, IMU),
        (
            "/api/v1/sources/",
            {"kind": "news_report", "title": "A", "url": "https://example.org/a"},
            {"kind": "news_report", "title": "B", "url": "https://example.org/a"},
        ),
        (
            "/api/v1/places/",
            {"name": "Kabul", "kind": "country", "country": "AF"},
            {"name": "Kabul", "kind": "country", "country": "AF"},
        ),
    ],
)
def test_a_duplicate_create_is_a_409_naming_the_existing_record(as_researcher, path, first, second):
    created = as_researcher.post(path, first, content_type="application/json")
    assert created.status_code == 201, created.json()
    response = as_researcher.post(path, second, content_type="application/json")
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["existing"]["id"] == created.json()["id"]
    assert body["existing"]["url"].endswith(f"{path}{created.json()['id']}/")
    assert body["detail"]
    assert as_researcher.get(body["existing"]["url"]).status_code == 200


@pytest.mark.django_db
def test_a_duplicate_source_reference_by_key_is_a_409(as_researcher):
    publisher = f.OrganizationFactory()
    source = {
        "kind": "government_document",
        "title": "Decree",
        "publisher": str(publisher.public_id),
    }
    source["reference_number"] = "17/2021"
    first = put(as_researcher, "/api/v1/sources/by-key/s/a/", source)
    assert first.status_code == 201, first.json()
    second = put(as_researcher, "/api/v1/sources/by-key/s/b/", source)
    assert second.status_code == 409
    assert second.json()["existing"]["id"] == first.json()["id"]
    assert Source.objects.count() == 1
    assert not ExternalId.objects.filter(key="b").exists()  # undone with the refused record


# --- Drafts listed -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_researcher_lists_drafts_with_status(as_researcher, client):
    draft = put(as_researcher, "/api/v1/persons/by-key/s/p1/", BILAL).json()
    f.PersonFactory(name="Published Person", status="published")
    rows = as_researcher.get("/api/v1/persons/?publication_status=draft")
    assert rows.status_code == 200, rows.json()
    assert [r["id"] for r in rows.json()["results"]] == [draft["id"]]
    assert "no-cache" in rows["Cache-Control"] and "private" in rows["Cache-Control"]
    both = as_researcher.get("/api/v1/persons/?publication_status=draft,published")
    assert len(both.json()["results"]) == 2
    repeated = as_researcher.get(
        "/api/v1/persons/?publication_status=draft&publication_status=published"
    )
    assert len(repeated.json()["results"]) == 2
    # Without the parameter, the list is the public one.
    assert [r["name"] for r in as_researcher.get("/api/v1/persons/").json()["results"]] == [
        "Published Person"
    ]
    orgs = put(as_researcher, "/api/v1/organizations/by-key/s/o/", IMU).json()
    listed = as_researcher.get("/api/v1/organizations/?publication_status=draft").json()["results"]
    assert [r["id"] for r in listed] == [orgs["id"]]


@pytest.mark.django_db
def test_the_people_lists_status_filter_is_still_the_detention_status(as_researcher):
    put(as_researcher, "/api/v1/persons/by-key/s/p1/", BILAL)
    assert as_researcher.get("/api/v1/persons/?status=detained").json()["results"] == []


@pytest.mark.django_db
def test_anonymous_clients_get_no_drafts(as_researcher, client):
    put(as_researcher, "/api/v1/persons/by-key/s/p1/", BILAL)
    response = client.get("/api/v1/persons/?publication_status=draft")
    assert response.status_code == 401
    assert "publication_status" in response.json()["detail"]
    assert "Qari" not in response.content.decode()
    assert client.get("/api/v1/persons/").json()["results"] == []


@pytest.mark.django_db
def test_a_role_without_the_view_right_is_refused_status(token_client):
    user = member_of("Researcher", "someone")
    user.groups.clear()
    response = token_client(user).get("/api/v1/events/?publication_status=draft")
    assert response.status_code == 403
    assert "publication_status" in response.json()["detail"]


@pytest.mark.django_db
def test_an_unknown_status_is_a_400(as_researcher):
    response = as_researcher.get("/api/v1/places/?publication_status=secret")
    assert response.status_code == 400 and "publication_status" in response.json()


def queries_of(client, path) -> int:
    """How many queries answering `path` runs (counted as they run: a request resets the log)."""
    count = []
    with connection.execute_wrapper(lambda execute, *args: count.append(1) or execute(*args)):
        response = client.get(path)
    assert response.status_code == 200, response.json()
    return len(count)


@pytest.mark.django_db
def test_a_draft_list_runs_a_constant_number_of_queries(as_researcher):
    def add(numbers):
        for n in numbers:
            names = [{"name": f"Person {n}", "kind": "common", "is_primary": True}]
            put(as_researcher, f"/api/v1/persons/by-key/s/p{n}/", {**BILAL, "names": names})

    path = "/api/v1/persons/?publication_status=draft"
    add(range(2))
    few = queries_of(as_researcher, path)
    add(range(2, 20))
    assert queries_of(as_researcher, path) == few
    assert len(as_researcher.get(path).json()["results"]) == 20


@pytest.mark.django_db
def test_a_key_follows_a_merged_person_and_a_deleted_records_key_is_gone(as_researcher, editor):
    path = "/api/v1/persons/by-key/s/p1/"
    removed = Person.objects.get(public_id=put(as_researcher, path, BILAL).json()["id"])
    survivor = f.PersonFactory(name="Qari Bilal Survivor")
    merge_persons(survivor=survivor, removed=removed, user=editor, reason="same man")
    read = as_researcher.get(path)
    assert read.status_code == 200 and read.json()["id"] == str(survivor.public_id)
    assert as_researcher.get(path, HTTP_ACCEPT="text/csv")["Content-Type"].startswith("text/csv")

    place = put(as_researcher, "/api/v1/organizations/by-key/s/o/", IMU).json()
    Organization.objects.filter(public_id=place["id"]).delete()
    assert as_researcher.get("/api/v1/organizations/by-key/s/o/").status_code == 410
    assert put(as_researcher, "/api/v1/organizations/by-key/s/o/", IMU).status_code == 410
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_an_edit_that_would_twin_another_record_is_a_409(as_researcher):
    first = put(as_researcher, "/api/v1/organizations/by-key/s/a/", IMU).json()
    other = {"name": "Haqqani network", "kind": "armed_group"}
    second = put(as_researcher, "/api/v1/organizations/by-key/s/b/", other)
    assert second.status_code == 201
    response = put(as_researcher, "/api/v1/organizations/by-key/s/b/", IMU)
    assert response.status_code == 409
    assert response.json()["existing"]["id"] == first["id"]
    assert Organization.objects.get(public_id=second.json()["id"]).name == "Haqqani network"


def test_an_if_match_on_a_key_that_names_nothing_fails_and_a_malformed_one_is_a_400(as_editor):
    path = "/api/v1/sources/by-key/desk/S-404/"
    body = {"kind": "other", "title": "Conditional"}
    malformed = put(as_editor, path, body, HTTP_IF_MATCH=",[Qt(F>J3P")
    assert malformed.status_code == 400 and "If-Match" in malformed.json()
    stale = put(as_editor, path, body, HTTP_IF_MATCH='"abc"')
    assert stale.status_code == 412
    assert not Source.objects.filter(title="Conditional").exists()
    assert put(as_editor, path, body).status_code == 201


def test_a_body_that_is_not_json_is_a_400_before_a_condition_on_a_missing_key(as_editor):
    response = as_editor.put(
        "/api/v1/sources/by-key/desk/S-404/",
        "i",
        content_type="application/json",
        HTTP_IF_MATCH='"abc"',
    )

    assert response.status_code == 400
    assert not ExternalId.objects.filter(key="S-404").exists()
