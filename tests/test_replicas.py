"""DATABASE_REPLICA_URLS: anonymous public reads go to replicas; writes, staff and scripts don't."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import RequestFactory

from detainees.domain.models import Person
from tracker import routers
from tracker.routers import ReplicaMiddleware, ReplicaRouter, may_read_from_replica, replica_reads

router = ReplicaRouter()
requests = RequestFactory()


@pytest.fixture
def two_replicas(monkeypatch):
    monkeypatch.setattr(routers, "replica_aliases", lambda: ["replica1", "replica2"])


def test_public_reads_go_to_a_replica_and_writes_to_the_primary(two_replicas):
    with replica_reads():
        assert {router.db_for_read(Person) for _ in range(50)} == {"replica1", "replica2"}
        assert router.db_for_write(Person) == "default"


def test_sessions_and_accounts_are_always_read_from_the_primary(two_replicas):
    with replica_reads():
        assert router.db_for_read(Session) == "default"
        assert router.db_for_read(get_user_model()) == "default"


def test_outside_a_public_request_everything_reads_the_primary(two_replicas):
    assert router.db_for_read(Person) == "default"  # commands, importers, the shell
    with replica_reads(), replica_reads(False):
        assert router.db_for_read(Person) == "default"


def test_without_replicas_everything_uses_the_primary():
    with replica_reads():
        assert router.db_for_read(Person) == "default"


def test_only_the_primary_is_migrated():
    assert router.allow_migrate("default", "detainees")
    assert not router.allow_migrate("replica1", "detainees")


@pytest.mark.parametrize(
    ("request_", "public"),
    [
        (requests.get("/people/"), True),
        (requests.head("/api/v1/persons/"), True),
        (requests.post("/api/v1/persons/"), False),
        (requests.patch("/api/v1/persons/x/"), False),
        (requests.get("/admin/detainees/person/"), False),
        (requests.get("/api/v1/persons/", HTTP_AUTHORIZATION="Token abc"), False),
    ],
    ids=["anonymous page", "anonymous API", "POST", "PATCH", "admin", "token"],
)
def test_which_requests_count_as_public_reads(request_, public):
    assert may_read_from_replica(request_) is public


def test_a_signed_in_reader_reads_the_primary():
    request = requests.get("/people/")
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "abc"
    assert not may_read_from_replica(request)


def test_the_middleware_routes_for_the_length_of_the_request_only(two_replicas):
    seen = []

    def view(request):
        seen.append(router.db_for_read(Person))
        return

    ReplicaMiddleware(view)(requests.get("/people/"))
    ReplicaMiddleware(view)(requests.post("/api/v1/persons/"))
    assert seen[0].startswith("replica")
    assert seen[1] == "default"
    assert router.db_for_read(Person) == "default"


def test_replica_urls_are_read_from_the_environment():
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://u@primary:5432/tracker",
        "DATABASE_REPLICA_URLS": "postgresql://u@r1:5432/tracker, postgresql://u@r2/tracker",
        "DEBUG": "1",
    }
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps({k: [v['HOST'], v.get('TEST', {}).get('MIRROR')] "
        "for k, v in settings.DATABASES.items()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        env={**env, "DJANGO_SETTINGS_MODULE": "tracker.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == {
        "default": ["primary", None],
        "replica1": ["r1", "default"],
        "replica2": ["r2", "default"],
    }


def test_a_replica_url_that_is_not_postgresql_stops_start_up():
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://u@primary:5432/tracker",
        "DATABASE_REPLICA_URLS": "mysql://u@r1/tracker",
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
    }
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0
    assert "DATABASE_REPLICA_URLS entry 1 must be PostgreSQL" in out.stderr
