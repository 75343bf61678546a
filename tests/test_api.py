"""The read API: published records only, the site's filters, keyset pages, JSON and CSV."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import Correction, Event, Organization, Person, PublicationStatus
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
LISTS = ["persons", "events", "organizations", "places", "facilities", "batches", "sources"]


@pytest.fixture
def demo(demo):
    return Person.objects.get(slug="qari-bilal")


def get(client, path, status=200, **params):
    response = client.get(path, params)
    assert response.status_code == status, response.content[:300]
    return response


def test_the_qari_bilal_record_comes_whole_in_one_response(client, demo):
    data = get(client, f"/api/v1/persons/{demo.public_id}/").json()
    assert data["name"] == "Qari Bilal"
    assert [n["name"] for n in data["names"]] == ["Qari Bilal", "Bilal", "Qari Belal"]
    assert data["nationalities"][0]["country"] == "UZ"
    assert data["nationalities"][0]["citations"][0]["attribution"].startswith("Kunduz police")
    assert data["status_line"].startswith("Released (between 20 April 2011 and 2014")
    kinds = [e["kind"] for e in data["timeline"]]
    assert kinds == [
        "custody",
        "escape",
        "capture",
        "custody",
        "release",
        "capture",
        "release",
        "reengagement",
    ]
    capture = data["timeline"][2]
    assert capture["date"] == {
        "edtf": "2011-04-20",
        "earliest": "2011-04-20",
        "latest": "2011-04-20",
        "text": "20 April 2011",
        "as_written": "",
    }
    assert capture["unnamed_count"] == 2
    roles = {o["role"] for o in capture["organizations"]}
    assert roles == {"capturing_force", "partner_force", "group"}
    assert len(capture["citations"]) >= 2
    parwan = data["timeline"][3]
    assert parwan["claim_status"] == "inferred"
    assert [c["start"] for c in parwan["custodians"]] == ["2011-04-20", "2013-03"]
    assert data["batches"][0]["inclusion"] == "unknown"
    assert "internal_notes" not in str(data)


def test_every_list_answers_json_and_csv_with_the_same_rows(client, demo):
    for name in LISTS:
        rows = get(client, f"/api/v1/{name}/").json()["results"]
        assert rows, name
        response = get(client, f"/api/v1/{name}/", format="csv")
        assert response["Content-Type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [r["id"] for r in table] == [r["id"] for r in rows], name
        accept = client.get(f"/api/v1/{name}/", HTTP_ACCEPT="text/csv")
        assert accept.content == response.content


def test_person_filters_are_the_sites_facets(client, demo):
    afghan = Organization.objects.get(name="Government of Afghanistan")
    rows = get(
        client,
        "/api/v1/persons/",
        release_authority=afghan.slug,
        released_from="2013",
        released_to="2014",
        released_reading="possibly",
        reengaged="confirmed",
    ).json()["results"]
    assert [r["name"] for r in rows] == ["Qari Bilal"]
    certainly = get(
        client,
        "/api/v1/persons/",
        released_from="2013",
        released_to="2014",
        released_reading="certainly",
    ).json()["results"]
    assert certainly == []
    assert [
        r["name"] for r in get(client, "/api/v1/persons/", search="Qari Belal").json()["results"]
    ][0] == "Qari Bilal"


@pytest.mark.parametrize(
    "params,parameter",
    [
        ({"ordering": "bogus"}, "ordering"),
        ({"captured_from": "next tuesday"}, "captured_from"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"page_size": "0"}, "page_size"),
        ({"cursor": "garbage"}, "cursor"),
        ({"released_reading": "perhaps"}, "released_reading"),
    ],
)
def test_invalid_parameters_are_a_400_naming_the_parameter(client, demo, params, parameter):
    response = get(client, "/api/v1/persons/", status=400, **params)
    assert parameter in response.json()


def test_events_filter_by_kind(client, demo):
    rows = get(client, "/api/v1/events/", kind="release").json()["results"]
    assert len(rows) == 2 and {r["kind"] for r in rows} == {"release"}
    both = get(client, "/api/v1/events/?kind=release&kind=escape").json()["results"]
    assert {r["kind"] for r in both} == {"release", "escape"}
    get(client, "/api/v1/events/", status=400, kind="kidnap")


def test_paging_through_everything_with_the_cursor(client):
    for i in range(7):
        f.PersonFactory(name=f"Person {i:02d}", status=PUBLISHED)
    seen, url = [], "/api/v1/persons/?page_size=3"
    while url:
        data = client.get(url).json()
        seen += [r["name"] for r in data["results"]]
        url = data["next"]
    assert seen == [f"Person {i:02d}" for i in range(7)]


def test_updated_since_returns_only_later_changes(client, demo):
    everyone = get(client, "/api/v1/persons/").json()["results"]
    cutoff = max(r["updated"] for r in everyone)
    assert get(client, "/api/v1/persons/", updated_since=cutoff).json()["results"]
    later = Person.objects.get(slug="hamid-karzai")
    later.biography = "President of Afghanistan 2004-2014."
    later.save()
    rows = get(client, "/api/v1/persons/", updated_since=later.updated.isoformat()).json()
    assert [r["name"] for r in rows["results"]] == ["Hamid Karzai"]


@pytest.mark.parametrize("name", LISTS)
def test_list_queries_do_not_grow_with_the_page(client, name):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            get(client, f"/api/v1/{name}/")
        return len(ctx)

    def add_records():
        person = f.PersonFactory(status=PUBLISHED)
        event = f.EventFactory(status=PUBLISHED, place=f.PlaceFactory(status=PUBLISHED))
        f.EventPersonFactory(event=event, person=person)
        f.CitationFactory(event=event, source=f.SourceFactory(status=PUBLISHED))
        f.OrganizationFactory(status=PUBLISHED)
        f.FacilityFactory(status=PUBLISHED)
        f.ReleaseBatchFactory(status=PUBLISHED)

    add_records()
    one = count()
    for _ in range(10):
        add_records()
    assert count() == one


def test_person_detail_queries_do_not_grow_with_the_timeline(client, demo):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            get(client, f"/api/v1/persons/{demo.public_id}/")
        return len(ctx)

    count()  # the first read of a process also looks up (and caches) the person's type
    before = count()
    for year in range(2015, 2020):
        event = f.EventFactory(
            kind=Event.Kind.REENGAGEMENT, reengagement="suspected", date=str(year), status=PUBLISHED
        )
        f.EventPersonFactory(event=event, person=demo)
        f.CitationFactory(event=event, source=f.SourceFactory(status=PUBLISHED))
    assert count() == before


def test_a_person_detail_lists_public_corrections_but_not_who_made_them(client, demo):
    editor = get_user_model().objects.create_user("corrector-9f3a", password="x-pass-123")
    Correction.objects.create(
        record=demo, date="2024-05-02", note="The capture was in April.", corrected_by=editor
    )
    Correction.objects.create(record=demo, date="2023-01-10", note="Name spelling fixed.")
    # Another record's correction, with the person's primary key.
    event = f.EventFactory(status=PUBLISHED)
    Correction.objects.create(record=event, note="An event's correction.")
    Correction.objects.filter(note="An event's correction.").update(object_id=demo.pk)

    response = get(client, f"/api/v1/persons/{demo.public_id}/")

    # The whole shape: the date and the note, nothing on who made it.
    assert response.json()["corrections"] == [
        {"date": "2023-01-10", "note": "Name spelling fixed."},
        {"date": "2024-05-02", "note": "The capture was in April."},
    ]
    assert "corrector-9f3a" not in response.content.decode()


@pytest.mark.parametrize("status", [PublicationStatus.WITHDRAWN, PublicationStatus.DRAFT])
def test_a_hidden_persons_corrections_never_appear(client, demo, status):
    person = f.PersonFactory(name="Hidden Person", status=PUBLISHED)
    Correction.objects.create(record=person, note="HIDDEN-CORRECTION-4e1b")
    reason = "Not the same man." if status == PublicationStatus.WITHDRAWN else ""
    Person.objects.filter(pk=person.pk).update(status=status, withdrawal_reason=reason)

    detail = client.get(f"/api/v1/persons/{person.public_id}/")
    assert detail.status_code == (410 if status == PublicationStatus.WITHDRAWN else 404)
    bodies = [detail.content, b"".join(client.get("/api/v1/export.jsonl").streaming_content)]
    bodies.append(get(client, f"/api/v1/persons/{demo.public_id}/").content)
    for body in bodies:
        assert b"HIDDEN-CORRECTION-4e1b" not in body


def test_person_detail_queries_do_not_grow_with_the_corrections(client, demo):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            data = get(client, f"/api/v1/persons/{demo.public_id}/").json()
        return len(ctx), len(data["corrections"])

    Correction.objects.create(record=demo, note="The first correction.")
    count()  # the first read of a process also looks up (and caches) the person's type
    before, one = count()
    for i in range(5):
        Correction.objects.create(record=demo, note=f"Correction {i}.")
    assert count() == (before, one + 5)


MARKER = "API-PRIVATE-91c2"


def test_drafts_and_private_fields_never_appear_in_any_read_endpoint(client, demo):
    for model in (Person, Event, Organization):
        model.objects.update(internal_notes=MARKER)
    draft = f.PersonFactory(name=f"Draft {MARKER}")
    draft_event = f.EventFactory(kind=Event.Kind.ESCAPE, date="2016", summary=MARKER)
    f.EventPersonFactory(event=draft_event, person=demo)
    f.EventPersonFactory(
        event=Event.objects.filter(kind=Event.Kind.CAPTURE).first(), person=draft, role="related"
    )
    draft_org = f.OrganizationFactory(name=f"Org {MARKER}")
    Organization.objects.filter(abbreviation="IMU").update(parent=draft_org)
    f.CitationFactory(
        event=Event.objects.filter(kind=Event.Kind.CAPTURE).first(),
        source=f.SourceFactory(title=MARKER, status=PublicationStatus.DRAFT),
        quote=MARKER,
    )
    bodies = []
    for name in LISTS:
        for fmt in ("json", "csv"):
            bodies.append(get(client, f"/api/v1/{name}/", format=fmt).content.decode())
        for row in get(client, f"/api/v1/{name}/").json()["results"]:
            bodies.append(get(client, f"/api/v1/{name}/{row['id']}/").content.decode())
    bodies.append(get(client, "/api/v1/persons/", search="Draft").content.decode())
    for body in bodies:
        assert MARKER not in body
    get(client, f"/api/v1/persons/{draft.public_id}/", status=404)
    get(client, f"/api/v1/events/{draft_event.public_id}/", status=404)


def test_a_person_row_written_directly_is_what_its_fields_give(demo):
    from rest_framework import serializers

    from detainees.api.serializers import PersonListSerializer
    from detainees.read.filters import people_for_listing

    serializer = PersonListSerializer()
    people = list(people_for_listing().prefetch_related("names"))
    assert len(people) == 3
    for person in people:
        generic = serializers.ModelSerializer.to_representation(serializer, person)
        assert serializer.to_representation(person) == generic
        assert list(serializer.to_representation(person)) == list(generic)  # column order


def test_a_page_of_person_rows_reads_names_and_nationalities_as_the_prefetch_gives_them(demo):
    from detainees.domain.models import PersonName
    from detainees.read.filters import people_for_listing
    from detainees.read.rows import person_row, with_row_parts

    many = f.PersonFactory(status=PUBLISHED, name="Zalmai Rahimi")
    for name, kind in [("Zalmay", "spelling"), ("Abu Zaid", "kunya"), ("Rahimi", "common")]:
        PersonName.objects.create(person=many, name=name, kind=kind)
    for country in ["PK", "AF", "UZ"]:  # entered in this order, not alphabetical
        f.NationalityFactory(person=many, country=country)
    f.PersonFactory(status=PUBLISHED, name="Nobody Else")  # no other name, no nationality
    prefetched = people_for_listing().prefetch_related("names", "nationalities").order_by("pk")
    expected = [person_row(person) for person in prefetched]
    rows = [person_row(person) for person in with_row_parts(people_for_listing().order_by("pk"))]
    assert rows == expected
    assert {"Zalmai Rahimi", "Nobody Else"} <= {row["name"] for row in rows}
    row = next(row for row in rows if row["name"] == "Zalmai Rahimi")
    assert row["other_names"] == ["Abu Zaid", "Rahimi", "Zalmay"]
    assert row["nationalities"] == ["PK", "AF", "UZ"]
