"""A selection's facet counts are grouped by the values' integer codes (the stored lists'
`facet_codes`, migration 0047) and named again by the totals: they equal, for every selection,
the counts grouping the values' text (`_count_text`, the reference), also after writes, and
when two values share a code or the totals lack a value the text is counted instead."""

import hashlib

import pytest
from django.db import connection
from django.http import QueryDict

from detainees.domain.models import (
    Affiliation,
    ClaimStatus,
    Event,
    EventFacetTotal,
    EventListing,
    FacetTotal,
    Nationality,
    Person,
    PersonListing,
    PublicationStatus,
)
from detainees.read import filters, listing_store
from detainees.read.filters import (
    EventFacetFilterSet,
    PeoplePageFilterSet,
    events_for_listing,
    people_for_listing,
    person_facet_counts,
)
from detainees.synthetic import generate_dataset
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED

# Two values whose codes are the same (the first 32 bits of their MD5s), found by trying
# "organization=collide-<n>" for n from 0 until two met.
COLLIDING = ("collide-7730", "collide-56282")
# The reference, held before any test replaces it by one noting its calls (`text_counts`).
count_text = filters._count_text


def code(token: str) -> int:
    """A value's code as migration 0047 defines it, computed here independently."""
    return int.from_bytes(hashlib.md5(token.encode()).digest()[:4], "big", signed=True)  # noqa: S324 (a code, not a secret)


@pytest.fixture
def dataset():
    generate_dataset(persons=60, events=600, seed=5)


@pytest.fixture
def text_counts(monkeypatch):
    """The selections whose text was counted (the codes could not be read for them)."""
    counted = []

    def counting(selection):
        counted.append(selection)
        return count_text(selection)

    monkeypatch.setattr(filters, "_count_text", counting)
    return counted


def people(params: str):
    filterset = PeoplePageFilterSet(QueryDict(params), queryset=people_for_listing())
    assert filterset.is_valid(), filterset.errors
    return filterset.qs


def events(params: str):
    filterset = EventFacetFilterSet(QueryDict(params), queryset=events_for_listing())
    assert filterset.is_valid(), filterset.errors
    return filterset.qs


def assert_codes_count_as_text(selection, totals):
    by_codes = sorted(filters._count_tokens(selection, totals))
    assert by_codes == sorted(count_text(selection))
    return by_codes


def some_token(prefix: str) -> str:
    """The most common stored value of a facet (so a selection by it has people in it)."""
    row = FacetTotal.objects.filter(token__startswith=prefix).order_by("-people", "token").first()
    return row.token.partition("=")[2]


def people_selections() -> list[str]:
    nationality = some_token("nationality=")
    organization = some_token("organization=")
    word = PersonListing.objects.exclude(unnamed=True).order_by("pk").first().sort_name.split()[0]
    return [
        "",
        "who=all",
        "status=in_custody",
        f"status=in_custody&nationality={nationality}",
        f"organization={organization}&who=all",
        f"q={word}",
        f"q={word}&status=released&who=all",
        "captured_from=2008&captured_to=2012",
        "released_from=2010&released_to=2014&who=all",
        "captured_from=2011&captured_reading=certainly",
        "nationality=ZZ",  # no one
    ]


EVENT_SELECTIONS = [
    "",
    "kind=capture",
    "kind=capture&kind=release",
    "year=2012",
    "kind=transfer&year=2011",
    "year=1800",  # no event
]


def test_the_stored_codes_are_the_values_md5_prefixes(dataset):
    for model in (PersonListing, EventListing):
        rows = list(model.objects.values_list("facets", "facet_codes"))
        assert rows
        for facets, codes in rows:
            assert codes == [code(token) for token in facets]


def test_people_counted_by_codes_equal_the_text_counts(dataset, text_counts):
    selections = people_selections()
    found = {p: assert_codes_count_as_text(people(p), FacetTotal) for p in selections}
    assert found.pop("nationality=ZZ") == []
    assert all(found.values()), [p for p, rows in found.items() if not rows]
    # Every selection was read by its codes.
    assert not text_counts


def test_a_subset_of_the_detainees_is_counted_by_codes(dataset, text_counts):
    detainees = people("").filter(listing__is_detainee=True).order_by("pk")
    some = detainees.filter(pk__in=list(detainees.values_list("pk", flat=True)[:7]))
    assert len(assert_codes_count_as_text(some, FacetTotal)) > 3
    assert not text_counts


def test_events_counted_by_codes_equal_the_text_counts(dataset, text_counts):
    found = {p: assert_codes_count_as_text(events(p), EventFacetTotal) for p in EVENT_SELECTIONS}
    assert found.pop("year=1800") == []
    assert all(found.values()), [p for p, rows in found.items() if not rows]
    assert not text_counts


def test_the_codes_follow_writes(dataset, text_counts):
    def all_equal():
        for params in people_selections():
            assert_codes_count_as_text(people(params), FacetTotal)
        for params in EVENT_SELECTIONS:
            assert_codes_count_as_text(events(params), EventFacetTotal)

    listed = Person.objects.filter(listing__isnull=False, nationalities__isnull=False)
    person = listed.order_by("pk").first()
    # A nationality edited, one added and one retracted: the person's values change.
    nationality = person.nationalities.order_by("pk").first()
    nationality.country = "NZ"
    nationality.save()
    Nationality.objects.create(person=person, country="IS")
    assert {"nationality=NZ", "nationality=IS"} <= set(
        PersonListing.objects.get(pk=person.pk).facets
    )
    all_equal()
    assert ("nationality=NZ", 1) in assert_codes_count_as_text(
        people("nationality=NZ&who=all"), FacetTotal
    )
    Nationality.objects.filter(pk=nationality.pk).update(claim_status=ClaimStatus.RETRACTED)
    all_equal()

    # Unpublished, then published again; an event unpublished.
    Person.objects.filter(pk=person.pk).update(status=PublicationStatus.DRAFT)
    assert not PersonListing.objects.filter(pk=person.pk).exists()
    all_equal()
    Person.objects.filter(pk=person.pk).update(status=PUBLISHED)
    assert PersonListing.objects.filter(pk=person.pk).exists()
    event = Event.objects.filter(listing__isnull=False).order_by("pk").first()
    Event.objects.filter(pk=event.pk).update(status=PublicationStatus.DRAFT)
    all_equal()

    # A whole list recomputed, as after a bulk load: the codes are computed with the rows.
    listing_store.rebuild()
    assert listing_store.is_exact()
    all_equal()
    assert not text_counts


def test_two_values_sharing_a_code_are_counted_by_their_text(dataset, text_counts):
    first, second = (f"organization={slug}" for slug in COLLIDING)
    with connection.cursor() as cursor:
        cursor.execute("SELECT detainees_facet_code(%s), detainees_facet_code(%s)", [first, second])
        assert cursor.fetchone() == (code(first), code(first))
    assert code(first) == code(second) and first != second

    everyone = list(Person.objects.filter(listing__isnull=False).order_by("pk"))
    # The first value alone is present: the totals name its code twice once both are.
    organization = f.OrganizationFactory(name=COLLIDING[0], slug=COLLIDING[0], status=PUBLISHED)
    for person in everyone[:2]:
        Affiliation.objects.create(person=person, organization=organization, status=PUBLISHED)
    assert FacetTotal.objects.get(token=first).people == 2
    assert_codes_count_as_text(people("who=all"), FacetTotal)
    assert not text_counts  # one value to each code still

    other = f.OrganizationFactory(name=COLLIDING[1], slug=COLLIDING[1], status=PUBLISHED)
    Affiliation.objects.create(person=everyone[2], organization=other, status=PUBLISHED)
    for params, selected in [
        ("who=all", {first: 2, second: 1}),
        (f"organization={COLLIDING[0]}&who=all", {first: 2}),
        (f"organization={COLLIDING[1]}&who=all", {second: 1}),
    ]:
        text_counts.clear()
        counts = dict(assert_codes_count_as_text(people(params), FacetTotal))
        assert {t: n for t, n in counts.items() if t in (first, second)} == selected
        assert len(text_counts) == 1, params  # the codes were set aside, the text counted
    # A selection with neither value still reads the codes.
    text_counts.clear()
    assert_codes_count_as_text(people("status=in_custody"), FacetTotal)
    assert not text_counts

    # The page shows the same counts as before.
    organizations = dict(
        (value, n) for value, _, n in person_facet_counts(people("who=all"))["organization"]
    )
    assert organizations[COLLIDING[0]] == 2 and organizations[COLLIDING[1]] == 1


def test_a_value_the_totals_lack_is_counted_by_its_text(dataset, text_counts):
    token = FacetTotal.objects.order_by("-people", "token").first().token
    FacetTotal.objects.filter(token=token).delete()
    counts = dict(assert_codes_count_as_text(people("who=all"), FacetTotal))
    assert token in counts and len(text_counts) == 1

    text_counts.clear()
    token = EventFacetTotal.objects.order_by("-events", "token").first().token
    EventFacetTotal.objects.filter(token=token).delete()
    counts = dict(assert_codes_count_as_text(events(""), EventFacetTotal))
    assert token in counts and len(text_counts) == 1
