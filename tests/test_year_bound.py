"""The events' year facet also bounds the latest-first key (`implied`), which selects exactly what
the stored values alone select: the list's pages, its counts and the API's the same rows."""

import pytest
from django.http import QueryDict

from detainees.read.facets import EVENT_FACETS
from detainees.read.filters import EventFacetFilterSet, event_facet_counts, events_for_listing
from detainees.synthetic import generate_dataset

pytestmark = pytest.mark.django_db


def selected(params: str, *, implied: bool) -> list[int]:
    facet = EVENT_FACETS["year"]
    saved = facet.implied
    object.__setattr__(facet, "implied", facet.implied if implied else None)
    try:
        filterset = EventFacetFilterSet(QueryDict(params), queryset=events_for_listing())
        assert filterset.is_valid(), filterset.errors
        rows = list(filterset.qs.values_list("pk", flat=True))
        counts = event_facet_counts(filterset.qs, everyone=not filterset.narrows)
    finally:
        object.__setattr__(facet, "implied", saved)
    return rows, counts


def test_the_year_bound_selects_exactly_the_events_of_the_years():
    generate_dataset(persons=60, events=600, seed=3)
    years = [v for v, _, _ in event_facet_counts(None, everyone=True)["year"]]
    assert len(years) > 2
    cases = [
        f"year={years[0]}",
        f"year={years[0]}&year={years[-1]}",
        f"year={years[1]}&kind=capture",
        "year=0",  # no year
        "year=abc",
        "year=99999",
    ]
    for params in cases:
        bounded, plain = selected(params, implied=True), selected(params, implied=False)
        assert bounded == plain, params
    assert selected(f"year={years[0]}", implied=True)[0]


def test_the_bound_is_on_the_latest_first_key_the_list_orders_by():
    q = EVENT_FACETS["year"].implied(["2012", "2010", "x"])
    sql = str(events_for_listing().filter(q).query)
    assert "COALESCE" in sql and "2010-01-01" in sql and "2012-12-31" in sql
