"""The person page as a journalist reads it: a summary first, the timeline with each fact's
notes beside it, one note per source passage leading back to every fact it supports, the marks
of inferred and disputed facts explained on the page, and no typographic slips."""

import html as html_lib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.fuzzydates import humanize
from detainees.domain.models import (
    Citation,
    ClaimStatus,
    Event,
    Person,
    PublicationStatus,
    Source,
)
from detainees.read.listing import CurrentStatus
from detainees.read.person import Footnotes, letter, passage_key, person_page, person_queryset
from detainees.read.timeline import custodians, span_text
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
PATH = "/people/qari-bilal/"


@pytest.fixture
def bilal(demo):
    return Person.objects.get(slug="qari-bilal")


def get(client, path=PATH) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


BLOCK_TAG = (
    r"</?(?:p|li|ol|ul|dl|dt|dd|div|h\d|section|header|blockquote|br|table|tr|td|th)\b[^>]*>"
)


def main_text(html: str) -> str:
    """The page's main content as a reader sees it: tags dropped, entities read, spaces as one."""
    body = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    body = re.sub(BLOCK_TAG, " ", body)  # a block ends a word; an inline tag does not
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", body)).split())


def notes_of(html: str) -> dict[str, str]:
    """Each note's markup by its number."""
    section = html.split('class="footnotes"', 1)[1].split("</section>", 1)[0]
    return dict(re.findall(r'<li id="note-(\d+)"[^>]*>(.*?)</li>', section, re.S))


def public_citations_of(person) -> list[Citation]:
    """Every public citation the person's page rests on, read from the database directly."""
    events = Event.objects.public().filter(people__person=person, people__role="subject")
    facts = (
        Citation.objects.filter(event__in=events)
        | Citation.objects.filter(person=person)
        | Citation.objects.filter(person_name__person=person)
        | Citation.objects.filter(nationality__person=person)
        | Citation.objects.filter(affiliation__person=person)
        | Citation.objects.filter(batch_membership__person=person)
        | Citation.objects.filter(relationship__person=person)
        | Citation.objects.filter(relationship__other=person)
    )
    unique = {c.pk: c for c in facts.select_related("source__publisher")}
    return [c for c in unique.values() if c.source.is_public]


# --- The summary ------------------------------------------------------------------------------


def test_the_summary_gives_status_since_when_how_sure_custodian_facility_and_sources(client, bilal):
    summary = person_page(person_queryset().get(pk=bilal.pk))["summary"]
    releases = Event.objects.filter(people__person=bilal, kind=Event.Kind.RELEASE)
    # The last release decides the status (the two share a date; the order hint sets them).
    deciding = releases.order_by("order_hint").last()
    assert summary.status.status == CurrentStatus.RELEASED
    assert summary.status.entry.obj == deciding
    assert summary.status.claim_status == deciding.claim_status == ClaimStatus.REPORTED
    assert summary.status.since == "between 20 April 2011 and 2014"

    parwan = Event.objects.get(
        people__person=bilal, kind=Event.Kind.CUSTODY, facility__isnull=False
    )
    assert summary.custody.entry.obj == parwan
    assert not summary.custody.current
    # The timeline's own derivation: the facility's controller at the end of the episode.
    assert summary.custody.custodian.organization == custodians(parwan)[-1].organization
    assert summary.custody.custodian.organization.name == "Government of Afghanistan"
    assert summary.custody.facility == parwan.facility

    cited = public_citations_of(bilal)
    sources = {c.source for c in cited}
    publishers = {s.publisher_id for s in sources}
    assert None not in publishers  # every demo source names its publisher
    assert (summary.sources.sources, summary.sources.independent) == (
        len(sources),
        len(publishers),
    )
    assert summary.sources.independent < summary.sources.sources  # two LWJ articles count once

    text = main_text(get(client))
    glance = text.split("At a glance", 1)[1].split("Status: Released (", 1)[0]
    assert "Status Released Reported" in glance
    assert "Since between 20 April 2011 and 2014" in glance
    assert (
        "Last known custodian Government of Afghanistan, from March 2013 until between March "
        "2013 and 2014, as the facility’s controller Inferred, not stated by a source" in glance
    )
    assert "Last known facility Parwan Detention Facility" in glance
    assert f"{len(sources)} sources from {len(publishers)} independent publishers" in glance
    assert "Sources from one publisher count once" in glance


def test_the_summary_links_to_the_timeline_entries_it_reads(client, bilal):
    html = get(client)
    summary = html.split('class="summary"', 1)[1].split("</section>", 1)[0]
    targets = re.findall(r'href="#(event-\d+)"', summary)
    assert len(targets) == 2
    for target in targets:
        assert f'<li id="{target}"' in html


def test_someone_still_held_is_summarised_as_held_by_the_facilitys_controller(client):
    person = f.PersonFactory(name="Held Person", status=PUBLISHED)
    army = f.OrganizationFactory(name="Example Army", status=PUBLISHED)
    camp = f.FacilityFactory(name="Example Camp", status=PUBLISHED)
    f.FacilityControlFactory(facility=camp, controller=army, start="2010")
    held = f.EventFactory(kind=Event.Kind.CUSTODY, date="2012-03", facility=camp, status=PUBLISHED)
    f.EventPersonFactory(event=held, person=person)
    glance = main_text(get(client, person.get_absolute_url())).split("At a glance")[1]
    assert "Status In custody" in glance
    assert "Since March 2012" in glance
    assert "Held by Example Army, from March 2012, as the facility’s controller" in glance
    assert "Facility Example Camp" in glance
    assert "0 sources from 0 independent publishers" in glance


def test_a_person_with_no_events_is_summarised_as_status_unknown(client):
    person = f.PersonFactory(name="Unknown Fate", status=PUBLISHED)
    glance = main_text(get(client, person.get_absolute_url())).split("At a glance")[1]
    assert "Status Not known" in glance
    assert "Since" not in glance.split("Sources")[0]
    assert "custodian" not in glance.split("Sources")[0]


# --- Notes --------------------------------------------------------------------------------------


def test_one_note_per_source_passage_where_each_fact_had_its_own(client, bilal):
    html = get(client)
    notes = notes_of(html)
    cited = public_citations_of(bilal)
    passages = {passage_key(c) for c in cited}
    assert len(notes) == len(passages) < len(cited)
    assert sorted(map(int, notes)) == list(range(1, len(notes) + 1))
    # No two notes print the same passage of the same source at the same place.
    printed = [
        (
            re.search(r'href="/sources/([^/]+)/"', body).group(1),
            re.search(r"<blockquote>(.*?)</blockquote>", body, re.S).group(1),
            body,
        )
        for body in notes.values()
    ]
    assert len({(source, quote) for source, quote, _ in printed}) == len(
        {passage_key(c)[:2] for c in cited}
    )
    assert len({body for _, _, body in printed}) == len(printed)


def test_every_reference_and_back_link_lands_on_something_and_they_pair_up(client, bilal):
    html = get(client)
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    refs = re.findall(r'<a href="#note-(\d+)" id="ref-\d+-([^"]+)"', html)
    assert refs
    for number, _anchor in refs:
        assert f"note-{number}" in ids
    notes = notes_of(html)
    back = {
        number: re.findall(r'<a href="#([^"]+)" aria-label="Back to ', body)
        for number, body in notes.items()
    }
    for number, anchors in back.items():
        assert anchors, f"note {number} leads back to nothing"
        for anchor in anchors:
            assert anchor in ids, anchor
            # The fact it leads back to cites the note.
            assert f'id="ref-{number}-{anchor}"' in html
    # Each fact citing a note is among the note's back-links (the side-by-side copies of
    # disputed accounts aside: their fact is the timeline entry).
    for number, anchor in refs:
        if not anchor.startswith("conflict-"):
            assert anchor in back[number]
    # The passage behind the release and the Parwan custody supports three facts: a, b and c.
    assert any(len(anchors) >= 3 for anchors in back.values())
    assert re.search(r">a</a>,\s*<a [^>]*>b</a>,\s*<a [^>]*>c</a>", html)


def test_the_notes_merge_citations_of_one_passage_and_keep_both_attributions():
    source = f.SourceFactory(status=PUBLISHED)
    first = f.EventFactory(status=PUBLISHED)
    second = f.EventFactory(status=PUBLISHED)
    f.CitationFactory(event=first, source=source, quote="He was freed.", locator="p. 2")
    f.CitationFactory(
        event=second, source=source, quote=" He was  freed. ", locator="p. 2", attribution="A"
    )
    f.CitationFactory(event=second, source=source, quote="He was freed.", locator="p. 3")
    notes = Footnotes()
    assert notes.mark(first, "event-1", "first") == [1]
    assert notes.mark(second, "event-2", "second") == [1, 2]
    assert [len(n.citations) for n in notes.notes] == [2, 1]
    assert notes.notes[0].attribution == "A"
    assert [(a, label) for _, a, label in notes.notes[0].backlinks] == [
        ("event-1", "first"),
        ("event-2", "second"),
    ]


def test_back_links_are_lettered_as_in_print():
    assert [letter(i) for i in (0, 1, 25, 26, 27, 51, 52)] == [
        "a",
        "b",
        "z",
        "aa",
        "ab",
        "az",
        "ba",
    ]


def test_a_confidential_or_draft_source_never_becomes_a_note_or_counts(client, bilal):
    capture = Event.objects.filter(people__person=bilal, kind=Event.Kind.CAPTURE).first()
    before = person_page(person_queryset().get(pk=bilal.pk))["summary"].sources
    secret = f.SourceFactory(is_confidential=True, title="SECRET-TIP")
    draft = f.SourceFactory(status=PublicationStatus.DRAFT, title="DRAFT-SOURCE")
    f.CitationFactory(event=capture, source=secret, quote="SECRET-QUOTE")
    f.CitationFactory(event=capture, source=draft, quote="DRAFT-QUOTE")
    html = get(client)
    for private in ("SECRET-", "DRAFT-"):
        assert private not in html
    assert person_page(person_queryset().get(pk=bilal.pk))["summary"].sources == before


# --- Marks explained, no slips, constant queries ------------------------------------------------


def test_inferred_and_disputed_marks_say_what_they_mean_and_link_to_the_explanation(client):
    person = f.PersonFactory(name="Mullah Disputed", status=PUBLISHED)
    for date in ("2012", "2013"):
        release = f.EventFactory(
            kind=Event.Kind.RELEASE, date=date, claim_status="disputed", status=PUBLISHED
        )
        f.EventPersonFactory(event=release, person=person)
    inferred = f.EventFactory(
        kind=Event.Kind.CUSTODY, date="2011", claim_status="inferred", status=PUBLISHED
    )
    f.EventPersonFactory(event=inferred, person=person)
    html = get(client, person.get_absolute_url())
    for status, words in (
        ("inferred", "Inferred, not stated by a source"),
        ("disputed", "Disputed: sources disagree"),
    ):
        mark = f'<a class="claim-link" href="#claim-{status}"><span class="claim claim-{status}">'
        assert f"{mark}{words}</span></a>" in html
        # The explanation is on the page, visible, not in a tooltip.
        entry = re.search(rf'<dt id="claim-{status}"[^>]*>(.*?)</dt><dd>(.*?)</dd>', html, re.S)
        assert entry and entry.group(1) == words and len(entry.group(2)) > 40
    assert "Where sources disagree" in html


@pytest.mark.parametrize("path", [PATH, None])
def test_the_page_reads_without_typographic_slips(client, bilal, path):
    if path is None:  # a sparse record: no dates, hardly any sources, disputed accounts
        person = f.PersonFactory(name="Sparse Record", status=PUBLISHED)
        org = f.OrganizationFactory(status=PUBLISHED)
        f.AffiliationFactory(
            person=person, organization=org, end="2011", role="member", status=PUBLISHED
        )
        event = f.EventFactory(kind=Event.Kind.CAPTURE, date="", status=PUBLISHED)
        f.EventPersonFactory(event=event, person=person)
        for date in ("2012", "2013"):  # two accounts, shown side by side as well
            release = f.EventFactory(
                kind=Event.Kind.RELEASE, date=date, claim_status="disputed", status=PUBLISHED
            )
            f.EventPersonFactory(event=release, person=person)
            f.CitationFactory(
                event=release, source=f.SourceFactory(status=PUBLISHED), attribution="an official"
            )
        path = person.get_absolute_url()
    html = get(client, path)
    text = main_text(html)
    for slip in ("( until", " ;", "))", "()", "( )", " ,", " .", "( "):
        assert slip not in text, (slip, text[max(0, text.find(slip) - 60) :][:120])
    # Doubled spaces inside a line of text (the indentation of the markup aside).
    plain = re.sub(r"<[^>]+>", "", html.split('<main id="main"', 1)[1])
    assert not re.search(r"\S[ \t]{2,}\S", plain)


def test_the_page_runs_the_same_queries_whatever_the_number_of_events_and_notes(client):
    person = f.PersonFactory(name="Counted Person", status=PUBLISHED)
    publisher = f.OrganizationFactory(status=PUBLISHED)

    def add_events(n, start):
        for year in range(start, start + n):
            event = f.EventFactory(kind=Event.Kind.RELEASE, date=str(year), status=PUBLISHED)
            f.EventPersonFactory(event=event, person=person)
            source = f.SourceFactory(status=PUBLISHED, publisher=publisher)
            f.CitationFactory(event=event, source=source, quote="freed")
            f.CitationFactory(event=event, source=source, quote="freed", locator="p. 2")

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            html = get(client, person.get_absolute_url())
        return len(ctx), len(notes_of(html))

    add_events(1, 2000)
    queries()  # the first read of a process also looks up (and caches) the person's type
    one = queries()
    add_events(9, 2001)
    ten = queries()
    assert (one[1], ten[1]) == (2, 20)
    assert one[0] == ten[0]
    assert Source.objects.filter(publisher=publisher).count() == 10


# --- The API's person detail says what the page's summary says ---------------------------------


def test_the_api_gives_the_summary_the_page_shows(client, bilal):
    html = get(client)
    data = client.get(f"/api/v1/persons/{bilal.public_id}/").json()["summary"]
    glance = main_text(html).split("At a glance", 1)[1].split("Status: ", 1)[0]
    summary = html.split('class="summary"', 1)[1].split("</section>", 1)[0]

    assert f"Status {CurrentStatus(data['status']).label}" in glance
    assert f"Since {humanize(data['since'])}" in glance
    assert f'<span class="claim claim-{data["claim_status"]}">' in summary
    deciding = Event.objects.get(public_id=data["event"])
    assert f'href="#event-{deciding.pk}"' in summary

    custody = data["custody"]
    episode = Event.objects.get(public_id=custody["event"])
    assert f'href="#event-{episode.pk}"' in summary
    assert f'<span class="claim claim-{custody["claim_status"]}">' in summary
    held_by = "Held by" if custody["current"] else "Last known custodian"
    span = custody["custodian"]
    assert f"{held_by} {span['name']}, {span_text(span['start'], span['end'])}" in glance
    assert custody["facility"]["name"] in glance
    assert (
        f"{data['sources']} sources from {data['independent_sources']} independent publishers"
        in glance
    )


def test_a_custody_episode_that_ended_gives_the_status_from_its_end(client):
    person = f.PersonFactory(name="Freed From Custody", status=PUBLISHED)
    camp = f.FacilityFactory(name="Example Prison", status=PUBLISHED)
    held = f.EventFactory(
        kind=Event.Kind.CUSTODY,
        date="2009-06",
        end_date="2012-01-15",
        custody_end_reason="release",
        facility=camp,
        claim_status="confirmed",
        status=PUBLISHED,
    )
    f.EventPersonFactory(event=held, person=person)
    glance = main_text(get(client, person.get_absolute_url())).split("At a glance")[1]
    assert "Status Released Confirmed" in glance
    assert "Since 15 January 2012" in glance
    assert "Last known custodian not known" in glance
    assert "Last known facility Example Prison" in glance
    data = client.get(f"/api/v1/persons/{person.public_id}/").json()["summary"]
    assert (data["status"], data["since"]) == ("released", "2012-01-15")
    assert data["custody"]["custodian"] is None
