"""/healthz, /readyz, and database outages: 503 with Retry-After and no-store, never a 500."""

import json
import logging
import socket

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, connections
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from detainees.api import export
from detainees.domain.models import Person, PublicationStatus
from tests import factories as f
from tracker import health

PUBLISHED = PublicationStatus.PUBLISHED
PAGES = ["/", "/people/", "/people.csv", "/events.csv", "/events/", "/search/?q=bilal"]
API = [
    "/api/v1/persons/",
    "/api/v1/persons/?format=csv",
    "/api/v1/events/",
    "/api/v1/export.jsonl",
    "/api/v1/export.jsonl?types=persons",
]


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database_down(transactional_db):
    """`database_down()`: the database server is out of reach from then on (refused)."""
    db = connections["default"]
    saved = {key: db.settings_dict[key] for key in ("HOST", "PORT")}

    def go_down():
        db.close()
        db.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))

    yield go_down
    db.close()
    db.settings_dict.update(saved)


@pytest.fixture
def outage(database_down):
    f.PersonFactory(name="Qari Bilal", status=PUBLISHED)
    database_down()


def assert_unavailable(response, path):
    assert response.status_code == 503, (path, response.status_code)
    assert int(response["Retry-After"]) > 0, path
    assert response["Cache-Control"] == "no-store", path
    assert not response.streaming, path


def test_every_page_and_api_answers_503_while_the_database_is_out_of_reach(outage):
    client = Client(raise_request_exception=False)
    for path in PAGES:
        response = client.get(path)
        assert_unavailable(response, path)
        assert response["Content-Type"].startswith("text/html"), path
        page = response.content.decode()
        assert "Unavailable for a moment" in page and "Detainee-release tracker" in page, path
    for path in API:
        response = client.get(path)
        assert_unavailable(response, path)
        assert response["Content-Type"] == "application/json", path
        assert "unavailable" in response.json()["detail"], path
    response = client.get("/readyz")
    assert_unavailable(response, "/readyz")
    assert response.json() == {"status": "unavailable", "reason": "database unreachable"}

    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"


def test_a_signed_in_readers_session_lookup_in_an_outage_is_a_503(database_down):
    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.create_superuser("editor", "e@example.org", "x"))
    database_down()
    for path in ("/admin/", "/people/"):
        assert_unavailable(client.get(path), path)


class ReadsTheDatabaseMiddleware:
    """A middleware that queries before any view runs (as a session store would)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        Person.objects.exists()
        return self.get_response(request)


def test_an_outage_met_in_a_middleware_is_a_503_too(outage, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_outage.ReadsTheDatabaseMiddleware"]
    client = Client(raise_request_exception=False)
    response = client.get("/people/")
    assert_unavailable(response, "/people/")
    assert "Unavailable for a moment" in response.content.decode()
    response = client.get("/api/v1/persons/")
    assert_unavailable(response, "/api/v1/persons/")
    assert "detail" in response.json()


def test_healthz_answers_without_the_database(client):
    # No database fixture: any query here would fail the test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"


def test_readyz_is_ready_when_the_database_answers_and_every_migration_is_applied(
    client, db, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(health, "_schema_ready", False)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "migrations": "applied"}
    assert response["Cache-Control"] == "no-store"
    # Once the schema is known to be up to date, a check is one round trip.
    with django_assert_max_num_queries(1):
        assert client.get("/readyz").status_code == 200


def test_readyz_is_unavailable_while_a_migration_is_unapplied(client, db, monkeypatch):
    monkeypatch.setattr(health, "_schema_ready", False)
    latest = MigrationRecorder(connection).migration_qs.filter(app="detainees").latest("id")
    latest.delete()  # as if the code were deployed before `migrate` ran
    response = client.get("/readyz")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["Cache-Control"] == "no-store"
    assert response.json()["reason"] == "unapplied migrations"
    assert f"detainees.{latest.name}" in response.json()["unapplied"]


def test_health_checks_are_never_rate_limited(client, db, settings):
    settings.API_ANON_RATE = "2/minute"
    for _ in range(5):
        assert client.get("/readyz").status_code == 200
        assert client.get("/healthz").status_code == 200


# --- Streams ----------------------------------------------------------------------------------


def failing_json_line(monkeypatch, *, after: int):
    """export.json_line raises a lost connection once `after` lines have been written."""
    real, written = export.json_line, []

    def json_line(data):
        if len(written) == after:
            raise OperationalError("server closed the connection unexpectedly")
        written.append(data)
        return real(data)

    monkeypatch.setattr(export, "json_line", json_line)


def test_a_stream_failing_at_its_first_read_is_a_503_not_a_200(client, db, monkeypatch):
    f.PersonFactory(name="Qari Bilal", status=PUBLISHED)
    failing_json_line(monkeypatch, after=0)
    response = client.get("/api/v1/export.jsonl")
    assert_unavailable(response, "/api/v1/export.jsonl")


def test_a_stream_failing_part_way_raises_and_logs_instead_of_ending_cleanly(
    client, db, monkeypatch, caplog
):
    for n in range(3):
        f.PersonFactory(name=f"Person {n}", status=PUBLISHED)
    # Lines go out a chunk at a time: two people per chunk, so the first chunk is sent whole
    # and the failure comes in the second.
    monkeypatch.setattr(export, "PERSON_CHUNK_SIZE", 2)
    failing_json_line(monkeypatch, after=2)
    response = client.get("/api/v1/export.jsonl", {"types": "persons"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    received = []
    with caplog.at_level(logging.ERROR, logger="tracker.streaming"):
        with pytest.raises(OperationalError):
            for chunk in response.streaming_content:
                received.append(chunk)
    # The lines before the failure went out; no trailer line, and the error is in the log.
    lines = [json.loads(line) for line in b"".join(received).splitlines()]
    assert [line["type"] for line in lines] == ["person", "person"]
    assert "tracker-export.jsonl stopped part-way" in caplog.text


@pytest.mark.parametrize("path", ["/people.csv", "/events.csv", "/api/v1/export.jsonl"])
def test_streamed_downloads_are_never_stored_by_a_cache(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.streaming
    assert response["Cache-Control"] == "no-store"
