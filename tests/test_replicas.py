"""DATABASE_REPLICA_URLS: anonymous public reads go to replicas; writes, staff and scripts don't."""

import json
import logging
import os
import socket
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import OperationalError, connections
from django.test import RequestFactory

from detainees.domain.models import Person, PublicationStatus
from tracker import routers
from tracker.routers import ReplicaMiddleware, ReplicaRouter, may_read_from_replica, replica_reads

router = ReplicaRouter()
requests = RequestFactory()


class FakeReplicas:
    """Replicas as the health checks see them: each alias's lag in seconds, or an exception to
    raise (down); and a clock that moves only when told."""

    def __init__(self):
        self.lag: dict[str, float | Exception] = {}
        self.now = 1000.0
        self.probes: list[str] = []

    def probe(self, connection):
        self.probes.append(connection.alias)
        lag = self.lag.get(connection.alias, 0.0)
        if isinstance(lag, Exception):
            raise lag
        return lag

    def clock(self):
        return self.now


@pytest.fixture
def replicas(monkeypatch):
    """Health checks against FakeReplicas, with a fresh per-process state."""
    fake = FakeReplicas()
    health = routers.ReplicaHealth(probe=fake.probe, clock=fake.clock)
    monkeypatch.setattr(health, "_connection", FakeConnection)
    monkeypatch.setattr(routers, "health", health)
    return fake


class FakeConnection:
    def __init__(self, alias):
        self.alias = alias

    def close(self):
        pass


@pytest.fixture
def two_replicas(monkeypatch, replicas):
    monkeypatch.setattr(routers, "replica_aliases", lambda: ["replica1", "replica2"])
    return replicas


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


# Replicas that are down or behind -----------------------------------------------------------


def reads(n: int = 30) -> set[str]:
    with replica_reads():
        return {router.db_for_read(Person) for _ in range(n)}


def test_a_healthy_replica_serves_reads(two_replicas):
    two_replicas.lag = {"replica1": 0.0, "replica2": 1.5}
    assert reads() == {"replica1", "replica2"}


def test_a_replica_that_is_down_is_left_out(two_replicas, caplog):
    two_replicas.lag["replica2"] = OperationalError("connection refused")
    with caplog.at_level(logging.WARNING, logger="tracker.replicas"):
        assert reads() == {"replica1"}
    assert "Replica replica2 taken out: unreachable or unready (OperationalError" in caplog.text


def test_a_lagging_replica_is_left_out(two_replicas, caplog, settings):
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
    two_replicas.lag = {"replica1": 5.0, "replica2": 12.5}
    with caplog.at_level(logging.WARNING, logger="tracker.replicas"):
        assert reads() == {"replica1"}  # at the limit is still in
    assert "Replica replica2 taken out: 12.5 s behind (limit 5 s)" in caplog.text


def test_with_every_replica_out_the_primary_serves_the_reads(two_replicas):
    two_replicas.lag = {"replica1": 60.0, "replica2": OperationalError("timeout expired")}
    assert reads() == {"default"}


def test_replicas_are_checked_at_most_every_few_seconds_and_come_back(
    two_replicas, caplog, settings
):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 2
    two_replicas.lag["replica2"] = OperationalError("connection refused")
    assert reads() == {"replica1"}
    assert sorted(two_replicas.probes) == ["replica1", "replica2"]  # once each, for 30 reads
    two_replicas.lag["replica2"] = 0.2
    two_replicas.now += 1.9
    assert reads() == {"replica1"}  # the last result stands until the next check is due
    assert len(two_replicas.probes) == 2
    two_replicas.now += 0.1
    with caplog.at_level(logging.WARNING, logger="tracker.replicas"):
        assert reads() == {"replica1", "replica2"}
    assert len(two_replicas.probes) == 4
    assert "Replica replica2 is back: anonymous reads go to it again." in caplog.text


def test_a_signed_in_reader_reads_the_primary_whatever_the_replicas(two_replicas):
    seen = []
    request = requests.get("/people/")
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "abc"
    ReplicaMiddleware(lambda request: seen.append(router.db_for_read(Person)))(request)
    assert seen == ["default"]
    assert two_replicas.probes == []  # not even checked


def test_the_lag_query_runs_on_postgresql(db):
    """On a primary (not in recovery) the lag query answers 0: it is valid SQL for the server."""
    assert routers.probe(connections["default"]) == 0.0


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dying_replica(db, replicas, monkeypatch):
    """`replica1`: a replica that passed its last check, then stopped (its port refuses).

    Its connection is this thread's only, outside settings.DATABASES (the test case would
    otherwise forbid it as a database the test did not ask for)."""
    default = connections["default"]
    params = {**default.settings_dict, "HOST": "127.0.0.1", "PORT": str(closed_port())}
    replica = type(default)(params, "replica1")
    connections._connections.replica1 = replica
    monkeypatch.setattr(routers, "replica_aliases", lambda: ["replica1"])
    yield replicas
    replica.close()
    delattr(connections._connections, "replica1")


@pytest.mark.parametrize("path", ["/people/", "/api/v1/persons/", "/events/"])
def test_a_replica_failing_mid_request_is_retried_on_the_primary(
    dying_replica, client, caplog, path
):
    from tests import factories as f

    f.PersonFactory(name="Qari Bilal", status=PublicationStatus.PUBLISHED)
    assert reads() == {"replica1"}  # the check passed: the replica takes reads
    dying_replica.lag["replica1"] = OperationalError("connection refused")
    with caplog.at_level(logging.WARNING, logger="tracker.replicas"):
        response = client.get(path)
    assert response.status_code == 200
    if path != "/events/":
        assert b"Qari Bilal" in response.content
    assert f"Replica read failed, GET {path} run again on the primary" in caplog.text
    assert "Replica replica1 taken out" in caplog.text
    # The failure took it out at once: the next request reads the primary without trying it.
    probes = len(dying_replica.probes)
    assert client.get(path).status_code == 200
    assert reads() == {"default"}
    assert len(dying_replica.probes) == probes


def test_a_primary_failure_is_not_retried(two_replicas):
    """An outage of the primary itself stays the outage middleware's 503 (tracker/outage.py)."""
    middleware = ReplicaMiddleware(lambda request: None)
    with replica_reads():
        assert middleware.process_exception(requests.get("/"), OperationalError("x")) is None


def settings_of(env: dict[str, str]) -> subprocess.CompletedProcess:
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.DATABASE_REPLICA_MAX_LAG_SECONDS, "
        "settings.DATABASE_REPLICA_CHECK_SECONDS, "
        "{k: v['OPTIONS'].get('connect_timeout') for k, v in settings.DATABASES.items()}]))"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        env={
            **os.environ,
            "DATABASE_URL": "postgresql://u@primary:5432/tracker",
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "tracker.settings",
            **env,
        },
        capture_output=True,
        text=True,
    )


def test_replica_limits_and_timeouts_are_read_from_the_environment():
    out = settings_of(
        {
            "DATABASE_REPLICA_URLS": "postgresql://u@r1/tracker, postgresql://u@r2/t?connect_timeout=7",
            "DATABASE_REPLICA_MAX_LAG_SECONDS": "0.5",
            "DATABASE_REPLICA_CHECK_SECONDS": "10",
        }
    )
    assert out.returncode == 0, out.stderr
    lag, check, timeouts = json.loads(out.stdout)
    assert (lag, check) == (0.5, 10.0)
    # Replicas give up connecting after 2 s unless their URL says otherwise; the primary waits.
    assert timeouts == {"default": None, "replica1": 2, "replica2": 7}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_REPLICA_MAX_LAG_SECONDS", "soon"),
        ("DATABASE_REPLICA_MAX_LAG_SECONDS", "-1"),
        ("DATABASE_REPLICA_MAX_LAG_SECONDS", "nan"),
        ("DATABASE_REPLICA_CHECK_SECONDS", "0"),
        ("DATABASE_REPLICA_CHECK_SECONDS", "inf"),
    ],
)
def test_a_bad_replica_limit_stops_start_up(name, value):
    out = settings_of({name: value})
    assert out.returncode != 0
    assert f"{name} must be a number of seconds" in out.stderr


class ScriptedConnection:
    """A connection whose queries answer, in turn, the rows given."""

    def __init__(self, *rows):
        self.rows = list(rows)
        self.queries = []

    def cursor(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, params=None):
        self.queries.append(params)

    def fetchone(self):
        return self.rows.pop(0)


LSN = "0/3000060"


@pytest.mark.parametrize(
    ("rows", "lag"),
    [
        # (in recovery, WAL receiver runs, all received is replayed, received, age) [, reached]
        pytest.param([(False, False, None, None, None)], 0.0, id="not a replica (promoted)"),
        pytest.param([(True, True, True, LSN, 600.0)], 0.0, id="caught up, idle primary"),
        pytest.param(
            [(True, True, False, LSN, 600.0), (True,)], 0.0, id="replays what arrives at once"
        ),
        pytest.param([(True, True, False, LSN, 7.5), (False,)], 7.5, id="replay behind"),
        pytest.param([(True, False, True, LSN, 42.0)], 42.0, id="cut off from the primary"),
    ],
)
def test_how_far_behind_a_replica_is(rows, lag):
    connection = ScriptedConnection(*rows)
    assert routers.probe(connection, sleep=lambda seconds: None) == lag
    if len(rows) == 2:
        assert connection.queries[1] == [LSN]  # replay checked against what had arrived


def test_a_replica_that_cannot_tell_its_lag_is_left_out():
    connection = ScriptedConnection((True, True, False, LSN, None), (False,))
    with pytest.raises(routers.ReplicaLagUnknown):
        routers.probe(connection, sleep=lambda seconds: None)
