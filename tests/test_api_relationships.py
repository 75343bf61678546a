"""Ties between two people through the API: stored once, shown from both sides, content of both
people's records (a published person's ties are the editors'), with the admin's rules: nobody
related to themselves, no tie twice, nor again from the other side."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import ExternalId, Person, PublicationStatus, Relationship
from tests import factories as f
from tests.test_api_round_trip import history_rows
from tests.test_api_writes import etag_of, send

pytestmark = pytest.mark.django_db
DRAFT = PublicationStatus.DRAFT
PUBLISHED = PublicationStatus.PUBLISHED
PATH = "/api/v1/relationships/"
SECRET = "The family asked us not to name the mother yet."


def path_of(data_or_record) -> str:
    public_id = getattr(data_or_record, "public_id", None) or data_or_record["id"]
    return f"{PATH}{public_id}/"


def person(status=DRAFT, gender=Person.Gender.UNKNOWN, name=None):
    return f.PersonFactory(status=status, gender=gender, name=name)


def body_for(first, second, **values) -> dict:
    return {
        "person": str(first.public_id),
        "other": str(second.public_id),
        "kind": "parent",
        "start": "2011",
        "note": "born in captivity at Bagram",
        "internal_notes": SECRET,
        **values,
    }


@pytest.fixture
def family():
    """A mother and her son, both published, and a published source."""
    return {
        "mother": person(PUBLISHED, Person.Gender.FEMALE, "Aafia"),
        "son": person(PUBLISHED, Person.Gender.MALE, "Ahmad"),
        "source": f.SourceFactory(status=PUBLISHED, title="Court filing"),
    }


# --- Writing ------------------------------------------------------------------------------------


def test_a_researcher_relates_two_draft_people(as_researcher, client):
    mother, son = person(), person()
    response = send(as_researcher, "post", PATH, body_for(mother, son), status=201)
    data = response.json()
    tie = Relationship.objects.get(public_id=data["id"])
    assert (tie.person, tie.other, tie.kind, tie.start) == (mother, son, "parent", "2011")
    assert data["internal_notes"] == SECRET
    assert "status" not in data
    assert response["ETag"] == etag_of(as_researcher, path_of(data))
    # Between draft people: nobody else sees it.
    assert client.get(path_of(data)).status_code == 404
    assert client.get(PATH).json()["results"] == []


def test_a_published_person_s_ties_are_the_editors(as_researcher, as_editor, family):
    body = body_for(family["mother"], family["son"])
    refused = send(as_researcher, "post", PATH, body, status=403)
    assert "published" in refused.json()["detail"]
    data = send(as_editor, "post", PATH, body, status=201).json()

    # Nor may a researcher move a draft person's tie onto a published person.
    draft_tie = send(as_researcher, "post", PATH, body_for(person(), person()), status=201).json()
    etag = etag_of(as_researcher, path_of(draft_tie))
    moved = {"other": str(family["son"].public_id)}
    assert send(as_researcher, "patch", path_of(draft_tie), moved, etag=etag).status_code == 403
    assert Relationship.objects.get(public_id=draft_tie["id"]).other != family["son"]
    # Nor change or delete the published people's tie.
    etag = etag_of(as_researcher, path_of(data))
    assert send(as_researcher, "patch", path_of(data), {"note": "x"}, etag=etag).status_code == 403
    assert send(as_researcher, "delete", path_of(data), etag=etag).status_code == 403
    send(as_editor, "delete", path_of(data), etag=etag, status=204)
    assert not Relationship.objects.filter(public_id=data["id"]).exists()


def test_anonymous_clients_get_401_and_a_role_without_the_right_403(
    client, token_client, django_user_model
):
    body = body_for(person(), person())
    assert send(client, "post", PATH, body).status_code == 401
    nobody = django_user_model.objects.create_user("reader", password="x-pass-123")
    assert send(token_client(nobody), "post", PATH, body).status_code == 403
    assert not Relationship.objects.exists()


def test_nobody_is_related_to_themselves(as_researcher):
    someone = person()
    response = send(as_researcher, "post", PATH, body_for(someone, someone), status=400)
    assert list(response.json()) == ["other"]
    tie = send(as_researcher, "post", PATH, body_for(someone, person()), status=201).json()
    etag = etag_of(as_researcher, path_of(tie))
    edit = {"other": str(someone.public_id)}
    response = send(as_researcher, "patch", path_of(tie), edit, etag=etag, status=400)
    assert list(response.json()) == ["other"]


@pytest.mark.parametrize("turned", [False, True])
def test_a_tie_recorded_again_is_a_409_naming_the_one_that_exists(as_researcher, turned):
    first, second = person(), person()
    data = send(as_researcher, "post", PATH, body_for(first, second), status=201).json()
    again = body_for(second, first) if turned else body_for(first, second, note="again")

    response = send(as_researcher, "post", PATH, again, status=409)

    assert response.json()["existing"]["id"] == data["id"]
    assert response.json()["existing"]["url"].endswith(path_of(data))
    assert Relationship.objects.count() == 1


def test_bad_links_are_400s_naming_the_field_and_write_nothing(as_researcher):
    body = body_for(person(), person(), citations=[{"source": "nope"}])
    body["person"] = "nope"
    body["kind"] = "cousin"
    errors = send(as_researcher, "post", PATH, body, status=400).json()
    assert errors["person"] == ["Not a record id: give the record's UUID."]
    assert list(errors["kind"])
    assert errors["citations"] == {"0": {"source": ["Not a record id: give the record's UUID."]}}
    assert set(send(as_researcher, "post", PATH, {}, status=400).json()) == {
        "person",
        "other",
        "kind",
    }
    assert not Relationship.objects.exists()


def test_bad_dates_and_unknown_fields_are_400s_naming_them(as_researcher):
    body = body_for(person(), person(), start="2014", end="2010", status="published")
    errors = send(as_researcher, "post", PATH, body, status=400).json()
    assert errors == {"status": ["Unknown field."]}
    del body["status"]
    assert list(send(as_researcher, "post", PATH, body, status=400).json()) == ["end"]
    assert not Relationship.objects.exists()


# --- What the public sees -----------------------------------------------------------------------


def test_the_public_sees_ties_between_public_people_with_both_sides_words(
    as_editor, client, family
):
    cited = [{"source": str(family["source"].public_id), "quote": "her son Ahmad"}]
    data = send(
        as_editor,
        "post",
        PATH,
        body_for(family["mother"], family["son"], citations=cited),
        status=201,
    ).json()
    retracted = send(
        as_editor,
        "post",
        PATH,
        body_for(family["mother"], person(PUBLISHED), claim_status="retracted"),
        status=201,
    ).json()
    to_a_draft = send(as_editor, "post", PATH, body_for(family["son"], person()), status=201)

    public = client.get(path_of(data)).json()
    assert public["labels"] == {"person": "mother of", "other": "son of"}
    assert public["person"] == {"id": str(family["mother"].public_id), "name": "Aafia"}
    assert public["citations"][0]["quote"] == "her son Ahmad"
    assert "internal_notes" not in public
    listed = client.get(PATH)
    assert [row["id"] for row in listed.json()["results"]] == [data["id"]]
    assert SECRET not in listed.content.decode()
    for hidden in (retracted, to_a_draft.json()):
        assert client.get(path_of(hidden)).status_code == 404
        # Staff read it by id.
        assert as_editor.get(path_of(hidden)).status_code == 200
    # The person page's relationship is this one.
    page = client.get(f"/api/v1/persons/{family['son'].public_id}/").json()
    assert [(t["id"], t["label"]) for t in page["relationships"]] == [(data["id"], "son of")]


def test_a_citation_to_a_confidential_source_is_not_shown_and_not_silently_deleted(
    as_editor, client, family
):
    secret = f.SourceFactory(is_confidential=True, title="Tip")
    cited = [
        {"source": str(family["source"].public_id), "quote": "her son"},
        {"source": str(secret.public_id), "quote": "from a tip"},
    ]
    body = body_for(family["mother"], family["son"], citations=cited)
    data = send(as_editor, "post", PATH, body, status=201).json()
    assert [c["quote"] for c in client.get(path_of(data)).json()["citations"]] == ["her son"]

    response = as_editor.get(path_of(data))
    got, etag = response.json(), response["ETag"]
    edited = [{**got["citations"][0], "quote": "her son Ahmad"}]
    refused = send(
        as_editor, "put", path_of(data), {**got, "citations": edited}, etag=etag, status=400
    )
    assert list(refused.json()) == ["citations"]
    assert Relationship.objects.get(public_id=data["id"]).citations.count() == 2


# --- The round trip -----------------------------------------------------------------------------


def test_the_body_of_a_get_is_put_back_as_a_no_op(as_editor, family):
    cited = [{"source": str(family["source"].public_id), "quote": "her son"}]
    data = send(
        as_editor, "post", PATH, body_for(family["mother"], person(), citations=cited), status=201
    ).json()
    response = as_editor.get(path_of(data))
    body, etag = response.json(), response["ETag"]
    assert body["other"] is None  # a draft person is not named, even to staff reading
    updated = Relationship.objects.get(public_id=data["id"]).updated
    before = history_rows()

    send(as_editor, "put", path_of(data), body, etag=etag, status=200)

    again = as_editor.get(path_of(data))
    assert again["ETag"] == etag and again.json() == body
    assert history_rows() == before
    assert Relationship.objects.get(public_id=data["id"]).updated == updated


@pytest.mark.parametrize(
    "field, value",
    [("labels", {"person": "father of", "other": "son of"}), ("created", "2001-01-01T00:00:00Z")],
)
def test_a_changed_read_only_field_is_refused_by_name(as_editor, family, field, value):
    data = send(as_editor, "post", PATH, body_for(family["mother"], family["son"]), status=201)
    path = path_of(data.json())
    response = as_editor.get(path)
    body, etag = response.json(), response["ETag"]

    refused = send(as_editor, "put", path, {**body, field: value}, etag=etag, status=400)

    assert list(refused.json()) == [field]
    assert etag_of(as_editor, path) == etag


def test_a_person_s_relationships_are_written_here_not_on_the_person(as_editor, family):
    send(as_editor, "post", PATH, body_for(family["mother"], family["son"]), status=201)
    person_path = f"/api/v1/persons/{family['son'].public_id}/"
    response = as_editor.get(person_path)
    body, etag = response.json(), response["ETag"]
    send(as_editor, "put", person_path, body, etag=etag, status=200)
    assert etag_of(as_editor, person_path) == etag

    refused = send(
        as_editor, "put", person_path, {**body, "relationships": []}, etag=etag, status=400
    )
    assert list(refused.json()) == ["relationships"]
    assert "/api/v1/relationships/" in refused.json()["relationships"][0]
    assert Relationship.objects.count() == 1


# --- By key, and lists --------------------------------------------------------------------------


def test_by_key_creates_then_updates_the_same_relationship(as_researcher):
    first, second = person(), person()
    path = f"{PATH}by-key/lwj-desk/R-3/"
    created = send(as_researcher, "put", path, body_for(first, second), status=201)
    again = send(as_researcher, "put", path, body_for(first, second, end="2014"), status=200)

    assert again.json()["id"] == created.json()["id"]
    assert Relationship.objects.get().end == "2014"
    assert ExternalId.objects.filter(table="relationships", key="R-3").count() == 1
    assert as_researcher.get(path).json()["id"] == created.json()["id"]


def test_the_list_runs_a_constant_number_of_queries(client):
    source = f.SourceFactory(status=PUBLISHED)

    def add(count):
        for _ in range(count):
            tie = f.RelationshipFactory(person=person(PUBLISHED), other=person(PUBLISHED))
            f.CitationFactory(event=None, relationship=tie, source=source)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(PATH)
        assert response.status_code == 200
        return len(captured)

    add(2)
    few = queries()
    add(10)
    assert queries() == few
    assert len(client.get(PATH).json()["results"]) == 12
