"""Time the public paths through Django's request handler against B2, their own SQL run bare.

    python -m bench.run [--repeat N] [--warmup N] [--out bench] [--size-label TEXT]

Run it inside `python -m tracker.localdb -- ...` on a database holding a synthetic dataset
(`make dataset`, or `make bench` / `make bench-smoke`). For every path: warm-up requests, then
N timed requests through `django.test.Client` (the whole WSGI stack minus the socket), one more
request capturing its SQL, and B2: the same statements sent by a bare psycopg connection, the
rows serialized with orjson. Writes RESULTS.md and explain/<path>.txt under --out.
"""

import argparse
import os
import platform
import re
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

# Measured as production runs: DEBUG off (no query log, no debug templates), no rate limit.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
os.environ["API_ANON_RATE"] = "1000000/second"

# Statements B2 repeats; transaction control and cursor bookkeeping are not part of the work.
READS = ("SELECT", "WITH")


@dataclass
class BenchPath:
    """One public path: a name, and a function giving its URL from the picked records."""

    name: str
    url: str
    heavy: bool = False  # streams a whole table: fewer repetitions


@dataclass
class Result:
    name: str
    url: str
    status: int
    p50: float
    p95: float
    b2_p50: float
    b2_p95: float
    queries: int
    rows: int
    bytes: int
    peak_mib: float
    main_sql: str = field(repr=False, default="")

    @property
    def ratio(self) -> float:
        return self.p95 / self.b2_p95 if self.b2_p95 else float("inf")


def setup_django():
    import django
    from django.conf import settings

    django.setup()
    # The test client's host; DEBUG off checks it.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # Deployments read static URLs from collectstatic's manifest; nothing is collected here, and
    # the lookup is a dict access either way.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def heavy_repeat(repeat: int) -> int:
    """Repetitions of a path that streams a whole table."""
    return max(1, repeat // 10)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def top_value(counts: dict, facet: str):
    """The most frequent value of a facet, ties broken by value, so picks are repeatable."""
    rows = sorted(counts.get(facet, []), key=lambda row: (-row[2], str(row[0])))
    return rows[0][0] if rows else None


def misspell(name: str) -> str:
    """A typo a reader makes: in the longest word, the second vowel changed and a letter doubled."""
    words = name.split()
    longest = max(words, key=len)
    vowels = [i for i, c in enumerate(longest) if c.lower() in "aeiou"]
    chars = list(longest)
    if len(vowels) > 1:
        i = vowels[1]
        chars[i] = "e" if chars[i].lower() != "e" else "i"
    if len(chars) > 2:
        chars.insert(2, chars[2])
    words[words.index(longest)] = "".join(chars)
    return " ".join(words)


def drain(response) -> int:
    """The body's size, read chunk by chunk as a client would: a streamed body is never held
    whole, so the traced peak memory is the server's, not this harness's."""
    if response.streaming:
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def pick_paths(client, *, export_types: str = "persons,events") -> list[BenchPath]:
    """The measured URLs, with records and filter values chosen from the data deterministically."""
    from django.db.models import Count, Q

    from detainees.filters import EVENT_FACETS, FACETS, facet_counts, people_for_listing
    from detainees.models import Event, Facility, Person

    person = (
        Person.objects.published()
        .annotate(n=Count("event_roles"))
        .order_by("-n", "slug")
        .only("slug", "public_id")
        .first()
    )
    if person is None:
        raise SystemExit("No published person: load a dataset first (make dataset).")
    name = person.names.order_by("pk").values_list("name", flat=True).first() or person.slug
    facility = (
        Facility.objects.published()
        .annotate(n=Count("events", filter=Q(events__kind=Event.Kind.CUSTODY)))
        .order_by("-n", "slug")
        .first()
    )
    custody = (
        Event.objects.published()
        .filter(kind=Event.Kind.CUSTODY, facility=facility, date_earliest__isnull=False)
        .order_by("date_earliest", "pk")
        .values_list("date_earliest", flat=True)
    )
    on = custody[len(custody) // 2] if custody else None
    person_counts = facet_counts(people_for_listing(), FACETS)
    event_counts = facet_counts(Event.objects.published(), EVENT_FACETS)
    combined = {
        k: v for k in ("status", "nationality") if (v := top_value(person_counts, k)) is not None
    }
    events = {
        k: v for k in ("kind", "year", "province") if (v := top_value(event_counts, k)) is not None
    }

    # 100 pages of 50 deep, by following `next` as a client does.
    url = "/api/v1/persons/?page_size=50"
    for _ in range(100):
        nxt = client.get(url).json().get("next")
        if not nxt:
            break
        parts = urlsplit(nxt)
        url = f"{parts.path}?{parts.query}"
    deep = url

    paths = [
        BenchPath("api-persons-page1", "/api/v1/persons/"),
        BenchPath("api-persons-cursor-5000", deep),
        BenchPath("api-person-detail", f"/api/v1/persons/{person.public_id}/"),
        BenchPath("api-events-3-filters", f"/api/v1/events/?{urlencode(events)}"),
        BenchPath("html-people", "/people/"),
        BenchPath("html-people-combined-facets", f"/people/?{urlencode(combined)}"),
        BenchPath("html-person", f"/people/{person.slug}/"),
        BenchPath("html-search-misspelled", f"/search/?{urlencode({'q': misspell(name)})}"),
    ]
    if facility is not None and on is not None:
        paths.append(
            BenchPath("html-facility-held-on", f"/facilities/{facility.slug}/?on={on.isoformat()}")
        )
    paths += [
        BenchPath("api-events-csv-500", "/api/v1/events/?format=csv&page_size=500"),
        BenchPath("people-csv-all", "/people.csv", heavy=True),
        BenchPath("events-csv-all", "/events.csv", heavy=True),
        BenchPath(
            f"export-jsonl-{export_types.replace(',', '-')}",
            f"/api/v1/export.jsonl?types={export_types}",
            heavy=True,
        ),
    ]
    return paths


def raw_connection():
    """A bare psycopg connection to the database Django uses."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "server_side_binding"):
        params.pop(key, None)
    return psycopg.connect(**params, autocommit=True)


def run_b2(raw, statements: list[str], repeat: int) -> tuple[list[float], int, str]:
    """Times of running every statement and orjson-serializing its rows; rows; slowest SQL."""
    import orjson

    times, per_statement = [], {sql: [] for sql in statements}
    rows = 0
    for i in range(repeat):
        started = time.perf_counter()
        for sql in statements:
            t0 = time.perf_counter()
            with raw.cursor() as cursor:
                cursor.execute(sql.encode())
                fetched = cursor.fetchall() if cursor.description else []
            orjson.dumps(fetched, default=str)
            per_statement[sql].append(time.perf_counter() - t0)
            if i == 0:
                rows += len(fetched)
        times.append(time.perf_counter() - started)
    slowest = max(statements, key=lambda s: statistics.median(per_statement[s]), default="")
    return times, rows, slowest


def cursor_query(sql: str) -> str:
    """The statement itself: a streamed queryset's server-side cursor is logged as
    `DECLARE <name> ... CURSOR WITH HOLD FOR SELECT ...`, whose SELECT B2 must run too."""
    sql = sql.lstrip()
    if sql.upper().startswith("DECLARE "):
        match = re.search(r"\bCURSOR\b.*?\bFOR\s+", sql, re.IGNORECASE | re.DOTALL)
        if match:
            return sql[match.end() :]
    return sql


def measure(client, raw, path: BenchPath, *, repeat: int, warmup: int) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if path.heavy:
        repeat, warmup = heavy_repeat(repeat), 0
    for _ in range(warmup):
        drain(client.get(path.url))
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path.url)
        size = drain(response)
        times.append(time.perf_counter() - started)
    # One more request, its SQL captured and its Python allocations traced.
    tracemalloc.start()
    with CaptureQueriesContext(connection) as captured:
        drain(client.get(path.url))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # A copy: the next request's `request_started` empties the log the capture slices.
    sent = list(captured.captured_queries)
    statements = [sql for q in sent if (sql := cursor_query(q["sql"])).upper().startswith(READS)]
    b2_times, rows, slowest = run_b2(raw, statements, repeat)
    return Result(
        name=path.name,
        url=path.url,
        status=response.status_code,
        p50=percentile(times, 0.5),
        p95=percentile(times, 0.95),
        b2_p50=percentile(b2_times, 0.5),
        b2_p95=percentile(b2_times, 0.95),
        queries=len(sent),
        rows=rows,
        bytes=size,
        peak_mib=peak / 2**20,
        main_sql=slowest,
    )


def explain(raw, sql: str) -> str:
    with raw.cursor() as cursor:
        cursor.execute(b"EXPLAIN (ANALYZE, BUFFERS) " + sql.encode())
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return f"-- main (slowest) query of the path\n{sql}\n\n{plan}\n"


def machine() -> dict:
    from django.db import connection

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "postgres": pg,
        "python": platform.python_version(),
        "load": f"{load:.1f}",
    }


def dataset_size() -> dict:
    from detainees.models import Event, Person

    return {"persons": Person.objects.count(), "events": Event.objects.count()}


def report(results: list[Result], *, info: dict, size: dict, label: str, repeat: int) -> str:
    ms = 1000
    lines = [
        f"# Benchmark results: {label}",
        "",
        f"Dataset: {size['persons']:,} people, {size['events']:,} events (synthetic). "
        f"Date: {info['date']}. Machine: {info['cpus']} CPUs ({info['cpu']}), "
        f"PostgreSQL {info['postgres']}, Python {info['python']}, load average {info['load']} "
        "at the end.",
        "",
        f"Each path: warm-up, then {repeat} requests (streamed exports: no warm-up, "
        f"{heavy_repeat(repeat)}) "
        "through `django.test.Client`, i.e. Django's whole request handler and middleware "
        "without the socket, DEBUG off. B2 runs the SQL Django sent for one such request on a "
        "bare psycopg connection and serializes the rows with orjson. Ratio = p95 / B2 p95. "
        "Rows: rows fetched by all of the path's queries. Peak: Python memory allocated during "
        "one request (tracemalloc). Times in ms.",
        "",
        "| path | p50 | p95 | B2 p95 | ratio | queries | rows | bytes | peak MiB | status |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| `{r.name}` | {r.p50 * ms:.1f} | {r.p95 * ms:.1f} | {r.b2_p95 * ms:.1f} | "
            f"{r.ratio:.1f} | {r.queries} | {r.rows:,} | {r.bytes:,} | {r.peak_mib:.1f} | "
            f"{r.status} |"
        )
    lines += ["", "URLs measured:", ""]
    lines += [f"- `{r.name}`: `{r.url}`" for r in results]
    lines += [
        "",
        "`EXPLAIN (ANALYZE, BUFFERS)` of each path's slowest query: `explain/<path>.txt`.",
        "",
        "Not measured yet: the generic import of 100,000 rows. A path timed once has p50 = p95.",
        "",
    ]
    return "\n".join(lines)


def run(
    *,
    repeat: int,
    warmup: int,
    out: Path | None,
    label: str,
    only=None,
    export_types="persons,events",
) -> list[Result]:
    """Measure every path (or those named in `only`); write the report under `out` if given."""
    from django.test import Client

    client = Client()
    raw = raw_connection()
    try:
        paths = pick_paths(client, export_types=export_types)
        if only:
            paths = [p for p in paths if p.name in only]
        results = []
        for path in paths:
            result = measure(client, raw, path, repeat=repeat, warmup=warmup)
            print(
                f"{result.name:32} p50 {result.p50 * 1000:8.1f} ms  p95 {result.p95 * 1000:8.1f}"
                f" ms  B2 p95 {result.b2_p95 * 1000:7.1f} ms  ratio {result.ratio:6.1f}"
                f"  queries {result.queries:3}  rows {result.rows}",
                file=sys.stderr,
            )
            results.append(result)
        if out is not None:
            explain_dir = out / "explain"
            explain_dir.mkdir(parents=True, exist_ok=True)
            for old in explain_dir.glob("*.txt"):
                old.unlink()
            for r in results:
                if r.main_sql:
                    (explain_dir / f"{r.name}.txt").write_text(explain(raw, r.main_sql))
            info = {**machine(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
            text = report(results, info=info, size=dataset_size(), label=label, repeat=repeat)
            (out / "RESULTS.md").write_text(text)
        return results
    finally:
        raw.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per path")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--label", default="", help="heading of RESULTS.md, e.g. the size")
    parser.add_argument("--only", nargs="*", help="measure only these paths")
    parser.add_argument("--export-types", default="persons,events", help="types of export.jsonl")
    args = parser.parse_args(argv)
    setup_django()
    size = dataset_size()
    label = args.label or f"{size['persons']:,} people / {size['events']:,} events"
    run(
        repeat=args.repeat,
        warmup=args.warmup,
        out=args.out,
        label=label,
        only=args.only,
        export_types=args.export_types,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
