"""A person's ties to organizations through the API: written on their own, each with its own
publication state and citations, by the same rules as the admin; public only when published,
not retracted, and between a public person and a public organization."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import Affiliation, ExternalId, PublicationStatus, Tombstone
from tests import factories as f
from tests.test_api_round_trip import history_rows
from tests.test_api_writes import etag_of, send

pytestmark = pytest.mark.django_db
DRAFT = PublicationStatus.DRAFT
PUBLISHED = PublicationStatus.PUBLISHED
PATH = "/api/v1/affiliations/"
SECRET = "Informant says he left in 2012; do not publish."


def path_of(data_or_record) -> str:
    public_id = getattr(data_or_record, "public_id", None) or data_or_record["id"]
    return f"{PATH}{public_id}/"


@pytest.fixture
def public_people():
    """A published person and organization, a published source and a confidential one."""
    return {
        "person": f.PersonFactory(status=PUBLISHED, name="Qari Bilal"),
        "organization": f.OrganizationFactory(
            status=PUBLISHED, name="Islamic Movement of Uzbekistan"
        ),
        "place": f.PlaceFactory(status=PUBLISHED, name="Kunduz"),
        "source": f.SourceFactory(status=PUBLISHED, title="LWJ, 2014"),
        "confidential": f.SourceFactory(is_confidential=True, title="Tip"),
    }


def body_for(records, **values) -> dict:
    return {
        "person": str(records["person"].public_id),
        "organization": str(records["organization"].public_id),
        "role": "commander in Kunduz",
        "start": "sometime in 2009",
        "end": "2013",
        "place": str(records["place"].public_id),
        "strength_estimate": 300,
        "strength_note": "300+",
        "internal_notes": SECRET,
        "citations": [
            {"source": str(records["source"].public_id), "quote": "IMU commander Qari Bilal"}
        ],
        **values,
    }


def published(as_researcher, as_editor, records, **values) -> dict:
    """An affiliation created by a researcher and published by an editor; the editor's answer."""
    data = send(as_researcher, "post", PATH, body_for(records, **values), status=201).json()
    path = path_of(data)
    etag = etag_of(as_editor, path)
    return send(as_editor, "patch", path, {"status": PUBLISHED}, etag=etag, status=200).json()


# --- Writing ------------------------------------------------------------------------------------


def test_a_researcher_creates_a_draft_an_editor_publishes_it(
    as_researcher, as_editor, client, public_people
):
    response = send(as_researcher, "post", PATH, body_for(public_people), status=201)
    data = response.json()
    affiliation = Affiliation.objects.get(public_id=data["id"])
    assert affiliation.status == DRAFT and data["status"] == "draft"
    assert affiliation.person == public_people["person"]
    assert (affiliation.start, affiliation.start_as_written) == ("2009", "sometime in 2009")
    assert [c.quote for c in affiliation.citations.all()] == ["IMU commander Qari Bilal"]
    # The write's answer is the staff's: private notes included.
    assert data["internal_notes"] == SECRET
    assert response["ETag"] == etag_of(as_researcher, path_of(data))
    assert client.get(path_of(data)).status_code == 404

    # A researcher may not publish it.
    etag = etag_of(as_researcher, path_of(data))
    refused = send(as_researcher, "patch", path_of(data), {"status": PUBLISHED}, etag=etag)
    assert refused.status_code == 403
    send(as_editor, "patch", path_of(data), {"status": PUBLISHED}, etag=etag, status=200)

    public = client.get(path_of(data)).json()
    assert public["person"] == {"id": str(public_people["person"].public_id), "name": "Qari Bilal"}
    assert public["organization"]["name"] == "Islamic Movement of Uzbekistan"
    assert public["start"]["as_written"] == "sometime in 2009"
    assert public["citations"][0]["quote"] == "IMU commander Qari Bilal"
    assert [row["id"] for row in client.get(PATH).json()["results"]] == [data["id"]]


def test_anonymous_clients_get_401_and_a_role_without_the_right_403(
    client, token_client, django_user_model, as_researcher, public_people
):
    assert send(client, "post", PATH, body_for(public_people)).status_code == 401
    nobody = django_user_model.objects.create_user("reader", password="x-pass-123")
    assert send(token_client(nobody), "post", PATH, body_for(public_people)).status_code == 403
    # Researchers add and change affiliations; deleting one is the editors'.
    data = send(as_researcher, "post", PATH, body_for(public_people), status=201).json()
    etag = etag_of(as_researcher, path_of(data))
    assert send(as_researcher, "delete", path_of(data), etag=etag).status_code == 403
    assert Affiliation.objects.count() == 1


def test_an_editor_deletes_one_and_the_changes_feed_lists_it(
    as_researcher, as_editor, client, public_people
):
    withdrawn = published(as_researcher, as_editor, public_people)
    deleted = published(as_researcher, as_editor, public_people, role="deputy")
    etag = etag_of(as_editor, path_of(withdrawn))
    reason = {"status": "withdrawn", "withdrawal_reason": "The source confused two men."}
    send(as_editor, "patch", path_of(withdrawn), reason, etag=etag, status=200)
    etag = etag_of(as_editor, path_of(deleted))
    send(as_editor, "delete", path_of(deleted), etag=etag, status=204)

    gone = client.get(path_of(withdrawn))
    assert gone.status_code == 410
    assert gone.json()["reason"] == "The source confused two men."
    assert client.get(path_of(deleted)).status_code == 404
    changes = client.get("/api/v1/changes/", {"type": Tombstone.RecordType.AFFILIATION}).json()
    assert {(row["id"], row["change"]) for row in changes["results"]} == {
        (withdrawn["id"], "withdrawn"),
        (deleted["id"], "deleted"),
    }


def test_bad_links_are_400s_naming_the_field_and_write_nothing(as_researcher, public_people):
    response = send(
        as_researcher,
        "post",
        PATH,
        body_for(
            public_people,
            person="nope",
            organization="00000000-0000-0000-0000-000000000000",
            citations=[{"source": "nope"}],
        ),
        status=400,
    )
    errors = response.json()
    assert errors["person"] == ["Not a record id: give the record's UUID."]
    assert list(errors["organization"]) and "No organization" in errors["organization"][0]
    assert errors["citations"] == {"0": {"source": ["Not a record id: give the record's UUID."]}}
    assert not Affiliation.objects.exists()


def test_the_model_s_rules_are_400s_naming_the_field(as_researcher, public_people):
    response = send(
        as_researcher, "post", PATH, body_for(public_people, start="2014", end="2010"), status=400
    )
    assert list(response.json()) == ["end"]
    response = send(
        as_researcher, "post", PATH, body_for(public_people, strength_estimate=-1), status=400
    )
    assert list(response.json()) == ["strength_estimate"]
    missing = send(as_researcher, "post", PATH, {"role": "commander"}, status=400).json()
    assert set(missing) == {"person", "organization"}
    assert not Affiliation.objects.exists()


# --- What the public sees -----------------------------------------------------------------------


def test_drafts_retracted_ones_and_those_of_draft_people_are_not_public(
    as_researcher, as_editor, client, public_people
):
    shown = published(as_researcher, as_editor, public_people)
    retracted = published(as_researcher, as_editor, public_people, claim_status="retracted")
    draft = send(as_researcher, "post", PATH, body_for(public_people), status=201).json()
    hidden_person = {**public_people, "person": f.PersonFactory(status=DRAFT)}
    of_a_draft = published(as_researcher, as_editor, hidden_person)

    listed = client.get(PATH)
    assert [row["id"] for row in listed.json()["results"]] == [shown["id"]]
    for record in (retracted, draft, of_a_draft):
        assert client.get(path_of(record)).status_code == 404
    # Private notes never leave the staff's answers.
    assert SECRET not in listed.content.decode()
    assert SECRET not in client.get(path_of(shown)).content.decode()
    assert "internal_notes" not in client.get(path_of(shown)).json()
    # Staff read any one by id, and list drafts by state.
    assert as_researcher.get(path_of(draft)).status_code == 200
    drafts = as_researcher.get(PATH, {"publication_status": "draft"}).json()["results"]
    assert [row["id"] for row in drafts] == [draft["id"]]
    assert client.get(PATH, {"publication_status": "draft"}).status_code == 401


def test_the_list_filters_by_person_and_organization(as_researcher, as_editor, client):
    records = {
        "person": f.PersonFactory(status=PUBLISHED),
        "organization": f.OrganizationFactory(status=PUBLISHED),
        "place": f.PlaceFactory(status=PUBLISHED),
        "source": f.SourceFactory(status=PUBLISHED),
    }
    other_person = f.PersonFactory(status=PUBLISHED)
    other_org = f.OrganizationFactory(status=PUBLISHED)
    first = published(as_researcher, as_editor, records)
    second = published(as_researcher, as_editor, {**records, "person": other_person})
    third = published(as_researcher, as_editor, {**records, "organization": other_org})

    def ids(**params):
        response = client.get(PATH, params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(person=str(records["person"].public_id)) == {first["id"], third["id"]}
    assert ids(person=str(other_person.public_id)) == {second["id"]}
    assert ids(organization=str(other_org.public_id)) == {third["id"]}
    assert list(client.get(PATH, {"person": "nope"}).json()) == ["person"]


def test_a_citation_to_a_confidential_source_is_not_shown_and_not_silently_deleted(
    as_researcher, as_editor, client, public_people
):
    citations = [
        {"source": str(public_people["source"].public_id), "quote": "named"},
        {"source": str(public_people["confidential"].public_id), "quote": "from a tip"},
    ]
    data = published(as_researcher, as_editor, public_people, citations=citations)
    public = client.get(path_of(data)).json()
    assert [c["quote"] for c in public["citations"]] == ["named"]
    assert "from a tip" not in client.get(PATH).content.decode()

    # The GET's list, edited, would replace both citations with the one it shows: refused.
    response = as_editor.get(path_of(data))
    body, etag = response.json(), response["ETag"]
    edited = [{**body["citations"][0], "quote": "named as commander"}]
    refused = send(
        as_editor, "put", path_of(data), {**body, "citations": edited}, etag=etag, status=400
    )
    assert list(refused.json()) == ["citations"]
    assert Affiliation.objects.get(public_id=data["id"]).citations.count() == 2
    # The list as the GET gave it is no change: the rest is written, both citations kept.
    send(as_editor, "put", path_of(data), {**body, "role": "deputy"}, etag=etag, status=200)
    assert Affiliation.objects.get(public_id=data["id"]).role == "deputy"
    assert Affiliation.objects.get(public_id=data["id"]).citations.count() == 2


# --- The round trip -----------------------------------------------------------------------------


def test_the_body_of_a_get_is_put_back_as_a_no_op(as_researcher, as_editor, public_people):
    data = published(as_researcher, as_editor, public_people)
    # Also a link the GET shows as null: a place that is a draft.
    Affiliation.objects.filter(public_id=data["id"]).update(place=f.PlaceFactory(status=DRAFT))
    response = as_editor.get(path_of(data))
    body, etag = response.json(), response["ETag"]
    assert body["place"] is None
    updated = Affiliation.objects.get(public_id=data["id"]).updated
    before = history_rows()

    send(as_editor, "put", path_of(data), body, etag=etag, status=200)

    again = as_editor.get(path_of(data))
    assert again["ETag"] == etag and again.json() == body
    assert history_rows() == before
    assert Affiliation.objects.get(public_id=data["id"]).updated == updated


@pytest.mark.parametrize(
    "field, value",
    [("created", "2001-01-01T00:00:00Z"), ("id", "00000000-0000-0000-0000-000000000000")],
)
def test_a_changed_read_only_field_is_refused_by_name(
    as_researcher, as_editor, public_people, field, value
):
    data = published(as_researcher, as_editor, public_people)
    response = as_editor.get(path_of(data))
    body, etag = response.json(), response["ETag"]

    refused = send(as_editor, "put", path_of(data), {**body, field: value}, etag=etag, status=400)

    assert list(refused.json()) == [field]
    assert etag_of(as_editor, path_of(data)) == etag


def test_a_person_s_get_shows_each_affiliation_s_id_and_comes_back_as_a_no_op(
    as_researcher, as_editor, public_people
):
    data = published(as_researcher, as_editor, public_people)
    person_path = f"/api/v1/persons/{public_people['person'].public_id}/"
    response = as_editor.get(person_path)
    body, etag = response.json(), response["ETag"]
    assert [a["id"] for a in body["affiliations"]] == [data["id"]]
    before = history_rows()

    send(as_editor, "put", person_path, body, etag=etag, status=200)
    assert etag_of(as_editor, person_path) == etag and history_rows() == before

    changed = [{**body["affiliations"][0], "role": "deputy"}]
    refused = send(
        as_editor, "put", person_path, {**body, "affiliations": changed}, etag=etag, status=400
    )
    assert list(refused.json()) == ["affiliations"]
    assert "/api/v1/affiliations/" in refused.json()["affiliations"][0]


# --- By key, and lists --------------------------------------------------------------------------


def test_by_key_creates_then_updates_the_same_affiliation(as_researcher, public_people):
    path = f"{PATH}by-key/lwj-desk/A-17/"
    created = send(as_researcher, "put", path, body_for(public_people), status=201)
    again = send(as_researcher, "put", path, body_for(public_people, role="deputy"), status=200)

    assert again.json()["id"] == created.json()["id"]
    assert Affiliation.objects.get().role == "deputy"
    assert ExternalId.objects.filter(table="affiliations", key="A-17").count() == 1
    # The same body again changes nothing.
    same = send(as_researcher, "put", path, body_for(public_people, role="deputy"), status=200)
    assert same["ETag"] == again["ETag"]


def test_the_list_runs_a_constant_number_of_queries(client, public_people):
    def add(count):
        for _ in range(count):
            affiliation = f.AffiliationFactory(
                status=PUBLISHED,
                person=f.PersonFactory(status=PUBLISHED),
                organization=f.OrganizationFactory(status=PUBLISHED),
                place=f.PlaceFactory(status=PUBLISHED),
            )
            f.CitationFactory(event=None, affiliation=affiliation, source=public_people["source"])

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
