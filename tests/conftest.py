import pytest
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections, transaction


@pytest.fixture(scope="module")
def demo_in_module(django_db_setup, django_db_blocker):
    """The demo case, loaded once for the tests of one file that ask for `demo`, then removed.

    It is entered in a transaction that stays open while those tests run (each of them runs in a
    savepoint inside it, rolled back after it, as Django's TestCase does with setUpTestData) and
    is rolled back after the file's last test, so no other test ever sees the demo's records.
    """
    from detainees.write.demo import load_demo

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            load_demo()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def demo(demo_in_module, db):
    """The demo case (detainees/write/demo.py), every record published; each test's changes roll back."""


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Within each file, run the tests that use the demo after the others: the demo stays loaded
    from a file's first `demo` test to its last, so the tests that expect an empty database, and
    those that need a real transaction (transactional_db, which empties every table after it),
    must come before it."""
    files = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], len(files))
        marker = item.get_closest_marker("django_db")
        if "demo_in_module" in item.fixturenames and (
            "transactional_db" in item.fixturenames
            or "live_server" in item.fixturenames
            or (marker is not None and marker.kwargs.get("transaction"))
        ):
            raise pytest.UsageError(
                f"{item.nodeid}: `demo` is rolled back after each test; a test that commits "
                "(transactional_db, live_server) calls detainees.write.demo.load_demo() itself"
            )
    items.sort(
        key=lambda item: (
            files[item.nodeid.split("::")[0]],
            "demo_in_module" in item.fixturenames,
        )
    )


@pytest.fixture
def wsgi_keeps_test_transaction():
    """Requests sent to the WSGI application itself (schemathesis) keep the test's transaction,
    as Django's test client does: the handler would otherwise close the connection it sees as
    not autocommitting at the start and end of each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def desk(tmp_path):
    """The desk's import files (tests/test_import.py), in a directory."""
    # Imported here: the files are described beside the import tests that read them.
    from tests.test_import import DESK_FILES

    directory = tmp_path / "desk"
    directory.mkdir()
    for name, text in DESK_FILES.items():
        (directory / name).write_text(text)
    return directory


@pytest.fixture
def unnamed_people(tmp_path):
    """A persons file of placeholders (people not yet named), which imports alone."""
    from tests.test_import import UNNAMED_PEOPLE  # as DESK_FILES above

    path = tmp_path / "unnamed" / "persons.csv"
    path.parent.mkdir()
    path.write_text(UNNAMED_PEOPLE)
    return path


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
    """A staff user in one of the editorial groups (detainees/domain/roles.py)."""
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
