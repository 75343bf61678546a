"""`/api/v1/persons/facets/` and `/api/v1/events/facets/`: the list's counts, for scripts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import Affiliation, PublicationStatus
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED


def counts(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return {
        name: {row["value"]: row["count"] for row in rows}
        for name, rows in response.json()["facets"].items()
    }


def test_person_facets_count_what_the_filters_select(client, demo):
    everyone = counts(client, "/api/v1/persons/facets/")
    assert everyone["nationality"]["UZ"] == 1
    assert sum(everyone["status"].values()) == 3  # the demo's three published people
    uzbek = counts(client, "/api/v1/persons/facets/?nationality=UZ")
    assert sum(uzbek["status"].values()) == 1
    listed = client.get("/api/v1/persons/?nationality=UZ").json()["results"]
    assert len(listed) == 1
    labels = client.get("/api/v1/persons/facets/").json()["facets"]["organization"]
    assert {"value": "imu", "label": "Islamic Movement of Uzbekistan", "count": 2} in labels


def test_event_facets_count_what_the_filters_select(client, demo):
    everyone = counts(client, "/api/v1/events/facets/")
    captures = counts(client, "/api/v1/events/facets/?kind=capture")
    assert captures["kind"] == {"capture": everyone["kind"]["capture"]}


def test_a_bad_filter_is_a_400_with_the_field_named(client, demo):
    response = client.get("/api/v1/persons/facets/?captured_from=early+2011")
    assert response.status_code == 400
    assert "captured_from" in response.json()


def test_drafts_are_never_counted(client, demo):
    secret = f.OrganizationFactory(name="Secret group", slug="secret-group", status=PUBLISHED)
    draft = f.PersonFactory(name="Draft person", status=PublicationStatus.DRAFT)
    Affiliation.objects.create(person=draft, organization=secret, status=PUBLISHED)
    response = client.get("/api/v1/persons/facets/?organization=secret-group")
    assert "secret-group" not in response.content.decode()
    assert "Secret group" not in client.get("/api/v1/persons/facets/").content.decode()


def test_facet_counts_cost_the_same_queries_for_one_person_or_many(client):
    def queries(n):
        for i in range(n):
            person = f.PersonFactory(status=PUBLISHED)
            f.NationalityFactory(person=person, country="AF" if i % 2 else "PK")
        with CaptureQueriesContext(connection) as captured:
            counts(client, "/api/v1/persons/facets/?nationality=AF&nationality=PK")
        return len(captured)

    assert queries(1) == queries(40)
