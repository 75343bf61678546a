"""The replica bench's reporting (bench/replica.py); the bench itself runs in `make bench`."""

from argparse import Namespace

from bench import replica

LOG = [
    (99.0, "[2026-12-06 02:40:01 +0000] [12] [INFO] Booting worker with pid: 12\n"),
    (108.2, "Replica replica1 taken out: 6.2 s behind (limit 5 s); its reads go to the primary"),
    (109.0, "Replica replica1 taken out: 5.4 s behind (limit 5 s); its reads go to the primary"),
    (110.5, "Replica read failed, GET /people/ run again on the primary: terminating connection"),
    (112.0, "Replica replica1 is back: anonymous reads go to it again."),
    (130.0, "Replica replica1 is back: anonymous reads go to it again."),
]


def test_the_workers_replica_lines_are_counted_by_kind():
    assert replica.events_between(LOG, 100.0, 120.0) == [
        "replica taken out: N s behind (limit 5 s) x2 (first at +8.2 s)",
        "read failed, run again on the primary x1 (first at +10.5 s)",
        "replica is back x1 (first at +12.0 s)",
    ]


def test_the_results_table_says_where_the_queries_ran(tmp_path):
    healthy = replica.Phase("healthy", "caught up", requests=10, latencies=[0.01] * 10)
    healthy.seconds, healthy.replica_queries, healthy.primary_queries = 5.0, 90, 10
    stopped = replica.Phase("stopped", "stopped at +3 s", requests=4, errors=1)
    stopped.statuses, stopped.failed_paths = {200: 3, 503: 1}, {"503 /people/": 1}
    stopped.latencies, stopped.seconds, stopped.primary_queries = [0.02] * 4, 2.0, 40
    out = tmp_path / "results.md"
    args = Namespace(persons=20, events=200, clients=2, seconds=5.0, out=out)
    replica.write_results(args, [healthy, stopped])
    text = out.read_text()
    assert "| healthy | caught up | 10 | 0 | 2.0 | 10 | 10 | 90 | 10 | 90% | - |" in text
    assert "| stopped | stopped at +3 s | 4 | 1 (503: 1) |" in text
    assert "| down | 40 | 0% (down) |" in text
    assert "Failed requests: stopped: 503 /people/ x1" in text
