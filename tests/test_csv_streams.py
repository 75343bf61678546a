"""The streamed CSVs of whole lists (/people.csv, /events.csv): the API's rows, the list's
selection and order, published records only, a fixed number of queries."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.api.serializers import EventSerializer, PersonListSerializer
from detainees.domain.models import (
    ClaimStatus,
    Event,
    EventOrganization,
    EventPerson,
    PersonName,
    PublicationStatus,
)
from detainees.read.citing import csv_columns
from detainees.read.listing_store import deferred
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
MARKER = "PRIVATE-MARKER-5520"


def streamed(client, path, **params) -> str:
    response = client.get(path, params)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def api_rows(client, path: str) -> dict[str, list[str]]:
    """The API's CSV rows by id, following its pages."""
    by_id, url, params = {}, path, {"format": "csv", "page_size": 500}
    while url:
        response = client.get(url, params)
        assert response.status_code == 200
        header, *body = rows(response.content.decode())
        by_id.update({row[0]: row for row in body})
        link = response.get("Link", "")
        url, params = (link[1 : link.index(">")], {}) if link else (None, None)
    return header, by_id


def busy_event(*, date="2012-03-04", **kwargs):
    """A published event with everything a row shows, some of it unpublished or private."""
    n = Event.objects.count()
    place = f.PlaceFactory(name=f"Kunar {n}", status=PUBLISHED)
    event = f.EventFactory(
        status=PUBLISHED,
        date=date,
        place=place,
        facility=f.FacilityFactory(status=PUBLISHED),
        summary="Night raid, with a comma",
        description='Two lines,\nand "quotes"',
        unnamed_count=3,
        internal_notes=MARKER,
        **kwargs,
    )
    shown = f.PersonFactory(name="Mullah Shown", status=PUBLISHED)
    PersonName.objects.create(person=shown, name="Shown Alias")
    f.EventPersonFactory(event=event, person=shown)
    f.EventPersonFactory(event=event, person=f.PersonFactory(name=MARKER))  # a draft person
    unnamed = f.PersonFactory(name=False, status=PUBLISHED)
    f.EventPersonFactory(event=event, person=unnamed, role=EventPerson.Role.RELATED)
    for org, role in (
        (f.OrganizationFactory(name=f"ISAF {n}", status=PUBLISHED), "capturing_force"),
        (f.OrganizationFactory(name=f"{MARKER} {n}"), "group"),  # a draft organization
    ):
        EventOrganization.objects.create(event=event, organization=org, role=role)
    for i in (1, 2):
        source = f.SourceFactory(status=PUBLISHED, title=f"Report {i} on {n}")
        f.CitationFactory(source=source, event=event, quote=f"Passage {i}")
    confidential = f.SourceFactory(status="draft", is_confidential=True, title=MARKER)
    f.CitationFactory(source=confidential, event=event, quote=MARKER)
    f.CitationFactory(source=f.SourceFactory(title=MARKER), event=event, quote=MARKER)  # a draft
    return event


def test_events_csv_rows_are_the_apis_rows_of_the_listed_events_in_list_order(client, demo):
    busy_event()
    busy_event(date="", kind=Event.Kind.STRIKE)  # undated: last
    draft_place = f.PlaceFactory(name=MARKER)
    f.EventFactory(status=PUBLISHED, date="2013", place=draft_place)
    f.EventFactory(status=PUBLISHED, date="2013", batch=None, kind=Event.Kind.DEATH)

    header, *body = rows(streamed(client, "/events.csv"))

    api_header, api = api_rows(client, "/api/v1/events/")
    assert header == api_header == csv_columns(EventSerializer().fields)
    assert [row for row in body] == [api[row[0]] for row in body]
    listed = client.get("/events/", {"size": 200}).context["page"].rows
    assert [row[0] for row in body] == [str(e.public_id) for e in listed]
    undated = [row[header.index("date")] == "" for row in body]
    assert undated == sorted(undated) and undated[-1]  # undated events come last


def test_events_csv_takes_the_events_pages_filters(client, demo):
    busy_event()
    busy_event(date="2010-01", kind=Event.Kind.STRIKE)
    for params in ({"kind": "capture"}, {"kind": "strike"}, {"year": "2010"}, {"year": "1066"}):
        _, *body = rows(streamed(client, "/events.csv", **params))
        listed = client.get("/events/", {**params, "size": 200}).context["page"].rows
        assert [row[0] for row in body] == [str(e.public_id) for e in listed], params


def test_drafts_retracted_events_and_private_fields_stay_out_of_events_csv(client):
    shown = busy_event()
    f.EventFactory(summary=MARKER)  # a draft
    f.EventFactory(status=PUBLISHED, summary=MARKER, claim_status=ClaimStatus.RETRACTED)
    f.EventFactory(status="withdrawn", summary=MARKER)

    text = streamed(client, "/events.csv")

    assert MARKER not in text
    header, row = rows(text)
    assert row[0] == str(shown.public_id)
    cells = dict(zip(header, row, strict=True))
    assert cells["people"].startswith("Mullah Shown (subject); Unnamed person ")
    assert cells["people"].endswith(" (related)")
    assert cells["organizations"] == "ISAF 0 (capturing_force)"
    # The two public citations, each with its source; the draft and confidential ones nowhere.
    cited = [(cells[f"source_{i}_title"], cells[f"source_{i}_quote"]) for i in (1, 2, 3)]
    assert cited == [("Report 1 on 0", "Passage 1"), ("Report 2 on 0", "Passage 2"), ("", "")]
    assert cells["source_1_claim_status"] == shown.claim_status
    assert cells["sources_more"] == "0"
    assert cells["place"] == "Kunar 0 (province)"
    assert cells["description"] == 'Two lines,\nand "quotes"'


def queries(client, path) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        text = streamed(client, path)
    return len(ctx), len(rows(text)) - 1


def test_events_csv_runs_the_same_queries_for_one_event_and_forty(client):
    busy_event()
    one = queries(client, "/events.csv")
    with deferred():  # the stored lists recomputed once for the 39 events
        for day in range(1, 40):
            busy_event(date=f"2012-{1 + day // 28:02}-{1 + day % 28:02}")
    forty = queries(client, "/events.csv")
    assert (one[1], forty[1]) == (1, 40)
    assert one[0] == forty[0]


def test_people_csv_rows_are_the_apis_rows_in_list_order(client, demo):
    busy_event()
    person = f.PersonFactory(name="Zia Example", status=PUBLISHED)
    PersonName.objects.create(person=person, name="Alias B")
    PersonName.objects.create(person=person, name="Alias A")
    f.NationalityFactory(person=person, country="PK")
    f.NationalityFactory(person=person, country="AF")
    f.PersonFactory(name=False, status=PUBLISHED)

    for params in (
        {},
        {"sort": "-name"},
        {"sort": "-captured"},
        {"sort": "released"},
        {"q": "Bilal"},
        {"who": "all"},
        {"who": "all", "sort": "-name"},
    ):
        header, *body = rows(streamed(client, "/people.csv", **params))
        api_header, api = api_rows(client, "/api/v1/persons/")
        assert header == api_header == csv_columns(PersonListSerializer().fields)
        assert body and [row for row in body] == [api[row[0]] for row in body], params
    _, *body = rows(streamed(client, "/people.csv", sort="name", who="all"))
    zia = next(row for row in body if row[0] == str(person.public_id))
    assert zia[3:5] == ["Alias A; Alias B", "PK; AF"]


def test_people_csv_runs_the_same_queries_for_one_person_and_forty(client):
    def add(n):
        person = f.PersonFactory(name=f"Person {n}", status=PUBLISHED)
        alias = PersonName.objects.create(person=person, name=f"Alias {n}")
        nationality = f.NationalityFactory(person=person)
        event = f.EventFactory(status=PUBLISHED, kind=Event.Kind.CAPTURE, date="2012")
        f.EventPersonFactory(event=event, person=person)
        # The sources of the row's name, nationality and capture, each in its own columns.
        public = f.SourceFactory(
            status=PUBLISHED, publisher=f.OrganizationFactory(status=PUBLISHED)
        )
        for fact in (
            {"person_name": alias, "event": None},
            {"nationality": nationality, "event": None},
            {"event": event},
        ):
            f.CitationFactory(source=public, **fact)
        f.CitationFactory(source=f.SourceFactory(title=MARKER), event=event)  # a draft source

    add(0)
    one = queries(client, "/people.csv")
    with deferred():  # the stored lists recomputed once for the 39 people
        for n in range(1, 40):
            add(n)
    forty = queries(client, "/people.csv")
    assert (one[1], forty[1]) == (1, 40)
    assert one[0] == forty[0]
    header, *body = rows(streamed(client, "/people.csv"))
    assert MARKER not in str(body)
    assert all(row[header.index("source_3_title")] for row in body)  # three sources each


def test_events_csv_read_by_keyset_equals_the_ordered_query_read_whole(demo):
    """Chunks of three events, each starting after the last row of the one before, give the
    same rows, cell for cell and in the same order, as the list's ordering read in one go."""
    from django.db.models import F

    from detainees.domain.models import Event
    from detainees.read.filters import events_for_listing
    from detainees.web.streams import event_rows, latest_first

    # Undated events and events sharing a date, so ties and the undated tail cross chunks.
    dated = list(Event.objects.public().order_by("pk")[:4])
    Event.objects.filter(pk__in=[e.pk for e in dated[:2]]).update(
        date="", date_earliest=None, date_latest=None
    )
    Event.objects.filter(pk__in=[e.pk for e in dated[2:]]).update(
        date="2011-04-20", date_earliest="2011-04-20", date_latest="2011-04-20"
    )
    events = events_for_listing()
    whole = list(event_rows(events.order_by(F("date_earliest").desc(nulls_last=True), "-pk")))
    by_keyset = list(event_rows(events, chunked=lambda values: latest_first(values, size=3)))
    assert len(whole) > 6
    assert by_keyset == whole


def generated_events_with_every_kind_of_cell():
    """A generated dataset (drafts, retracted events, unpublished links, confidential sources,
    multi-person events), with withheld and unnamed people, a draft person, place and source,
    a publisher with an abbreviation and a draft one, and text cells a spreadsheet would run
    (some already starting with the guard's quote), in the events and in what they cite."""
    from detainees.domain.models import Citation, Organization, Person, Place, Source
    from detainees.synthetic import generate_dataset

    generate_dataset(persons=80, events=600, seed=3)
    events = Event.objects.public().order_by("pk")
    roles = EventPerson.objects.filter(event__in=events, person__status=PUBLISHED)
    people = list(dict.fromkeys(roles.order_by("pk").values_list("person_id", flat=True)))[:3]
    first, second, third = people
    PersonName.objects.filter(person_id=first).delete()
    Person.objects.filter(pk=first).update(withheld=["name"])
    PersonName.objects.filter(person_id=second).delete()
    Person.objects.filter(pk=third).update(status="draft")
    placed = events.filter(place__isnull=False).first()
    Place.objects.filter(pk=placed.place_id).update(status="draft")
    # Four citations of four public sources, each the first citation of its event.
    cited = {}
    for citation in Citation.objects.filter(
        event__in=events, source__in=Source.objects.public()
    ).order_by("event_id", "pk"):
        if citation.event_id not in {c.event_id for c in cited.values()}:
            cited.setdefault(citation.source_id, citation)
    cited = list(cited.values())[:4]
    Source.objects.filter(pk=cited[0].source_id).update(status="draft")
    Source.objects.filter(pk=cited[1].source_id).update(title="=HYPERLINK(1)")
    Citation.objects.filter(pk=cited[2].pk).update(quote="'@SUM(A1)", aspect="-x")
    Citation.objects.filter(pk=cited[3].pk).update(quote="", locator="p. 1")
    published = Source.objects.public().filter(citations__event__in=events)
    publisher = published.filter(publisher__isnull=False).first().publisher_id
    Organization.objects.filter(pk=publisher).update(abbreviation="ANA")
    other = published.filter(publisher__isnull=False).exclude(publisher_id=publisher).first()
    Organization.objects.filter(pk=other.publisher_id).update(status="draft")
    listed = events.filter(place__isnull=True)[:3]
    Event.objects.filter(pk=listed[0].pk).update(summary="+1 raid", operation="\tTAB")
    Event.objects.filter(pk=listed[1].pk).update(description="'=x", strength_note="@a")
    Event.objects.filter(pk=listed[2].pk).update(date="", date_earliest=None, date_latest=None)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kabul"])
def test_events_csv_equals_the_apis_csv_on_generated_data_with_every_kind_of_cell(
    client, db, settings, zone
):
    """Every row and cell of /events.csv (read in keyset pages, its ids and timestamps as text,
    its cells guarded once) as the API's CSV writes the same events, in the list's order; in
    UTC PostgreSQL writes the timestamps, elsewhere Python does."""
    settings.TIME_ZONE = zone
    generated_events_with_every_kind_of_cell()

    text = streamed(client, "/events.csv")

    header, *body = rows(text)
    api_header, api = api_rows(client, "/api/v1/events/")
    assert header == api_header
    assert len(body) == len(api) == Event.objects.public().count()
    assert body == [api[row[0]] for row in body]
    from django.db.models import F

    from detainees.read.filters import events_for_listing

    listed = events_for_listing().order_by(F("date_earliest").desc(nulls_last=True), "-pk")
    assert [row[0] for row in body] == [str(e.public_id) for e in listed]
    assert "'=HYPERLINK(1)" in text and "''@SUM(A1)" in text and "'+1 raid" in text
    # Read in pages of three the rows are the same, cell for cell.
    from detainees.web.streams import event_rows, latest_first

    paged = event_rows(events_for_listing(), chunked=lambda values: latest_first(values, size=3))
    assert [["" if c is None else str(c) for c in row] for row in paged] == body
