"""Writes through the API: tokens and roles, per-field errors, all-or-nothing, If-Match locking."""

import pytest

from detainees.domain.models import (
    Correction,
    Event,
    Organization,
    Person,
    PersonName,
    PublicationStatus,
    Source,
)
from tests import factories as f

pytestmark = pytest.mark.django_db
DRAFT = PublicationStatus.DRAFT
IN_REVIEW = PublicationStatus.IN_REVIEW
PUBLISHED = PublicationStatus.PUBLISHED
WITHDRAWN = PublicationStatus.WITHDRAWN

BILAL = {
    "gender": "male",
    "birth": "sometime in 1970",
    "biography": "IMU commander.",
    "names": [
        {"name": "Qari Bilal", "kind": "common", "is_primary": True},
        {"name": "Qari Belal", "kind": "spelling"},
    ],
    "nationalities": [{"country": "UZ", "claim_status": "reported"}],
}


def send(client, method, path, data=None, etag=None, status=None):
    headers = {"HTTP_IF_MATCH": etag} if etag else {}
    response = getattr(client, method)(path, data, content_type="application/json", **headers)
    if status is not None:
        assert response.status_code == status, response.content[:500]
    return response


def etag_of(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return response["ETag"]


# --- Creating ---------------------------------------------------------------------------------


def test_a_researcher_creates_a_draft_person_with_names_and_nationalities(as_researcher):
    response = send(as_researcher, "post", "/api/v1/persons/", BILAL, status=201)
    data = response.json()
    person = Person.objects.get(public_id=data["id"])
    assert person.status == DRAFT
    assert person.slug == "qari-bilal"
    assert person.birth == "1970" and str(person.birth_earliest) == "1970-01-01"
    assert [(n.name, n.is_primary) for n in person.names.order_by("pk")] == [
        ("Qari Bilal", True),
        ("Qari Belal", False),
    ]
    assert data["status"] == "draft"
    assert data["birth"] == "1970"
    assert data["names"][1] == {
        "name": "Qari Belal",
        "given": "",
        "family": "",
        "kind": "spelling",
        "is_primary": False,
        "language": "",
        "claim_status": "reported",
        "citations": [],
    }
    assert response["Location"].endswith(f"/api/v1/persons/{data['id']}/")
    # The ETag answered is the one a GET of the new record gives: edits can follow at once.
    assert response["ETag"] == etag_of(as_researcher, f"/api/v1/persons/{data['id']}/")


def test_a_person_s_names_nationalities_and_identity_carry_their_sources(as_researcher):
    source = f.SourceFactory(status=PUBLISHED, title="LWJ 2014")
    cite = {"source": str(source.public_id), "quote": "Qari Bilal, an Uzbek", "aspect": "name"}
    body = {
        **BILAL,
        "names": [{**BILAL["names"][0], "citations": [cite]}, BILAL["names"][1]],
        "nationalities": [{"country": "UZ", "citations": [{**cite, "aspect": "nationality"}]}],
        "citations": [{**cite, "aspect": "identity"}],
    }

    data = send(as_researcher, "post", "/api/v1/persons/", body, status=201).json()

    person = Person.objects.get(public_id=data["id"])
    name = person.names.get(is_primary=True)
    assert [c.aspect for c in name.citations.all()] == ["name"]
    assert [c.aspect for c in person.nationalities.get().citations.all()] == ["nationality"]
    assert [c.aspect for c in person.citations.all()] == ["identity"]
    assert data["names"][0]["citations"][0]["source"] == str(source.public_id)


def test_a_bad_source_in_a_name_s_citation_is_named_at_its_position(as_researcher):
    body = {
        **BILAL,
        "names": [BILAL["names"][0], {**BILAL["names"][1], "citations": [{"source": "nope"}]}],
    }

    response = send(as_researcher, "post", "/api/v1/persons/", body, status=400)

    assert response.json() == {
        "names": {
            "1": {"citations": {"0": {"source": ["Not a record id: give the record's UUID."]}}}
        }
    }
    assert not Person.objects.exists()


def test_anonymous_writes_get_401_and_write_nothing(client):
    person = f.PersonFactory(status=PUBLISHED)
    path = f"/api/v1/persons/{person.public_id}/"
    etag = etag_of(client, path)
    assert send(client, "post", "/api/v1/persons/", BILAL).status_code == 401
    response = send(client, "patch", path, {"biography": "x"}, etag=etag)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert send(client, "delete", path, etag=etag).status_code == 401
    assert Person.objects.count() == 1 and Person.objects.get().biography == ""


def test_a_bad_token_is_401(client, researcher):
    bad = send(
        client.__class__(HTTP_AUTHORIZATION="Token not-a-real-key"), "post", "/api/v1/persons/", {}
    )
    assert bad.status_code == 401


def test_a_user_without_a_role_may_not_write(token_client, django_user_model):
    nobody = django_user_model.objects.create_user("reader", password="x-pass-123")
    response = send(token_client(nobody), "post", "/api/v1/persons/", BILAL)
    assert response.status_code == 403
    assert not Person.objects.exists()


def test_an_event_is_created_with_its_people_and_organizations_in_order(as_researcher):
    bilal, sibghatullah = f.PersonFactory(name="Qari Bilal"), f.PersonFactory(name="Sibghatullah")
    isaf, afghan = f.OrganizationFactory(name="ISAF"), f.OrganizationFactory(name="ANA")
    kunduz = f.PlaceFactory(name="Kunduz")
    pajhwok = f.SourceFactory(title="Pajhwok report")
    payload = {
        "kind": "capture",
        "summary": "Captured in Khanabad",
        "date": "20 April 2011",
        "place": str(kunduz.public_id),
        "unnamed_count": 2,
        "unnamed_description": "associates",
        "people": [
            {"person": str(bilal.public_id)},
            {"person": str(sibghatullah.public_id), "role": "related", "note": "his home"},
        ],
        "organizations": [
            {"organization": str(isaf.public_id), "role": "capturing_force"},
            {"organization": str(afghan.public_id), "role": "partner_force"},
        ],
        "citations": [
            {
                "source": str(pajhwok.public_id),
                "quote": "Qari Bilal was detained",
                "attribution": "Kunduz police chief, to Pajhwok",
            }
        ],
    }
    data = send(as_researcher, "post", "/api/v1/events/", payload, status=201).json()
    event = Event.objects.get(public_id=data["id"])
    assert (event.date, event.place, event.unnamed_count) == ("2011-04-20", kunduz, 2)
    assert [(r.person, r.role) for r in event.people.all()] == [
        (bilal, "subject"),
        (sibghatullah, "related"),
    ]
    assert [r.organization.name for r in event.organizations.all()] == ["ISAF", "ANA"]
    assert [(c.source, c.attribution) for c in event.citations.all()] == [
        (pajhwok, "Kunduz police chief, to Pajhwok")
    ]
    assert data["people"][1] == {
        "person": str(sibghatullah.public_id),
        "role": "related",
        "capacity": "",
        "note": "his home",
        "age": None,
    }


def test_sources_organizations_and_places_are_created_too(as_researcher):
    isaf = send(
        as_researcher,
        "post",
        "/api/v1/organizations/",
        {"name": "ISAF", "kind": "military_force", "names": [{"name": "FIAS"}]},
        status=201,
    ).json()
    assert Organization.objects.get(public_id=isaf["id"]).names.get().name == "FIAS"
    source = {
        "kind": "press_release",
        "title": "Raid",
        "publisher": isaf["id"],
        "published": "2011-04",
    }
    data = send(as_researcher, "post", "/api/v1/sources/", source, status=201).json()
    assert Source.objects.get(public_id=data["id"]).publisher.name == "ISAF"
    country = send(
        as_researcher,
        "post",
        "/api/v1/places/",
        {"name": "Afghanistan", "kind": "country", "country": "AF"},
        status=201,
    ).json()
    province = {"name": "Kunduz", "kind": "province", "parent": country["id"]}
    assert send(as_researcher, "post", "/api/v1/places/", province, status=201).json()["parent"]


# --- Validation -------------------------------------------------------------------------------


def test_validation_errors_are_400_per_field_and_nothing_is_written(as_researcher):
    payload = {
        **BILAL,
        "gender": "robot",
        "birth": "the day after tomorrow",
        "names": [{"name": "A", "is_primary": True}, {"name": "B", "is_primary": True}],
    }
    response = send(as_researcher, "post", "/api/v1/persons/", payload, status=400)
    errors = response.json()
    assert set(errors) == {"gender", "birth", "names"}
    assert "primary" in errors["names"][0]
    assert not Person.objects.exists()


def test_unknown_and_read_only_fields_are_rejected_by_name(as_researcher):
    payload = {
        **BILAL,
        "id": "8d3e1a52-7c1f-4d7e-9a55-2a9ad2a6c2d1",
        "created": "2020-01-01T00:00:00Z",
        "slug": "someone",
        "history": [],
        "names": [{"name": "Bilal", "is_primary": True, "search_key": "BL"}],
    }
    errors = send(as_researcher, "post", "/api/v1/persons/", payload, status=400).json()
    assert errors["history"] == ["Unknown field."]
    for name in ("id", "created", "slug"):
        assert errors[name][0].startswith("Read-only"), name
    assert errors["names"]["0"]["search_key"] == ["Unknown field."]
    assert not Person.objects.exists()


def test_a_link_to_a_record_that_does_not_exist_is_a_400_naming_it(as_researcher):
    payload = {
        "kind": "capture",
        "place": "not-a-uuid",
        "people": [{"person": "8d3e1a52-7c1f-4d7e-9a55-2a9ad2a6c2d1"}],
    }
    errors = send(as_researcher, "post", "/api/v1/events/", payload, status=400).json()
    assert "UUID" in errors["place"][0]
    assert "No person" in errors["people"]["0"]["person"][0]
    assert not Event.objects.exists()


def test_a_constraint_of_the_model_is_a_400_not_a_server_error(as_researcher):
    payload = {"kind": "capture", "date": "2011", "release_kind": "pardon"}
    errors = send(as_researcher, "post", "/api/v1/events/", payload, status=400).json()
    assert errors == {"release_kind": ["Only a release has a release kind or a batch."]}
    assert not Event.objects.exists()


def test_a_release_before_the_capture_is_refused_on_its_person_and_nothing_is_written(
    as_researcher,
):
    """The admin's timeline check, run on each linked person: the event is not half-written."""
    person = f.PersonFactory()
    f.EventPersonFactory(person=person, event=f.EventFactory(date="2012-05-01"))
    payload = {"kind": "release", "date": "2010", "people": [{"person": str(person.public_id)}]}
    errors = send(as_researcher, "post", "/api/v1/events/", payload, status=400).json()
    assert "release" in errors["people"]["0"]["non_field_errors"][0].lower()
    assert Event.objects.count() == 1


def test_a_nested_error_rolls_back_the_record_and_its_other_parts(as_researcher):
    person = f.PersonFactory(name="Qari Bilal")
    path = f"/api/v1/persons/{person.public_id}/"
    etag = etag_of(as_researcher, path)
    payload = {
        "biography": "changed",
        "names": [{"name": "Bilal", "is_primary": True}],
        "nationalities": [{"country": "UZ"}, {"country": "XX"}],
    }
    errors = send(as_researcher, "patch", path, payload, etag=etag, status=400).json()
    assert "country" in errors["nationalities"]["1"]
    person.refresh_from_db()
    assert person.biography == ""
    assert list(person.names.values_list("name", flat=True)) == ["Qari Bilal"]


# --- Optimistic locking -----------------------------------------------------------------------


def test_edits_and_deletes_without_if_match_get_428(as_editor):
    person = f.PersonFactory()
    path = f"/api/v1/persons/{person.public_id}/"
    for method in ("put", "patch", "delete"):
        response = send(as_editor, method, path, {"biography": "x"}, status=428)
        assert "If-Match" in response.json()["detail"]
    star = send(as_editor, "patch", path, {"biography": "x"}, etag="*")
    assert star.status_code == 428
    assert Person.objects.get().biography == ""


def test_a_stale_etag_gets_412(as_researcher):
    person = f.PersonFactory()
    path = f"/api/v1/persons/{person.public_id}/"
    stale = etag_of(as_researcher, path)
    send(as_researcher, "patch", path, {"biography": "first"}, etag=stale, status=200)
    response = send(as_researcher, "patch", path, {"biography": "second"}, etag=stale, status=412)
    assert "changed since you read it" in response.json()["detail"]
    assert Person.objects.get().biography == "first"


def test_two_clients_editing_with_one_etag_one_wins_one_gets_412_nothing_lost(
    researcher, editor, token_client
):
    person = f.PersonFactory(name="Qari Bilal")
    path = f"/api/v1/persons/{person.public_id}/"
    alice, bob = token_client(researcher), token_client(editor)
    etag = etag_of(alice, path)
    assert etag == etag_of(bob, path)
    won = send(alice, "patch", path, {"biography": "Alice's"}, etag=etag, status=200)
    send(bob, "patch", path, {"gender": "male"}, etag=etag, status=412)
    # Bob reads again, sees Alice's change, and applies his own on top of it.
    fresh = etag_of(bob, path)
    assert fresh == won["ETag"]
    send(bob, "patch", path, {"gender": "male"}, etag=fresh, status=200)
    person.refresh_from_db()
    assert (person.biography, person.gender) == ("Alice's", "male")


def test_the_anonymous_etag_of_a_published_record_is_accepted_for_an_edit(client, as_editor):
    person = f.PersonFactory(status=PUBLISHED)
    path = f"/api/v1/persons/{person.public_id}/"
    etag = etag_of(client, path)
    send(as_editor, "patch", path, {"biography": "x"}, etag=etag, status=200)
    # A proxy that compresses the response weakens its tag; the same bytes were read.
    etag = etag_of(client, path)
    send(as_editor, "patch", path, {"biography": "y"}, etag=f"W/{etag}", status=200)


def test_a_put_replaces_the_record_and_its_names(as_researcher):
    person = f.PersonFactory(name="Bilal")
    path = f"/api/v1/persons/{person.public_id}/"
    payload = {"names": [{"name": "Qari Bilal", "is_primary": True}], "gender": "male"}
    data = send(as_researcher, "put", path, payload, etag=etag_of(as_researcher, path), status=200)
    assert [n["name"] for n in data.json()["names"]] == ["Qari Bilal"]
    assert list(PersonName.objects.values_list("name", flat=True)) == ["Qari Bilal"]


def test_an_edit_costs_the_same_queries_however_many_names_the_person_has(as_editor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (1, 10):
        names = [{"name": f"Name {i}", "is_primary": i == 0} for i in range(size)]
        created = send(as_editor, "post", "/api/v1/persons/", {"names": names}, status=201)
        path = f"/api/v1/persons/{created.json()['id']}/"
        with CaptureQueriesContext(connection) as queries:
            send(as_editor, "patch", path, {"biography": "x"}, etag=created["ETag"], status=200)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Authentication and permissions (3), the locked read and the ETag's detail (1 + 11), the
    # model's checks (three queries per CHECK constraint, with the history context set around
    # each) and the update, and the answer: the record with its parts and its new ETag.
    assert counts[0] <= 63


# --- Drafts and who sees them -----------------------------------------------------------------


def test_drafts_are_read_only_by_signed_in_roles_and_never_cached_publicly(client, as_researcher):
    person = f.PersonFactory(name="Draft Person")
    path = f"/api/v1/persons/{person.public_id}/"
    assert client.get(path).status_code == 404
    response = as_researcher.get(path)
    assert response.status_code == 200
    assert response.json()["name"] == "Draft Person"
    assert "private" in response["Cache-Control"]
    assert "Authorization" in response["Vary"]
    # Lists stay the public record, whoever asks.
    assert as_researcher.get("/api/v1/persons/").json()["results"] == []


def test_anonymous_reads_are_unchanged_by_writes_being_possible(client):
    person = f.PersonFactory(status=PUBLISHED)
    response = client.get(f"/api/v1/persons/{person.public_id}/")
    assert response.status_code == 200
    assert "Cache-Control" not in response or "private" not in response["Cache-Control"]


# --- Publication state and corrections --------------------------------------------------------


def test_a_researcher_submits_for_review_but_may_not_publish(as_researcher):
    person = f.PersonFactory()
    path = f"/api/v1/persons/{person.public_id}/"
    send(
        as_researcher,
        "patch",
        path,
        {"status": "in_review"},
        etag=etag_of(as_researcher, path),
        status=200,
    )
    response = send(
        as_researcher, "patch", path, {"status": "published"}, etag=etag_of(as_researcher, path)
    )
    assert response.status_code == 403
    assert "may not publish" in response.json()["detail"]
    assert Person.objects.get().status == IN_REVIEW
    created = send(as_researcher, "post", "/api/v1/persons/", {**BILAL, "status": "published"})
    assert created.status_code == 403
    assert Person.objects.count() == 1


def test_a_researcher_may_not_edit_a_published_record(as_researcher):
    person = f.PersonFactory(status=PUBLISHED)
    path = f"/api/v1/persons/{person.public_id}/"
    response = send(
        as_researcher, "patch", path, {"biography": "x"}, etag=etag_of(as_researcher, path)
    )
    assert response.status_code == 403
    assert Person.objects.get().biography == ""


def test_an_editor_publishes_withdraws_and_deletes(client, as_editor):
    person = f.PersonFactory(status=IN_REVIEW)
    path = f"/api/v1/persons/{person.public_id}/"
    send(
        as_editor, "patch", path, {"status": "published"}, etag=etag_of(as_editor, path), status=200
    )
    assert client.get(path).status_code == 200
    etag = etag_of(client, path)
    response = send(as_editor, "patch", path, {"status": "withdrawn"}, etag=etag, status=400)
    assert "withdrawal_reason" in response.json()
    reason = "The capture was of another man with the same name."
    payload = {"status": "withdrawn", "withdrawal_reason": reason}
    send(as_editor, "patch", path, payload, etag=etag, status=200)
    gone = client.get(path)
    assert gone.status_code == 410 and gone.json()["reason"] == reason
    changes = client.get("/api/v1/changes/").json()["results"]
    assert [(c["id"], c["change"]) for c in changes] == [(str(person.public_id), "withdrawn")]
    send(as_editor, "delete", path, etag=etag_of(as_editor, path), status=204)
    assert not Person.objects.exists()


def test_a_move_that_does_not_exist_is_a_400_on_status(as_editor):
    person = f.PersonFactory()
    path = f"/api/v1/persons/{person.public_id}/"
    response = send(
        as_editor, "patch", path, {"status": "withdrawn"}, etag=etag_of(as_editor, path)
    )
    assert response.status_code == 400
    assert "cannot go from draft to withdrawn" in response.json()["status"][0]


def test_researchers_may_not_delete(as_researcher):
    person = f.PersonFactory()
    path = f"/api/v1/persons/{person.public_id}/"
    assert send(as_researcher, "delete", path, etag=etag_of(as_researcher, path)).status_code == 403
    assert Person.objects.exists()


def test_deleting_a_record_others_link_to_is_a_409(as_editor):
    place = f.PlaceFactory()
    f.EventFactory(place=place)
    path = f"/api/v1/places/{place.public_id}/"
    assert send(as_editor, "delete", path, etag=etag_of(as_editor, path)).status_code == 409


def test_an_editor_records_a_public_correction_with_an_edit(client, as_editor, editor):
    person = f.PersonFactory(name="Qari Bilal", status=PUBLISHED)
    path = f"/api/v1/persons/{person.public_id}/"
    note = "His nationality was given as Tajik; sources say Uzbek."
    payload = {"nationalities": [{"country": "UZ"}], "correction_note": note}
    data = send(as_editor, "patch", path, payload, etag=etag_of(client, path), status=200).json()
    assert "correction_note" not in data
    correction = Correction.objects.get()
    assert (correction.record, correction.note, correction.corrected_by) == (person, note, editor)
    person.refresh_from_db()
    page = client.get(person.get_absolute_url()).content.decode()
    assert note in page
    assert editor.username not in page


def test_a_correction_note_on_a_draft_is_refused(as_editor):
    person = f.PersonFactory()
    path = f"/api/v1/persons/{person.public_id}/"
    payload = {"biography": "x", "correction_note": "fixed"}
    response = send(as_editor, "patch", path, payload, etag=etag_of(as_editor, path), status=400)
    assert "correction_note" in response.json()
    assert not Correction.objects.exists()
    assert Person.objects.get().biography == ""


@pytest.mark.django_db(transaction=True)
def test_two_edits_sent_at_once_with_one_etag_one_succeeds_one_gets_412(token_client):
    """Really concurrent: each request in its own thread and database connection."""
    import threading

    from django.db import connection

    from tests.conftest import member_of

    person = f.PersonFactory(name="Qari Bilal")
    path = f"/api/v1/persons/{person.public_id}/"
    clients = [token_client(member_of("Researcher", f"r{i}")) for i in range(2)]
    etag = etag_of(clients[0], path)
    barrier, results = threading.Barrier(2), {}

    def edit(i):
        try:
            barrier.wait(timeout=10)
            response = send(clients[i], "patch", path, {"biography": f"edit {i}"}, etag=etag)
            results[i] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results.values()) == [200, 412]
    winner = next(i for i, code in results.items() if code == 200)
    assert Person.objects.get().biography == f"edit {winner}"


def test_an_api_write_is_in_the_history_with_the_token_user_and_before_and_after(as_editor, editor):
    from detainees.write.history import history_of

    person = f.PersonFactory(biography="before")
    path = f"/api/v1/persons/{person.public_id}/"
    send(
        as_editor, "patch", path, {"biography": "after"}, etag=etag_of(as_editor, path), status=200
    )
    changes = history_of(person)
    assert {(c.action, c.who, c.reason) for c in changes[:1]} == {
        ("changed", editor.username, "API PATCH")
    }
    by_api = [(c.label, c.before, c.after) for ch in changes if ch.reason for c in ch.fields]
    assert by_api == [("biography", "before", "after")]


def test_a_write_refuses_a_query_parameter_it_does_not_read(as_editor):
    """`?dry_run=1` on a write must not write for real: every parameter but `format` is a 400."""
    refused = send(
        as_editor, "post", "/api/v1/sources/?dry_run=1", {"kind": "other", "title": "Not written"}
    )
    assert refused.status_code == 400
    assert list(refused.json()) == ["dry_run"]
    assert not Source.objects.filter(title="Not written").exists()
    send(
        as_editor,
        "post",
        "/api/v1/sources/?format=json",
        {"kind": "other", "title": "Written"},
        status=201,
    )


# --- A source's text and its confidentiality ----------------------------------------------------


def test_a_source_s_full_text_and_rights_are_written_and_published(
    as_researcher, as_editor, client
):
    body = {
        "kind": "news_report",
        "title": "Karzai frees IMU commander",
        "full_text": "Qari Bilal, the IMU leader, was freed by the Afghan government.",
        "rights": "TOLOnews; quoted under fair use.",
    }
    data = send(as_researcher, "post", "/api/v1/sources/", body, status=201).json()
    source = Source.objects.get(public_id=data["id"])
    assert (source.full_text, source.rights) == (body["full_text"], body["rights"])
    path = f"/api/v1/sources/{source.public_id}/"

    send(as_editor, "patch", path, {"status": PUBLISHED}, etag=etag_of(as_editor, path), status=200)

    public = client.get(path).json()
    assert (public["full_text"], public["rights"]) == (body["full_text"], body["rights"])


def test_a_researcher_marks_a_draft_source_confidential_but_only_an_editor_clears_it(
    as_researcher, as_editor
):
    source = f.SourceFactory(title="Informant report")
    path = f"/api/v1/sources/{source.public_id}/"
    send(
        as_researcher,
        "patch",
        path,
        {"is_confidential": True},
        etag=etag_of(as_researcher, path),
        status=200,
    )

    response = send(
        as_researcher, "patch", path, {"is_confidential": False}, etag=etag_of(as_researcher, path)
    )

    assert response.status_code == 403
    assert "confidential" in response.json()["detail"]
    source.refresh_from_db()
    assert source.is_confidential
    send(
        as_editor,
        "patch",
        path,
        {"is_confidential": False},
        etag=etag_of(as_editor, path),
        status=200,
    )


def test_a_number_or_a_list_where_text_is_expected_is_named_not_taken_as_its_digits(as_editor):
    body = {"kind": "news_report", "title": "Report", "full_text": 12, "summary": ["a"]}

    response = send(as_editor, "post", "/api/v1/sources/", body, status=400)

    assert response.json() == {
        "full_text": ["Not a valid string."],
        "summary": ["Not a valid string."],
    }
    assert not Source.objects.exists()
