"""Time the public paths through Django's request handler against B2, their own SQL run bare.

    python -m bench.run [--repeat N] [--warmup N] [--out bench] [--size-label TEXT]
                        [--import-rows N | --skip-import]

Run it inside `python -m tracker.localdb -- ...` on a database holding a synthetic dataset
(`make dataset`, or `make bench` / `make bench-smoke`). For every path: warm-up requests, then
N timed requests through `django.test.Client` (the whole WSGI stack minus the socket), one more
request capturing its SQL, and B2: the same statements sent by a bare psycopg connection, the
rows serialized with orjson. Writes RESULTS.md and explain/<path>.txt under --out.

Then `import-100k` (`import-<N>` for --import-rows N): the generic import (`import_records`'s
read_file() and import_rows()) of a generated data package of N rows (bench/importfile.py),
run once, into an empty database: inside a transaction that first empties the record tables
(TRUNCATE, which PostgreSQL rolls back) and is rolled back at the end, so the dataset the other
paths read is left as it was and the commit is not timed. Its B2 is PostgreSQL's own floor for
the same writes: the rows the import stored, COPYed into the same emptied tables (indexes,
constraints and the audit-history triggers all in place). Both include the deferred
foreign-key checks a commit would make (SET CONSTRAINTS ALL IMMEDIATE). Peak memory for it is the growth of
the process's resident set (VmHWM), as tracemalloc would slow an import several-fold.
"""

import argparse
import gc
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
# The paths' own work, not the shared response cache (bench/load.py measures its hit path).
os.environ["PUBLIC_RESPONSE_CACHE_SECONDS"] = "0"

# Statements B2 repeats; transaction control and cursor bookkeeping are not part of the work.
READS = ("SELECT", "WITH")


@dataclass
class BenchPath:
    """One public path: a name, and a function giving its URL from the picked records."""

    name: str
    url: str
    heavy: bool = False  # streams a whole table: fewer repetitions
    # What the targets hold it to (TARGETS): "api-list", "html-list", "detail", "search",
    # "figures", "export" (streamed: no time limit of its own), or "page" (every other page).
    kind: str = "page"


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
    kind: str = "page"  # BenchPath.kind; "import" for the import
    main_sql: str = field(repr=False, default="")
    seq_scans: tuple[str, ...] = ()  # tables any of the path's statements reads whole

    @property
    def ratio(self) -> float:
        return self.p95 / self.b2_p95 if self.b2_p95 else float("inf")

    @property
    def ratio_text(self) -> str:
        """The ratio as the report writes it: none for a path that sends no SQL (the floors)."""
        return "–" if self.queries == 0 and self.kind != "import" else f"{self.ratio:.1f}"


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

    from detainees.domain.models import Event, Facility, Organization, Person
    from detainees.read.filters import (
        event_facet_counts,
        people_for_listing,
        person_facet_counts,
    )

    # The published person with the longest public timeline: the heaviest detail page.
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
    person_counts = person_facet_counts(people_for_listing(), everyone=True)
    combined = {
        k: v for k in ("status", "nationality") if (v := top_value(person_counts, k)) is not None
    }
    events = common_event_filters()

    # 100 pages of 50 deep, by following `next` as a client does.
    url = "/api/v1/persons/?page_size=50"
    for _ in range(100):
        nxt = client.get(url).json().get("next")
        if not nxt:
            break
        parts = urlsplit(nxt)
        url = f"{parts.path}?{parts.query}"
    deep = url

    place = events.get("province")
    organization = (
        Organization.objects.published()
        .annotate(n=Count("event_roles"))
        .order_by("-n", "slug")
        .only("slug", "public_id")
        .first()
    )
    years = sorted(
        int(v) for v, _, _ in event_facet_counts(None, everyone=True).get("year", []) if v.isdigit()
    )
    # A range of two years in the middle of the data, for the people's capture and release
    # dates and the events' year.
    middle = years[len(years) // 2] if years else 2012
    span = {"from": str(middle - 1), "to": str(middle)}

    A, H, D = "api-list", "html-list", "detail"
    paths = [
        BenchPath("api-persons-page1", "/api/v1/persons/", kind=A),
        BenchPath("api-persons-cursor-5000", deep, kind=A),
        BenchPath("api-person-detail", f"/api/v1/persons/{person.public_id}/", kind=D),
        BenchPath("api-events-3-filters", f"/api/v1/events/?{urlencode(events)}", kind=A),
        BenchPath("api-persons-2-facets", f"/api/v1/persons/?{urlencode(combined)}", kind=A),
        BenchPath(
            "api-persons-search",
            f"/api/v1/persons/?{urlencode({'search': name})}",
            kind="search",
        ),
        BenchPath("api-events", "/api/v1/events/", kind=A),
        BenchPath("api-organizations", "/api/v1/organizations/", kind=A),
        BenchPath("api-places", "/api/v1/places/", kind=A),
        BenchPath("api-facilities", "/api/v1/facilities/", kind=A),
        BenchPath("html-home", "/"),
        # The floors: what any response costs before a view reads anything. A plain-text answer
        # through the whole middleware stack (no query, no template), and the API's root (DRF's
        # view, negotiation and renderer, no query): the fixed cost small B2s are compared with.
        BenchPath("html-floor", "/healthz"),
        BenchPath("api-floor", "/api/v1/"),
        BenchPath("html-people", "/people/", kind=H),
        BenchPath("html-people-combined-facets", f"/people/?{urlencode(combined)}", kind=H),
        BenchPath("html-people-q", f"/people/?{urlencode({'q': name})}", kind=H),
        BenchPath(
            "html-people-captured-range",
            f"/people/?captured_from={span['from']}&captured_to={span['to']}",
            kind=H,
        ),
        BenchPath(
            "html-people-released-range",
            f"/people/?released_from={span['from']}&released_to={span['to']}",
            kind=H,
        ),
        BenchPath("api-person-facets-combined", f"/api/v1/persons/facets/?{urlencode(combined)}"),
        BenchPath("html-events", "/events/", kind=H),
        BenchPath("html-events-capture", "/events/?kind=capture", kind=H),
        BenchPath("html-events-year", f"/events/?year={span['to']}", kind=H),
        BenchPath("html-figures", "/figures/", kind="figures"),
        BenchPath("html-person", f"/people/{person.slug}/", kind=D),
        BenchPath(
            "html-search-misspelled",
            f"/search/?{urlencode({'q': misspell(name)})}",
            kind="search",
        ),
    ]
    if facility is not None and on is not None:
        paths.append(
            BenchPath(
                "html-facility-held-on",
                f"/facilities/{facility.slug}/?on={on.isoformat()}",
                kind=D,
            )
        )
    if facility is not None:
        paths.append(BenchPath("html-facility", f"/facilities/{facility.slug}/", kind=D))
    if organization is not None:
        paths += [
            BenchPath("html-organization", f"/organizations/{organization.slug}/", kind=D),
            BenchPath(
                "api-organization-detail",
                f"/api/v1/organizations/{organization.public_id}/",
                kind=D,
            ),
        ]
    if place:
        paths.append(BenchPath("html-place", f"/places/{place}/", kind=D))
    paths += [
        BenchPath("map-events-geojson", f"/api/v1/places.geojson?{urlencode(events)}"),
        BenchPath("map-people-geojson", f"/api/v1/persons/places.geojson?{urlencode(combined)}"),
        BenchPath("feed-releases", "/feeds/releases/"),
        BenchPath("feed-person", f"/people/{person.slug}/feed/"),
        BenchPath("api-events-csv-500", "/api/v1/events/?format=csv&page_size=500"),
        BenchPath("people-csv-all", "/people.csv", heavy=True, kind="export"),
        BenchPath("events-csv-all", "/events.csv", heavy=True, kind="export"),
        BenchPath(
            f"export-jsonl-{export_types.replace(',', '-')}",
            f"/api/v1/export.jsonl?types={export_types}",
            heavy=True,
            kind="export",
        ),
    ]
    return paths


def common_event_filters() -> dict[str, str]:
    """The commonest kind, year and province that events share, so the three filters together
    select something at any size."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k, y, p FROM (SELECT "
            "(SELECT t FROM unnest(facets) t WHERE t LIKE 'kind=%%' LIMIT 1) k, "
            "(SELECT t FROM unnest(facets) t WHERE t LIKE 'year=%%' LIMIT 1) y, "
            "(SELECT t FROM unnest(facets) t WHERE t LIKE 'province=%%' LIMIT 1) p "
            "FROM detainees_eventlisting) s "
            "WHERE k IS NOT NULL AND y IS NOT NULL AND p IS NOT NULL "
            "GROUP BY k, y, p ORDER BY count(*) DESC, k, y, p LIMIT 1"
        )
        row = cursor.fetchone()
    return dict(token.split("=", 1) for token in row) if row else {}


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
    scanned = sorted({table for sql in statements for table in seq_scans(raw, sql)})
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
        kind=path.kind,
        main_sql=slowest,
        seq_scans=tuple(scanned),
    )


def seq_scans(raw, sql: str) -> set[str]:
    """Tables the plan of `sql` reads by sequential scan."""
    import json

    with raw.cursor() as cursor:
        cursor.execute(b"EXPLAIN (FORMAT JSON) " + sql.encode())
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found, nodes = set(), [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        if node.get("Node Type") == "Seq Scan":
            found.add(node["Relation Name"])
        nodes.extend(node.get("Plans", []))
    return found


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
    from detainees.domain.models import Event, Person

    return {"persons": Person.objects.count(), "events": Event.objects.count()}


def import_name(rows: int, register: bool = False) -> str:
    size = f"{rows // 1000}k" if rows >= 1000 and rows % 1000 == 0 else str(rows)
    return f"import-{'register-' if register else ''}{size}"


def _resident() -> tuple[int, int]:
    """(current, peak) resident bytes of this process; the peak reset first where Linux can."""
    fields = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) * 1024
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return peak, peak
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0)


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # the peak is then the process's since it started


def _record_tables() -> tuple[list[str], list]:
    from django.db import connection

    from detainees.domain.models import ExternalId
    from detainees.write.exports.tables import TABLES

    models = [*(t.model for t in TABLES), ExternalId]
    return [connection.ops.quote_name(m._meta.db_table) for m in models], models


def _empty_record_tables(cursor) -> None:
    """TRUNCATE every record table and those referring to them (history, redirects...)."""
    tables, _ = _record_tables()
    cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


def _copy_columns(model) -> str:
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.generated]
    return ", ".join(connection.ops.quote_name(f.column) for f in fields)


def measure_import(rows: int, register: bool = False) -> Result:
    """Time the generic import of a generated package of `rows` rows into an empty database,
    and B2: COPYing the rows it stored into the same tables; nothing stays written. With
    `register`, the package is a register's (bench/importfile.py): Latin-1, dates day-first and
    in Spanish words, read as `import_records --date-order dmy --locale es --encoding latin-1`
    reads them."""
    import tempfile

    from django.db import connection, transaction

    from bench.importfile import write_import_file
    from detainees.domain.fuzzydates import DateReading
    from detainees.write.history import acting
    from detainees.write.importers.encodings import Decoder
    from detainees.write.importers.generic import import_rows, read_file

    sent = [0]

    def count(execute, sql, params, many, context):
        sent[0] += 1
        return execute(sql, params, many, context)

    with tempfile.TemporaryDirectory(prefix="bench-import-") as directory:
        package = Path(directory) / "package"
        write_import_file(package, rows=rows, register=register)
        options = {}
        if register:
            options = {"reading": DateReading(order="dmy", locales=("es",))}
        # What the import reads: the descriptor and its CSVs (not records.jsonl beside them).
        size = sum(p.stat().st_size for p in package.iterdir() if p.suffix in (".csv", ".json"))
        _, models = _record_tables()
        with transaction.atomic(), connection.cursor() as cursor:
            _empty_record_tables(cursor)
            _reset_peak()
            resident, _ = _resident()
            started = time.perf_counter()
            with connection.execute_wrapper(count), acting(None, "benchmark import"):
                decoder = Decoder("latin-1" if register else "utf-8")
                report = import_rows(
                    read_file(package / "datapackage.json", decoder=decoder), **options
                )
                # The deferred foreign-key checks a commit would run, run now, and timed.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            elapsed = time.perf_counter() - started
            peak = max(0, _resident()[1] - resident)
            # B2: the same rows, as stored, COPYed back into the emptied tables.
            stored = {}
            for model in models:
                table = connection.ops.quote_name(model._meta.db_table)
                with cursor.copy(f"COPY {table} ({_copy_columns(model)}) TO STDOUT") as copy:
                    stored[model] = b"".join(bytes(block) for block in copy)
            _empty_record_tables(cursor)
            # As the import runs: history attributed to a context, pgtrigger.ignore set (see
            # detainees.write.importers.generic._quiet_trigger_checks), so B2 pays no error per row.
            cursor.execute(
                "SELECT set_config('pgtrigger.ignore', '{}', true), "
                "set_config('pghistory.context_id', gen_random_uuid()::text, true), "
                "set_config('pghistory.context_metadata', '{\"reason\": \"benchmark B2\"}', true)"
            )
            b2_started = time.perf_counter()
            for model in models:
                table = connection.ops.quote_name(model._meta.db_table)
                with cursor.copy(f"COPY {table} ({_copy_columns(model)}) FROM STDIN") as copy:
                    copy.write(stored[model])
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            b2 = time.perf_counter() - b2_started
            transaction.set_rollback(True)
    imported = sum(created for _, created, _, _ in report.rows())
    return Result(
        name=import_name(rows, register),
        url=f"import_records of a generated {'register ' if register else ''}data package of "
        f"{rows:,} rows",
        status=0,
        p50=elapsed,
        p95=elapsed,
        b2_p50=b2,
        b2_p95=b2,
        queries=sent[0],
        rows=imported,
        bytes=size,
        peak_mib=peak / 2**20,
        kind="import",
    )


def reimport_name(rows: int) -> str:
    return f"re{import_name(rows)}-unchanged"


def _history_rows(cursor, models) -> int:
    """Rows in the audit history of `models`, all together."""
    from django.apps import apps
    from django.db import connection

    tables = [
        connection.ops.quote_name(
            apps.get_model("detainees", f"{m.__name__}History")._meta.db_table
        )
        for m in models
    ]
    counts = " + ".join(f"(SELECT count(*) FROM {t})" for t in tables)  # noqa: S608
    cursor.execute(f"SELECT {counts}")
    return cursor.fetchone()[0]


def _updated_times(cursor, models) -> list:
    """Every record's `updated`, table by table, in primary-key order."""
    from django.db import connection

    out = []
    for model in models:
        if any(f.name == "updated" for f in model._meta.concrete_fields):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT array_agg(updated ORDER BY id) FROM {table}")  # noqa: S608
            out.append(cursor.fetchone()[0])
    return out


def measure_reimport(rows: int) -> Result:
    """Time a second import of the generated package of `rows` rows just imported: it must
    change nothing (no record created or updated, no history row, every `updated` as it was),
    else the result's status is 1. B2: COPYing the stored rows of the record tables out, the
    least reading a comparison with them costs. Nothing stays written, as for measure_import."""
    import tempfile

    from django.db import connection, transaction

    from bench.importfile import write_import_file
    from detainees.write.history import acting
    from detainees.write.importers.generic import import_rows, read_file

    sent = [0]

    def count(execute, sql, params, many, context):
        sent[0] += 1
        return execute(sql, params, many, context)

    with tempfile.TemporaryDirectory(prefix="bench-reimport-") as directory:
        package = Path(directory) / "package"
        write_import_file(package, rows=rows)
        size = sum(p.stat().st_size for p in package.iterdir() if p.suffix in (".csv", ".json"))
        _, models = _record_tables()
        with transaction.atomic(), connection.cursor() as cursor:
            _empty_record_tables(cursor)
            with acting(None, "benchmark import"):
                import_rows(read_file(package / "datapackage.json"))
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            history, updated = _history_rows(cursor, models), _updated_times(cursor, models)
            _reset_peak()
            resident, _ = _resident()
            started = time.perf_counter()
            with connection.execute_wrapper(count), acting(None, "benchmark re-import"):
                report = import_rows(read_file(package / "datapackage.json"))
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            elapsed = time.perf_counter() - started
            peak = max(0, _resident()[1] - resident)
            written = sum(created + changed for _, created, changed, _ in report.rows())
            unchanged = sum(same for *_, same in report.rows())
            same = (
                not written
                and _history_rows(cursor, models) == history
                and _updated_times(cursor, models) == updated
            )
            b2_started = time.perf_counter()
            for model in models:
                table = connection.ops.quote_name(model._meta.db_table)
                with cursor.copy(f"COPY {table} ({_copy_columns(model)}) TO STDOUT") as copy:
                    for _block in copy:
                        pass
            b2 = time.perf_counter() - b2_started
            transaction.set_rollback(True)
    return Result(
        name=reimport_name(rows),
        url=f"import_records of the generated data package of {rows:,} rows just imported",
        status=0 if same else 1,
        p50=elapsed,
        p95=elapsed,
        b2_p50=b2,
        b2_p95=b2,
        queries=sent[0],
        rows=unchanged,
        bytes=size,
        peak_mib=peak / 2**20,
        kind="import",
    )


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
            f"{r.ratio_text} | {r.queries} | {r.rows:,} | {r.bytes:,} | {r.peak_mib:.1f} | "
            f"{r.status} |"
        )
    lines += ["", *targets_table(results)]
    paths = [r for r in results if not r.name.startswith(("import-", "reimport-"))]
    imports = [r for r in results if r.name.startswith("import-")]
    reimports = [r for r in results if r.name.startswith("reimport-")]
    lines += ["", "URLs measured:", ""]
    lines += [f"- `{r.name}`: `{r.url}`" for r in paths]
    lines += [
        "",
        "`EXPLAIN (ANALYZE, BUFFERS)` of each path's slowest query: `explain/<path>.txt`.",
        "A path timed once has p50 = p95.",
        "",
    ]
    for r in imports:
        lines += [
            f"`{r.name}`: the generic import (read_file() and import_rows(), as "
            "`manage.py import_records` runs them) of a generated data package "
            f"(bench/importfile.py, {r.bytes:,} bytes), every row new, into an empty database "
            "(the record tables emptied inside a transaction rolled back at the end: the commit "
            "is not timed). Timed once. Rows: records created. B2: the same rows, as the "
            "import stored them, COPYed into the same emptied tables (indexes, constraints and "
            "audit-history triggers in place). Both include the deferred foreign-key checks of a "
            "commit. Peak: growth of the process's resident memory "
            "(VmHWM), not tracemalloc.",
            "",
        ]
    for r in reimports:
        lines += [
            f"`{r.name}`: a second import of the same generated data package (bench/importfile.py, "
            f"{r.bytes:,} bytes) just imported into the emptied record tables, timed once with the "
            "deferred foreign-key checks of a commit. It must change nothing: no record created "
            "or updated, no audit-history row, every `updated` as it was (status 0; 1 if "
            "anything was written). Rows: rows reported unchanged. B2: COPYing the record tables "
            "out (TO STDOUT), the least a comparison with the stored rows reads. Peak: growth of "
            "resident memory.",
            "",
        ]
    return "\n".join(lines)


# The targets: (what, paths, measure, limit). Paths are a list of names, or a kind
# of path (BenchPath.kind) naming every measured path of that kind, or "every" for every path
# but the streamed exports and the import. A measure is "ratio" (p95 / B2 p95), "p95" (ms),
# "peak" (MiB), "seconds", or "deep" (p95 of the deep page / p95 of page 1).
TARGETS = [
    ("every public path p95 < 300 ms", "every", "p95", 300.0),
    ("API list p95 <= 3x B2", "api-list", "ratio", 3.0),
    ("HTML list p95 <= 4x B2", "html-list", "ratio", 4.0),
    ("detail p95 <= 3x B2", "detail", "ratio", 3.0),
    ("search p95 < 30 ms", "search", "p95", 30.0),
    ("figures p95 < 300 ms", "figures", "p95", 300.0),
    ("deep cursor page p95 <= 1.2x page 1", ["api-persons-cursor-5000"], "deep", 1.2),
    (
        "facet counts, combined filter, p95 < 150 ms",
        ["api-person-facets-combined", "html-people-combined-facets"],
        "p95",
        150.0,
    ),
    ("streamed exports: peak < 150 MB", "export", "peak", 143.0),
    ("generic import of 100,000 rows < 60 s", ["import-100k"], "seconds", 60.0),
    ("generic import of 100,000 rows <= 2x COPY", ["import-100k"], "ratio", 2.0),
    ("re-import of 100,000 unchanged rows < 10 s", ["reimport-100k-unchanged"], "seconds", 10.0),
]
# The kinds a target names before any is measured (a report of only some paths says which
# targets it left unmeasured).
KIND_EXAMPLES = {
    "every": "html-people",
    "api-list": "api-persons-page1",
    "html-list": "html-people",
    "detail": "html-person",
    "search": "html-search-misspelled",
    "figures": "html-figures",
    "export": "events-csv-all",
}


def target_paths(selector, results: list[Result]) -> list[str]:
    """The names of the paths a target's selector names, in the order measured."""
    if isinstance(selector, list):
        return selector
    if selector == "every":
        found = [r.name for r in results if r.kind not in ("export", "import")]
    else:
        found = [r.name for r in results if r.kind == selector]
    return found or [KIND_EXAMPLES[selector]]


def targets_table(results: list[Result]) -> list[str]:
    """Every target with the measured figure, met or by how much it is missed."""
    by_name = {r.name: r for r in results}
    lines = [
        "## Targets",
        "",
        "| target | path | measured | limit | met |",
        "|---|---|---:|---:|---|",
    ]
    for what, selector, kind, limit in TARGETS:
        for name in target_paths(selector, results):
            r = by_name.get(name)
            if r is None:
                lines.append(f"| {what} | `{name}` | not measured | | |")
                continue
            if kind == "ratio":
                value, shown = r.ratio, f"{r.ratio:.1f}x"
            elif kind == "p95":
                value, shown = r.p95 * 1000, f"{r.p95 * 1000:.1f} ms"
            elif kind == "peak":
                value, shown = r.peak_mib, f"{r.peak_mib:.0f} MiB"
            elif kind == "seconds":
                value, shown = r.p50, f"{r.p50:.1f} s"
            else:
                first = by_name.get("api-persons-page1")
                value = r.p95 / first.p95 if first else float("inf")
                shown = f"{value:.2f}x page 1"
            unit = {"ratio": "x", "deep": "x", "p95": " ms", "peak": " MiB", "seconds": " s"}
            met = "yes" if value <= limit else f"no: {value / limit:.1f}x the limit"
            if r.kind == "search":
                scans = ", ".join(r.seq_scans) or "none"
                met += f"; sequential scans: {scans}"
            lines.append(f"| {what} | `{r.name}` | {shown} | {limit:g}{unit[kind]} | {met} |")
    lines.append("")
    lines.append("150 MB is 143 MiB. Peak of the import: growth of resident memory; of the others:")
    lines.append("Python allocations (tracemalloc) during one request.")
    return lines


def run(**kwargs) -> list[Result]:
    """`_run` with the shared response cache off, in a test process too: each path's own work
    is measured (bench/load.py measures the cache's hit path)."""
    from django.test.utils import override_settings

    with override_settings(PUBLIC_RESPONSE_CACHE_SECONDS=0):
        return _run(**kwargs)


def _run(
    *,
    repeat: int,
    warmup: int,
    out: Path | None,
    label: str,
    only=None,
    export_types="persons,events",
    import_rows: int = 0,
    register_import: bool = False,
) -> list[Result]:
    """Measure every path (or those named in `only`), then the import of `import_rows` rows
    (none if 0); write the report under `out` if given."""
    from django.test import Client

    client = Client()
    raw = raw_connection()
    try:
        wants_paths = not only or any(
            not name.startswith(("import-", "reimport-")) for name in only
        )
        paths = pick_paths(client, export_types=export_types) if wants_paths else []
        if only:
            paths = [p for p in paths if p.name in only]
        # As a server's worker does once the application is loaded (tracker/wsgi.py): what is
        # loaded by now is left out of the garbage collector's full passes.
        gc.collect()
        gc.freeze()
        results = []
        for path in paths:
            result = measure(client, raw, path, repeat=repeat, warmup=warmup)
            print(
                f"{result.name:32} p50 {result.p50 * 1000:8.1f} ms  p95 {result.p95 * 1000:8.1f}"
                f" ms  B2 p95 {result.b2_p95 * 1000:7.1f} ms  ratio {result.ratio_text:>6}"
                f"  queries {result.queries:3}  rows {result.rows}",
                file=sys.stderr,
            )
            results.append(result)
        imports = [False, True] if register_import else [False]
        for register in imports:
            if not import_rows or (only and import_name(import_rows, register) not in only):
                continue
            result = measure_import(import_rows, register)
            print(
                f"{result.name:32} {result.p50:8.1f} s  B2 {result.b2_p95:6.1f} s  ratio "
                f"{result.ratio:6.1f}  queries {result.queries}  rows {result.rows}  peak "
                f"{result.peak_mib:.0f} MiB",
                file=sys.stderr,
            )
            results.append(result)
        if import_rows and (not only or reimport_name(import_rows) in only):
            result = measure_reimport(import_rows)
            print(
                f"{result.name:32} {result.p50:8.1f} s  B2 {result.b2_p95:6.1f} s  ratio "
                f"{result.ratio:6.1f}  queries {result.queries}  rows {result.rows}  peak "
                f"{result.peak_mib:.0f} MiB  status {result.status}",
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
            write_results(out / "RESULTS.md", text)
        return results
    finally:
        raw.close()


# RESULTS.md keeps written sections (imports, writes, replicas, the peer, the load test) after
# the generated report: a run replaces only what lies between these two lines.
GENERATED_START = "<!-- generated by bench/run.py: start -->"
GENERATED_END = "<!-- generated by bench/run.py: end -->"


def write_results(path: Path, report_text: str) -> None:
    """Put the report between the markers of `path`, keeping what lies outside them; a file
    without them gets the report above its old content."""
    block = f"{GENERATED_START}\n{report_text.rstrip()}\n{GENERATED_END}\n"
    old = path.read_text() if path.exists() else ""
    if GENERATED_START in old and GENERATED_END in old:
        before, rest = old.split(GENERATED_START, 1)
        after = rest.split(GENERATED_END, 1)[1].lstrip("\n")
        path.write_text(before + block + ("\n" + after if after else ""))
    else:
        path.write_text(block + ("\n" + old if old else ""))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per path")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--label", default="", help="heading of RESULTS.md, e.g. the size")
    parser.add_argument("--only", nargs="*", help="measure only these paths")
    parser.add_argument("--export-types", default="persons,events", help="types of export.jsonl")
    parser.add_argument(
        "--import-rows", type=int, default=100_000, help="rows of the import-100k path"
    )
    parser.add_argument("--skip-import", action="store_true", help="do not time the import")
    parser.add_argument(
        "--register-import",
        action="store_true",
        help="also time import-register-<N>: the same rows as a register writes them",
    )
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
        import_rows=0 if args.skip_import else args.import_rows,
        register_import=args.register_import,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
