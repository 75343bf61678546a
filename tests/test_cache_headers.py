"""Anonymous public reads say a CDN may keep them; anything personal or failed says it may not."""

import pytest
from django.test import override_settings

from tests import factories as f

PUBLISHED = "published"
pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return f.PersonFactory(status=PUBLISHED)


def directives(response):
    return {part.strip() for part in response["Cache-Control"].split(",")}


@override_settings(PUBLIC_CACHE_SECONDS=120)
def test_public_pages_and_api_reads_are_cacheable(client, person):
    for url in ("/", "/people/", person.get_absolute_url(), "/api/v1/persons/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert directives(response) == {"public", "max-age=120"}, url


def test_a_draft_404_is_not_cached_so_publishing_shows_at_once(client):
    draft = f.PersonFactory(status="draft")
    response = client.get(draft.get_absolute_url())
    assert response.status_code == 404
    assert directives(response) == {"private", "no-store"}


def test_signed_in_readers_get_private_responses(admin_client, person):
    response = admin_client.get(person.get_absolute_url())
    assert response.status_code == 200
    assert "public" not in directives(response)
    assert "private" in directives(response)


def test_the_admin_is_never_cached(client):
    response = client.get("/admin/login/")
    assert "public" not in directives(response)


def test_a_token_request_is_private(client, person):
    response = client.get("/api/v1/persons/", HTTP_AUTHORIZATION="Token nothing")
    assert "public" not in directives(response)
