"""A filter by a linked record never reveals a hidden one: on every list, HTML and API, the id
(or slug) of a draft or withdrawn record answers exactly what an unknown id answers.

The filters are read from each list's FilterSet, so a new filter by a linked record is covered:
every UUID filter (`?person=`, `?organization=`, `?place=`, `?facility=`) and every facet whose
values are records' slugs (`?organization=`, `?capturing_force=`, `?province=`...).
"""

import uuid

import django_filters
import pytest

from detainees.api.views import EventViewSet, PersonViewSet
from detainees.domain.models import (
    Affiliation,
    Event,
    EventOrganization,
    EventPerson,
    FacilityControl,
    Organization,
    Person,
    PublicationStatus,
)
from detainees.read.filters import (
    LABEL_MODELS,
    EventFacetFilterSet,
    FacetFilter,
    PersonFilterSet,
)
from detainees.write.demo import load_demo
from tests import factories as f

pytestmark = pytest.mark.django_db
P = PublicationStatus.PUBLISHED
HIDDEN_STATUSES = [
    PublicationStatus.DRAFT,
    PublicationStatus.IN_REVIEW,
    PublicationStatus.WITHDRAWN,
]
UNKNOWN_SLUG = "no-such-record"

# Each list, the FilterSet it reads, and the extra parameters of its formats.
LISTS = [
    ("/events/", EventFacetFilterSet, {}),
    ("/events.csv", EventFacetFilterSet, {}),
    ("/api/v1/events/", EventViewSet.filterset_class, {}),
    ("/api/v1/events/", EventViewSet.filterset_class, {"format": "csv"}),
    ("/api/v1/events/facets/", EventViewSet.filterset_class, {}),
    ("/api/v1/places.geojson", EventViewSet.filterset_class, {}),
    ("/map/", EventFacetFilterSet, {}),
    ("/people/", PersonFilterSet, {}),
    ("/people.csv", PersonFilterSet, {}),
    ("/figures/", PersonFilterSet, {}),
    ("/api/v1/persons/", PersonViewSet.filterset_class, {}),
    ("/api/v1/persons/", PersonViewSet.filterset_class, {"format": "csv"}),
    ("/api/v1/persons/facets/", PersonViewSet.filterset_class, {}),
    ("/api/v1/persons/places.geojson", PersonViewSet.filterset_class, {}),
    ("/map/", PersonFilterSet, {"for": "people"}),
]


def write_hidden_records() -> dict:
    """The demo case, and hidden records of every kind a filter can name, each linked from
    published records in every role the facets read: their ids and slugs must select nothing."""
    load_demo()
    subject = f.PersonFactory(status=P, name="Public Subject")
    records = {}
    for status in HIDDEN_STATUSES:
        person = f.PersonFactory(status=status, name=f"Hidden {status}")
        org = f.OrganizationFactory(name=f"Hidden force {status}", status=status)
        province = f.PlaceFactory(name=f"Hidden province {status}", status=status)
        facility = f.FacilityFactory(name=f"Hidden facility {status}", status=status)
        FacilityControl.objects.create(facility=facility, controller=org)
        Affiliation.objects.create(person=subject, organization=org, status=P)
        for kind, role in [
            ("capture", EventOrganization.Role.CAPTURING_FORCE),
            ("custody", EventOrganization.Role.CUSTODIAN),
            ("release", EventOrganization.Role.ORDERED_BY),
            ("strike", EventOrganization.Role.GROUP),
        ]:
            event = f.EventFactory(
                status=P, kind=kind, place=province, facility=facility, summary="Linked event"
            )
            EventPerson.objects.create(event=event, person=subject)
            EventPerson.objects.create(event=event, person=person)
            EventOrganization.objects.create(event=event, organization=org, role=role)
        records[status] = {
            Person: person,
            Organization: org,
            type(province): province,
            type(facility): facility,
        }
    return records


@pytest.fixture(scope="module")
def hidden_records(module_data):
    """Written once for the file: the tests only read them."""
    return module_data(write_hidden_records)


@pytest.fixture
def hidden(hidden_records, db):
    return hidden_records


def answer(client, path, params):
    response = client.get(path, params)
    content = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode()
    value = next(iter(params.values()))
    return response.status_code, content.replace(str(value), "VALUE")


def linked_filters(filterset_class):
    """(name, model of the record it names, how the value is written) of each filter by a
    linked record."""
    found = []
    for name, flt in filterset_class().filters.items():
        if isinstance(flt, django_filters.UUIDFilter):
            path = flt.field_name.removesuffix("__public_id").split("__")
            model = Event
            for step in path:
                model = model._meta.get_field(step).related_model
            found.append((name, model, "public_id"))
        elif isinstance(flt, FacetFilter) and flt.facet.labels_from:
            found.append((name, LABEL_MODELS[flt.facet.labels_from], "slug"))
    return found


def test_every_list_filters_by_linked_records():
    """The lists do have such filters (else the test below would check nothing)."""
    names = {name for _, filterset, _ in LISTS for name, _, _ in linked_filters(filterset)}
    assert {"person", "organization", "place", "facility", "capturing_force"} <= names


@pytest.mark.parametrize(("path", "filterset", "extra"), LISTS)
def test_a_hidden_record_answers_as_an_unknown_one(client, hidden, path, filterset, extra):
    checked = 0
    for name, model, attribute in linked_filters(filterset):
        unknown = str(uuid.uuid4()) if attribute == "public_id" else UNKNOWN_SLUG
        expected = answer(client, path, {name: unknown, **extra})
        assert expected[0] == 200, (path, name, expected)
        for status, records in hidden.items():
            if model not in records:
                continue
            value = str(getattr(records[model], attribute))
            got = answer(client, path, {name: value, **extra})
            assert got == expected, f"{path}?{name}= a {status} {model.__name__} reveals it"
            checked += 1
    assert checked


def test_a_published_record_still_selects_its_events(client, hidden):
    """The same filters find a public record's events, so the check above is not vacuous."""
    subject = Person.objects.get(names__name="Public Subject")
    rows = client.get("/api/v1/events/", {"person": str(subject.public_id)}).json()["results"]
    assert len(rows) == 4 * len(HIDDEN_STATUSES)
    response = client.get("/events/", {"person": str(subject.public_id), "size": 200})
    assert len(response.context["page"].rows) == len(rows)
    assert response.context["total"] == len(rows)
