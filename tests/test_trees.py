"""Places and organizations form trees: no cycles, and places nest only in larger places,
whichever path writes them (the model's checks, the API, raw SQL into the database)."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from detainees.domain.models import Organization, Place
from tests import factories as f
from tests.conftest import member_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    province = f.PlaceFactory(name="Kunduz", kind=Place.Kind.PROVINCE)
    district = f.PlaceFactory(name="Chahar Dara", kind=Place.Kind.DISTRICT, parent=province)
    return province, district


def refused_by_database(write):
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    return str(caught.value)


def test_a_province_cannot_sit_under_its_own_district(tree):
    province, district = tree
    province.parent = district
    with pytest.raises(ValidationError) as caught:
        province.full_clean()
    assert "A province cannot be inside a district" in str(caught.value)
    message = refused_by_database(
        lambda: Place.objects.filter(pk=province.pk).update(parent=district)
    )
    assert "cannot be inside a district" in message
    province.refresh_from_db()
    assert province.parent.kind == Place.Kind.COUNTRY


def test_a_place_cannot_be_its_own_parent(tree):
    province, _ = tree
    refused_by_database(lambda: Place.objects.filter(pk=province.pk).update(parent=province))


def test_a_district_with_localities_cannot_become_a_locality(tree):
    _, district = tree
    f.PlaceFactory(name="Gul Tepa", kind=Place.Kind.LOCALITY, parent=district)
    district.kind = Place.Kind.LOCALITY
    with pytest.raises(ValidationError):
        district.full_clean()
    message = refused_by_database(
        lambda: Place.objects.filter(pk=district.pk).update(kind=Place.Kind.LOCALITY)
    )
    assert "cannot hold the places inside it" in message


def test_places_still_nest_as_they_should(tree):
    _, district = tree
    village = f.PlaceFactory(name="Gul Tepa", kind=Place.Kind.LOCALITY, parent=district)
    village.full_clean()
    assert village.parent == district


def test_organizations_cannot_form_a_cycle_in_the_database():
    top = f.OrganizationFactory(name="Top")
    middle = f.OrganizationFactory(name="Middle", parent=top)
    bottom = f.OrganizationFactory(name="Bottom", parent=middle)
    message = refused_by_database(
        lambda: Organization.objects.filter(pk=top.pk).update(parent=bottom)
    )
    assert "cycle of parents" in message
    refused_by_database(lambda: Organization.objects.filter(pk=top.pk).update(parent=top))
    top.refresh_from_db()
    assert top.parent is None


def test_the_api_answers_a_cycle_with_a_400_naming_the_parent(token_client):
    api = token_client(member_of("Researcher", "tree-researcher"))
    top = f.OrganizationFactory(name="Top", status="draft")
    child = f.OrganizationFactory(name="Child", parent=top, status="draft")
    url = f"/api/v1/organizations/{top.public_id}/"
    etag = api.get(url).headers["ETag"]
    response = api.patch(
        url,
        json.dumps({"parent": str(child.public_id)}),
        content_type="application/json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 400, response.content
    assert "parent" in response.json()
    top.refresh_from_db()
    assert top.parent is None
