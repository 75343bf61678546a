"""Keeping a copy of the published record: bulk export, changes feed, conditional GET, rate limit."""

import json
import uuid
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from detainees.api import export
from detainees.domain.models import (
    Correction,
    Event,
    Facility,
    Organization,
    Person,
    Place,
    PublicationStatus,
    ReleaseBatch,
    Source,
    Tombstone,
)
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
DRAFT = PublicationStatus.DRAFT
WITHDRAWN = PublicationStatus.WITHDRAWN
LISTS = {
    "persons": "person",
    "events": "event",
    "organizations": "organization",
    "places": "place",
    "facilities": "facility",
    "batches": "batch",
    "sources": "source",
}
LIST_OF_TYPE = {record_type: name for name, record_type in LISTS.items()}
MARKER = "SYNC-PRIVATE-5d1e"


def pull(client, path, **params) -> list[dict]:
    """Every row of a list, two at a time, following `next` as a script would."""
    rows, url, params = [], path, {"page_size": 2, **params}
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.content[:300]
        data = response.json()
        rows += data["results"]
        url, params = data["next"], {}
    return rows


def pull_all(client, **params) -> dict[str, dict[str, dict]]:
    return {
        name: {row["id"]: row for row in pull(client, f"/api/v1/{name}/", **params)}
        for name in LISTS
    }


def export_lines(client, **params) -> list[dict]:
    response = client.get("/api/v1/export.jsonl", params)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Cache-Control"] == "no-store"
    body = b"".join(response.streaming_content).decode()
    assert body.endswith("\n")
    *lines, end = [json.loads(line) for line in body.splitlines()]
    # The trailer: the number of record lines of each type, so a client knows it has them all.
    assert end["type"] == "end"
    counts = Counter(line["type"] for line in lines)
    assert set(counts) <= set(end["counts"])
    assert end["counts"] == {record_type: counts[record_type] for record_type in end["counts"]}
    return lines


@pytest.fixture
def drafts(demo):
    """Private notes on every record, and a draft of each type with the marker in its text."""
    for model in (Person, Event, Organization, Place, Facility, ReleaseBatch, Source):
        model.objects.update(internal_notes=MARKER)
    person = f.PersonFactory(name=f"Draft {MARKER}")
    f.EventPersonFactory(person=person, event=f.EventFactory(summary=MARKER))
    f.OrganizationFactory(name=f"Org {MARKER}")
    f.PlaceFactory(name=f"Place {MARKER}")
    f.FacilityFactory(name=f"Facility {MARKER}")
    f.ReleaseBatchFactory(title=f"Batch {MARKER}")
    f.SourceFactory(title=f"Source {MARKER}")
    f.SourceFactory(title=f"Confidential {MARKER}", is_confidential=True)


# --- Export ---------------------------------------------------------------------------------


def test_the_export_streams_exactly_the_published_records_of_each_type(client, drafts):
    lines = export_lines(client)
    exported = {name: {} for name in LISTS}
    for line in lines:
        exported[LIST_OF_TYPE[line.pop("type")]][line["id"]] = line
    for name, rows in pull_all(client).items():
        assert rows, name
        assert set(exported[name]) == set(rows), name
        if name != "persons":  # the list shape, row for row
            assert exported[name] == rows, name
    for person_id, line in exported["persons"].items():  # the detail shape
        assert line == client.get(f"/api/v1/persons/{person_id}/").json()
    assert len(lines) == sum(len(rows) for rows in exported.values())


def test_the_export_never_holds_drafts_or_private_fields(client, drafts):
    body = json.dumps(export_lines(client))
    assert MARKER not in body
    assert "internal_notes" not in body
    assert "is_confidential" not in body


def test_the_export_carries_each_persons_public_corrections(client, demo):
    bilal = Person.objects.get(slug="qari-bilal")
    editor = get_user_model().objects.create_user("corrector-77c0", password="x-pass-123")
    Correction.objects.create(
        record=bilal, date="2024-05-02", note="The capture was in April.", corrected_by=editor
    )
    lines = {line["id"]: line for line in export_lines(client, types="persons")}
    assert lines[str(bilal.public_id)]["corrections"] == [
        {"date": "2024-05-02", "note": "The capture was in April."}
    ]
    others = [line for id_, line in lines.items() if id_ != str(bilal.public_id)]
    assert all(line["corrections"] == [] for line in others)
    assert "corrector-77c0" not in json.dumps(list(lines.values()))


def test_the_export_takes_a_list_of_types(client, demo):
    lines = export_lines(client, types="events,places")
    assert {line["type"] for line in lines} == {"event", "place"}
    assert [line["type"] for line in lines].index("place") == len(
        [line for line in lines if line["type"] == "event"]
    )
    response = client.get("/api/v1/export.jsonl", {"types": "events,detainees"})
    assert response.status_code == 400
    assert "detainees" in response.json()["types"][0]


def test_export_queries_grow_with_chunks_not_rows(client, monkeypatch):
    def add_records(n):
        for _ in range(n):
            person = f.PersonFactory(status=PUBLISHED)
            event = f.EventFactory(status=PUBLISHED, place=f.PlaceFactory(status=PUBLISHED))
            f.EventPersonFactory(event=event, person=person)
            f.CitationFactory(event=event, source=f.SourceFactory(status=PUBLISHED))
            f.AffiliationFactory(
                person=person, organization=f.OrganizationFactory(status=PUBLISHED)
            )
            f.NationalityFactory(person=person)
            Correction.objects.create(record=person, note="A date was wrong.")
            Correction.objects.create(record=event, note="The place was wrong.")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            lines = export_lines(client)
        return len(ctx), len(lines)

    add_records(2)
    one_chunk, few = count()
    add_records(8)
    queries, many = count()
    assert many > few
    assert queries == one_chunk

    monkeypatch.setattr(export, "CHUNK_SIZE", 5)  # ten people, ten events...: two chunks each
    two_chunks, _ = count()
    assert one_chunk < two_chunks < 2 * one_chunk


# --- Tombstones -----------------------------------------------------------------------------


def tombstones() -> set[tuple[str, uuid.UUID, str]]:
    return set(Tombstone.objects.values_list("record_type", "public_id", "change"))


def test_unpublishing_leaves_a_tombstone_whichever_way_it_is_done(db):
    person = f.PersonFactory(status=PUBLISHED)
    person.status = WITHDRAWN
    person.withdrawal_reason = "Two records for one man."
    person.save()
    place = f.PlaceFactory(status=PUBLISHED)
    Place.objects.filter(pk=place.pk).update(status=DRAFT)
    batch = f.ReleaseBatchFactory(status=PUBLISHED)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE detainees_releasebatch SET status = 'in_review' WHERE id = %s", [batch.pk]
        )
    assert tombstones() == {
        ("person", person.public_id, "withdrawn"),
        ("place", place.public_id, "withdrawn"),
        ("batch", batch.public_id, "withdrawn"),
    }


def test_deleting_a_published_record_leaves_a_tombstone_whichever_way_it_is_done(db):
    event = f.EventFactory(status=PUBLISHED)
    event.delete()
    sources = [f.SourceFactory(status=PUBLISHED) for _ in range(2)]
    Source.objects.filter(pk__in=[s.pk for s in sources]).delete()
    person = f.PersonFactory(status=PUBLISHED)
    affiliation = f.AffiliationFactory(person=person, status=PUBLISHED)
    Person.objects.filter(pk=person.pk).delete()  # its affiliations go with it
    assert tombstones() == {
        ("event", event.public_id, "deleted"),
        ("source", sources[0].public_id, "deleted"),
        ("source", sources[1].public_id, "deleted"),
        ("person", person.public_id, "deleted"),
        ("affiliation", affiliation.public_id, "deleted"),
    }


def test_records_that_were_never_public_leave_no_tombstone(db):
    draft = f.OrganizationFactory()
    draft.status = PublicationStatus.IN_REVIEW
    draft.save()
    draft.delete()
    Facility.objects.filter(pk=f.FacilityFactory(status=WITHDRAWN).pk).delete()
    published = f.PersonFactory(status=PUBLISHED)
    published.biography = "Edited, still published."
    published.save()
    Person.objects.filter(pk=published.pk).update(status=PUBLISHED)
    assert tombstones() == set()


def test_publishing_with_update_moves_updated_so_scripts_see_it(db):
    org = f.OrganizationFactory(status=WITHDRAWN)
    before = Organization.objects.get(pk=org.pk).updated
    Organization.objects.filter(pk=org.pk).update(status=PUBLISHED)
    assert Organization.objects.get(pk=org.pk).updated > before


# --- Changes feed ---------------------------------------------------------------------------


def test_the_changes_feed_lists_tombstones_since_a_time_in_keyset_pages(client):
    early = [f.PersonFactory(status=PUBLISHED) for _ in range(2)]
    Person.objects.filter(pk__in=[p.pk for p in early]).update(
        status=WITHDRAWN, withdrawal_reason="Not detainees after all."
    )
    since = timezone.now()
    later = [f.EventFactory(status=PUBLISHED) for _ in range(3)]
    for event in later:
        event.delete()
    org = f.OrganizationFactory(status=PUBLISHED)
    Organization.objects.filter(pk=org.pk).update(status=DRAFT)

    rows = pull(client, "/api/v1/changes/", since=since.isoformat())
    assert [(r["type"], r["id"], r["change"]) for r in rows] == [
        *[("event", str(e.public_id), "deleted") for e in later],
        ("organization", str(org.public_id), "withdrawn"),
    ]
    assert all(r["at"] >= since.isoformat().replace("+00:00", "Z") for r in rows)
    assert set(rows[0]) == {"type", "id", "change", "reason", "at"}
    everything = pull(client, "/api/v1/changes/")
    assert len(everything) == 6
    people = client.get("/api/v1/changes/", {"type": "person"}).json()["results"]
    assert {r["id"] for r in people} == {str(p.public_id) for p in early}
    assert {r["reason"] for r in people} == {"Not detainees after all."}
    assert client.get("/api/v1/changes/", {"since": "last week"}).status_code == 400


def test_a_script_keeps_an_exact_mirror_with_updated_since_and_the_changes_feed(client):
    people = [f.PersonFactory(name=f"Person {i}", status=PUBLISHED) for i in range(4)]
    hidden = f.PersonFactory(name="Not yet public")
    events = [f.EventFactory(status=PUBLISHED, summary=f"Event {i}") for i in range(3)]
    orgs = [f.OrganizationFactory(status=PUBLISHED) for _ in range(3)]
    places = [f.PlaceFactory(status=PUBLISHED) for _ in range(3)]
    f.FacilityFactory(status=PUBLISHED)
    batches = [f.ReleaseBatchFactory(status=PUBLISHED) for _ in range(2)]
    sources = [f.SourceFactory(status=PUBLISHED) for _ in range(3)]
    draft = f.SourceFactory()

    # First run: a full pull, from a time taken before it started.
    first_run = timezone.now().isoformat()
    mirror = pull_all(client)
    assert len(mirror["persons"]) == 4 and len(mirror["sources"]) == 3

    # Meanwhile, in the admin, the shell and a bulk script:
    orgs[0].description = "Renamed its command."
    orgs[0].save()
    people[1].biography = "Released in 2014."
    people[1].save()
    people[2].status = WITHDRAWN
    people[2].withdrawal_reason = "Identity in doubt."
    people[2].save()
    Place.objects.filter(pk=places[1].pk).update(status=DRAFT)
    Source.objects.filter(pk=sources[0].pk).delete()
    events[2].delete()
    draft.delete()
    Person.objects.filter(pk=hidden.pk).update(status=PUBLISHED)
    ReleaseBatch.objects.filter(pk=batches[0].pk).update(
        status=WITHDRAWN, withdrawal_reason="Totals being checked."
    )
    batches[0].refresh_from_db()
    batches[0].status = PUBLISHED
    batches[0].save()

    # Second run: drop what left, then take what changed.
    changes = pull(client, "/api/v1/changes/", since=first_run)
    assert {(c["type"], c["id"], c["change"]) for c in changes} == {
        ("person", str(people[2].public_id), "withdrawn"),
        ("place", str(places[1].public_id), "withdrawn"),
        ("source", str(sources[0].public_id), "deleted"),
        ("event", str(events[2].public_id), "deleted"),
        ("batch", str(batches[0].public_id), "withdrawn"),
    }
    for change in changes:
        mirror[LIST_OF_TYPE[change["type"]]].pop(change["id"], None)
    changed = pull_all(client, updated_since=first_run)
    assert {name: set(rows) for name, rows in changed.items() if rows} == {
        "persons": {str(people[1].public_id), str(hidden.public_id)},
        "organizations": {str(orgs[0].public_id)},
        "batches": {str(batches[0].public_id)},
    }
    for name, rows in changed.items():
        mirror[name].update(rows)

    assert mirror == pull_all(client)


def test_a_script_edits_and_withdraws_through_the_api_and_a_mirror_follows(
    client, editor, token_client
):
    """The write half of a script's path: edit, withdraw, create; a reader's mirror keeps up."""
    writer = token_client(editor)
    people = [f.PersonFactory(name=f"Person {i}", status=PUBLISHED) for i in range(3)]
    since = timezone.now().isoformat()
    mirror = pull_all(client)

    def patch(person, data):
        path = f"/api/v1/persons/{person.public_id}/"
        etag = writer.get(path)["ETag"]
        response = writer.patch(path, data, content_type="application/json", HTTP_IF_MATCH=etag)
        assert response.status_code == 200, response.content[:300]
        return response

    patch(people[0], {"biography": "Released in 2014.", "correction_note": "Release year added."})
    patch(people[1], {"status": "withdrawn", "withdrawal_reason": "Two records of one man."})
    created = writer.post(
        "/api/v1/persons/",
        {"names": [{"name": "New Person", "is_primary": True}], "status": "published"},
        content_type="application/json",
    )
    assert created.status_code == 201

    for change in pull(client, "/api/v1/changes/", since=since):
        mirror[LIST_OF_TYPE[change["type"]]].pop(change["id"], None)
    changed = pull_all(client, updated_since=since)
    assert set(changed["persons"]) == {str(people[0].public_id), created.json()["id"]}
    for name, rows in changed.items():
        mirror[name].update(rows)
    assert mirror == pull_all(client)
    assert str(people[1].public_id) not in mirror["persons"]


# --- Conditional GET ------------------------------------------------------------------------


def test_every_detail_has_an_etag_and_answers_if_none_match_with_304(client, demo):
    for name in LISTS:
        row = client.get(f"/api/v1/{name}/", {"page_size": 1}).json()["results"][0]
        url = f"/api/v1/{name}/{row['id']}/"
        response = client.get(url)
        etag = response["ETag"]
        assert etag.startswith('"') and not etag.startswith("W/"), name
        unchanged = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert unchanged.status_code == 304, name
        assert unchanged.content == b""
        assert unchanged["ETag"] == etag
        assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200
        assert client.get(url, {"format": "csv"})["ETag"] != etag


def test_an_edit_changes_the_etag(client):
    org = f.OrganizationFactory(status=PUBLISHED)
    url = f"/api/v1/organizations/{org.public_id}/"
    etag = client.get(url)["ETag"]
    org.description = "Now with a description."
    org.save()
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response.json()["description"] == "Now with a description."


# --- Rate limit -----------------------------------------------------------------------------


def test_anonymous_readers_over_the_rate_get_429_with_retry_after(client, settings):
    settings.API_ANON_RATE = "3/minute"
    for path in ("/api/v1/persons/", "/api/v1/changes/", "/api/v1/export.jsonl"):
        assert client.get(path).status_code == 200
    response = client.get("/api/v1/events/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "detail" in response.json()


def test_a_bad_rate_setting_stops_start_up(monkeypatch):
    from tracker.settings import env_rate

    monkeypatch.setenv("API_ANON_RATE", "lots")
    with pytest.raises(ImproperlyConfigured, match="API_ANON_RATE"):
        env_rate("API_ANON_RATE", "600/minute")
    monkeypatch.setenv("API_ANON_RATE", "20/hour")
    assert env_rate("API_ANON_RATE", "600/minute") == "20/hour"
