"""The facet counts of a list narrowed by one facet value are stored (detainees.read.filters,
`stored`) and equal, on every read, the counts of the live query; a write to the list makes
the next read count again."""

import pytest
from django.db import connection
from django.http import QueryDict

from detainees.domain.models import Event
from detainees.read.filters import (
    EventFacetFilterSet,
    PeoplePageFilterSet,
    event_facet_counts,
    events_for_listing,
    one_value,
    people_for_listing,
    person_facet_counts,
)
from detainees.synthetic import generate_dataset
from detainees.web.views import PEOPLE_NOT_NARROWING

pytestmark = pytest.mark.django_db


def live_people(params: str):
    filterset = PeoplePageFilterSet(QueryDict(params), queryset=people_for_listing())
    assert filterset.is_valid()
    return person_facet_counts(filterset.qs, subset=filterset.subset)


def live_events(params: str):
    filterset = EventFacetFilterSet(QueryDict(params), queryset=events_for_listing())
    assert filterset.is_valid()
    return event_facet_counts(filterset.qs)


def page_counts(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    return {filter_field.name: rows for filter_field, rows in response.context["facets"]}


def stored_keys() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.list, s.selection FROM detainees_facet_counts_stored s "
            "JOIN detainees_listing_generation g ON g.list = s.list "
            "AND g.generation = s.generation"
        )
        return set(cursor.fetchall())


@pytest.fixture
def dataset():
    generate_dataset(persons=60, events=600, seed=5)


def test_counts_by_one_value_are_stored_equal_to_the_live_counts_and_follow_writes(client, dataset):
    people = ["status=in_custody", "status=released&who=all", "nationality=AF&sort=-name"]
    for params in people:
        for _ in range(2):  # counted and stored, then read back
            assert page_counts(client, f"/people/?{params}") == live_people(params), params
    assert ("people", "detainees status=in_custody") in stored_keys()
    assert ("people", "all status=released") in stored_keys()
    for _ in range(2):
        assert page_counts(client, "/events/?kind=capture") == live_events("kind=capture")
        assert (
            page_counts(client, "/figures/?status=in_custody")["status"]
            == live_people("status=in_custody")["status"]
        )
    assert ("events", "kind=capture") in stored_keys()
    # A value no one has is counted (nothing) and not stored: the table stays bounded.
    assert page_counts(client, "/events/?kind=capture-of-nobody")["kind"] == []
    assert ("events", "kind=capture-of-nobody") not in stored_keys()

    # A capture becomes a release: both lists change, and what was stored is not read again.
    capture = Event.objects.public().filter(kind=Event.Kind.CAPTURE).first()
    capture.kind = Event.Kind.RELEASE
    capture.save()
    assert stored_keys() == set()
    assert page_counts(client, "/events/?kind=capture") == live_events("kind=capture")
    for params in people:
        assert page_counts(client, f"/people/?{params}") == live_people(params), params


@pytest.mark.parametrize(
    "params, expected",
    [
        ("status=in_custody", "status=in_custody"),
        ("status=in_custody&sort=-name&who=all&captured_reading=certainly", "status=in_custody"),
        ("status=in_custody&status=released", None),
        ("status=in_custody&nationality=AF", None),
        ("status=in_custody&q=Ali", None),
        ("status=in_custody&captured_from=2012", None),
        ("q=Ali", None),
        ("", None),
    ],
)
def test_one_value_is_found_only_when_it_alone_narrows(params, expected):
    filterset = PeoplePageFilterSet(QueryDict(params), queryset=people_for_listing())
    assert one_value(filterset, PEOPLE_NOT_NARROWING) == expected


def test_one_value_of_the_events():
    def found(params):
        filterset = EventFacetFilterSet(QueryDict(params), queryset=events_for_listing())
        return one_value(filterset)

    assert found("kind=capture") == "kind=capture"
    assert found("year=2012") == "year=2012"
    assert found("kind=capture&year=2012") is None
    assert found("kind=capture&facility=00000000-0000-0000-0000-000000000000") is None
