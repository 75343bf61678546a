"""The API's fast paths give what the general ones give on the demo case (tests/test_api_fast.py
for generated data: a file's records and the demo are not loaded together)."""

import pytest
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from detainees.domain.models import Person
from tests.test_api_fast import check_events_and_people

pytestmark = pytest.mark.django_db


def test_direct_rows_and_tuple_citations_equal_the_references_on_the_demo(demo):
    check_events_and_people()


def test_the_demo_persons_api_answers_drfs_bytes(client, demo):
    for path in ["/api/v1/persons/", "/api/v1/events/?page_size=500"] + [
        f"/api/v1/persons/{public_id}/"
        for public_id in Person.objects.published().values_list("public_id", flat=True)
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.content == DRFJSONRenderer().render(response.data, "application/json", {})
