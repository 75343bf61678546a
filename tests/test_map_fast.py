"""The people's map points, read in one query grouping by ids, are those of the reference's
grouped ORM queries (`detainees.read.geo.people_points_reference`): every point, count,
coordinate and order, in the GeoJSON's bytes and in the map page's table, on generated data
with the cases that count differently when done wrong."""

import pytest

from detainees.api.views import PersonViewSet
from detainees.domain.models import Person
from detainees.read import geo
from detainees.synthetic import generate_dataset
from tests import factories as f

pytestmark = pytest.mark.django_db

PUBLISHED = "published"
SELECTIONS = [
    "",
    "status=in_custody",
    "nationality=AF",
    "status=in_custody&nationality=AF",
    "detainee=false",
    "search=Sibghatullah",
    "search=zzzz+no+such+name",
]


def tricky_cases():
    """Drafts and retracted events, unpublished places and facilities, a place without
    coordinates, events with several subjects, people with no place or no event, a subject
    who is a draft, a person named in another role."""
    public = f.PlaceFactory(status=PUBLISHED, latitude="34.500000", longitude="69.2")
    elsewhere = f.PlaceFactory(status=PUBLISHED, latitude="36.7", longitude="68.80")
    unmapped = f.PlaceFactory(status=PUBLISHED)  # no coordinates
    draft_place = f.PlaceFactory(status="draft", latitude="31.6", longitude="65.7")
    facility = f.FacilityFactory(status=PUBLISHED, place=public, latitude="34.9", longitude="69")
    unmapped_facility = f.FacilityFactory(status=PUBLISHED, place=elsewhere)
    draft_facility = f.FacilityFactory(status="draft", latitude="34.9", longitude="69.2")
    first = f.PersonFactory(status=PUBLISHED, name="Qari Sibghatullah")
    second = f.PersonFactory(status=PUBLISHED, name="Abdul Sibghatullah")
    third = f.PersonFactory(status=PUBLISHED)
    draft_person = f.PersonFactory(status="draft")
    f.PersonFactory(status=PUBLISHED)  # no event
    shared = f.EventFactory(status=PUBLISHED, place=public, facility=facility)
    for person in (first, second, third, draft_person):
        f.EventPersonFactory(event=shared, person=person)
    f.EventPersonFactory(event=shared, person=third, role="related")  # named twice
    both = f.EventFactory(status=PUBLISHED, kind="release", place=elsewhere)
    f.EventPersonFactory(event=both, person=first)
    f.EventPersonFactory(event=both, person=second)
    cases = [
        f.EventFactory(status=PUBLISHED, place=unmapped, facility=unmapped_facility),
        f.EventFactory(status=PUBLISHED, place=draft_place, facility=draft_facility),
        f.EventFactory(status="draft", place=public),
        f.EventFactory(status=PUBLISHED, place=elsewhere, claim_status="retracted"),
        f.EventFactory(status=PUBLISHED),  # no place
        f.EventFactory(status=PUBLISHED, facility=facility),  # a facility, no place
    ]
    for event in cases:
        f.EventPersonFactory(event=event, person=first)
    f.EventPersonFactory(event=f.EventFactory(status=PUBLISHED, place=public), person=third)
    ordered = f.EventFactory(status=PUBLISHED, place=elsewhere)
    f.EventPersonFactory(event=ordered, person=second, role="ordered_by")


@pytest.fixture(scope="module")
def data(module_data):
    def build():
        generate_dataset(persons=150, events=1500, seed=7)
        tricky_cases()

    module_data(build)


def test_the_data_has_the_cases_to_get_right(data):
    people = Person.objects.filter(status=PUBLISHED)
    assert people.filter(event_roles=None).exists()
    assert people.exclude(event_roles__event__place=None).exists()
    assert Person.objects.exclude(status=PUBLISHED).filter(event_roles__role="subject").exists()


@pytest.mark.parametrize("query", SELECTIONS)
def test_the_people_geojson_is_the_references(client, data, monkeypatch, query):
    url = f"/api/v1/persons/places.geojson?{query}"
    fast = client.get(url)
    assert fast.status_code == 200
    monkeypatch.setattr(PersonViewSet, "map_points", staticmethod(geo.people_points_reference))
    reference = client.get(url)
    assert fast.content == reference.content
    if query in ("", "status=in_custody", "search=Sibghatullah"):
        assert fast.json()["features"]


@pytest.mark.parametrize("query", SELECTIONS[:4])
def test_the_people_map_page_is_the_references(client, data, monkeypatch, query):
    url = f"/map/?for=people&{query}"
    fast = client.get(url)
    assert fast.status_code == 200
    monkeypatch.setattr("detainees.web.views.people_points", geo.people_points_reference)
    assert fast.content == client.get(url).content


def test_the_points_and_their_values_are_the_references(data):
    people = Person.objects.filter(status=PUBLISHED)
    for selection in (people, people.filter(pk__in=people.values("pk")[:20]), people.none()):
        fast, reference = geo.people_points(selection), geo.people_points_reference(selection)
        assert repr(fast) == repr(reference)  # the coordinates' digits too
    assert fast.points == [] and fast.not_on_map == []
    assert geo.people_points(people).not_on_map
