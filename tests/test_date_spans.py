"""The people list's "captured" and "released" date filters read the spans stored in each
person's row (PersonListing.capture_spans, release_spans): they select exactly the people the
reference, a search of each person's events, selects, and follow every edit of those events."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import ClaimStatus, Event, EventPerson, Person, PublicationStatus
from detainees.read import listing_store
from detainees.read.filters import (
    DATE_FILTERS,
    PeoplePageFilterSet,
    Reading,
    date_range_q,
    events_in_range_q,
    people_for_listing,
)
from detainees.read.listing import annotate_listing
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
D = date.fromisoformat


def person(*events, status=PUBLISHED):
    """A person, subject of each (kind, EDTF date, changes) event, changes made by an update
    (bounds an EDTF date cannot give, a status, a claim status)."""
    who = f.PersonFactory(status=status)
    for kind, text, changes in events:
        event = f.EventFactory(kind=kind, date=text, status=PUBLISHED)
        if changes:
            Event.objects.filter(pk=event.pk).update(**changes)
        f.EventPersonFactory(event=event, person=who)
    return who


CAPTURE, CUSTODY, RELEASE = Event.Kind.CAPTURE, Event.Kind.CUSTODY, Event.Kind.RELEASE


@pytest.fixture
def people():
    return {
        "day": person((CAPTURE, "2011-04-20", {})),
        "custody year": person((CUSTODY, "2012", {})),
        "open start": person((CAPTURE, "2010-06", {"date_earliest": None})),
        "open end": person((CAPTURE, "2013-03", {"date_latest": None})),
        "unreadable": person((CAPTURE, "2011", {"date_earliest": None, "date_latest": None})),
        "no date": person((CAPTURE, "", {})),
        "retracted": person((CAPTURE, "2012", {"claim_status": ClaimStatus.RETRACTED})),
        "draft event": person((CAPTURE, "2012", {"status": PublicationStatus.DRAFT})),
        "disappeared": person((Event.Kind.DISAPPEARANCE, "2012", {})),
        "no events": person(),
        "released": person((CAPTURE, "2009", {}), (RELEASE, "2014-02", {})),
        "release open start": person((RELEASE, "2012-01-01", {"date_earliest": None})),
        "release open end": person((RELEASE, "2015", {"date_latest": None})),
        "release year": person((RELEASE, "2011", {})),
        "gap": person((CAPTURE, "2008", {}), (CUSTODY, "2015", {})),
        "draft person": person((CAPTURE, "2012", {}), status=PublicationStatus.DRAFT),
        "related": _related(),
    }


def _related():
    who = f.PersonFactory(status=PUBLISHED)
    event = f.EventFactory(kind=CAPTURE, date="2012", status=PUBLISHED)
    f.EventPersonFactory(event=event, person=who, role=EventPerson.Role.RELATED)
    return who


RANGES = [
    (None, D("2012-12-31")),
    (D("2012-01-01"), None),
    (D("2012-01-01"), D("2012-12-31")),
    (D("2011-04-20"), D("2011-04-20")),
    (D("2011-04-21"), D("2011-12-31")),
    (D("2010-07-01"), D("2010-12-31")),
    (D("2010-06-30"), D("2010-06-30")),
    (D("2016-01-01"), None),
    (None, D("1999-12-31")),
    (date.min, date.max),
    (D("2013-01-01"), D("2011-12-31")),  # crossed: answered by the events
]


def selected(q):
    return set(people_for_listing().filter(q).values_list("pk", flat=True))


@pytest.mark.parametrize("reading", Reading.values)
@pytest.mark.parametrize("prefix", DATE_FILTERS)
def test_the_stored_spans_select_what_the_events_select(people, prefix, reading):
    kinds, _ = DATE_FILTERS[prefix]
    for start, end in RANGES:
        stored = selected(date_range_q(prefix, start, end, reading, listed=True))
        assert stored == selected(events_in_range_q(kinds, start, end, reading)), (start, end)
    # The data above is varied enough to tell the ranges apart.
    answers = [frozenset(selected(events_in_range_q(kinds, s, e, reading))) for s, e in RANGES]
    assert len(set(answers)) >= 3


def test_who_the_spans_select(people):
    year = selected(date_range_q("captured", D("2012-01-01"), D("2012-12-31"), "", listed=True))
    names = {name for name, who in people.items() if who.pk in year}
    assert names == {"custody year", "unreadable"}


def test_the_list_filters_by_the_spans_and_the_staff_list_by_the_events(people):
    data = {"captured_from": "2012", "captured_to": "2012", "who": "all"}
    with CaptureQueriesContext(connection) as queries:
        listed = PeoplePageFilterSet(data, queryset=people_for_listing())
        pks = set(listed.qs.values_list("pk", flat=True))
    [sql] = [q["sql"] for q in queries.captured_queries]
    assert "capture_spans" in sql and "EXISTS" not in sql
    assert people["custody year"].pk in pks and people["draft person"].pk not in pks
    # Drafts have no list row: a list of every state keeps reading their events.
    everyone = PeoplePageFilterSet(data, queryset=annotate_listing(Person.objects.all()))
    assert people["draft person"].pk in set(everyone.qs.values_list("pk", flat=True))
    certainly = PeoplePageFilterSet({**data, "captured_reading": "certainly"}, people_for_listing())
    assert "capture_spans" not in str(certainly.qs.query)


def in_2012(prefix="captured"):
    return selected(date_range_q(prefix, D("2012-01-01"), D("2012-12-31"), "", listed=True))


def test_the_spans_follow_every_edit_of_the_events(people):
    who = people["day"]
    event = Event.objects.get(people__person=who)
    assert who.pk not in in_2012()
    event.date = "2012-05"
    event.save()
    assert who.pk in in_2012()
    Event.objects.filter(pk=event.pk).update(claim_status=ClaimStatus.RETRACTED)
    assert who.pk not in in_2012()
    Event.objects.filter(pk=event.pk).update(claim_status=ClaimStatus.REPORTED)
    assert who.pk in in_2012()
    Event.objects.filter(pk=event.pk).update(status=PublicationStatus.DRAFT)
    assert who.pk not in in_2012()
    Event.objects.filter(pk=event.pk).update(status=PUBLISHED)
    Event.objects.filter(pk=event.pk).update(kind=RELEASE)
    assert who.pk not in in_2012() and who.pk in in_2012("released")
    Event.objects.filter(pk=event.pk).update(kind=CAPTURE)
    EventPerson.objects.filter(event=event).update(role=EventPerson.Role.RELATED)
    assert who.pk not in in_2012()
    EventPerson.objects.filter(event=event).update(role=EventPerson.Role.SUBJECT)
    assert who.pk in in_2012()
    EventPerson.objects.filter(event=event).delete()
    assert who.pk not in in_2012()
    assert listing_store.is_exact()
