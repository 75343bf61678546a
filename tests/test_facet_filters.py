"""Each facet is declared once (detainees.read.facets) and is a filter of the FilterSet classes
themselves, so the class, the API schema and django-filter's introspection all see it."""

import ast
from pathlib import Path

import django_filters
import pytest

from detainees.api.views import EventFilterSet, PersonAPIFilterSet
from detainees.domain.models import Event, Person
from detainees.read import facets, filters, listing_store
from detainees.read.facets import EVENT_FACETS, FACETS
from detainees.read.filters import EventFacetFilterSet, FacetFilter, PersonFilterSet

OWN_PERSON_FILTERS = [
    "q",
    "captured_from",
    "captured_to",
    "captured_reading",
    "released_from",
    "released_to",
    "released_reading",
    "sort",
    "detainee",
]


@pytest.mark.parametrize(
    ("filterset", "declared"),
    [
        (PersonFilterSet, FACETS),
        (PersonAPIFilterSet, FACETS),
        (EventFacetFilterSet, EVENT_FACETS),
    ],
)
def test_the_class_has_a_filter_for_every_facet(filterset, declared):
    for name, facet in declared.items():
        flt = filterset.base_filters[name]
        assert isinstance(flt, FacetFilter)
        assert flt.facet is facet
        assert flt.label == facet.label


def test_the_facets_follow_the_class_own_filters_in_their_order():
    assert list(PersonFilterSet.base_filters) == [*OWN_PERSON_FILTERS, *FACETS]
    own = ["person", "organization", "place", "facility"]
    assert list(EventFacetFilterSet.base_filters) == [*own, *EVENT_FACETS]


def test_a_filter_declared_under_a_facet_name_is_kept():
    # The API's events filter `kind` as a plain choice of the column; the page by the facet.
    assert isinstance(EventFacetFilterSet.base_filters["kind"], FacetFilter)
    kind = EventFilterSet.base_filters["kind"]
    assert type(kind) is django_filters.MultipleChoiceFilter
    assert {"year", "province", "group", "force"} <= set(EventFilterSet.base_filters)
    assert all(
        isinstance(EventFilterSet.base_filters[name], FacetFilter)
        for name in ("year", "province", "group", "force")
    )


def test_a_filter_removed_by_a_subclass_stays_removed():
    assert "q" not in PersonAPIFilterSet.base_filters
    assert "sort" not in PersonAPIFilterSet.base_filters


@pytest.mark.parametrize(
    ("filterset", "model"),
    [(PersonFilterSet, Person), (PersonAPIFilterSet, Person), (EventFilterSet, Event)],
)
def test_an_instance_has_the_class_filters_bound_to_it(filterset, model):
    instance = filterset(queryset=model.objects.none())
    assert list(instance.filters) == list(filterset.base_filters)
    assert list(instance.form.fields) == list(filterset.base_filters)
    for name, flt in instance.filters.items():
        assert flt.parent is instance
        assert flt.model is model
        if isinstance(flt, FacetFilter):  # copied per instance, sharing the one definition
            assert flt is not filterset.base_filters[name]
            assert flt.facet is filterset.base_filters[name].facet


def test_a_selected_facet_value_filters_through_the_class_filter():
    fs = PersonFilterSet({"nationality": ["UZ", "AF"]}, queryset=Person.objects.all())
    assert fs.is_valid()
    assert fs.narrows
    sql = str(fs.qs.query)
    assert "nationality=UZ" in sql and "nationality=AF" in sql


def top_level_imports(module) -> set[str]:
    """The modules `module` imports at top level (ruff's PLC0415 and tests/test_layers.py keep
    the app's imports out of functions)."""
    tree = ast.parse(Path(module.__file__).read_text())
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_facets_are_imported_at_top_level_without_a_cycle():
    assert not top_level_imports(facets) & {
        "detainees.read.filters",
        "detainees.read.listing_store",
    }
    store_imports = top_level_imports(listing_store)
    assert "detainees.read.facets" in store_imports
    assert "detainees.read.filters" not in store_imports
    assert {"detainees.read.facets", "detainees.read.listing_store"} <= top_level_imports(filters)
