import pytest
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections, transaction

# Passwords hashed the production way cost about 0.3 s each (PBKDF2, a million rounds), paid by
# every user a test creates and every login it tries. No test is about the hash itself, so the
# tests hash with MD5; a test of the hashers would say its own PASSWORD_HASHERS.
TEST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=TEST_PASSWORD_HASHERS):
        yield


class SharedDemo:
    """The demo case, entered in a transaction that stays open for as long as demo tests follow
    one another (each of them runs in a savepoint inside it, rolled back after it, as Django's
    TestCase does with setUpTestData) and rolled back before any other test, so no other test
    ever sees the demo's records. The tests are ordered so that this happens once per process."""

    def __init__(self, blocker):
        self.blocker = blocker
        self.atomic = None
        self.loads = 0

    @property
    def loaded(self) -> bool:
        return self.atomic is not None

    def load(self):
        from detainees.write.demo import load_demo

        if self.loaded:
            return
        with self.blocker.unblock():
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                load_demo()
            except BaseException:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
                raise
        self.atomic = atomic
        self.loads += 1

    def drop(self):
        if not self.loaded:
            return
        with self.blocker.unblock():
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)
        self.atomic = None


SHARED_DEMO: list[SharedDemo] = []


@pytest.fixture(scope="session")
def demo_in_session(django_db_setup, django_db_blocker):
    """The demo case for the tests that ask for `demo`: loaded by the first of them, kept for
    the next ones, rolled back before any other test (pytest_runtest_setup below)."""
    shared = SharedDemo(django_db_blocker)
    SHARED_DEMO.append(shared)
    shared.load()
    yield shared
    shared.drop()
    SHARED_DEMO.remove(shared)


@pytest.fixture
def demo(demo_in_session, db):
    """The demo case (detainees/write/demo.py), every record published; each test's changes roll back."""


@pytest.fixture(scope="module")
def module_data(django_db_setup, django_db_blocker):
    """`module_data(build, *args)` in a module-scoped fixture: `build(*args)` writes the
    records once for the file's tests that ask for that fixture, as Django's setUpTestData does.

    They are written in a transaction that stays open while those tests run (each in a savepoint
    inside it, rolled back after it) and is rolled back after the last of them. The shared demo
    is rolled back first: it cannot be nested in a transaction that ends before it does.
    """
    for shared in SHARED_DEMO:
        shared.drop()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()

    def build(function, *args, **kwargs):
        with django_db_blocker.unblock():
            return function(*args, **kwargs)

    try:
        yield build
    finally:
        for shared in SHARED_DEMO:
            shared.drop()
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before a test's fixtures are set up: load the shared demo for a demo test (again, if a
    test without it came in between), roll it back for any other test."""
    for shared in SHARED_DEMO:
        if "demo_in_session" in item.fixturenames:
            shared.load()
        else:
            shared.drop()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Run the tests that use the demo after all the others, each part in its files' order: the
    demo stays loaded from the first `demo` test to the last, so the tests that expect an empty
    database, and those that need a real transaction (transactional_db, which empties every
    table after it), must come before it. Under xdist every worker runs its share of the tests
    in this order (`--dist load` and `loadgroup` hand them out in it), so each loads the demo
    once. Within a file, the tests of a `module_data` fixture come last: its records stay
    until the file's last test."""
    files = {}
    for item in items:
        marker = item.get_closest_marker("django_db")
        shared = {"demo_in_session", "module_data"} & set(item.fixturenames)
        if shared and (
            "transactional_db" in item.fixturenames
            or "live_server" in item.fixturenames
            or (marker is not None and marker.kwargs.get("transaction"))
        ):
            raise pytest.UsageError(
                f"{item.nodeid}: `demo` and `module_data` are rolled back after each test; a "
                "test that commits (transactional_db, live_server) writes its records itself, "
                "e.g. with detainees.write.demo.load_demo()"
            )
    for item in items:
        path = item.nodeid.split("::")[0]
        files.setdefault(path, [len(files), False, False])
        files[path][1] |= "demo_in_session" in item.fixturenames
        files[path][2] |= "module_data" in item.fixturenames
        if files[path][1] and files[path][2]:
            raise pytest.UsageError(
                f"{path}: `demo` and `module_data` in one file; the demo cannot be loaded "
                "inside the file's records, which stay until its last test"
            )
    items.sort(
        key=lambda item: (
            "demo_in_session" in item.fixturenames,
            files[item.nodeid.split("::")[0]][0],
            "module_data" in item.fixturenames,
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
