"""The public pages' fast paths write exactly what their reference paths write.

Record URLs by string formatting (detainees.domain.links) against `reverse()`, the kept wording
of fuzzy dates against the wording computed afresh, and the rows and facet options built in
Python (detainees/templatetags/rows.py, tracker.facet_options) against the templates and
format_html_join() they replace: byte for byte, over rows of every kind (unnamed people, names
withheld, long names, HTML-special characters, every kind of date and none).
"""

import datetime
import uuid

import pytest
from django.db import connection
from django.db.models import Q
from django.template import engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils.functional import lazy
from django.utils.safestring import mark_safe

from detainees.domain import fuzzydates
from detainees.domain.links import UUID, record_url
from detainees.domain.models import (
    ClaimStatus,
    Event,
    EventOrganization,
    Person,
    Place,
    PublicationStatus,
)
from detainees.read.filters import (
    PeoplePageFilterSet,
    events_for_listing,
    people_for_listing,
    person_facet_counts,
)
from detainees.read.listed_events import with_listed_parts
from detainees.read.pages import place_page
from detainees.read.unnamed import describe_people_in, describe_unnamed
from detainees.templatetags import tracker
from detainees.templatetags.rows import (
    claim_mark,
    event_list_rows,
    event_table_rows,
    footnote_refs,
    person_rows,
    source_notes,
)
from detainees.templatetags.tracker import facet_options, facet_options_reference
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
HOSTILE = "<script>alert('x')</script> & \"Bilal\" O'Brien"
DATES = ["2011-04-20", "2011-21", "2012~", "2013-03?", "2013/2014", "../2014", "2011-XX", "198X"]


def django_template(text: str):
    return engines["django"].from_string(text)


@pytest.fixture
def script_prefix():
    yield set_script_prefix
    set_script_prefix("/")


# --- Record URLs --------------------------------------------------------------------------------


def test_every_record_url_is_the_one_reverse_gives(demo, script_prefix):
    people = [f.PersonFactory(status=PUBLISHED, name=name) for name in ("Ab", "x" * 90)]
    records = [
        *people,
        f.OrganizationFactory(status=PUBLISHED),
        f.PlaceFactory(status=PUBLISHED),
        f.FacilityFactory(status=PUBLISHED),
        f.ReleaseBatchFactory(status=PUBLISHED),
        f.SourceFactory(status=PUBLISHED),
    ]
    routes = {
        "Person": "person-detail",
        "Organization": "organization-detail",
        "Place": "place-detail",
        "Facility": "facility-detail",
        "ReleaseBatch": "batch-detail",
    }
    for prefix in ("/", "/tracker/", "/a b/"):
        script_prefix(prefix)
        for record in records:
            name = type(record).__name__
            key = record.public_id if name == "Source" else record.slug
            route = "source-detail" if name == "Source" else routes[name]
            expected = reverse(f"detainees:{route}", args=[key])
            assert record.get_absolute_url() == expected
            assert expected.startswith(reverse("detainees:home"))
        for person in people:
            assert person.get_permalink() == reverse("detainees:permalink", args=[person.public_id])


def test_a_key_the_route_refuses_is_refused_as_reverse_refuses_it():
    for bad in ("", "a b", "a/b", "é"):
        with pytest.raises(NoReverseMatch):
            reverse("detainees:person-detail", args=[bad])
        with pytest.raises(NoReverseMatch):
            record_url("detainees:person-detail", bad)
    for bad in ("not-a-uuid", str(uuid.uuid4()).upper()):
        with pytest.raises(NoReverseMatch):
            record_url("detainees:source-detail", bad, UUID)
    key = uuid.uuid4()
    assert record_url("detainees:source-detail", key, UUID) == reverse(
        "detainees:source-detail", args=[key]
    )


# --- Fuzzy dates --------------------------------------------------------------------------------


def test_the_kept_wording_of_a_date_is_the_wording_computed_afresh():
    texts = [*DATES, "", "  ", "nonsense", "[2011,2012]", "{2011,2012}", "2011-04-20T10:00"]
    for text in texts * 2:  # the second time from the cache
        stripped = text.strip()
        fresh = (fuzzydates._humanize(stripped) or stripped) if stripped else "date unknown"
        assert fuzzydates.humanize(text) == fresh


# --- The people list's rows ---------------------------------------------------------------------


def reference_rows(rows) -> str:
    return django_template('{% include "detainees/_person_rows.html" %}').render({"rows": rows})


def people_of_every_kind():
    """Named, hostile and long names, unnamed placeholders, a withheld name; captured and
    released on dates of every kind, or never."""
    made = []
    for i, date in enumerate([*DATES, None]):
        name = [f"Person {i}", HOSTILE, "Ab " * 60, "Mullah <b>Omar</b> & co"][i % 4]
        person = f.PersonFactory(status=PUBLISHED, name=name)
        if date is not None:
            capture = f.EventFactory(status=PUBLISHED, kind=Event.Kind.CAPTURE, date=date)
            f.EventPersonFactory(event=capture, person=person, capacity=HOSTILE)
            if i % 2:
                release = f.EventFactory(status=PUBLISHED, kind=Event.Kind.RELEASE, date=date)
                f.EventPersonFactory(event=release, person=person)
        made.append(person)
    placeholder = f.PersonFactory(status=PUBLISHED, name=False, is_placeholder=True)
    capture = f.EventFactory(status=PUBLISHED, kind=Event.Kind.CAPTURE, date="2012~")
    f.EventPersonFactory(event=capture, person=placeholder, capacity="<i>associate</i>")
    f.EventPersonFactory(event=capture, person=made[1])
    withheld = f.PersonFactory(status=PUBLISHED, name=False, withheld=[Person.Withheld.NAME])
    f.EventPersonFactory(event=capture, person=withheld)
    return made


def test_the_people_rows_are_the_reference_rows(demo):
    people_of_every_kind()
    rows = list(people_for_listing().order_by("pk"))
    describe_unnamed(rows)
    assert len(rows) > 10 and any(getattr(p, "described_as", "") for p in rows)
    fast = person_rows(rows)
    assert fast == reference_rows(rows)
    assert "<script>" not in fast and "&lt;script&gt;" in fast
    assert person_rows([]) == reference_rows([])


def test_the_people_page_draws_the_fast_rows(client, demo):
    people_of_every_kind()
    page = client.get("/people/", {"who": "all", "size": 200})
    assert page.status_code == 200
    rows = list(page.context["page"].rows)
    assert person_rows(rows) in page.content.decode()
    assert reference_rows(rows) in page.content.decode()


# --- Facet options ------------------------------------------------------------------------------


def test_the_facet_options_are_the_ones_format_html_join_writes(demo):
    people_of_every_kind()
    params = {"status": ["in_custody", "released"], "nationality": "AF", "who": "all"}
    request = RequestFactory().get("/people/", params)
    filterset = PeoplePageFilterSet(request.GET, queryset=people_for_listing())
    assert filterset.is_valid()
    counts = person_facet_counts(filterset.qs, everyone=False, subset=filterset.subset)
    lazy_label = lazy(lambda: "Lazy <label>", str)()
    for name, facet in counts.items():
        field = filterset.form[name]
        hostile = [
            *facet,
            (HOSTILE, HOSTILE, 3),
            ("in_custody", lazy_label, 1_000_000),
            ("x", mark_safe("<em>safe</em>"), 0),
        ]
        for options in (facet, hostile, []):
            assert facet_options(field, options) == facet_options_reference(field, options)
    field = filterset.form["status"]
    assert ' value="in_custody" checked>' in facet_options(field, [("in_custody", "In", 2)])


# --- The marks after each fact on a record's page -----------------------------------------------


def test_the_claim_marks_and_note_numbers_are_the_included_ones():
    claim = django_template(
        '{% include "detainees/_claim_mark.html" with status=status show_confirmed=show only %}'
    )
    refs = django_template(
        '{% include "detainees/_footnote_refs.html" with notes=notes anchor=anchor only %}'
    )
    statuses = [*ClaimStatus, *ClaimStatus.values, "", None, HOSTILE, "unknown"]
    for status in statuses:
        for show in (False, True, "", None):
            expected = claim.render({"status": status, "show": show})
            assert claim_mark(status, show) == expected, (status, show)
        assert claim_mark(status) == claim.render({"status": status, "show": False})
    for notes in ([], None, [1], [1, 2, 3], [12, 7], ["<b>", 1_000_000]):
        for anchor in ("event-12", "identity", "conflict-event-3", HOSTILE, ""):
            expected = refs.render({"notes": notes, "anchor": anchor})
            assert footnote_refs(notes, anchor) == expected, (notes, anchor)


def test_the_person_page_draws_the_same_marks(client, demo):
    """Qari Bilal's page, every fact with its claim mark and notes, and the summary's marks."""
    page = client.get(Person.objects.get(slug="qari-bilal").get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    for fact in page.context["timeline"]:
        assert footnote_refs(fact.notes, fact.anchor) in html
        assert claim_mark(fact.obj.claim_status) in html
    summary = page.context["summary"]
    assert claim_mark(summary.status.claim_status, True) in html


# --- Lists of events ----------------------------------------------------------------------------


def reference(template: str, **context) -> str:
    return django_template(f'{{% include "detainees/{template}" %}}').render(context)


def events_of_every_kind():
    """Events with and without subjects, organizations (a target group, a re-engagement's
    group, other parts), sources (several citations of one source, none), places (a district
    of a province, a province of a country, an unpublished one, none), hostile text, fuzzy and
    unknown dates, custody with its end, inferred claims, unnamed people."""
    province = f.PlaceFactory(status=PUBLISHED, name=f"Kunduz {HOSTILE}")
    district = f.PlaceFactory(status=PUBLISHED, name="Khanabad", kind="district", parent=province)
    hidden = f.PlaceFactory(name="Draft place")
    group = f.OrganizationFactory(status=PUBLISHED, name=f"IMU {HOSTILE}")
    force = f.OrganizationFactory(status=PUBLISHED, name="ISAF")
    sources = [
        f.SourceFactory(status=PUBLISHED, title=f"Report {HOSTILE}"),
        f.SourceFactory(status=PUBLISHED, title="Press release", reference_number="2011-04-CA-x"),
    ]
    people = people_of_every_kind()
    kinds = [Event.Kind.CAPTURE, Event.Kind.REENGAGEMENT, Event.Kind.RELEASE, Event.Kind.CUSTODY]
    places = [district, province, hidden, None]
    for i, date in enumerate([*DATES, ""]):
        kind = kinds[i % 4]
        event = f.EventFactory(
            status=PUBLISHED,
            kind=kind,
            date=date,
            summary=["", f"Raid {HOSTILE}", "x" * 300][i % 3],
            place=places[i % 4],
            claim_status=ClaimStatus.INFERRED if i % 3 == 0 else ClaimStatus.CONFIRMED,
            unnamed_count=i % 3,
            reengagement="suspected" if kind == Event.Kind.REENGAGEMENT else "",
            **({"end_date": DATES[-i], "custody_end_reason": "release"} if i % 8 == 3 else {}),
        )
        for person in people[i : i + i % 3]:
            f.EventPersonFactory(event=event, person=person)
        if i % 2:
            EventOrganization.objects.create(event=event, organization=group, role="group")
            EventOrganization.objects.create(
                event=event, organization=force, role="capturing_force"
            )
        for source in sources[: i % 3]:
            f.CitationFactory(event=event, source=source, quote="one")
            f.CitationFactory(event=event, source=source, quote="two")


def test_the_event_rows_are_the_reference_rows(demo):
    events_of_every_kind()
    rows = list(events_for_listing())
    describe_people_in(rows)
    assert len(rows) > 10
    listed = event_list_rows(rows)
    assert listed == reference("_event_list_rows.html", rows=rows)
    assert event_list_rows([]) == reference("_event_list_rows.html", rows=[])
    tabled = event_table_rows(rows)
    assert tabled == reference("_event_table_rows.html", events=rows)
    for html in (listed, tabled):
        assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Target group" in listed and "Group acted for" in listed and "Inferred" in tabled


def test_the_events_list_parts_read_as_tuples_draw_the_prefetched_rows(demo):
    events_of_every_kind()
    prefetched = list(events_for_listing())
    describe_people_in(prefetched)
    read = with_listed_parts(list(events_for_listing().prefetch_related(None)))
    describe_people_in(read)
    assert len(read) > 10 and any(e.public_subjects for e in read)
    assert any(role.person.described_as for e in read for role in e.public_subjects)
    assert event_list_rows(read) == event_list_rows(prefetched)
    for event, reference_event in zip(read, prefetched, strict=True):
        assert [r.person.pk for r in event.public_subjects] == [
            r.person.pk for r in reference_event.public_subjects
        ]
        assert [r.person.described_as for r in event.public_subjects] == [
            getattr(r.person, "described_as", "") for r in reference_event.public_subjects
        ]
    assert with_listed_parts([]) == []


def test_the_events_list_reads_as_many_queries_for_one_event_as_for_a_page(client):
    events_of_every_kind()
    # Drafts are never listed: a draft event, a draft subject and organization of a published
    # one, a draft source cited by it.
    f.EventFactory(summary="Secret draft event")
    shown = f.EventFactory(status=PUBLISHED, kind=Event.Kind.CAPTURE, date="2030")
    f.EventPersonFactory(event=shown, person=f.PersonFactory(name="Secret person"))
    # and an unnamed subject: its description's queries are on both pages.
    unnamed = f.PersonFactory(status=PUBLISHED, name=False, is_placeholder=True)
    f.EventPersonFactory(event=shown, person=unnamed)
    secret = f.OrganizationFactory(name="Secret group")
    EventOrganization.objects.create(event=shown, organization=secret, role="group")
    f.CitationFactory(event=shown, source=f.SourceFactory(title="Secret source"))
    counts = []
    for size in (1, 200):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/events/", {"size": size})
        assert response.status_code == 200
        counts.append(len(queries))
        assert "Secret" not in response.content.decode()
    # The page, its subjects, their names, organizations, citations and the facets, and the
    # unnamed people's descriptions (on both pages), whatever the page's size.
    assert counts[0] == counts[1] == 10
    assert len(response.context["page"].rows) > 10


def test_the_event_pages_draw_the_fast_rows(client, demo):
    events_of_every_kind()
    page = client.get("/events/", {"size": 200})
    assert page.status_code == 200
    rows = list(page.context["page"].rows)
    assert event_list_rows(rows) in page.content.decode()
    province = Place.objects.get(name=f"Kunduz {HOSTILE}")
    page = client.get(province.get_absolute_url())
    assert page.status_code == 200
    rows = page.context["events"].rows
    assert rows and event_table_rows(rows) in page.content.decode()


# --- A place's events ---------------------------------------------------------------------------


def test_a_places_events_are_those_of_the_place_and_the_places_in_it(demo):
    """The page reads its events by the ids of the places inside; the same events as testing
    each event's place and its parents, at every level and with unpublished places between."""
    country = f.CountryFactory(status=PUBLISHED)
    province = f.PlaceFactory(status=PUBLISHED, parent=country)
    hidden = f.PlaceFactory(parent=country)  # a draft province
    elsewhere = f.PlaceFactory(status=PUBLISHED, parent=country)
    districts = [
        f.PlaceFactory(status=PUBLISHED, kind="district", parent=parent)
        for parent in (province, hidden, elsewhere)
    ]
    for place in [country, province, hidden, elsewhere, *districts, None]:
        for date in ("2011", "2012~", ""):
            f.EventFactory(status=PUBLISHED, place=place, date=date)
    for place in (country, province, hidden, districts[0]):
        tested = Q(place=place) | Q(place__parent=place) | Q(place__parent__parent=place)
        expected = list(events_for_listing().filter(tested).values_list("pk", flat=True))
        shown, cursors = [], {}
        while True:
            page = place_page(place, cursors)["events"]
            shown += [event.pk for event in page.rows]
            if not page.next_cursor:
                break
            cursors = {"events": page.next_cursor}
        assert sorted(shown) == sorted(expected) and expected


# --- A person page's notes ----------------------------------------------------------------------


def test_the_person_pages_notes_are_the_reference_notes(client, demo):
    """Qari Bilal's notes, with sources of every shape added: hostile titles, quotes,
    speakers and locators, links and archived copies or none, public, draft or no publishers,
    fuzzy publication dates as written, accessed on a day or not."""
    bilal = Person.objects.get(slug="qari-bilal")
    event = bilal.event_roles.filter(role="subject").first().event
    publishers = [f.OrganizationFactory(status=PUBLISHED, name=HOSTILE), f.OrganizationFactory()]
    for i, publisher in enumerate([*publishers, None]):
        source = f.SourceFactory(
            status=PUBLISHED,
            title=f"{HOSTILE} {i}",
            url=f"https://example.org/a?b=1&c={i}" if i != 1 else "",
            archived_url="https://archive.example.org/x?y=<z>" if i == 0 else "",
            publisher=publisher,
            published=DATES[i] if i < 2 else "",
            published_as_written="principios de <MAR>/1976" if i == 1 else "",
        )
        f.CitationFactory(
            event=event,
            source=source,
            quote=HOSTILE if i else "",
            attribution=HOSTILE if i == 0 else "",
            locator="p. <3>" if i == 1 else "",
            accessed_on=datetime.date(2020, 5, i + 1) if i != 2 else None,
        )
    page = client.get(bilal.get_absolute_url())
    assert page.status_code == 200
    notes = page.context["footnotes"]
    assert len(notes) > 3 and any(note.backlinks for note in notes)
    reference = django_template('{% include "detainees/_source_notes.html" %}')
    expected = reference.render({"footnotes": notes}, page.wsgi_request)
    assert source_notes({"request": page.wsgi_request}, notes) == expected
    assert expected in page.content.decode() and "<script>" not in expected
    assert source_notes({}, notes) == reference.render({"footnotes": notes})


# --- The filter panel's fields ------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": HOSTILE},
        {"q": ""},
        {"captured_from": "not a date", "released_to": "2013"},
        {"sort": "bogus", "captured_reading": ""},
        {"sort": "-name", "released_reading": "latest"},
        None,  # an unbound form
    ],
)
def test_a_filter_field_draws_what_the_template_draws(params):
    reference_field = django_template("{{ f.label_tag }} {{ f }}")
    fast_field = django_template("{% load tracker %}{% filter_field filter name %}")
    for _ in range(2):  # the second time from the kept markup, where it is kept
        filterset = PeoplePageFilterSet(params, queryset=people_for_listing())
        filterset.is_valid()
        for bound in filterset.form:
            expected = reference_field.render({"f": bound})
            fast = fast_field.render({"filter": filterset, "name": bound.name})
            assert fast == expected, (params, bound.name)
            assert "<script>" not in expected
    kept = len(tracker._EMPTY_FIELDS)
    PeoplePageFilterSet(params, queryset=people_for_listing()).is_valid()
    for name in PeoplePageFilterSet.base_filters:
        fast_field.render({"filter": PeoplePageFilterSet(params), "name": name})
    assert len(tracker._EMPTY_FIELDS) == kept  # kept once per class, not per request
