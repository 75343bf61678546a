"""The load test (bench/load.py): the mix it sends, the wrk script it writes and the figures it
reads back. Nothing here is timed; `make bench-load` measures."""

import http.server
import shutil
import subprocess
import threading

import pytest

from bench import load

SAMPLE = """Running 20s test @ http://127.0.0.1:8765
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    35.10ms   12.31ms 120.05ms   70.00%
  4511 requests in 20.02s, 190.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    225.30
Transfer/sec:      9.49MB
LOAD-JSON {"requests": 4511, "duration_us": 20020000, "bytes": 199229440, "connect": 0, \
"read": 1, "write": 0, "status": 3, "timeout": 2, "p50_us": 33000, "p95_us": 61500, \
"p99_us": 88250, "max_us": 120050}
"""


def test_the_result_line_is_read_with_socket_and_status_errors_counted():
    result = load.parse_wrk(SAMPLE)
    assert result.requests == 4511
    assert result.rate == pytest.approx(225.32, abs=0.01)
    assert (result.p50_ms, result.p95_ms, result.p99_ms, result.max_ms) == (33, 61.5, 88.25, 120.05)
    assert result.errors == 6  # one read error, two timeouts, three statuses not 2xx/3xx
    assert result.status_errors == 3


def test_output_without_a_result_line_stops_the_run_showing_it():
    with pytest.raises(SystemExit, match="no result line"):
        load.parse_wrk("unable to connect to 127.0.0.1:8765 Connection refused")


MIX = [
    load.Slot("home", 2, ["/"]),
    load.Slot("search", 1, ['/search/?q=O"Brien', "/search/?q=a%5Cb"]),
]


def test_the_script_holds_each_slot_as_often_as_its_weight_with_its_urls_quoted():
    script = load.lua_script(MIX)
    assert script.count('  {"/"}') == 2
    assert script.count('{"/search/?q=O\\"Brien", "/search/?q=a%5Cb"}') == 1
    assert load.RESULT_PREFIX in script


class Answer503(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        status = 200 if self.path == "/" else 503
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.skipif(shutil.which("wrk") is None, reason=f"wrk is not installed: {load.WRK_INSTALL}")
def test_wrk_runs_the_script_and_counts_statuses_other_than_2xx_3xx_as_errors(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer503)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = tmp_path / "mix.lua"
    script.write_text(load.lua_script(MIX))
    try:
        completed = subprocess.run(
            [
                "wrk",
                "-t1",
                "-c1",
                "-d1s",
                "-s",
                str(script),
                f"http://127.0.0.1:{server.server_port}",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    finally:
        server.shutdown()
    result = load.parse_wrk(completed.stdout + completed.stderr)
    assert result.requests > 0
    # A third of the mix is the search, answered 503; the home page is answered 200.
    assert 0 < result.status_errors < result.requests
    assert result.errors == result.status_errors


def test_worker_configurations_are_read_or_refused():
    assert load.parse_config("gthread:3x4") == ("gthread", 3, 4)
    assert load.parse_config("sync:5x1") == ("sync", 5, 1)
    with pytest.raises(Exception, match="CLASS:WORKERSxTHREADS"):
        load.parse_config("gevent:3")


def test_the_mix_reads_published_people_only(transactional_db):
    from tests import factories as f

    published = f.EventPersonFactory(
        person=f.PersonFactory(status="published"),
        event=f.EventFactory(status="published"),
        role="subject",
    ).person
    draft = f.EventPersonFactory(
        person=f.PersonFactory(status="draft"),
        event=f.EventFactory(status="published"),
        role="subject",
    ).person
    mix = {slot.name: slot.urls for slot in load.pick_mix(people=10)}
    assert mix["person page"] == [f"/people/{published.slug}/"]
    assert mix["api person detail"] == [f"/api/v1/persons/{published.public_id}/"]
    assert all(draft.slug not in url for urls in mix.values() for url in urls)
