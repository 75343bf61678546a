"""A long JSON Lines export under gunicorn, read by a slow client, arrives whole.

gunicorn runs as in production (`tracker/gunicorn.conf.py`, gthread workers) with a worker
timeout of 2 s, against the test database; the client has a small receive buffer and reads at
about 1.5 MB/s, so the download takes well over twice the timeout while the server waits on it.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from detainees.domain.models import PublicationStatus
from tests import factories as f

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 2  # GUNICORN_TIMEOUT, seconds
PEOPLE = 80
BIOGRAPHY = 100_000  # characters each: about 8 MB in all, more than the socket buffers hold
RATE = 1_500_000  # bytes a second the client reads


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    s = connection.settings_dict
    user = quote(s["USER"] or "")
    password = f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else ""
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    # The embedded server listens on a socket directory: a path, quoted whole as the host.
    return f"postgresql://{user}{password}@{quote(str(host), safe='')}:{port}/{s['NAME']}"


@pytest.fixture
def server(transactional_db, tmp_path):
    """gunicorn serving the test database (committed rows: transactional_db) on a free port."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "0",
        "SECRET_KEY": "test-only-secret-key-for-a-throwaway-server",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_TIMEOUT": str(TIMEOUT),
        "GUNICORN_WORKERS": "1",
        "GUNICORN_GRACEFUL_TIMEOUT": "2",
        "API_ANON_RATE": "1000/minute",
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "tracker/gunicorn.conf.py", "tracker.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class SlowConnection(http.client.HTTPConnection):
    """A connection with a small receive buffer, so the server must wait for the reader."""

    def connect(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        self.sock.settimeout(self.timeout)
        self.sock.connect((self.host, self.port))


def test_a_slow_reader_gets_the_whole_export_past_the_worker_timeout(server):
    for n in range(PEOPLE):
        f.PersonFactory(
            name=f"Person {n}", status=PublicationStatus.PUBLISHED, biography="x" * BIOGRAPHY
        )

    conn = SlowConnection("127.0.0.1", server, timeout=10)
    started = time.monotonic()
    conn.request("GET", "/api/v1/export.jsonl?types=persons")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Cache-Control") == "no-store"
    body = bytearray()
    while chunk := response.read(16384):  # raises IncompleteRead without the closing chunk
        body += chunk
        time.sleep(max(0.0, len(body) / RATE - (time.monotonic() - started)))
        assert time.monotonic() - started < 25, "the download is taking too long"
    elapsed = time.monotonic() - started
    conn.close()

    lines = [json.loads(line) for line in body.decode().split("\n") if line]
    *records, end = lines
    assert end == {"type": "end", "counts": {"person": PEOPLE}}
    assert len(records) == PEOPLE
    assert all(r["type"] == "person" and len(r["biography"]) == BIOGRAPHY for r in records)
    assert elapsed > 2 * TIMEOUT
