"""One meaning of "public": after a capture is retracted, a person unpublished, an organization
withdrawn and a source made confidential, every public reader agrees on what is there.

The lists, their facet counts (HTML and API), the feeds, the CSV downloads, the JSON Lines
export and the record pages are read as a user would read them, and compared with each other
and with what the edits must have removed.
"""

import csv
import io
import json
import re
from urllib.parse import urlsplit

import pytest

from detainees.domain.models import (
    ClaimStatus,
    Event,
    EventOrganization,
    EventPerson,
    Organization,
    Person,
    PublicationStatus,
)
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
CAPTURING = EventOrganization.Role.CAPTURING_FORCE


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def follow(client, url) -> list[dict]:
    """Every row of an API list, following `next`."""
    rows = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, body(response)[:300]
        data = response.json()
        rows += data["results"]
        url = data["next"]
        if url:
            parts = urlsplit(url)
            url = f"{parts.path}?{parts.query}"
    return rows


def html_list(client, path, **params) -> tuple[int, list]:
    """The total a list page states, and every row of it, following its pages."""
    response = client.get(path, {"size": 200, **params})
    assert response.status_code == 200
    total = int(re.search(rb"<strong>(\d+)</strong>", response.content).group(1))
    rows, after = list(response.context["page"].rows), response.context["page"].next_cursor
    while after:
        response = client.get(path, {"size": 200, "after": after, **params})
        rows += response.context["page"].rows
        after = response.context["page"].next_cursor
    return total, rows


def csv_ids(client, path) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200
    return [row["id"] for row in csv.DictReader(io.StringIO(body(response).decode()))]


def html_facets(response) -> dict[str, dict[str, int]]:
    return {
        field.name: {value: n for value, _, n in counts}
        for field, counts in response.context["facets"]
    }


def api_facets(client, path) -> dict[str, dict[str, int]]:
    data = client.get(path).json()["facets"]
    return {name: {row["value"]: row["count"] for row in rows} for name, rows in data.items()}


@pytest.fixture
def edited(demo):
    """The demo case, some records of our own, and the four edits."""
    isaf = Organization.objects.get(slug="isaf")
    province = f.PlaceFactory(name="Baghlan", status=PUBLISHED)
    force = f.OrganizationFactory(name="Second Force", status=PUBLISHED)
    source = f.SourceFactory(title="Report later found confidential", status=PUBLISHED)

    def capture(name, summary, *, org=isaf, kind=Event.Kind.CAPTURE):
        person = f.PersonFactory(status=PUBLISHED, name=name)
        event = f.EventFactory(status=PUBLISHED, kind=kind, summary=summary, place=province)
        EventPerson.objects.create(event=event, person=person)
        EventOrganization.objects.create(event=event, organization=org, role=CAPTURING)
        return person, event

    kept_person, kept = capture("Kept Person", "Kept capture")
    retracted_person, retracted = capture("Retracted Subject", "Capture later retracted")
    hidden_person, hidden_event = capture("Unpublished Person", "Capture of a hidden person")
    _, withdrawn_org_event = capture("Someone Else", "Capture by a withdrawn force", org=force)
    f.CitationFactory(event=kept, source=source)
    release_person, release = capture("Freed Person", "Release retracted", kind="release")

    # The four edits, as an editor makes them.
    for event in (retracted, release):
        event.claim_status = ClaimStatus.RETRACTED
        event.save()
    hidden_person.status = PublicationStatus.DRAFT
    hidden_person.save()
    force.status = PublicationStatus.WITHDRAWN
    force.withdrawal_reason = "Not a real force."
    force.save()
    source.status = PublicationStatus.DRAFT
    source.is_confidential = True
    source.save()
    return {
        "kept": kept,
        "retracted": retracted,
        "release": release,
        "retracted_person": retracted_person,
        "hidden_person": hidden_person,
        "hidden_event": hidden_event,
        "force": force,
        "withdrawn_org_event": withdrawn_org_event,
        "source": source,
        "province": province,
    }


def test_every_events_reader_lists_the_same_events(client, edited):
    expected = {str(e.public_id) for e in Event.objects.public()}
    retracted = {str(edited["retracted"].public_id), str(edited["release"].public_id)}
    assert retracted and not retracted & expected
    assert str(edited["hidden_event"].public_id) in expected  # the event stays, unnamed
    assert str(edited["withdrawn_org_event"].public_id) in expected

    total, rows = html_list(client, "/events/")
    assert total == len(rows) == len(expected)
    assert {str(e.public_id) for e in rows} == expected

    api_rows = follow(client, "/api/v1/events/?page_size=7")
    assert {r["id"] for r in api_rows} == expected and len(api_rows) == total

    page = client.get("/events/")
    facets = html_facets(page)
    assert facets == api_facets(client, "/api/v1/events/facets/")
    assert sum(facets["kind"].values()) == total
    assert "retracted" not in json.dumps(facets)

    ids = csv_ids(client, "/events.csv")
    assert set(ids) == expected and len(ids) == total

    lines = [
        json.loads(line)
        for line in body(client.get("/api/v1/export.jsonl?types=events")).splitlines()
    ]
    assert lines[-1] == {"type": "end", "counts": {"event": total}}
    assert {line["id"] for line in lines[:-1]} == expected

    # The API's `claim_status=retracted` finds nothing: retracted events are in no list.
    assert follow(client, "/api/v1/events/?claim_status=retracted") == []


def test_every_people_reader_lists_the_same_people(client, edited):
    expected = {str(p.public_id) for p in Person.objects.public()}
    assert str(edited["hidden_person"].public_id) not in expected

    # Everyone: the site's "all people", the API's default.
    total, rows = html_list(client, "/people/", who="all")
    assert total == len(rows) == len(expected)
    assert {str(p.public_id) for p in rows} == expected

    api_rows = follow(client, "/api/v1/persons/?page_size=3")
    assert {r["id"] for r in api_rows} == expected and len(api_rows) == total

    page = client.get("/people/", {"who": "all"})
    facets = html_facets(page)
    assert facets == api_facets(client, "/api/v1/persons/facets/")
    assert sum(facets["status"].values()) == total
    assert "retracted" not in facets["claim_status"]
    # The retracted capture is not counted under its force, nor its subject as in custody.
    assert edited["force"].slug not in facets["capturing_force"]

    ids = csv_ids(client, "/people.csv?who=all")
    assert set(ids) == expected and len(ids) == total

    # The detainees: the site's default list, the API's `detainee=true`, the CSV.
    detainees = {
        str(p.public_id) for p in Person.objects.public().filter(listing__is_detainee=True)
    }
    shown, rows = html_list(client, "/people/")
    assert shown == len(rows) == len(detainees) < total
    assert {str(p.public_id) for p in rows} == detainees
    api_rows = follow(client, "/api/v1/persons/?page_size=3&detainee=true")
    assert {r["id"] for r in api_rows} == detainees
    assert html_facets(client.get("/people/")) == api_facets(
        client, "/api/v1/persons/facets/?detainee=true"
    )
    assert set(csv_ids(client, "/people.csv")) == detainees

    lines = [
        json.loads(line)
        for line in body(client.get("/api/v1/export.jsonl?types=persons")).splitlines()
    ]
    assert lines[-1] == {"type": "end", "counts": {"person": total}}
    assert {line["id"] for line in lines[:-1]} == expected


def test_the_retracted_subject_is_counted_as_if_the_capture_never_was(client, edited):
    person = str(edited["retracted_person"].public_id)
    row = next(r for r in follow(client, "/api/v1/persons/") if r["id"] == person)
    assert row["current_status"] == "unknown" and row["first_capture"] is None
    isaf = client.get("/people/", {"capturing_force": "isaf", "size": 200})
    assert edited["retracted_person"] not in isaf.context["page"].rows
    assert edited["hidden_person"] not in isaf.context["page"].rows


def test_feeds_leave_out_retracted_releases(client, edited):
    feed = body(client.get("/feeds/releases/")).decode()
    assert str(edited["release"].public_id) not in feed
    releases = Event.objects.public().filter(kind=Event.Kind.RELEASE)
    assert feed.count("<entry>") == min(50, releases.count())
    person = Person.objects.get(names__name="Retracted Subject")
    own = body(client.get(f"/people/{person.slug}/feed/")).decode()
    assert str(edited["retracted"].public_id) not in own


def test_record_pages_agree_with_the_lists(client, edited):
    isaf = client.get("/organizations/isaf/").content.decode()
    assert "Kept capture" in isaf
    assert "Capture later retracted" not in isaf
    place = client.get(edited["province"].get_absolute_url()).content.decode()
    assert "Kept capture" in place and "Capture of a hidden person" in place
    assert "Capture later retracted" not in place and "Release retracted" not in place
    assert "Unpublished Person" not in place  # the event is listed, its hidden subject is not
    # The person's own page keeps the retracted capture, marked as retracted.
    person_page = client.get(edited["retracted_person"].get_absolute_url()).content.decode()
    entry = next(li for li in person_page.split("<li ") if "Capture later retracted" in li)
    assert 'class="claim claim-retracted">Retracted</span>' in entry
    assert client.get(edited["hidden_person"].get_absolute_url()).status_code == 404
    assert client.get(edited["force"].get_absolute_url()).status_code == 410
    source = f"/sources/{edited['source'].public_id}/"
    assert client.get(source).status_code == 404
    events = client.get("/events/", {"size": 200}).content.decode()
    assert edited["source"].title not in events and "Second Force" not in events
