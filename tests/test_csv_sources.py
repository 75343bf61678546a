"""Every CSV row cites its sources: the people and events CSVs (streamed and the API's) carry each
row's public citations in the numbered source columns, equal to those the JSON Lines export and
the data package give for the same record; drafts and confidential sources never appear; and
the events list names each event's people and groups."""

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import (
    Citation,
    ClaimStatus,
    Event,
    EventOrganization,
    EventPerson,
    FacilityControl,
    Person,
    PublicationStatus,
    Source,
)
from detainees.read.citing import SOURCE_FIELDS, SOURCE_SLOTS, source_columns
from detainees.read.csvcells import strip_csv_guard
from detainees.read.listing import STATUS_EVENT_KINDS
from detainees.write.exports.package import collect, render
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
MARKER = "PRIVATE-MARKER-7731"
LWJ_2011 = "ISAF captures Islamic Movement of Uzbekistan's top commander for Afghanistan"
ISAF_STATEMENT = "ISAF statement announcing the capture of a senior IMU leader in Khanabad, Kunduz"


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:300]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode(), newline="")))


def slots(row: dict) -> list[dict]:
    """A CSV row's filled source groups, each as {field: text}, the formula guard removed."""
    found = []
    for slot in range(1, SOURCE_SLOTS + 1):
        group = {name: strip_csv_guard(row[f"source_{slot}_{name}"]) for name, _ in SOURCE_FIELDS}
        if any(group.values()):
            found.append(group)
    return found


def export_lines(client, types: str) -> list[dict]:
    response = client.get("/api/v1/export.jsonl", {"types": types})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in body.splitlines() if line]


def capture() -> Event:
    return Event.objects.get(kind=Event.Kind.CAPTURE, date="2011-04-20")


def bilal() -> Person:
    return Person.objects.get(slug="qari-bilal")


LWJ_URL = "https://www.longwarjournal.org/archives/2011/04/isaf_captures_islami.php"


@pytest.mark.parametrize("path", ["/events.csv", "/api/v1/events/?format=csv&page_size=500"])
def test_a_csv_row_of_the_demo_capture_carries_its_sources(client, demo, path):
    # The demo's copy of the LWJ report records no address (data/demo/README.md): give it one.
    Source.objects.filter(title=LWJ_2011).update(url=LWJ_URL)
    event = capture()
    row = next(r for r in csv_rows(client.get(path)) if r["id"] == str(event.public_id))

    cited = {group["title"]: group for group in slots(row)}
    lwj = cited[LWJ_2011]
    assert lwj["publisher"] == "FDD's Long War Journal (LWJ)"
    assert lwj["date"] == "2011-04"
    assert lwj["url"] == LWJ_URL
    assert (
        lwj["quote"]
        == "ISAF captures Islamic Movement of Uzbekistan’s top commander for Afghanistan"
    )
    assert lwj["claim_status"] == ClaimStatus.CONFIRMED
    assert lwj["supports"] == "LWJ's report of the capture at the time"
    isaf = cited[ISAF_STATEMENT]
    assert isaf["publisher"] == "International Security Assistance Force (ISAF)"
    assert isaf["date"] == "2011-04"
    assert isaf["quote"].startswith("Three years ago, ISAF announced the capture of a senior IMU")
    assert len(cited) == 4 and row["sources_more"] == "0"
    # The organizations and people keep their part in the event.
    assert row["organizations"].split("; ") == [
        "International Security Assistance Force (capturing_force)",
        "Afghan National Security Forces (partner_force)",
        "Islamic Movement of Uzbekistan (group)",
    ]
    assert row["people"].split("; ") == ["Qari Bilal (subject)", "Qari Sibghatullah (related)"]


def test_an_archived_address_stands_in_for_a_missing_one(client, demo):
    archived = "https://web.archive.org/web/2014/http://example.org/roggio"
    Source.objects.filter(title=ISAF_STATEMENT).update(url="", archived_url=archived)
    rows = csv_rows(client.get("/events.csv"))
    urls = {g["url"] for r in rows for g in slots(r) if g["title"] == ISAF_STATEMENT}
    assert urls == {archived}


@pytest.mark.parametrize(
    "path",
    [
        "/events.csv",
        "/people.csv",
        "/api/v1/events/?format=csv&page_size=500",
        "/api/v1/persons/?format=csv&page_size=500",
    ],
)
def test_a_draft_or_confidential_source_never_appears(client, demo, path):
    person = bilal()
    event = capture()
    name = person.names.get(is_primary=True)
    nationality = person.nationalities.first()
    draft = f.SourceFactory(title=f"{MARKER} draft", publisher=None)
    confidential = f.SourceFactory(title=f"{MARKER} informant", is_confidential=True)
    for source in (draft, confidential):
        for fact in ({"event": event}, {"person_name": name}, {"nationality": nationality}):
            Citation.objects.create(source=source, quote=f"{MARKER} passage", **fact)
    # A published source's unpublished publisher is not named either.
    secret_publisher = f.OrganizationFactory(name=f"{MARKER} desk")
    public = f.SourceFactory(status=PUBLISHED, title="Public report", publisher=secret_publisher)
    Citation.objects.create(source=public, event=event, quote="public passage")

    response = client.get(path)
    text = b"".join(response.streaming_content) if response.streaming else response.content
    text = text.decode()

    assert MARKER not in text
    assert "Public report" in text and "public passage" in text


def test_a_source_cell_that_would_run_as_a_formula_is_guarded_and_reads_back(client, demo):
    hostile = '=HYPERLINK("http://example.org","click")'
    source = f.SourceFactory(status=PUBLISHED, title=hostile)
    Citation.objects.create(source=source, event=capture(), quote="-2 dead")
    for path in ("/events.csv", "/api/v1/events/?format=csv&page_size=500"):
        rows = csv_rows(client.get(path))
        raw = [r[name] for r in rows for name in source_columns() if r[name].endswith('click")')]
        assert raw == ["'" + hostile], path
        titles = [g for r in rows for g in slots(r) if g["title"] == hostile]
        assert [g["quote"] for g in titles] == ["-2 dead"], path


def cited_pairs(citations) -> list[tuple[str, str]]:
    return [(c["source"]["name"], c["quote"]) for c in citations]


def test_the_events_csv_cites_what_the_json_lines_and_the_data_package_cite(client, demo):
    lines = export_lines(client, "events,sources")
    events = {line["id"]: line for line in lines if line["type"] == "event"}
    sources = {line["id"]: line for line in lines if line["type"] == "source"}
    package = render(collect())
    cited = list(csv.DictReader(io.StringIO(package["citations.csv"].decode(), newline="")))
    titles = {
        row["id"]: row["title"]
        for row in csv.DictReader(io.StringIO(package["sources.csv"].decode(), newline=""))
    }
    rows = {row["id"]: row for row in csv_rows(client.get("/events.csv"))}
    assert rows.keys() == events.keys()

    for public_id, row in rows.items():
        event = events[public_id]
        expected = [
            {
                "title": c["source"]["name"],
                "publisher": (sources[c["source"]["id"]]["publisher"] or {}).get("name", ""),
                "date": sources[c["source"]["id"]]["published"]["edtf"] or "",
                "url": sources[c["source"]["id"]]["url"]
                or sources[c["source"]["id"]]["archived_url"],
                "quote": c["quote"],
                "claim_status": event["claim_status"],
                "supports": c["aspect"],
            }
            for c in event["citations"]
        ]
        assert slots(row) == expected[:SOURCE_SLOTS], public_id
        assert int(row["sources_more"]) == max(len(expected) - SOURCE_SLOTS, 0)
        in_package = [(titles[c["source"]], c["quote"]) for c in cited if c["event"] == public_id]
        assert sorted(in_package) == sorted(cited_pairs(event["citations"])), public_id
    assert sum(len(slots(row)) for row in rows.values()) >= 10


def deciding(timeline: list[dict]) -> set[str]:
    """The ids of the events a people row's dates and status come from, read from the JSON
    Lines timeline (in timeline order): the first capture, the last release, the last
    status-changing event."""
    timeline = [e for e in timeline if e["claim_status"] != ClaimStatus.RETRACTED]
    found = set()
    captures = [e for e in timeline if e["kind"] in ("capture", "disappearance", "custody")]
    dated = [e for e in captures if e["date"]["earliest"]]
    if dated or captures:
        found.add(
            min(dated, key=lambda e: e["date"]["earliest"])["id"] if dated else captures[0]["id"]
        )
    releases = [e for e in timeline if e["kind"] == "release"]
    if releases:
        latest = max(e["date"]["earliest"] or "" for e in releases)
        found.add([e for e in releases if (e["date"]["earliest"] or "") == latest][-1]["id"])
    changing = [e for e in timeline if e["kind"] in STATUS_EVENT_KINDS]
    if changing:
        found.add(changing[-1]["id"])
    return found


def test_the_people_csv_cites_what_the_json_lines_give_for_the_rows_facts(client, demo):
    lines = export_lines(client, "persons")
    people = {line["id"]: line for line in lines if line["type"] == "person"}
    # Everyone, not only the detainees the list shows by default: the export has everyone.
    rows = {row["id"]: row for row in csv_rows(client.get("/people.csv", {"who": "all"}))}
    api = {
        row["id"]: row
        for row in client.get("/api/v1/persons/", {"page_size": 500}).json()["results"]
    }
    assert rows.keys() == people.keys() == api.keys()

    for public_id, row in rows.items():
        person = people[public_id]
        events = deciding(person["timeline"])
        expected = [
            *(c for e in person["timeline"] if e["id"] in events for c in e["citations"]),
            *(c for n in person["names"] for c in n["citations"]),
            *(c for n in person["nationalities"] for c in n["citations"]),
        ]
        listed = api[public_id]["citations"]
        assert sorted(cited_pairs(listed)) == sorted(cited_pairs(expected)), public_id
        # The CSV's groups are the list row's citations, in its order, and count the rest.
        assert [(g["title"], g["quote"]) for g in slots(row)] == cited_pairs(listed)[:SOURCE_SLOTS]
        assert int(row["sources_more"]) == max(len(listed) - SOURCE_SLOTS, 0)

    qari = rows[str(bilal().public_id)]
    groups = slots(qari)
    assert groups[0]["supports"].startswith("first capture (capture, 2011-04-20)")
    assert {g["title"] for g in groups} >= {ISAF_STATEMENT, LWJ_2011}
    assert all(g["publisher"] and g["date"] and g["claim_status"] for g in groups)
    assert int(qari["sources_more"]) > 0


def test_the_api_people_list_reads_its_citations_in_the_same_queries_for_one_row_and_many(
    client, demo
):
    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/persons/", {"page_size": 100, "format": "csv"})
        assert response.status_code == 200
        return len(ctx), len(csv_rows(response))

    before = count()
    for n in range(12):
        person = f.PersonFactory(name=f"Cited {n}", status=PUBLISHED)
        event = f.EventFactory(
            status=PUBLISHED, kind=Event.Kind.CAPTURE, date=f"2012-01-{n + 1:02}"
        )
        EventPerson.objects.create(event=event, person=person)
        source = f.SourceFactory(status=PUBLISHED)
        Citation.objects.create(source=source, event=event, quote=f"captured {n}")
    after = count()
    assert after[1] == before[1] + 12
    assert after[0] == before[0]


def test_the_events_list_names_the_people_and_groups_of_each_event(client, demo):
    response = client.get("/events/", {"group": "imu", "province": "kunduz-province"})
    assert response.status_code == 200
    event = capture()
    assert event in response.context["page"].rows
    html = response.content.decode()
    row = html[html.index(event.summary) : html.index("</tr>", html.index(event.summary))]
    assert '<a href="/people/qari-bilal/">Qari Bilal</a>' in row
    assert (
        'Target group:</span> <a href="/organizations/imu/">Islamic Movement of Uzbekistan</a>'
        in row
    )
    assert "Capturing force:" in row and "International Security Assistance Force" in row
    # A draft person or organization in the event is not named.
    EventPerson.objects.create(event=event, person=f.PersonFactory(name=MARKER))
    EventOrganization.objects.create(
        event=event, organization=f.OrganizationFactory(name=MARKER), role="other"
    )
    assert MARKER not in client.get("/events/").content.decode()


def test_the_imu_in_kunduz_includes_qari_bilals_capture_in_the_list_and_its_csv(client, demo):
    params = {"group": "imu", "province": "kunduz-province"}
    listed = client.get("/events/", params).context["page"].rows
    event = capture()
    assert event in listed
    rows = csv_rows(client.get("/events.csv", params))
    assert [r["id"] for r in rows] == [str(e.public_id) for e in listed]
    row = next(r for r in rows if r["id"] == str(event.public_id))
    assert "Islamic Movement of Uzbekistan (group)" in row["organizations"]


def test_the_facilities_csv_cites_the_sources_of_each_period_of_control(client, demo):
    control = FacilityControl.objects.get(
        facility__slug="parwan-detention-facility", controller__abbreviation="USFOR-A"
    )
    confidential = f.SourceFactory(title=f"{MARKER} informant", is_confidential=True)
    Citation.objects.create(source=confidential, facility_control=control, quote=MARKER)

    response = client.get("/api/v1/facilities/", {"format": "csv", "page_size": 500})
    assert MARKER not in response.content.decode()
    row = next(r for r in csv_rows(response) if r["slug"] == "parwan-detention-facility")

    assert row["controls"] == (
        "United States Forces – Afghanistan (USFOR-A) (controller); "
        "Government of Afghanistan (controller)"
    )
    groups = slots(row)
    assert [g["supports"] for g in groups] == [
        "United States Forces – Afghanistan (USFOR-A) (controller) — end of US control",
        "Government of Afghanistan (controller) — start of Afghan control",
    ]
    assert {(g["title"], g["publisher"], g["date"]) for g in groups} == {
        (
            "Senior IMU leader captured by ISAF in 2011 now leads fight in northern Afghanistan",
            "FDD's Long War Journal (LWJ)",
            "2014",
        )
    }
    assert all(g["quote"].startswith("The US transferred control") for g in groups)


def test_the_batches_csv_cites_the_batch_decisions_sources(client, demo):
    response = client.get("/api/v1/batches/", {"format": "csv"})
    (row,) = csv_rows(response)
    groups = slots(row)
    assert len(groups) == 2 and row["sources_more"] == "0"
    assert [g["supports"] for g in groups] == [
        "65 of 88 released, February 2014",
        "some of those freed may have been behind insider attacks",
    ]
    assert {g["publisher"] for g in groups} == {"FDD's Long War Journal (LWJ)"}
    assert all(g["claim_status"] == row["claim_status"] for g in groups)
    data = client.get("/api/v1/batches/").json()["results"][0]
    assert [(c["source"]["name"], c["quote"]) for c in data["citations"]] == [
        (g["title"], g["quote"]) for g in groups
    ]
