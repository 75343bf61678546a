"""Load test: the real server under concurrent clients, with wrk and a mixed journalist workload.

    python -m bench.load [--duration 20] [--clients 1,8,32] [--modes miss,hit]
                         [--compare gthread:3x4,sync:5x1,...] [--out bench/load-results.md]

Runs gunicorn as the production image and docker-compose do (`gunicorn -c
tracker/gunicorn.conf.py tracker.wsgi:application`, DEBUG off, the static files collected, the
shared cache in Redis) against DATABASE_URL on a loopback port, and drives it with wrk
(https://github.com/wg/wrk; Debian: `apt-get install wrk`) for a bounded time per number of
clients. Each client is one keep-alive connection sending its next request as soon as the last is
answered (closed loop). The requests are drawn from a weighted mix of what a journalist does
(`MIX`): the home page, the people list with and without facets, the name search, person pages
and their API details across many people, the events list filtered, the API list filtered and a
500-row API CSV, with the people, names and filter values chosen from the database served.

Two modes: `miss`, with the shared response cache off (PUBLIC_RESPONSE_CACHE_SECONDS=0), every
request served by Django and PostgreSQL; and `hit`, with it on and every URL of the mix requested
once first, so the run measures the hit path. The API's rate limit is lifted for the run (all
requests come from one address). An error is a socket error, a timeout (10 s) or a status that is
not 2xx or 3xx.

`--compare` first measures each worker class and count (`class:WORKERSxTHREADS`) at the largest
number of clients in miss mode, the evidence for the default in tracker/gunicorn.conf.py.

Redis: BENCH_CACHE_URL (default redis://127.0.0.1:6379/15), a database number the run empties
before the hit mode; without a Redis there, the hit mode is skipped and says so.

Writes a markdown report to --out (req/s, p50, p95, p99, errors per level and mode, with the
load average before and after each run, since the machine is shared with wrk itself).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
WRK_INSTALL = "apt-get install -y wrk  (Debian/Ubuntu; https://github.com/wg/wrk elsewhere)"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/15"
RESULT_PREFIX = "LOAD-JSON "


@dataclass
class Slot:
    """One kind of request in the mix: its weight, and the URLs it draws from evenly."""

    name: str
    weight: int
    urls: list[str] = field(default_factory=list)


# --- Choosing the URLs --------------------------------------------------------------------------


def pick_mix(people: int = 100) -> list[Slot]:
    """The workload, with records and filter values chosen from the data deterministically."""
    from django.db.models import Count, Q

    from bench.run import common_event_filters, top_value
    from detainees.domain.models import Person
    from detainees.read.filters import people_for_listing, person_facet_counts

    timeline = Q(event_roles__role="subject", event_roles__event__status="published")
    chosen = list(
        Person.objects.published()
        .filter(slug__isnull=False)
        .annotate(n=Count("event_roles", filter=timeline))
        .filter(n__gt=0)
        .order_by("public_id")
        .only("slug", "public_id")[:people]
    )
    if not chosen:
        raise SystemExit("No published person with events: load a dataset first (make dataset).")
    names = []
    for person in chosen[:10]:
        name = person.names.order_by("pk").values_list("name", flat=True).first()
        if name:
            names.append(name.split()[-1])
    counts = person_facet_counts(people_for_listing(), everyone=True)
    combined = {k: v for k in ("status", "nationality") if (v := top_value(counts, k)) is not None}
    nationality = {"nationality": combined["nationality"]} if "nationality" in combined else {}
    events = common_event_filters()
    return [
        Slot("home", 2, ["/"]),
        Slot("people list", 2, ["/people/"]),
        Slot("people, two facets", 2, [f"/people/?{urlencode(combined)}"]),
        Slot("search", 3, [f"/search/?{urlencode({'q': n})}" for n in names] or ["/search/?q=a"]),
        Slot("person page", 6, [f"/people/{p.slug}/" for p in chosen]),
        Slot("events, filtered", 1, [f"/events/?{urlencode(events)}"]),
        Slot("api persons", 2, ["/api/v1/persons/"]),
        Slot("api persons, facet", 1, [f"/api/v1/persons/?{urlencode(nationality)}"]),
        Slot("api person detail", 4, [f"/api/v1/persons/{p.public_id}/" for p in chosen]),
        Slot("api events csv 500", 1, ["/api/v1/events/?format=csv&page_size=500"]),
    ]


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def lua_script(mix: list[Slot]) -> str:
    """A wrk script sending the mix: each request picks a slot by weight, then one of its URLs,
    from a generator seeded per thread (reproducible, different on each thread); `done` prints
    the run's figures as one JSON line for `parse_wrk`."""
    slots = ",\n".join(
        "  {" + ", ".join(lua_string(url) for url in slot.urls) + "}"
        for slot in mix
        for _ in range(slot.weight)
    )
    return f"""-- Generated by bench/load.py: the mixed workload.
local slots = {{
{slots}
}}
local counter = 1

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(seed or 1)
end

function request()
  local slot = slots[math.random(#slots)]
  return wrk.format("GET", slot[math.random(#slot)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{RESULT_PREFIX}{{"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "max_us": %d}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max))
end
"""


# --- Reading wrk --------------------------------------------------------------------------------


@dataclass
class Result:
    requests: int
    seconds: float
    errors: int
    status_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def parse_wrk(output: str) -> Result:
    """The figures `done` printed; SystemExit naming the output if there are none."""
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            data = json.loads(line[len(RESULT_PREFIX) :])
            break
    else:
        raise SystemExit(f"wrk printed no result line:\n{output}")
    sockets = data["connect"] + data["read"] + data["write"] + data["timeout"]
    return Result(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=sockets + data["status"],
        status_errors=data["status"],
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )


# --- The server ---------------------------------------------------------------------------------


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


class Server:
    """gunicorn as docker-compose starts it, on a loopback port, in its own process group."""

    def __init__(self, *, port, worker_class, workers, threads, cache_url, cache_seconds, static):
        self.port = port
        self.describe = f"{worker_class}, {workers} workers x {threads} threads"
        self.env = os.environ | {
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "load-test-only-not-a-secret",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CACHE_URL": cache_url,
            "PUBLIC_RESPONSE_CACHE_SECONDS": str(cache_seconds),
            "API_ANON_RATE": "1000000/second",
            "STATIC_ROOT": str(static),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKER_CLASS": worker_class,
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
            "LOG_LEVEL": "ERROR",
        }
        self.log = Path(tempfile.gettempdir()) / f"bench-load-gunicorn-{port}.log"
        self.process = None

    def __enter__(self):
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.process = subprocess.Popen(  # noqa: S603 (our own command line)
            [str(gunicorn), "-c", "tracker/gunicorn.conf.py", "tracker.wsgi:application"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn stopped at start; its log: {self.log}")
            try:
                if get(self.port, "/readyz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        self.__exit__()
        raise SystemExit(f"gunicorn did not become ready in 120 s; its log: {self.log}")

    def restarts(self) -> int:
        """How many workers reached max_requests and were replaced so far."""
        try:
            return self.log.read_text(errors="replace").count("Autorestarting worker")
        except OSError:
            return 0

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def get(port: int, url: str) -> tuple[int, int]:
    """One GET with the headers wrk sends (Host only), so it fills the entry wrk's requests hit."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.putrequest("GET", url, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, len(response.read())
    finally:
        connection.close()


def warm(port: int, mix: list[Slot]) -> list[str]:
    """Every URL of the mix once; the ones not answered 200."""
    failed = []
    for slot in mix:
        for url in slot.urls:
            status, _ = get(port, url)
            if status != 200:
                failed.append(f"{status} {url}")
    return failed


def few(mix: list[Slot]) -> list[Slot]:
    """Two URLs of each slot: enough to start every worker's connections and caches."""
    return [Slot(slot.name, 1, slot.urls[:2]) for slot in mix]


def run_wrk(port: int, script: Path, clients: int, seconds: int) -> tuple[Result, str, str]:
    before = loadavg()
    threads = min(2, clients)
    completed = subprocess.run(  # noqa: S603 (our own command line)
        [
            "wrk",
            f"-t{threads}",
            f"-c{clients}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return parse_wrk(completed.stdout + completed.stderr), before, loadavg()


def flush(cache_url: str) -> bool:
    """Empty the bench's Redis database; False if there is no Redis there."""
    import redis

    try:
        redis.Redis.from_url(cache_url, socket_connect_timeout=2).flushdb()
    except redis.RedisError:
        return False
    return True


# --- The report ---------------------------------------------------------------------------------


def row(label: str, clients: int, result: Result, before: str, after: str) -> str:
    return (
        f"| {label} | {clients} | {result.requests:,} | {result.rate:,.1f} | "
        f"{result.p50_ms:,.0f} | {result.p95_ms:,.0f} | {result.p99_ms:,.0f} | "
        f"{result.errors} | {before} / {after} |"
    )


HEADER = (
    "| run | clients | requests | req/s | p50 ms | p95 ms | p99 ms | errors | load avg before / after |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---|"
)


def dataset_size() -> str:
    from detainees.domain.models import Event, Person

    return f"{Person.objects.count():,} people / {Event.objects.count():,} events"


def parse_config(text: str) -> tuple[str, int, int]:
    match = re.fullmatch(r"(gthread|sync):(\d+)x(\d+)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected CLASS:WORKERSxTHREADS, e.g. gthread:3x4"
        )
    return match.group(1), int(match.group(2)), int(match.group(3))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per level")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--modes", default="miss,hit")
    parser.add_argument("--compare", default="", help="e.g. gthread:2x4,gthread:3x4,sync:5x1")
    parser.add_argument("--compare-duration", type=int, default=15)
    parser.add_argument("--compare-mode", choices=["miss", "hit"], default="miss")
    parser.add_argument("--people", type=int, default=100, help="people whose pages the mix reads")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--out", default=str(ROOT / "bench" / "load-results.md"))
    parser.add_argument("--label", default="")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print(f"bench.load: wrk is not installed; install it with: {WRK_INSTALL}", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    os.environ.setdefault("SECRET_KEY", "load-test-only-not-a-secret")
    import django

    django.setup()

    clients = [int(n) for n in args.clients.split(",") if n.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    cache_url = os.environ.get("BENCH_CACHE_URL") or DEFAULT_CACHE_URL
    mix = pick_mix(args.people)
    size = dataset_size()
    static = Path(tempfile.mkdtemp(prefix="bench-load-static-"))
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=os.environ | {"DEBUG": "0", "STATIC_ROOT": str(static)},
        check=True,
    )
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    script = work / "mix.lua"
    script.write_text(lua_script(mix))
    default_class, default_workers, default_threads = gunicorn_defaults()

    lines = [
        f"## Load test{': ' + args.label if args.label else ''}",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {size}, {os.cpu_count()} CPUs "
        f"({platform.machine()}), wrk {wrk_version()} on the same machine, loopback, "
        f"{args.duration} s per level, closed loop (each client sends its next request when "
        f"the last is answered). Mix per 24 requests: "
        + ", ".join(
            f"{s.weight} {s.name}" + (f" ({len(s.urls)} URLs)" if len(s.urls) > 1 else "")
            for s in mix
        )
        + ".",
        "",
    ]
    try:
        if args.compare:
            top = max(clients)
            hit = args.compare_mode == "hit"
            cache = "cache on, every URL stored first" if hit else "cache off"
            lines += [
                f"### Worker class and count, {top} clients, {cache} "
                f"({args.compare_duration} s each)",
                "",
                HEADER,
            ]
            flush(cache_url)
            for n, config in enumerate(args.compare.split(",")):
                worker_class, workers, threads = parse_config(config)
                with Server(
                    port=args.port,
                    worker_class=worker_class,
                    workers=workers,
                    threads=threads,
                    cache_url=cache_url,
                    cache_seconds=300 if hit else 0,
                    static=static,
                ) as server:
                    # Entries stay in Redis from one server to the next (same host and port).
                    warm(args.port, mix if hit and n == 0 else few(mix))
                    result, before, after = run_wrk(args.port, script, top, args.compare_duration)
                    lines.append(
                        row(f"{server.describe}, {args.compare_mode}", top, result, before, after)
                    )
                    print(lines[-1], flush=True)
            lines.append("")
        redis_ok = flush(cache_url)
        for mode in modes:
            if mode == "hit" and not redis_ok:
                lines += [f"Hit mode skipped: no Redis at {cache_url} (BENCH_CACHE_URL).", ""]
                continue
            seconds = 0 if mode == "miss" else 300
            with Server(
                port=args.port,
                worker_class=default_class,
                workers=default_workers,
                threads=default_threads,
                cache_url=cache_url,
                cache_seconds=seconds,
                static=static,
            ) as server:
                if mode == "hit":
                    flush(cache_url)
                    failed = warm(args.port, mix)
                else:
                    failed = warm(args.port, few(mix))
                title = {
                    "miss": "cache off: every request served by Django and PostgreSQL",
                    "hit": "shared response cache on, every URL of the mix stored first",
                }[mode]
                lines += [f"### {server.describe}, {title}", "", HEADER]
                for n in clients:
                    result, before, after = run_wrk(args.port, script, n, args.duration)
                    lines.append(row(mode, n, result, before, after))
                    print(lines[-1], flush=True)
                restarts = server.restarts()
                if restarts:
                    lines += [
                        "",
                        f"Workers recycled (GUNICORN_MAX_REQUESTS) during the run: {restarts}.",
                    ]
                if failed:
                    lines += ["", "Not 200 when warming: " + "; ".join(failed[:10])]
                lines.append("")
    finally:
        shutil.rmtree(static, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    lines += [
        "Targets: at 32 clients at least 100 requests/s, p95 under 500 ms, 0 errors.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print(f"Written to {args.out}")
    return 0


def gunicorn_defaults() -> tuple[str, int, int]:
    """The worker class, workers and threads tracker/gunicorn.conf.py gives with this environment."""
    namespace: dict = {}
    exec((ROOT / "tracker" / "gunicorn.conf.py").read_text(), namespace)  # noqa: S102 (our file)
    return namespace["worker_class"], namespace["workers"], namespace["threads"]


def wrk_version() -> str:
    completed = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)  # noqa: S607
    match = re.search(r"wrk (\S+)", completed.stdout + completed.stderr)
    return match.group(1) if match else "?"


if __name__ == "__main__":
    sys.exit(main())
