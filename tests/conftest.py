import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("editor", "editor@example.org", "x-pass-123")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """Each test starts with no requests counted against the API's rate limit."""
    cache.clear()
    yield
    cache.clear()
