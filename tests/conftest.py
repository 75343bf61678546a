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


def member_of(group_name: str, username: str):
    """A staff user in one of the editorial groups (detainees/roles.py)."""
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username, f"{username}@example.org", "x-pass-123")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def researcher(db):
    return member_of("Researcher", "researcher")


@pytest.fixture
def editor(db):
    return member_of("Editor", "editor-role")


@pytest.fixture
def token_client():
    """`token_client(user)`: a test client sending the user's API token, as a script does."""
    from django.test import Client
    from rest_framework.authtoken.models import Token

    def make(user):
        token, _ = Token.objects.get_or_create(user=user)
        return Client(HTTP_AUTHORIZATION=f"Token {token.key}")

    return make
