"""Anonymous reads under load against a real primary and streaming replica, while the replica
is healthy, falls behind, stops and comes back (`make bench-replica`, part of `make bench`).

    python -m bench.replica [--clients 8] [--seconds 15] [--persons 2000] [--events 20000]

Starts a pair with tracker/replica_pair.py, loads a synthetic dataset on the primary, then
serves it with gunicorn as production does (tracker/gunicorn.conf.py, DEBUG off,
DATABASE_REPLICA_URLS naming the replica, the default replica settings) and reads it with
`--clients` concurrent anonymous readers (threads keeping their HTTP connections open), a mix
of pages and API calls, phase after phase:

1. healthy: reads should land on the replica;
2. lagging: replay paused on the replica while a writer commits on the primary five times a
   second; once the lag passes DATABASE_REPLICA_MAX_LAG_SECONDS reads should move to the primary;
   replay is then resumed;
3. stopped: the replica is stopped (fast shutdown: its connections are cut under running
   requests); reads should go on, from the primary;
4. back: the replica is started again; reads should return to it.

For each phase: requests, errors (any status but 200, or no answer), latency, and where the
queries ran, from each server's own count of committed transactions (`pg_stat_database`; each
autocommit query is one), read after the servers have published their counts (a backend
publishes them at most every second while busy and within 10 s once idle: hence the pause after
each phase). The gunicorn log gives when each worker took the replica out and back. The table
goes to bench/replica-results.md (`--out`).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from tracker.replica_pair import ReplicaPair, free_port, sweep

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# A backend publishes its counts within this long once idle (PostgreSQL's PGSTAT_IDLE_INTERVAL).
STATS_SETTLE_SECONDS = 11


@dataclass
class Phase:
    name: str
    what: str
    requests: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    primary_queries: int | None = None
    replica_queries: int | None = None
    writes: int = 0
    events: list[str] = field(default_factory=list)
    failed_paths: dict[str, int] = field(default_factory=dict)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


class Load:
    """`clients` threads reading `paths` in turn over kept-open connections until stopped."""

    def __init__(self, port: int, paths: list[str], clients: int):
        self.port = port
        self.paths = paths
        self.clients = clients
        self.lock = threading.Lock()
        self.phase: Phase | None = None
        self.stop = threading.Event()

    def run_phase(self, phase: Phase, seconds: float, actions=()) -> None:
        """Read for `seconds`; each (offset, function) in `actions` runs at its offset."""
        self.phase = phase
        self.stop.clear()
        threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(self.clients)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for offset, action in sorted(actions, key=lambda item: item[0]):
            time.sleep(max(0.0, started + offset - time.monotonic()))
            action()
        time.sleep(max(0.0, started + seconds - time.monotonic()))
        self.stop.set()
        for thread in threads:
            thread.join(60)
        phase.seconds = time.monotonic() - started

    def _client(self, n: int) -> None:
        rng = random.Random(n)
        connection = None
        while not self.stop.is_set():
            path = rng.choice(self.paths)
            began = time.perf_counter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request("GET", path, headers={"Host": "127.0.0.1"})
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException):
                status = 0
                if connection is not None:
                    connection.close()
                connection = None
            elapsed = time.perf_counter() - began
            with self.lock:
                phase = self.phase
                phase.requests += 1
                phase.statuses[status] = phase.statuses.get(status, 0) + 1
                phase.errors += status != 200
                if status != 200:
                    key = f"{status} {path}"
                    phase.failed_paths[key] = phase.failed_paths.get(key, 0) + 1
                phase.latencies.append(elapsed)
        if connection is not None:
            connection.close()


def transactions(pair: ReplicaPair, which: str) -> int:
    rows = pair.query(which, "SELECT xact_commit FROM pg_stat_database WHERE datname = 'tracker'")
    return int(rows[0][0])


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def sample_paths(pair: ReplicaPair) -> list[str]:
    people = pair.query(
        "primary",
        "SELECT public_id::text, slug FROM detainees_person WHERE status = 'published' "
        "ORDER BY id LIMIT 30",
    )
    names = [
        row[0]
        for row in pair.query(
            "primary",
            "SELECT n.name FROM detainees_personname n JOIN detainees_person p "
            "ON p.id = n.person_id WHERE p.status = 'published' AND n.is_primary "
            "ORDER BY n.id LIMIT 10",
        )
    ]
    paths = ["/people/", "/events/", "/api/v1/persons/", "/api/v1/events/"]
    for public_id, slug in people:
        paths += [f"/people/{slug}/", f"/api/v1/persons/{public_id}/"]
    paths += [f"/search/?q={quote(name.split()[0])}" for name in names]
    paths += [f"/api/v1/persons/?search={quote(name.split()[-1])}" for name in names[:5]]
    return paths


class Server:
    """gunicorn as production runs it; its log lines are kept with the time each arrived."""

    def __init__(self, env: dict[str, str], workdir: Path):
        self.port = free_port()
        self.log_path = workdir / "gunicorn.log"
        self.lines: list[tuple[float, str]] = []
        self.process = subprocess.Popen(
            [PY, "-m", "gunicorn", "-c", "tracker/gunicorn.conf.py", "tracker.wsgi"],
            cwd=ROOT,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"},
            stdout=subprocess.DEVNULL,  # the access log
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + 120
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n" + "".join(self.log()))
            time.sleep(0.5)

    def _read(self) -> None:
        with open(self.log_path, "w") as log:
            for line in self.process.stderr:
                self.lines.append((time.monotonic(), line))
                log.write(line)

    def log(self) -> list[str]:
        return [line for _, line in self.lines]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(10)


REPLICA_EVENTS = re.compile(
    r"Replica replica1 (taken out: .*?;|is back)|Replica read failed, GET \S+ run again"
)


def events_between(lines: list[tuple[float, str]], start: float, end: float) -> list[str]:
    """The replica lines the workers logged between `start` and `end` (monotonic times),
    counted by kind, each with when it was first logged after `start`."""
    counts: dict[str, list] = {}
    for at, line in lines:
        match = REPLICA_EVENTS.search(line)
        if match is None or not start <= at < end:
            continue
        text = match.group(0)
        if text.startswith("Replica read failed"):
            kind = "read failed, run again on the primary"
        elif "taken out" in text:
            reason = re.sub(r"[\d.]+ s behind", "N s behind", match.group(1).rstrip(";"))
            reason = re.sub(r"\(OperationalError: .*", "(OperationalError)", reason)
            kind = f"replica {reason}"
        else:
            kind = "replica is back"
        counts.setdefault(kind, [0, at - start])[0] += 1
    return [f"{kind} x{n} (first at +{first:.1f} s)" for kind, (n, first) in counts.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "replica-results.md")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="bench-replica-"))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "GUNICORN_", "DB_"))
    }
    sweep()  # the servers of a run killed outright
    pair = ReplicaPair()
    server = None
    phases: list[Phase] = []
    try:
        print("Starting a primary and a streaming replica...", file=sys.stderr)
        pair.start()
        env.update(pair.environ())
        # Where the reads' queries run is what is measured: none answered from the shared
        # response cache (its hit path is the load test's).
        env["PUBLIC_RESPONSE_CACHE_SECONDS"] = "0"
        setup_env = {**env, "DEBUG": "1"}
        print("Migrating and loading the dataset on the primary...", file=sys.stderr)
        manage(setup_env, "migrate", "--no-input", "-v0")
        manage(
            setup_env, "generate_dataset", "--quiet", "--persons", str(args.persons),
            "--events", str(args.events), "--seed", "1",
        )  # fmt: skip
        serve_env = {
            **env,
            "DEBUG": "0",
            "SECRET_KEY": "bench-replica-not-secret",
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_ROOT": str(workdir / "static"),
            "API_ANON_RATE": "1000000/minute",  # the readers share one address
            "LOG_LEVEL": "WARNING",
        }
        manage(serve_env, "collectstatic", "--no-input", "-v0")
        pair.wait_caught_up()
        paths = sample_paths(pair)
        server = Server(serve_env, workdir)
        load = Load(server.port, paths, args.clients)
        print(f"gunicorn on port {server.port}; {len(paths)} paths", file=sys.stderr)
        load.run_phase(Phase("warm-up", ""), 5)

        writer_stop = threading.Event()
        writes = [0]

        def writer() -> None:
            with pair.connect("primary") as primary:
                primary.execute("CREATE TABLE IF NOT EXISTS bench_heartbeat (at timestamptz)")
                while not writer_stop.wait(0.2):
                    primary.execute("INSERT INTO bench_heartbeat VALUES (now())")
                    writes[0] += 1

        writer_thread = threading.Thread(target=writer, daemon=True)

        def start_lagging() -> None:
            pair.pause_replay()
            writer_thread.start()

        lag_phase = Phase(
            "lagging",
            "replay paused at +3 s; the primary commits 5 times a second",
        )
        plan = [
            (Phase("healthy", "replica streaming, caught up"), []),
            (lag_phase, [(3, start_lagging)]),
            (Phase("stopped", "replica stopped (fast shutdown) at +3 s"), [(3, pair.stop_replica)]),
            (Phase("back", "replica started again before the phase"), []),
        ]
        for phase, actions in plan:
            if phase.name == "back":
                pair.start_replica()
            replica_before = transactions(pair, "replica")
            primary_before = transactions(pair, "primary")
            phase_start = time.monotonic()
            print(f"Phase {phase.name}...", file=sys.stderr)
            load.run_phase(phase, args.seconds, actions)
            if phase is lag_phase:
                writer_stop.set()
                writer_thread.join(10)
                phase.writes = writes[0]
            time.sleep(STATS_SETTLE_SECONDS)
            # The bench's own reading of the counters counts one transaction on each server.
            phase.primary_queries = transactions(pair, "primary") - primary_before - 1
            phase.primary_queries -= phase.writes + (1 if phase is lag_phase else 0)
            if phase.name != "stopped":
                phase.replica_queries = transactions(pair, "replica") - replica_before - 1
            phase.events = events_between(server.lines, phase_start, time.monotonic())
            if phase is lag_phase:
                pair.resume_replay()
                pair.wait_caught_up()
            phases.append(phase)
    finally:
        if server is not None:
            server.stop()
        pair.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    write_results(args, phases)
    return 0 if all(phase.errors == 0 for phase in phases) else 1


def write_results(args, phases: list[Phase]) -> None:
    load = Path("/proc/loadavg").read_text().split()[:3]
    lines = [
        "# Replicas under load",
        "",
        f"`python -m bench.replica` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
        f"{' '.join(load)} at the end, {os.cpu_count()} CPUs): gunicorn (tracker/gunicorn.conf.py, "
        f"DEBUG off) against a primary and a streaming replica started by "
        f"tracker/replica_pair.py, {args.persons:,} people / {args.events:,} events, "
        f"{args.clients} concurrent anonymous readers, {args.seconds:g} s a phase, the default "
        "DATABASE_REPLICA_MAX_LAG_SECONDS (5) and DATABASE_REPLICA_CHECK_SECONDS (2).",
        "",
        "Queries: each server's committed transactions during the phase (autocommit: one a "
        "query), less the bench's own (its counter readings and, while lagging, its writes); "
        "the replica's include the health checks (one per worker every 2 s).",
        "",
        "| phase | what happens | requests | errors | req/s | p50 ms | p95 ms | queries on the "
        "replica | queries on the primary | share on the replica | logged by the workers |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for phase in phases:
        ms = [value * 1000 for value in phase.latencies]
        replica = phase.replica_queries
        primary = phase.primary_queries
        share = (
            f"{replica / (replica + primary):.0%}"
            if replica is not None and primary is not None and replica + primary > 0
            else "0% (down)"
        )
        errors = str(phase.errors)
        if phase.errors:
            errors += (
                " ("
                + ", ".join(f"{k}: {v}" for k, v in sorted(phase.statuses.items()) if k != 200)
                + ")"
            )
        lines.append(
            f"| {phase.name} | {phase.what} | {phase.requests:,} | {errors} | "
            f"{phase.requests / phase.seconds:.1f} | {pct(ms, 50):.0f} | {pct(ms, 95):.0f} | "
            f"{'down' if replica is None else f'{replica:,}'} | {primary:,} | {share} | "
            f"{'; '.join(phase.events) or '-'} |"
        )
    failures = [(phase.name, key, n) for phase in phases for key, n in phase.failed_paths.items()]
    if failures:
        lines += ["", "Failed requests: " + "; ".join(f"{p}: {k} x{n}" for p, k, n in failures)]
    lines.append("")
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
