"""The public site: facets that count what they filter, sourced person pages, nothing private."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import Correction, Event, Organization, Person, PublicationStatus
from detainees.read.facets import FACETS
from detainees.read.listing_store import deferred
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED


@pytest.fixture
def demo(demo):
    return Person.objects.get(slug="qari-bilal")


def listed(client, **params) -> list[str]:
    response = client.get("/people/", params)
    assert response.status_code == 200, response.content[:500]
    return [p.sort_name for p in response.context["page"].rows]


def csv_rows(client, **params) -> list[dict]:
    response = client.get("/people.csv", params)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def published_person(name, **kwargs):
    return f.PersonFactory(name=name, status=PUBLISHED, **kwargs)


def published_event(person, **kwargs):
    event = f.EventFactory(status=PUBLISHED, **kwargs)
    f.EventPersonFactory(event=event, person=person)
    return event


def test_every_facet_value_narrows_the_list_to_exactly_its_count(client, demo):
    other = published_person("Mullah Example")
    published_event(other, kind=Event.Kind.CAPTURE, date="2010-05")
    response = client.get("/people/")
    facets = dict((field.name, counts) for field, counts in response.context["facets"])
    assert set(facets) == set(FACETS)
    checked = 0
    for name, counts in facets.items():
        for value, _label, n in counts:
            names = listed(client, **{name: value})
            assert len(names) == n, (name, value, names)
            checked += 1
    assert checked >= 15


def test_facets_combine_and_counts_follow_the_selection(client, demo):
    names = listed(client, status="released", reengaged="confirmed", nationality="UZ")
    assert names == ["Qari Bilal"]
    response = client.get("/people/", {"status": "released"})
    counts = dict((field.name, c) for field, c in response.context["facets"])
    assert [(v, n) for v, _, n in counts["status"]] == [("released", 1)]
    assert listed(client, status="released", nationality="PK") == []


def test_the_journalists_question_finds_qari_bilal(client, demo):
    afghan = Organization.objects.get(name="Government of Afghanistan")
    names = listed(
        client,
        release_authority=afghan.slug,
        released_from="2013",
        released_to="2014",
        released_reading="possibly",
        reengaged="confirmed",
    )
    assert names == ["Qari Bilal"]


def test_possibly_and_certainly_differ_on_the_qari_bilal_releases(client, demo):
    # His releases are dated "between 20 April 2011 and 2014": possibly in 2013-2014,
    # not certainly.
    possibly = listed(client, released_from="2013", released_to="2014", released_reading="possibly")
    certainly = listed(
        client, released_from="2013", released_to="2014", released_reading="certainly"
    )
    assert "Qari Bilal" in possibly
    assert "Qari Bilal" not in certainly
    wide = listed(client, released_from="2011", released_to="2014", released_reading="certainly")
    assert "Qari Bilal" in wide


def test_date_filters_take_words_and_edtf_and_refuse_nonsense(client, demo):
    assert listed(client, captured_from="spring 2011", captured_to="2011-04") == ["Qari Bilal"]
    response = client.get("/people/", {"captured_from": "next tuesday"})
    assert response.status_code == 400
    assert "next tuesday" in response.content.decode()


def test_sorting_by_name_capture_and_release(client, demo):
    a = published_person("Aaron Test")
    published_event(a, kind=Event.Kind.CAPTURE, date="2009")
    z = published_person("Zed Test")
    published_event(z, kind=Event.Kind.CAPTURE, date="2012")
    assert listed(client, sort="name")[0] == "Aaron Test"
    assert listed(client, sort="-name")[0] == "Zed Test"
    by_capture = listed(client, sort="captured")
    assert by_capture.index("Aaron Test") < by_capture.index("Qari Bilal")
    assert by_capture.index("Qari Bilal") < by_capture.index("Zed Test")
    assert listed(client, sort="-captured")[0] == "Zed Test"
    assert listed(client, sort="-released")[0] == "Qari Bilal"


def test_pages_follow_each_other_without_gaps_or_repeats(client):
    for i in range(7):
        published_person(f"Person {i:02d}")
    seen, after = [], None
    while True:
        params = {"size": 3, "who": "all", **({"after": after} if after else {})}
        page = client.get("/people/", params).context["page"]
        seen += [p.sort_name for p in page.rows]
        after = page.next_cursor
        if not after:
            break
    assert seen == [f"Person {i:02d}" for i in range(7)]


def test_a_bad_cursor_is_a_400(client):
    assert client.get("/people/", {"after": "nonsense"}).status_code == 400


def test_the_csv_is_exactly_the_current_selection_in_order(client, demo):
    params = {"status": "released", "sort": "name"}
    on_screen = listed(client, **params)
    rows = csv_rows(client, **params)
    assert [r["name"] for r in rows] == on_screen
    assert rows[0]["last_release"] == "2011-04-20/2014"
    everyone = csv_rows(client)
    assert [r["name"] for r in everyone] == listed(client)
    for sort in ("captured", "-captured", "released", "-released", "-name"):
        assert [r["name"] for r in csv_rows(client, sort=sort)] == listed(client, sort=sort), sort


def test_the_list_runs_the_same_queries_for_one_row_and_fifty(client):
    def queries_for_page():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/people/")
        assert response.status_code == 200
        return len(ctx), len(response.context["page"].rows)

    person = published_person("Only One")
    published_event(person, kind=Event.Kind.CAPTURE)
    one = queries_for_page()
    with deferred():  # the stored lists recomputed once for the 49 people
        for i in range(49):
            p = published_person(f"Person {i}")
            published_event(p, kind=Event.Kind.RELEASE, date="2013")
            f.NationalityFactory(person=p, country="AF")
    fifty = queries_for_page()
    assert (one[1], fifty[1]) == (1, 50)
    assert one[0] == fifty[0]


def test_the_person_page_runs_the_same_queries_whatever_the_timeline_length(client, demo):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/people/qari-bilal/").status_code == 200
        return len(ctx)

    queries()  # the first read of a process also looks up (and caches) the person's type
    before = queries()
    for year in range(2015, 2020):
        event = published_event(
            demo, kind=Event.Kind.REENGAGEMENT, reengagement="suspected", date=str(year)
        )
        f.CitationFactory(event=event, source=f.SourceFactory(status=PUBLISHED))
    assert queries() == before


def test_the_person_page_lists_its_corrections_in_the_same_queries_however_many(client, demo):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/people/qari-bilal/")
        return len(ctx), response.content.decode()

    Correction.objects.create(record=demo, date="2024-05-02", note="The capture was in April.")
    queries()  # the first read of a process also looks up (and caches) the person's type
    before, html = queries()
    assert "2 May 2024</time>: The capture was in April." in html
    for i in range(5):
        Correction.objects.create(record=demo, note=f"Correction {i}.")
    after, html = queries()
    assert after == before
    assert "Correction 4." in html


def test_the_person_page_shows_every_fact_with_footnotes_to_its_sources(client, demo):
    html = client.get("/people/qari-bilal/").content.decode()
    assert "Released (" in html and "re-engaged, confirmed" in html
    assert "20 April 2011" in html and "Khanabad" in html
    assert "Inferred, not stated by a source" in html  # the Parwan custody
    assert "Qari Belal" in html
    assert "Uzbekistan" in html
    refs = set(re.findall(r'href="#note-(\d+)"', html))
    notes = set(re.findall(r'id="note-(\d+)"', html))
    assert refs and refs == notes
    assert "Kunduz police chief, to Pajhwok Afghan News" in html
    assert "(no public source)" not in html
    assert "/id/" in html and "Cite this record" in html
    assert "Qari Sibghatullah" in html  # related person


def test_the_permalink_redirects_to_the_person_page(client, demo):
    response = client.get(f"/id/{demo.public_id}/")
    assert response.status_code == 301
    assert response["Location"] == "/people/qari-bilal/"


MARKER = "PRIVATE-MARKER-7f3a"


def test_drafts_and_private_notes_never_reach_the_list_page_or_csv(client, demo):
    demo.internal_notes = MARKER
    demo.save()
    Event.objects.filter(people__person=demo).update(internal_notes=MARKER)
    draft = f.PersonFactory(name=f"Draft {MARKER}", status=PublicationStatus.DRAFT)
    published_event(draft, kind=Event.Kind.CAPTURE)
    draft_event = f.EventFactory(kind=Event.Kind.ESCAPE, date="2015", summary=MARKER)
    f.EventPersonFactory(event=draft_event, person=demo)
    draft_source = f.SourceFactory(title=MARKER, status=PublicationStatus.DRAFT)
    capture = Event.objects.filter(people__person=demo, kind=Event.Kind.CAPTURE).first()
    f.CitationFactory(event=capture, source=draft_source, quote=MARKER)
    pages = [
        client.get("/people/"),
        client.get("/people/", {"status": "unknown"}),
        client.get("/people/", {"q": "Draft"}),
        client.get("/people/qari-bilal/"),
        client.get("/search/", {"q": "Draft"}),
    ]
    for response in pages:
        assert response.status_code == 200
        assert MARKER not in response.content.decode()
    for params in ({}, {"q": "Draft"}):
        response = client.get("/people.csv", params)
        assert MARKER not in b"".join(response.streaming_content).decode()
    assert client.get(f"/people/{draft.slug}/").status_code == 404
    assert client.get(f"/id/{draft.public_id}/").status_code == 404


def test_conflicting_release_dates_are_shown_side_by_side_with_their_sources(client):
    person = published_person("Mullah Disputed")
    published_event(person, kind=Event.Kind.CAPTURE, date="2010")
    for date, title in (("2013-05", "Report A"), ("2014-02", "Report B")):
        event = published_event(
            person, kind=Event.Kind.RELEASE, date=date, claim_status="disputed", summary=title
        )
        f.CitationFactory(event=event, source=f.SourceFactory(title=title, status=PUBLISHED))
    html = client.get(person.get_absolute_url()).content.decode()
    section = html.split("Where sources disagree")[1].split("</section>")[0]
    assert "Release: 2 accounts" in section
    assert "May 2013" in section and "February 2014" in section
    assert "Report A" in section and "Report B" in section


def test_people_in_the_same_batch_are_related(client):
    a = published_person("Batch Member A")
    b = published_person("Batch Member B")
    batch = f.ReleaseBatchFactory(status=PUBLISHED)
    f.BatchMembershipFactory(batch=batch, person=a)
    f.BatchMembershipFactory(batch=batch, person=b)
    hidden = f.PersonFactory(name="Batch Draft Member")
    f.BatchMembershipFactory(batch=batch, person=hidden)
    html = client.get(a.get_absolute_url()).content.decode()
    related = html.split("Related people")[1].split("</section>")[0]
    assert "Batch Member B" in related and "same batch" in related
    assert "Batch Draft Member" not in html


def test_a_draft_person_and_private_notes_stay_off_feeds_figures_and_other_pages(client, demo):
    from detainees.domain.models import Facility, Organization, Place, ReleaseBatch, Source

    draft = f.PersonFactory(name=f"Hidden {MARKER}")
    release = published_event(draft, kind=Event.Kind.RELEASE, date="2013", summary="Freed")
    release.internal_notes = MARKER
    release.save()
    Organization.objects.update(internal_notes=MARKER)
    Facility.objects.update(internal_notes=MARKER)
    Source.objects.update(internal_notes=MARKER)
    for model in (Organization, Facility, Place, ReleaseBatch, Source):
        for obj in model.objects.published():
            html = client.get(obj.get_absolute_url()).content.decode()
            assert MARKER not in html, obj
    for url in ("/feeds/releases/", "/people/qari-bilal/feed/", "/figures/", "/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert MARKER not in response.content.decode(), url
    assert client.get(f"/people/{draft.slug}/feed/").status_code == 404
