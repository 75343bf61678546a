"""The small record lists (organizations, places, facilities) write their rows directly
(`detainees.api.serializers.DirectRows`): the same rows, keys in the same order, and the same
bytes as DRF's fields give, for records of every kind (no parent, a parent that is not public,
blank and set countries, coordinates with more places than kept, names, periods of control
with and without public sources), in the same number of queries whatever the page's size."""

from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from detainees.api.serializers import (
    FIELDS_REFERENCE,
    FacilitySerializer,
    OrganizationSerializer,
    PlaceSerializer,
)
from detainees.api.views import FacilityViewSet, OrganizationViewSet, PlaceViewSet
from detainees.domain.models import (
    Facility,
    FacilityName,
    Organization,
    OrganizationName,
    Place,
    PublicationStatus,
)
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
HOSTILE = "<script>alert('x')</script> & \"Bilal\" O'Brien é 😀"


def records_of_every_kind(n: int = 0):
    hostile = f"{HOSTILE} {n}"
    draft_parent = f.OrganizationFactory(status=PublicationStatus.DRAFT, name=f"Hidden parent {n}")
    parent = f.OrganizationFactory(status=PUBLISHED, name=f"Parent {n}", abbreviation="P")
    orgs = [
        f.OrganizationFactory(status=PUBLISHED, name=hostile, country="AF", parent=parent),
        f.OrganizationFactory(status=PUBLISHED, parent=draft_parent, description=hostile),
        f.OrganizationFactory(status=PUBLISHED, abbreviation="X", kind="state_authority"),
    ]
    OrganizationName.objects.create(organization=orgs[0], name=f"Zeta alias {n}")
    OrganizationName.objects.create(organization=orgs[0], name=hostile, kind="translation")
    hidden_place = f.PlaceFactory(status=PublicationStatus.DRAFT, name=f"Hidden province {n}")
    province = f.PlaceFactory(status=PUBLISHED, name=hostile)
    f.PlaceFactory(
        status=PUBLISHED,
        kind=Place.Kind.DISTRICT,
        parent=province,
        latitude=Decimal("34.123456"),
        longitude=Decimal("-70.1"),
    )
    f.PlaceFactory(status=PUBLISHED, kind=Place.Kind.DISTRICT, parent=hidden_place)
    with_parts = f.FacilityFactory(
        status=PUBLISHED,
        name=hostile,
        place=province,
        latitude=Decimal("-1.00001"),
        longitude=Decimal("179.99999"),
        description="A <b>prison</b>",
    )
    f.FacilityFactory(status=PUBLISHED, place=hidden_place)
    f.FacilityFactory(status=PUBLISHED)
    FacilityName.objects.create(facility=with_parts, name="Old name", kind="former", language="ps")
    FacilityName.objects.create(facility=with_parts, name=hostile)
    control = f.FacilityControlFactory(
        facility=with_parts,
        controller=orgs[0],
        role="controller",
        start="2011-04",
        start_as_written="April 2011",
        end="2013~",
        note=hostile,
    )
    f.FacilityControlFactory(facility=with_parts, controller=draft_parent, role="operator")
    f.FacilityControlFactory(facility=with_parts, controller=parent, role="owner", start="2012")
    public = f.SourceFactory(status=PUBLISHED, publisher=parent, published="2011-05-02")
    hidden = f.SourceFactory(status=PublicationStatus.DRAFT, title="Hidden source")
    for source in (public, hidden):
        f.CitationFactory(source=source, event=None, facility_control=control, locator="p. 3")


CASES = [
    (OrganizationSerializer, OrganizationViewSet, Organization, "/api/v1/organizations/"),
    (PlaceSerializer, PlaceViewSet, Place, "/api/v1/places/"),
    (FacilitySerializer, FacilityViewSet, Facility, "/api/v1/facilities/"),
]


def check_rows_equal_the_fields():
    for serializer_class, viewset, model, _ in CASES:
        records = list(viewset().list_queryset())
        assert records, model
        for public in (True, False):  # staff see unpublished records, with their links
            if not public:
                records = list(viewset().detail_queryset(public=False))
            for record in records:
                fast = serializer_class(record).data
                reference = serializer_class(record, context={FIELDS_REFERENCE: True}).data
                assert fast == reference, record
                assert list(fast) == list(reference)
                render = DRFJSONRenderer().render
                assert render(fast) == render(reference)


def test_the_small_lists_rows_are_the_fields_output():
    records_of_every_kind()
    check_rows_equal_the_fields()


def test_the_small_lists_rows_are_the_fields_output_on_the_demo(demo):
    check_rows_equal_the_fields()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case[3])
def test_a_small_list_reads_in_as_many_queries_for_one_row_as_for_many(
    client, django_assert_num_queries, case
):
    _, _, model, path = case
    counts = []
    for n in range(2):
        records_of_every_kind(n)
        # The lists read published records only: a draft or a link to one never shows.
        with django_assert_num_queries({Organization: 2, Place: 1, Facility: 4}[model]):
            response = client.get(path, {"page_size": 500})
        assert response.status_code == 200
        rows = response.json()["results"]
        assert response.content == DRFJSONRenderer().render(response.data)
        assert "Hidden" not in response.content.decode()
        counts.append(len(rows))
    assert counts[1] > counts[0]
