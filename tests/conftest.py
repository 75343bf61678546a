from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections, connection, transaction


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request):
    """Test databases are copies of a migrated template (CREATE DATABASE ... TEMPLATE), made
    once per set of migrations and kept on the server: an xdist worker's database costs a copy
    instead of a run of every migration. Kept databases (`--reuse-db`) are named after the
    migrations too, so a branch with other migrations never finds a database migrated for
    another; building a new template drops the ones of other migrations. `--create-db` builds
    the template afresh; `--nomigrations` goes without it."""
    if request.config.getvalue("nomigrations"):
        return
    from django.conf import settings

    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if test.get("TEMPLATE"):
        return
    digest = migrations_digest()
    if request.config.getvalue("reuse_db"):
        name = test.get("NAME") or f"test_{database['NAME']}"
        test["NAME"] = name.replace(
            f"test_{database['NAME']}", f"test_{database['NAME']}_{digest}", 1
        )
    with request.getfixturevalue("django_db_blocker").unblock():
        test["TEMPLATE"] = migrated_template(digest, rebuild=request.config.getvalue("create_db"))


def migrations_digest() -> str:
    """A digest of every installed app's migration files."""
    import hashlib
    import importlib.util
    from pathlib import Path

    from django.apps import apps

    digest = hashlib.sha256()
    for app in sorted(apps.get_app_configs(), key=lambda app: app.label):
        spec = importlib.util.find_spec(f"{app.name}.migrations")
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            for path in sorted(Path(location).glob("*.py")):
                digest.update(f"{app.label}/{path.name}".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def migrated_template(digest: str, rebuild: bool = False) -> str:
    """The name of the template database for these migrations, built if missing."""
    import re

    from django.db import connections

    connection = connections["default"]
    base = connection.settings_dict["NAME"]
    name = f"test_{base}_template_{digest}"
    # This server's templates and kept test databases for other migrations.
    stale = re.compile(rf"test_{re.escape(base)}_(template_)?[0-9a-f]{{12}}(_gw\d+)?")
    with connection.creation._nodb_cursor() as cursor:
        # One process builds it; the other xdist workers wait here, then copy it.
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"test_{base}_template"])
        try:
            if rebuild:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                build_template(connection, name)
                cursor.execute("SELECT datname FROM pg_database")
                for (old,) in cursor.fetchall():
                    if stale.fullmatch(old) and digest not in old:
                        cursor.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f"test_{base}_template"])
    return name


def build_template(connection, name: str):
    from django.conf import settings

    saved, saved_test = dict(connection.settings_dict), dict(connection.settings_dict["TEST"])
    connection.settings_dict["TEST"].pop("TEMPLATE", None)
    connection.settings_dict["TEST"]["NAME"] = name
    try:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    finally:
        connection.close()
        connection.settings_dict.update(saved)
        connection.settings_dict["TEST"].clear()
        connection.settings_dict["TEST"].update(saved_test)
        settings.DATABASES[connection.alias]["NAME"] = saved["NAME"]


# Passwords hashed the production way cost about 0.3 s each (PBKDF2, a million rounds), paid by
# every user a test creates and every login it tries. No test is about the hash itself, so the
# tests hash with MD5; a test of the hashers would say its own PASSWORD_HASHERS.
TEST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=TEST_PASSWORD_HASHERS):
        yield


@pytest.fixture(scope="session", autouse=True)
def flush_by_delete():
    """Empty the tables after a transactional test (transactional_db, live_server, the browser
    tests) with DELETE rather than TRUNCATE: a TRUNCATE of every table gives each one new files,
    about 2 s for the 70 tables whatever they hold, where deleting the few rows a test left
    takes a few milliseconds. The triggers are off for it, as TRUNCATE fires none of the
    row triggers (history) and checks no reference between the tables it empties; that takes a
    superuser, as the test servers' user is: any other user flushes with TRUNCATE."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush
    superuser = {}

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        alias = self.connection.alias
        if alias not in superuser:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                superuser[alias] = bool(cursor.fetchone()[0])
        if not tables or reset_sequences or not superuser[alias]:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [
            "SET LOCAL session_replication_role = replica;",
            *(f"DELETE FROM {self.quote_name(table)};" for table in tables),  # noqa: S608 (names from the models)
            "SET LOCAL session_replication_role = origin;",
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = truncate


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

        if self.loaded and connection.closed_in_transaction:
            # Closed under the demo (a request through the WSGI handler without
            # wsgi_keeps_test_transaction): that test failed; the next ones get a new demo.
            self.drop()
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


def pytest_configure(config):
    config.pluginmanager.register(XdistGroups(), "tracker-xdist-groups")
    config.pluginmanager.register(PlannerStatistics(), "tracker-planner-statistics")


class PlannerStatistics:
    """An ANALYZE inside a test's transaction (the synthetic loader, the ISAF import, a stored
    list's rebuild) writes the tables' row estimates (pg_class) in place: the rollback keeps
    them, so the planner goes on planning for the rows the test had written. Every later write
    of the process, each recomputing its stored-list rows through the triggers, then ran about
    three times slower, and so did later runs on the kept databases (`--reuse-db`). After each
    file, when the estimates are not those the last ANALYZE left, the tables are analyzed again
    as they are (once per process first, for what an earlier run left)."""

    ESTIMATES = (
        "SELECT coalesce(array_agg(reltuples ORDER BY oid), '{}') FROM pg_class "
        "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
    )

    def __init__(self):
        self.database_ready = False
        self.estimates = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item, nextitem):
        yield
        self.database_ready |= "django_db_setup" in item.fixturenames
        if nextitem is None or nextitem.path == item.path:
            return  # not a file's end, or the last test: the test databases are gone
        if (
            not self.database_ready
            or not connection.settings_dict["NAME"].startswith("test_")
            or connection.in_atomic_block
        ):
            return  # no test database yet, or the shared demo still open
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock(), connection.cursor() as cursor:
            cursor.execute(self.ESTIMATES)
            if cursor.fetchone()[0] != self.estimates:
                cursor.execute("ANALYZE")
                cursor.execute(self.ESTIMATES)
                self.estimates = cursor.fetchone()[0]


class XdistGroups:
    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items):
        """Under `--dist loadgroup` (make test, make test-fast), keep on one worker the tests of a
        file or package with a module- or package-scoped fixture (the browser, a file's
        `module_data`, the schemathesis schema, the synthetic dataset), all of them, as they run
        in one process: the fixture is set up once, and no test of the file runs beside it on
        another worker or after it on the same one while the fixture still stands. Likewise the
        tests that start embedded servers (localdb), so that no two of them run at once. Every
        other test goes to whichever worker is free, in the order of the next hook."""

        def wide_scopes(item) -> set[str]:
            info = getattr(item, "_fixtureinfo", None)
            return {
                fixturedefs[-1].scope
                for fixturedefs in (info.name2fixturedefs.values() if info else ())
                if fixturedefs
            }

        packages, files = set(), set()
        for item in items:
            scopes = wide_scopes(item)
            if "package" in scopes:
                packages.add(item.nodeid.split("::")[0].rsplit("/", 1)[0])
            if "module" in scopes:
                files.add(item.nodeid.split("::")[0])
        for item in items:
            path = item.nodeid.split("::")[0]
            package = path.rsplit("/", 1)[0]
            if item.get_closest_marker("localdb"):
                item.add_marker(pytest.mark.xdist_group("localdb"))
            elif package in packages:
                item.add_marker(pytest.mark.xdist_group(package))
            elif path in files:
                item.add_marker(pytest.mark.xdist_group(path))


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


@contextmanager
def keeping_test_transaction():
    """Requests sent to the WSGI application itself (schemathesis) keep the test's transaction,
    and the shared demo's, as Django's test client does: the handler would otherwise close the
    connection it sees as not autocommitting at the start and end of each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def wsgi_keeps_test_transaction():
    """keeping_test_transaction() for the length of a test."""
    with keeping_test_transaction():
        yield


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


@pytest.fixture
def as_researcher(researcher, token_client):
    """A script's client, signed in by token as a Researcher."""
    return token_client(researcher)


@pytest.fixture
def as_editor(editor, token_client):
    """A script's client, signed in by token as an Editor."""
    return token_client(editor)
