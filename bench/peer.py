"""The public tasks a data journalist does, here and in Datasette serving the same published data.

    python -m bench.peer [--repeat N] [--warmup N] [--out bench/peer-results.md]
                         [--workdir DIR] [--export-dir DIR] [--sqlite FILE]
                         [--workers N] [--clients N] [--seconds S] [--task-budget S]

Run it inside `python -m tracker.localdb -- ...` (or with DATABASE_URL set) on a database holding
a synthetic dataset, with the benchmark's own virtualenv installed (`make bench-env`):
`make bench-peer` does both. Steps:

1. The published data is exported as the site's data package (`manage.py export`'s
   `write_export`), timed, unless `--export-dir` names one already written.
2. `bench/peer_load.py`, run by the benchmark virtualenv's Python, loads it into SQLite (the
   rows by the standard library's sqlite3, the tables, indexes and full-text search by
   sqlite-utils): every published table typed and indexed on every foreign-key and enumerated
   column, full-text search on names and titles, and a `people` table with the people list's
   columns and twelve facets (JSON arrays where a person may have several values). Both steps
   keep their figures beside what they wrote (`export.json` beside the export's directory,
   `peer.json` beside the SQLite file), so that a run given `--export-dir` or `--sqlite`
   reports them too.
3. Both servers start on loopback, on free ports: the tracker under gunicorn with
   tracker/gunicorn.conf.py as docker-compose runs it (DEBUG off, collectstatic into the work
   directory, `--workers` gthread workers, 3 as in docker-compose), and `datasette serve -i`
   (immutable: Datasette's read-only production mode) with the time limits raised so that every
   facet is counted in full (`facet_time_limit_ms`, `sql_time_limit_ms`), suggested facets off
   and 50 rows a page, as the tracker's lists. Neither has a response cache in front.
4. Each task is a pair of equivalent URLs (TASKS below, and the report's mapping table). One
   request of each checks status, size and rows (and, for Datasette's faceted pages, that no
   facet timed out), then `--warmup` untimed pairs, then `--repeat` pairs, interleaved: ours,
   theirs, ours, theirs. One keep-alive HTTP/1.1 connection per server (http.client), the whole
   body read; p50 and p95 each. A task stops early, after at least 3 pairs, once it has taken
   `--task-budget` seconds.
5. Throughput: `--clients` threads, each with its own connection, request a person's JSON detail
   for `--seconds` seconds on each server in turn: requests per second, p50 and p95.

Writes the tables (task, our p50/p95, theirs, met) to --out, headed by the dataset's size and
the machine's load averages at the start and the end. Every request goes to 127.0.0.1,
and every loop is bounded in count and time. Both servers are stopped at the end, whatever
happens.
"""

import argparse
import csv
import http.client
import io
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bench.run import heavy_repeat, percentile, setup_django, top_value

ROOT = Path(__file__).resolve().parent.parent
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
DATASETTE = ROOT / ".venv-bench" / "bin" / "datasette"
GUNICORN = Path(sys.executable).parent / "gunicorn"
DB_NAME = "peer"  # the SQLite file's stem: Datasette's URLs start with /peer/

# The `people` table's twelve facets (bench/peer_load.py): two plain columns, ten JSON arrays.
PLAIN_FACETS = ["gender", "fate"]
ARRAY_FACETS = [
    "event_kind",
    "nationality",
    "organization",
    "capturing_force",
    "custodian",
    "facility",
    "release_kind",
    "place",
    "reengaged",
    "claim_status",
]
PAGE = 50  # rows on a list page, both sides
KEEPALIVE = 4.0  # seconds: gunicorn closes an idle connection after 5


@dataclass
class Task:
    name: str
    what: str
    ours: str
    theirs: str
    equivalence: str
    allowance: float = 1.0  # ours p95 may be up to this many times theirs
    heavy: bool = False  # streams a whole table: fewer repetitions
    check: str = ""  # a JSON URL on their side to check facet time-outs and the row count


@dataclass
class Side:
    times: list[float] = field(default_factory=list)
    status: int = 0
    bytes: int = 0
    rows: str = "-"
    note: str = ""

    def p(self, q: float) -> float:
        return percentile(self.times, q) if self.times else float("nan")


@dataclass
class Outcome:
    task: Task
    ours: Side
    theirs: Side

    @property
    def ratio(self) -> float:
        return self.ours.p(0.95) / self.theirs.p(0.95)

    @property
    def met(self) -> bool:
        ok = self.ours.status == 200 and self.theirs.status == 200
        return ok and self.ratio <= self.task.allowance


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One keep-alive connection to one server; reconnects (untimed) after an idle spell."""

    def __init__(self, port: int):
        self.port = port
        self.conn = None
        self.last = 0.0

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None or time.monotonic() - self.last > KEEPALIVE:
            if self.conn is not None:
                self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3600)
            self.conn.connect()
        return self.conn

    def get(self, url: str, *, keep: bool = False) -> tuple[float, int, int, bytes]:
        """Seconds to the last byte, status, body size, and the body if `keep`."""
        conn = self._connection()
        body = io.BytesIO() if keep else None
        size = 0
        started = time.perf_counter()
        conn.request("GET", url, headers={"Accept-Encoding": "identity"})
        response = conn.getresponse()
        while chunk := response.read(65536):
            size += len(chunk)
            if body is not None:
                body.write(chunk)
        elapsed = time.perf_counter() - started
        self.last = time.monotonic()
        if response.will_close:
            conn.close()
            self.conn = None
        return elapsed, response.status, size, body.getvalue() if body is not None else b""

    def close(self):
        if self.conn is not None:
            self.conn.close()


def count_rows(url: str, body: bytes) -> str:
    """Data rows in a CSV or JSON list body; '-' for a page."""
    path = url.split("?", 1)[0]
    if "format=csv" in url or path.endswith(".csv"):
        return f"{max(0, sum(1 for _ in csv.reader(io.StringIO(body.decode()))) - 1):,}"
    if path.endswith(".json") or path.startswith("/api/"):
        data = json.loads(body)
        if isinstance(data, dict):
            for key in ("results", "rows"):
                if isinstance(data.get(key), list):
                    return f"{len(data[key]):,}"
            return "1"
    return "-"


# --- the tasks ---------------------------------------------------------------------------------


def theirs_people(params: list[tuple[str, str]], *, facets: bool, fmt: str = "") -> str:
    query = [("_sort", "name"), ("_size", str(PAGE)), *params]
    if facets:
        query += [("_facet", f) for f in PLAIN_FACETS]
        query += [("_facet_array", f) for f in ARRAY_FACETS]
    return f"/{DB_NAME}/people{fmt}?{urlencode(query)}"


def pick() -> dict:
    """Records and values chosen from the data deterministically, as bench/run.py picks them."""
    from django.db import connection
    from django.db.models import Count, Q

    from detainees.domain.models import Person
    from detainees.read.filters import people_for_listing, person_facet_counts

    timeline = Q(event_roles__role="subject", event_roles__event__status="published")
    person = (
        Person.objects.published()
        .annotate(n=Count("event_roles", filter=timeline))
        .order_by("-n", "slug")
        .only("slug", "public_id")
        .first()
    )
    if person is None:
        raise SystemExit("No published person: load a dataset first (make dataset).")
    name = (
        person.names.filter(is_primary=True).values_list("name", flat=True).first()
        or person.names.order_by("pk").values_list("name", flat=True).first()
    )
    counts = person_facet_counts(people_for_listing(), everyone=True)
    # The events selection (kind and year) nearest to 5,000 rows.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k, y, count(*) FROM (SELECT "
            "(SELECT t FROM unnest(facets) t WHERE t LIKE 'kind=%%' LIMIT 1) k, "
            "(SELECT t FROM unnest(facets) t WHERE t LIKE 'year=%%' LIMIT 1) y "
            "FROM detainees_eventlisting) s WHERE k IS NOT NULL AND y IS NOT NULL "
            "GROUP BY k, y ORDER BY abs(count(*) - 5000), k, y LIMIT 1"
        )
        kind, year, n_events = cursor.fetchone()
    return {
        "id": str(person.public_id),
        "slug": person.slug,
        "name": name,
        "token": max(name.split(), key=len),
        "nationality": top_value(counts, "nationality"),
        "release_kind": top_value(counts, "release_kind"),
        "kind": kind.split("=", 1)[1],
        "year": year.split("=", 1)[1],
        "events_5k": n_events,
    }


def tasks(p: dict) -> list[Task]:
    two = [("nationality", p["nationality"]), ("release_kind", p["release_kind"])]
    two_theirs = [(f"{k}__arraycontains", v) for k, v in two]
    everyone = [("who", "all")]
    people = f"/people/?{urlencode(everyone)}"
    facet_page = "the first page of 50 people by name with the counts of twelve facets"
    return [
        Task(
            "list-12-facets",
            "the people list with its 12 facets",
            people,
            theirs_people([], facets=True),
            f"{facet_page} over everyone (ours: `who=all`; theirs: 2 column facets, 10 array facets)",
            check=theirs_people([], facets=True, fmt=".json"),
        ),
        Task(
            "list-plain",
            "the plain list page",
            people,
            theirs_people([], facets=False),
            "the first page of 50 people by name: ours as the site serves it (its facet "
            "counts included, it has no page without them), theirs with no facet",
        ),
        Task(
            "list-2-facets",
            "the list filtered by two facets",
            f"/people/?{urlencode(everyone + two)}",
            theirs_people(two_theirs, facets=True),
            f"{facet_page}, of the people with both values (`__arraycontains` on theirs)",
            check=theirs_people(two_theirs, facets=True, fmt=".json"),
        ),
        Task(
            "list-name-filter",
            "the list's name filter",
            f"/people/?{urlencode(everyone + [('q', p['token'])])}",
            theirs_people([("_search", p["token"])], facets=True),
            f"{facet_page}, of the people with a name matching one word (theirs: full-text "
            "search on every name)",
            check=theirs_people([("_search", p["token"])], facets=True, fmt=".json"),
        ),
        Task(
            "search",
            "`/search/`",
            f"/search/?{urlencode({'q': p['name']})}",
            theirs_people([("_search", p["name"])], facets=False),
            "a person's whole name searched: ours the site search (people, organizations, "
            "places, facilities, sources; misspellings too), theirs full-text search on people",
        ),
        Task(
            "person-page",
            "a person page",
            f"/people/{p['slug']}/",
            f"/{DB_NAME}/persons/{p['id']}",
            "the person with the longest timeline: ours the whole sourced timeline, theirs the "
            "`persons` row and the counts of rows linking to it (up to 2x allowed)",
            allowance=2.0,
        ),
        Task(
            "csv-whole",
            "CSV download, every person",
            "/people.csv?who=all",
            f"/{DB_NAME}/people.csv?_sort=name&_stream=on&_size=max",
            "every person as CSV, streamed (ours with each row's citations)",
            heavy=True,
        ),
        Task(
            "csv-5k",
            "CSV download, about 5k rows",
            f"/events.csv?{urlencode({'kind': p['kind'], 'year': p['year']})}",
            f"/{DB_NAME}/events.csv?"
            + urlencode(
                {
                    "kind": p["kind"],
                    "date__startswith": p["year"],
                    "_sort_desc": "date",
                    "_stream": "on",
                    "_size": "max",
                }
            ),
            f"the events of one kind and year ({p['kind']}, {p['year']}), streamed: ours by "
            "the year of the earliest date, theirs by the EDTF date's first four characters",
        ),
        Task(
            "api-list",
            "the API list",
            "/api/v1/persons/",
            theirs_people([], facets=False, fmt=".json"),
            "the first 50 people by name as JSON",
        ),
        Task(
            "api-filtered",
            "the API list filtered",
            f"/api/v1/persons/?{urlencode(two)}",
            theirs_people(two_theirs, facets=False, fmt=".json"),
            "the first 50 people with both facet values as JSON",
        ),
        Task(
            "api-search",
            "API search",
            f"/api/v1/persons/?{urlencode({'search': p['token']})}",
            theirs_people([("_search", p["token"])], facets=False, fmt=".json"),
            "the first 50 people with a name matching one word as JSON",
        ),
        Task(
            "api-detail",
            "a person's JSON detail",
            f"/api/v1/persons/{p['id']}/",
            f"/{DB_NAME}/persons/{p['id']}.json",
            "the same person: ours the full detail (names, timeline, citations), theirs the "
            "`persons` row (up to 2x allowed)",
            allowance=2.0,
        ),
        Task(
            "api-csv-500",
            "the API's 500-row CSV",
            "/api/v1/events/?format=csv&page_size=500",
            f"/{DB_NAME}/events.csv?_sort_desc=date&_size=500",
            "500 events as CSV (ours with each row's people, groups and citations)",
        ),
    ]


# --- the servers -------------------------------------------------------------------------------


def wait_ready(port: int, path: str, proc: subprocess.Popen, log: Path, limit: float = 600):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited ({proc.returncode}); see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server on port {port} not ready after {limit:.0f} s; see {log}")


def start_ours(workdir: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "benchmark-only-not-a-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "API_ANON_RATE": "1000000/second",
        "STATIC_ROOT": str(workdir / "static"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    log = workdir / "gunicorn.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(GUNICORN), "-c", "tracker/gunicorn.conf.py", "tracker.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_ready(port, "/healthz", proc, log)
    return proc, port


def start_theirs(workdir: Path, database: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    settings = {
        "sql_time_limit_ms": 600000,
        "facet_time_limit_ms": 600000,
        "suggest_facets": "off",
        "default_page_size": PAGE,
        "max_returned_rows": 1000,
    }
    args = [str(DATASETTE), "serve", "-i", str(database), "--host", "127.0.0.1"]
    args += ["--port", str(port)]
    for key, value in settings.items():
        args += ["--setting", key, str(value)]
    log = workdir / "datasette.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(args, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    wait_ready(port, "/-/versions.json", proc, log)
    return proc, port


def stop(proc: subprocess.Popen | None):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- measuring ---------------------------------------------------------------------------------


def first(client: Client, url: str, *, timed: bool) -> Side:
    """The checking request: status, size and rows; one of the timed ones for a heavy task."""
    elapsed, status, size, body = client.get(url, keep=True)
    side = Side(status=status, bytes=size, times=[elapsed * 1000] if timed else [])
    if status == 200:
        side.rows = count_rows(url, body)
    return side


def facet_check(client: Client, url: str) -> str:
    """Datasette's own account of a faceted page: its row count and any facet that timed out."""
    _, status, _, body = client.get(url, keep=True)
    if status != 200:
        return f"check {status}"
    data = json.loads(body)
    timed_out = data.get("facets_timed_out") or []
    rows = data.get("filtered_table_rows_count")
    note = f"{rows:,} rows" if isinstance(rows, int) else ""
    return note + (f"; facets timed out: {', '.join(timed_out)}" if timed_out else "")


def run_task(
    task: Task, ours: Client, theirs: Client, *, repeat: int, warmup: int, budget: float
) -> Outcome:
    # A streamed download of a whole table is timed from its first request on, as bench/run.py
    # times it: it has no cache to warm, and each request takes long.
    heavy = task.heavy
    started = time.monotonic()
    a = first(ours, task.ours, timed=heavy)
    b = first(theirs, task.theirs, timed=heavy)
    if task.check:
        b.note = facet_check(theirs, task.check)
    n = heavy_repeat(repeat) - 1 if heavy else repeat
    for _ in range(0 if heavy else warmup):
        ours.get(task.ours)
        theirs.get(task.theirs)
    if not heavy:
        started = time.monotonic()
    for _ in range(n):
        for client, side, url in ((ours, a, task.ours), (theirs, b, task.theirs)):
            elapsed, status, _, _ = client.get(url)
            side.times.append(elapsed * 1000)
            if status != 200:
                side.status = status
        if len(a.times) >= 3 and time.monotonic() - started > budget:
            break
    return Outcome(task, a, b)


def throughput(port: int, url: str, clients: int, seconds: float) -> dict:
    times: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    deadline = time.monotonic() + seconds

    def worker(i: int):
        client = Client(port)
        try:
            while time.monotonic() < deadline:
                try:
                    elapsed, status, _, _ = client.get(url)
                except OSError:
                    errors[i] += 1
                    client.conn = None
                    continue
                times[i].append(elapsed * 1000)
                if status != 200:
                    errors[i] += 1
        finally:
            client.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    every = [t for chunk in times for t in chunk]
    return {
        "requests": len(every),
        "rps": len(every) / elapsed,
        "p50": percentile(every, 0.5) if every else float("nan"),
        "p95": percentile(every, 0.95) if every else float("nan"),
        "errors": sum(errors),
    }


# --- the report --------------------------------------------------------------------------------


def fmt(ms: float) -> str:
    return f"{ms:,.1f}" if ms < 100 else f"{ms:,.0f}"


def report(outcomes: list[Outcome], load: dict, info: dict, *, concurrency: dict) -> str:
    lines = [
        f"# Beside a peer: Datasette on the same data, {info['size']}",
        "",
        f"Date: {info['date']}. Machine: {info['machine']}. Load average (1 / 5 / 15 min) "
        f"{info['load_start']} at the start, {info['load_end']} at the end. "
        f"{info['versions']}.",
        "",
        f"Export (`manage.py export`'s `write_export`): {info['export']}. "
        + (
            f"Loaded into SQLite by bench/peer_load.py (sqlite3 and sqlite-utils): "
            f"{load['seconds']} s, {load['bytes'] / 2**20:,.0f} MiB, "
            + ", ".join(f"{t} {n:,}" for t, n in sorted(load["rows"].items()))
            + (f"; {load['load']}" if load.get("load") else "")
            + (f" (`{load['before']}`, loaded before)" if load.get("before") else "")
            + "."
            if load
            else "SQLite file loaded before (`--sqlite`)."
        ),
        "",
        f"Ours: gunicorn, tracker/gunicorn.conf.py ({info['workers']} gthread workers of 4 "
        "threads, as docker-compose runs it), DEBUG off, on the PostgreSQL database the export "
        "came from; no response cache (the site has none of its own; a CDN or proxy in front "
        "would be one, and is left out). Theirs: `datasette serve -i` (immutable), "
        "facet and SQL time limits raised to 600 s so every facet is counted in full "
        "(checked: a facet that timed out is named in the notes), suggested facets off, 50 rows "
        "a page. Both on 127.0.0.1; one keep-alive connection to each from one client process; "
        f"after one checking request and {info['warmup']} untimed pairs, requests interleaved "
        f"(ours, theirs, ours, ...), {info['repeat']} pairs a task (heavy downloads: "
        f"{heavy_repeat(info['repeat'])}, the first one included; a task stops after {info['budget']:.0f} s once it has "
        "3). Times in ms, to the last byte of the body.",
        "",
        "| task | ours p50 | ours p95 | theirs p50 | theirs p95 | ours / theirs (p95) | limit "
        "| met | n | status | bytes (ours / theirs) | rows (ours / theirs) |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---|---:|---:|",
    ]
    for o in outcomes:
        met = "yes" if o.met else "no"
        lines.append(
            f"| {o.task.name}: {o.task.what} | {fmt(o.ours.p(0.5))} | {fmt(o.ours.p(0.95))} "
            f"| {fmt(o.theirs.p(0.5))} | {fmt(o.theirs.p(0.95))} | {o.ratio:.2f}x "
            f"| {o.task.allowance:g}x | {met} | {len(o.ours.times)} "
            f"| {o.ours.status} / {o.theirs.status} | {o.ours.bytes:,} / {o.theirs.bytes:,} "
            f"| {o.ours.rows} / {o.theirs.rows} |"
        )
    met = sum(o.met for o in outcomes)
    lines += ["", f"Met: {met} of {len(outcomes)}.", ""]
    if concurrency:
        c = concurrency
        lines += [
            f"Throughput, a person's JSON detail (`api-detail`), {c['clients']} clients (threads "
            f"of one process, a keep-alive connection each), {c['seconds']:.0f} s per server:",
            "",
            "| server | requests | requests/s | p50 | p95 | errors |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for who in ("ours", "theirs"):
            r = c[who]
            lines.append(
                f"| {who} | {r['requests']:,} | {r['rps']:,.1f} | {fmt(r['p50'])} "
                f"| {fmt(r['p95'])} | {r['errors']} |"
            )
        ok = c["ours"]["rps"] >= c["theirs"]["rps"]
        lines += ["", f"Ours at or above theirs in requests/s: {'yes' if ok else 'no'}.", ""]
    lines += [
        "How each pair is equivalent (theirs: Datasette's URLs under `/peer/`):",
        "",
        "| task | ours | theirs | the same because |",
        "|---|---|---|---|",
    ]
    for o in outcomes:
        t = o.task
        lines.append(f"| {t.name} | `{t.ours}` | `{t.theirs}` | {t.equivalence} |")
    notes = [o for o in outcomes if o.theirs.note]
    if notes:
        lines += ["", "Datasette's own count of rows on its faceted pages:", ""]
        lines += [f"- {o.task.name}: {o.theirs.note}" for o in notes]
    return "\n".join(lines) + "\n"


def versions() -> str:
    out = subprocess.run(
        [str(DATASETTE), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    utils = subprocess.run(
        [
            str(BENCH_PYTHON),
            "-c",
            "import sqlite_utils, sqlite3; "
            "from importlib.metadata import version; "
            "print(version('sqlite-utils'), sqlite3.sqlite_version)",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return (
        f"{out or 'datasette ?'}, sqlite-utils {utils[0] if utils else '?'}, SQLite "
        f"{utils[1] if len(utils) > 1 else '?'}; PostgreSQL {pg}, Python "
        f"{platform.python_version()}"
    )


def machine() -> str:
    model = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model})"


def loadavg() -> str:
    """The load averages over 1, 5 and 15 minutes, as `uptime` shows them."""
    return " / ".join(f"{load:.1f}" for load in os.getloadavg())


def figures(path: Path) -> Path:
    """Where a step's figures are kept: beside what it wrote (`export.json`, `peer.json`)."""
    return path.with_name(path.stem + ".json")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "peer-results.md")
    parser.add_argument("--workdir", type=Path, help="kept; default a temporary directory")
    parser.add_argument("--export-dir", type=Path, help="an export already written")
    parser.add_argument("--sqlite", type=Path, help="a SQLite file already loaded")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--task-budget", type=float, default=120.0)
    parser.add_argument("--only", nargs="*", help="task names")
    args = parser.parse_args(argv)
    for tool in (BENCH_PYTHON, DATASETTE):
        if not tool.exists():
            raise SystemExit(f"{tool} is missing: run `make bench-env` first.")

    setup_django()
    from detainees.domain.models import Event, Person

    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_start": loadavg(),
        "versions": versions(),
        "workers": args.workers,
        "repeat": args.repeat,
        "warmup": args.warmup,
        "budget": args.task_budget,
    }
    persons, events = Person.objects.count(), Event.objects.count()
    info["size"] = f"{persons:,} people / {events:,} events"
    temporary = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="peer-")) if temporary else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen] = []
    try:
        export_dir = args.export_dir
        if export_dir is None:
            from detainees.write.exports.package import write_export

            export_dir = workdir / "export"
            started = time.perf_counter()
            result = write_export(export_dir)
            seconds = time.perf_counter() - started
            size = sum(result.files.values())
            rows = sum(result.rows.values())
            # The process has done little but the export so far: its peak is the export's.
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            info["export"] = (
                f"{seconds:,.1f} s, {size / 2**20:,.0f} MiB in {len(result.files)} files, "
                f"{rows:,} rows ({rows / seconds:,.0f}/s), peak resident memory {peak:,.0f} MiB, "
                f"load average {info['load_start']} before, {loadavg()} after"
            )
            figures(export_dir).write_text(json.dumps({"text": info["export"]}))
        elif figures(export_dir).exists():
            text = json.loads(figures(export_dir).read_text())["text"]
            info["export"] = f"{text} (`{export_dir}`, written before)"
        else:
            info["export"] = f"`{export_dir}`, written before"
        print(f"export: {info['export']}", flush=True)
        database = args.sqlite
        load = {}
        if database is not None and figures(database).exists():
            load = json.loads(figures(database).read_text())
            load["before"] = str(database)
        if database is None:
            database = workdir / f"{DB_NAME}.db"
            before = loadavg()
            out = subprocess.run(
                [
                    str(BENCH_PYTHON),
                    str(ROOT / "bench" / "peer_load.py"),
                    str(export_dir),
                    str(database),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            load = json.loads(out.strip().splitlines()[-1])
            load["load"] = f"load average {before} before, {loadavg()} after"
            figures(database).write_text(json.dumps(load))
            print(f"sqlite: {load}", flush=True)
        elif database.stem != DB_NAME:
            raise SystemExit(f"--sqlite must be named {DB_NAME}.db (Datasette's URLs use it)")
        picks = pick()
        print(f"picks: {picks}", flush=True)
        ours_proc, ours_port = start_ours(workdir, args.workers)
        procs.append(ours_proc)
        theirs_proc, theirs_port = start_theirs(workdir, database)
        procs.append(theirs_proc)
        ours, theirs = Client(ours_port), Client(theirs_port)
        outcomes = []
        for task in tasks(picks):
            if args.only and task.name not in args.only:
                continue
            outcome = run_task(
                task,
                ours,
                theirs,
                repeat=args.repeat,
                warmup=args.warmup,
                budget=args.task_budget,
            )
            outcomes.append(outcome)
            print(
                f"{task.name}: ours p95 {outcome.ours.p(0.95):.1f} ms "
                f"({outcome.ours.status}), theirs p95 {outcome.theirs.p(0.95):.1f} ms "
                f"({outcome.theirs.status})",
                flush=True,
            )
        ours.close()
        theirs.close()
        concurrency = {}
        if args.clients and (not args.only or "api-detail" in args.only):
            detail = next(t for t in tasks(picks) if t.name == "api-detail")
            concurrency = {
                "clients": args.clients,
                "seconds": args.seconds,
                "ours": throughput(ours_port, detail.ours, args.clients, args.seconds),
                "theirs": throughput(theirs_port, detail.theirs, args.clients, args.seconds),
            }
            print(f"throughput: {concurrency}", flush=True)
        info["load_end"] = loadavg()
        text = report(outcomes, load, info, concurrency=concurrency)
        args.out.write_text(text)
        print(text)
    finally:
        for proc in procs:
            stop(proc)
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
